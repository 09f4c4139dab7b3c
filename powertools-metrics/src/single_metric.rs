//! One-off documents: a metric with its own dimensions, written at once.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::document::{Base, Document, Fill, Merge};
use crate::{Metrics, MetricsError, Resolution, Unit};

/// A one-off document being prepared; from [`Metrics::single_metric`], written by
/// [`SingleMetric::emit`].
///
/// It has the namespace, the default dimensions and `service` (unless
/// [`without_default_dimensions`](SingleMetric::without_default_dimensions)) and the dimensions
/// given here, independent of the invocation's document.
#[must_use = "a single metric is written only by `emit`"]
pub struct SingleMetric {
    metrics: Metrics,
    name: String,
    unit: Unit,
    values: Vec<f64>,
    resolution: Resolution,
    dimensions: Vec<(String, String)>,
    metadata: Vec<(String, Result<String, MetricsError>)>,
    timestamp: Option<SystemTime>,
    default_dimensions: bool,
}

impl SingleMetric {
    pub(crate) fn new(metrics: Metrics, name: &str, unit: Unit, value: f64) -> Self {
        Self {
            metrics,
            name: name.to_owned(),
            unit,
            values: vec![value],
            resolution: Resolution::Standard,
            dimensions: Vec::new(),
            metadata: Vec::new(),
            timestamp: None,
            default_dimensions: true,
        }
    }

    /// Another value of the metric.
    pub fn value(mut self, value: f64) -> Self {
        self.values.push(value);
        self
    }

    /// The storage resolution (default standard).
    pub fn resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = resolution;
        self
    }

    /// A dimension of this document.
    pub fn dimension(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.dimensions.push((key.into(), value.into()));
        self
    }

    /// A metadata member of this document.
    pub fn metadata(mut self, key: impl Into<String>, value: impl serde::Serialize) -> Self {
        let key = key.into();
        let json = serde_json::to_string(&value).map_err(|e| MetricsError::Metadata {
            key: key.clone(),
            message: e.to_string(),
        });
        self.metadata.push((key, json));
        self
    }

    /// The document's timestamp (default now).
    pub fn timestamp(mut self, time: SystemTime) -> Self {
        self.timestamp = Some(time);
        self
    }

    /// Leaves out the default dimensions and `service`.
    pub fn without_default_dimensions(mut self) -> Self {
        self.default_dimensions = false;
        self
    }

    /// Checks and writes the document.
    ///
    /// # Errors
    /// The same as [`Metrics::add_metric`], [`Metrics::add_dimension`] and
    /// [`Metrics::add_metadata`]; nothing is written then.
    pub fn emit(self) -> Result<(), MetricsError> {
        let metrics = self.metrics.resolve()?;
        let shared = metrics.shared_arc();
        let settings = &shared.settings;
        let empty;
        let base = if self.default_dimensions {
            &settings.base
        } else {
            empty = Base::new(settings.base.namespace.clone(), Vec::new());
            &empty
        };
        let mut document = Document::default();
        for (k, v) in &self.dimensions {
            document.add_dimension(base, k, v)?;
        }
        for (k, json) in self.metadata {
            document.add_metadata(base, &k, json?)?;
        }
        if let Some(time) = self.timestamp {
            let millis = time
                .duration_since(UNIX_EPOCH)
                .map_err(|_| MetricsError::TimestampBeforeEpoch)?;
            document.set_timestamp(millis.as_millis() as u64);
        }
        // Check every value first, so that an error writes nothing.
        if let Some(bad) = self.values.iter().find(|v| !v.is_finite()) {
            return Err(MetricsError::NonFiniteValue {
                name: self.name,
                value: *bad,
            });
        }
        for value in self.values {
            let fill = document.record(
                base,
                &self.name,
                self.unit,
                self.resolution,
                value,
                Merge::Append,
            )?;
            if fill == Fill::Full {
                shared.write(base, &mut document);
                document.clear_metrics();
            }
        }
        if document.has_metrics() {
            shared.write(base, &mut document);
        }
        Ok(())
    }
}

impl fmt::Debug for SingleMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleMetric")
            .field("name", &self.name)
            .field("unit", &self.unit)
            .field("values", &self.values)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}
