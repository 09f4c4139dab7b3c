//! A local Lambda Runtime API: serves scripted events to a real function process and records what
//! it answers. See `data/specs/runtime-api.md` for the contract.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
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
}

impl Outcome {
    /// The response body, if the invocation succeeded.
    pub fn response(&self) -> Option<&Value> {
        match self {
            Self::Response(v) => Some(v),
            Self::Error { .. } => None,
        }
    }

    /// The error report body, if the invocation failed.
    pub fn error(&self) -> Option<&Value> {
        match self {
            Self::Error { body, .. } => Some(body),
            Self::Response(_) => None,
        }
    }
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<ScriptedEvent>>,
    queued: Notify,
    outcomes: Mutex<Vec<(String, Outcome)>>,
    answered: Notify,
    init_error: Mutex<Option<Value>>,
    polls: AtomicU64,
    on_answer: Mutex<Option<AnswerHook>>,
}

type AnswerHook = Arc<dyn Fn(&str, &Outcome) + Send + Sync>;

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
#[derive(Clone)]
pub struct LocalRuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
}

impl LocalRuntimeApi {
    /// Binds and starts serving on a background Tokio task.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let server_state = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&server_state);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(Self { addr, state })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
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
        loop {
            let notified = self.state.answered.notified();
            let count = self.state.outcomes.lock().expect("outcomes lock").len();
            if count >= n || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.state.outcomes.lock().expect("outcomes lock").len();
            }
        }
    }

    /// The answer for `request_id`, if there is one yet.
    pub fn outcome(&self, request_id: &str) -> Option<Outcome> {
        self.state
            .outcomes
            .lock()
            .expect("outcomes lock")
            .iter()
            .find(|(id, _)| id == request_id)
            .map(|(_, o)| o.clone())
    }

    /// Every answer so far, in the order received.
    pub fn outcomes(&self) -> Vec<(String, Outcome)> {
        self.state.outcomes.lock().expect("outcomes lock").clone()
    }

    /// The body of `POST /runtime/init/error`, if the function reported one.
    pub fn init_error(&self) -> Option<Value> {
        self.state.init_error.lock().expect("init lock").clone()
    }

    /// Calls `hook` with each answer as it arrives, before the function gets its `202 Accepted`
    /// (so a hook that stops the function stops it at the exact moment it answered).
    pub fn on_answer(&self, hook: impl Fn(&str, &Outcome) + Send + Sync + 'static) {
        *self.state.on_answer.lock().expect("hook lock") = Some(Arc::new(hook));
    }

    /// How many `next` polls the function made (including the one waiting now).
    pub fn polls(&self) -> u64 {
        self.state.polls.load(Ordering::Relaxed)
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

async fn next_event(state: &State) -> ScriptedEvent {
    loop {
        let notified = state.queued.notified();
        if let Some(e) = state.queue.lock().expect("queue lock").pop_front() {
            return e;
        }
        notified.await;
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "not found"));
    };
    if method == Method::GET && rest == "/invocation/next" {
        state.polls.fetch_add(1, Ordering::Relaxed);
        let event = next_event(&state).await;
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
        let hook = state.on_answer.lock().expect("hook lock").clone();
        if let Some(hook) = hook {
            hook(id, &outcome);
        }
        state
            .outcomes
            .lock()
            .expect("outcomes lock")
            .push((id.to_owned(), outcome));
        state.answered.notify_waiters();
        return Ok(reply(StatusCode::ACCEPTED, "{}"));
    }
    Ok(reply(StatusCode::NOT_FOUND, "not found"))
}
