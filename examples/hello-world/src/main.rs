//! Hello world: a function taking any JSON event, with logs, a metric and a traced step.
//!
//! `{"name": "Ada"}` answers a greeting; `{"fail": true}` returns an error; `{"panic": true}`
//! panics; `{"sleep_ms": 50}` waits first (to keep invocations in flight together).
//!
//! Build and deploy: `cargo lambda build --release --arm64 -p hello-world`, then
//! `sam deploy --guided` with `examples/hello-world/template.yaml`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent};
use powertools::core::Invocation;
use powertools::metrics::Unit;
use serde_json::{Value, json};

/// Invocations in progress in this process (more than one under `run_concurrent`).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Everything not given here comes from the `POWERTOOLS_*` environment (see `template.yaml`);
/// `main` asks the attribute to write `fn main` (`lambda_runtime::run_concurrent`).
#[powertools::handler(capture_cold_start_metric, main)]
async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = event.payload;
    let name = payload["name"].as_str().unwrap_or("world");
    tracing::info!(name, "greeting requested");
    // Recorded before anything can fail: flushed on `Err` and on panic too.
    let metrics = powertools::metrics::current();
    metrics.add_metric("Requests", Unit::Count, 1.0)?;
    // Metadata is not a dimension: searchable in the EMF line, free in CloudWatch metrics.
    metrics.add_metadata("request_id", event.context.request_id.as_str())?;

    let in_flight = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(ms) = payload["sleep_ms"].as_u64() {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);

    if payload["fail"] == true {
        return Err("the order was declined".into());
    }
    assert!(payload["panic"] != true, "the handler panicked on purpose");

    let greeting = greet(name).await;
    metrics.add_metric("Greetings", Unit::Count, 1.0)?;

    // The invocation in progress, found after an await, as any code below the handler would.
    let seen = Invocation::current().map(|i| {
        let c = i.context();
        json!({
            "request_id": c.request_id(),
            "trace_id": c.xray_trace_id(),
            "cold_start": c.is_cold_start(),
        })
    });
    Ok(json!({ "message": greeting, "invocation": seen, "in_flight": in_flight }))
}

/// A step of its own: a `greet` subsegment under `## handler` in X-Ray.
#[tracing::instrument]
async fn greet(name: &str) -> String {
    tokio::task::yield_now().await;
    format!("Hello, {name}!")
}

#[cfg(test)]
mod tests {
    use powertools::testing::TestHarness;
    use serde_json::json;

    #[tokio::test]
    async fn greets_and_records() {
        let harness = TestHarness::new();
        let run = harness
            .invoke(super::handler, json!({ "name": "Ada" }))
            .await;

        assert_eq!(run.result.as_ref().unwrap()["message"], "Hello, Ada!");
        assert_eq!(run.log_line("greeting requested").unwrap()["name"], "Ada");
        assert_eq!(run.metric_values("Greetings"), vec![1.0]);
        let handler = run.subsegment("## handler").unwrap();
        assert_eq!(handler["trace_id"], run.trace_id.as_str());
        assert_eq!(
            handler["subsegments"][0]["name"], "greet",
            "nested under the handler"
        );
        assert_eq!(
            run.subsegment("greet").unwrap()["metadata"]["test-service"]["name"],
            "Ada"
        );
    }

    #[tokio::test]
    async fn failure_is_an_error_without_the_metric() {
        let run = TestHarness::new()
            .invoke(super::handler, json!({ "fail": true }))
            .await;

        assert!(run.result.is_err());
        assert_eq!(run.metric_values("Requests"), vec![1.0], "flushed on Err");
        assert!(run.metric_values("Greetings").is_empty());
        assert_eq!(
            run.subsegment("## handler").unwrap()["fault"],
            true,
            "a failed invocation is a fault"
        );
    }
}
