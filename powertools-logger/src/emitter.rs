//! Rendering a line and sending it where it goes: the sink, or the invocation's log buffer.

use powertools_core::config::LogLevel;
use powertools_core::{Invocation, Timestamp};
use tracing::Level;

use crate::buffer::{BufferConfig, Pushed};
use crate::failures::FailureLedger;
use crate::format::json;
use crate::format::{
    LineFormatter, LineInput, LogRecord, Message, Scratch, fit_custom_line, fit_line, is_too_long,
    render_line, with_scratch,
};
use crate::sink::LogSink;
use crate::state::InvocationLogState;

/// What turns events into written lines; shared by the layer and the hook.
pub(crate) struct Emitter {
    pub(crate) service: String,
    service_member: Box<[u8]>,
    sampling_member: Box<[u8]>,
    pub(crate) dev: bool,
    pub(crate) sink: Box<dyn LogSink>,
    pub(crate) formatter: Option<Box<dyn LineFormatter>>,
    pub(crate) buffer: Option<BufferConfig>,
    /// The level of warnings that say lines are lost: one Lambda's log-level filter keeps.
    pub(crate) kept_level: &'static str,
    /// The failures the hook wrote, whose `lambda_runtime` line the layer leaves out.
    pub(crate) failures: FailureLedger,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("service", &self.service)
            .field("dev", &self.dev)
            .field("formatter", &self.formatter.is_some())
            .field("buffer", &self.buffer)
            .field("kept_level", &self.kept_level)
            .finish_non_exhaustive()
    }
}

impl Emitter {
    pub(crate) fn new(
        service: String,
        sample_rate: f64,
        dev: bool,
        sink: Box<dyn LogSink>,
        formatter: Option<Box<dyn LineFormatter>>,
        buffer: Option<BufferConfig>,
        kept_level: &'static str,
    ) -> Self {
        let mut service_member = Vec::new();
        service_member.extend_from_slice(b",\"service\":");
        json::write_str(&mut service_member, &service);
        let mut sampling_member = Vec::new();
        if sample_rate > 0.0 {
            sampling_member.extend_from_slice(b",\"sampling_rate\":");
            json::write_f64(&mut sampling_member, sample_rate);
        }
        Self {
            service,
            service_member: service_member.into_boxed_slice(),
            sampling_member: sampling_member.into_boxed_slice(),
            dev,
            sink,
            formatter,
            buffer,
            kept_level,
            failures: FailureLedger::default(),
        }
    }

    /// Renders the line whose event parts are in `scratch` and sends it on: into the
    /// invocation's buffer when buffering holds its level, else to the sink.
    pub(crate) fn emit(
        &self,
        scratch: &mut Scratch,
        input: &LineInput<'_>,
        invocation: Option<&Invocation>,
    ) {
        self.emit_routed(scratch, input, invocation, true);
    }

    /// [`emit`](Self::emit), never buffered when `bufferable` is false.
    fn emit_routed(
        &self,
        scratch: &mut Scratch,
        input: &LineInput<'_>,
        invocation: Option<&Invocation>,
        bufferable: bool,
    ) {
        let statics = crate::format::StaticMembers {
            service: &self.service_member,
            sampling_rate: &self.sampling_member,
        };
        render_line(scratch, input, &statics, invocation);
        // The one cost a line that fits pays: CloudWatch would cut a longer one into pieces that
        // are not JSON.
        if is_too_long(&scratch.line) {
            fit_line(scratch);
        }
        let state = invocation.map(InvocationLogState::of);
        if let Some(formatter) = &self.formatter {
            self.apply_formatter(formatter.as_ref(), scratch, input, invocation, state);
            if is_too_long(&scratch.alt) {
                fit_custom_line(&mut scratch.alt);
            }
            let line = std::mem::take(&mut scratch.alt);
            self.route(input.level, &line, state, bufferable);
            scratch.alt = line;
        } else if self.dev {
            scratch.alt.clear();
            let compact = &scratch.line[..scratch.line.len() - 1];
            json::write_indented(&mut scratch.alt, compact);
            scratch.alt.push(b'\n');
            self.route(input.level, &scratch.alt, state, bufferable);
        } else {
            self.route(input.level, &scratch.line, state, bufferable);
        }
    }

    fn apply_formatter(
        &self,
        formatter: &dyn LineFormatter,
        scratch: &mut Scratch,
        input: &LineInput<'_>,
        invocation: Option<&Invocation>,
        state: Option<&InvocationLogState>,
    ) {
        let text = String::from_utf8_lossy(&scratch.line);
        let ranges = scratch.ranges.clone();
        let object = |r: std::ops::Range<usize>| {
            let members = text.get(r).unwrap_or("");
            format!("{{{}}}", members.strip_prefix(',').unwrap_or(members))
        };
        let relative = powertools_core::location::relative;
        let location = match (input.location, input.file, input.line) {
            (Some(l), _, _) => relative(l).to_owned(),
            (None, Some(f), Some(l)) => format!("{}:{l}", relative(f)),
            (None, Some(f), None) => relative(f).to_owned(),
            (None, None, _) => input.target.to_owned(),
        };
        let fields = object(ranges.fields);
        let error = object(ranges.error);
        let correlation_id = state.and_then(InvocationLogState::correlation_id);
        let record = LogRecord {
            level: input.level,
            location: &location,
            message: text.get(ranges.message).unwrap_or("\"\""),
            timestamp: input.timestamp,
            service: &self.service,
            context: invocation.map(Invocation::context),
            correlation_id: correlation_id.as_deref(),
            fields: &fields,
            error: &error,
            default_line: text.trim_end_matches('\n'),
        };
        scratch.alt.clear();
        formatter.format(&record, &mut scratch.alt);
        if scratch.alt.last() != Some(&b'\n') {
            scratch.alt.push(b'\n');
        }
    }

