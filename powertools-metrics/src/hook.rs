//! The invocation hook: the ColdStart metric before the handler, the flush after it.

use std::fmt;
use std::sync::Arc;

use powertools_core::Invocation;
use powertools_core::layer::{EventView, InvocationHook, InvocationOutcome};

use crate::document::{Base, Document, Merge};
use crate::metrics::shared::InvocationMetrics;
use crate::{Metrics, Resolution, Unit, diagnostics};

/// What [`Metrics`] does around each invocation; from [`Metrics::invocation_hook`].
///
/// - before the handler, on a cold invocation (never under provisioned concurrency): one
///   separate document with `ColdStart: 1` (`Count`) and the dimensions `function_name`,
///   `service` and the default dimensions — on success and failure alike, since it is written
///   before the handler runs;
/// - after the handler (`Ok`, `Err` or panic): the invocation's document is written and its state
///   dropped; at a timeout cut-off ([`InvocationOutcome::Timeout`]) what was recorded so far is
///   written, and recording stays open until the handler's real end. No metrics recorded ⇒ one warning line, or, with
///   [`raise_on_empty_metrics`](crate::MetricsBuilder::raise_on_empty_metrics),
///   [`MetricsError::NoMetrics`](crate::MetricsError::NoMetrics) handed to
///   [`on_error`](crate::MetricsBuilder::on_error) (by default one `"level":"ERROR"` line).
///
/// # Example
/// ```no_run
/// use lambda_runtime::{service_fn, Error, LambdaEvent};
/// use powertools_core::layer::InvocationLayer;
/// use powertools_metrics::{Metrics, Unit};
/// use serde_json::Value;
/// use std::sync::LazyLock;
/// use tower::ServiceBuilder;
///
/// static METRICS: LazyLock<Metrics> =
///     LazyLock::new(|| Metrics::builder().namespace("Shop").build().expect("metrics config"));
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     METRICS.add_metric("Orders", Unit::Count, 1.0)?;
///     Ok(event.payload)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     let service = ServiceBuilder::new()
///         .layer(InvocationLayer::new().hook(METRICS.invocation_hook()))
///         .service(service_fn(handler));
///     lambda_runtime::run(service).await
/// }
/// ```
#[derive(Clone)]
pub struct MetricsHook {
    metrics: Metrics,
}

impl MetricsHook {
    /// The hook of `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }

    /// Writes the ColdStart document for this invocation if it is cold and the metric enabled.
    fn cold_start(&self, invocation: &Invocation) {
        let shared = self.metrics.shared_arc();
        let settings = &shared.settings;
        if settings.disabled
            || shared.follows_invocation
            || !settings.capture_cold_start
            || !invocation.context().is_cold_start()
        {
            return;
        }
        let function_name = settings
            .function_name
            .as_deref()
            .unwrap_or_else(|| invocation.context().function_name());
        let mut dimensions = Vec::with_capacity(settings.default_dimensions.len() + 2);
        if crate::document::rules::check_dimension_value(function_name).is_ok() {
            dimensions.push(("function_name".to_owned(), function_name.to_owned()));
        }
        dimensions.push(("service".to_owned(), settings.service.clone()));
        dimensions.extend(
            settings
                .default_dimensions
                .iter()
                .filter(|(k, _)| k != "function_name")
                .cloned(),
        );
        let base = Base::new(settings.base.namespace.clone(), dimensions);
        let mut document = Document::default();
        match document.record(
            &base,
            "ColdStart",
            Unit::Count,
            Resolution::Standard,
            1.0,
            Merge::Append,
        ) {
            Ok(_) => shared.write(&base, &mut document),
            Err(e) => diagnostics::warn(&format!("the ColdStart metric was not written: {e}")),
        }
    }
}

impl fmt::Debug for MetricsHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsHook")
            .field("metrics", &self.metrics)
            .finish()
    }
}

impl InvocationHook for MetricsHook {
    fn on_start(&self, invocation: &Invocation, _event: &EventView<'_>) {
        if !self.metrics.follows_invocation() {
            // The first hook to start the invocation makes its handle the current one.
            invocation
                .extensions()
                .try_get_or_init(|| InvocationMetrics::new(self.metrics.clone()));
        }
        self.cold_start(invocation);
    }

    fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        let shared = self.metrics.shared_arc();
        if matches!(outcome, InvocationOutcome::Timeout(_)) {
            // About to be stopped: write what was recorded so far, keep recording open (the
            // handler may still finish, and its later metrics are written at its real end).
            crate::metrics::shared::Shared::write_invocation_so_far(invocation);
            return;
        }
        let last = invocation
            .extensions()
            .get::<InvocationMetrics>()
            .is_some_and(|state| Arc::ptr_eq(state.current.shared_arc(), shared));
        shared.finish_invocation(invocation, last);
    }
}
