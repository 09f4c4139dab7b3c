//! Validation of EMF and X-Ray documents against the JSON schemas in `data/specs/`, plus the rules
//! the schemas cannot express.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

fn load(name: &str) -> Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/specs")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

static EMF: LazyLock<Validator> = LazyLock::new(|| load("emf.schema.json"));
static XRAY: LazyLock<Validator> = LazyLock::new(|| load("xray-segment.schema.json"));

fn schema_errors(validator: &Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Checks an EMF document: the schema, then the rules its description lists (every dimension is
/// a root member with a string value; every metric is a root member holding a number or an array
/// of at most 100 numbers). Returns every problem found.
pub fn emf_problems(doc: &Value) -> Vec<String> {
    let mut problems = schema_errors(&EMF, doc);
    for directive in doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            for dim in set.as_array().into_iter().flatten() {
                let key = dim.as_str().unwrap_or_default();
                if !doc[key].is_string() {
                    problems.push(format!("dimension {key:?} is not a root string member"));
                }
            }
        }
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            let name = metric["Name"].as_str().unwrap_or_default();
            match &doc[name] {
                Value::Number(_) => {}
                Value::Array(values)
                    if values.len() <= 100 && values.iter().all(Value::is_number) => {}
                other => problems.push(format!("metric {name:?} has value {other}")),
            }
        }
    }
    problems
}

/// Panics with every problem if `doc` is not a valid EMF document.
pub fn assert_valid_emf(doc: &Value) {
    let problems = emf_problems(doc);
    assert!(
        problems.is_empty(),
        "invalid EMF document {doc}: {problems:#?}"
    );
}

/// Checks an X-Ray segment or subsegment document against the segment schema.
pub fn xray_problems(doc: &Value) -> Vec<String> {
    schema_errors(&XRAY, doc)
}

/// Panics with every problem if `doc` is not a valid X-Ray document.
pub fn assert_valid_xray(doc: &Value) {
    let problems = xray_problems(doc);
    assert!(
        problems.is_empty(),
        "invalid X-Ray document {doc}: {problems:#?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_reference_emf_is_valid_and_broken_ones_are_not() {
        let text = include_str!("../data/python-powertools-3.37-output.jsonl");
        let emf: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v.get("_aws").is_some())
            .collect();
        assert_eq!(emf.len(), 2);
        for doc in &emf {
            assert_valid_emf(doc);
        }
        let mut missing_dim = emf[1].clone();
        missing_dim.as_object_mut().unwrap().remove("env");
        assert!(!emf_problems(&missing_dim).is_empty());
        let mut bad_unit = emf[1].clone();
        bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Parsecs");
        assert!(!emf_problems(&bad_unit).is_empty());
    }

    #[test]
    fn xray_subsegment_checks() {
        let good = json!({
            "type": "subsegment", "name": "## handler", "id": "53995c3f42cd8ad8",
            "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "parent_id": "0123456789abcdef",
            "start_time": 1_795_503_914.507_123, "end_time": 1_795_503_914.607_456,
            "annotations": { "ColdStart": true, "Service": "demo" }
        });
        assert_valid_xray(&good);
        let mut bad_id = good.clone();
        bad_id["id"] = json!("123");
        assert!(!xray_problems(&bad_id).is_empty());
        let mut bad_annotation = good.clone();
        bad_annotation["annotations"]["bad-key"] = json!(1);
        assert!(!xray_problems(&bad_annotation).is_empty());
        let mut bad_name = good;
        bad_name["name"] = json!("<script>");
        assert!(!xray_problems(&bad_name).is_empty());
    }
}
