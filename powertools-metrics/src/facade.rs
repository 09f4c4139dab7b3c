//! A recorder for the `metrics` crate (feature `metrics-facade`): code instrumented with
//! `counter!`, `gauge!` and `histogram!` writes into the same per-invocation EMF documents.
//!
//! | macro | EMF |
//! | --- | --- |
//! | `counter!(..).increment(n)` | one value per document, the sum of the increments (`Count` unless described otherwise) |
//! | `gauge!(..).set(x)` / `increment` / `decrement` | one value per document, the last (`None` unless described) |
//! | `histogram!(..).record(x)` | every value (`None` unless described) |
//!
//! Labels become dimensions of the document. A unit given with `describe_counter!` and friends
//! is used from then on. What cannot be recorded (a NaN, a name colliding with a dimension) gives
//! a warning line once per metric name, since the facade's handles cannot return errors.
//!
//! ```
//! use powertools_metrics::{CaptureSink, Metrics, facade::MetricsRecorder};
//!
//! let sink = CaptureSink::new();
//! let metrics = Metrics::builder().namespace("Shop").service("orders").sink(sink.clone()).build()?;
//! let recorder = MetricsRecorder::new(metrics.clone());
//! metrics::with_local_recorder(&recorder, || {
//!     metrics::counter!("orders_placed").increment(2);
//!     metrics::counter!("orders_placed").increment(3);
//!     metrics::histogram!("basket_size").record(4.0);
//! });
//! metrics.flush()?;
//! let doc = &sink.documents()[0];
//! assert_eq!(doc["orders_placed"], 5);
//! assert_eq!(doc["basket_size"], 4);
//! # Ok::<(), powertools_metrics::MetricsError>(())
//! ```
//! In a function, install it once at init: `MetricsRecorder::new(powertools_metrics::current())
//! .install()` records into the document of whichever invocation is in scope when a macro
//! records (under its layer's namespace and dimensions); outside an invocation a value is
//! refused with one warning line. `MetricsRecorder::new(metrics)` with a handle of your own
//! records into that handle's documents.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, SharedString};

use crate::document::Merge;
use crate::metrics::shared::Target;
use crate::{Metrics, MetricsError, Resolution, Unit, diagnostics};

/// A `metrics::Recorder` writing into a [`Metrics`]' documents.
#[derive(Clone)]
pub struct MetricsRecorder {
    metrics: Metrics,
    units: Arc<RwLock<HashMap<String, Unit>>>,
}

impl MetricsRecorder {
    /// A recorder for `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            metrics,
            units: Arc::default(),
        }
    }

    /// Installs it as the process's global recorder.
    ///
    /// # Errors
    /// When a global recorder is already installed.
    pub fn install(self) -> Result<(), metrics::SetRecorderError<Self>> {
        metrics::set_global_recorder(self)
    }

    fn describe(&self, key: &KeyName, unit: Option<metrics::Unit>) {
        if let Some(unit) = unit {
            self.units
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key.as_str().to_owned(), cloudwatch_unit(unit));
        }
    }

    fn handle(&self, key: &Key, kind: Kind) -> Arc<Handle> {
        let unit = self
            .units
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key.name())
            .copied()
            .unwrap_or(match kind {
                Kind::Counter => Unit::Count,
                Kind::Gauge | Kind::Histogram => Unit::None,
            });
        Arc::new(Handle {
            metrics: self.metrics.clone(),
            name: key.name().to_owned(),
            unit,
            labels: key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect(),
        })
    }
}

impl fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsRecorder")
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

/// The CloudWatch unit closest to a `metrics` unit (binary byte multiples map to CloudWatch's
/// byte multiples; nanoseconds, which CloudWatch lacks, to `None`).
fn cloudwatch_unit(unit: metrics::Unit) -> Unit {
    use metrics::Unit as M;
    match unit {
        M::Count => Unit::Count,
        M::Percent => Unit::Percent,
        M::Seconds => Unit::Seconds,
        M::Milliseconds => Unit::Milliseconds,
        M::Microseconds => Unit::Microseconds,
        M::Nanoseconds => Unit::None,
        M::Tebibytes => Unit::Terabytes,
        M::Gibibytes => Unit::Gigabytes,
        M::Mebibytes => Unit::Megabytes,
        M::Kibibytes => Unit::Kilobytes,
        M::Bytes => Unit::Bytes,
        M::TerabitsPerSecond => Unit::TerabitsPerSecond,
        M::GigabitsPerSecond => Unit::GigabitsPerSecond,
        M::MegabitsPerSecond => Unit::MegabitsPerSecond,
        M::KilobitsPerSecond => Unit::KilobitsPerSecond,
        M::BitsPerSecond => Unit::BitsPerSecond,
        M::CountPerSecond => Unit::CountPerSecond,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

struct Handle {
    metrics: Metrics,
    name: String,
    unit: Unit,
    labels: Vec<(String, String)>,
}

impl Handle {
    fn record(&self, value: f64, merge: Merge) {
        let shared = self.metrics.shared_arc();
        let result = self.labels.iter().try_for_each(|(k, v)| {
            shared.change(Target::Current, |base, d| d.add_dimension(base, k, v))
        });
        let result = result.and_then(|()| {
            shared.record(
                Target::Current,
                &self.name,
                self.unit,
                Resolution::Standard,
                value,
                merge,
            )
        });
        if let Err(error) = result {
            self.warn(&error);
        }
    }

    fn warn(&self, error: &MetricsError) {
        if !self.metrics.is_disabled() {
            diagnostics::warn_once(
                &format!("facade:{}", self.name),
                &format!(
                    "metrics facade: {error} (further errors of this metric are not reported)"
                ),
            );
        }
    }
}

impl metrics::CounterFn for Handle {
    fn increment(&self, value: u64) {
        self.record(value as f64, Merge::Sum);
    }

    fn absolute(&self, value: u64) {
        self.record(value as f64, Merge::Replace);
    }
}

impl metrics::GaugeFn for Handle {
    fn increment(&self, value: f64) {
        self.record(value, Merge::Sum);
    }

    fn decrement(&self, value: f64) {
        self.record(-value, Merge::Sum);
    }

    fn set(&self, value: f64) {
        self.record(value, Merge::Replace);
    }
}

impl metrics::HistogramFn for Handle {
    fn record(&self, value: f64) {
        Handle::record(self, value, Merge::Append);
    }
}

impl metrics::Recorder for MetricsRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<metrics::Unit>, _: SharedString) {
        self.describe(&key, unit);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<metrics::Unit>, _: SharedString) {
        self.describe(&key, unit);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<metrics::Unit>, _: SharedString) {
        self.describe(&key, unit);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.handle(key, Kind::Counter))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.handle(key, Kind::Gauge))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.handle(key, Kind::Histogram))
    }
}
