//! The benchmark's subject: the handler of `bench-bare` behind `#[powertools::handler]`, with one
//! log line, one metric and one span per invocation.

use lambda_runtime::{Error, LambdaEvent};
use powertools::metrics::Unit;
use serde_json::{Value, json};

#[powertools::handler(main)]
async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let id = event.payload["id"].as_u64().unwrap_or_default();
    step(id).await;
    powertools::metrics::current().add_metric("Handled", Unit::Count, 1.0)?;
    Ok(json!({ "id": id, "ok": true }))
}

#[tracing::instrument]
async fn step(id: u64) {
    tracing::info!(id, "handled");
}
