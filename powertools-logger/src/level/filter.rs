//! The per-layer filter of the logger's layer.

use std::sync::Arc;

use powertools_core::Invocation;
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata};
use tracing_subscriber::layer::{Context, Filter};

use super::Directives;
use crate::failures::is_runtime_invoke_span;
use crate::state::InvocationLogState;

/// The resolved level policy, shared by the filter and the hook.
#[derive(Debug)]
pub(crate) struct LevelPolicy {
    pub(crate) level: LevelFilter,
    pub(crate) directives: Directives,
    /// The level a sampled invocation logs at (DEBUG, unless Lambda caps it), when sampling is on.
    pub(crate) sampled_level: Option<LevelFilter>,
}

impl LevelPolicy {
    pub(crate) fn base(&self, target: &str) -> LevelFilter {
        self.directives.level_for(target, self.level)
    }

    /// Whether `level` at `target` is written in the current invocation.
    pub(crate) fn allows(&self, level: Level, target: &str, is_event: bool) -> bool {
        if level <= self.base(target) {
            return true;
        }
        match self.sampled_level {
            Some(sampled) if is_event && level <= sampled => current_invocation_sampled(),
            _ => false,
        }
    }

    pub(crate) fn max_level(&self) -> LevelFilter {
        self.level
            .max(self.directives.max_target_level())
            .max(self.sampled_level.unwrap_or(LevelFilter::OFF))
    }
}

fn current_invocation_sampled() -> bool {
    Invocation::with_current(|i| {
        i.extensions()
            .get::<InvocationLogState>()
            .is_some_and(InvocationLogState::is_sampled)
    })
    .unwrap_or(false)
}

/// Decides which spans and events reach the logger's layer: the resolved level, per-target
/// directives and, for a sampled invocation, DEBUG. Built by [`Logger`](crate::Logger) and
/// applied to [`PowertoolsJsonLayer`](crate::PowertoolsJsonLayer) as a per-layer filter, so it
/// never hides spans or events from other layers (the tracer's).
#[derive(Debug, Clone)]
pub struct LogFilter {
    pub(crate) policy: Arc<LevelPolicy>,
}

impl LogFilter {
    /// The most verbose level any line may be written at.
    ///
    /// ```
    /// use powertools_core::config::LogLevel;
    /// use tracing::level_filters::LevelFilter;
    ///
    /// let parts = powertools_logger::Logger::new().level(LogLevel::Warn).into_parts();
    /// assert_eq!(parts.filter.max_level(), LevelFilter::WARN);
    /// ```
    pub fn max_level(&self) -> LevelFilter {
        self.policy.max_level()
    }
}

/// `tracing-log` dispatches every `log` record through a callsite with this target.
fn is_log_callsite(meta: &Metadata<'_>) -> bool {
    meta.target() == "log" && meta.name() == "log event"
}

/// `lambda_runtime`'s span around each invocation is always enabled for the logger's layer,
/// whatever the level: its `requestId` tells the layer which request the runtime's failure line
/// is about (see `failures`), and gives the runtime's other lines their request id. It writes no
/// line itself.
impl<S> Filter<S> for LogFilter {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        self.policy
            .allows(*meta.level(), meta.target(), meta.is_event())
            || is_runtime_invoke_span(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_runtime_invoke_span(meta) {
            return Interest::always();
        }
        let level = *meta.level();
        if is_log_callsite(meta) {
            return if level <= self.policy.max_level() {
                Interest::sometimes()
            } else {
                Interest::never()
            };
        }
        if level <= self.policy.base(meta.target()) {
            Interest::always()
        } else if meta.is_event() && self.policy.sampled_level.is_some_and(|s| level <= s) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // At least INFO: `lambda_runtime`'s invoke span is an INFO span, which `tracing` would
        // not even create under a less verbose hint. Disabled INFO and WARN callsites are then
        // skipped by their cached interest instead of the level comparison.
        Some(self.policy.max_level().max(LevelFilter::INFO))
    }
}
