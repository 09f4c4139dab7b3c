//! The benchmark's baseline: the handler of `bench-powertools` without the toolkit.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let id = event.payload["id"].as_u64().unwrap_or_default();
    Ok(json!({ "id": id, "ok": true }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run_concurrent(service_fn(handler)).await
}
