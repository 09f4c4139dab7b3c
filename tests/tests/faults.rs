//! Faults end to end, on the real `hello-world` binary (`#[powertools::handler]`: a log line, the
//! `Requests` and `Greetings` metrics with `request_id` metadata, a `greet` span) through the
//! real `lambda_runtime` and the local Runtime API: failing handlers, a missing or bad X-Ray
//! daemon, a closed or broken stdout, a deadline about to expire, malformed input from the
//! runtime and the environment, 64 invocations at once. Nothing the toolkit does may change the
//! handler's answer, lose what was recorded, or write more than one warning per problem.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use powertools_e2e::capture::Captured;
use powertools_e2e::function::{FunctionHarness, RunningFunction, StdoutMode, workspace_binary};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use powertools_e2e::schema::{assert_valid_emf, assert_valid_xray};
use serde_json::{Value, json};

/// Where the handler panics on purpose (the only panic allowed on stderr).
const HANDLER_PANIC: &str = "examples/hello-world/src/main.rs";

fn hello_world() -> FunctionHarness {
    FunctionHarness::new(workspace_binary("hello-world"))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Ok,
    Err,
    Panic,
}

/// One invocation sent, and what it must have produced.
struct Sent {
    event: ScriptedEvent,
    kind: Kind,
    name: String,
    /// Whether the trace header is well formed (the lines carry its trace id).
    header_ok: bool,
}

impl Sent {
    fn new(kind: Kind, name: &str) -> Self {
        Self::with(kind, name, 0)
    }

    /// With a handler that sleeps `sleep_ms` first.
    fn with(kind: Kind, name: &str, sleep_ms: u64) -> Self {
        let mut body = json!({ "name": name });
        match kind {
            Kind::Ok => {}
            Kind::Err => body["fail"] = json!(true),
            Kind::Panic => body["panic"] = json!(true),
        }
        if sleep_ms > 0 {
            body["sleep_ms"] = json!(sleep_ms);
        }
        Self {
            event: ScriptedEvent::new(body),
            kind,
            name: name.to_owned(),
            header_ok: true,
        }
    }

    /// With a malformed trace header.
    fn bad_header(mut self, header: &str) -> Self {
        self.event = self.event.trace_header(Some(header));
        self.header_ok = false;
        self
    }

    fn id(&self) -> &str {
        &self.event.request_id
    }

    fn root(&self) -> Option<&str> {
        self.event.trace_root().filter(|_| self.header_ok)
    }

    /// The function's answer is the handler's.
    fn check_outcome(&self, outcome: &Outcome) {
        match self.kind {
            Kind::Ok => {
                let body = outcome
                    .response()
                    .unwrap_or_else(|| panic!("an OK invocation answers: {outcome:?}"));
                assert_eq!(body["message"], format!("Hello, {}!", self.name));
                assert_eq!(body["invocation"]["request_id"], self.id());
            }
            Kind::Err => {
                let err = outcome
                    .error()
                    .expect("an Err invocation reports its error");
                assert_eq!(err["errorMessage"], "the order was declined");
            }
            Kind::Panic => {
                let err = outcome.error().expect("a panic is reported as an error");
                assert!(
                    err["errorMessage"]
                        .as_str()
                        .is_some_and(|m| m.contains("panicked on purpose")),
                    "{err}"
                );
            }
        }
    }

