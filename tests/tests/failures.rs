//! Failures as visible as successes, end to end on the real `failures` binary
//! (`tests/functions/src/bin/failures.rs`: `#[powertools::handler]` on a typed `LambdaEvent<Order>`)
//! through the real `lambda_runtime` and the local Runtime API, which behaves like Lambda at the
//! deadline ([`FunctionHarness::enforce_deadlines`]: the process is killed, the next invocation
//! runs in a new one).
//!
//! A failed invocation — `Err` of a typed error or of a string, a panic, a timeout, an event
//! that is not an `Order` — must be reported as well as a successful one is: an error type a
//! caller can match on (Step Functions `ErrorEquals`, Lambda destinations), exactly one ERROR
//! line in the Powertools shape, its metrics written, a `## handler` subsegment marked as a
//! `fault` with its cause; and the next invocation is served as usual.

use std::collections::{BTreeMap, BTreeSet};

use powertools_e2e::capture::{Captured, top_level_keys};
use powertools_e2e::function::{FUNCTION_NAME, FunctionHarness, RunningFunction, package_binary};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use powertools_e2e::schema::{assert_valid_emf, assert_valid_xray};
use serde_json::{Value, json};

/// The service and namespace `failures` gives in code.
const SERVICE: &str = "failures";
const NAMESPACE: &str = "Failures";

/// `failures`, killed and restarted at a deadline as Lambda does, with the environment naming
/// the same service and namespace as its code.
fn failures() -> FunctionHarness {
    FunctionHarness::new(package_binary("bench-functions", "failures"))
        .env("POWERTOOLS_SERVICE_NAME", SERVICE)
        .env("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
        .enforce_deadlines()
}

/// An `Order` event with `case`.
fn order(case: &str) -> ScriptedEvent {
    order_with(case, 0)
}

/// An `Order` event with `case` and `sleep_ms`.
fn order_with(case: &str, sleep_ms: u64) -> ScriptedEvent {
    let event = ScriptedEvent::new(json!({ "amount": 42, "case": case, "sleep_ms": sleep_ms }));
    let id = format!("o-{}", &event.request_id[..8]);
    let mut event = event;
    event.body["id"] = json!(id);
    event
}

/// Invokes and expects a response.
async fn answer(f: &mut RunningFunction, event: &ScriptedEvent) -> Value {
    match f.invoke(event.clone()).await {
        Outcome::Response(v) => v,
        other => panic!("{}: expected a response, got {other:?}", event.body),
    }
}

/// Invokes and expects an error report sent by the function; returns its body.
async fn failure(f: &mut RunningFunction, event: &ScriptedEvent) -> Value {
    match f.invoke(event.clone()).await {
        Outcome::Error { body, .. } => body,
        other => panic!("{}: expected an error report, got {other:?}", event.body),
    }
}

/// The `errorType` of an error body, checked to be a name a caller can match on: not empty, not
/// a Rust type path.
fn readable_error_type(body: &Value) -> &str {
    let error_type = body["errorType"]
        .as_str()
        .unwrap_or_else(|| panic!("no errorType: {body}"));
    assert!(!error_type.is_empty(), "empty errorType: {body}");
    for rust in ["::", "alloc", "Box<", "dyn ", "&"] {
        assert!(
            !error_type.contains(rust),
            "errorType {error_type:?} is a Rust type, not a name a caller can match on: {body}"
        );
    }
    error_type
}

/// The stdout lines (as written, and parsed) with `"level":"ERROR"` that mention `request_id`
/// anywhere (under any key, in any value).
fn error_lines_mentioning<'a>(out: &'a Captured, request_id: &str) -> Vec<(&'a str, Value)> {
    out.stdout
        .iter()
        .filter(|l| l.contains(request_id))
        .filter_map(|l| Some((l.as_str(), serde_json::from_str::<Value>(l).ok()?)))
        .filter(|(_, v)| v["level"] == "ERROR")
        .collect()
}

