//! Output contracts checked on a real binary (`hello-world`, behind `#[powertools::handler]`):
//! log lines have the keys, order and JSON types of Powertools for Python's lines (its real
//! output is in `tests/data/python-powertools-3.37-output.jsonl`), and an unsampled invocation
//! is logged and measured but sends nothing to X-Ray.

use std::collections::BTreeMap;

use powertools_e2e::capture::top_level_keys;
use powertools_e2e::function::{FunctionHarness, workspace_binary, workspace_root};
use powertools_e2e::runtime_api::ScriptedEvent;
use powertools_e2e::schema::assert_valid_emf;
use serde_json::{Map, Value, json};

/// The Python reference's log lines (not its EMF documents), raw.
fn python_lines() -> Vec<String> {
    let path = workspace_root().join("tests/data/python-powertools-3.37-output.jsonl");
    let text = std::fs::read_to_string(&path).expect("the Python reference output");
    text.lines()
        .filter(|l| l.starts_with('{') && !l.contains("\"_aws\""))
        .map(str::to_owned)
        .collect()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[tokio::test]
async fn log_lines_have_the_keys_order_and_types_of_powertools_for_python() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .start()
        .await;
    let cold = ScriptedEvent::new(json!({ "name": "Ada" }));
    let cold_id = cold.request_id.clone();
    f.invoke(cold).await;
    let warm = ScriptedEvent::new(json!({ "name": "Grace" }));
    let warm_id = warm.request_id.clone();
    f.invoke(warm).await;
    let out = f.stop().await;

    // Python's line with two event fields (`order_id`, `amount`); ours has one (`name`), in the
    // same place: after the Lambda keys, before `xray_trace_id`.
    let python_raw = &python_lines()[1];
    let python: Map<String, Value> = serde_json::from_str(python_raw).unwrap();
    let expected: Vec<String> = top_level_keys(python_raw)
        .unwrap()
        .into_iter()
        .filter(|k| !["order_id", "amount"].contains(&k.as_str()))
        .flat_map(|k| {
            if k == "xray_trace_id" {
                vec!["name".to_owned(), k]
            } else {
                vec![k]
            }
        })
        .collect();
    let python_types: BTreeMap<&str, &str> = python
        .iter()
        .map(|(k, v)| (k.as_str(), json_type(v)))
        .collect();

    for id in [&cold_id, &warm_id] {
        let raw = out
            .stdout
            .iter()
            .find(|l| l.contains(id.as_str()) && l.contains("greeting requested"))
            .unwrap_or_else(|| panic!("no greeting line for {id}"));
        // Key order as written (a parsed `Map` sorts its keys), read off the raw line.
        let line: Map<String, Value> = serde_json::from_str(raw).unwrap();
        let keys = top_level_keys(raw).unwrap();
        assert_eq!(keys, expected, "{raw}");
        for (k, v) in &line {
            if let Some(t) = python_types.get(k.as_str()) {
                assert_eq!(json_type(v), *t, "type of {k} in {raw}");
            }
        }
    }
}

#[tokio::test]
async fn an_unsampled_invocation_is_logged_and_measured_but_not_traced() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .start()
        .await;
    let sampled = ScriptedEvent::new(json!({ "name": "traced" }));
    let sampled_root = sampled.trace_root().unwrap().to_owned();
    f.invoke(sampled).await;
    let unsampled = ScriptedEvent::new(json!({ "name": "quiet" })).unsampled();
    let (id, root) = (
        unsampled.request_id.clone(),
        unsampled.trace_root().unwrap().to_owned(),
    );
    let outcome = f.invoke(unsampled).await;
    assert_eq!(outcome.response().unwrap()["message"], "Hello, quiet!");
    let out = f.stop().await;

    assert!(
        out.xray_for_trace(&root).is_empty(),
        "Sampled=0: nothing sent for {root}"
    );
    assert!(!out.xray_for_trace(&sampled_root).is_empty());
    let lines = out.logs_for(&id);
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["xray_trace_id"] == root.as_str()));
    let doc = out
        .emf
        .iter()
        .find(|d| d["request_id"] == id.as_str())
        .expect("metrics of the unsampled invocation");
    assert_valid_emf(doc);
    assert_eq!(doc["Greetings"], 1.0);
}
