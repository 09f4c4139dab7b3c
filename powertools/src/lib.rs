//! Powertools for Rust AWS Lambda functions: structured JSON logs, CloudWatch Embedded Metric
//! Format metrics and AWS X-Ray traces behind one handler attribute.
//!
//! ```no_run
//! use lambda_runtime::{Error, LambdaEvent};
//! use powertools::metrics::Unit;
//! use serde_json::{Value, json};
//!
//! #[powertools::handler(service = "payment", namespace = "Airline", main)]
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     let order_id = event.payload["id"].as_str().unwrap_or_default();
//!     tracing::info!(order_id, "order received");
//!     powertools::metrics::current().add_metric("OrderReceived", Unit::Count, 1.0)?;
//!     Ok(json!({ "accepted": true }))
//! }
//! ```
//!
//! Every invocation then writes Powertools-compatible JSON log lines (with `cold_start`,
//! `function_request_id`, `xray_trace_id`, …), one EMF document with the metrics it recorded
//! (plus a `ColdStart` document on a cold start with `capture_cold_start_metric`), and — with active tracing — a `## handler`
//! subsegment with the `ColdStart` and `Service` annotations and the spans the handler opened.
//!
//! The attribute is sugar over [`PowertoolsLayer`], a `tower::Layer` you can compose by hand,
//! and each utility is usable on its own: [`logger`], [`metrics`], [`tracer`] (features of the
//! same names, all on by default) and [`core`] (the invocation scope they share).
//!
//! | feature | gives |
//! |---|---|
//! | `logger` (default) | [`logger`]: JSON log lines through `tracing` |
//! | `metrics` (default) | [`metrics`]: EMF metrics flushed at the end of each invocation |
//! | `tracer` (default) | [`tracer`]: X-Ray subsegments from `tracing` spans |
//! | `http` | handlers taking `lambda_http::Request` |
//! | `testing` | [`testing`]: run a wrapped handler in a plain test and inspect its output |
//! | `log` | records of the `log` crate as log lines (powertools-logger's `log`; implies `logger`, and is on whenever `logger` is) |
//! | `metrics-facade` | `metrics::facade::MetricsRecorder`: `counter!`, `gauge!`, `histogram!` of the `metrics` crate into the same EMF documents (implies `metrics`) |
//! | `opentelemetry` | `tracer::opentelemetry`: X-Ray ids, trace-header propagator, and a span processor sending OpenTelemetry spans as subsegments (implies `tracer`) |

mod assemble;
mod layer;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "testing")]
pub mod testing;

pub use layer::{ConfigError, PowertoolsLayer, PowertoolsLayerBuilder};

/// `lambda_runtime::service_fn` behind
/// [`ReportErrors`](powertools_core::layer::ReportErrors): what to hand `lambda_runtime::run` for
/// a `#[powertools::handler]` without `main`, so that a failure reaches Lambda named after the
/// error's own type (`Declined`; `Panic` for a panic) rather than a Rust type path.
///
/// ```no_run
/// use lambda_runtime::{Error, LambdaEvent};
/// use serde_json::Value;
///
/// #[powertools::handler(service = "payment", namespace = "Airline")]
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     Ok(event.payload)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     lambda_runtime::run(powertools::service_fn(handler)).await
/// }
/// ```
pub fn service_fn<F>(
    handler: F,
) -> powertools_core::layer::ReportErrors<tower::util::ServiceFn<F>> {
    powertools_core::layer::ReportErrors::new(lambda_runtime::service_fn(handler))
}

/// The attribute that wraps a handler in [`PowertoolsLayer`].
///
/// ```no_run
/// use lambda_runtime::{Error, LambdaEvent};
/// use serde_json::Value;
///
/// #[powertools::handler(
///     service = "payment",            // POWERTOOLS_SERVICE_NAME
///     namespace = "Airline",          // POWERTOOLS_METRICS_NAMESPACE
///     correlation_id_path = "API_GATEWAY_REST",
///     log_event,                      // POWERTOOLS_LOGGER_LOG_EVENT
///     capture_cold_start_metric,
///     capture_response = false,       // POWERTOOLS_TRACER_CAPTURE_RESPONSE
///     main,                           // also generate `fn main`
/// )]
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     Ok(event.payload)
/// }
/// ```
///
/// Every argument is optional and falls back to the `POWERTOOLS_*` environment. `name = "…"`
/// names the `## …` subsegment (default: the function's name). The handler keeps its name and
/// signature, so `lambda_runtime::run(service_fn(handler))` works as before; with `main`, the
/// attribute writes that `main` (`run_concurrent`, so `AWS_LAMBDA_MAX_CONCURRENCY` is honoured).
pub use powertools_macros::handler;

/// What the logger, metrics and tracer share: the invocation scope, cold start, configuration,
/// the trace header and the [`InvocationLayer`](powertools_core::layer::InvocationLayer).
pub use powertools_core as core;

/// Structured JSON logging through `tracing` ([`powertools_logger`]).
#[cfg(feature = "logger")]
pub mod logger {
    #[doc(inline)]
    pub use powertools_logger::*;
}

/// CloudWatch Embedded Metric Format metrics ([`powertools_metrics`]).
#[cfg(feature = "metrics")]
pub mod metrics {
    #[doc(inline)]
    pub use powertools_metrics::*;
}

/// AWS X-Ray tracing from `tracing` spans ([`powertools_tracer`]).
#[cfg(feature = "tracer")]
pub mod tracer {
    #[doc(inline)]
    pub use powertools_tracer::*;
}
