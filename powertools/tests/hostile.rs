//! Hostile input: arbitrary Unicode, control characters, injection attempts, huge strings and
//! every kind of float (NaN, ±∞, subnormal, ±0, the extremes) into each place a user's data
//! reaches the toolkit — log messages, field names and values, appended keys, correlation ids,
//! metric names, units, values, dimensions and metadata, annotation keys and values, subsegment
//! names and metadata, trace headers, environment variables.
//!
//! Whatever the input: no panic; every log call is exactly one line of valid JSON whose
//! toolkit-owned keys (`level`, `message`, `service`, `function_request_id`, …) cannot be forged
//! or duplicated; every EMF document is valid against the EMF schema and its rules; every X-Ray
//! document is valid against the segment schema and fits a datagram; or the input is refused
//! with a typed error and nothing invalid is written.
#![cfg(feature = "testing")]

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, LambdaEvent};
use powertools::core::layer::InvocationLayer;
use powertools::core::output::MAX_LINE_BYTES;
use powertools::core::{Invocation, PowertoolsConfig, TraceHeader, TraceHeaderError};
use powertools::logger::{Logger, MemorySink, RESERVED_KEYS};
use powertools::metrics::{CaptureSink, Metrics, MetricsError, Unit};
use powertools::testing::{TestHarness, TestInvocation, find_subsegment};
use powertools::tracer::emitter::{MAX_DATAGRAM_BYTES, MemoryEmitter};
use powertools::tracer::{AnnotationError, AnnotationValue, TracerBuilder};
use powertools_e2e::schema::{emf_problems, xray_problems};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use tower::{Service, ServiceBuilder};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

// ---------------------------------------------------------------------------------------------
// Strategies

/// Strings meant to break a JSON writer or a line-oriented log pipeline.
const INJECTIONS: &[&str] = &[
    "\n{\"level\":\"ERROR\",\"message\":\"forged\"}",
    "\",\"level\":\"ERROR",
    "\"}\n{\"level\":\"ERROR\"}",
    "\r\n{\"service\":\"forged\",\"function_request_id\":\"forged\"}",
    "\u{2028}{\"level\":\"ERROR\"}\u{2029}",
    "{\"level\":\"ERROR\",\"function_request_id\":\"forged\"}",
    "  {\"level\":\"ERROR\"}  ",
    "\\u000a{\"level\":\"ERROR\"}",
    "\\\"level\\\":\\\"ERROR\\\"",
    "\u{0}\u{1}\u{1f}\u{7f}\u{85}\u{feff}\u{fffd}",
    "\u{d7ff}\u{e000}\u{10ffff}",
    "_aws",
    "",
    " ",
];

/// Arbitrary strings: any Unicode, printable, JSON-hostile characters, injections, reserved
/// names, and now and then a very long one.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => any::<String>(),
        6 => "\\PC{0,48}",
        6 => "[\"\\\\\n\r\t\u{0}-\u{1f}\u{7f}\u{2028}\u{2029}é🚀{}\\[\\]:,=;]{0,24}",
        4 => proptest::sample::select(INJECTIONS).prop_map(str::to_owned),
        4 => proptest::sample::select(&RESERVED_KEYS[..]).prop_map(str::to_owned),
        4 => "[A-Za-z_][A-Za-z0-9_]{0,16}",
        // Long: past CloudWatch's and X-Ray's limits now and then (a datagram is 64 KiB).
        1 => (any::<char>(), prop_oneof![3 => 1_000usize..8_000, 1 => 60_000usize..70_000])
            .prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// Every kind of float.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => proptest::num::f64::ANY,
        1 => proptest::num::f64::SUBNORMAL,
        1 => proptest::sample::select(vec![
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            -5e-324,
            0.0,
            -0.0,
            1e300,
            -1e-300,
        ]),
        2 => -1e6..1e6f64,
    ]
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

use powertools_e2e::capture::top_level_keys;

/// One raw log line: exactly one `\n`, at the end; no `\r`; a JSON object without duplicate
/// keys. Returns it parsed.
fn one_line(raw: &str) -> Result<Value, TestCaseError> {
    prop_assert!(raw.ends_with('\n'), "no final newline: {raw:?}");
    prop_assert_eq!(raw.matches('\n').count(), 1, "split line: {:?}", raw);
    prop_assert!(!raw.contains('\r'), "raw carriage return: {raw:?}");
    let keys = top_level_keys(raw).map_err(|e| TestCaseError::fail(format!("{e}: {raw:?}")))?;
    let mut seen = std::collections::BTreeSet::new();
    for k in &keys {
        prop_assert!(seen.insert(k), "key {k:?} twice in {raw:?}");
    }
    Ok(serde_json::from_str(raw).expect("checked above"))
}

