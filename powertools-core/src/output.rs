//! What Lambda and CloudWatch Logs do to a function's stdout, as rules every utility keeps to.
//!
//! - A line longer than [`MAX_LINE_BYTES`] is cut by Lambda into several CloudWatch events, and a
//!   cut JSON line is no longer JSON: every line the toolkit writes is at most that long.
//! - With Lambda's application log-level filter (`AWS_LAMBDA_LOG_LEVEL` with the JSON log format),
//!   Lambda reads each line's root `"level"` key and drops the lines below the filter; a line
//!   without a `level` counts as `INFO`. Lines that must reach CloudWatch whatever the filter
//!   (EMF documents, the toolkit's warnings about lost data) carry the level
//!   [`kept_level`] names.

use std::sync::LazyLock;

/// The largest line, in bytes and without its newline, that reaches CloudWatch Logs as one event.
///
/// A CloudWatch Logs event holds at most 262,144 bytes, 26 of which are counted for the event's
/// own overhead; Lambda cuts a longer stdout line into several events.
///
/// ```
/// assert_eq!(powertools_core::output::MAX_LINE_BYTES, 262_118);
/// ```
pub const MAX_LINE_BYTES: usize = 262_144 - 26;

/// Lambda's application log-level filter, as the least severe level it keeps, when it keeps less
/// than `INFO`; `None` when lines at `INFO` (and lines without a level) pass.
///
/// Read once from `AWS_LAMBDA_LOG_LEVEL`. Lambda's levels above `INFO` are `WARN`, `ERROR` and
/// `FATAL`; `WARNING` and `CRITICAL` are read as `WARN` and `FATAL`, any case.
pub fn lambda_filter_level() -> Option<&'static str> {
    static LEVEL: LazyLock<Option<&'static str>> = LazyLock::new(|| {
        std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .and_then(|v| filter_level_of(&v))
    });
    *LEVEL
}

/// The `level` a line needs so that Lambda's filter keeps it: `at_least` (`"INFO"`, `"WARN"`, …)
/// or the filter's level when that is more severe.
///
/// ```
/// // With no AWS_LAMBDA_LOG_LEVEL (or DEBUG, INFO), a WARN line passes as it is.
/// assert_eq!(powertools_core::output::kept_level("WARN"), "WARN");
/// ```
pub fn kept_level(at_least: &'static str) -> &'static str {
    match lambda_filter_level() {
        Some(filter) if rank(filter) > rank(at_least) => filter,
        _ => at_least,
    }
}

/// How many bytes `c` takes inside a JSON string once escaped (as `serde_json` escapes).
pub fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The length in bytes of the longest beginning of `text`, cut between characters, whose escaped
/// JSON form takes at most `budget` bytes: where a value shortened to fit a line is cut.
///
/// ```
/// use powertools_core::output::escaped_prefix_len;
/// assert_eq!(escaped_prefix_len("abc", 2), 2);
/// assert_eq!(escaped_prefix_len("a\"b", 2), 1, "the quote takes two bytes escaped");
/// assert_eq!(escaped_prefix_len("é", 1), 0, "never inside a character");
/// ```
pub fn escaped_prefix_len(text: &str, budget: usize) -> usize {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += escaped_char_len(c);
        if used > budget {
            return i;
        }
    }
    text.len()
}

/// The filter level named by a value of `AWS_LAMBDA_LOG_LEVEL`, when it is above `INFO`.
pub(crate) fn filter_level_of(value: &str) -> Option<&'static str> {
    match value.trim().to_ascii_uppercase().as_str() {
        "WARN" | "WARNING" => Some("WARN"),
        "ERROR" => Some("ERROR"),
        "FATAL" | "CRITICAL" => Some("FATAL"),
        _ => None,
    }
}

fn rank(level: &str) -> u8 {
    match level {
        "TRACE" => 0,
        "DEBUG" => 1,
        "INFO" => 2,
        "WARN" => 3,
        "ERROR" => 4,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_levels_above_info_only() {
        for (value, level) in [
            ("WARN", Some("WARN")),
            ("warning", Some("WARN")),
            ("Error", Some("ERROR")),
            ("FATAL", Some("FATAL")),
            ("critical", Some("FATAL")),
            ("INFO", None),
            ("DEBUG", None),
            ("TRACE", None),
            ("loud", None),
            ("", None),
        ] {
            assert_eq!(filter_level_of(value), level, "{value}");
        }
    }

    #[test]
    fn ranks_order_lambda_levels() {
        assert!(rank("WARN") > rank("INFO"));
        assert!(rank("ERROR") > rank("WARN"));
        assert!(rank("FATAL") > rank("ERROR"));
    }
}
