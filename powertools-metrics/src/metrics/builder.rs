//! Configuring a [`Metrics`].

use std::fmt;
use std::sync::Arc;

use powertools_core::PowertoolsConfig;

use super::Metrics;
use super::shared::{ErrorHandler, Settings, Shared};
use crate::document::Base;
use crate::document::rules::{self, MAX_DIMENSIONS_PER_SET};
use crate::{MetricsError, MetricsSink, StdoutSink};

/// Builds a [`Metrics`]; from [`Metrics::builder`].
///
/// Every setting not given comes from the environment, read once per process
/// ([`PowertoolsConfig::global`]): `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`
/// (default `service_undefined`), `POWERTOOLS_METRICS_FUNCTION_NAME`,
/// `POWERTOOLS_METRICS_DISABLED`.
///
/// # Example
/// ```
/// use powertools_metrics::{CaptureSink, Metrics};
///
/// let metrics = Metrics::builder()
///     .namespace("ServerlessAirline")
///     .service("booking")
///     .default_dimension("environment", "prod")
///     .capture_cold_start_metric(true)
///     .sink(CaptureSink::new())
///     .build()?;
/// # let _ = metrics;
/// # Ok::<(), powertools_metrics::MetricsError>(())
/// ```
#[must_use]
pub struct MetricsBuilder {
    config: Option<PowertoolsConfig>,
    namespace: Option<String>,
    service: Option<String>,
    default_dimensions: Vec<(String, String)>,
    function_name: Option<String>,
    capture_cold_start: bool,
    raise_on_empty: bool,
    warn_on_empty: bool,
    disabled: Option<bool>,
    sink: Option<Arc<dyn MetricsSink>>,
    on_error: Option<ErrorHandler>,
}

impl Default for MetricsBuilder {
    fn default() -> Self {
        Self {
            config: None,
            namespace: None,
            service: None,
            default_dimensions: Vec::new(),
            function_name: None,
            capture_cold_start: false,
            raise_on_empty: false,
            warn_on_empty: true,
            disabled: None,
            sink: None,
            on_error: None,
        }
    }
}

impl fmt::Debug for MetricsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsBuilder")
            .field("namespace", &self.namespace)
            .field("service", &self.service)
            .field("default_dimensions", &self.default_dimensions)
            .field("function_name", &self.function_name)
            .field("capture_cold_start", &self.capture_cold_start)
            .field("raise_on_empty", &self.raise_on_empty)
            .field("warn_on_empty", &self.warn_on_empty)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl MetricsBuilder {
    /// The CloudWatch namespace (else `POWERTOOLS_METRICS_NAMESPACE`; one of them is required).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The `service` dimension (else `POWERTOOLS_SERVICE_NAME`, else `service_undefined`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// A dimension of every document (and of the ColdStart metric). Setting `service` here is
    /// the same as [`MetricsBuilder::service`]; a key given twice keeps the last value.
    pub fn default_dimension(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        if key == "service" {
            self.service = Some(value);
            return self;
        }
        match self.default_dimensions.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.default_dimensions.push((key, value)),
        }
        self
    }

    /// Several default dimensions; see [`MetricsBuilder::default_dimension`].
    pub fn default_dimensions<K: Into<String>, V: Into<String>>(
        self,
        dimensions: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        dimensions
            .into_iter()
            .fold(self, |b, (k, v)| b.default_dimension(k, v))
    }

    /// The `function_name` dimension of the ColdStart metric (else
    /// `POWERTOOLS_METRICS_FUNCTION_NAME`, else the invocation's function name).
    pub fn function_name(mut self, function_name: impl Into<String>) -> Self {
        self.function_name = Some(function_name.into());
        self
    }

    /// Whether a cold invocation writes the ColdStart metric (default false, as in Powertools for
    /// Python and TypeScript).
    pub fn capture_cold_start_metric(mut self, capture: bool) -> Self {
        self.capture_cold_start = capture;
        self
    }

    /// Whether an invocation (or flush) with no metrics is an error, [`MetricsError::NoMetrics`],
    /// rather than a warning (default false). [`Metrics::flush`] returns it; at the end of an
    /// invocation the hook hands it to [`MetricsBuilder::on_error`], by default an error line.
    pub fn raise_on_empty_metrics(mut self, raise: bool) -> Self {
        self.raise_on_empty = raise;
        self
    }

    /// Whether an invocation with no metrics writes a warning line (default true).
    pub fn warn_on_empty_metrics(mut self, warn: bool) -> Self {
        self.warn_on_empty = warn;
        self
    }

    /// Disables all output: no documents, no warnings (else `POWERTOOLS_METRICS_DISABLED`).
    /// Recording is still checked, so errors are the same as when enabled.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = Some(disabled);
        self
    }

    /// Where documents go (default [`StdoutSink`]).
    pub fn sink(mut self, sink: impl MetricsSink) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// What to do with an error the invocation hook cannot return (today only
    /// [`MetricsError::NoMetrics`] with `raise_on_empty_metrics`). The default writes one
    /// `"level":"ERROR"` line to stdout.
    pub fn on_error(mut self, handler: impl Fn(&MetricsError) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(handler));
        self
    }

    /// Reads defaults from this configuration instead of the process's environment (for tests).
    pub fn environment(mut self, config: &PowertoolsConfig) -> Self {
        self.config = Some(config.clone());
        self
    }

    /// Checks the configuration and builds the handle.
    ///
    /// # Errors
    /// [`MetricsError::MissingNamespace`] without a namespace; [`MetricsError::InvalidName`] for
    /// a bad namespace, service or default dimension; [`MetricsError::TooManyDimensions`] for
    /// more than 29 default dimensions (28 with the ColdStart metric).
    pub fn build(self) -> Result<Metrics, MetricsError> {
        let config = self
            .config
            .as_ref()
            .unwrap_or_else(|| PowertoolsConfig::global());
        let env = &config.powertools;
        let namespace = self
            .namespace
            .or_else(|| env.metrics_namespace.clone())
            .ok_or(MetricsError::MissingNamespace)?;
        rules::check_namespace(&namespace)?;
        let service = self.service.unwrap_or_else(|| env.service_name.clone());
        rules::check_dimension_value(&service)?;
        for (k, v) in &self.default_dimensions {
            rules::check_dimension_name(k)?;
            rules::check_dimension_value(v)?;
        }
        let function_name = self
            .function_name
            .or_else(|| env.metrics_function_name.clone());
        if let Some(name) = &function_name {
            rules::check_dimension_value(name)?;
        }
        let fixed = if self.capture_cold_start { 2 } else { 1 };
        let count = self.default_dimensions.len() + fixed;
        if count > MAX_DIMENSIONS_PER_SET {
            return Err(MetricsError::TooManyDimensions {
                count,
                max: MAX_DIMENSIONS_PER_SET,
            });
        }
        let mut base_dimensions = self.default_dimensions.clone();
        base_dimensions.push(("service".to_owned(), service.clone()));
        let settings = Settings {
            base: Base::new(namespace, base_dimensions),
            service,
            default_dimensions: self.default_dimensions,
            function_name,
            capture_cold_start: self.capture_cold_start,
            raise_on_empty: self.raise_on_empty,
            warn_on_empty: self.warn_on_empty,
            disabled: self.disabled.unwrap_or(env.metrics_disabled),
            sink: self.sink.unwrap_or_else(|| Arc::new(StdoutSink)),
            on_error: self.on_error,
        };
        Ok(Metrics {
            shared: Arc::new(Shared::new(settings)),
        })
    }
}
