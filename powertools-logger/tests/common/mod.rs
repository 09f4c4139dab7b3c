//! Helpers shared by the integration tests.
#![allow(dead_code)]

use powertools_core::PowertoolsConfig;
use powertools_logger::{Logger, LoggerHook, MemorySink};
use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// A logger from an empty environment (plus `vars`), writing to memory.
pub fn logger(vars: &[(&str, &str)]) -> (Logger, MemorySink) {
    let (config, _) = PowertoolsConfig::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    });
    let sink = MemorySink::new();
    (Logger::from_config(&config).sink(sink.clone()), sink)
}

/// The dispatcher and hook of a logger.
pub fn install(logger: Logger) -> (Dispatch, LoggerHook) {
    let (layer, hook) = logger.into_layer_and_hook();
    let dispatch = Dispatch::new(tracing_subscriber::Registry::default().with(layer));
    (dispatch, hook)
}

/// The top-level keys of a JSON object line, in the order written.
pub fn keys(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(line).unwrap().0
}

/// Parses one line.
pub fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
}

/// A sink that keeps each line's bytes as written (a `MemorySink` would repair broken UTF-8).
#[derive(Clone, Default)]
pub struct RawSink(pub std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

impl RawSink {
    /// The lines written so far, newline included, each checked to be UTF-8.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|l| String::from_utf8(l.clone()).expect("a line is UTF-8"))
            .collect()
    }
}

impl powertools_logger::LogSink for RawSink {
    fn write_line(&self, line: &[u8]) {
        self.0.lock().unwrap().push(line.to_vec());
    }
}

/// The kept beginning of a value shortened to fit CloudWatch, and the number of bytes its
/// marker (`…[truncated N bytes]`) says were removed; `None` when it has no marker.
pub fn shortened(value: &Value) -> Option<(&str, usize)> {
    let text = value.as_str()?;
    let at = text.rfind("\u{2026}[truncated ")?;
    let removed = text[at..]
        .strip_prefix("\u{2026}[truncated ")?
        .strip_suffix(" bytes]")?
        .parse()
        .ok()?;
    Some((&text[..at], removed))
}

/// Asserts that `value` is `original` shortened: a beginning of it, and the marker counting the
/// rest.
pub fn assert_shortened(value: &Value, original: &str) {
    let (kept, removed) =
        shortened(value).unwrap_or_else(|| panic!("no marker at the end of {value:.200}"));
    assert!(original.starts_with(kept), "not a beginning of the value");
    assert!(!kept.is_empty(), "something is kept");
    assert_eq!(
        kept.len() + removed,
        original.len(),
        "the marker counts what went"
    );
}

/// Asserts that `line` (newline included) fits one CloudWatch Logs event and is one JSON object.
pub fn assert_fits(line: &str) -> Value {
    assert!(
        line.ends_with('\n') && line.matches('\n').count() == 1,
        "one line"
    );
    assert!(
        line.len() - 1 <= powertools_core::output::MAX_LINE_BYTES,
        "{} bytes",
        line.len() - 1
    );
    json(line)
}
