//! The logger under the real `lambda_runtime`: a child process (this test binary, re-run with the
//! Lambda environment) runs `lambda_runtime::run` against a small local Runtime API, and its
//! stdout is read back.
//!
//! One ERROR line per failed invocation: `lambda_runtime`'s own report of a failure the hook
//! wrote (`lambda_runtime::layers::panic`) is left out, whether the failure reaches the runtime as
//! an `Err` (behind `ReportErrorsLayer`, as `PowertoolsLayer` and the attribute compose it) or as a
//! panic (a bare invocation layer), and under Lambda's `ERROR` filter too. The runtime's lines
//! about failures the hook never saw — a layer outside the invocation layer refusing the event,
//! an event that is not JSON — are kept: they are the only lines about them. No `location` is an
//! absolute build path.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use powertools_core::layer::{InvocationLayer, ReportErrorsLayer};
use powertools_logger::Logger;
use serde_json::{Value, json};
use tower::{Layer, Service, ServiceBuilder};

const CHILD: &str = "POWERTOOLS_LOGGER_RUNTIME_TEST_CHILD";

// ---------------------------------------------------------------------------------------------
// The function (in the child)

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("order declined")
    }
}

impl std::error::Error for Declined {}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    match event.payload["case"].as_str() {
        Some("err") => Err(Box::new(Declined)),
        Some("panic") => panic!("boom"),
        _ => Ok(json!({ "ok": true })),
    }
}

/// A layer outside the invocation layer that refuses `{"case": "outer"}` itself: a failure the
/// logger's hook never sees.
#[derive(Clone)]
struct RefuseOuter<S>(S);

impl<S> Service<LambdaEvent<Value>> for RefuseOuter<S>
where
    S: Service<LambdaEvent<Value>, Response = Value, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = Value;
    type Error = Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Value, Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<Value>) -> Self::Future {
        if event.payload["case"] == "outer" {
            return Box::pin(async { Err("refused before the invocation layer".into()) });
        }
        Box::pin(self.0.call(event))
    }
}

/// The child: the logger installed as the process's subscriber, writing to stdout, and
/// `lambda_runtime::run` until the parent stops the process.
fn run_function(mode: &str) {
    let hook = Logger::new().service("orders").init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let service = RefuseOuter(
        ServiceBuilder::new()
            .layer(InvocationLayer::new().handler_name("orders").hook(hook))
            .service(service_fn(handler)),
    );
    let result = runtime.block_on(async move {
        if mode == "reported" {
            lambda_runtime::run(ReportErrorsLayer.layer(service)).await
        } else {
            lambda_runtime::run(service).await
        }
    });
    panic!("the runtime stopped: {result:?}");
}

// ---------------------------------------------------------------------------------------------
// A Runtime API serving a script of events

/// One event: its request id and body.
struct Scripted {
    request_id: String,
    trace_id: String,
    body: String,
}

/// What the function sent back: `(request id, "response" or "error", body)`.
type Answers = Arc<Mutex<Vec<(String, String, String)>>>;

struct RuntimeApi {
    address: String,
    answers: Answers,
    stop: Arc<AtomicBool>,
}