    /// Writes `line`, or holds it in the invocation's buffer (when `bufferable`).
    fn route(
        &self,
        level: Level,
        line: &[u8],
        state: Option<&InvocationLogState>,
        bufferable: bool,
    ) {
        if let (Some(config), Some(state)) = (&self.buffer, state) {
            if bufferable && config.holds(LogLevel::from(level)) {
                let pushed = state.buffer().push(line, config.max_bytes_value());
                if pushed == Pushed::FirstEviction {
                    self.warn_lost(&format!(
                        "the log buffer ({} bytes) is full: the oldest buffered lines are being \
                         evicted; the number evicted is reported when the buffer is flushed",
                        config.max_bytes_value()
                    ));
                }
                return;
            }
            if level == Level::ERROR && config.flushes_on_error_log() {
                self.flush(state);
            }
        }
        self.sink.write_line(line);
    }

    /// Writes the invocation's buffered lines, oldest first.
    pub(crate) fn flush(&self, state: &InvocationLogState) {
        if self.buffer.is_none() {
            return;
        }
        let (lines, evicted) = {
            let mut buffer = state.buffer();
            (buffer.take(), buffer.take_evicted())
        };
        if evicted > 0 {
            self.warn_lost(&format!(
                "{evicted} buffered log lines were evicted because the log buffer was full; \
                 the {} lines that follow are the most recent ones",
                lines.len()
            ));
        }
        for line in &lines {
            self.sink.write_line(line);
        }
    }

    /// Drops the invocation's buffered lines (the invocation succeeded).
    pub(crate) fn discard(&self, state: &InvocationLogState) {
        if self.buffer.is_some() {
            let mut buffer = state.buffer();
            buffer.clear();
            buffer.take_evicted();
        }
    }

    /// Writes a warning of the logger through the sink (`"level":"WARN"`).
    pub(crate) fn warn(&self, message: &str) {
        self.warning("WARN", message);
    }

    /// Writes a warning that lines are lost through the sink, at a level Lambda's log-level
    /// filter keeps (a `WARN` line would be dropped under `AWS_LAMBDA_LOG_LEVEL=ERROR`).
    pub(crate) fn warn_lost(&self, message: &str) {
        self.warning(self.kept_level, message);
    }

    /// A warning of the logger: a line in the Powertools shape, `location` `powertools_logger`,
    /// with `service` and — inside an invocation — the Lambda keys, `function_request_id`,
    /// `correlation_id`, the appended keys and `xray_trace_id`, like the function's own lines.
    /// Never buffered, never through a custom formatter or dev indentation: it says something
    /// about the logger itself.
    fn warning(&self, level_name: &'static str, message: &str) {
        let line = OwnLine {
            level: Level::WARN,
            level_name,
            location: OWN_LOCATION,
            message: Message::Text(message),
            fields: &[],
            field_names: &[],
            error: &[],
        };
        if Invocation::with_current(|invocation| {
            self.emit_own(&line, OwnRoute::Warning, Some(invocation));
        })
        .is_none()
        {
            self.emit_own(&line, OwnRoute::Warning, None);
        }
    }

    /// Writes a line of the logger's own (the logged event, a failure, a warning).
    pub(crate) fn emit_own(
        &self,
        line: &OwnLine<'_>,
        route: OwnRoute,
        invocation: Option<&Invocation>,
    ) {
        with_scratch(|scratch| {
            scratch.parts.clear();
            scratch.spans.clear();
            scratch.parts.fields.extend_from_slice(line.fields);
            scratch.parts.error.extend_from_slice(line.error);
            let has_field = |name: &str| line.field_names.contains(&name);
            let input = LineInput {
                level: line.level,
                level_name: line.level_name,
                file: None,
                line: None,
                target: OWN_LOCATION,
                location: Some(line.location),
                message: line.message,
                timestamp: Timestamp::now(),
                has_field: &has_field,
            };
            match route {
                OwnRoute::Event => self.emit_routed(scratch, &input, invocation, true),
                OwnRoute::Failure => self.emit_routed(scratch, &input, invocation, false),
                OwnRoute::Warning => {
                    let statics = crate::format::StaticMembers {
                        service: &self.service_member,
                        sampling_rate: &self.sampling_member,
                    };
                    render_line(scratch, &input, &statics, invocation);
                    if is_too_long(&scratch.line) {
                        fit_line(scratch);
                    }
                    self.sink.write_line(&scratch.line);
                }
            }
        });
    }
}

/// The `location` of the logger's own warnings: how they are told apart from the function's
/// lines.
pub(crate) const OWN_LOCATION: &str = "powertools_logger";

/// A line of the logger's own: no `tracing` event behind it.
pub(crate) struct OwnLine<'a> {
    pub(crate) level: Level,
    pub(crate) level_name: &'static str,
    pub(crate) location: &'a str,
    pub(crate) message: Message<'a>,
    /// `,"key":value` members, written where an event's fields go.
    pub(crate) fields: &'a [u8],
    /// The keys of `fields` (appended keys of these names are left out, as for an event's own
    /// fields).
    pub(crate) field_names: &'a [&'a str],
    /// `,"exception":…` members.
    pub(crate) error: &'a [u8],
}

/// Where a line of the logger's own goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnRoute {
    /// As a logged event: formatter, dev mode, and the buffer when it holds the level.
    Event,
    /// A failed invocation's line: formatter and dev mode, never held in the buffer (the
    /// invocation is over: nothing would write it).
    Failure,
    /// A warning of the logger: the Powertools shape, compact, straight to the sink.
    Warning,
}
