//! A [`Metrics`] handle bound to one invocation, for tasks the handler spawns.

use std::fmt;

use powertools_core::Invocation;

use super::shared::{Shared, Target};
use super::{Metrics, recording_methods};

/// A [`Metrics`] bound to one invocation (or to the process-level document): what it records
/// goes to that invocation's document wherever it runs. From
/// [`Metrics::for_current_invocation`] or [`Metrics::bind`].
#[derive(Clone)]
pub struct BoundMetrics {
    metrics: Metrics,
    invocation: Option<Invocation>,
}

impl BoundMetrics {
    pub(crate) fn new(metrics: Metrics, invocation: Option<Invocation>) -> Self {
        Self {
            metrics,
            invocation,
        }
    }

    fn shared(&self) -> &std::sync::Arc<Shared> {
        self.metrics.shared_arc()
    }

    fn target(&self) -> Target<'_> {
        match &self.invocation {
            Some(invocation) => Target::Invocation(invocation),
            None => Target::Process,
        }
    }

    recording_methods!();

    /// The invocation it is bound to (`None`: the process-level document).
    pub fn invocation(&self) -> Option<&Invocation> {
        self.invocation.as_ref()
    }

    /// The unbound handle.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl fmt::Debug for BoundMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundMetrics")
            .field("metrics", &self.metrics)
            .field(
                "request_id",
                &self.invocation.as_ref().map(|i| i.context().request_id()),
            )
            .finish()
    }
}