/// The one ERROR line of a failed invocation, checked: exactly one ERROR line mentions the
/// request (none in `lambda_runtime`'s shape, `requestId`), and it has the Powertools keys, its
/// `location` relative, `xray_trace_id` last. Returns it.
fn the_error_line(out: &Captured, event: &ScriptedEvent, cold: bool) -> Value {
    let id = event.request_id.as_str();
    let ours = out
        .logs
        .iter()
        .filter(|l| l["level"] == "ERROR" && l["function_request_id"] == id)
        .count();
    let runtime_shaped: Vec<&Value> = out
        .logs
        .iter()
        .filter(|l| l["level"] == "ERROR" && l["requestId"] == id)
        .collect();
    let all = error_lines_mentioning(out, id);
    let texts: Vec<&str> = all.iter().map(|(raw, _)| *raw).collect();
    assert!(
        runtime_shaped.is_empty(),
        "{}: ERROR lines in lambda_runtime's shape (`requestId`): {runtime_shaped:#?}",
        event.body
    );
    assert_eq!(
        ours, 1,
        "{}: one ERROR line with function_request_id; all ERROR lines about it: {texts:#?}",
        event.body
    );
    assert_eq!(
        all.len(),
        1,
        "{}: exactly one ERROR line about the request: {texts:#?}",
        event.body
    );
    let (raw, line) = &all[0];
    assert_eq!(line["function_request_id"], id, "{raw}");
    assert_eq!(line["service"], SERVICE, "{raw}");
    assert_eq!(line["cold_start"], cold, "{raw}");
    assert_eq!(line["function_name"], FUNCTION_NAME, "{raw}");
    assert_eq!(line["xray_trace_id"], event.trace_root().unwrap(), "{raw}");
    let location = line["location"]
        .as_str()
        .unwrap_or_else(|| panic!("no location: {raw}"));
    assert!(
        !location.starts_with('/') && !location.contains(".cargo"),
        "location must be relative to the crate, not an absolute or registry path: {raw}"
    );
    let keys = top_level_keys(raw).expect("a JSON object");
    assert_eq!(
        keys.last().map(String::as_str),
        Some("xray_trace_id"),
        "xray_trace_id is the last key (Powertools' order): {keys:?}"
    );
    line.clone()
}

/// The one `## handler` subsegment of an invocation's trace (its last document, should it have
/// been sent `in_progress` first), valid, sent as a fault (a failed invocation is a server error:
/// `fault`, not the client error `error`).
fn the_faulted_handler(out: &Captured, event: &ScriptedEvent) -> Value {
    let docs = trace_docs(out, event);
    let handlers: Vec<&Value> = docs.iter().filter(|d| d["name"] == "## handler").collect();
    let ids: BTreeSet<&str> = handlers.iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(
        ids.len(),
        1,
        "{}: one ## handler subsegment: {docs:#?}",
        event.body
    );
    let handler = handlers[handlers.len() - 1].clone();
    assert_eq!(handler["parent_id"], event.trace_parent().unwrap());
    assert_eq!(handler["fault"], true, "a failure is a fault: {handler}");
    assert!(
        handler.get("error").is_none_or(|e| *e == false),
        "a failed invocation is not a client error (`error`): {handler}"
    );
    handler
}

/// The X-Ray documents of an invocation's trace, each valid.
fn trace_docs(out: &Captured, event: &ScriptedEvent) -> Vec<Value> {
    let docs: Vec<Value> = out
        .xray_for_trace(event.trace_root().unwrap())
        .into_iter()
        .cloned()
        .collect();
    for d in &docs {
        assert_valid_xray(d);
    }
    docs
}

/// The `type` of the first exception of a subsegment's `cause`.
fn cause_type(handler: &Value) -> &Value {
    &handler["cause"]["exceptions"][0]["type"]
}

/// The EMF documents of a request (`request_id` metadata), each valid.
fn emf_of<'a>(out: &'a Captured, event: &ScriptedEvent) -> Vec<&'a Value> {
    let docs: Vec<&Value> = out
        .emf
        .iter()
        .filter(|d| d["request_id"] == event.request_id.as_str())
        .collect();
    for d in &docs {
        assert_valid_emf(d);
        assert_eq!(d["service"], SERVICE, "{d}");
    }
    docs
}

/// Every value of metric `name` over documents.
fn metric_values(docs: &[&Value], name: &str) -> Vec<f64> {
    docs.iter()
        .flat_map(|d| match &d[name] {
            Value::Array(a) => a.iter().filter_map(Value::as_f64).collect(),
            v => v.as_f64().into_iter().collect::<Vec<f64>>(),
        })
        .collect()
}