impl RuntimeApi {
    fn start(events: Vec<Scripted>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let events = Arc::new(Mutex::new(VecDeque::from(events)));
        let answers = Answers::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (answers_, stop_) = (Arc::clone(&answers), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (events, answers, stop) = (
                    Arc::clone(&events),
                    Arc::clone(&answers_),
                    Arc::clone(&stop_),
                );
                std::thread::spawn(move || serve(stream, &events, &answers, &stop));
            }
        });
        Self {
            address,
            answers,
            stop,
        }
    }

    /// Waits until `n` answers came, or panics after 60 s.
    fn wait_for(&self, n: usize) -> Vec<(String, String, String)> {
        let start = Instant::now();
        loop {
            let answers = self.answers.lock().unwrap().clone();
            if answers.len() >= n {
                return answers;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "only {answers:?} after 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Serves one connection (HTTP/1.1, kept alive).
fn serve(
    stream: TcpStream,
    events: &Mutex<VecDeque<Scripted>>,
    answers: &Mutex<Vec<(String, String, String)>>,
    stop: &AtomicBool,
) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        let mut chunked = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                _ => {}
            }
        }
        let body = if chunked {
            read_chunked(&mut reader)
        } else {
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            body
        };
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        if path.ends_with("/invocation/next") {
            let next = loop {
                if let Some(next) = events.lock().unwrap().pop_front() {
                    break next;
                }
                if stop.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let deadline = SystemTime::now() + Duration::from_secs(60);
            let deadline = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:123456789012:function:orders\r\n\
                 lambda-runtime-trace-id: {}\r\ncontent-length: {}\r\n\r\n{}",
                next.request_id,
                next.trace_id,
                next.body.len(),
                next.body
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
        } else {
            // /runtime/invocation/{id}/response or /error
            let mut parts = path.rsplit('/');
            let kind = parts.next().unwrap_or("").to_owned();
            let id = parts.next().unwrap_or("").to_owned();
            answers
                .lock()
                .unwrap()
                .push((id, kind, String::from_utf8_lossy(&body).into_owned()));
            let reply = "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\n\
                         content-length: 16\r\n\r\n{\"status\":\"OK\"}\n";
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }
}

fn read_chunked(reader: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).unwrap_or(0) == 0 {
            return body;
        }
        let size =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        let mut chunk = vec![0; size + 2];
        if reader.read_exact(&mut chunk).is_err() {
            return body;
        }
        body.extend_from_slice(&chunk[..size]);
        if size == 0 {
            return body;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parent

/// The events: a typed `Err`, a panic, a refusal outside the invocation layer, a body that is not
/// JSON, a success.
const CASES: [&str; 5] = ["err", "panic", "outer", "notjson", "ok"];

fn event(n: usize, case: &str) -> Scripted {
    Scripted {
        request_id: format!("req-{case}"),
        trace_id: format!(
            "Root=1-5759e988-bd862e3fe1be46a99427279{n};Parent=53995c3f42cd8ad8;Sampled=1"
        ),
        body: if case == "notjson" {
            "not json".to_owned()
        } else {
            json!({ "case": case }).to_string()
        },
    }
}

/// Runs the function in a child process (`mode`, extra environment) through the script; returns
/// its stdout lines that are JSON objects, as written.
fn run_child(test: &str, mode: &str, env: &[(&str, &str)]) -> Vec<(String, Value)> {
    let api = RuntimeApi::start(CASES.iter().enumerate().map(|(n, c)| event(n, c)).collect());
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "orders")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("POWERTOOLS_LOG_LEVEL")
        .env_remove("LOG_LEVEL")
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let answers = api.wait_for(CASES.len());
    // Lines are written before the answer is sent; give the pipe a moment.
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let stdout = reader.join().unwrap();
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    for case in CASES {
        let kind = if case == "ok" { "response" } else { "error" };
        assert!(
            answers
                .iter()
                .any(|(id, k, _)| *id == format!("req-{case}") && k == kind),
            "{case}: expected an {kind}: {answers:#?}\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
    stdout
        .lines()
        // The test harness may write `test … ` before the first line.
        .filter_map(|l| l.find('{').map(|at| &l[at..]))
        .filter_map(|l| Some((l.to_owned(), serde_json::from_str::<Value>(l).ok()?)))
        .collect()
}

/// The ERROR lines that mention `request_id` anywhere.
fn error_lines<'a>(lines: &'a [(String, Value)], request_id: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|(raw, line)| line["level"] == "ERROR" && raw.contains(request_id))
        .map(|(_, line)| line)
        .collect()
}

fn check(lines: &[(String, Value)]) {
    let all: Vec<&String> = lines.iter().map(|(raw, _)| raw).collect();
    // Failures the hook wrote: its line only, none in the runtime's shape.
    let err = error_lines(lines, "req-err");
    assert_eq!(err.len(), 1, "one ERROR line for the Err: {all:#?}");
    assert_eq!(err[0]["function_request_id"], "req-err", "{}", err[0]);
    assert_eq!(err[0]["exception_name"], "Declined", "{}", err[0]);
    assert_eq!(err[0]["location"], "orders", "the handler: {}", err[0]);
    assert_eq!(err[0]["service"], "orders", "{}", err[0]);
    let panic = error_lines(lines, "req-panic");
    assert_eq!(panic.len(), 1, "one ERROR line for the panic: {all:#?}");
    assert_eq!(panic[0]["exception_name"], "Panic", "{}", panic[0]);
    assert!(
        panic[0]["location"]
            .as_str()
            .is_some_and(|l| l.contains("tests/runtime.rs:")),
        "{}",
        panic[0]
    );
    // Failures the hook never saw: the runtime's line is the one line about them, kept.
    let outer = error_lines(lines, "req-outer");
    assert_eq!(outer.len(), 1, "the runtime's line is kept: {all:#?}");
    assert_eq!(outer[0]["requestId"], "req-outer", "{}", outer[0]);
    assert!(
        outer[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("refused before the invocation layer")),
        "{}",
        outer[0]
    );
    let not_json = error_lines(lines, "req-notjson");
    assert_eq!(not_json.len(), 1, "the runtime's line is kept: {all:#?}");
    assert!(
        not_json[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deserialization")),
        "{}",
        not_json[0]
    );
    assert!(error_lines(lines, "req-ok").is_empty(), "{all:#?}");
    // No absolute build path, the runtime's lines included.
    for (raw, line) in lines {
        let location = line["location"].as_str().unwrap_or_default();
        assert!(
            !location.starts_with('/') && !location.contains(".cargo"),
            "an absolute location: {raw}"
        );
    }
    assert!(
        outer[0]["location"]
            .as_str()
            .is_some_and(|l| l.starts_with("lambda_runtime-")),
        "a dependency's location starts at its crate folder: {}",
        outer[0]
    );
}

/// `ReportErrorsLayer` over the invocation layer (as `PowertoolsLayer` and the attribute compose
/// it): the runtime receives every failure as an `Err` (`error!("{error:?}")`).
#[test]
fn one_error_line_per_failure_under_lambda_runtime() {
    const NAME: &str = "one_error_line_per_failure_under_lambda_runtime";
    if let Ok(mode) = std::env::var(CHILD) {
        return run_function(&mode);
    }
    check(&run_child(NAME, "reported", &[]));
}

/// A bare invocation layer: a panic reaches the runtime as a panic (`user handler panicked`);
/// with Lambda's filter at ERROR, where the runtime's invoke span is below the logger's level.
/// No warning about the level either: none was set by the user.
#[test]
fn one_error_line_per_failure_under_lambda_runtime_at_lambdas_error_level() {
    const NAME: &str = "one_error_line_per_failure_under_lambda_runtime_at_lambdas_error_level";
    if let Ok(mode) = std::env::var(CHILD) {
        return run_function(&mode);
    }
    let lines = run_child(NAME, "plain", &[("AWS_LAMBDA_LOG_LEVEL", "ERROR")]);
    check(&lines);
    assert!(
        lines.iter().all(|(_, l)| l["level"] == "ERROR"),
        "only ERROR lines (no level warning): {lines:#?}"
    );
}
