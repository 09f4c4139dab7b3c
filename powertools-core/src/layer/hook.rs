//! The trait each utility implements to take part in an invocation.

use crate::Invocation;

use super::{EventView, InvocationOutcome};

/// What a utility does around each invocation.
///
/// The [`InvocationLayer`](super::InvocationLayer) calls, for every invocation and inside its
/// scope: every hook's [`on_start`](InvocationHook::on_start) in the order they were added; then
/// the handler, inside the span of the first hook that offers one
/// ([`handler_span`](InvocationHook::handler_span)); then every hook's
/// [`on_end`](InvocationHook::on_end) in reverse order — on `Ok`, on `Err` and on panic alike —
/// before the result is handed back to the runtime. Hooks must not panic and must not block.
///
/// # Example
/// ```
/// use powertools_core::layer::{EventView, InvocationHook, InvocationOutcome};
/// use powertools_core::Invocation;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[derive(Default)]
/// struct CountFailures(AtomicUsize);
///
/// impl InvocationHook for CountFailures {
///     fn on_end(&self, _invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
///         if outcome.is_failure() {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
/// ```
pub trait InvocationHook: Send + Sync + 'static {
    /// Before the handler runs.
    fn on_start(&self, invocation: &Invocation, event: &EventView<'_>) {
        let _ = (invocation, event);
    }

    /// A span to run the handler in (the tracer's handler subsegment).
    fn handler_span(&self, invocation: &Invocation, handler_name: &str) -> Option<tracing::Span> {
        let _ = (invocation, handler_name);
        None
    }

    /// After the handler finished, before its result is returned.
    fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        let _ = (invocation, outcome);
    }
}
