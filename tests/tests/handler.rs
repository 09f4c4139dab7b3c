//! `#[powertools::handler]` end to end: the real `hello-world` binary (logger, metrics and tracer
//! behind the attribute) through the real `lambda_runtime` and the local Runtime API. For cold,
//! warm, `Err` and panicking invocations, sequential and concurrent: log lines, EMF documents
//! and X-Ray documents are all there, valid against the schemas, and correlated by request id
//! and trace id.

use powertools_e2e::capture::Captured;
use powertools_e2e::function::{FUNCTION_NAME, FunctionHarness, workspace_binary};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use powertools_e2e::schema::{assert_valid_emf, assert_valid_xray};
use serde_json::{Value, json};

/// What one invocation is expected to look like.
struct Expected {
    request_id: String,
    root: String,
    parent: String,
    cold: bool,
    kind: Kind,
    name: String,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Ok,
    Err,
    Panic,
}

fn event(kind: Kind, name: &str, sleep_ms: u64) -> ScriptedEvent {
    let mut body = json!({ "name": name, "sleep_ms": sleep_ms });
    match kind {
        Kind::Ok => {}
        Kind::Err => body["fail"] = json!(true),
        Kind::Panic => body["panic"] = json!(true),
    }
    ScriptedEvent::new(body)
}

fn expected(e: &ScriptedEvent, kind: Kind, name: &str, cold: bool) -> Expected {
    Expected {
        request_id: e.request_id.clone(),
        root: e.trace_root().unwrap().to_owned(),
        parent: e.trace_parent().unwrap().to_owned(),
        cold,
        kind,
        name: name.to_owned(),
    }
}

/// Every document anywhere in the output is valid; every line of stdout is JSON.
fn assert_all_valid(out: &Captured) {
    assert!(
        out.non_json.is_empty(),
        "non-JSON stdout: {:?}",
        out.non_json
    );
    for doc in &out.emf {
        assert_valid_emf(doc);
    }
    assert!(!out.datagrams.is_empty());
    for d in &out.datagrams {
        let doc = d.document.as_ref().expect("header line + JSON document");
        assert_valid_xray(doc);
    }
}

fn assert_outcome(outcome: &Outcome, exp: &Expected) {
    match exp.kind {
        Kind::Ok => {
            let body = outcome.response().expect("answers");
            assert_eq!(body["message"], format!("Hello, {}!", exp.name));
            assert_eq!(body["invocation"]["request_id"], exp.request_id.as_str());
        }
        Kind::Err => {
            let err = outcome.error().expect("reports the error");
            assert_eq!(err["errorMessage"], "the order was declined");
        }
        Kind::Panic => {
            let err = outcome.error().expect("reports the panic");
            assert!(
                err["errorMessage"]
                    .as_str()
                    .unwrap()
                    .contains("panicked on purpose")
            );
        }
    }
}

/// Log lines, EMF documents and the subsegment tree of one invocation.
fn assert_invocation(out: &Captured, exp: &Expected) {
    // Logs: the handler's line and, on a panic, the panic line; all carry the Lambda keys.
    let lines = out.logs_for(&exp.request_id);
    let greeting = lines
        .iter()
        .find(|l| l["message"] == "greeting requested")
        .unwrap_or_else(|| panic!("no greeting line for {}: {lines:?}", exp.request_id));
    assert_eq!(greeting["name"], exp.name.as_str());
    for line in &lines {
        assert_eq!(line["xray_trace_id"], exp.root.as_str(), "{line}");
        assert_eq!(line["cold_start"], exp.cold, "{line}");
        assert_eq!(line["function_name"], FUNCTION_NAME);
        assert_eq!(line["service"], "demo");
    }
    if exp.kind == Kind::Panic {
        let panic_line = lines
            .iter()
            .find(|l| l["level"] == "ERROR")
            .unwrap_or_else(|| panic!("no panic line: {lines:?}"));
        assert!(
            panic_line["message"]
                .as_str()
                .unwrap()
                .contains("panicked on purpose"),
            "{panic_line}"
        );
    }

    // EMF: the invocation's document (metadata `request_id`), flushed on Ok, Err and panic.
    let docs: Vec<&Value> = out
        .emf
        .iter()
        .filter(|d| d["request_id"] == exp.request_id.as_str())
        .collect();
    assert_eq!(docs.len(), 1, "one EMF document for {}", exp.request_id);
    let doc = docs[0];
    assert_eq!(doc["Requests"], 1.0);
    assert_eq!(doc["service"], "demo");
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Powertools"
    );
    assert_eq!(
        doc.get("Greetings").is_some(),
        exp.kind == Kind::Ok,
        "{doc}"
    );

    // X-Ray: the handler subsegment under the Lambda segment (the header's Parent).
    let docs = out.xray_for_trace(&exp.root);
    let handlers: Vec<&&Value> = docs.iter().filter(|d| d["name"] == "## handler").collect();
    assert_eq!(handlers.len(), 1, "one handler subsegment in {}", exp.root);
    let handler = handlers[0];
    assert_eq!(handler["type"], "subsegment");
    assert_eq!(handler["parent_id"], exp.parent.as_str());
    assert_eq!(handler["annotations"]["ColdStart"], exp.cold);
    assert_eq!(handler["annotations"]["Service"], "demo");
    match exp.kind {
        Kind::Ok => {
            assert_eq!(
                handler["metadata"]["demo"]["handler response"]["message"],
                format!("Hello, {}!", exp.name)
            );
            let greet = &handler["subsegments"][0];
            assert_eq!(greet["name"], "greet", "{handler}");
            assert_eq!(greet["metadata"]["demo"]["name"], exp.name.as_str());
        }
        Kind::Err => {
            // A failed invocation is a server error (`fault`), not a client error (`error`).
            assert_eq!(handler["fault"], true, "{handler}");
            assert!(handler.get("error").is_none(), "{handler}");
            assert!(
                handler["cause"]["exceptions"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("declined")
            );
        }
        Kind::Panic => {
            assert_eq!(handler["fault"], true, "{handler}");
            assert!(handler["cause"]["exceptions"].is_array(), "{handler}");
        }
    }
}