    /// The invocation's log lines, EMF document and (when `sent`) handler subsegment are all
    /// there, attributed to it.
    fn check_output(&self, out: &Captured, sent: bool) {
        let lines = out.logs_for(self.id());
        let greeting = lines
            .iter()
            .find(|l| l["message"] == "greeting requested")
            .unwrap_or_else(|| panic!("no log line for {}: {:#?}", self.id(), out.logs));
        assert_eq!(greeting["name"], self.name.as_str());
        for line in &lines {
            match self.root() {
                Some(root) => assert_eq!(line["xray_trace_id"], root, "{line}"),
                None => assert!(line.get("xray_trace_id").is_none(), "{line}"),
            }
        }
        if self.kind != Kind::Ok {
            let error = lines
                .iter()
                .find(|l| l["level"] == "ERROR" && l.get("exception").is_some())
                .unwrap_or_else(|| panic!("no error line for {}: {lines:#?}", self.id()));
            let expected = if self.kind == Kind::Err {
                "declined"
            } else {
                "panicked on purpose"
            };
            assert!(
                error["exception"]
                    .as_str()
                    .is_some_and(|e| e.contains(expected)),
                "{error}"
            );
        }

        let docs: Vec<&Value> = out
            .emf
            .iter()
            .filter(|d| d["request_id"] == self.id())
            .collect();
        assert_eq!(docs.len(), 1, "one EMF document for {}", self.id());
        assert_valid_emf(docs[0]);
        assert_eq!(docs[0]["Requests"], 1.0);
        assert_eq!(docs[0].get("Greetings").is_some(), self.kind == Kind::Ok);

        let Some(root) = self.root() else {
            return;
        };
        if !sent {
            assert!(out.xray_for_trace(root).is_empty());
            return;
        }
        let handlers: Vec<&Value> = out
            .xray_for_trace(root)
            .into_iter()
            .filter(|d| d["name"] == "## handler")
            .collect();
        assert_eq!(handlers.len(), 1, "one handler subsegment for {root}");
        let handler = handlers[0];
        assert_valid_xray(handler);
        assert_eq!(handler["parent_id"], self.event.trace_parent().unwrap());
        match self.kind {
            Kind::Ok => {
                assert_eq!(handler["subsegments"][0]["name"], "greet", "{handler}");
                assert!(handler.get("error").is_none() && handler.get("fault").is_none());
            }
            Kind::Err => {
                // A failed invocation is a server error (`fault`), not a client error (`error`).
                assert_eq!(handler["fault"], true, "{handler}");
                assert!(handler.get("error").is_none(), "{handler}");
                assert!(
                    handler["cause"]["exceptions"][0]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("declined")),
                    "{handler}"
                );
            }
            Kind::Panic => {
                assert_eq!(handler["fault"], true, "{handler}");
                assert!(
                    handler["cause"]["exceptions"][0]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("panicked on purpose")),
                    "{handler}"
                );
            }
        }
    }
}

/// Sends each invocation in turn; checks every answer.
async fn run(f: &mut RunningFunction, sent: &[Sent]) {
    for s in sent {
        let outcome = f.invoke(s.event.clone()).await;
        s.check_outcome(&outcome);
        assert!(f.is_alive(), "the process serves on after {:?}", s.kind);
    }
}

/// The warning lines (`level` WARN) written outside any invocation or by the toolkit.
fn warnings(out: &Captured) -> Vec<&Value> {
    out.logs.iter().filter(|l| l["level"] == "WARN").collect()
}

/// Nothing but JSON on stdout, and no panic other than the handler's own on stderr.
fn assert_clean(out: &Captured) {
    assert!(
        out.non_json.is_empty(),
        "non-JSON stdout: {:?}",
        out.non_json
    );
    let panics: Vec<&String> = out
        .stderr
        .iter()
        .filter(|l| l.contains("panicked at") && !l.contains(HANDLER_PANIC))
        .collect();
    assert!(panics.is_empty(), "unexpected panic: {:#?}", out.stderr);
    for doc in &out.emf {
        assert_valid_emf(doc);
    }
    for d in &out.datagrams {
        assert_valid_xray(d.document.as_ref().expect("header line + JSON document"));
    }
}

fn ok_err_panic_ok() -> Vec<Sent> {
    vec![
        Sent::new(Kind::Ok, "Ada"),
        Sent::new(Kind::Err, "Edsger"),
        Sent::new(Kind::Panic, "Barbara"),
        Sent::new(Kind::Ok, "Alan"),
    ]
}

#[tokio::test]
async fn failed_invocations_are_reported_flushed_and_the_next_one_is_served() {
    let mut f = hello_world().start().await;
    // The cold invocation panics: its ColdStart metric must not be lost with it.
    let sent = vec![
        Sent::new(Kind::Panic, "cold"),
        Sent::new(Kind::Err, "Edsger"),
        Sent::new(Kind::Panic, "Barbara"),
        Sent::new(Kind::Err, "Niklaus"),
        Sent::new(Kind::Ok, "Alan"),
    ];
    run(&mut f, &sent).await;
    let out = f.stop().await;

    assert_clean(&out);
    for s in &sent {
        s.check_output(&out, true);
    }
    let cold = out.emf_with_metric("ColdStart");
    assert_eq!(cold.len(), 1, "the panicking cold invocation's ColdStart");
    assert_eq!(cold[0]["ColdStart"], 1.0);
    let cold_line = out.logs_for(sent[0].id());
    assert!(cold_line.iter().all(|l| l["cold_start"] == true));
    assert_eq!(
        out.emf.len(),
        sent.len() + 1,
        "one document each + ColdStart"
    );
    assert!(warnings(&out).is_empty(), "{:#?}", warnings(&out));
}

