//! Every line fits one CloudWatch Logs event (`MAX_LINE_BYTES`) and stays one JSON object: the
//! largest values of a longer line are shortened, each with a marker saying how much went.

mod common;

use std::error::Error;
use std::fmt;

use common::{RawSink, assert_fits, assert_shortened, install, json, keys, logger};
use powertools_core::output::MAX_LINE_BYTES;
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_logger::{LogRecord, Logger};
use serde_json::Value;

fn lambda_invocation() -> Invocation {
    let header: TraceHeader =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            .parse()
            .unwrap();
    Invocation::new(
        InvocationContext::for_test("c6af9ac6-7b61-11e6-9a41-93e812345678", "payment-fn")
            .with_trace_header(Some(header))
            .with_cold_start(true)
            .with_tenant_id(Some("tenant-a".into())),
    )
}

/// A logger writing to a raw sink.
fn raw_logger() -> (Logger, RawSink) {
    let (logger, _) = logger(&[("POWERTOOLS_SERVICE_NAME", "payment")]);
    let sink = RawSink::default();
    (logger.sink(sink.clone()), sink)
}

/// `len` bytes or a little more of text mixing multi-byte characters and characters JSON escapes.
fn big_text(len: usize) -> String {
    let unit = "order é🚀 \"quoted\" \\ back\nslash\t\u{1}|";
    unit.repeat(len / unit.len() + 1)
}

const CONTEXT_KEYS: [&str; 11] = [
    "level",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
    "xray_trace_id",
    "tenant_id",
    "sampling_rate",
];

#[test]
fn a_line_over_the_limit_is_shortened_to_one_event_with_the_context_keys_intact() {
    let (logger, sink) = raw_logger();
    let (dispatch, _hook) = install(logger);
    let message = big_text(400_000);
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            powertools_logger::set_correlation_id("corr-1");
            powertools_logger::append_key("order_id", "o-1").unwrap();
            tracing::info!(amount = 12.5, "short");
            tracing::info!(amount = 12.5, "{message}");
        });
    });
    let lines = sink.lines();
    let (short, long) = (json(&lines[0]), assert_fits(&lines[1]));
    assert!(lines[1].len() > MAX_LINE_BYTES - 1_000, "the room is used");
    assert_eq!(keys(&lines[1]), keys(&lines[0]), "same keys, same order");
    for key in CONTEXT_KEYS {
        assert_eq!(long[key], short[key], "{key}");
    }
    assert!(
        long["location"]
            .as_str()
            .unwrap()
            .contains("tests/limits.rs:")
    );
    assert!(long["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(long["order_id"], "o-1");
    assert_eq!(long["amount"], 12.5);
    assert_shortened(&long["message"], &message);
}

#[test]
fn the_largest_values_are_shortened_and_the_smaller_ones_kept_whole() {
    let (logger, sink) = raw_logger();
    let (dispatch, _hook) = install(logger);
    let (big, appended, medium) = (big_text(300_000), big_text(200_000), big_text(50_000));
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            powertools_logger::append_key("appended", &appended).unwrap();
            tracing::info!(
                big = big.as_str(),
                medium = medium.as_str(),
                small = "s",
                "charged"
            );
        });
    });
    let line = assert_fits(&sink.lines()[0]);
    assert_eq!(line["message"], "charged");
    assert_eq!(line["small"], "s");
    assert_eq!(line["medium"], medium.as_str());
    assert_shortened(&line["big"], &big);
    assert_shortened(&line["appended"], &appended);
}

#[test]
fn a_huge_json_value_becomes_a_string_of_its_shortened_json() {
    let (logger, sink) = raw_logger();
    let (dispatch, _hook) = install(logger);
    let payload = serde_json::json!({ "items": (0..60_000).collect::<Vec<u32>>() });
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            powertools_logger::append_key("payload", &payload).unwrap();
            tracing::info!("{}", payload.to_string());
        });
    });
    let line = assert_fits(&sink.lines()[0]);
    assert_eq!(
        line["function_request_id"],
        "c6af9ac6-7b61-11e6-9a41-93e812345678"
    );
    let text = payload.to_string();
    assert_shortened(&line["payload"], &text);
    // A message that is a JSON object, the same.
    assert_shortened(&line["message"], &text);
}

