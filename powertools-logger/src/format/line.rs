//! Assembling one line in the Powertools key order.

use std::cell::RefCell;

use powertools_core::location::relative;
use powertools_core::output::MAX_LINE_BYTES;
use powertools_core::{Invocation, Timestamp};
use tracing::Level;

use super::fields::EventParts;
use super::fit;
use super::json;
use super::reserved::write_user_key;
use crate::state::{InvocationLogState, persistent_keys};

/// The reused buffers of one thread.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) parts: EventParts,
    /// Span members, `,"key":value…`.
    pub(crate) spans: Vec<u8>,
    /// Appended-key members.
    members: Vec<u8>,
    /// The finished line.
    pub(crate) line: Vec<u8>,
    /// The custom formatter's or the indented output.
    pub(crate) alt: Vec<u8>,
    /// Where the message and the members sit in `line`.
    pub(crate) ranges: LineRanges,
}

/// Byte ranges of the parts of a rendered line (for the custom formatter).
#[derive(Default, Clone)]
pub(crate) struct LineRanges {
    pub(crate) message: std::ops::Range<usize>,
    /// Appended keys, span fields and event fields (`,"k":v…`).
    pub(crate) fields: std::ops::Range<usize>,
    /// Error members.
    pub(crate) error: std::ops::Range<usize>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's buffers (fresh ones if they are in use further up the stack, as
/// when a value's `Debug` implementation logs).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut f = Some(f);
    let reused = SCRATCH.try_with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .map(|mut scratch| (f.take().expect("called once"))(&mut scratch))
    });
    match reused {
        Ok(Some(r)) => r,
        _ => (f.take().expect("called once"))(&mut Scratch::default()),
    }
}

/// The message of a line.
#[derive(Clone, Copy)]
pub(crate) enum Message<'a> {
    /// Text; kept as an object when it is a JSON object.
    Text(&'a str),
    /// Valid JSON, written compacted.
    Json(&'a str),
}

/// What a line is made of, besides the invocation and the logger's settings.
pub(crate) struct LineInput<'a> {
    pub(crate) level: Level,
    /// The `level` written: `level`'s name, or the one Lambda's filter keeps for the logger's
    /// own warnings (`FATAL` has no `tracing` level).
    pub(crate) level_name: &'static str,
    pub(crate) file: Option<&'a str>,
    pub(crate) line: Option<u32>,
    pub(crate) target: &'a str,
    /// A full location (`file:line:col`, a panic's; a handler's name), used as is (an absolute
    /// path made crate-relative).
    pub(crate) location: Option<&'a str>,
    pub(crate) message: Message<'a>,
    pub(crate) timestamp: Timestamp,
    /// Whether the event or one of its spans has a field of this name (appended keys of that
    /// name are left out).
    pub(crate) has_field: &'a dyn Fn(&str) -> bool,
}

/// The logger-wide members: `,"service":…` and `,"sampling_rate":…`.
pub(crate) struct StaticMembers<'a> {
    pub(crate) service: &'a [u8],
    pub(crate) sampling_rate: &'a [u8],
}

