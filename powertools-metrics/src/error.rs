//! The typed errors of the metrics utility.

use std::fmt;

/// Which kind of key a name is used as in an EMF document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// The namespace of the metrics.
    Namespace,
    /// A metric name.
    Metric,
    /// A dimension name.
    Dimension,
    /// A dimension value.
    DimensionValue,
    /// A metadata key.
    Metadata,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Namespace => "namespace",
            KeyKind::Metric => "metric name",
            KeyKind::Dimension => "dimension name",
            KeyKind::DimensionValue => "dimension value",
            KeyKind::Metadata => "metadata key",
        })
    }
}

/// What went wrong recording, configuring or flushing metrics.
///
/// Every rule of the Embedded Metric Format the utility enforces has its own variant: nothing is
/// dropped silently and nothing panics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// No namespace: neither `MetricsBuilder::namespace` nor `POWERTOOLS_METRICS_NAMESPACE`.
    #[error(
        "no metrics namespace: set POWERTOOLS_METRICS_NAMESPACE or call MetricsBuilder::namespace"
    )]
    MissingNamespace,
    /// A name or value breaks a length or character rule.
    #[error("invalid {kind} {name:?}: {reason}")]
    InvalidName {
        /// What the name is used as.
        kind: KeyKind,
        /// The name (cut to 300 characters).
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A metric value is NaN or infinite.
    #[error("metric {name:?} has the non-finite value {value}")]
    NonFiniteValue {
        /// The metric.
        name: String,
        /// The value.
        value: f64,
    },
    /// A unit name that CloudWatch does not know.
    #[error("unknown CloudWatch unit {0:?}")]
    UnknownUnit(String),
    /// A key is already used in the document as another kind of key (metric names, dimensions
    /// and metadata share the document's top level).
    #[error("{key:?} is already used as a {existing}; it cannot also be a {new}")]
    KeyCollision {
        /// The key.
        key: String,
        /// What it is already used as.
        existing: KeyKind,
        /// What it was about to be used as.
        new: KeyKind,
    },
    /// A dimension set would have more than 30 dimensions (counting the default ones and
    /// `service`).
    #[error("a dimension set would have {count} dimensions; CloudWatch allows at most {max}")]
    TooManyDimensions {
        /// How many it would have.
        count: usize,
        /// The limit (30).
        max: usize,
    },
    /// A dimension already has another value in this document (a document has one value per
    /// dimension name, shared by its dimension sets).
    #[error("dimension {key:?} already has the value {existing:?} in this document, not {new:?}")]
    DimensionConflict {
        /// The dimension.
        key: String,
        /// Its value in the document.
        existing: String,
        /// The other value.
        new: String,
    },
    /// A metric was recorded again with another unit or resolution in the same document.
    #[error(
        "metric {name:?} was recorded as {existing_unit} at {existing_resolution:?} resolution; \
         it cannot also be {new_unit} at {new_resolution:?} resolution in the same document"
    )]
    ConflictingDefinition {
        /// The metric.
        name: String,
        /// Its unit so far.
        existing_unit: crate::Unit,
        /// The other unit.
        new_unit: crate::Unit,
        /// Its resolution so far.
        existing_resolution: crate::Resolution,
        /// The other resolution.
        new_resolution: crate::Resolution,
    },
    /// A metadata value could not be serialized to JSON.
    #[error("metadata {key:?} cannot be serialized: {message}")]
    Metadata {
        /// The key.
        key: String,
        /// The serializer's message.
        message: String,
    },
    /// A timestamp before 1970.
    #[error("the metrics timestamp is before the Unix epoch")]
    TimestampBeforeEpoch,
    /// Nothing was recorded before a flush, and `raise_on_empty_metrics` is on.
    #[error("no metrics were recorded")]
    NoMetrics,
    /// The handle of [`current`](crate::current) was used where no invocation run by a
    /// [`MetricsHook`](crate::MetricsHook) is in scope: at init, or in a task spawned without the
    /// invocation's scope. Nothing was recorded.
    #[error(
        "no invocation is in scope to record metrics into: call it inside the handler, run a \
         spawned task in the invocation's scope (Invocation::scope), or record at init through \
         a Metrics handle of your own"
    )]
    NoInvocation,
    /// The invocation's documents were already written (a task outlived its invocation).
    /// Nothing was recorded.
    #[error(
        "invocation {request_id} has ended and its metrics were written; this value was not \
         recorded (await the task before the handler returns)"
    )]
    InvocationEnded {
        /// The invocation's request id.
        request_id: String,
    },
    /// The document's dimensions and metadata would not fit one CloudWatch Logs event (256 KiB)
    /// with room for its metrics. Nothing was recorded.
    #[error(
        "{key:?} would make the document's dimensions and metadata {bytes} bytes; at most {max} \
         fit one CloudWatch Logs event with its metrics"
    )]
    TooLarge {
        /// The metadata key or dimension name being added.
        key: String,
        /// The size its dimensions and metadata would have, in bytes of JSON.
        bytes: usize,
        /// The most they may take.
        max: usize,
    },
}

impl MetricsError {
    pub(crate) fn invalid(kind: KeyKind, name: &str, reason: &'static str) -> Self {
        let name = match name.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &name[..cut]),
            None => name.to_owned(),
        };
        MetricsError::InvalidName { kind, name, reason }
    }
}
