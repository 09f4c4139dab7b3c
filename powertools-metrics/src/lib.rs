//! CloudWatch metrics for Rust AWS Lambda functions, in the Embedded Metric Format (EMF):
//! recorded anywhere in the handler's call tree, aggregated per invocation, written to stdout as
//! compact JSON documents when the handler completes. No network call, no latency added to the
//! response.
//!
//! - [`current`]: the handle of the invocation in scope — what a handler records through.
//! - [`Metrics`]: the handle user code records through ([`Metrics::add_metric`],
//!   [`Metrics::add_dimension`], [`Metrics::add_metadata`], [`Metrics::single_metric`], …),
//!   configured by [`MetricsBuilder`].
//! - [`MetricsHook`]: plugs into [`powertools_core::layer::InvocationLayer`]; writes the ColdStart
//!   metric and flushes each invocation's document on `Ok`, `Err` or panic.
//! - [`Unit`], [`Resolution`]: every CloudWatch unit; standard or high resolution.
//! - [`MetricsSink`]: where documents go — [`StdoutSink`] (default), [`CaptureSink`] (tests),
//!   [`WriterSink`].
//! - [`MetricsError`]: every rule broken, typed. Nothing panics, nothing is dropped silently.
//! - Feature `metrics-facade`: [`facade::MetricsRecorder`], so `counter!`, `gauge!` and
//!   `histogram!` of the `metrics` crate land in the same documents.
//!
//! # Rules enforced
//! At most 100 metrics per document and 100 values per metric (reaching either writes the
//! document and begins the next), at most 30 dimensions per dimension set (an error), names of
//! 1–255 characters, finite values only, and metric names, dimension names and metadata keys
//! never sharing a key (they share the document's top level).
//!
//! # Testing
//! Give the builder a [`CaptureSink`] and read back the parsed documents; run code inside an
//! invocation with [`Invocation::scope`](powertools_core::Invocation::scope) and end it with the
//! hook:
//!
//! ```
//! use powertools_core::{Invocation, InvocationContext, layer::{InvocationHook, InvocationOutcome, ResponseView}};
//! use powertools_metrics::{CaptureSink, Metrics, Unit};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), powertools_metrics::MetricsError> {
//! let sink = CaptureSink::new();
//! let metrics = Metrics::builder().namespace("Shop").service("orders").sink(sink.clone())
//!     .capture_cold_start_metric(true).build()?;
//! let hook = metrics.invocation_hook();
//!
//! let invocation = Invocation::new(InvocationContext::for_test("req-1", "orders-fn").with_cold_start(true));
//! let render = || None;
//! hook.on_start(&invocation, &powertools_core::layer::EventView::new(&render));
//! invocation.clone().scope(async {
//!     // The handle of the invocation in scope: `metrics`, whose hook started it.
//!     powertools_metrics::current().add_metric("Orders", Unit::Count, 1.0)
//! }).await?;
//! hook.on_end(&invocation, &InvocationOutcome::Success(&ResponseView::new(&render)));
//!
//! let docs = sink.documents();
//! assert_eq!(docs[0]["ColdStart"], 1);
//! assert_eq!(docs[0]["function_name"], "orders-fn");
//! assert_eq!(docs[1]["Orders"], 1);
//! # Ok(()) }
//! ```

mod diagnostics;
mod document;
mod error;
#[cfg(feature = "metrics-facade")]
pub mod facade;
mod hook;
mod metrics;
mod single_metric;
mod sink;
mod unit;

#[cfg(test)]
mod test_support;

pub use document::rules::{
    MAX_DIMENSION_VALUE_CHARS, MAX_DIMENSIONS_PER_SET, MAX_METRICS_PER_DOCUMENT, MAX_NAME_CHARS,
    MAX_VALUES_PER_METRIC,
};
pub use error::{KeyKind, MetricsError};
pub use hook::MetricsHook;
pub use metrics::{BoundMetrics, Metrics, MetricsBuilder, current};
pub use single_metric::SingleMetric;
pub use sink::{CaptureSink, MetricsSink, StdoutSink, WriterSink};
pub use unit::{Resolution, Unit};
