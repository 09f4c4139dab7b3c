//! One ERROR line per failed invocation: `lambda_runtime`'s own report of a failure the hook
//! already wrote is left out.
//!
//! When a handler returns `Err` or panics, `lambda_runtime` (1.x, its `CatchPanic` layer, target
//! `lambda_runtime::layers::panic`) logs its own ERROR line about it once the handler's future is
//! done: `Diagnostic { error_type: …, error_message: … }` (the `Debug` text) or
//! `user handler panicked`, with the `requestId` and `xrayTraceId` of its invoke span and the
//! absolute path of its own source file as `location`. The [`LoggerHook`](crate::LoggerHook)
//! has written the invocation's ERROR line already, in the Powertools shape: the runtime's line
//! would be a second, differently shaped line about the same failure.
//!
//! So the hook notes the request id of each failure it writes (an `Err`, a panic, a timeout) in
//! its logger's [`FailureLedger`], and the logger's layer drops a `lambda_runtime::layers::panic`
//! ERROR event whose invoke span names a noted request. Every other line of the runtime is kept,
//! and so is that one when the hook did not write the failure (it failed outside the invocation
//! layer, or the logger's level let the hook's line out): it is then the only line about it.
//!
//! `lambda_runtime`'s `Request payload deserialization into LambdaEvent<T> failed` line
//! (`lambda_runtime::layers::api_response`) is kept too: it is written when the runtime cannot
//! build the event the service takes, before any hook runs, so no other line reports that
//! failure. (Under `#[powertools::handler(main)]` the event is deserialized inside the
//! invocation layer, which reports a bad event as `InvalidEvent` through the hook: the runtime
//! never writes that line there.)

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::format::json;

/// The target of `lambda_runtime`'s failure lines (`CatchPanicService`).
const RUNTIME_FAILURE_TARGET: &str = "lambda_runtime::layers::panic";

/// The target and name of the span `lambda_runtime` opens around each invocation.
pub(crate) const RUNTIME_SPAN_TARGET: &str = "lambda_runtime::layers::trace";

/// The field of that span holding the request id.
pub(crate) const RUNTIME_REQUEST_ID_FIELD: &str = "requestId";

/// How many written failures are remembered until the runtime's line about them arrives. It
/// arrives in the same poll of the handler's future as the hook's line, so only the failures in
/// flight at one moment are needed; a failure the runtime never reports (a timed-out handler
/// that then succeeds, a handler run without `lambda_runtime`) is forgotten, oldest first.
const CAPACITY: usize = 1024;

/// Whether an event is one of `lambda_runtime`'s reports of a failed invocation.
#[inline]
pub(crate) fn is_runtime_failure(level: tracing::Level, target: &str) -> bool {
    level == tracing::Level::ERROR && target == RUNTIME_FAILURE_TARGET
}

/// Whether a span is `lambda_runtime`'s invoke span (whose fields name the request).
#[inline]
pub(crate) fn is_runtime_invoke_span(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.is_span() && metadata.target() == RUNTIME_SPAN_TARGET
}

/// The request ids (as rendered JSON strings, the form the layer keeps span fields in) whose
/// failure the hook wrote.
#[derive(Debug, Default)]
pub(crate) struct FailureLedger {
    written: Mutex<VecDeque<Box<[u8]>>>,
}

impl FailureLedger {
    /// Notes that the hook wrote the failure of `request_id`.
    pub(crate) fn note(&self, request_id: &str) {
        if request_id.is_empty() {
            return;
        }
        let mut rendered = Vec::with_capacity(request_id.len() + 2);
        json::write_str(&mut rendered, request_id);
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        // A timed-out handler that then fails is noted twice: the runtime reports it once.
        if written.iter().rev().any(|id| **id == *rendered) {
            return;
        }
        if written.len() >= CAPACITY {
            written.pop_front();
        }
        written.push_back(rendered.into_boxed_slice());
    }

    /// Whether the failure of the request whose id renders as `rendered` (a JSON string) was
    /// written by the hook; forgets it (the runtime reports a failure once).
    pub(crate) fn take(&self, rendered: &[u8]) -> bool {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        match written.iter().rposition(|id| **id == *rendered) {
            Some(at) => {
                written.remove(at);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(id: &str) -> Vec<u8> {
        let mut out = Vec::new();
        json::write_str(&mut out, id);
        out
    }

    #[test]
    fn a_noted_failure_is_taken_once() {
        let ledger = FailureLedger::default();
        ledger.note("req-\"1\"");
        ledger.note("req-\"1\"");
        assert!(!ledger.take(&rendered("req-2")));
        assert!(ledger.take(&rendered("req-\"1\"")));
        assert!(!ledger.take(&rendered("req-\"1\"")), "reported once");
        ledger.note("");
        assert!(!ledger.take(b"\"\""), "no request id: nothing to match");
    }

    #[test]
    fn the_oldest_are_forgotten_past_the_capacity() {
        let ledger = FailureLedger::default();
        for n in 0..=CAPACITY {
            ledger.note(&format!("r{n}"));
        }
        assert!(!ledger.take(&rendered("r0")));
        assert!(ledger.take(&rendered("r1")));
        assert!(ledger.take(&rendered(&format!("r{CAPACITY}"))));
    }

    #[test]
    fn only_the_runtimes_failure_lines_are_recognised() {
        use tracing::Level;
        assert!(is_runtime_failure(
            Level::ERROR,
            "lambda_runtime::layers::panic"
        ));
        assert!(!is_runtime_failure(
            Level::WARN,
            "lambda_runtime::layers::panic"
        ));
        assert!(!is_runtime_failure(
            Level::ERROR,
            "lambda_runtime::layers::api_response"
        ));
        assert!(!is_runtime_failure(Level::ERROR, "lambda_runtime::runtime"));
    }
}