#[derive(Debug)]
struct Huge(String);
impl fmt::Display for Huge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl Error for Huge {}

#[test]
fn a_huge_error_is_shortened_with_its_name_kept() {
    let (logger, sink) = raw_logger();
    let (dispatch, _hook) = install(logger);
    let text = big_text(300_000);
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            let err = Huge(text.clone());
            tracing::error!(error = &err as &dyn Error, "failed");
        });
    });
    let line = assert_fits(&sink.lines()[0]);
    assert_eq!(line["exception_name"], "Huge");
    assert_eq!(line["message"], "failed");
    assert_shortened(&line["exception"], &text);
}

#[test]
fn a_custom_formatter_sees_the_shortened_parts_and_its_line_is_kept_within_the_limit() {
    let (logger, sink) = raw_logger();
    let logger = logger.formatter(|record: &LogRecord<'_>, out: &mut Vec<u8>| {
        let message: Value = serde_json::from_str(record.message_json()).unwrap();
        let fields: Value = serde_json::from_str(record.fields_json()).unwrap();
        let doc = serde_json::json!({
            "severity": record.level().as_str(),
            "msg": message,
            "attributes": fields,
            // Its own, added after the parts: still too long.
            "copy": record.default_line(),
        });
        serde_json::to_writer(out, &doc).unwrap();
    });
    let (dispatch, _hook) = install(logger);
    let message = big_text(400_000);
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| tracing::info!(n = 1, "{message}"));
    });
    let line = assert_fits(&sink.lines()[0]);
    assert_eq!(line["severity"], "INFO");
    assert_eq!(line["attributes"]["n"], 1);
    // Shortened twice (in the default line, then in the formatter's): a beginning of the message,
    // with a marker.
    let (kept, _) = common::shortened(&line["msg"]).expect("a marker");
    assert!(message.starts_with(kept) && kept.len() > 1_000);
    assert!(common::shortened(&line["copy"]).is_some());

    // A formatter of another format than JSON: cut, with the marker.
    let (logger, sink) = raw_logger();
    let logger = logger.formatter(|record: &LogRecord<'_>, out: &mut Vec<u8>| {
        out.extend_from_slice(record.default_line().as_bytes());
        out.extend_from_slice(b" and some text");
    });
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("{message}"));
    let line = &sink.lines()[0];
    assert!(line.len() - 1 <= MAX_LINE_BYTES);
    assert!(
        line.trim_end().ends_with(" bytes]"),
        "{}",
        &line[line.len() - 40..]
    );
}

#[test]
fn a_warning_of_the_toolkit_is_kept_within_the_limit() {
    let (logger, sink) = raw_logger();
    let directive = format!("{}=loud", "a".repeat(300_000));
    let _parts = logger.directives(&directive).into_parts();
    let line = assert_fits(&sink.lines()[0]);
    assert_eq!(line["level"], "WARN");
    let message = line["message"].as_str().unwrap();
    assert!(
        message.contains("aaaa") && message.ends_with(" bytes]"),
        "{message:.100}"
    );
}

#[test]
fn dev_mode_indents_the_shortened_line() {
    let (logger, sink) = logger(&[("POWERTOOLS_DEV", "true")]);
    let (dispatch, _hook) = install(logger);
    let message = big_text(400_000);
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("{message}"));
    let text = &sink.lines()[0];
    assert!(text.starts_with("{\n  \"level\": \"INFO\",\n"));
    assert!(text.len() < MAX_LINE_BYTES + 200, "{}", text.len());
    assert_shortened(&json(text)["message"], &message);
}

/// A correlation id longer than the limit by itself (it comes from the event): shortened, and
/// no other key left out.
#[test]
fn a_correlation_id_longer_than_the_limit_is_shortened() {
    let (logger, sink) = raw_logger();
    let (dispatch, _hook) = install(logger);
    let id = "\u{10000}".repeat(69_000);
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            powertools_logger::set_correlation_id(&id);
            tracing::info!(level = "", service = %"", "");
        });
    });
    let line = assert_fits(&sink.lines()[0]);
    assert_shortened(&line["correlation_id"], &id);
    assert_eq!(line["message"], "", "no key left out");
    assert_eq!(line["field_level"], "");
    assert_eq!(line["field_service"], "");
    assert_eq!(line["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
}
