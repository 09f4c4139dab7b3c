//! Nothing lost: every way the toolkit could lose telemetry without saying so, end to end on the
//! real `nothing-lost` and `nothing-lost-composed` binaries (`tests/functions`) through the real
//! `lambda_runtime` and the local Runtime API, asserted on what CloudWatch Logs keeps
//! ([`Captured::cloudwatch`]: long lines cut into events, Lambda's log-level filter applied).
//!
//! A value the toolkit accepts must reach CloudWatch in a valid document under the namespace and
//! service the function configured; a value it cannot deliver must be refused with an error.

use std::collections::BTreeMap;
use std::time::Duration;

use powertools_e2e::capture::{Captured, MAX_LINE_BYTES};
use powertools_e2e::function::{
    FunctionHarness, RunningFunction, package_binary, workspace_binary,
};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use powertools_e2e::schema::{assert_valid_emf, assert_valid_xray};
use serde_json::{Value, json};

/// The namespace and service `nothing-lost` gives in code.
const NAMESPACE: &str = "NothingLost";
const SERVICE: &str = "nothing-lost";

/// `nothing-lost`, with the environment naming the same namespace and service as its code (so
/// each test fails for its own reason, not for the one of
/// `metrics_touched_at_init_are_written_under_the_namespace_given_in_code`).
fn nothing_lost() -> FunctionHarness {
    FunctionHarness::new(package_binary("bench-functions", "nothing-lost"))
        .env("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
        .env("POWERTOOLS_SERVICE_NAME", SERVICE)
}

fn case(name: &str) -> ScriptedEvent {
    ScriptedEvent::new(json!({ "case": name }))
}

/// Invokes and expects an answer (not an error report).
async fn answer(f: &mut RunningFunction, event: &ScriptedEvent) -> Value {
    match f.invoke(event.clone()).await {
        Outcome::Response(v) => v,
        other => {
            panic!("{}: expected a response, got {other:?}", event.body)
        }
    }
}

/// Invokes and expects an error report.
async fn failure(f: &mut RunningFunction, event: &ScriptedEvent) {
    let outcome = f.invoke(event.clone()).await;
    assert!(outcome.error().is_some(), "{}: {outcome:?}", event.body);
}

/// The namespaces of a document's directives.
fn namespaces(doc: &Value) -> Vec<&Value> {
    doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| &d["Namespace"])
        .collect()
}

/// The metric names a document defines.
fn metric_names(doc: &Value) -> Vec<&str> {
    doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["Metrics"].as_array().into_iter().flatten())
        .filter_map(|m| m["Name"].as_str())
        .collect()
}

/// A metric's values in a document (a number or an array of numbers).
fn values(doc: &Value, name: &str) -> Vec<f64> {
    match &doc[name] {
        Value::Array(a) => a.iter().filter_map(Value::as_f64).collect(),
        v => v.as_f64().into_iter().collect(),
    }
}

/// Every value of metric `name` across `docs`.
fn all_values(docs: &[&Value], name: &str) -> Vec<f64> {
    docs.iter().flat_map(|d| values(d, name)).collect()
}

/// Every EMF document CloudWatch keeps is valid, under `namespace`, with dimension `service`.
fn assert_only_our_documents(cw: &Captured, namespace: &str, service: &str) {
    for doc in &cw.emf {
        assert_valid_emf(doc);
        assert!(
            namespaces(doc).iter().all(|n| *n == namespace),
            "a document under another namespace than {namespace}: {doc}"
        );
        assert_eq!(doc["service"], service, "{doc}");
    }
}

