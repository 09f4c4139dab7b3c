//! The foundation end to end: a real example binary, the real `lambda_runtime` client, the local
//! Runtime API.

use powertools_e2e::function::{FunctionHarness, workspace_binary};
use powertools_e2e::runtime_api::ScriptedEvent;
use serde_json::json;

#[tokio::test]
async fn cold_warm_and_failing_invocations() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .start()
        .await;

    let cold = ScriptedEvent::new(json!({ "name": "Ada" }));
    let (cold_id, cold_root) = (
        cold.request_id.clone(),
        cold.trace_root().unwrap().to_owned(),
    );
    let out = f.invoke(cold).await;
    let body = out.response().expect("cold invocation answers");
    assert_eq!(body["message"], "Hello, Ada!");
    assert_eq!(body["invocation"]["request_id"], cold_id.as_str());
    assert_eq!(body["invocation"]["trace_id"], cold_root.as_str());
    assert_eq!(body["invocation"]["cold_start"], true);

    let warm = ScriptedEvent::new(json!({ "name": "Grace" }));
    let warm_id = warm.request_id.clone();
    let out = f.invoke(warm).await;
    let body = out.response().expect("warm invocation answers");
    assert_eq!(body["invocation"]["request_id"], warm_id.as_str());
    assert_eq!(body["invocation"]["cold_start"], false);

    let out = f.invoke(ScriptedEvent::new(json!({ "fail": true }))).await;
    let err = out.error().expect("failing invocation reports an error");
    assert_eq!(err["errorMessage"], "the order was declined");
    assert!(f.is_alive(), "the process survives a failing invocation");

    let out = f.invoke(ScriptedEvent::new(json!({ "panic": true }))).await;
    let err = out.error().expect("panicking invocation reports an error");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("the handler panicked on purpose"),
        "{err}"
    );
    assert!(f.is_alive(), "the process survives a panicking invocation");

    let out = f
        .invoke(ScriptedEvent::new(json!({ "name": "after" })))
        .await;
    assert_eq!(out.response().unwrap()["message"], "Hello, after!");
    f.stop().await;
}

#[tokio::test]
async fn thirty_two_concurrent_invocations_each_see_their_own_context() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "32")
        .start()
        .await;
    let events: Vec<ScriptedEvent> = (0..32)
        .map(|n| ScriptedEvent::new(json!({ "name": format!("n{n}"), "sleep_ms": 200 })))
        .collect();
    let expected: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.request_id.clone(), e.trace_root().unwrap().to_owned()))
        .collect();
    let outcomes = f.invoke_all(events).await;
    let mut cold = 0;
    let mut peak = 0;
    for (n, (outcome, (id, root))) in outcomes.iter().zip(&expected).enumerate() {
        let body = outcome.response().expect("answers");
        assert_eq!(body["message"], format!("Hello, n{n}!"));
        assert_eq!(body["invocation"]["request_id"], id.as_str());
        assert_eq!(body["invocation"]["trace_id"], root.as_str());
        cold += usize::from(body["invocation"]["cold_start"] == true);
        peak = peak.max(body["in_flight"].as_u64().unwrap());
    }
    assert_eq!(cold, 1, "exactly one cold start per process");
    assert!(
        peak > 1,
        "invocations overlapped in one process (peak {peak})"
    );
    f.stop().await;
}
