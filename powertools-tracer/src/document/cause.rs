//! The `cause` of a failed subsegment: the exceptions of an error chain or a panic.

use powertools_core::layer::{ErrorReport, PanicReport};

use super::{cut_chars, json};
use crate::SubsegmentId;

/// The longest exception message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 4096;

/// One exception of a cause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exception {
    pub(crate) id: SubsegmentId,
    pub(crate) message: Option<String>,
    pub(crate) kind: Option<String>,
    /// The id of the exception that caused this one (the next in the chain).
    pub(crate) cause: Option<SubsegmentId>,
    /// Where it happened: file and line.
    pub(crate) location: Option<(String, u64)>,
}

/// A subsegment's `cause`: its exceptions, outermost first.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Cause {
    pub(crate) exceptions: Vec<Exception>,
}

impl Cause {
    /// The exceptions of a handler error: the error, then each `source()`, each pointing at the
    /// next. Without `messages`, only the error's type is kept (the messages may hold data the
    /// user chose not to send).
    pub(crate) fn from_error(report: &ErrorReport, messages: bool) -> Self {
        let ids: Vec<SubsegmentId> = (0..=report.sources.len())
            .map(|_| SubsegmentId::random())
            .collect();
        let mut exceptions = Vec::with_capacity(ids.len());
        let texts = std::iter::once(&report.message).chain(report.sources.iter());
        for (i, text) in texts.enumerate() {
            if i > 0 && !messages {
                break;
            }
            exceptions.push(Exception {
                id: ids[i],
                message: messages.then(|| cut_chars(text, MAX_MESSAGE_CHARS)),
                kind: (i == 0).then(|| report.type_name.clone()),
                cause: if messages {
                    ids.get(i + 1).copied()
                } else {
                    None
                },
                location: None,
            });
        }
        Self { exceptions }
    }

    /// The exception of a panic, with its location as a one-frame stack.
    pub(crate) fn from_panic(report: &PanicReport, messages: bool) -> Self {
        let location = report.location.as_deref().and_then(|l| {
            let mut parts = l.rsplitn(3, ':');
            let _column = parts.next()?;
            let line = parts.next()?.parse().ok()?;
            Some((parts.next()?.to_owned(), line))
        });
        Self {
            exceptions: vec![Exception {
                id: SubsegmentId::random(),
                message: messages.then(|| cut_chars(&report.message, MAX_MESSAGE_CHARS)),
                kind: Some(powertools_core::layer::PANIC_ERROR_TYPE.to_owned()),
                cause: None,
                location,
            }],
        }
    }

    /// An invocation cut at its timeout: one exception of type `Timeout`.
    pub(crate) fn from_timeout(message: &str) -> Self {
        Self {
            exceptions: vec![Exception {
                id: SubsegmentId::random(),
                message: Some(cut_chars(message, MAX_MESSAGE_CHARS)),
                kind: Some(powertools_core::layer::TimeoutReport::TYPE_NAME.to_owned()),
                cause: None,
                location: None,
            }],
        }
    }

    /// A single exception with a message (an ERROR event inside a span).
    pub(crate) fn from_message(message: &str) -> Self {
        Self {
            exceptions: vec![Exception {
                id: SubsegmentId::random(),
                message: Some(cut_chars(message, MAX_MESSAGE_CHARS)),
                kind: None,
                cause: None,
                location: None,
            }],
        }
    }

    /// One exception with an optional type and message (span fields `exception.*`).
    pub(crate) fn from_recorded_parts(kind: Option<String>, message: Option<String>) -> Self {
        Self {
            exceptions: vec![Exception {
                id: SubsegmentId::random(),
                message,
                kind,
                cause: None,
                location: None,
            }],
        }
    }

    /// Exceptions recorded by instrumentation, each a type and a message (both optional), in
    /// the order given.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn from_recorded(
        exceptions: impl IntoIterator<Item = (Option<String>, Option<String>)>,
    ) -> Self {
        Self {
            exceptions: exceptions
                .into_iter()
                .map(|(kind, message)| Exception {
                    id: SubsegmentId::random(),
                    message: message.map(|m| cut_chars(&m, MAX_MESSAGE_CHARS)),
                    kind: kind.map(|k| cut_chars(&k, MAX_MESSAGE_CHARS)),
                    cause: None,
                    location: None,
                })
                .collect(),
        }
    }

    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"exceptions\":[");
        for (i, e) in self.exceptions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"id\":\"");
            out.extend_from_slice(&e.id.to_hex());
            out.push(b'"');
            if let Some(m) = &e.message {
                out.extend_from_slice(b",\"message\":");
                json::string(out, m);
            }
            if let Some(k) = &e.kind {
                out.extend_from_slice(b",\"type\":");
                json::string(out, k);
            }
            if let Some(c) = e.cause {
                out.extend_from_slice(b",\"cause\":\"");
                out.extend_from_slice(&c.to_hex());
                out.push(b'"');
            }
            if let Some((path, line)) = &e.location {
                out.extend_from_slice(b",\"stack\":[{\"path\":");
                json::string(out, path);
                out.extend_from_slice(b",\"line\":");
                json::uint(out, *line);
                out.extend_from_slice(b"}]");
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chain_links_each_exception_to_the_next() {
        let report = ErrorReport {
            message: "payment failed".into(),
            type_name: "PaymentError".into(),
            sources: vec!["connection reset".into(), "os error 104".into()],
            location: None,
        };
        let c = Cause::from_error(&report, true);
        assert_eq!(c.exceptions.len(), 3);
        assert_eq!(c.exceptions[0].cause, Some(c.exceptions[1].id));
        assert_eq!(c.exceptions[1].cause, Some(c.exceptions[2].id));
        assert_eq!(c.exceptions[2].cause, None);
        assert_eq!(c.exceptions[0].kind.as_deref(), Some("PaymentError"));
        let quiet = Cause::from_error(&report, false);
        assert_eq!(quiet.exceptions.len(), 1);
        assert_eq!(quiet.exceptions[0].message, None);
    }

    #[test]
    fn panic_location_becomes_a_stack_frame() {
        let report = PanicReport {
            message: "boom".into(),
            location: Some("src/main.rs:12:5".into()),
        };
        let c = Cause::from_panic(&report, true);
        assert_eq!(c.exceptions[0].location, Some(("src/main.rs".into(), 12)));
        let mut out = Vec::new();
        c.write_json(&mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["exceptions"][0]["stack"][0]["line"], 12);
        assert_eq!(v["exceptions"][0]["type"], "Panic");
    }
}
