//! The [`Metrics`] handle: what user code records through.

mod bound;
mod builder;
pub(crate) mod shared;

use std::fmt;
use std::sync::Arc;

use powertools_core::Invocation;

pub use bound::BoundMetrics;
pub use builder::MetricsBuilder;
use shared::{InvocationMetrics, Shared, Target};

use crate::{MetricsHook, SingleMetric, Unit};

/// The methods [`Metrics`] and [`BoundMetrics`] share; they differ only in which document they
/// record into.
macro_rules! recording_methods {
    () => {
        /// Records one value of a metric at standard (one-minute) resolution.
        ///
        /// Several values of one metric in a document become an array; at the 100th value, or
        /// the 100th distinct metric, the document is written and a new one begun (keeping
        /// dimensions and metadata).
        ///
        /// # Errors
        /// [`MetricsError::NonFiniteValue`](crate::MetricsError::NonFiniteValue) for NaN or ∞,
        /// [`MetricsError::InvalidName`](crate::MetricsError::InvalidName) for an empty or
        /// over-long name, [`MetricsError::KeyCollision`](crate::MetricsError::KeyCollision)
        /// when the name is a dimension or metadata key,
        /// [`MetricsError::ConflictingDefinition`](crate::MetricsError::ConflictingDefinition)
        /// when the metric already has another unit or resolution in this document.
        #[inline]
        pub fn add_metric(
            &self,
            name: &str,
            unit: crate::Unit,
            value: f64,
        ) -> Result<(), crate::MetricsError> {
            self.shared().record(
                self.target(),
                name,
                unit,
                crate::Resolution::Standard,
                value,
                crate::document::Merge::Append,
            )
        }

        /// Records one value of a high-resolution (one-second) metric (`StorageResolution: 1`).
        ///
        /// # Errors
        /// As [`add_metric`](Self::add_metric).
        #[inline]
        pub fn add_high_resolution_metric(
            &self,
            name: &str,
            unit: crate::Unit,
            value: f64,
        ) -> Result<(), crate::MetricsError> {
            self.add_metric_with_resolution(name, unit, value, crate::Resolution::High)
        }

        /// Records one value of a metric at the given resolution.
        ///
        /// # Errors
        /// As [`add_metric`](Self::add_metric).
        #[inline]
        pub fn add_metric_with_resolution(
            &self,
            name: &str,
            unit: crate::Unit,
            value: f64,
            resolution: crate::Resolution,
        ) -> Result<(), crate::MetricsError> {
            self.shared().record(
                self.target(),
                name,
                unit,
                resolution,
                value,
                crate::document::Merge::Append,
            )
        }

        /// Adds a dimension to the document's dimension set (which also holds the default
        /// dimensions and `service`). Setting a default dimension's key overrides its value in
        /// this document; setting a key again replaces its value.
        ///
        /// # Errors
        /// [`MetricsError::InvalidName`](crate::MetricsError::InvalidName) (CloudWatch wants
        /// 1–255 ASCII characters for the name, 1–1024 for the value),
        /// [`MetricsError::TooManyDimensions`](crate::MetricsError::TooManyDimensions) past 30,
        /// [`MetricsError::KeyCollision`](crate::MetricsError::KeyCollision),
        /// [`MetricsError::DimensionConflict`](crate::MetricsError::DimensionConflict) when an
        /// additional dimension set uses the key with another value.
        pub fn add_dimension(&self, key: &str, value: &str) -> Result<(), crate::MetricsError> {
            self.shared()
                .change(self.target(), |base, d| d.add_dimension(base, key, value))
        }

        /// Adds another dimension set: the metrics are published under these dimensions (plus
        /// the default ones and `service`) as well. A document has one value per dimension
        /// name, shared by all its sets.
        ///
        /// # Errors
        /// As [`add_dimension`](Self::add_dimension).
        pub fn add_dimension_set<K: AsRef<str>, V: AsRef<str>>(
            &self,
            dimensions: &[(K, V)],
        ) -> Result<(), crate::MetricsError> {
            self.shared().change(self.target(), |base, d| {
                d.add_dimension_set(base, dimensions)
            })
        }

        /// Adds a metadata member (any serializable value): searchable in CloudWatch Logs, not
        /// a metric. Setting a key again replaces its value.
        ///
        /// # Errors
        /// [`MetricsError::Metadata`](crate::MetricsError::Metadata) when the value does not
        /// serialize, [`MetricsError::KeyCollision`](crate::MetricsError::KeyCollision),
        /// [`MetricsError::InvalidName`](crate::MetricsError::InvalidName) for an empty key.
        pub fn add_metadata(
            &self,
            key: &str,
            value: impl serde::Serialize,
        ) -> Result<(), crate::MetricsError> {
            let json =
                serde_json::to_string(&value).map_err(|e| crate::MetricsError::Metadata {
                    key: key.to_owned(),
                    message: e.to_string(),
                })?;
            self.shared()
                .change(self.target(), |base, d| d.add_metadata(base, key, json))
        }

        /// Sets the document's timestamp (default: when it is written). A time more than 14 days
        /// ago or 2 hours ahead is kept but warned about once per process (CloudWatch rejects
        /// such metrics).
        ///
        /// # Errors
        /// [`MetricsError::TimestampBeforeEpoch`](crate::MetricsError::TimestampBeforeEpoch).
        pub fn set_timestamp(
            &self,
            time: std::time::SystemTime,
        ) -> Result<(), crate::MetricsError> {
            self.shared().set_timestamp(self.target(), time)
        }

        /// Writes the document now and clears it (metrics, dimensions, metadata, timestamp).
        ///
        /// # Errors
        /// [`MetricsError::NoMetrics`](crate::MetricsError::NoMetrics) when nothing was
        /// recorded and `raise_on_empty_metrics` is on (else a warning line, unless disabled).
        pub fn flush(&self) -> Result<(), crate::MetricsError> {
            self.shared().flush(self.target())
        }
    };
}
pub(crate) use recording_methods;