/// A plain-text (not JSON) line saying "panicked at": Rust's default panic message.
fn plain_panic_lines(out: &Captured) -> Vec<&String> {
    out.stderr
        .iter()
        .chain(&out.non_json)
        .filter(|l| l.contains("panicked at") && serde_json::from_str::<Value>(l).is_err())
        .collect()
}

/// An `ok` invocation was served as usual: its answer, its `order received` line, its EMF
/// document with `Orders` 1, a `## handler` subsegment without `error` or `fault`.
fn check_ok(out: &Captured, event: &ScriptedEvent, answered: &Value, cold: bool) {
    assert_eq!(answered["ok"], true, "{answered}");
    assert_eq!(answered["id"], event.body["id"], "{answered}");
    let lines = out.logs_for(&event.request_id);
    let received = lines
        .iter()
        .find(|l| l["message"] == "order received")
        .unwrap_or_else(|| panic!("{}: no `order received` line: {lines:#?}", event.body));
    assert_eq!(received["level"], "INFO");
    assert_eq!(received["service"], SERVICE);
    assert_eq!(received["cold_start"], cold, "{received}");
    assert_eq!(received["xray_trace_id"], event.trace_root().unwrap());
    assert!(
        lines.iter().all(|l| l["level"] != "ERROR"),
        "{}: {lines:#?}",
        event.body
    );
    let docs = emf_of(out, event);
    assert_eq!(docs.len(), 1, "{}: one EMF document", event.body);
    assert_eq!(metric_values(&docs, "Orders"), [1.0], "{}", docs[0]);
    assert_eq!(metric_values(&docs, "Attempts"), [1.0], "{}", docs[0]);
    let docs = trace_docs(out, event);
    let handler = powertools::testing::find_subsegment(&docs, "## handler")
        .unwrap_or_else(|| panic!("{}: no ## handler subsegment", event.body));
    assert!(
        handler.get("fault").is_none() && handler.get("error").is_none(),
        "{handler}"
    );
    assert_eq!(handler["annotations"]["ColdStart"], cold, "{handler}");
}

/// Runs `ok` (cold), `failing`, `ok` in one process; returns the failing invocation's error
/// body and everything captured, after checking both `ok` invocations and that the process
/// served them all.
async fn between_two_oks(failing: &ScriptedEvent) -> (Value, Captured) {
    let mut f = failures().start().await;
    let pid = f.pid();
    let before = order("ok");
    let before_answer = answer(&mut f, &before).await;
    let body = failure(&mut f, failing).await;
    assert!(f.is_alive(), "{}: the process serves on", failing.body);
    let after = order("ok");
    let after_answer = answer(&mut f, &after).await;
    assert_eq!(f.pid(), pid, "one process served all three");
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();
    assert!(out.restarts.is_empty(), "{:#?}", out.restarts);
    check_ok(&out, &before, &before_answer, true);
    check_ok(&out, &after, &after_answer, false);
    (body, out)
}

/// `Err(Declined)`: the caller gets `Declined` and its message; one ERROR line names it with its
/// source; the metrics recorded before the failure are written; the `## handler` subsegment is
/// a fault caused by `Declined`.
#[tokio::test]
async fn a_typed_error_is_reported_by_its_name_once_with_its_source() {
    let typed = order("typed");
    let (body, out) = between_two_oks(&typed).await;

    assert_eq!(body["errorType"], "Declined", "{body}");
    assert_eq!(
        body["errorMessage"], "order declined: insufficient funds",
        "{body}"
    );

    let line = the_error_line(&out, &typed, false);
    assert_eq!(line["exception_name"], "Declined", "{line}");
    let exception = line["exception"]
        .as_str()
        .unwrap_or_else(|| panic!("no exception text: {line}"));
    assert!(
        exception.contains("order declined: insufficient funds")
            && exception.contains("card expired"),
        "the exception names the error and its source: {line}"
    );

    let docs = emf_of(&out, &typed);
    assert_eq!(
        docs.len(),
        1,
        "the failed invocation's metrics: {:#?}",
        out.emf
    );
    assert_eq!(metric_values(&docs, "Attempts"), [1.0], "{}", docs[0]);
    assert!(docs[0].get("Orders").is_none(), "{}", docs[0]);

    let handler = the_faulted_handler(&out, &typed);
    assert_eq!(cause_type(&handler), "Declined", "{handler}");
    assert!(
        handler["cause"]["exceptions"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("order declined")),
        "{handler}"
    );
}