/// Warning or error lines that talk about a namespace.
fn namespace_warnings(cw: &Captured) -> Vec<&Value> {
    cw.logs
        .iter()
        .filter(|l| l["level"] != "INFO" && l["level"] != "DEBUG")
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("namespace"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Metrics: where `current()` records

/// `powertools::metrics::current()` called at init, before the layer is built with a namespace
/// and service given in code only: every invocation's metric is written under them, with no
/// missing-namespace warning. For the builder and for the attribute.
#[tokio::test]
async fn metrics_touched_at_init_are_written_under_the_namespace_given_in_code() {
    for layer in ["builder", "attribute"] {
        let mut f = nothing_lost()
            .without_env("POWERTOOLS_METRICS_NAMESPACE")
            .without_env("POWERTOOLS_SERVICE_NAME")
            .env("NOTHING_LOST_LAYER", layer)
            .start()
            .await;
        for _ in 0..3 {
            answer(&mut f, &case("metric")).await;
        }
        let out = f.stop().await;
        out.assert_every_line_is_one_json_event();
        let cw = out.cloudwatch();
        assert_only_our_documents(&cw, NAMESPACE, SERVICE);
        let orders = cw.emf_with_metric("Orders");
        assert_eq!(
            orders.len(),
            3,
            "{layer}: one document per invocation; stdout: {:#?}",
            out.stdout
        );
        for doc in &orders {
            assert_eq!(values(doc, "Orders"), [1.0], "{layer}: {doc}");
        }
        let warned = namespace_warnings(&cw);
        assert!(warned.is_empty(), "{layer}: {warned:#?}");
    }
}

/// The ColdStart metric is written only when asked for (`capture_cold_start_metric`):
/// `nothing-lost` does not ask.
#[tokio::test]
async fn no_cold_start_metric_unless_asked_for() {
    let mut f = nothing_lost().start().await;
    let cold = case("plain");
    answer(&mut f, &cold).await;
    answer(&mut f, &case("metric")).await;
    let out = f.stop().await;
    let cold_lines = out.logs_for(&cold.request_id);
    assert!(
        cold_lines.iter().any(|l| l["cold_start"] == true),
        "the first invocation is cold: {cold_lines:#?}"
    );
    let cold_starts = out.emf_with_metric("ColdStart");
    assert!(cold_starts.is_empty(), "{cold_starts:#?}");
}

/// `current().add_metric` in a plain `tokio::spawn` (no invocation scope) is an error, and
/// nothing is written anywhere for it — not under the environment's namespace (`Elsewhere`,
/// which the code overrides), not in a later invocation's document; the handler's own metric is
/// in its document.
#[tokio::test]
async fn an_unscoped_task_cannot_record_and_nothing_lands_elsewhere() {
    let mut f = nothing_lost()
        .env("POWERTOOLS_METRICS_NAMESPACE", "Elsewhere")
        .start()
        .await;
    let said = answer(&mut f, &case("spawn_unscoped_metric")).await;
    answer(&mut f, &case("metric")).await;
    let out = f.stop().await;
    assert_ne!(
        said["unscoped"], "Ok",
        "recording outside any invocation must be refused: {said}"
    );
    assert!(said["unscoped"].is_string(), "{said}");
    out.assert_every_line_is_one_json_event();
    let cw = out.cloudwatch();
    assert_only_our_documents(&cw, NAMESPACE, SERVICE);
    let unscoped = cw.emf_with_metric("Unscoped");
    assert!(unscoped.is_empty(), "refused yet written: {unscoped:#?}");
    let orders = cw.emf_with_metric("Orders");
    assert_eq!(orders.len(), 2, "{:#?}", out.stdout);
    assert_eq!(all_values(&orders, "Orders"), [1.0, 1.0]);
}

/// A task spawned in the invocation's scope records after the handler returned: it is told so
/// (an error), or the value is written in a valid document — never `Ok` and lost.
#[tokio::test]
async fn a_late_scoped_task_is_refused_or_written_never_lost() {
    let mut f = nothing_lost().start().await;
    answer(&mut f, &case("spawn_late_metric")).await;
    let said = wait_for_stderr(&f, "late metric: ").await;
    answer(&mut f, &case("metric")).await;
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();
    let cw = out.cloudwatch();
    assert_only_our_documents(&cw, NAMESPACE, SERVICE);
    let late = cw.emf_with_metric("Late");
    if said == "Ok" {
        assert_eq!(
            all_values(&late, "Late"),
            [1.0],
            "the late value was accepted, so it must be written; stdout: {:#?}",
            out.stdout
        );
    } else {
        assert!(late.is_empty(), "refused ({said}) yet written: {late:#?}");
    }
    assert_eq!(
        all_values(&cw.emf_with_metric("Orders"), "Orders"),
        [1.0, 1.0]
    );
}

/// The text after `prefix` on the first stderr line that has it, waiting up to 5 s.
async fn wait_for_stderr(f: &RunningFunction, prefix: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let found = f
            .captured()
            .stderr
            .iter()
            .find_map(|l| l.strip_prefix(prefix).map(str::to_owned));
        if let Some(text) = found {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no stderr line {prefix:?}: {:#?}",
            f.captured().stderr
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `InvocationLayer` with the logger's, tracer's and metrics' hooks composed by hand: what the
/// handler records through `powertools::metrics::current()` is written under that `Metrics`'
/// namespace, whether or not the environment names another one.
#[tokio::test]
async fn a_hand_composed_layer_writes_what_current_records() {
    for env_namespace in [None, Some("Elsewhere")] {
        let harness =
            FunctionHarness::new(package_binary("bench-functions", "nothing-lost-composed"));
        let harness = match env_namespace {
            None => harness.without_env("POWERTOOLS_METRICS_NAMESPACE"),
            Some(ns) => harness.env("POWERTOOLS_METRICS_NAMESPACE", ns),
        };
        let mut f = harness.start().await;
        for _ in 0..2 {
            let said = answer(&mut f, &case("metric")).await;
            assert_eq!(said["metric"], "Ok", "{env_namespace:?}: {said}");
        }
        let out = f.stop().await;
        out.assert_every_line_is_one_json_event();
        let cw = out.cloudwatch();
        assert_only_our_documents(&cw, "Composed", "composed");
        assert_eq!(
            all_values(&cw.emf_with_metric("ComposedOrders"), "ComposedOrders"),
            [1.0, 1.0],
            "{env_namespace:?}: stdout {:#?}",
            out.stdout
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Sizes: CloudWatch keeps at most MAX_LINE_BYTES per event

/// Same as `huge_metric_name` in `nothing-lost`.
fn huge_metric_name(i: usize) -> String {
    format!("Huge{i:02}{}", "x".repeat(249))
}

/// Same as `huge_metric_value` in `nothing-lost`.
fn huge_metric_value(i: usize, j: usize) -> f64 {
    1e-100 * (1.0 + (i * 99 + j) as f64 / 9801.0 * std::f64::consts::PI)
}

/// 99 metrics × 99 values with 255-character names (more EMF than one event holds): every value
/// reaches CloudWatch exactly once, in whole valid documents of at most MAX_LINE_BYTES.
#[tokio::test]
async fn huge_metrics_are_written_as_whole_documents_every_value_once() {
    let mut f = nothing_lost().start().await;
    answer(&mut f, &case("huge_metrics")).await;
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();
    let cw = out.cloudwatch();
    assert!(cw.non_json.is_empty(), "cut pieces: {}", cw.non_json.len());
    assert_only_our_documents(&cw, NAMESPACE, SERVICE);

    let mut seen: BTreeMap<(usize, u64), usize> = BTreeMap::new();
    let mut bytes = 0;
    for line in &cw.stdout {
        let doc: Value = serde_json::from_str(line).expect("checked above");
        if doc.get("_aws").is_none() {
            continue;
        }
        bytes += line.len();
        for name in metric_names(&doc) {
            let i: usize = name
                .strip_prefix("Huge")
                .and_then(|n| n.get(..2))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected metric {name:?}"));
            assert_eq!(name, huge_metric_name(i));
            for v in values(&doc, name) {
                *seen.entry((i, v.to_bits())).or_default() += 1;
            }
        }
    }
    assert!(
        bytes > MAX_LINE_BYTES,
        "the case must need more than one event ({bytes} bytes)"
    );
    let mut problems = Vec::new();
    for i in 0..99 {
        for j in 0..99 {
            match seen.remove(&(i, huge_metric_value(i, j).to_bits())) {
                Some(1) => {}
                n => problems.push(format!("metric {i} value {j}: written {n:?} times")),
            }
        }
    }
    problems.extend(seen.keys().map(|(i, v)| {
        format!(
            "metric {i}: value {} was never recorded",
            f64::from_bits(*v)
        )
    }));
    assert!(
        problems.is_empty(),
        "{} problems, first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
}

/// Metadata: eight values of 40,000 characters (more than one event in all) and a metric: each
/// value is written whole in a valid document or refused with an error and written nowhere (the
/// first one at least fits); one value of 300,000 characters, which no event can hold, is
/// refused.
#[tokio::test]
async fn oversized_metadata_is_refused_and_the_rest_is_written() {
    let mut f = nothing_lost().start().await;
    let said = answer(&mut f, &case("huge_metadata")).await;
    let out = f.stop().await;
    assert!(
        said["huge"].is_string() && said["huge"] != "Ok",
        "300,000 characters of metadata must be refused: {said}"
    );
    out.assert_every_line_is_one_json_event();
    let cw = out.cloudwatch();
    assert!(cw.non_json.is_empty(), "cut pieces: {}", cw.non_json.len());
    assert_only_our_documents(&cw, NAMESPACE, SERVICE);
    assert_eq!(said["meta"][0], "Ok", "{said}");
    for k in 0..8u8 {
        let key = format!("meta{k}");
        let value = char::from(b'a' + k).to_string().repeat(40_000);
        let accepted = &said["meta"][usize::from(k)];
        if accepted == "Ok" {
            assert!(
                cw.emf.iter().any(|d| d[&key] == value.as_str()),
                "{key} was accepted but is not written whole in any document"
            );
        } else {
            assert!(
                cw.emf.iter().all(|d| d.get(&key).is_none()),
                "{key} was refused ({accepted}) but is written"
            );
        }
    }
    assert!(
        cw.emf.iter().all(|d| d.get("huge").is_none()),
        "refused metadata written"
    );
    assert_eq!(all_values(&cw.emf_with_metric("Orders"), "Orders"), [1.0]);
}

/// A log line with a 400,000-character field and one with a 400,000-character message: each
/// reaches CloudWatch as one valid JSON event with the Powertools keys intact, the long value
/// shortened with a marker saying so.
#[tokio::test]
async fn huge_log_lines_are_shortened_into_one_event_with_their_keys() {
    let mut f = nothing_lost().start().await;
    let event = case("huge_log");
    answer(&mut f, &event).await;
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();
    let cw = out.cloudwatch();
    assert!(cw.non_json.is_empty(), "cut pieces: {}", cw.non_json.len());
    let lines = cw.logs_for(&event.request_id);
    let field_line = lines
        .iter()
        .find(|l| l["message"] == "huge field")
        .unwrap_or_else(|| panic!("no `huge field` line in CloudWatch: {lines:#?}"));
    let message_line = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("yyyyyyyy"))
        })
        .unwrap_or_else(|| panic!("no long-message line in CloudWatch: {lines:#?}"));
    for line in [field_line, message_line] {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["service"], SERVICE);
        assert_eq!(line["function_request_id"], event.request_id.as_str());
        assert_eq!(line["xray_trace_id"], event.trace_root().unwrap());
    }
    let big = field_line["big"]
        .as_str()
        .expect("the field is kept, shortened");
    assert!(
        big.starts_with("xxxxxxxx") && big.contains("truncated"),
        "…{}",
        tail(big)
    );
    let message = message_line["message"].as_str().unwrap();
    assert!(message.contains("truncated"), "…{}", tail(message));
}

fn tail(s: &str) -> &str {
    let mut at = s.len().saturating_sub(200);
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}

// ---------------------------------------------------------------------------------------------
// Lambda's application log-level filter

/// With the JSON log format and `AWS_LAMBDA_LOG_LEVEL` WARN or ERROR, Lambda drops every line
/// whose `level` is below it (a line without one counts as INFO): the EMF documents still reach
/// CloudWatch — `nothing-lost`'s and `hello-world`'s (with its ColdStart).
#[tokio::test]
async fn emf_documents_survive_lambdas_log_level_filter() {
    for level in ["WARN", "ERROR"] {
        let mut f = nothing_lost()
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", level)
            .start()
            .await;
        for _ in 0..2 {
            answer(&mut f, &case("metric")).await;
        }
        let out = f.stop().await;
        out.assert_every_line_is_one_json_event();
        let cw = out.cloudwatch();
        assert_only_our_documents(&cw, NAMESPACE, SERVICE);
        assert_eq!(
            all_values(&cw.emf_with_metric("Orders"), "Orders"),
            [1.0, 1.0],
            "{level}: what the function wrote: {:#?}",
            out.stdout
        );

        let mut f = FunctionHarness::new(workspace_binary("hello-world"))
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", level)
            .start()
            .await;
        for _ in 0..2 {
            answer(&mut f, &ScriptedEvent::new(json!({ "name": "Ada" }))).await;
        }
        let out = f.stop().await;
        let cw = out.cloudwatch();
        assert_only_our_documents(&cw, "Powertools", "demo");
        assert_eq!(
            all_values(&cw.emf_with_metric("Greetings"), "Greetings"),
            [1.0, 1.0],
            "{level}: what the function wrote: {:#?}",
            out.stdout
        );
        assert_eq!(
            cw.emf_with_metric("ColdStart").len(),
            1,
            "{level}: {:#?}",
            out.stdout
        );
    }
}

/// No namespace anywhere (`hello-world` without `POWERTOOLS_METRICS_NAMESPACE`) and Lambda's
/// filter at ERROR: the warning that metrics are not written still reaches CloudWatch.
#[tokio::test]
async fn the_missing_namespace_warning_survives_the_error_filter() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .without_env("POWERTOOLS_METRICS_NAMESPACE")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_LAMBDA_LOG_LEVEL", "ERROR")
        .start()
        .await;
    answer(&mut f, &ScriptedEvent::new(json!({ "name": "Ada" }))).await;
    let out = f.stop().await;
    out.assert_every_line_is_one_json_event();
    let cw = out.cloudwatch();
    let warned = namespace_warnings(&cw);
    assert_eq!(
        warned.len(),
        1,
        "one line about the namespace in CloudWatch; the function wrote: {:#?}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Logger keys

/// `append_key` in a plain `tokio::spawn` (no invocation scope) is an error, and the key does
/// not show on the next invocation's lines.
#[tokio::test]
async fn an_unscoped_append_key_is_refused_and_does_not_leak() {
    let mut f = nothing_lost().start().await;
    let leak = ScriptedEvent::new(json!({ "case": "append_key_unscoped", "user_id": "u-leak" }));
    let said = answer(&mut f, &leak).await;
    let next = case("plain");
    answer(&mut f, &next).await;
    let out = f.stop().await;
    assert!(
        said["append_key"].is_string() && said["append_key"] != "Ok",
        "appending a key outside any invocation must be refused: {said}"
    );
    let cw = out.cloudwatch();
    let lines = cw.logs_for(&next.request_id);
    assert!(lines.iter().any(|l| l["message"] == "plain"), "{lines:#?}");
    let leaked: Vec<&&Value> = lines
        .iter()
        .filter(|l| l.get("user_id").is_some() || l.get("field_user_id").is_some())
        .collect();
    assert!(leaked.is_empty(), "{leaked:#?}");
}

// ---------------------------------------------------------------------------------------------
// Panics

/// `file:line` of a location written `file:line` or `file:line:column`.
fn file_line(location: &str) -> String {
    let mut parts = location.rsplitn(3, ':');
    let (last, middle) = (parts.next(), parts.next());
    match (last, middle, parts.next()) {
        (Some(col), Some(line), Some(file))
            if col.parse::<u32>().is_ok() && line.parse::<u32>().is_ok() =>
        {
            format!("{file}:{line}")
        }
        _ => location.to_owned(),
    }
}

/// The `file:line` a panic message of `nothing-lost` names (`… at file:line`).
fn own_location(message: &str) -> String {
    let (_, at) = message
        .rsplit_once(" at ")
        .unwrap_or_else(|| panic!("no location in {message:?}"));
    at.trim_end_matches('"').to_owned()
}

/// Every location an invocation reports for its panic: its `handler panicked` line's
/// `location`, and the `location` strings and stack frames of its `## handler` subsegment.
fn reported_locations(cw: &Captured, event: &ScriptedEvent) -> (String, Vec<String>) {
    let lines = cw.logs_for(&event.request_id);
    let panicked: Vec<&&Value> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("handler panicked"))
        })
        .collect();
    assert_eq!(panicked.len(), 1, "{}: {lines:#?}", event.body);
    let line = panicked[0];
    let mut found = Vec::new();
    if let Some(l) = line["location"].as_str() {
        found.push(file_line(l));
    }
    let docs: Vec<Value> = cw
        .xray_for_trace(event.trace_root().unwrap())
        .into_iter()
        .cloned()
        .collect();
    for d in &docs {
        assert_valid_xray(d);
    }
    let handler = powertools::testing::find_subsegment(&docs, "## handler")
        .unwrap_or_else(|| panic!("{}: no ## handler subsegment", event.body));
    collect_locations(handler, &mut found);
    (
        line["message"].as_str().unwrap_or_default().to_owned(),
        found,
    )
}

fn collect_locations(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let (Some(path), Some(line)) =
                (map.get("path").and_then(Value::as_str), map.get("line"))
            {
                out.push(format!("{path}:{line}"));
            }
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("location", Value::String(l)) => out.push(file_line(l)),
                    _ => collect_locations(child, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_locations(c, out)),
        _ => {}
    }
}

/// In one process (sequential mode: the handlers run on the same thread), a panic in the handler,
/// a panic resumed from an unscoped task, a panic the handler caught itself, and another resumed
/// one: each invocation reports its own panic's location (or, for a resumed one, none from this
/// function) — never where an earlier panic happened.
#[tokio::test]
async fn each_panic_reports_its_own_location() {
    let mut f = nothing_lost().start().await;
    let here = case("panic_here");
    failure(&mut f, &here).await;
    let spawned = case("spawn_panic");
    failure(&mut f, &spawned).await;
    let caught = answer(&mut f, &case("caught_panic")).await;
    assert_eq!(caught["caught"], true);
    let caught_at = caught["at"].as_str().unwrap().to_owned();
    let spawned_again = case("spawn_panic");
    failure(&mut f, &spawned_again).await;
    let out = f.stop().await;
    let cw = out.cloudwatch();

    let (message, at) = reported_locations(&cw, &here);
    let here_at = own_location(&message);
    assert!(!at.is_empty(), "panic_here reports no location");
    assert!(
        at.iter().all(|l| *l == here_at),
        "panic_here at {here_at}: {at:?}"
    );
    let source = here_at.rsplit_once(':').unwrap().0.to_owned();

    for (event, earlier) in [
        (&spawned, vec![here_at.clone()]),
        (&spawned_again, vec![here_at.clone(), caught_at.clone()]),
    ] {
        let (message, at) = reported_locations(&cw, event);
        let own = own_location(&message);
        for l in &at {
            assert!(
                !earlier.contains(l),
                "{}: reports {l}, where an earlier invocation panicked; its own panic is at {own}",
                event.request_id
            );
            assert!(
                *l == own || !l.starts_with(&source),
                "{}: reports {l}; its own panic is at {own}",
                event.request_id
            );
        }
    }
}
