//! The logger's part in each invocation: sampling, correlation id, event logging, and the handler's
//! failure.

mod correlation;
mod sampling;

use std::sync::Arc;

use powertools_core::Invocation;
use powertools_core::layer::{
    EventView, InvocationHook, InvocationOutcome, PANIC_ERROR_TYPE, TimeoutReport,
};
use tracing::Level;

pub(crate) use correlation::CorrelationIdSource;
pub use correlation::{CorrelationIdPath, CorrelationIdPathError};

use crate::emitter::{Emitter, OwnLine, OwnRoute};
use crate::format::Message;
use crate::format::json;
use crate::level::LevelPolicy;
use crate::state::InvocationLogState;

const TARGET: &str = "powertools_logger";

/// The logger's [`InvocationHook`]: add it to the
/// [`InvocationLayer`](powertools_core::layer::InvocationLayer).
///
/// At the start of each invocation it draws the sampling decision, takes the correlation id from
/// the event and logs the event (when enabled). At the end, when the handler returned `Err`,
/// panicked or is about to time out, it writes the buffered lines and then **one ERROR line**
/// about the failure; when it succeeded, it discards the buffered lines. Appended keys of the
/// invocation go with the invocation.
///
/// The failure line has every key of the invocation's lines (`service`, the Lambda keys,
/// `function_request_id`, `correlation_id`, appended keys, `xray_trace_id` last) and:
///
/// | the handler | `message` | `exception` | `exception_name` | `location` |
/// |---|---|---|---|---|
/// | returned `Err` | the error's `Display` text | that text, then `\ncaused by: <source>` for each error of its `source()` chain (also in `exception_chain`, one string each) | the error's type name (`Declined`; `Error` for a string), what Lambda reports as `errorType` | the handler's location (`src/main.rs:26`, [`InvocationLayer::handler_location`](powertools_core::layer::InvocationLayer::handler_location), which the attribute sets), else its name |
/// | panicked | `handler panicked: <message>` | the panic message | `Panic` ([`PANIC_ERROR_TYPE`]) | where it panicked (`src/main.rs:26:9`) |
/// | is about to time out | `the invocation is about to time out after N ms (M ms left); spans still open: a, b` | the same | `Timeout` | the handler's name |
///
/// A timeout line also has `elapsed_ms`, `remaining_ms` and `open_spans` (the names of the spans
/// still open, outermost first). An error value carries no source location: without the
/// handler's location, an `Err`'s (and a timeout's) line names the handler (as the invocation
/// layer calls it: the attribute's function name, `handler` by default) — never a file of the
/// toolkit. The line is never held in the log buffer.
///
/// `lambda_runtime` logs its own ERROR line about a failed invocation (target
/// `lambda_runtime::layers::panic`); the logger's layer leaves it out when this hook wrote the
/// failure, so a failed invocation has exactly one ERROR line (the runtime's other lines are
/// kept).
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

/// The `location` of a failure line when the hook was not told the handler's name (a hook
/// before the logger's offered the handler span).
const DEFAULT_HANDLER_NAME: &str = "handler";

/// What a failure line says.
struct Failure<'a> {
    message: &'a str,
    exception: &'a str,
    name: &'a str,
    sources: &'a [String],
    /// Where it happened, when known (a panic's location, the handler's for an `Err`); else the
    /// handler's name.
    location: Option<&'a str>,
    /// `,"key":value` members with the line's fields, and their names.
    fields: &'a [u8],
    field_names: &'a [&'a str],
}

/// The `exception` text of an error: its message, then one `caused by: ` line for each error of
/// its `source()` chain, outermost first.
///
/// ```text
/// order declined: insufficient funds
/// caused by: card expired
/// ```
fn exception_text(message: &str, sources: &[String]) -> String {
    let mut text =
        String::with_capacity(message.len() + sources.iter().map(|s| s.len() + 12).sum::<usize>());
    text.push_str(message);
    for source in sources {
        text.push_str("\ncaused by: ");
        text.push_str(source);
    }
    text
}