/// What the logger writes as `message` for `text`: the object when `text` is a JSON object
/// (a logged event), else the string.
fn expected_message(text: &str) -> Value {
    let trimmed = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    match serde_json::from_str::<serde_json::Map<String, Value>>(trimmed) {
        Ok(object) if trimmed.starts_with('{') => Value::Object(object),
        _ => Value::String(text.to_owned()),
    }
}

/// Whether `written` is `expected` or — its line having been longer than one CloudWatch Logs
/// event holds (`MAX_LINE_BYTES`), so shortened to fit — a beginning of it followed by
/// `…[truncated N bytes]`, N counting the rest. A JSON-object message shortened becomes a string
/// of the beginning of its JSON text. A message may also end with `…[left out K keys, N bytes]`
/// (a key too long to keep). `line_len`: the length of the line as written; a line with shortened
/// values was filled up to the limit, so at least half of it.
fn kept_or_shortened(written: &Value, expected: &Value, line_len: usize) -> bool {
    const MARKER: &str = "\u{2026}[truncated ";
    const LEFT_OUT: &str = "\u{2026}[left out ";
    if written == expected {
        return true;
    }
    let Some(mut text) = written.as_str() else {
        return false;
    };
    // Keys left out (their line, once without them, can be short): the message says so.
    if let Some(at) = text.rfind(LEFT_OUT)
        && text.ends_with(" bytes]")
    {
        text = &text[..at];
        let rest = Value::from(text);
        if rest == *expected
            || matches!(expected, Value::Object(_))
                && text.starts_with('{')
                && !text.contains(MARKER)
        {
            return true;
        }
    }
    let Some(at) = text.rfind(MARKER) else {
        return false;
    };
    let Some(removed) = text[at + MARKER.len()..]
        .strip_suffix(" bytes]")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return false;
    };
    let kept = &text[..at];
    let shortened = match expected {
        Value::String(original) => {
            original.starts_with(kept) && kept.len() + removed == original.len()
        }
        Value::Object(_) => kept.starts_with('{'),
        _ => false,
    };
    shortened && line_len > MAX_LINE_BYTES / 2
}

/// At most the first 300 bytes of `value`'s JSON text, for messages.
fn short(value: &Value) -> String {
    let mut text = value.to_string();
    let mut end = text.len().min(300);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

/// The key under which a user-supplied name is written: reserved names are prefixed.
fn written_name(name: &str) -> String {
    if RESERVED_KEYS.contains(&name) {
        format!("field_{name}")
    } else {
        name.to_owned()
    }
}

/// A float as JSON after a round trip, compared with what was given.
fn same_float(written: &Value, given: f64) -> bool {
    match written.as_f64() {
        Some(w) if given.is_finite() => {
            (w - given).abs() <= f64::EPSILON * given.abs().max(f64::MIN_POSITIVE)
        }
        Some(_) => false,
        None => !given.is_finite(),
    }
}

fn no_problems(kind: &str, doc: &Value, problems: &[String]) -> Result<(), TestCaseError> {
    prop_assert!(problems.is_empty(), "invalid {kind} {doc}: {problems:#?}");
    Ok(())
}

fn valid_emf(docs: &[Value]) -> Result<(), TestCaseError> {
    for doc in docs {
        no_problems("EMF document", doc, &emf_problems(doc))?;
    }
    Ok(())
}

fn valid_xray(docs: &[Value]) -> Result<(), TestCaseError> {
    for doc in docs {
        no_problems("X-Ray document", doc, &xray_problems(doc))?;
    }
    Ok(())
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

// ---------------------------------------------------------------------------------------------
// Logger, metrics and tracer together, through `powertools::testing`

#[derive(Debug, Clone)]
enum Annotation {
    Text(String),
    Float(f64),
    Int(i64),
    UInt(u64),
    Bool(bool),
}

impl From<Annotation> for AnnotationValue {
    fn from(a: Annotation) -> Self {
        match a {
            Annotation::Text(s) => s.into(),
            Annotation::Float(f) => f.into(),
            Annotation::Int(i) => i.into(),
            Annotation::UInt(u) => u.into(),
            Annotation::Bool(b) => b.into(),
        }
    }
}

fn annotation() -> impl Strategy<Value = Annotation> {
    prop_oneof![
        3 => text().prop_map(Annotation::Text),
        2 => float().prop_map(Annotation::Float),
        1 => any::<i64>().prop_map(Annotation::Int),
        1 => any::<u64>().prop_map(Annotation::UInt),
        1 => any::<bool>().prop_map(Annotation::Bool),
    ]
}

fn annotation_key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[A-Za-z0-9_]{1,40}",
        1 => "[A-Za-z0-9_]{495,505}",
        2 => text(),
    ]
}

#[derive(Debug, Clone)]
struct Input {
    message: String,
    text: String,
    float: f64,
    int: i64,
    key: String,
    correlation: String,
    metric: String,
    unit: usize,
    value: f64,
    dimension: (String, String),
    metadata: (String, String),
    annotation: (String, Annotation),
    trace_metadata: String,
    subsegment_name: String,
}