/// `Err("plain failure".into())`: a readable error type (not `alloc::boxed::Box<dyn …>`), the
/// same in the error body, the ERROR line and the subsegment's cause; one ERROR line; a fault.
#[tokio::test]
async fn a_string_error_has_a_readable_type_and_is_reported_once() {
    let string = order("string");
    let (body, out) = between_two_oks(&string).await;

    let error_type = readable_error_type(&body);
    assert_eq!(body["errorMessage"], "plain failure", "{body}");

    let line = the_error_line(&out, &string, false);
    assert!(
        line["exception"]
            .as_str()
            .is_some_and(|e| e.contains("plain failure")),
        "{line}"
    );
    assert_eq!(
        line["exception_name"], error_type,
        "the caller and the log name the error alike: {line}"
    );
    assert_eq!(metric_values(&emf_of(&out, &string), "Attempts"), [1.0]);

    let handler = the_faulted_handler(&out, &string);
    assert_eq!(
        cause_type(&handler),
        error_type,
        "the caller and the trace name the error alike: {handler}"
    );
}

/// A panic: `errorType` `Panic` with the message; one ERROR line with the message and where it
/// happened (`failures.rs`, a relative path); Rust's plain-text panic message nowhere (not on
/// stderr, not on stdout); a fault caused by `Panic`.
#[tokio::test]
async fn a_panic_is_reported_as_panic_once_in_json_only() {
    let panic = order("panic");
    let (body, out) = between_two_oks(&panic).await;

    assert_eq!(body["errorType"], "Panic", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("boom")),
        "{body}"
    );

    let line = the_error_line(&out, &panic, false);
    assert!(
        ["message", "exception"]
            .iter()
            .any(|k| line[k].as_str().is_some_and(|m| m.contains("boom"))),
        "the panic's message: {line}"
    );
    let location = line["location"].as_str().unwrap_or_default();
    assert!(
        location.contains("failures.rs"),
        "where it panicked: {line}"
    );
    assert_eq!(
        line["exception_name"], "Panic",
        "the caller and the log name the failure alike: {line}"
    );

    let plain = plain_panic_lines(&out);
    assert!(
        plain.is_empty(),
        "Rust's plain-text panic message reached the logs: {plain:#?}; stderr: {:#?}",
        out.stderr
    );
    assert_eq!(metric_values(&emf_of(&out, &panic), "Attempts"), [1.0]);

    let handler = the_faulted_handler(&out, &panic);
    assert_eq!(cause_type(&handler), "Panic", "{handler}");
}

/// An event that is not an `Order` (`{"id": 5}`): the handler never runs, yet the caller gets
/// `InvalidEvent` (not the Rust type path of a deserialization error), one ERROR line names the
/// request, the `## handler` subsegment is a fault; the process serves on.
#[tokio::test]
async fn an_event_that_does_not_deserialize_is_reported_as_invalid_event() {
    let bad = ScriptedEvent::new(json!({ "id": 5 }));
    let (body, out) = between_two_oks(&bad).await;

    assert_eq!(readable_error_type(&body), "InvalidEvent", "{body}");
    assert!(
        body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );

    the_error_line(&out, &bad, false);
    for doc in emf_of(&out, &bad) {
        assert!(doc.get("Orders").is_none(), "{doc}");
    }
    the_faulted_handler(&out, &bad);
}