/// Runs OK, Err, panic and OK invocations with `AWS_XRAY_DAEMON_ADDRESS` set to `address`:
/// the answers, log lines and metrics are those of a function with a daemon; at most one
/// warning line.
async fn without_a_daemon(address: &str) -> Captured {
    let mut f = hello_world()
        .env("AWS_XRAY_DAEMON_ADDRESS", address)
        .start()
        .await;
    let sent = ok_err_panic_ok();
    run(&mut f, &sent).await;
    let out = f.stop().await;
    assert_clean(&out);
    for s in &sent {
        s.check_output(&out, false);
    }
    assert!(
        out.datagrams.is_empty(),
        "nothing reaches the harness daemon"
    );
    let warned = warnings(&out);
    assert!(warned.len() <= 1, "at most one warning: {warned:#?}");
    out
}

#[tokio::test]
async fn no_daemon_listening_changes_nothing_but_one_warning() {
    // A port that was just free: nothing listens on it.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap()
        .port();
    without_a_daemon(&format!("127.0.0.1:{port}")).await;
}

#[tokio::test]
async fn unresolvable_daemon_address_changes_nothing_but_one_warning() {
    let out = without_a_daemon("xray-daemon.invalid:2000").await;
    assert_eq!(warnings(&out).len(), 1, "the address is named once");
}

#[tokio::test]
async fn malformed_daemon_address_changes_nothing_but_one_warning() {
    let out = without_a_daemon("not an address").await;
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1);
    assert!(
        warned[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not an address")),
        "{}",
        warned[0]
    );
}

/// The handler answers, failing invocations included, and the process survives writes that
/// fail.
async fn with_stdout(mode: StdoutMode) {
    let mut f = hello_world().stdout(mode).start().await;
    let sent = ok_err_panic_ok();
    run(&mut f, &sent).await;
    let out = f.stop().await;
    assert!(out.stdout.is_empty());
    let panics: Vec<&String> = out
        .stderr
        .iter()
        .filter(|l| l.contains("panicked at") && !l.contains(HANDLER_PANIC))
        .collect();
    assert!(panics.is_empty(), "{:#?}", out.stderr);
    // Traces do not go through stdout: they are all there.
    for s in sent.iter().filter_map(Sent::root) {
        assert_eq!(out.xray_for_trace(s).len(), 1, "{s}");
    }
}

#[tokio::test]
async fn closed_stdout_does_not_stop_the_handler() {
    with_stdout(StdoutMode::Closed).await;
}

#[tokio::test]
async fn broken_pipe_on_stdout_does_not_stop_the_handler() {
    with_stdout(StdoutMode::BrokenPipe).await;
}

#[tokio::test]
async fn output_is_written_before_the_response_when_the_deadline_is_near() {
    // The deadline 150 ms away with a handler taking 120 ms, and one already passed when the
    // handler starts: the function is killed the moment it answers, before it even gets the
    // Runtime API's `202 Accepted` (as Lambda stops a function at its deadline). What it
    // recorded must already be out.
    for (kind, deadline_in, sleep_ms) in [(Kind::Ok, 150, 120), (Kind::Err, 0, 20)] {
        // The watchdog off: these deadlines are inside its margin, so it would write the
        // invocation out at once (tests/tests/failures.rs covers that); what is checked here is
        // that the end of the invocation is out before its answer.
        let f = hello_world()
            .env("POWERTOOLS_TIMEOUT_MARGIN_MS", "0")
            .start()
            .await;
        let s = Sent::with(kind, "late", sleep_ms);
        let event = s.event.clone().deadline_in(deadline_in);
        let pid = f.pid().expect("running").to_string();
        let killed = Arc::new(Mutex::new(None));
        let k = Arc::clone(&killed);
        f.api().on_answer(move |_, _| {
            let status = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
            *k.lock().unwrap() = Some(status.is_ok_and(|s| s.success()));
        });
        let id = f.api().push(event);
        let outcome = f
            .api()
            .wait_for(&id, std::time::Duration::from_secs(30))
            .await
            .expect("answers");
        assert_eq!(*killed.lock().unwrap(), Some(true), "killed at the answer");
        s.check_outcome(&outcome);
        let out = f.kill().await;
        s.check_output(&out, true);
        assert_eq!(out.emf_with_metric("ColdStart").len(), 1);
    }
}