/// Renders the compact line (with its newline) into `scratch.line`; the event's own parts must
/// already be in `scratch.parts` and `scratch.spans`.
pub(crate) fn render_line(
    scratch: &mut Scratch,
    input: &LineInput<'_>,
    statics: &StaticMembers<'_>,
    invocation: Option<&Invocation>,
) {
    let state = invocation.map(InvocationLogState::of);
    render_members(&mut scratch.members, input, state);

    let out = &mut scratch.line;
    out.clear();
    out.extend_from_slice(b"{\"level\":\"");
    out.extend_from_slice(input.level_name.as_bytes());
    out.extend_from_slice(b"\",\"location\":\"");
    // Never an absolute path of the build machine (a dependency in `~/.cargo/registry`): one
    // byte comparison for the usual relative path.
    match (input.location, input.file) {
        (Some(location), _) => json::escape_into(out, relative(location)),
        (None, Some(file)) => {
            json::escape_into(out, relative(file));
            if let Some(line) = input.line {
                out.push(b':');
                json::write_u64(out, u64::from(line));
            }
        }
        (None, None) => json::escape_into(out, input.target),
    }
    out.extend_from_slice(b"\",\"message\":");
    let message_start = out.len();
    match input.message {
        Message::Json(text) => json::write_compact(out, text),
        Message::Text(text) => {
            let trimmed = text.trim_start();
            if trimmed.starts_with('{') && json::is_json_object(text) {
                json::write_compact(out, text);
            } else {
                json::write_str(out, text);
            }
        }
    }
    scratch.ranges.message = message_start..out.len();
    out.extend_from_slice(b",\"timestamp\":\"");
    out.extend_from_slice(input.timestamp.as_str_buf().as_str().as_bytes());
    out.push(b'"');
    out.extend_from_slice(statics.service);
    out.extend_from_slice(statics.sampling_rate);
    let lambda = match (invocation, state) {
        (Some(invocation), Some(state)) => {
            let members = state.lambda_members(invocation.context());
            out.extend_from_slice(&members.head);
            state.write_correlation_member(out);
            Some(&members.tail)
        }
        _ => None,
    };
    let fields_start = out.len();
    out.extend_from_slice(&scratch.members);
    out.extend_from_slice(&scratch.spans);
    out.extend_from_slice(&scratch.parts.fields);
    let error_start = out.len();
    out.extend_from_slice(&scratch.parts.error);
    scratch.ranges.fields = fields_start..error_start;
    scratch.ranges.error = error_start..out.len();
    if let Some(tail) = lambda {
        out.extend_from_slice(tail);
    }
    out.extend_from_slice(b"}\n");
}

/// Whether `line` (newline included) is longer than one CloudWatch Logs event holds: the one
/// comparison a line that fits pays.
#[inline]
pub(crate) fn is_too_long(line: &[u8]) -> bool {
    line.len() > MAX_LINE_BYTES + 1
}

/// Shortens the rendered line in `scratch` (too long: see [`is_too_long`]) to
/// [`MAX_LINE_BYTES`], its largest values first (see [`fit`]), and moves the parts' ranges with
/// it.
#[cold]
#[inline(never)]
pub(crate) fn fit_line(scratch: &mut Scratch) {
    let body = scratch.line.strip_suffix(b"\n").unwrap_or(&scratch.line);
    let mut out = Vec::with_capacity(MAX_LINE_BYTES + 1);
    if let Some(placed) = fit::fit_object(body, MAX_LINE_BYTES, &mut out) {
        let ranges = &mut scratch.ranges;
        ranges.message = placed
            .iter()
            .find(|p| p.is_message)
            .map_or(0..0, |p| p.new_value.clone());
        ranges.fields = fit::remap(&ranges.fields, &placed);
        ranges.error = fit::remap(&ranges.error, &placed);
    } else {
        // Not reached: the logger's own lines are JSON objects.
        fit::cut_text(body, MAX_LINE_BYTES, &mut out);
        scratch.ranges = LineRanges::default();
    }
    out.push(b'\n');
    scratch.line = out;
}

/// Shortens a line of a custom formatter (newline included) to [`MAX_LINE_BYTES`]: like the
/// logger's own lines when it is a JSON object, else cut with the marker.
#[cold]
#[inline(never)]
pub(crate) fn fit_custom_line(line: &mut Vec<u8>) {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let mut out = Vec::with_capacity(MAX_LINE_BYTES + 1);
    if fit::fit_object(body, MAX_LINE_BYTES, &mut out).is_none() {
        fit::cut_text(body, MAX_LINE_BYTES, &mut out);
    }
    out.push(b'\n');
    *line = out;
}

/// Appended keys: persistent ones, then the invocation's (which win over persistent ones of the
/// same name); the event's own fields and its spans' fields win over both.
fn render_members(out: &mut Vec<u8>, input: &LineInput<'_>, state: Option<&InvocationLogState>) {
    out.clear();
    let invocation_keys = state.map(|s| s.keys.read());
    let persistent = persistent_keys().read();
    for (name, value) in persistent.iter() {
        let shadowed = invocation_keys
            .as_ref()
            .is_some_and(|keys| keys.iter().any(|(n, _)| n == name));
        if shadowed || (input.has_field)(name) {
            continue;
        }
        write_user_key(out, name);
        out.extend_from_slice(value.as_bytes());
    }
    if let Some(keys) = &invocation_keys {
        for (name, value) in keys.iter() {
            if (input.has_field)(name) {
                continue;
            }
            write_user_key(out, name);
            out.extend_from_slice(value.as_bytes());
        }
    }
}
