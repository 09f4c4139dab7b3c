//! [`PowertoolsLayer`]: the logger, metrics and tracer around a handler, as one `tower::Layer`.

use std::fmt;

use powertools_core::layer::{InvocationLayer, InvocationService, ReportErrors};
use tower::Layer;

/// A configuration the toolkit cannot run with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The metrics part could not be configured (e.g. no namespace).
    #[cfg(feature = "metrics")]
    #[error("metrics: {0}")]
    Metrics(#[from] powertools_metrics::MetricsError),
    /// The logger could not be configured (e.g. a malformed correlation id path).
    #[cfg(feature = "logger")]
    #[error("logger: {0}")]
    Logger(#[from] powertools_logger::CorrelationIdPathError),
}

/// The logger, metrics and tracer around a Lambda handler, as a `tower::Layer`.
///
/// This is what `#[powertools::handler]` expands to; compose it by hand to combine it with other
/// layers. For every invocation, in this order: the invocation scope (request id, trace header,
/// cold start), the logger's Lambda keys, event logging and correlation id, the ColdStart metric,
/// the `## handler` subsegment; then the handler; then the response or error captured on the
/// subsegment, the EMF flush, the log buffer flushed on failure and the subsegments sent — on
/// `Ok`, on `Err` and on panic, before the result goes back to the runtime.
///
/// ```no_run
/// use lambda_runtime::{service_fn, Error, LambdaEvent};
/// use powertools::PowertoolsLayer;
/// use serde_json::Value;
/// use tower::ServiceBuilder;
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     tracing::info!("processing");
///     Ok(event.payload)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     let layer = PowertoolsLayer::builder()
///         .service("payment")
///         .namespace("Airline")
///         .handler_name("handler")
///         .build()?;
///     let service = ServiceBuilder::new().layer(layer).service(service_fn(handler));
///     lambda_runtime::run_concurrent(service).await
/// }
/// ```
#[derive(Clone)]
pub struct PowertoolsLayer {
    inner: InvocationLayer,
}

impl fmt::Debug for PowertoolsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PowertoolsLayer")
            .field("inner", &self.inner)
            .finish()
    }
}

impl PowertoolsLayer {
    /// A builder; every setting left unset falls back to the `POWERTOOLS_*` environment.
    pub fn builder() -> PowertoolsLayerBuilder {
        PowertoolsLayerBuilder::default()
    }

    /// The invocation layer underneath, with the utilities' hooks.
    pub fn invocation_layer(&self) -> &InvocationLayer {
        &self.inner
    }
}

/// The service is the invocation layer's, behind
/// [`ReportErrors`](powertools_core::layer::ReportErrors): a failure reaches Lambda as a
/// `Diagnostic` named after the error's own type (`Declined`; `Panic` for a panic).
impl<S> Layer<S> for PowertoolsLayer {
    type Service = ReportErrors<InvocationService<S>>;

    fn layer(&self, inner: S) -> Self::Service {
        ReportErrors::new(self.inner.layer(inner))
    }
}

/// Builds a [`PowertoolsLayer`].
#[derive(Debug, Default)]
#[must_use]
pub struct PowertoolsLayerBuilder {
    #[cfg(feature = "logger")]
    pub(crate) logger: Option<powertools_logger::Logger>,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<powertools_metrics::Metrics>,
    #[cfg(feature = "tracer")]
    pub(crate) tracer: Option<powertools_tracer::Tracer>,
    pub(crate) handler_name: Option<String>,
    pub(crate) handler_location: Option<String>,
    pub(crate) service: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) correlation_id_path: Option<String>,
    pub(crate) log_event: Option<bool>,
    pub(crate) capture_cold_start_metric: Option<bool>,
    pub(crate) capture_response: Option<bool>,
    pub(crate) capture_error: Option<bool>,
    pub(crate) install_subscriber: Option<bool>,
    pub(crate) timeout_margin: Option<std::time::Duration>,
}

impl PowertoolsLayerBuilder {
    /// The handler's name: the tracer's `## <name>` subsegment (default `handler`).
    pub fn handler_name(mut self, name: impl Into<String>) -> Self {
        self.handler_name = Some(name.into());
        self
    }

    /// The service name (default `POWERTOOLS_SERVICE_NAME`, else `service_undefined`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The EMF namespace (default `POWERTOOLS_METRICS_NAMESPACE`; one of them is required when
    /// the `metrics` feature is on).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Where the correlation id is in the event: a dotted path such as
    /// `requestContext.requestId`, or one of the built-in names `API_GATEWAY_REST`,
    /// `API_GATEWAY_HTTP`, `LAMBDA_FUNCTION_URL`, `APPLICATION_LOAD_BALANCER`, `EVENT_BRIDGE`.
    pub fn correlation_id_path(mut self, path: impl Into<String>) -> Self {
        self.correlation_id_path = Some(path.into());
        self
    }

    /// Log every incoming event (default `POWERTOOLS_LOGGER_LOG_EVENT`, else off: events carry
    /// secrets).
    pub fn log_event(mut self, on: bool) -> Self {
        self.log_event = Some(on);
        self
    }

    /// Emit the ColdStart metric on cold invocations (default off, as in Powertools for Python
    /// and TypeScript).
    pub fn capture_cold_start_metric(mut self, on: bool) -> Self {
        self.capture_cold_start_metric = Some(on);
        self
    }

