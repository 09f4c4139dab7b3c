//! Turning `tracing` field values into JSON members, with their JSON types.

use std::error::Error;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

use super::json;
use super::reserved::write_user_key;

/// Where the fields of one event are rendered: reused, thread-local buffers.
#[derive(Default)]
pub(crate) struct EventParts {
    /// The message, raw (unescaped).
    pub(crate) message: String,
    /// Whether the event had a message.
    pub(crate) has_message: bool,
    /// `,"key":value` members of the event's own fields.
    pub(crate) fields: Vec<u8>,
    /// `,"exception":…` members of the first error field.
    pub(crate) error: Vec<u8>,
}

impl EventParts {
    pub(crate) fn clear(&mut self) {
        self.message.clear();
        self.has_message = false;
        self.fields.clear();
        self.error.clear();
    }
}

/// Records an event's fields into [`EventParts`].
pub(crate) struct EventVisitor<'a> {
    pub(crate) parts: &'a mut EventParts,
    /// Skip the `log.*` fields `tracing-log` adds to `log` records.
    pub(crate) skip_log_fields: bool,
}

impl EventVisitor<'_> {
    #[inline]
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.skip_log_fields && name.starts_with("log.") {
            return false;
        }
        write_user_key(&mut self.parts.fields, name);
        true
    }
}

impl Visit for EventVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.key(field) {
            json::write_f64(&mut self.parts.fields, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field) {
            json::write_i64(&mut self.parts.fields, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.key(field) {
            json::write_u64(&mut self.parts.fields, value);
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.key(field) {
            write_int128(&mut self.parts.fields, value);
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.key(field) {
            write_int128(&mut self.parts.fields, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field) {
            self.parts
                .fields
                .extend_from_slice(if value { b"true" } else { b"false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.parts.has_message = true;
            self.parts.message.push_str(value);
        } else if self.key(field) {
            json::write_str(&mut self.parts.fields, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.parts.error.is_empty() {
            write_error_members(&mut self.parts.error, value);
        } else if self.key(field) {
            // A second error in one event: an object under its own name.
            let out = &mut self.parts.fields;
            out.extend_from_slice(b"{\"message\":");
            json::write_display(out, value);
            out.extend_from_slice(b",\"type\":");
            write_type_name(out, value);
            out.push(b'}');
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.parts.has_message = true;
            // `fmt::Arguments` (the usual message) prints the same with `Debug` and `Display`.
            let _ = write!(self.parts.message, "{value:?}");
        } else if self.key(field) {
            json::write_debug(&mut self.parts.fields, value);
        }
    }
}

fn write_int128(out: &mut Vec<u8>, value: impl fmt::Display) {
    use std::io::Write as _;
    let _ = write!(out, "{value}");
}

/// Appends `,"exception":"…","exception_name":"…"[,"exception_chain":["…",…]]` for an error.
pub(crate) fn write_error_members(out: &mut Vec<u8>, error: &(dyn Error + 'static)) {
    out.extend_from_slice(b",\"exception\":");
    json::write_display(out, error);
    out.extend_from_slice(b",\"exception_name\":");
    write_type_name(out, error);
    let mut source = error.source();
    if source.is_some() {
        out.extend_from_slice(b",\"exception_chain\":[");
        let mut first = true;
        while let Some(s) = source {
            if !first {
                out.push(b',');
            }
            first = false;
            json::write_display(out, s);
            source = s.source();
        }
        out.push(b']');
    }
}

/// Appends the error's type name, read from the head of its `Debug` output (a `dyn Error` has no
/// other way to name its concrete type): `ParseIntError { kind: .. }` gives `"ParseIntError"`.
fn write_type_name(out: &mut Vec<u8>, error: &dyn Error) {
    struct Head {
        bytes: [u8; 96],
        len: usize,
        done: bool,
    }
    impl fmt::Write for Head {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for &b in s.as_bytes() {
                if self.done {
                    break;
                }
                if (b.is_ascii_alphanumeric() || b == b'_' || b == b':')
                    && self.len < self.bytes.len()
                {
                    self.bytes[self.len] = b;
                    self.len += 1;
                } else {
                    self.done = true;
                }
            }
            if self.done { Err(fmt::Error) } else { Ok(()) }
        }
    }
    let mut head = Head {
        bytes: [0; 96],
        len: 0,
        done: false,
    };
    let _ = write!(head, "{error:?}");
    let name = std::str::from_utf8(&head.bytes[..head.len]).unwrap_or("");
    json::write_str(out, if name.is_empty() { "Error" } else { name });
}

/// Records a span's fields as `(name, JSON value)` pairs.
pub(crate) struct SpanVisitor<'a> {
    pub(crate) fields: &'a mut Vec<(&'static str, Vec<u8>)>,
}

impl SpanVisitor<'_> {
    fn put(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        let name = field.name();
        // `xray.*` fields steer the tracer (subsegment name, annotations, opt-out): not log keys.
        if name.starts_with("xray.") {
            return;
        }
        let mut value = Vec::new();
        write(&mut value);
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }
}

impl Visit for SpanVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, |o| json::write_f64(o, value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, |o| json::write_i64(o, value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, |o| json::write_u64(o, value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, |o| {
            o.extend_from_slice(if value { b"true" } else { b"false" });
        });
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, |o| json::write_str(o, value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.put(field, |o| json::write_display(o, value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, |o| json::write_debug(o, value));
    }
}