/// The [`Metrics`] of the invocation in scope: the handle whose [`MetricsHook`] runs it (the
/// layer of `#[powertools::handler]`, `PowertoolsLayer`, or an
/// [`InvocationLayer`](powertools_core::layer::InvocationLayer) with
/// [`Metrics::invocation_hook`]), so what it records is written under that handle's namespace,
/// service and default dimensions, in the invocation's own document. Invocations running at
/// once, and layers built in one process, never mix.
///
/// Where no such invocation is in scope (init code, a task spawned without the invocation's
/// scope) it returns a handle that follows the invocation in scope *when it records*: keeping
/// it in a `static` built at init is fine, and recording through it outside an invocation is
/// refused with [`MetricsError::NoInvocation`](crate::MetricsError::NoInvocation) — never
/// accepted and lost. A task that records after its invocation ended gets
/// [`MetricsError::InvocationEnded`](crate::MetricsError::InvocationEnded).
///
/// ```
/// use powertools_core::{Invocation, InvocationContext, layer::{EventView, InvocationHook, InvocationOutcome, ResponseView}};
/// use powertools_metrics::{CaptureSink, Metrics, MetricsError, Unit};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), MetricsError> {
/// // Outside any invocation: refused, not lost.
/// let early = powertools_metrics::current();
/// assert_eq!(early.add_metric("Early", Unit::Count, 1.0), Err(MetricsError::NoInvocation));
///
/// let sink = CaptureSink::new();
/// let metrics = Metrics::builder().namespace("Shop").sink(sink.clone()).build()?;
/// let hook = metrics.invocation_hook();
/// let invocation = Invocation::new(InvocationContext::for_test("req-1", "orders-fn"));
/// let render = || None;
/// hook.on_start(&invocation, &EventView::new(&render));
/// invocation.clone().scope(async {
///     powertools_metrics::current().add_metric("Orders", Unit::Count, 1.0)?;
///     early.add_metric("Orders", Unit::Count, 2.0) // the early handle follows the invocation
/// }).await?;
/// hook.on_end(&invocation, &InvocationOutcome::Success(&ResponseView::new(&render)));
///
/// assert_eq!(sink.documents()[0]["Orders"], serde_json::json!([1, 2]));
/// assert_eq!(sink.documents()[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Shop");
/// # Ok(()) }
/// ```
pub fn current() -> Metrics {
    static FOLLOWER: std::sync::LazyLock<Metrics> = std::sync::LazyLock::new(|| Metrics {
        shared: Arc::new(Shared::follower()),
    });
    Invocation::with_current(|invocation| {
        invocation
            .extensions()
            .get::<InvocationMetrics>()
            .map(|state| state.current.clone())
    })
    .flatten()
    .unwrap_or_else(|| FOLLOWER.clone())
}

