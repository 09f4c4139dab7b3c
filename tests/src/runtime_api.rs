//! A local Lambda Runtime API: serves scripted events to a real function process and records what
//! it answers. See `data/specs/runtime-api.md` for the contract.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

const PREFIX: &str = "/2018-06-01/runtime";

/// One event to hand to the function, with the headers `next` answers with.
#[derive(Debug, Clone)]
pub struct ScriptedEvent {
    /// The event JSON.
    pub body: Value,
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Trace-Id` (omitted when `None`).
    pub trace_header: Option<String>,
    /// `Lambda-Runtime-Deadline-Ms`.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// `Lambda-Runtime-Aws-Tenant-Id` (omitted when `None`).
    pub tenant_id: Option<String>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn pseudo_random() -> u64 {
    // Unique enough for ids in a test run: time, a counter and the process id, mixed.
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mut x = t ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id()) << 32;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

impl ScriptedEvent {
    /// An event with a fresh request id, a sampled trace header and a deadline 30 s away.
    pub fn new(body: Value) -> Self {
        let r = pseudo_random();
        let request_id = format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            r >> 32,
            (r >> 16) & 0xffff,
            r & 0xfff,
            (r >> 20) & 0xfff,
            pseudo_random() & 0xffff_ffff_ffff
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let root = format!(
            "1-{:08x}-{:016x}{:08x}",
            now.as_secs(),
            pseudo_random(),
            pseudo_random() & 0xffff_ffff
        );
        let parent = format!("{:016x}", pseudo_random());
        Self {
            body,
            request_id,
            trace_header: Some(format!("Root={root};Parent={parent};Sampled=1")),
            deadline_ms: now.as_millis() as u64 + 30_000,
            function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:powertools-demo".into(),
            tenant_id: None,
        }
    }

    /// Sets the trace header (`None`: no header at all).
    pub fn trace_header(mut self, header: Option<&str>) -> Self {
        self.trace_header = header.map(str::to_owned);
        self
    }

    /// Marks the trace unsampled (`Sampled=0`).
    pub fn unsampled(mut self) -> Self {
        self.trace_header = self
            .trace_header
            .map(|h| h.replace("Sampled=1", "Sampled=0"));
        self
    }

    /// Sets the deadline to `in_ms` milliseconds from now.
    pub fn deadline_in(mut self, in_ms: u64) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.deadline_ms = now.as_millis() as u64 + in_ms;
        self
    }

    /// Sets the tenant id.
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant_id = Some(tenant.to_owned());
        self
    }

    /// The `Root` of the trace header, if any.
    pub fn trace_root(&self) -> Option<&str> {
        field(self.trace_header.as_deref()?, "Root")
    }

    /// The `Parent` of the trace header, if any.
    pub fn trace_parent(&self) -> Option<&str> {
        field(self.trace_header.as_deref()?, "Parent")
    }
}

fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// What the function answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST /invocation/{id}/response`: the body.
    Response(Value),
    /// `POST /invocation/{id}/error`: the body (`errorType`, `errorMessage`) and the
    /// `Lambda-Runtime-Function-Error-Type` header.
    Error {
        /// The error report body.
        body: Value,
        /// The error type header, when sent.
        error_type_header: Option<String>,
    },
    /// No answer before the deadline: the harness stopped the function process (SIGKILL), as
    /// Lambda stops the execution environment ([`crate::function::FunctionHarness::enforce_deadlines`]).
    /// `body` is the error Lambda reports to the caller:
    /// `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: … Error: Task timed out after 1.50 seconds"}`.
    TimedOut {
        /// The error Lambda reports (made by the harness, not sent by the function).
        body: Value,
    },
    /// No answer, and not past its deadline either: the process was stopped for another
    /// invocation's deadline (several invocations at once), or exited by itself while this one
    /// was in flight. `body`: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: … Error: …"}`
    /// (made by the harness).
    Stopped {
        /// The error Lambda reports (made by the harness, not sent by the function).
        body: Value,
    },
}

impl Outcome {
    /// The response body, if the invocation succeeded.
    pub fn response(&self) -> Option<&Value> {
        match self {
            Self::Response(v) => Some(v),
            Self::Error { .. } | Self::TimedOut { .. } | Self::Stopped { .. } => None,
        }
    }

    /// The error body the caller gets, if the invocation failed: the function's error report, or
    /// the one Lambda makes for a timed-out or stopped invocation.
    pub fn error(&self) -> Option<&Value> {
        match self {
            Self::Error { body, .. } | Self::TimedOut { body } | Self::Stopped { body } => {
                Some(body)
            }
            Self::Response(_) => None,
        }
    }

    /// Whether the invocation passed its deadline and the harness stopped the function.
    pub fn timed_out(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }
}

