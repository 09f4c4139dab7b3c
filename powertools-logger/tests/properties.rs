//! Whatever the strings, every line is exactly one line of valid JSON and the logger's own keys
//! are never forged.

mod common;

use common::{RawSink, assert_fits, install, json, keys, logger, shortened};
use powertools_core::Invocation;
use powertools_logger::RESERVED_KEYS;
use proptest::prelude::*;

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC*",
        "[\"\\\\\n\r\t\u{0}-\u{1f}\u{7f}\u{2028}é🚀{}:,]{0,40}",
        Just("{\"a\": 1}".to_owned()),
        Just("level".to_owned()),
        Just("message".to_owned()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        any_string(),
        proptest::sample::select(RESERVED_KEYS.to_vec()).prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_line_is_one_valid_json_object(
        message in any_string(),
        value in any_string(),
        key in name(),
        key_value in any_string(),
        persistent in name(),
    ) {
        let (logger, sink) = logger(&[("POWERTOOLS_SERVICE_NAME", "svc")]);
        let (dispatch, _hook) = install(logger);
        tracing::dispatcher::with_default(&dispatch, || {
            Invocation::for_test("req-1").sync_scope(|| {
                powertools_logger::append_key(&key, &key_value).unwrap();
                powertools_logger::append_persistent_key(&persistent, &value).unwrap();
                tracing::info!(shown = %value, debugged = ?value, raw = value.as_str(), "{}", message);
                tracing::info!(message = %message);
                powertools_logger::remove_persistent_key(&persistent);
            });
        });
        let lines = sink.lines();
        prop_assert_eq!(lines.len(), 2);
        for raw in &lines {
            prop_assert!(raw.ends_with('\n'));
            prop_assert_eq!(raw.matches('\n').count(), 1, "one line: {:?}", raw);
            let line = json(raw);
            prop_assert_eq!(&line["level"], "INFO");
            prop_assert_eq!(&line["service"], "svc");
            prop_assert_eq!(&line["function_request_id"], "req-1");
            prop_assert_eq!(&line["function_name"], "test-function");
            prop_assert!(line.get("correlation_id").is_none());
            let k = keys(raw);
            for reserved in RESERVED_KEYS {
                prop_assert!(k.iter().filter(|x| *x == reserved).count() <= 1, "{reserved} twice in {raw}");
            }
            // The appended key is there under its own name or, when reserved, renamed.
            let written = if RESERVED_KEYS.contains(&key.as_str()) {
                format!("field_{key}")
            } else {
                key.clone()
            };
            prop_assert_eq!(&line[written.as_str()], &serde_json::Value::String(key_value.clone()));
        }
        let first = json(&lines[0]);
        prop_assert_eq!(&first["raw"], &serde_json::Value::String(value.clone()));
        prop_assert_eq!(&first["shown"], &serde_json::Value::String(value.clone()));
        prop_assert_eq!(&first["debugged"], &serde_json::Value::String(format!("{value:?}")));
        let expected_message = if message.trim_start().starts_with('{')
            && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(message.trim()).is_ok()
        {
            serde_json::from_str(message.trim()).unwrap()
        } else {
            serde_json::Value::String(message.clone())
        };
        prop_assert_eq!(&first["message"], &expected_message);
    }
}

/// A string of up to `max` bytes or so: a short hostile pattern repeated.
fn long_string(max: usize) -> impl Strategy<Value = String> {
    (any_string(), 0..=max).prop_map(|(unit, len)| {
        if unit.is_empty() {
            String::new()
        } else {
            unit.repeat(len / unit.len())
        }
    })
}

/// Whether `value` is `original` whole, or shortened: a beginning of it with the marker counting
/// the rest. Non-strings are compared as their JSON text.
fn kept_or_shortened(value: &serde_json::Value, original: &serde_json::Value) -> bool {
    if value == original {
        return true;
    }
    let whole = original
        .as_str()
        .map_or_else(|| original.to_string(), str::to_owned);
    shortened(value).is_some_and(|(kept, removed)| {
        whole.starts_with(kept) && kept.len() + removed == whole.len()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_line_fits_one_cloudwatch_event(
        message in long_string(300_000),
        value in long_string(300_000),
        appended in long_string(150_000),
        key in name(),
    ) {
        let (logger, _) = logger(&[("POWERTOOLS_SERVICE_NAME", "svc")]);
        let sink = RawSink::default();
        let (dispatch, _hook) = install(logger.sink(sink.clone()));
        tracing::dispatcher::with_default(&dispatch, || {
            Invocation::for_test("req-1").sync_scope(|| {
                powertools_logger::set_correlation_id("corr-1");
                powertools_logger::append_key(&key, &appended).unwrap();
                tracing::info!(raw = value.as_str(), small = 1, "{}", message);
            });
        });
        let lines = sink.lines();
        prop_assert_eq!(lines.len(), 1);
        let line = assert_fits(&lines[0]);
        prop_assert_eq!(&line["level"], "INFO");
        prop_assert_eq!(&line["service"], "svc");
        prop_assert_eq!(&line["function_request_id"], "req-1");
        prop_assert_eq!(&line["correlation_id"], "corr-1");
        prop_assert_eq!(&line["small"], 1);
        prop_assert!(kept_or_shortened(&line["raw"], &serde_json::Value::String(value.clone())));
        let written = if RESERVED_KEYS.contains(&key.as_str()) {
            format!("field_{key}")
        } else {
            key.clone()
        };
        prop_assert!(kept_or_shortened(&line[written.as_str()], &serde_json::Value::String(appended.clone())));
        let as_object = message.trim_start().starts_with('{')
            && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(message.trim()).is_ok();
        let expected_message = if as_object {
            serde_json::from_str(message.trim()).unwrap()
        } else {
            serde_json::Value::String(message.clone())
        };
        // A message that is an object is shortened from its compact JSON text.
        prop_assert!(
            kept_or_shortened(&line["message"], &expected_message),
            "{:.200}", line["message"]
        );
    }
}