/// Records CloudWatch metrics as Embedded Metric Format documents.
///
/// A cheap handle (an `Arc`): clone it into every task and keep one in a `static`. Inside an
/// invocation (run by [`InvocationLayer`](powertools_core::layer::InvocationLayer) with this
/// handle's [`MetricsHook`]), what is recorded goes to that invocation's document, which the hook
/// writes when the handler completes; invocations running at once never mix. Outside any
/// invocation (init code, a plain test, a task spawned without the invocation's scope), it goes
/// to a process-level document written by [`Metrics::flush`], at the end of the next invocation,
/// or when the last handle is dropped.
///
/// A task the handler spawns runs outside the invocation's scope: give it
/// [`Metrics::for_current_invocation`], or run it in the scope with
/// [`Invocation::scope`](powertools_core::Invocation::scope). Inside a handler you usually
/// record through [`current`], which needs no handle of your own.
///
/// # Example
/// ```
/// use powertools_metrics::{CaptureSink, Metrics, Unit};
///
/// let sink = CaptureSink::new();
/// let metrics = Metrics::builder().namespace("ServerlessAirline").service("booking")
///     .sink(sink.clone()).build()?;
///
/// metrics.add_dimension("environment", "prod")?;
/// metrics.add_metric("SuccessfulBooking", Unit::Count, 1.0)?;
/// metrics.add_metric("SuccessfulBooking", Unit::Count, 2.0)?;
/// metrics.add_metadata("booking_id", "b-42")?;
/// metrics.flush()?;
///
/// let doc = &sink.documents()[0];
/// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
///            serde_json::json!(["environment", "service"]));
/// assert_eq!(doc["SuccessfulBooking"], serde_json::json!([1, 2]));
/// assert_eq!(doc["booking_id"], "b-42");
/// # Ok::<(), powertools_metrics::MetricsError>(())
/// ```
#[derive(Clone)]
pub struct Metrics {
    shared: Arc<Shared>,
}

impl Metrics {
    /// A builder; see [`MetricsBuilder`].
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder::default()
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    #[allow(clippy::unused_self)]
    fn target(&self) -> Target<'_> {
        Target::Current
    }

    recording_methods!();

    /// The hook that writes the ColdStart metric and flushes each invocation's document; add it
    /// to the [`InvocationLayer`](powertools_core::layer::InvocationLayer).
    pub fn invocation_hook(&self) -> MetricsHook {
        MetricsHook::new(self.clone())
    }

    /// A handle bound to the current invocation (or to the process-level document outside
    /// one), to move into tasks the handler spawns.
    ///
    /// ```
    /// use powertools_core::Invocation;
    /// use powertools_metrics::{CaptureSink, Metrics, Unit};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let metrics = Metrics::builder().namespace("Shop").sink(CaptureSink::new()).build()?;
    /// let invocation = Invocation::for_test("req-1");
    /// invocation.clone().scope(async {
    ///     let bound = metrics.for_current_invocation();
    ///     tokio::spawn(async move { bound.add_metric("Spawned", Unit::Count, 1.0) })
    ///         .await
    ///         .unwrap()
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub fn for_current_invocation(&self) -> BoundMetrics {
        BoundMetrics::new(self.clone(), Invocation::current())
    }

    /// A handle bound to `invocation`.
    pub fn bind(&self, invocation: &Invocation) -> BoundMetrics {
        BoundMetrics::new(self.clone(), Some(invocation.clone()))
    }

    /// A one-off document with its own dimensions, written by [`SingleMetric::emit`].
    ///
    /// ```
    /// use powertools_metrics::{CaptureSink, Metrics, Unit};
    ///
    /// let sink = CaptureSink::new();
    /// let metrics = Metrics::builder().namespace("Shop").sink(sink.clone()).build()?;
    /// metrics.single_metric("Refund", Unit::Count, 1.0)
    ///     .dimension("payment_method", "card")
    ///     .emit()?;
    /// assert_eq!(sink.documents()[0]["payment_method"], "card");
    /// # Ok::<(), powertools_metrics::MetricsError>(())
    /// ```
    pub fn single_metric(&self, name: &str, unit: Unit, value: f64) -> SingleMetric {
        SingleMetric::new(self.clone(), name, unit, value)
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.shared.settings.base.namespace
    }

    /// The `service` dimension.
    pub fn service(&self) -> &str {
        &self.shared.settings.service
    }

    /// Whether output is disabled.
    pub fn is_disabled(&self) -> bool {
        self.shared.settings.disabled
    }

    pub(crate) fn shared_arc(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Whether this is the handle [`current`] returns outside an invocation.
    pub(crate) fn follows_invocation(&self) -> bool {
        self.shared.follows_invocation
    }

    /// The handle that owns the documents this one records into: itself, or for the handle of
    /// [`current`] the one running the invocation in scope.
    pub(crate) fn resolve(&self) -> Result<Metrics, crate::MetricsError> {
        if !self.follows_invocation() {
            return Ok(self.clone());
        }
        let owner = current();
        if owner.follows_invocation() {
            return Err(crate::MetricsError::NoInvocation);
        }
        Ok(owner)
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared.settings;
        f.debug_struct("Metrics")
            .field("namespace", &s.base.namespace)
            .field("service", &s.service)
            .field("default_dimensions", &s.default_dimensions)
            .field("disabled", &s.disabled)
            .finish_non_exhaustive()
    }
}
