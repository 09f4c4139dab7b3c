//! The logger's part in each invocation: sampling, correlation id, event logging, and the handler's
//! failure.

mod correlation;
mod sampling;

use std::sync::Arc;

use powertools_core::Invocation;
use powertools_core::layer::{EventView, InvocationHook, InvocationOutcome, TimeoutReport};
use tracing::Level;

pub(crate) use correlation::CorrelationIdSource;
pub use correlation::{CorrelationIdPath, CorrelationIdPathError};

use crate::emitter::Emitter;
use crate::format::Message;
use crate::format::json;
use crate::level::LevelPolicy;
use crate::state::InvocationLogState;

const TARGET: &str = "powertools_logger";

/// The logger's [`InvocationHook`]: add it to the
/// [`InvocationLayer`](powertools_core::layer::InvocationLayer).
///
/// At the start of each invocation it draws the sampling decision, takes the correlation id from
/// the event and logs the event (when enabled). At the end, when the handler returned `Err` or
/// panicked, it writes the buffered lines and then one ERROR line with the error's message, type
/// and `source()` chain (or the panic's message and location); when it succeeded, it discards the
/// buffered lines. Appended keys of the invocation go with the invocation.
///
/// # Example
/// ```
/// use powertools_core::layer::InvocationLayer;
/// use powertools_logger::Logger;
///
/// let (layer, hook) = Logger::new().into_layer_and_hook::<tracing_subscriber::Registry>();
/// # let _ = layer;
/// let invocation_layer = InvocationLayer::new().hook(hook);
/// ```
#[derive(Debug, Clone)]
pub struct LoggerHook {
    pub(crate) emitter: Arc<Emitter>,
    pub(crate) policy: Arc<LevelPolicy>,
    pub(crate) sample_rate: f64,
    pub(crate) log_event: bool,
    pub(crate) correlation: Option<CorrelationIdSource>,
}

macro_rules! here {
    () => {
        concat!(file!(), ":", line!())
    };
}

impl InvocationHook for LoggerHook {
    fn on_start(&self, invocation: &Invocation, event: &EventView<'_>) {
        let state = InvocationLogState::of(invocation);
        if self.sample_rate > 0.0 {
            state.set_sampled(sampling::is_sampled(self.sample_rate));
        }
        if let Some(source) = &self.correlation {
            let id = event.json().and_then(|json| source.extract(json));
            state.set_correlation_id(id.as_deref());
        }
        if self.log_event && self.policy.allows(Level::INFO, TARGET, true) {
            let text = event.json().map_or_else(
                || "\"the event could not be rendered as JSON\"".to_owned(),
                serde_json::Value::to_string,
            );
            self.emitter.emit_direct(
                Level::INFO,
                here!(),
                Message::Json(&text),
                &[],
                Some(invocation),
            );
        }
    }

    fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        let state = InvocationLogState::of(invocation);
        let log_failure = self.policy.allows(Level::ERROR, TARGET, true);
        match outcome {
            InvocationOutcome::Success(_) => self.emitter.discard(state),
            InvocationOutcome::Error(report) => {
                self.emitter.flush(state);
                if log_failure {
                    let mut members = Vec::new();
                    members.extend_from_slice(b",\"exception\":");
                    json::write_str(&mut members, &report.message);
                    members.extend_from_slice(b",\"exception_name\":");
                    json::write_str(&mut members, &report.type_name);
                    if !report.sources.is_empty() {
                        members.extend_from_slice(b",\"exception_chain\":[");
                        for (i, source) in report.sources.iter().enumerate() {
                            if i > 0 {
                                members.push(b',');
                            }
                            json::write_str(&mut members, source);
                        }
                        members.push(b']');
                    }
                    self.emitter.emit_direct(
                        Level::ERROR,
                        here!(),
                        Message::Text(&report.message),
                        &members,
                        Some(invocation),
                    );
                }
            }
            InvocationOutcome::Panic(report) => {
                self.emitter.flush(state);
                if log_failure {
                    let mut members = Vec::new();
                    members.extend_from_slice(b",\"exception\":");
                    json::write_str(&mut members, &report.message);
                    members.extend_from_slice(b",\"exception_name\":\"panic\"");
                    let message = format!("handler panicked: {}", report.message);
                    self.emitter.emit_direct(
                        Level::ERROR,
                        report.location.as_deref().unwrap_or(here!()),
                        Message::Text(&message),
                        &members,
                        Some(invocation),
                    );
                }
            }
            InvocationOutcome::Timeout(report) => {
                self.emitter.flush(state);
                if log_failure {
                    let message = report.message();
                    let mut members = Vec::new();
                    members.extend_from_slice(b",\"exception\":");
                    json::write_str(&mut members, &message);
                    members.extend_from_slice(b",\"exception_name\":");
                    json::write_str(&mut members, TimeoutReport::TYPE_NAME);
                    self.emitter.emit_direct(
                        Level::ERROR,
                        here!(),
                        Message::Text(&message),
                        &members,
                        Some(invocation),
                    );
                }
            }
        }
    }
}
