//! Hello world: a function taking any JSON event.
//!
//! `{"name": "Ada"}` answers a greeting; `{"fail": true}` returns an error; `{"panic": true}`
//! panics; `{"sleep_ms": 50}` waits first (to keep invocations in flight together).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use powertools_core::Invocation;
use powertools_core::layer::InvocationLayer;
use serde_json::{Value, json};
use tower::ServiceBuilder;

/// Invocations in progress in this process (more than one under `run_concurrent`).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = event.payload;
    let in_flight = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(ms) = payload["sleep_ms"].as_u64() {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    if payload["fail"] == true {
        return Err("the order was declined".into());
    }
    assert!(payload["panic"] != true, "the handler panicked on purpose");
    // The invocation in progress, found after an await, as any code below the handler would.
    let seen = Invocation::current().map(|i| {
        let c = i.context();
        json!({
            "request_id": c.request_id(),
            "trace_id": c.xray_trace_id(),
            "cold_start": c.is_cold_start(),
        })
    });
    let name = payload["name"].as_str().unwrap_or("world");
    Ok(json!({ "message": format!("Hello, {name}!"), "invocation": seen, "in_flight": in_flight }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let service = ServiceBuilder::new()
        .layer(InvocationLayer::new().handler_name("handler"))
        .service(service_fn(handler));
    lambda_runtime::run_concurrent(service).await
}