#[tokio::test]
async fn sequential_cold_warm_err_and_panic_are_logged_measured_and_traced() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .start()
        .await;
    let script = [
        (Kind::Ok, "Ada", true),
        (Kind::Ok, "Grace", false),
        (Kind::Err, "Edsger", false),
        (Kind::Panic, "Barbara", false),
        (Kind::Ok, "Alan", false),
    ];
    let mut expectations = Vec::new();
    for (kind, name, cold) in script {
        let e = event(kind, name, 0);
        let exp = expected(&e, kind, name, cold);
        let outcome = f.invoke(e).await;
        assert_outcome(&outcome, &exp);
        expectations.push(exp);
    }
    let out = f.stop().await;

    assert_all_valid(&out);
    for exp in &expectations {
        assert_invocation(&out, exp);
    }
    let cold_starts = out.emf_with_metric("ColdStart");
    assert_eq!(cold_starts.len(), 1, "one ColdStart document per process");
    assert_eq!(cold_starts[0]["function_name"], FUNCTION_NAME);
    assert_eq!(out.emf_with_metric("Requests").len(), script.len());
}

#[tokio::test]
async fn concurrent_invocations_are_attributed_to_their_own_request_and_trace() {
    const N: usize = 24;
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "8")
        .start()
        .await;
    let mut events = Vec::new();
    let mut kinds = Vec::new();
    for n in 0..N {
        let kind = match n % 6 {
            4 => Kind::Err,
            5 => Kind::Panic,
            _ => Kind::Ok,
        };
        events.push(event(kind, &format!("n{n}"), 30));
        kinds.push(kind);
    }
    let names: Vec<String> = (0..N).map(|n| format!("n{n}")).collect();
    let outcomes = f.invoke_all(events.clone()).await;
    let out = f.stop().await;

    assert_all_valid(&out);
    let mut cold = 0;
    for (n, (e, outcome)) in events.iter().zip(&outcomes).enumerate() {
        let lines = out.logs_for(&e.request_id);
        let is_cold = lines.first().is_some_and(|l| l["cold_start"] == true);
        cold += usize::from(is_cold);
        let exp = expected(e, kinds[n], &names[n], is_cold);
        assert_outcome(outcome, &exp);
        assert_invocation(&out, &exp);
    }
    assert_eq!(cold, 1, "exactly one cold start");
    assert_eq!(out.emf_with_metric("ColdStart").len(), 1);
    // Every log line belongs to one of the requests: ours carry `function_request_id`; the
    // runtime's own report of a failed invocation (written after our scope ended, through the
    // same logger) carries the `requestId` of the runtime's span.
    let ids: Vec<&str> = events.iter().map(|e| e.request_id.as_str()).collect();
    for line in &out.logs {
        let id = line["function_request_id"]
            .as_str()
            .or_else(|| line["requestId"].as_str())
            .unwrap_or_default();
        assert!(ids.contains(&id), "line outside any request: {line}");
    }
}