#[tokio::test]
async fn malformed_trace_header_warns_once_and_the_invocation_runs_untraced() {
    let mut f = hello_world().start().await;
    let bad = [
        Sent::new(Kind::Ok, "garbage").bad_header("garbage"),
        Sent::new(Kind::Err, "garbage").bad_header("garbage"),
        Sent::new(Kind::Ok, "half").bad_header("Root=1-zz;Parent=x;Sampled=1"),
    ];
    run(&mut f, &bad).await;
    let good = Sent::new(Kind::Ok, "after");
    run(&mut f, std::slice::from_ref(&good)).await;
    let out = f.stop().await;

    assert_clean(&out);
    for s in &bad {
        s.check_output(&out, false);
    }
    good.check_output(&out, true);
    assert_eq!(
        out.datagrams.len(),
        1,
        "only the well-traced invocation is sent"
    );
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("garbage")),
        "{}",
        warned[0]
    );
}

#[tokio::test]
async fn missing_optional_lambda_variables_keep_defaults_without_warnings() {
    let mut f = hello_world()
        .without_env("AWS_REGION")
        .without_env("AWS_LAMBDA_LOG_GROUP_NAME")
        .without_env("AWS_LAMBDA_LOG_STREAM_NAME")
        .without_env("AWS_LAMBDA_INITIALIZATION_TYPE")
        .without_env("AWS_EXECUTION_ENV")
        .without_env("LAMBDA_TASK_ROOT")
        .without_env("POWERTOOLS_SERVICE_NAME")
        .start()
        .await;
    let sent = ok_err_panic_ok();
    run(&mut f, &sent).await;
    let out = f.stop().await;
    assert_clean(&out);
    for s in &sent {
        s.check_output(&out, true);
    }
    assert!(warnings(&out).is_empty(), "{:#?}", warnings(&out));
    let line = out.logs_with_message("greeting requested")[0];
    assert_eq!(line["service"], "service_undefined");
    assert_eq!(line["function_name"], "powertools-demo");
}

#[tokio::test]
async fn missing_metrics_namespace_warns_once_and_the_rest_works() {
    let mut f = hello_world()
        .without_env("POWERTOOLS_METRICS_NAMESPACE")
        .start()
        .await;
    let sent = ok_err_panic_ok();
    run(&mut f, &sent).await;
    let out = f.stop().await;
    assert_clean(&out);
    assert!(out.emf.is_empty(), "no namespace, no EMF");
    for s in &sent {
        assert!(!out.logs_for(s.id()).is_empty());
        assert_eq!(out.xray_for_trace(s.root().unwrap()).len(), 1);
    }
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("namespace")),
        "{}",
        warned[0]
    );
}