/// An invocation past its deadline (1.5 s, handler sleeping 5 s in `charge_card`): before Lambda
/// kills the process, the toolkit has written one WARN or ERROR line saying the invocation is
/// about to time out (naming the open span), the buffered/DEBUG line, the metrics recorded so far,
/// and a `## handler` subsegment marked as a fault caused by the timeout, with `charge_card` in
/// it. The next invocation runs in a new process: a cold start.
#[tokio::test]
async fn a_timed_out_invocation_leaves_its_output_before_the_kill() {
    let mut f = failures()
        .env("POWERTOOLS_LOG_LEVEL", "DEBUG")
        .start()
        .await;
    let first = order("ok");
    let first_answer = answer(&mut f, &first).await;
    let first_pid = f.pid().expect("running");

    let slow = order_with("timeout", 5_000).deadline_in(1_500);
    let outcome = f.invoke(slow.clone()).await;
    assert!(outcome.timed_out(), "{outcome:?}");
    assert_eq!(
        outcome.error().unwrap()["errorType"],
        "Sandbox.Timedout",
        "{outcome:?}"
    );

    let next = order("ok");
    let next_answer = answer(&mut f, &next).await;
    let next_pid = f.pid().expect("running");
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();

    assert_eq!(out.restarts.len(), 1, "{:#?}", out.restarts);
    let restart = &out.restarts[0];
    assert_eq!(restart.pid, first_pid);
    assert_eq!(restart.timed_out, std::slice::from_ref(&slow.request_id));
    assert_ne!(next_pid, first_pid, "a new process");
    check_ok(&out, &first, &first_answer, true);
    check_ok(&out, &next, &next_answer, true);
    check_timed_out(&out, &slow);
}

/// What the process killed at `slow`'s deadline wrote and sent about it before the kill.
fn check_timed_out(out: &Captured, slow: &ScriptedEvent) {
    let restart = &out.restarts[0];
    // What the killed process wrote (the new one cannot know the request).
    let id = slow.request_id.as_str();
    let written: Vec<(usize, Value)> = out.stdout[..restart.stdout_lines]
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(id))
        .filter_map(|(n, l)| Some((n, serde_json::from_str::<Value>(l).ok()?)))
        .collect();
    assert!(
        out.stdout[restart.stdout_lines..]
            .iter()
            .all(|l| !l.contains(id)),
        "only the killed process writes about its request"
    );
    let lines: Vec<&Value> = written.iter().map(|(_, l)| l).collect();
    let line = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message && l["function_request_id"] == id)
            .unwrap_or_else(|| panic!("no {message:?} line before the kill: {lines:#?}"))
    };
    assert_eq!(line("charging the card")["level"], "INFO");
    assert_eq!(line("waiting for the card processor")["level"], "DEBUG");

    let alarms: Vec<&&Value> = lines
        .iter()
        .filter(|l| l["level"] == "WARN" || l["level"] == "ERROR")
        .collect();
    assert_eq!(
        alarms.len(),
        1,
        "one WARN or ERROR line about the request: {lines:#?}"
    );
    let alarm = alarms[0];
    assert_eq!(alarm["function_request_id"], id, "{alarm}");
    assert_eq!(
        alarm["xray_trace_id"],
        slow.trace_root().unwrap(),
        "{alarm}"
    );
    let message = alarm["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        ["time out", "timeout", "timed out", "time-out"]
            .iter()
            .any(|t| message.contains(t)),
        "says the invocation is about to time out: {alarm}"
    );
    assert!(
        alarm.to_string().contains("charge_card"),
        "names the span still open: {alarm}"
    );

    let docs = emf_of(out, slow);
    assert_eq!(
        metric_values(&docs, "Attempts"),
        [1.0],
        "the metrics recorded before the timeout: {:#?}",
        out.emf
    );

    let handler = the_faulted_handler(out, slow);
    let cause = handler["cause"].to_string().to_lowercase();
    assert!(
        ["time out", "timeout", "timed out"]
            .iter()
            .any(|t| cause.contains(t)),
        "the cause is the timeout: {handler}"
    );
    let docs = trace_docs(out, slow);
    let charge = powertools::testing::find_subsegment(&docs, "charge_card")
        .unwrap_or_else(|| panic!("no charge_card subsegment: {docs:#?}"));
    assert!(
        charge.get("end_time").is_some() || charge["in_progress"] == true,
        "{charge}"
    );
    let nested =
        powertools::testing::find_subsegment(std::slice::from_ref(&handler), "charge_card");
    assert!(
        nested.is_some() || charge["parent_id"] == handler["id"],
        "charge_card is inside ## handler: {docs:#?}"
    );
}

