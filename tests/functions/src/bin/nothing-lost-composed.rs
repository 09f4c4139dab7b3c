//! The hand-composed layer of `tests/tests/nothing_lost.rs`: the logger, tracer and metrics
//! crates' hooks on one `InvocationLayer` (README: "Each utility is also usable alone"), no
//! `PowertoolsLayer`, with a handler that records through `powertools::metrics::current()`.
//!
//! The metrics namespace and service are given in code only (`Composed`, `composed`): the metric
//! must be written under them, whatever `POWERTOOLS_METRICS_NAMESPACE` says.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use powertools::core::layer::InvocationLayer;
use powertools::logger::Logger;
use powertools::metrics::{Metrics, Unit};
use powertools::tracer::Tracer;
use serde_json::{Value, json};
use tower::ServiceBuilder;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

async fn handler(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    let result = powertools::metrics::current().add_metric("ComposedOrders", Unit::Count, 1.0);
    let said = match &result {
        Ok(()) => "Ok".to_owned(),
        Err(e) => e.to_string(),
    };
    tracing::info!(result = %said, "composed metric");
    Ok(json!({ "metric": said }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (log_layer, log_hook) = Logger::new().service("composed").into_layer_and_hook();
    let tracer = Tracer::builder().service("composed").build();
    tracing::subscriber::set_global_default(
        Registry::default().with(log_layer).with(tracer.layer()),
    )?;
    let metrics = Metrics::builder()
        .namespace("Composed")
        .service("composed")
        .build()?;
    let layer = InvocationLayer::new()
        .hook(log_hook)
        .hook(tracer.hook())
        .hook(metrics.invocation_hook());
    lambda_runtime::run_concurrent(
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(handler)),
    )
    .await
}
