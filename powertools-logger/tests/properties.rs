//! Whatever the strings, every line is exactly one line of valid JSON and the logger's own keys
//! are never forged.

mod common;

use common::{install, json, keys, logger};
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