fn input() -> impl Strategy<Value = Input> {
    (
        (text(), text(), float(), any::<i64>(), text(), text()),
        (
            text(),
            0..Unit::ALL.len(),
            float(),
            (text(), text()),
            (text(), text()),
        ),
        ((annotation_key(), annotation()), text(), text()),
    )
        .prop_map(
            |(
                (message, text, float, int, key, correlation),
                (metric, unit, value, dimension, metadata),
                (annotation, trace_metadata, subsegment_name),
            )| Input {
                message,
                text,
                float,
                int,
                key,
                correlation,
                metric,
                unit,
                value,
                dimension,
                metadata,
                annotation,
                trace_metadata,
                subsegment_name,
            },
        )
}

/// The field names the hostile handler's log calls and spans use.
const FIELD_NAMES: &[&str] = &[
    "level",
    "service",
    "function_request_id",
    "xray_trace_id",
    "cold_start",
    "timestamp",
    "message",
    "float",
    "big",
    "small",
    "detail",
    "value",
];

/// Which of the handler's calls were accepted.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Accepted {
    key: bool,
    metric: bool,
    dimension: bool,
    metadata: bool,
    annotation: bool,
    trace_metadata: bool,
}

fn typed<E: std::error::Error>(r: Result<(), E>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "an error with a message");
            false
        }
    }
}

/// Feeds `input` to every API a handler uses, inside `TestHarness`.
fn invoke_hostile(
    harness: &TestHarness,
    input: Input,
) -> TestInvocation<Value, lambda_runtime::Error> {
    let input = Arc::new(input);
    let handler = move |_event: LambdaEvent<Value>| {
        let i = Arc::clone(&input);
        async move {
            let mut ok = Accepted::default();
            assert!(powertools::logger::set_correlation_id(&i.correlation));
            ok.key = typed(powertools::logger::append_key(&i.key, &i.text));
            // Fields named like the logger's own keys, with hostile values.
            tracing::info!(
                level = i.text.as_str(),
                service = %i.text,
                function_request_id = ?i.text,
                xray_trace_id = i.int,
                cold_start = i.float,
                timestamp = i.text.as_str(),
                "{}",
                i.message
            );
            tracing::warn!(
                message = i.message.as_str(),
                float = i.float,
                big = u128::MAX,
                small = i128::MIN
            );
            let step = tracing::info_span!(
                "step",
                detail = %i.text,
                float = i.float,
                xray.annotation.Detail = i.text.as_str(),
            );
            step.in_scope(|| {
                let metrics = powertools::metrics::current();
                ok.metric = typed(metrics.add_metric(&i.metric, Unit::ALL[i.unit], i.value));
                ok.dimension = typed(metrics.add_dimension(&i.dimension.0, &i.dimension.1));
                ok.metadata = typed(metrics.add_metadata(&i.metadata.0, &i.metadata.1));
                ok.annotation = typed(powertools::tracer::put_annotation(
                    &i.annotation.0,
                    i.annotation.1.clone(),
                ));
                ok.trace_metadata =
                    typed(powertools::tracer::put_metadata(&i.trace_metadata, &i.text));
                tracing::error!(detail = ?i.text, "in the step: {}", i.message);
                tracing::info_span!("named", xray.name = %i.subsegment_name, value = i.float)
                    .in_scope(|| tracing::debug!("inside"));
            });
            Ok::<Value, lambda_runtime::Error>(serde_json::to_value(&ok)?)
        }
    };
    RUNTIME.block_on(harness.invoke(handler, Value::Null))
}

