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