/// An invocation a function process took (`next`) and has not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// Its request id.
    pub request_id: String,
    /// Its deadline (`Lambda-Runtime-Deadline-Ms`), milliseconds since the Unix epoch.
    pub deadline_ms: u64,
    /// When `next` handed it out, milliseconds since the Unix epoch.
    pub handed_out_ms: u64,
    endpoint: u64,
}

/// Why [`LocalRuntimeApi::close_endpoint`] closes the endpoint of a function process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// An invocation passed its deadline: those past it are [`Outcome::TimedOut`], the others
    /// [`Outcome::Stopped`].
    Deadline,
    /// The process exited by itself (the text says how, e.g. `signal: 6 (SIGABRT)`): every
    /// invocation in flight is [`Outcome::Stopped`].
    Exited(String),
}

/// One listening address of the API: one per function process, so that a stopped process's
/// connections can be told from its successor's.
struct Endpoint {
    id: u64,
    addr: SocketAddr,
    /// Closed: its connections take no more events and what they send is ignored.
    closed: AtomicBool,
    accept: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Default)]
struct Answers {
    outcomes: Vec<(String, Outcome)>,
    answered: HashSet<String>,
    in_flight: Vec<InFlight>,
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<ScriptedEvent>>,
    queued: Notify,
    answers: Mutex<Answers>,
    answered: Notify,
    init_error: Mutex<Option<Value>>,
    polls: AtomicU64,
    on_answer: Mutex<Option<AnswerHook>>,
    endpoint: Mutex<Option<Arc<Endpoint>>>,
    endpoints: AtomicU64,
}

type AnswerHook = Arc<dyn Fn(&str, &Outcome) + Send + Sync>;

/// Now, in milliseconds since the Unix epoch (the unit of `Lambda-Runtime-Deadline-Ms`).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// A Lambda Runtime API on 127.0.0.1, on an ephemeral port.
///
/// ```no_run
/// # async fn f() {
/// use powertools_e2e::runtime_api::{LocalRuntimeApi, ScriptedEvent};
/// let api = LocalRuntimeApi::start().await.unwrap();
/// let id = api.push(ScriptedEvent::new(serde_json::json!({"hello": "world"})));
/// // start a function with AWS_LAMBDA_RUNTIME_API = api.addr() ...
/// let outcome = api.wait_for(&id, std::time::Duration::from_secs(10)).await;
/// # }
/// ```
///
/// Each function process gets its own endpoint (address): when the harness stops a process
/// (its deadline passed), [`LocalRuntimeApi::close_endpoint`] closes that process's endpoint —
/// what its connections still send is ignored and they take no more events, so no event is
/// handed to a dead process — and [`LocalRuntimeApi::open_endpoint`] gives the next process a
/// new one. The queue, the answers and the counters are shared.
#[derive(Clone)]
pub struct LocalRuntimeApi {
    state: Arc<State>,
}

impl LocalRuntimeApi {
    /// Binds and starts serving on a background Tokio task.
    pub async fn start() -> std::io::Result<Self> {
        let api = Self {
            state: Arc::new(State::default()),
        };
        api.open_endpoint().await?;
        Ok(api)
    }