#[tokio::test]
async fn invalid_powertools_values_warn_once_each_and_keep_defaults() {
    let bad = [
        ("POWERTOOLS_LOG_LEVEL", "loud"),
        ("POWERTOOLS_LOGGER_SAMPLE_RATE", "2.5"),
        ("POWERTOOLS_LOGGER_LOG_EVENT", "sometimes"),
        ("POWERTOOLS_DEV", "maybe"),
        ("POWERTOOLS_METRICS_DISABLED", "perhaps"),
        ("POWERTOOLS_TRACE_DISABLED", "nah"),
        ("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "nope"),
        ("POWERTOOLS_TRACER_CAPTURE_ERROR", "¯\\_(ツ)_/¯"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "warm"),
        ("AWS_LAMBDA_LOG_LEVEL", "chatty"),
    ];
    let mut harness = hello_world();
    for (k, v) in bad {
        harness = harness.env(k, v);
    }
    let mut f = harness.start().await;
    let sent = ok_err_panic_ok();
    run(&mut f, &sent).await;
    let out = f.stop().await;

    assert_clean(&out);
    // Defaults kept: INFO lines written, metrics and traces on, response and error captured.
    for s in &sent {
        s.check_output(&out, true);
    }
    let handler = out.xray_for_trace(sent[0].root().unwrap())[0];
    assert!(handler["metadata"]["demo"]["handler response"].is_object());
    let handler = out.xray_for_trace(sent[1].root().unwrap())[0];
    assert!(handler["metadata"]["demo"]["handler error"].is_object());
    assert!(
        out.logs_for(sent[0].id())
            .iter()
            .all(|l| l.get("sampling_rate").is_none())
    );

    let mut per_variable: BTreeMap<&str, usize> = BTreeMap::new();
    let warned = warnings(&out);
    for w in &warned {
        let message = w["message"].as_str().unwrap_or_default();
        let named: Vec<&str> = bad
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| message.contains(&format!("{k}=")))
            .collect();
        assert_eq!(named.len(), 1, "each warning names one variable: {w}");
        *per_variable.entry(named[0]).or_default() += 1;
    }
    for (k, _) in bad {
        assert_eq!(
            per_variable.get(k),
            Some(&1),
            "one warning for {k}: {warned:#?}"
        );
    }
    assert_eq!(warned.len(), bad.len());
}

#[tokio::test]
async fn sixty_four_concurrent_invocations_are_attributed_to_their_own_request_and_trace() {
    const N: usize = 160;
    let mut f = hello_world()
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "64")
        .start()
        .await;
    let sent: Vec<Sent> = (0..N)
        .map(|n| {
            let kind = match n % 8 {
                3 => Kind::Err,
                6 => Kind::Panic,
                _ => Kind::Ok,
            };
            Sent::with(kind, &format!("n{n}"), 40)
        })
        .collect();
    let outcomes = f
        .invoke_all(sent.iter().map(|s| s.event.clone()).collect())
        .await;
    let out = f.stop().await;

    assert_clean(&out);
    let mut peak = 0;
    for (s, outcome) in sent.iter().zip(&outcomes) {
        s.check_outcome(outcome);
        s.check_output(&out, true);
        if let Some(body) = outcome.response() {
            peak = peak.max(body["in_flight"].as_u64().unwrap());
        }
    }
    assert!(peak > 8, "invocations overlapped (peak {peak} in flight)");

    // Every line, document and subsegment belongs to the invocation it names, and to no other.
    let by_id: BTreeMap<&str, &Sent> = sent.iter().map(|s| (s.id(), s)).collect();
    let by_root: BTreeMap<&str, &Sent> = sent.iter().map(|s| (s.root().unwrap(), s)).collect();
    for line in &out.logs {
        if let Some(id) = line["function_request_id"].as_str() {
            let s = by_id[id];
            assert_eq!(line["xray_trace_id"], s.root().unwrap(), "{line}");
            if line["message"] == "greeting requested" {
                assert_eq!(line["name"], s.name.as_str(), "{line}");
            }
        } else {
            // `lambda_runtime`'s own line about a failed invocation, written after the
            // invocation's scope closed: attributed by its span's `requestId`.
            let id = line["requestId"]
                .as_str()
                .unwrap_or_else(|| panic!("{line}"));
            let header = line["xrayTraceId"].as_str().unwrap_or_default();
            assert!(header.contains(by_id[id].root().unwrap()), "{line}");
        }
    }
    for doc in out.emf.iter().filter(|d| d.get("ColdStart").is_none()) {
        let s = by_id[doc["request_id"].as_str().expect("request_id metadata")];
        assert_eq!(doc.get("Greetings").is_some(), s.kind == Kind::Ok, "{doc}");
    }
    assert_eq!(out.emf.len(), N + 1);
    for doc in out.xray() {
        let s = by_root[doc["trace_id"].as_str().unwrap()];
        assert_eq!(doc["parent_id"], s.event.trace_parent().unwrap());
        if s.kind == Kind::Ok {
            let response = &doc["metadata"]["demo"]["handler response"];
            assert_eq!(response["invocation"]["request_id"], s.id(), "{doc}");
            let greet = &doc["subsegments"][0];
            assert_eq!(greet["metadata"]["demo"]["name"], s.name.as_str(), "{doc}");
        }
    }
    assert_eq!(out.datagrams.len(), N);
}