/// Several invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY=4`), failing in each way and not:
/// each failure's ERROR line, EMF document and subsegment are attributed to its own request and
/// trace, and every `ok` is served.
#[tokio::test]
async fn concurrent_failures_are_attributed_to_their_own_request() {
    let mut f = failures()
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "4")
        .start()
        .await;
    let cases = ["typed", "ok", "string", "panic", "ok", "bad", "typed", "ok"];
    let sent: Vec<(&str, ScriptedEvent)> = cases
        .iter()
        .cycle()
        .take(16)
        .map(|&case| {
            let event = if case == "bad" {
                ScriptedEvent::new(json!({ "id": 5, "sleep_ms": 150 }))
            } else {
                order_with(case, 150)
            };
            (case, event)
        })
        .collect();
    let outcomes = f
        .invoke_all(sent.iter().map(|(_, e)| e.clone()).collect())
        .await;
    assert!(f.is_alive());
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();
    assert!(out.restarts.is_empty(), "{:#?}", out.restarts);
    let plain = plain_panic_lines(&out);
    assert!(plain.is_empty(), "{plain:#?}");

    let by_id: BTreeMap<&str, &(&str, ScriptedEvent)> =
        sent.iter().map(|s| (s.1.request_id.as_str(), s)).collect();
    for ((case, event), outcome) in sent.iter().zip(&outcomes) {
        let id = event.request_id.as_str();
        if *case == "ok" {
            let answered = outcome.response().unwrap_or_else(|| panic!("{outcome:?}"));
            assert_eq!(answered["id"], event.body["id"]);
            let docs = emf_of(&out, event);
            assert_eq!(metric_values(&docs, "Orders"), [1.0], "{id}");
            let docs = trace_docs(&out, event);
            let handler = powertools::testing::find_subsegment(&docs, "## handler")
                .unwrap_or_else(|| panic!("{id}: no ## handler"));
            assert!(handler.get("fault").is_none(), "{handler}");
            continue;
        }
        let Outcome::Error { body, .. } = outcome else {
            panic!("{case} {id}: expected an error report, got {outcome:?}");
        };
        let (error_type, text) = match *case {
            "typed" => ("Declined", "order declined"),
            "string" => (readable_error_type(body), "plain failure"),
            "panic" => ("Panic", "boom"),
            _ => ("InvalidEvent", ""),
        };
        assert_eq!(body["errorType"], error_type, "{case} {id}: {body}");
        let line = the_error_line(&out, event, line_cold(&out, id));
        assert!(
            line.to_string().contains(text),
            "{case} {id}: its own error: {line}"
        );
        let handler = the_faulted_handler(&out, event);
        assert_eq!(cause_type(&handler), error_type, "{case} {id}: {handler}");
        if *case != "bad" {
            assert_eq!(
                metric_values(&emf_of(&out, event), "Attempts"),
                [1.0],
                "{id}"
            );
        }
    }

    // Every ERROR line, EMF document and X-Ray document belongs to one sent request, and agrees
    // with it.
    for line in out.logs.iter().filter(|l| l["level"] == "ERROR") {
        let text = line.to_string();
        let named: Vec<&str> = by_id
            .keys()
            .copied()
            .filter(|id| text.contains(id))
            .collect();
        assert_eq!(named.len(), 1, "an ERROR line names one request: {line}");
        let (case, event) = by_id[named[0]];
        assert_ne!(*case, "ok", "an ERROR line about an ok invocation: {line}");
        assert_eq!(line["xray_trace_id"], event.trace_root().unwrap(), "{line}");
    }
    for doc in &out.emf {
        let id = doc["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a document without its request: {doc}"));
        let (case, _) = by_id[id];
        assert_eq!(doc.get("Orders").is_some(), *case == "ok", "{doc}");
    }
    for doc in out.xray() {
        let (case, event) = sent
            .iter()
            .find(|(_, e)| doc["trace_id"] == e.trace_root().unwrap())
            .unwrap_or_else(|| panic!("a document of no sent trace: {doc}"));
        assert_eq!(doc["parent_id"], event.trace_parent().unwrap(), "{doc}");
        if doc["name"] == "## handler" {
            assert_eq!(doc.get("fault").is_some(), *case != "ok", "{doc}");
        }
    }
}

/// Whether the lines of request `id` say it was a cold start (under concurrency, which of the
/// first invocations is cold is not known in advance).
fn line_cold(out: &Captured, id: &str) -> bool {
    out.logs_for(id)
        .first()
        .and_then(|l| l["cold_start"].as_bool())
        .unwrap_or(false)
}