    /// Opens a new endpoint (a new port) for a new function process and makes it current; the
    /// previous one, if still open, is closed as by [`LocalRuntimeApi::close_endpoint`]. Returns
    /// the new `host:port`.
    pub async fn open_endpoint(&self) -> std::io::Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let endpoint = Arc::new(Endpoint {
            id: self.state.endpoints.fetch_add(1, Ordering::Relaxed),
            addr,
            closed: AtomicBool::new(false),
            accept: Mutex::new(None),
        });
        let state = Arc::clone(&self.state);
        let ep = Arc::clone(&endpoint);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&state);
                let ep = Arc::clone(&ep);
                tokio::spawn(async move {
                    let svc =
                        service_fn(move |req| handle(Arc::clone(&state), Arc::clone(&ep), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        *endpoint.accept.lock().expect("accept lock") = Some(accept);
        let previous = self
            .state
            .endpoint
            .lock()
            .expect("endpoint lock")
            .replace(endpoint);
        if let Some(previous) = previous {
            self.close(&previous, &CloseReason::Deadline);
        }
        Ok(addr.to_string())
    }

    /// `host:port` of the current endpoint, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> String {
        self.current().addr.to_string()
    }

    fn current(&self) -> Arc<Endpoint> {
        Arc::clone(
            self.state
                .endpoint
                .lock()
                .expect("endpoint lock")
                .as_ref()
                .expect("an endpoint is open"),
        )
    }

    /// Closes the current endpoint, as Lambda does with an execution environment it stops: its
    /// connections take no more events (a `next` waiting there is answered `410 Gone`), and
    /// answers sent there from now on are ignored. Every invocation it had taken and not
    /// answered gets its outcome ([`CloseReason`]); they are returned, in the order taken. Open
    /// the next process's endpoint with [`LocalRuntimeApi::open_endpoint`].
    pub fn close_endpoint(&self, reason: &CloseReason) -> Vec<(String, Outcome)> {
        let current = self.current();
        self.close(&current, reason)
    }

    fn close(&self, endpoint: &Endpoint, reason: &CloseReason) -> Vec<(String, Outcome)> {
        {
            // Under the queue lock: an event is either taken before (and is in flight) or not at
            // all by this endpoint's connections.
            let _queue = self.state.queue.lock().expect("queue lock");
            if endpoint.closed.swap(true, Ordering::SeqCst) {
                return Vec::new();
            }
        }
        if let Some(accept) = endpoint.accept.lock().expect("accept lock").take() {
            accept.abort();
        }
        // Wake the `next` polls waiting on it, so they give up.
        self.state.queued.notify_waiters();
        let now = now_ms();
        let stopped: Vec<(String, Outcome)> = {
            let mut answers = self.state.answers.lock().expect("answers lock");
            let (mine, others) = std::mem::take(&mut answers.in_flight)
                .into_iter()
                .partition(|f| f.endpoint == endpoint.id);
            answers.in_flight = others;
            let stopped: Vec<(String, Outcome)> = mine
                .into_iter()
                .filter(|f| !answers.answered.contains(&f.request_id))
                .map(|f| {
                    let outcome = lambda_stop_outcome(&f, reason, now);
                    (f.request_id, outcome)
                })
                .collect();
            for (id, outcome) in &stopped {
                answers.answered.insert(id.clone());
                answers.outcomes.push((id.clone(), outcome.clone()));
            }
            stopped
        };
        self.state.answered.notify_waiters();
        stopped
    }

    /// The invocations the current endpoint's process took and has not answered.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let id = self.current().id;
        self.state
            .answers
            .lock()
            .expect("answers lock")
            .in_flight
            .iter()
            .filter(|f| f.endpoint == id)
            .cloned()
            .collect()
    }

    /// How many events are queued, not yet taken.
    pub fn queued(&self) -> usize {
        self.state.queue.lock().expect("queue lock").len()
    }

    /// Queues an event; returns its request id.
    pub fn push(&self, event: ScriptedEvent) -> String {
        let id = event.request_id.clone();
        self.state
            .queue
            .lock()
            .expect("queue lock")
            .push_back(event);
        self.state.queued.notify_one();
        id
    }

    /// Waits until the function answered `request_id`, or `timeout` passed.
    pub async fn wait_for(&self, request_id: &str, timeout: Duration) -> Option<Outcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.answered.notified();
            if let Some(o) = self.outcome(request_id) {
                return Some(o);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.outcome(request_id);
            }
        }
    }

    /// Waits until `n` invocations in all were answered, or `timeout` passed; returns how many were.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        let count = || {
            self.state
                .answers
                .lock()
                .expect("answers lock")
                .outcomes
                .len()
        };
        loop {
            let notified = self.state.answered.notified();
            if count() >= n || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return count();
            }
        }
    }

    /// The answer for `request_id`, if there is one yet.
    pub fn outcome(&self, request_id: &str) -> Option<Outcome> {
        let answers = self.state.answers.lock().expect("answers lock");
        if !answers.answered.contains(request_id) {
            return None;
        }
        answers
            .outcomes
            .iter()
            .find(|(id, _)| id == request_id)
            .map(|(_, o)| o.clone())
    }

    /// Every answer so far, in the order received (the first one for each request id: an
    /// answer for an invocation already answered or timed out is ignored).
    pub fn outcomes(&self) -> Vec<(String, Outcome)> {
        self.state
            .answers
            .lock()
            .expect("answers lock")
            .outcomes
            .clone()
    }

    /// The body of `POST /runtime/init/error`, if the function reported one.
    pub fn init_error(&self) -> Option<Value> {
        self.state.init_error.lock().expect("init lock").clone()
    }

    /// Calls `hook` with each answer as it arrives, before the function gets its `202 Accepted`
    /// (so a hook that stops the function stops it at the exact moment it answered). Not called
    /// for the outcomes the harness makes ([`Outcome::TimedOut`], [`Outcome::Stopped`]).
    pub fn on_answer(&self, hook: impl Fn(&str, &Outcome) + Send + Sync + 'static) {
        *self.state.on_answer.lock().expect("hook lock") = Some(Arc::new(hook));
    }

    /// How many `next` polls the function made (including the one waiting now).
    pub fn polls(&self) -> u64 {
        self.state.polls.load(Ordering::Relaxed)
    }
}