    /// Record the handler's response as subsegment metadata (default
    /// `POWERTOOLS_TRACER_CAPTURE_RESPONSE`, else on).
    pub fn capture_response(mut self, on: bool) -> Self {
        self.capture_response = Some(on);
        self
    }

    /// Record the handler's error as subsegment metadata (default
    /// `POWERTOOLS_TRACER_CAPTURE_ERROR`, else on).
    pub fn capture_error(mut self, on: bool) -> Self {
        self.capture_error = Some(on);
        self
    }

    /// Where the handler is defined, `file:line` (the attribute passes its own): the `location`
    /// of the ERROR line for an `Err`. See
    /// [`InvocationLayer::handler_location`](powertools_core::layer::InvocationLayer::handler_location).
    ///
    /// ```no_run
    /// let layer = powertools::PowertoolsLayer::builder()
    ///     .handler_location(concat!(file!(), ":", line!()))
    ///     .build()?;
    /// # Ok::<(), powertools::ConfigError>(())
    /// ```
    pub fn handler_location(mut self, location: impl Into<String>) -> Self {
        self.handler_location = Some(location.into());
        self
    }

    /// How long before the deadline an invocation still running is written out — its log
    /// lines, metrics and handler subsegment, as a timeout — while it still can be (else
    /// `POWERTOOLS_TIMEOUT_MARGIN_MS`, else 200 ms; zero turns it off). See
    /// [`InvocationLayer::timeout_margin`].
    pub fn timeout_margin(mut self, margin: std::time::Duration) -> Self {
        self.timeout_margin = Some(margin);
        self
    }

    /// Whether `build` installs the global `tracing` subscriber (logger and tracer layers) when
    /// none is installed yet (default true). Turn it off to compose your own subscriber from
    /// the logger's and tracer's layers.
    pub fn install_subscriber(mut self, on: bool) -> Self {
        self.install_subscriber = Some(on);
        self
    }

    /// Uses this logger instead of one built from the settings above (`service`, `log_event`;
    /// `correlation_id_path` still applies).
    ///
    /// ```
    /// use powertools::PowertoolsLayer;
    /// use powertools::logger::{Logger, MemorySink};
    ///
    /// let lines = MemorySink::new();
    /// let layer = PowertoolsLayer::builder()
    ///     .namespace("Shop")
    ///     .logger(Logger::new().service("cart").sink(lines.clone()))
    ///     .install_subscriber(false)
    ///     .build()?;
    /// # Ok::<(), powertools::ConfigError>(())
    /// ```
    #[cfg(feature = "logger")]
    pub fn logger(mut self, logger: powertools_logger::Logger) -> Self {
        self.logger = Some(logger);
        self
    }

    /// Uses this metrics handle instead of one built from the settings above (`service`,
    /// `namespace`, `capture_cold_start_metric`).
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, metrics: powertools_metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Uses this tracer instead of one built from the settings above (`service`,
    /// `capture_response`, `capture_error`).
    #[cfg(feature = "tracer")]
    pub fn tracer(mut self, tracer: powertools_tracer::Tracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Builds the layer (and installs the subscriber, see
    /// [`install_subscriber`](Self::install_subscriber)).
    ///
    /// # Errors
    /// [`ConfigError::Metrics`] when no namespace is set here or in
    /// `POWERTOOLS_METRICS_NAMESPACE` (or it is invalid); [`ConfigError::Logger`] for a
    /// malformed correlation id path.
    pub fn build(self) -> Result<PowertoolsLayer, ConfigError> {
        crate::assemble::assemble(self, false)
    }

    /// Builds the layer and the `tracing` subscriber it would install (the logger's and the
    /// tracer's layers on a `Registry`), installing nothing: set the subscriber yourself, e.g.
    /// per thread with `tracing::dispatcher::with_default`.
    ///
    /// ```
    /// use powertools::PowertoolsLayer;
    ///
    /// let (layer, subscriber) = PowertoolsLayer::builder().namespace("Shop").build_with_subscriber()?;
    /// tracing::dispatcher::with_default(&subscriber, || tracing::info!("through the logger"));
    /// # let _ = layer;
    /// # Ok::<(), powertools::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`build`](Self::build).
    pub fn build_with_subscriber(
        self,
    ) -> Result<(PowertoolsLayer, tracing::Dispatch), ConfigError> {
        let assembled = crate::assemble::assemble_parts(self, false)?;
        Ok((assembled.layer, assembled.dispatch))
    }

    /// Like [`build`](Self::build), but a part that cannot be configured is left out with one
    /// error line instead of failing (what `#[handler]` does: it has no `main` to fail from).
    pub(crate) fn build_lenient(self) -> PowertoolsLayer {
        let handler_name = self.handler_name.clone();
        crate::assemble::assemble(self, true).unwrap_or_else(|_| PowertoolsLayer {
            inner: InvocationLayer::new()
                .handler_name(handler_name.unwrap_or_else(|| "handler".to_owned())),
        })
    }
}

impl PowertoolsLayer {
    pub(crate) fn from_invocation_layer(inner: InvocationLayer) -> Self {
        Self { inner }
    }
}
