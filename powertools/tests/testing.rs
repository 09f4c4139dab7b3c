//! `powertools::testing` on plain handlers and on `#[powertools::handler]` functions.
#![cfg(feature = "testing")]

use lambda_runtime::{Error, LambdaEvent};
use powertools::metrics::Unit;
use powertools::testing::TestHarness;
use serde_json::{Value, json};

async fn plain(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracing::info!(id = event.payload["id"].as_str(), "plain handler");
    powertools::metrics::current().add_metric("Plain", Unit::Count, 1.0)?;
    if event.payload["fail"] == true {
        return Err("payment declined".into());
    }
    Ok(json!({ "ok": true }))
}

#[powertools::handler(service = "macro-service", namespace = "Macro")]
async fn with_attribute(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracing::info!("attribute handler");
    powertools::metrics::current().add_metric("Attributed", Unit::Count, 2.0)?;
    Ok(event.payload)
}

#[tokio::test]
async fn output_is_captured_and_correlated() {
    let harness = TestHarness::builder()
        .service("orders")
        .namespace("Shop")
        .build();
    let run = harness.invoke(plain, json!({ "id": "o-1" })).await;

    assert_eq!(run.result.as_ref().unwrap(), &json!({ "ok": true }));
    let line = run.log_line("plain handler").expect("the handler's line");
    assert_eq!(line["id"], "o-1");
    assert_eq!(line["service"], "orders");
    assert_eq!(line["function_request_id"], run.request_id.as_str());
    assert_eq!(line["xray_trace_id"], run.trace_id.as_str());
    assert_eq!(run.metric_values("Plain"), vec![1.0]);
    let doc = run
        .metrics
        .iter()
        .find(|d| d.get("Plain").is_some())
        .unwrap();
    assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Shop");
    let handler = run.subsegment("## handler").expect("handler subsegment");
    assert_eq!(handler["trace_id"], run.trace_id.as_str());
    assert_eq!(handler["annotations"]["Service"], "orders");
    assert_eq!(
        handler["metadata"]["orders"]["handler response"]["ok"],
        true
    );
}

#[tokio::test]
async fn errors_are_reported_on_every_channel() {
    let harness = TestHarness::new();
    let run = harness.invoke(plain, json!({ "fail": true })).await;

    assert_eq!(
        run.result.as_ref().unwrap_err().to_string(),
        "payment declined"
    );
    assert_eq!(run.metric_values("Plain"), vec![1.0], "flushed on Err too");
    let handler = run.subsegment("## handler").unwrap();
    assert_eq!(handler["fault"], true, "{handler}");
    assert!(
        handler["cause"]["exceptions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("payment declined"),
        "{handler}"
    );
}

#[tokio::test]
async fn attribute_handlers_are_not_wrapped_twice() {
    let harness = TestHarness::builder().namespace("Harness").build();
    let run = harness.invoke(with_attribute, json!({ "echo": 1 })).await;

    assert_eq!(run.result.as_ref().unwrap(), &json!({ "echo": 1 }));
    let lines: Vec<_> = run
        .logs
        .iter()
        .filter(|l| l["message"] == "attribute handler")
        .collect();
    assert_eq!(lines.len(), 1, "{:?}", run.logs);
    assert_eq!(lines[0]["function_request_id"], run.request_id.as_str());
    assert_eq!(run.metric_values("Attributed"), vec![2.0]);
    let handlers = run
        .traces
        .iter()
        .filter(|d| d["name"] == "## handler")
        .count();
    assert_eq!(handlers, 1, "{:?}", run.traces);
}

#[tokio::test]
async fn harnesses_do_not_share_output() {
    let first = TestHarness::builder().service("first").build();
    let second = TestHarness::builder().service("second").build();
    let a = first.invoke(plain, json!({ "id": "a" })).await;
    let b = second.invoke(plain, json!({ "id": "b" })).await;

    assert!(a.logs.iter().all(|l| l["service"] == "first"));
    assert!(b.logs.iter().all(|l| l["service"] == "second"));
    assert_ne!(a.request_id, b.request_id);
    assert_ne!(a.trace_id, b.trace_id);
    assert_eq!(a.metric_values("Plain"), vec![1.0]);
    assert_eq!(b.metric_values("Plain"), vec![1.0]);
}