/// The outcome Lambda gives an invocation its process was stopped under.
fn lambda_stop_outcome(f: &InFlight, reason: &CloseReason, now_ms: u64) -> Outcome {
    let id = &f.request_id;
    match reason {
        CloseReason::Deadline if f.deadline_ms <= now_ms => {
            let timeout = f.deadline_ms.saturating_sub(f.handed_out_ms) as f64 / 1000.0;
            Outcome::TimedOut {
                body: json!({
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": format!("RequestId: {id} Error: Task timed out after {timeout:.2} seconds"),
                }),
            }
        }
        CloseReason::Deadline => Outcome::Stopped {
            body: json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": format!(
                    "RequestId: {id} Error: the execution environment was stopped: another \
                     invocation in it timed out"
                ),
            }),
        },
        CloseReason::Exited(how) => Outcome::Stopped {
            body: json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": format!("RequestId: {id} Error: Runtime exited with error: {how}"),
            }),
        },
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

/// The next queued event for a `next` poll on `endpoint` (recorded as in flight there); `None`
/// once the endpoint is closed.
async fn next_event(state: &State, endpoint: &Endpoint) -> Option<ScriptedEvent> {
    loop {
        let notified = state.queued.notified();
        {
            let mut queue = state.queue.lock().expect("queue lock");
            if endpoint.closed.load(Ordering::SeqCst) {
                drop(queue);
                // A `push` may have woken this poll rather than a live one: pass it on.
                state.queued.notify_one();
                return None;
            }
            if let Some(e) = queue.pop_front() {
                state
                    .answers
                    .lock()
                    .expect("answers lock")
                    .in_flight
                    .push(InFlight {
                        request_id: e.request_id.clone(),
                        deadline_ms: e.deadline_ms,
                        handed_out_ms: now_ms(),
                        endpoint: endpoint.id,
                    });
                return Some(e);
            }
        }
        notified.await;
    }
}

async fn handle(
    state: Arc<State>,
    endpoint: Arc<Endpoint>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "not found"));
    };
    let gone = || reply(StatusCode::GONE, "this execution environment was stopped");
    if method == Method::GET && rest == "/invocation/next" {
        if endpoint.closed.load(Ordering::SeqCst) {
            return Ok(gone());
        }
        state.polls.fetch_add(1, Ordering::Relaxed);
        let Some(event) = next_event(&state, &endpoint).await else {
            return Ok(gone());
        };
        let mut r = reply(StatusCode::OK, event.body.to_string());
        let h = r.headers_mut();
        let put = |h: &mut hyper::HeaderMap, k: &'static str, v: &str| {
            if let Ok(v) = v.parse() {
                h.insert(k, v);
            }
        };
        put(h, "lambda-runtime-aws-request-id", &event.request_id);
        put(
            h,
            "lambda-runtime-deadline-ms",
            &event.deadline_ms.to_string(),
        );
        put(
            h,
            "lambda-runtime-invoked-function-arn",
            &event.function_arn,
        );
        put(h, "content-type", "application/json");
        if let Some(t) = &event.trace_header {
            put(h, "lambda-runtime-trace-id", t);
        }
        if let Some(t) = &event.tenant_id {
            put(h, "lambda-runtime-aws-tenant-id", t);
        }
        return Ok(r);
    }
    let error_type_header = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    if endpoint.closed.load(Ordering::SeqCst) {
        return Ok(gone());
    }
    let json = || {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    if method == Method::POST && rest == "/init/error" {
        *state.init_error.lock().expect("init lock") = Some(json());
        return Ok(reply(StatusCode::ACCEPTED, "{}"));
    }
    if method == Method::POST
        && let Some(inner) = rest.strip_prefix("/invocation/")
        && let Some((id, kind)) = inner.split_once('/')
    {
        let outcome = match kind {
            "response" => Outcome::Response(json()),
            "error" => Outcome::Error {
                body: json(),
                error_type_header,
            },
            _ => return Ok(reply(StatusCode::NOT_FOUND, "not found")),
        };
        {
            // Claim the answer: the first one for an id counts (a timed-out invocation's late
            // answer does not).
            let mut answers = state.answers.lock().expect("answers lock");
            if !answers.answered.insert(id.to_owned()) {
                return Ok(gone());
            }
            answers.in_flight.retain(|f| f.request_id != id);
        }
        let hook = state.on_answer.lock().expect("hook lock").clone();
        if let Some(hook) = hook {
            hook(id, &outcome);
        }
        state
            .answers
            .lock()
            .expect("answers lock")
            .outcomes
            .push((id.to_owned(), outcome));
        state.answered.notify_waiters();
        return Ok(reply(StatusCode::ACCEPTED, "{}"));
    }
    Ok(reply(StatusCode::NOT_FOUND, "not found"))
}
