//! Checking EMF documents: the JSON schema of the specification, plus the rules the schema's
//! description says it cannot express. Used by the unit tests (through `#[path]`) and the
//! integration tests.

#![allow(dead_code)]

use std::fmt;
use std::path::PathBuf;
use std::sync::LazyLock;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

/// Where the EMF schema lives (one place, should it move into the repository).
pub fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/specs/emf.schema.json")
}

/// The EMF schema, parsed.
pub fn schema_json() -> Value {
    let path = schema_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the EMF schema is JSON")
}

static VALIDATOR: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| jsonschema::validator_for(&schema_json()).expect("the EMF schema compiles"));

/// The top-level keys of a JSON object, in order, duplicates kept.
struct TopLevelKeys(Vec<String>);

impl<'de> Deserialize<'de> for TopLevelKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevelKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevelKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(TopLevelKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// Checks one document line (as written to the sink, newline optional): compact JSON on one
/// line, valid against the schema, no duplicate top-level key, every dimension a string member,
/// every metric a member holding a number or an array of 1–100 numbers. Returns it parsed.
pub fn check_document(line: &str) -> Result<Value, String> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    if line.contains('\n') {
        return Err("a document spans several lines".into());
    }
    let doc: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}: {line}"))?;
    if !is_compact(line) {
        return Err(format!("not compact JSON: {line}"));
    }
    let errors: Vec<String> = VALIDATOR.iter_errors(&doc).map(|e| e.to_string()).collect();
    if !errors.is_empty() {
        return Err(format!("schema: {errors:?} in {line}"));
    }
    let TopLevelKeys(keys) = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let mut sorted = keys.clone();
    sorted.sort();
    let duplicate = sorted
        .iter()
        .zip(sorted.iter().skip(1))
        .find(|(a, b)| a == b);
    if let Some((key, _)) = duplicate {
        return Err(format!("duplicate top-level key {key:?} in {line}"));
    }
    for directive in doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            for key in set.as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                if !doc[key].is_string() {
                    return Err(format!(
                        "dimension {key:?} is not a string member in {line}"
                    ));
                }
            }
        }
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            let name = metric["Name"].as_str().unwrap_or_default();
            match &doc[name] {
                Value::Number(_) => {}
                Value::Array(values)
                    if (1..=100).contains(&values.len()) && values.iter().all(Value::is_number) => {
                }
                other => {
                    return Err(format!("metric {name:?} has the value {other} in {line}"));
                }
            }
        }
    }
    Ok(doc)
}

/// Whether the JSON text has no whitespace outside strings.
fn is_compact(line: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_whitespace() {
            return false;
        }
    }
    true
}