impl LoggerHook {
    /// Writes the failure's ERROR line (when the level allows it) and notes it, so that the
    /// runtime's own line about it is left out.
    fn write_failure(&self, invocation: &Invocation, state: &InvocationLogState, f: &Failure<'_>) {
        if !self.policy.allows(Level::ERROR, TARGET, true) {
            return;
        }
        let mut error = Vec::with_capacity(64 + f.exception.len());
        error.extend_from_slice(b",\"exception\":");
        json::write_str(&mut error, f.exception);
        error.extend_from_slice(b",\"exception_name\":");
        json::write_str(&mut error, f.name);
        if !f.sources.is_empty() {
            error.extend_from_slice(b",\"exception_chain\":[");
            for (i, source) in f.sources.iter().enumerate() {
                if i > 0 {
                    error.push(b',');
                }
                json::write_str(&mut error, source);
            }
            error.push(b']');
        }
        let location = f
            .location
            .or_else(|| state.handler_name())
            .unwrap_or(DEFAULT_HANDLER_NAME);
        let line = OwnLine {
            level: Level::ERROR,
            level_name: Level::ERROR.as_str(),
            location,
            message: Message::Text(f.message),
            fields: f.fields,
            field_names: f.field_names,
            error: &error,
        };
        self.emitter
            .emit_own(&line, OwnRoute::Failure, Some(invocation));
        self.emitter
            .failures
            .note(invocation.context().request_id());
    }
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
            let line = OwnLine {
                level: Level::INFO,
                level_name: Level::INFO.as_str(),
                location: here!(),
                message: Message::Json(&text),
                fields: &[],
                field_names: &[],
                error: &[],
            };
            self.emitter
                .emit_own(&line, OwnRoute::Event, Some(invocation));
        }
    }

    /// Takes note of the handler's name (the `location` of a failure line when nothing more
    /// precise is known); offers no span.
    fn handler_span(&self, invocation: &Invocation, handler_name: &str) -> Option<tracing::Span> {
        InvocationLogState::of(invocation).set_handler_name(handler_name);
        None
    }

    fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        let state = InvocationLogState::of(invocation);
        match outcome {
            InvocationOutcome::Success(_) => self.emitter.discard(state),
            InvocationOutcome::Error(report) => {
                self.emitter.flush(state);
                let exception = exception_text(&report.message, &report.sources);
                self.write_failure(
                    invocation,
                    state,
                    &Failure {
                        message: &report.message,
                        exception: &exception,
                        name: &report.type_name,
                        sources: &report.sources,
                        location: report.location.as_deref(),
                        fields: &[],
                        field_names: &[],
                    },
                );
            }
            InvocationOutcome::Panic(report) => {
                self.emitter.flush(state);
                let message = format!("handler panicked: {}", report.message);
                self.write_failure(
                    invocation,
                    state,
                    &Failure {
                        message: &message,
                        exception: &report.message,
                        name: PANIC_ERROR_TYPE,
                        sources: &[],
                        location: report.location.as_deref(),
                        fields: &[],
                        field_names: &[],
                    },
                );
            }
            InvocationOutcome::Timeout(report) => {
                self.emitter.flush(state);
                let message = report.message();
                let mut fields = Vec::new();
                fields.extend_from_slice(b",\"elapsed_ms\":");
                json::write_u64(&mut fields, duration_ms(report.elapsed));
                fields.extend_from_slice(b",\"remaining_ms\":");
                json::write_u64(&mut fields, duration_ms(report.remaining));
                fields.extend_from_slice(b",\"open_spans\":[");
                for (i, span) in report.open_spans().iter().enumerate() {
                    if i > 0 {
                        fields.push(b',');
                    }
                    json::write_str(&mut fields, span);
                }
                fields.push(b']');
                self.write_failure(
                    invocation,
                    state,
                    &Failure {
                        message: &message,
                        exception: &message,
                        name: TimeoutReport::TYPE_NAME,
                        sources: &[],
                        location: None,
                        fields: &fields,
                        field_names: &["elapsed_ms", "remaining_ms", "open_spans"],
                    },
                );
            }
        }
    }
}

fn duration_ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
