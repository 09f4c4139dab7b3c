//! What Lambda and CloudWatch Logs accept from a function, as numbers the utilities keep to.

/// The largest line, in bytes and without its newline, that reaches CloudWatch Logs as one event.
///
/// A CloudWatch Logs event holds at most 262,144 bytes, 26 of which are counted for the event's
/// own overhead; Lambda cuts a longer stdout line into several events, and a cut JSON line is no
/// longer JSON. Every line the toolkit writes to stdout is at most this long.
///
/// ```
/// assert_eq!(powertools_core::limits::MAX_LINE_BYTES, 262_118);
/// ```
pub const MAX_LINE_BYTES: usize = 262_144 - 26;