/// The log lines of a hostile run: one line per call, the toolkit's keys intact.
fn check_hostile_logs(
    i: &Input,
    run: &TestInvocation<Value, lambda_runtime::Error>,
    ok: &Accepted,
) -> Result<(), TestCaseError> {
    let levels = ["INFO", "WARN", "ERROR"];
    prop_assert_eq!(run.logs.len(), levels.len(), "{:#?}", run.logs);
    // A line longer than one CloudWatch Logs event has its largest values shortened.
    let fits = |line: &Value, key: &str, expected: &Value| {
        kept_or_shortened(&line[key], expected, line.to_string().len())
    };
    for (line, level) in run.logs.iter().zip(levels) {
        prop_assert!(line.is_object(), "not one JSON object: {line}");
        prop_assert_eq!(&line["level"], level);
        prop_assert_eq!(&line["service"], "test-service");
        prop_assert_eq!(&line["function_request_id"], run.request_id.as_str());
        prop_assert_eq!(&line["xray_trace_id"], run.trace_id.as_str());
        prop_assert!(line["cold_start"].is_boolean());
        prop_assert!(
            line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        prop_assert!(
            fits(line, "correlation_id", &Value::from(i.correlation.as_str())),
            "{}",
            short(&line["correlation_id"])
        );
        let name = written_name(&i.key);
        // A field of the log call or of its spans shadows an appended key of the same name.
        if ok.key && !FIELD_NAMES.contains(&i.key.as_str()) && !i.key.starts_with("field_") {
            // A key too long for the line is left out, and the message says so.
            let left_out = line.get(name.as_str()).is_none()
                && line["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("\u{2026}[left out "));
            prop_assert!(
                left_out || fits(line, name.as_str(), &Value::from(i.text.as_str())),
                "appended key {:.100?}: {}",
                i.key,
                short(&line[name.as_str()])
            );
        }
    }
    let (first, second, third) = (&run.logs[0], &run.logs[1], &run.logs[2]);
    let text = Value::from(i.text.as_str());
    let message = expected_message(&i.message);
    prop_assert!(
        fits(first, "message", &message),
        "{}",
        short(&first["message"])
    );
    prop_assert!(
        fits(first, "field_level", &text),
        "{}",
        short(&first["field_level"])
    );
    prop_assert!(
        fits(first, "field_service", &text),
        "{}",
        short(&first["field_service"])
    );
    let debugged = Value::from(format!("{:?}", i.text));
    prop_assert!(
        fits(first, "field_function_request_id", &debugged),
        "{}",
        short(&first["field_function_request_id"])
    );
    prop_assert!(
        fits(first, "field_timestamp", &text),
        "{}",
        short(&first["field_timestamp"])
    );
    prop_assert!(
        fits(second, "message", &message),
        "{}",
        short(&second["message"])
    );
    prop_assert!(
        same_float(&second["float"], i.float)
            || !i.float.is_finite()
            || fits(second, "float", &Value::from(format!("{}", i.float))),
        "{}",
        short(second)
    );
    let in_step = Value::from(format!("in the step: {}", i.message));
    prop_assert!(
        fits(third, "message", &in_step),
        "{}",
        short(&third["message"])
    );
    Ok(())
}

fn check_hostile_run(
    i: &Input,
    run: &TestInvocation<Value, lambda_runtime::Error>,
) -> Result<(), TestCaseError> {
    let ok: Accepted = match &run.result {
        Ok(v) => serde_json::from_value(v.clone()).expect("flags"),
        Err(e) => return Err(TestCaseError::fail(format!("the handler failed: {e}"))),
    };

    check_hostile_logs(i, run, &ok)?;

    // Metrics: every document valid; what was accepted is there.
    valid_emf(&run.metrics)?;
    if ok.metric {
        let doc = run
            .metrics
            .iter()
            .find(|d| d.get("ColdStart").is_none())
            .expect("the invocation's document");
        prop_assert!(same_float(&doc[i.metric.as_str()], i.value), "{doc}");
        if ok.dimension {
            prop_assert_eq!(&doc[i.dimension.0.as_str()], i.dimension.1.as_str());
        }
        if ok.metadata {
            prop_assert_eq!(&doc[i.metadata.0.as_str()], i.metadata.1.as_str());
        }
    }

    // X-Ray: every document valid; the step carries the accepted annotation.
    valid_xray(&run.traces)?;
    let handler = find_subsegment(&run.traces, "## handler").expect("the handler's subsegment");
    prop_assert_eq!(&handler["trace_id"], run.trace_id.as_str());
    let step = find_subsegment(&run.traces, "step").expect("the step's subsegment");
    // A subsegment too big for a datagram is sent without its metadata and annotations, with a
    // note saying so.
    let truncated = step["metadata"]["powertools"]["truncated"].is_string();
    if ok.annotation && !truncated {
        let written = &step["annotations"][i.annotation.0.as_str()];
        let same = match &i.annotation.1 {
            Annotation::Text(s) => written == s.as_str(),
            Annotation::Float(f) => same_float(written, *f),
            Annotation::Int(n) => written == n,
            Annotation::UInt(n) => written == n,
            Annotation::Bool(b) => written == b,
        };
        prop_assert!(
            same,
            "annotation {:?} = {:?} written as {written} in {step}",
            i.annotation.0,
            i.annotation.1
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(768))]

    /// Logger, metrics and tracer in one handler, fed hostile input.
    #[test]
    fn one_hostile_invocation_writes_one_line_per_log_call_and_valid_documents(i in input()) {
        static HARNESS: LazyLock<TestHarness> = LazyLock::new(TestHarness::new);
        let run = invoke_hostile(&HARNESS, i.clone());
        check_hostile_run(&i, &run)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The logger alone, on raw lines

proptest! {
    #![proptest_config(cases(1024))]

    /// Raw lines: whatever the message, field values, span fields and numbers, one log call is
    /// one line, a JSON object, without a duplicate or forged key.
    #[test]
    fn one_log_call_is_one_line_without_duplicate_or_forged_keys(
        message in text(),
        value in text(),
        name in text(),
        float in float(),
        int in any::<i128>(),
        uint in any::<u128>(),
    ) {
        let sink = MemorySink::new();
        let (layer, _hook) = Logger::new()
            .service("svc")
            .sink(sink.clone())
            .into_layer_and_hook();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&dispatch, || {
            Invocation::for_test("req-1").sync_scope(|| {
                let _ = powertools::logger::append_key(&name, &value);
                let outer = tracing::info_span!("outer", detail = %value, level = %value, float);
                outer.in_scope(|| {
                    tracing::info!(level = %value, service = value.as_str(), location = int,
                        detail = %value, float, int, uint, "{}", message);
                    tracing::error!(message = %message, message_object = ?value, float = f64::NAN);
                    tracing::warn!("{message}{value}");
                });
            });
        });
        let lines = sink.lines();
        prop_assert_eq!(lines.len(), 3, "{:#?}", lines);
        for (raw, level) in lines.iter().zip(["INFO", "ERROR", "WARN"]) {
            let line = one_line(raw)?;
            prop_assert_eq!(&line["level"], level);
            prop_assert_eq!(&line["service"], "svc");
            prop_assert_eq!(&line["function_request_id"], "req-1");
            prop_assert!(line["location"].is_string());
            prop_assert!(line["timestamp"].is_string());
        }
        // A line longer than one CloudWatch Logs event has its largest values shortened.
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        let expected = expected_message(&message);
        prop_assert!(kept_or_shortened(&first["message"], &expected, lines[0].len()), "{}", short(&first["message"]));
        prop_assert!(
            kept_or_shortened(&first["field_level"], &Value::from(value.as_str()), lines[0].len()),
            "{}",
            short(&first["field_level"])
        );
        // A float is written as Rust's `{}` writes it: a subnormal is hundreds of digits long.
        prop_assert!(
            same_float(&first["float"], float)
                || !float.is_finite()
                || kept_or_shortened(&first["float"], &Value::from(format!("{float}")), lines[0].len()),
            "{}",
            short(&first)
        );
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        prop_assert!(kept_or_shortened(&second["message"], &expected, lines[1].len()), "{}", short(&second["message"]));
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics alone: the parts the handle's other properties do not reach

#[derive(Debug, Clone)]
enum MetadataValue {
    Text(String),
    Float(f64),
    Nested(Vec<(String, f64)>),
}

impl serde::Serialize for MetadataValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(t) => s.serialize_str(t),
            Self::Float(f) => s.serialize_f64(*f),
            Self::Nested(pairs) => s.collect_map(pairs.iter().map(|(k, v)| (k, v))),
        }
    }
}

fn metadata_value() -> impl Strategy<Value = MetadataValue> {
    prop_oneof![
        text().prop_map(MetadataValue::Text),
        float().prop_map(MetadataValue::Float),
        proptest::collection::vec((text(), float()), 0..4).prop_map(MetadataValue::Nested),
    ]
}

proptest! {
    #![proptest_config(cases(1024))]

    /// Hostile namespaces, services, default dimensions, single metrics, metadata of any shape,
    /// timestamps and values: every document written is valid EMF, every refusal typed, every
    /// accepted value written.
    #[test]
    fn metrics_documents_are_valid_or_refused_with_a_typed_error(
        namespace in prop_oneof![3 => "[A-Za-z][A-Za-z0-9/_.#:-]{0,40}", 1 => text()],
        service in prop_oneof![3 => "[a-z-]{1,20}", 1 => text()],
        default_dimension in (text(), text()),
        name in prop_oneof!["[A-Za-z][A-Za-z0-9_.]{0,20}", text()],
        unit in 0..Unit::ALL.len(),
        values in proptest::collection::vec(float(), 1..5),
        dimension in (text(), text()),
        metadata in (text(), metadata_value()),
        seconds in prop_oneof![
            3 => 0u64..4_000_000_000,
            1 => any::<u64>(),
            1 => proptest::sample::select(vec![i64::MAX as u64, i64::MAX as u64 - 86_400, u64::MAX, 1 << 40]),
        ],
    ) {
        let sink = CaptureSink::new();
        let built = Metrics::builder()
            .namespace(namespace)
            .service(service)
            .default_dimension(default_dimension.0, default_dimension.1)
            .capture_cold_start_metric(false)
            .warn_on_empty_metrics(false)
            .sink(sink.clone())
            .build();
        let Ok(metrics) = built else {
            prop_assert!(!built.unwrap_err().to_string().is_empty());
            return Ok(());
        };
        let unit = Unit::ALL[unit];
        let mut accepted = 0;
        for v in &values {
            accepted += usize::from(typed(metrics.add_metric(&name, unit, *v)));
        }
        typed(metrics.add_dimension(&dimension.0, &dimension.1));
        typed(metrics.add_metadata(&metadata.0, &metadata.1));
        if let Some(time) = UNIX_EPOCH.checked_add(Duration::from_secs(seconds)) {
            typed(metrics.set_timestamp(time));
        }
        let _ = metrics.flush();
        let mut single = metrics
            .single_metric(&name, unit, values[0])
            .dimension(dimension.0.clone(), dimension.1.clone())
            .metadata(metadata.0.clone(), &metadata.1);
        for v in &values[1..] {
            single = single.value(*v);
        }
        let single_ok = typed(single.emit());

        let docs = sink.documents();
        valid_emf(&docs)?;
        let written: usize = docs
            .iter()
            .map(|d| match &d[name.as_str()] {
                Value::Array(a) => a.len(),
                Value::Number(_) => 1,
                _ => 0,
            })
            .sum();
        let single_values = if single_ok { values.len() } else { 0 };
        prop_assert_eq!(written, accepted + single_values, "{:#?}", docs);
    }
}

// ---------------------------------------------------------------------------------------------
// Annotations, metadata and subsegment names, on the tracer's emitter

proptest! {
    #![proptest_config(cases(1024))]

    /// Annotation keys and values, metadata of any shape and size, subsegment names and span
    /// fields: every datagram fits, every document is valid X-Ray, a refused annotation is a
    /// typed error and an accepted one is written as given.
    #[test]
    fn trace_documents_are_valid_whatever_the_annotations_and_metadata(
        annotations in proptest::collection::vec((annotation_key(), annotation()), 1..6),
        metadata in proptest::collection::vec((text(), metadata_value()), 0..4),
        name in text(),
        status in any::<u64>(),
        url in text(),
    ) {
        let emitter = MemoryEmitter::new();
        let tracer = TracerBuilder::from_config(&PowertoolsConfig::from_lookup(|_| None).0)
            .service("svc")
            .enabled(true)
            .emitter(emitter.clone())
            .build();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(tracer.layer()));
        let layer = InvocationLayer::new().hook(tracer.hook());
        let annotations = Arc::new(annotations);
        let metadata = Arc::new(metadata);
        let (a, m, n, u) = (Arc::clone(&annotations), Arc::clone(&metadata), name.clone(), url.clone());
        let handler = move |_event: LambdaEvent<Value>| {
            let (a, m, n, u) = (Arc::clone(&a), Arc::clone(&m), n.clone(), u.clone());
            async move {
                let mut accepted = BTreeMap::new();
                tracing::info_span!("call", xray.name = %n, http.url = %u, http.status_code = status)
                    .in_scope(|| {
                        for (key, value) in a.iter() {
                            let result: Result<(), AnnotationError> =
                                powertools::tracer::put_annotation(key, value.clone());
                            if typed(result) {
                                accepted.insert(key.clone(), value.clone());
                            }
                        }
                        for (key, value) in m.iter() {
                            typed(powertools::tracer::put_metadata(key, value));
                        }
                    });
                Ok::<_, lambda_runtime::Error>(format!("{accepted:?}"))
            }
        };
        let mut service = ServiceBuilder::new().layer(layer).service(lambda_runtime::service_fn(handler));
        let event = LambdaEvent::new(Value::Null, context("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"));
        let future = tracing::dispatcher::with_default(&dispatch, || service.call(event));
        let result = RUNTIME.block_on(future.with_subscriber(dispatch.clone()));
        prop_assert!(result.is_ok());

        let datagrams = emitter.datagrams();
        prop_assert!(!datagrams.is_empty());
        for d in &datagrams {
            prop_assert!(d.len() <= MAX_DATAGRAM_BYTES, "{} bytes", d.len());
        }
        let docs = emitter.documents();
        valid_xray(&docs)?;
        prop_assert!(find_subsegment(&docs, "## handler").is_some());
        // The last value given for each valid key is on the call's subsegment, unless the
        // document had to shed it to fit a datagram.
        let mut last = BTreeMap::new();
        for (key, value) in annotations.iter() {
            if AnnotationValue::from(value.clone()).validate(key).is_ok() {
                last.insert(key.clone(), value.clone());
            }
        }
        let call = docs
            .iter()
            .flat_map(|d| std::iter::once(d).chain(d["subsegments"].as_array().into_iter().flatten()))
            .find(|d| d["name"] != "## handler");
        if let Some(call) = call {
            for (key, value) in &last {
                let written = &call["annotations"][key.as_str()];
                if written.is_null() {
                    continue;
                }
                let same = match value {
                    Annotation::Text(s) => written == s.as_str(),
                    Annotation::Float(f) => same_float(written, *f),
                    Annotation::Int(n) => written == n,
                    Annotation::UInt(n) => written == n,
                    Annotation::Bool(b) => written == b,
                };
                prop_assert!(same, "{key:?} = {value:?} written as {written}");
            }
        }
    }
}

/// A Lambda context with `trace_header`.
fn context(trace_header: &str) -> Context {
    let mut c = Context::default();
    "00000000-0000-4000-8000-000000000001".clone_into(&mut c.request_id);
    "arn:aws:lambda:us-east-1:123456789012:function:hostile"
        .clone_into(&mut c.invoked_function_arn);
    c.deadline = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        + 30_000;
    c.xray_trace_id = Some(trace_header.to_owned());
    c
}

// ---------------------------------------------------------------------------------------------
// Trace headers

/// Headers: arbitrary text, fields with plausible keys and hostile values, and valid headers
/// with one character changed.
fn header() -> impl Strategy<Value = String> {
    let valid = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5";
    prop_oneof![
        2 => any::<String>(),
        2 => "\\PC{0,120}",
        3 => proptest::collection::vec(
            (
                proptest::sample::select(vec!["Root", "Parent", "Sampled", "Lineage", "Self", "root", " Root", ""]),
                prop_oneof![
                    "[0-9a-fA-F]{0,30}",
                    "1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}",
                    "1-[0-9a-fé]{8}-[0-9a-f]{24}",
                    "[0-9a-f]{16}",
                    "[01?]",
                    "[\\-=;é \u{0}]{0,6}",
                ],
            ),
            0..5,
        )
        .prop_map(|fields| fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";")),
        3 => (0..valid.len(), any::<char>(), 0..3u8).prop_map(move |(at, c, op)| {
            let mut s: Vec<char> = valid.chars().collect();
            match op {
                0 => { s.remove(at); }
                1 => s.insert(at, c),
                _ => s[at] = c,
            }
            s.into_iter().collect()
        }),
    ]
}

fn is_root(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0] == "1"
        && parts[1].len() == 8
        && parts[2].len() == 24
        && parts[1..]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

proptest! {
    #![proptest_config(cases(2000))]

    /// A header parses into valid parts that print back to the same header, or is a typed
    /// error; never a panic.
    #[test]
    fn trace_headers_parse_to_valid_parts_or_a_typed_error(h in header()) {
        match h.parse::<TraceHeader>() {
            Ok(parsed) => {
                prop_assert!(is_root(parsed.root()), "{:?}", parsed.root());
                if let Some(p) = parsed.parent() {
                    prop_assert!(p.len() == 16 && p.bytes().all(|b| b.is_ascii_hexdigit()));
                }
                let again: TraceHeader = parsed.to_string().parse().expect("prints back to a header");
                prop_assert_eq!(again, parsed);
            }
            Err(e) => {
                prop_assert!(matches!(
                    e,
                    TraceHeaderError::MissingRoot
                        | TraceHeaderError::InvalidRoot(_)
                        | TraceHeaderError::InvalidParent(_)
                        | TraceHeaderError::InvalidSampled(_)
                        | TraceHeaderError::MalformedField(_)
                ));
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(cases(512))]

    /// The same headers handed to an invocation: the handler runs; a sampled valid header gives
    /// valid documents of its trace, anything else runs untraced; log lines carry the trace id
    /// only of a valid header.
    #[test]
    fn invocations_with_hostile_trace_headers_run_and_stay_valid(h in header()) {
        static HARNESS: LazyLock<TestHarness> = LazyLock::new(TestHarness::new);
        let mut ctx = HARNESS.context();
        ctx.xray_trace_id = Some(h.clone());
        let run = RUNTIME.block_on(HARNESS.invoke_with(
            |_event: LambdaEvent<Value>| async {
                tracing::info!("handled");
                tracing::info_span!("step").in_scope(|| ());
                Ok::<_, lambda_runtime::Error>(Value::Null)
            },
            LambdaEvent::new(Value::Null, ctx),
        ));
        prop_assert!(run.result.is_ok());
        prop_assert_eq!(run.logs.len(), 1);
        let line = &run.logs[0];
        valid_emf(&run.metrics)?;
        valid_xray(&run.traces)?;
        if let Ok(parsed) = h.parse::<TraceHeader>() {
            prop_assert_eq!(&line["xray_trace_id"], parsed.root());
            if parsed.sampled() == Some(true) && parsed.parent().is_some() {
                prop_assert!(find_subsegment(&run.traces, "## handler").is_some());
            }
            for doc in &run.traces {
                prop_assert_eq!(&doc["trace_id"], parsed.root());
            }
        } else {
            prop_assert!(line.get("xray_trace_id").is_none(), "{line}");
            prop_assert!(run.traces.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The environment

/// Every variable the toolkit reads.
const VARIABLES: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_MAX_CONCURRENCY",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_XRAY_DAEMON_ADDRESS",
    "AWS_LAMBDA_RUNTIME_API",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "LOG_LEVEL",
    "POWERTOOLS_LOGGER_SAMPLE_RATE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "POWERTOOLS_DEV",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_METRICS_FUNCTION_NAME",
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
    "POWERTOOLS_TRACER_CAPTURE_ERROR",
];

/// Values close to valid ones, and hostile ones.
fn env_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(),
        3 => proptest::sample::select(vec![
            "true", " TRUE ", "1", "0", "yes", "off", "tru", "-1", "0.5", "1.0000001", "NaN",
            "inf", "-0", "1e-320", "64", "0", "4294967296", "99999999999999999999", "debug",
            "WARNING", "critical", "on-demand", "snap-start", "provisioned-concurrency",
            "127.0.0.1:2000", "tcp:127.0.0.1:2000 udp:127.0.0.1:2001", "[::1]:2000", ":0",
            "Shop", "payment", "JSON", "Text",
        ])
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    /// Hostile values in any of the toolkit's variables: at most one typed warning per
    /// variable, defaults kept, and the logger, metrics and tracer built from the result run an
    /// invocation writing valid output (or the metrics are refused with a typed error).
    #[test]
    fn hostile_environment_values_warn_once_each_and_the_toolkit_still_works(
        vars in proptest::collection::btree_map(proptest::sample::select(VARIABLES), env_value(), 0..10),
    ) {
        let (config, warnings) = PowertoolsConfig::from_lookup(|k| vars.get(k).cloned());
        let mut warned = std::collections::BTreeSet::new();
        for w in &warnings {
            prop_assert!(warned.insert(w.variable), "{} warned twice", w.variable);
            prop_assert_eq!(Some(&w.value), vars.get(w.variable), "the warning carries the value");
            prop_assert!(w.to_string().contains(w.variable));
        }
        let p = &config.powertools;
        prop_assert!((0.0..=1.0).contains(&p.logger_sample_rate));
        prop_assert!(config.lambda.max_concurrency >= 1);
        match vars.get("POWERTOOLS_SERVICE_NAME") {
            Some(v) if !v.trim().is_empty() => prop_assert_eq!(&p.service_name, v),
            _ => prop_assert_eq!(p.service_name.as_str(), "service_undefined"),
        }

        // The whole toolkit, configured from it.
        let lines = MemorySink::new();
        let (logger_layer, logger_hook) = Logger::from_config(&config).sink(lines.clone()).into_layer_and_hook();
        let emf = CaptureSink::new();
        let metrics = Metrics::builder().environment(&config).sink(emf.clone()).warn_on_empty_metrics(false).build();
        let xray = MemoryEmitter::new();
        let tracer = TracerBuilder::from_config(&config).enabled(true).emitter(xray.clone()).build();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(logger_layer).with(tracer.layer()));
        let mut layer = InvocationLayer::new().hook(logger_hook).hook(tracer.hook());
        let handle = match metrics {
            Ok(m) => {
                layer = layer.hook(m.invocation_hook());
                Some(m)
            }
            Err(e) => {
                prop_assert!(
                    matches!(e, MetricsError::MissingNamespace | MetricsError::InvalidName { .. }),
                    "{e:?}"
                );
                None
            }
        };
        let h = handle.clone();
        let handler = move |_event: LambdaEvent<Value>| {
            let h = h.clone();
            async move {
                tracing::error!(service = "forged", "from a hostile environment");
                if let Some(m) = h {
                    let _ = m.add_metric("Hostile", Unit::Count, 1.0);
                }
                Ok::<_, lambda_runtime::Error>(json!({ "ok": true }))
            }
        };
        let mut service = ServiceBuilder::new().layer(layer).service(lambda_runtime::service_fn(handler));
        let event = LambdaEvent::new(Value::Null, context("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"));
        let future = tracing::dispatcher::with_default(&dispatch, || service.call(event));
        let result = RUNTIME.block_on(future.with_subscriber(dispatch.clone()));
        prop_assert!(result.is_ok());

        let raw = lines.lines();
        prop_assert!(!raw.is_empty(), "an ERROR line is always written");
        let mut errors = 0;
        for r in &raw {
            // POWERTOOLS_DEV pretty-prints, on purpose: still one JSON object per call.
            let line = if p.dev {
                serde_json::from_str::<Value>(r).map_err(|e| TestCaseError::fail(format!("{e}: {r}")))?
            } else {
                one_line(r)?
            };
            if line["location"] == "powertools_logger" {
                // The logger's own warning about its configuration: WARN, or the level Lambda's
                // filter keeps (ERROR under AWS_LAMBDA_LOG_LEVEL=ERROR) when it says lines are lost.
                continue;
            }
            // The handler's line, and the event's when POWERTOOLS_LOGGER_LOG_EVENT is on.
            // A service name too long for one CloudWatch Logs event is shortened.
            prop_assert!(
                kept_or_shortened(&line["service"], &Value::from(p.service_name.as_str()), r.len()),
                "{}",
                short(&line)
            );
            if line["level"] == "ERROR" {
                errors += 1;
                prop_assert_eq!(&line["field_service"], "forged");
            }
        }
        prop_assert_eq!(errors, 1);
        let docs = emf.documents();
        valid_emf(&docs)?;
        if handle.as_ref().is_some_and(|m| !m.is_disabled()) {
            prop_assert!(docs.iter().any(|d| d["Hostile"] == 1.0), "{docs:#?}");
        }
        for d in xray.datagrams() {
            prop_assert!(d.len() <= MAX_DATAGRAM_BYTES);
        }
        valid_xray(&xray.documents())?;
    }
}
