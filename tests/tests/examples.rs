//! The `http-api` and `sqs-batch` examples end to end: the real binaries against the local
//! Runtime API, with their events from `examples/*/events/`, and for `http-api` a real
//! downstream HTTP service on loopback.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use powertools_e2e::capture::Captured;
use powertools_e2e::function::{FunctionHarness, workspace_binary, workspace_root};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use powertools_e2e::schema::{assert_valid_emf, assert_valid_xray};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// A downstream orders service on loopback.

/// One request the downstream service received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    trace_header: Option<String>,
    body: Value,
}

/// `GET /orders/missing` → 404, `GET /orders/broken` → 500, `GET /orders/{id}` → 200 with an
/// order (after `delay`), `POST /orders` → 201 echoing the body.
struct Downstream {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Downstream {
    async fn start(delay: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                let svc = service_fn(move |req| answer(Arc::clone(&log), delay, req));
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), svc));
            }
        });
        Self { url, received }
    }

    /// The request whose trace header has `Root=root`.
    fn received_in(&self, root: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| header_field(r.trace_header.as_deref().unwrap_or(""), "Root") == Some(root))
            .cloned()
            .collect()
    }
}

async fn answer(
    log: Arc<Mutex<Vec<Received>>>,
    delay: Duration,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let trace_header = req
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    log.lock().unwrap().push(Received {
        method: method.clone(),
        path: path.clone(),
        trace_header,
        body: body.clone(),
    });
    let (status, answer) = match (&method, path.as_str()) {
        (&Method::GET, "/orders/missing") => (StatusCode::NOT_FOUND, json!({})),
        (&Method::GET, "/orders/broken") => (StatusCode::INTERNAL_SERVER_ERROR, json!({})),
        (&Method::GET, p) if p.starts_with("/orders/") => {
            tokio::time::sleep(delay).await;
            let id = &p["/orders/".len()..];
            (
                StatusCode::OK,
                json!({ "id": id, "item": "book", "quantity": 1 }),
            )
        }
        (&Method::POST, "/orders") => (StatusCode::CREATED, body),
        _ => (StatusCode::NOT_FOUND, json!({})),
    };
    let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
    *response.status_mut() = status;
    Ok(response)
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------------
// Events and checks.

fn example_event(example: &str, file: &str) -> Value {
    let path: PathBuf = workspace_root()
        .join("examples")
        .join(example)
        .join("events")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// An API Gateway request from one of the example's events, with a fresh
/// `requestContext.requestId` (the correlation id), and optionally another method and path.
fn api_request(file: &str, method_path: Option<(&str, &str)>) -> (ScriptedEvent, String) {
    let mut body = example_event("http-api", file);
    if let Some((method, path)) = method_path {
        body["httpMethod"] = json!(method);
        body["path"] = json!(path);
        body["requestContext"]["httpMethod"] = json!(method);
        body["requestContext"]["path"] = json!(format!("/Prod{path}"));
    }
    let mut event = ScriptedEvent::new(Value::Null);
    let correlation_id = format!("apigw-{}", event.request_id);
    body["requestContext"]["requestId"] = json!(correlation_id);
    event.body = body;
    (event, correlation_id)
}

/// What one `http-api` invocation should have produced.
struct Expect {
    route: &'static str,
    /// The response's `statusCode`; `None`: the invocation fails (panic).
    status: Option<u16>,
    /// The status the downstream service answered with, when the handler called it.
    downstream: Option<u16>,
}

impl Expect {
    const fn new(route: &'static str, status: Option<u16>, downstream: Option<u16>) -> Self {
        Self {
            route,
            status,
            downstream,
        }
    }
}

/// Everything one `http-api` invocation answered, wrote and sent; returns whether it was the
/// cold one.
fn check_api_invocation(
    captured: &Captured,
    downstream: &Downstream,
    (event, correlation_id): &(ScriptedEvent, String),
    outcome: &Outcome,
    x: &Expect,
) -> bool {
    match (x.status, outcome) {
        (Some(status), Outcome::Response(r)) => assert_eq!(r["statusCode"], status, "{r}"),
        (None, Outcome::Error { body, .. }) => assert!(
            body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("GET /panic panics on purpose"),
            "{body}"
        ),
        (want, got) => panic!(
            "{}: expected status {want:?}, got {got:?}",
            event.request_id
        ),
    }
    let cold = check_api_logs(captured, event, correlation_id, x);
    check_api_metrics(captured, correlation_id, x);
    check_api_traces(captured, downstream, event, x, cold);
    cold
}

/// The request's lines, each with the event's correlation id and the route key; returns
/// whether they say cold start.
fn check_api_logs(
    captured: &Captured,
    event: &ScriptedEvent,
    correlation_id: &str,
    x: &Expect,
) -> bool {
    let request_id = event.request_id.as_str();
    let logs = captured.logs_for(request_id);
    assert!(!logs.is_empty(), "no log lines for {request_id}");
    let cold = logs[0]["cold_start"] == true;
    for line in &logs {
        assert_eq!(line["correlation_id"], correlation_id, "{line}");
        assert_eq!(line["xray_trace_id"], event.trace_root().unwrap(), "{line}");
        assert_eq!(line["route"], x.route, "{line}");
        assert_eq!(line["cold_start"], cold, "{line}");
    }
    assert!(logs.iter().any(|l| l["message"] == "request received"));
    if let Some(status) = x.status {
        let answered = logs.iter().find(|l| l["message"] == "request answered");
        assert_eq!(answered.expect("answered line")["status"], status);
    } else {
        let panicked = logs
            .iter()
            .find(|l| l["exception_name"] == "Panic")
            .expect("the panic is logged");
        assert_eq!(panicked["level"], "ERROR");
    }
    cold
}

/// One valid EMF document with the route dimension, found by its correlation id metadata.
fn check_api_metrics(captured: &Captured, correlation_id: &str, x: &Expect) {
    let docs: Vec<&Value> = captured
        .emf
        .iter()
        .filter(|d| d["correlation_id"] == correlation_id)
        .collect();
    assert_eq!(docs.len(), 1, "EMF documents of {correlation_id}: {docs:?}");
    let doc = docs[0];
    assert_valid_emf(doc);
    assert_eq!(doc["route"], x.route);
    assert_eq!(doc["service"], "demo");
    assert_eq!(values(doc, "Requests"), [1.0], "{doc}");
    let directive = &doc["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Powertools");
    assert!(
        directive["Dimensions"][0]
            .as_array()
            .unwrap()
            .contains(&json!("route")),
        "{doc}"
    );
    assert_eq!(
        doc.get("DownstreamLatency").is_some(),
        x.downstream.is_some(),
        "{doc}"
    );
    let downstream_failed = x.downstream.is_some_and(|s| s >= 500);
    assert_eq!(
        doc.get("DownstreamErrors").is_some(),
        downstream_failed,
        "{doc}"
    );
}

/// Valid X-Ray documents: `## handler` under the event's Parent and, when the handler called
/// the downstream service, a remote subsegment under it whose id the service received as the
/// trace header's Parent.
fn check_api_traces(
    captured: &Captured,
    downstream: &Downstream,
    event: &ScriptedEvent,
    x: &Expect,
    cold: bool,
) {
    let root = event.trace_root().unwrap();
    let traces = captured.xray_for_trace(root);
    assert!(!traces.is_empty(), "no X-Ray documents for {root}");
    for t in &traces {
        assert_valid_xray(t);
    }
    let subsegments = flatten(&traces);
    let (handler, handler_parent) = subsegments
        .iter()
        .find(|(s, _)| s["name"] == "## handler")
        .expect("## handler subsegment");
    assert_eq!(handler_parent.as_str(), event.trace_parent().unwrap());
    assert_eq!(handler["annotations"]["ColdStart"], cold);
    assert_eq!(handler["annotations"]["Service"], "demo");
    assert_eq!(handler["fault"] == true, x.status.is_none(), "{handler}");

    let calls: Vec<&(Value, String)> = subsegments
        .iter()
        .filter(|(s, _)| s["name"] == "orders-service")
        .collect();
    let received = downstream.received_in(root);
    let Some(status) = x.downstream else {
        assert!(calls.is_empty(), "unexpected downstream subsegment");
        assert!(received.is_empty(), "unexpected downstream call");
        return;
    };
    assert_eq!(calls.len(), 1);
    let (call, parent) = calls[0];
    assert_eq!(parent, handler["id"].as_str().unwrap());
    assert_eq!(call["namespace"], "remote");
    assert_eq!(call["http"]["response"]["status"], status);
    assert!(
        call["http"]["request"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&downstream.url)
    );
    assert_eq!(call["fault"] == true, status >= 500, "{call}");
    assert_eq!(received.len(), 1, "downstream calls in {root}");
    let header = received[0].trace_header.as_deref().unwrap();
    assert_eq!(header_field(header, "Root"), Some(root), "{header}");
    assert_eq!(
        header_field(header, "Parent"),
        call["id"].as_str(),
        "{header}"
    );
    assert_eq!(header_field(header, "Sampled"), Some("1"), "{header}");
}

/// Every subsegment in `docs` (embedded ones included), with its parent's id.
fn flatten(docs: &[&Value]) -> Vec<(Value, String)> {
    fn walk(doc: &Value, parent: String, out: &mut Vec<(Value, String)>) {
        let id = doc["id"].as_str().unwrap_or_default().to_owned();
        for child in doc["subsegments"].as_array().into_iter().flatten() {
            walk(child, id.clone(), out);
        }
        out.push((doc.clone(), parent));
    }
    let mut out = Vec::new();
    for doc in docs {
        let parent = doc["parent_id"].as_str().unwrap_or_default().to_owned();
        walk(doc, parent, &mut out);
    }
    // A subsegment announced `in_progress` and completed later appears twice: keep the last.
    let mut seen = std::collections::HashSet::new();
    out.reverse();
    out.retain(|(s, _)| seen.insert(s["id"].as_str().unwrap_or_default().to_owned()));
    out
}

/// The values of metric `name` in an EMF document (one number or an array of them).
fn values(doc: &Value, name: &str) -> Vec<f64> {
    match &doc[name] {
        Value::Array(a) => a.iter().filter_map(Value::as_f64).collect(),
        v => v.as_f64().into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// http-api

/// The sequential run: each request (from the example's events) with what it should give.
fn sequential_cases() -> Vec<((ScriptedEvent, String), Expect)> {
    const GET: &str = "GET /orders/{id}";
    const POST: &str = "POST /orders";
    let get = |path| api_request("1-cold-get-order.json", Some(("GET", path)));
    vec![
        (
            api_request("1-cold-get-order.json", None),
            Expect::new(GET, Some(200), Some(200)),
        ),
        (
            api_request("2-warm-create-order.json", None),
            Expect::new(POST, Some(201), Some(201)),
        ),
        (
            get("/orders/missing"),
            Expect::new(GET, Some(404), Some(404)),
        ),
        (
            get("/orders/broken"),
            Expect::new(GET, Some(502), Some(500)),
        ),
        (
            api_request("3-invalid-order.json", None),
            Expect::new(POST, Some(400), None),
        ),
        (
            api_request("4-unknown-route.json", None),
            Expect::new("not_found", Some(404), None),
        ),
        (
            api_request("5-panic.json", None),
            Expect::new("GET /panic", None, None),
        ),
        (
            get("/orders/o-after"),
            Expect::new(GET, Some(200), Some(200)),
        ),
    ]
}

#[tokio::test]
async fn http_api_cold_warm_4xx_5xx_and_panic() {
    let downstream = Downstream::start(Duration::ZERO).await;
    let mut f = FunctionHarness::new(workspace_binary("http-api"))
        .env("DOWNSTREAM_URL", &downstream.url)
        .start()
        .await;
    let cases = sequential_cases();
    let mut outcomes = Vec::new();
    for ((event, _), _) in &cases {
        outcomes.push(f.invoke(event.clone()).await);
        assert!(f.is_alive(), "the process survives every invocation");
    }
    let captured = f.stop().await;

    // The answers themselves.
    let body = |i: usize| -> Value {
        serde_json::from_str(outcomes[i].response().unwrap()["body"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        body(0),
        json!({ "id": "o-1001", "item": "book", "quantity": 1 })
    );
    let create = &cases[1].0.0;
    assert_eq!(
        body(1),
        json!({ "id": format!("o-{}", &create.request_id[..8]), "item": "book", "quantity": 2 })
    );
    let posted = downstream.received_in(create.trace_root().unwrap());
    assert_eq!(
        (&posted[0].method, posted[0].path.as_str()),
        (&Method::POST, "/orders")
    );
    assert_eq!(posted[0].body, body(1));
    assert_eq!(body(2)["message"], "order missing not found");
    assert_eq!(
        body(3)["message"],
        "the orders service answered 500 Internal Server Error"
    );
    assert!(body(4)["message"].as_str().unwrap().contains("quantity"));
    assert_eq!(body(5)["message"], "no route for GET /customers/42");
    assert_eq!(body(7)["id"], "o-after");

    let colds: Vec<bool> = cases
        .iter()
        .zip(&outcomes)
        .map(|((request, x), outcome)| {
            check_api_invocation(&captured, &downstream, request, outcome, x)
        })
        .collect();
    assert!(colds[0], "the first invocation is the cold one");
    assert!(colds[1..].iter().all(|c| !c), "{colds:?}");

    // The example does not ask for the ColdStart metric (`capture_cold_start_metric`, off by
    // default): no ColdStart document.
    assert!(captured.emf_with_metric("ColdStart").is_empty());
    assert!(captured.non_json.is_empty(), "{:?}", captured.non_json);
}

#[tokio::test]
async fn http_api_concurrent_invocations_keep_their_own_trace_and_keys() {
    // The downstream holds each answer a moment so invocations overlap in the process.
    let downstream = Downstream::start(Duration::from_millis(100)).await;
    let mut f = FunctionHarness::new(workspace_binary("http-api"))
        .env("DOWNSTREAM_URL", &downstream.url)
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "8")
        .start()
        .await;

    let requests: Vec<(ScriptedEvent, String)> = (0..16)
        .map(|n| {
            let path = format!("/orders/c-{n}");
            api_request("1-cold-get-order.json", Some(("GET", &path)))
        })
        .collect();
    let outcomes = f
        .invoke_all(requests.iter().map(|(e, _)| e.clone()).collect())
        .await;
    let captured = f.stop().await;

    let expect = Expect::new("GET /orders/{id}", Some(200), Some(200));
    let mut cold = 0;
    for (n, (request, outcome)) in requests.iter().zip(&outcomes).enumerate() {
        let event = &request.0;
        let body: Value =
            serde_json::from_str(outcome.response().unwrap()["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["id"], format!("c-{n}"));
        let received = downstream.received_in(event.trace_root().unwrap());
        assert_eq!(received[0].path, format!("/orders/c-{n}"));
        cold += usize::from(check_api_invocation(
            &captured,
            &downstream,
            request,
            outcome,
            &expect,
        ));
    }
    assert_eq!(cold, 1, "exactly one cold invocation");
    // Not asked for by the example (`capture_cold_start_metric`).
    assert!(captured.emf_with_metric("ColdStart").is_empty());
    assert_eq!(downstream.received.lock().unwrap().len(), 16);
}

// ---------------------------------------------------------------------------------------------
// sqs-batch

fn message_ids(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sqs_batch_reports_exactly_the_bad_records() {
    let mut f = FunctionHarness::new(workspace_binary("sqs-batch"))
        .start()
        .await;

    let good = example_event("sqs-batch", "1-cold-all-good.json");
    let mixed = example_event("sqs-batch", "2-warm-partial-failure.json");
    let good_event = ScriptedEvent::new(good.clone());
    let mixed_event = ScriptedEvent::new(mixed.clone());
    let first = f.invoke(good_event.clone()).await;
    let second = f.invoke(mixed_event.clone()).await;
    let captured = f.stop().await;

    assert_eq!(
        first.response().unwrap(),
        &json!({ "batchItemFailures": [] })
    );
    let ids = message_ids(&mixed);
    // Records 2 (not JSON) and 3 (`"fail": true`) of the mixed batch fail.
    assert_eq!(
        second.response().unwrap(),
        &json!({ "batchItemFailures": [
            { "itemIdentifier": ids[1] },
            { "itemIdentifier": ids[2] },
        ] })
    );

    // Per-record lines carry their message id, and only theirs; the key is gone afterwards.
    let lines: Vec<(String, String)> = captured
        .logs_for(&mixed_event.request_id)
        .iter()
        .map(|l| {
            (
                l["message"].as_str().unwrap().to_owned(),
                l["message_id"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("batch received", "-"),
        ("record processed", ids[0].as_str()),
        ("record failed", ids[1].as_str()),
        ("record failed", ids[2].as_str()),
        ("record processed", ids[3].as_str()),
        ("batch processed", "-"),
    ]
    .iter()
    .map(|(m, id)| ((*m).to_owned(), (*id).to_owned()))
    .collect();
    assert_eq!(lines, expected);
    let first_lines = captured.logs_for(&good_event.request_id);
    assert!(first_lines.iter().all(|l| l["cold_start"] == true));
    let failed_line = captured
        .logs_for(&mixed_event.request_id)
        .into_iter()
        .find(|l| l["message_id"] == ids[1].as_str())
        .unwrap();
    assert_eq!(failed_line["level"], "ERROR");
    assert!(
        failed_line["reason"]
            .as_str()
            .unwrap()
            .starts_with("the body is not JSON")
    );

    // Metrics: one document per batch with the counts.
    let docs = captured.emf_with_metric("ProcessedRecords");
    assert_eq!(docs.len(), 2);
    for doc in &docs {
        assert_valid_emf(doc);
    }
    assert_eq!(values(docs[0], "ProcessedRecords"), [2.0]);
    assert_eq!(values(docs[0], "FailedRecords"), [0.0]);
    assert_eq!(values(docs[1], "ProcessedRecords"), [2.0]);
    assert_eq!(values(docs[1], "FailedRecords"), [2.0]);
    // No ColdStart document: the example does not ask for it (`capture_cold_start_metric`).
    assert!(captured.emf_with_metric("ColdStart").is_empty());

    // X-Ray: one subsegment per record under the handler, the failed ones flagged.
    let traces = captured.xray_for_trace(mixed_event.trace_root().unwrap());
    for t in &traces {
        assert_valid_xray(t);
    }
    let subsegments = flatten(&traces);
    let handler = &subsegments
        .iter()
        .find(|(s, _)| s["name"] == "## handler")
        .unwrap()
        .0;
    let mut records: Vec<&Value> = subsegments
        .iter()
        .filter(|(s, parent)| {
            s["name"] == "process_record" && parent == handler["id"].as_str().unwrap()
        })
        .map(|(s, _)| s)
        .collect();
    records.sort_by(|a, b| {
        a["start_time"]
            .as_f64()
            .partial_cmp(&b["start_time"].as_f64())
            .unwrap()
    });
    assert_eq!(records.len(), 4);
    for (record, id) in records.iter().zip(&ids) {
        assert_eq!(record["annotations"]["message_id"], id.as_str());
    }
    let flagged: Vec<bool> = records.iter().map(|r| r["error"] == true).collect();
    assert_eq!(flagged, [false, true, true, false]);
}
