//! Warning lines: how the toolkit tells the user about a bad setting or a dropped value.
//!
//! A warning is one compact JSON line on stdout, the same shape as a logger line
//! (`level`, `location`, `message`, `timestamp`), so it lands in CloudWatch next to the function's
//! own logs and is found by the same queries. It is written directly, whether or not a `tracing`
//! subscriber is installed, and a write error is ignored: a warning never fails the handler.
//!
//! - [`warn`] / [`warn_once`]: a plain warning, `"level":"WARN"`.
//! - [`warn_kept`] / [`warn_once_kept`]: a warning that data is being lost, at the level
//!   Lambda's application log-level filter keeps ([`kept_level("WARN")`](crate::output::kept_level)):
//!   with `AWS_LAMBDA_LOG_LEVEL=ERROR`, a `WARN` line would be dropped and the loss never seen.
//!
//! Every warning line fits one CloudWatch Logs event
//! ([`MAX_LINE_BYTES`]): a longer message is shortened and ends
//! with `…[truncated N bytes]`, N counting the bytes of the message that were removed.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use crate::Timestamp;
use crate::output::{MAX_LINE_BYTES, kept_level};

static ONCE_KEYS: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

/// Writes one warning line to stdout.
///
/// `location` names the part of the toolkit that warns (`powertools_metrics`, say).
///
/// # Example
/// ```
/// powertools_core::warning::warn("powertools_core", "POWERTOOLS_DEV=maybe is not a boolean; using false");
/// ```
pub fn warn(location: &str, message: &str) {
    write(&render(location, message));
}

/// Like [`warn`], but only the first time `key` is seen in this process.
///
/// Returns whether the line was written.
///
/// # Example
/// ```
/// use powertools_core::warning::warn_once;
/// assert!(warn_once("doc-example", "powertools_core", "said once"));
/// assert!(!warn_once("doc-example", "powertools_core", "said once"));
/// ```
pub fn warn_once(key: &str, location: &str, message: &str) -> bool {
    let first = first_time(key);
    if first {
        warn(location, message);
    }
    first
}

/// Writes one warning line to stdout at a level Lambda's application log-level filter keeps:
/// `WARN`, or the filter's level when it is more severe (`AWS_LAMBDA_LOG_LEVEL=ERROR` gives
/// `"level":"ERROR"`).
///
/// For warnings that say data is being lost (lines, metrics, traces not written), which the user
/// must see whatever the filter.
///
/// # Example
/// ```
/// powertools_core::warning::warn_kept(
///     "powertools_metrics",
///     "the metric \"Latency\" has more than 100 values; the oldest were not written",
/// );
/// ```
pub fn warn_kept(location: &str, message: &str) {
    write(&render_at(kept_level("WARN"), location, message));
}

/// Like [`warn_kept`], but only the first time `key` is seen in this process (the same keys as
/// [`warn_once`]).
///
/// Returns whether the line was written.
///
/// # Example
/// ```
/// use powertools_core::warning::warn_once_kept;
/// assert!(warn_once_kept("doc-example-kept", "powertools_core", "values are being dropped"));
/// assert!(!warn_once_kept("doc-example-kept", "powertools_core", "values are being dropped"));
/// ```
pub fn warn_once_kept(key: &str, location: &str, message: &str) -> bool {
    let first = first_time(key);
    if first {
        warn_kept(location, message);
    }
    first
}

/// The warning line [`warn`] writes, newline included.
///
/// ```
/// let line = powertools_core::warning::render("powertools_core", "bad \"value\"");
/// let v: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(v["level"], "WARN");
/// assert_eq!(v["message"], "bad \"value\"");
/// ```
pub fn render(location: &str, message: &str) -> String {
    render_at("WARN", location, message)
}

/// A warning line at `level` (`"WARN"`, `"ERROR"`, … — what
/// [`kept_level`] returns), newline included: for a utility that
/// writes its warnings through its own sink.
///
/// The line is at most [`MAX_LINE_BYTES`] long (without the newline): a longer `message` (then
/// `location`) is shortened, ending with `…[truncated N bytes]`.
///
/// ```
/// use powertools_core::output::kept_level;
/// use powertools_core::warning::render_at;
///
/// let line = render_at(kept_level("WARN"), "powertools_logger", "the log buffer is full");
/// let v: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(v["level"], kept_level("WARN"));
///
/// let line = render_at("WARN", "powertools_core", &"x".repeat(300_000));
/// assert!(line.len() <= powertools_core::output::MAX_LINE_BYTES + 1);
/// let v: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert!(v["message"].as_str().unwrap().ends_with(" bytes]"));
/// ```
pub fn render_at(level: &str, location: &str, message: &str) -> String {
    let timestamp = Timestamp::now();
    let timestamp = timestamp.as_str_buf();
    let context = context_members();
    let mut line = line(level, location, message, timestamp.as_str(), &context);
    if line.len() > MAX_LINE_BYTES {
        line = shortened_line(level, location, message, timestamp.as_str(), &context);
    }
    line.push('\n');
    line
}

/// The keys after `timestamp`, as a Powertools line has them: `service`, and inside an
/// invocation its Lambda keys and request id, with `xray_trace_id` last.
fn context_members() -> String {
    let mut members = String::new();
    let mut push = |key: &str, json: String| {
        members.push_str(",\"");
        members.push_str(key);
        members.push_str("\":");
        members.push_str(&json);
    };
    let string = |s: &str| serde_json::to_string(s).unwrap_or_default();
    push(
        "service",
        string(&crate::PowertoolsConfig::global().powertools.service_name),
    );
    crate::Invocation::with_current(|invocation| {
        let c = invocation.context();
        push("cold_start", c.is_cold_start().to_string());
        push("function_name", string(c.function_name()));
        if let Some(memory) = c.memory_size_mb() {
            push("function_memory_size", memory.to_string());
        }
        push("function_arn", string(c.function_arn()));
        push("function_request_id", string(c.request_id()));
        if let Some(tenant) = c.tenant_id() {
            push("tenant_id", string(tenant));
        }
        if let Some(trace) = c.xray_trace_id() {
            push("xray_trace_id", string(trace));
        }
    });
    members
}

fn first_time(key: &str) -> bool {
    ONCE_KEYS
        .lock()
        .is_ok_and(|mut seen| seen.insert(key.to_owned()))
}

fn write(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// `{"level":…,"location":…,"message":…,"timestamp":…` then `context`, without a newline.
fn line(level: &str, location: &str, message: &str, timestamp: &str, context: &str) -> String {
    let mut line = String::with_capacity(64 + location.len() + message.len());
    for (i, (key, value)) in [
        ("level", level),
        ("location", location),
        ("message", message),
        ("timestamp", timestamp),
    ]
    .into_iter()
    .enumerate()
    {
        line.push(if i == 0 { '{' } else { ',' });
        line.push('"');
        line.push_str(key);
        line.push_str("\":");
        // Serializing a `str` cannot fail.
        line.push_str(&serde_json::to_string(value).unwrap_or_default());
    }
    line.push_str(context);
    line.push('}');
    line
}

/// The line with `message` (and, when it alone is too long, `location`) shortened to fit.
#[cold]
fn shortened_line(
    level: &str,
    location: &str,
    message: &str,
    timestamp: &str,
    context: &str,
) -> String {
    let room = MAX_LINE_BYTES.saturating_sub(line(level, "", "", timestamp, context).len());
    let (location_len, message_len) = (escaped_len(location), escaped_len(message));
    // The location keeps what it needs up to half the room, more when the message is short.
    let location_budget = location_len.min((room / 2).max(room.saturating_sub(message_len)));
    let location = shorten(location, location_budget);
    let message = shorten(message, room.saturating_sub(escaped_len(&location)));
    line(level, &location, &message, timestamp, context)
}

fn escaped_len(text: &str) -> usize {
    text.chars().map(crate::output::escaped_char_len).sum()
}

/// `text`, or its longest beginning (cut between characters) followed by
/// `…[truncated N bytes]`, whose escaped length is at most `budget`.
fn shorten(text: &str, budget: usize) -> String {
    if escaped_len(text) <= budget {
        return text.to_owned();
    }
    let marker_room = format!("\u{2026}[truncated {} bytes]", text.len()).len();
    let avail = budget.saturating_sub(marker_room);
    let end = crate::output::escaped_prefix_len(text, avail);
    format!(
        "{}\u{2026}[truncated {} bytes]",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_the_logger_shape_and_order() {
        let line = render_at("ERROR", "powertools_core", "lost \"lines\"\n");
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
        assert!(line.starts_with(r#"{"level":"ERROR","location":"powertools_core","message":"lost \"lines\"\n","timestamp":""#), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["message"], "lost \"lines\"\n");
        assert_eq!(render("a", "b").split('"').nth(3), Some("WARN"));
    }

    #[test]
    fn a_warning_inside_an_invocation_carries_its_keys_with_the_trace_id_last() {
        let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let context = crate::InvocationContext::for_test("req-7", "orders")
            .with_trace_header(header.parse().ok())
            .with_cold_start(true);
        let line = crate::Invocation::new(context)
            .sync_scope(|| render_at("WARN", "powertools_metrics", "dropped"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["function_request_id"], "req-7");
        assert_eq!(v["function_name"], "orders");
        assert_eq!(v["cold_start"], true);
        assert!(v["service"].is_string());
        let keys: Vec<&str> = line
            .split("\",\"")
            .filter_map(|part| part.split("\":").next())
            .collect();
        assert_eq!(keys.last(), Some(&"xray_trace_id"), "{line}");
        assert_eq!(v["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
        // Outside an invocation: the service only.
        let outside: serde_json::Value =
            serde_json::from_str(&render_at("WARN", "x", "y")).unwrap();
        assert!(outside.get("function_request_id").is_none());
        assert!(outside["service"].is_string());
    }

    fn marker(text: &str) -> (&str, usize) {
        let at = text.rfind("\u{2026}[truncated ").expect("a marker");
        let n = text[at..]
            .trim_start_matches("\u{2026}[truncated ")
            .trim_end_matches(" bytes]")
            .parse()
            .unwrap();
        (&text[..at], n)
    }

    #[test]
    fn a_long_message_is_shortened_to_fit_one_event() {
        for unit in ["x", "é", "🚀", "\"", "\n", "\u{1}"] {
            let message = unit.repeat(300_000 / unit.len());
            let line = render_at("WARN", "powertools_core", &message);
            assert!(line.len() - 1 <= MAX_LINE_BYTES, "{unit:?}: {}", line.len());
            assert!(
                line.len() - 1 > MAX_LINE_BYTES - 10,
                "{unit:?}: uses the room"
            );
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["location"], "powertools_core");
            let (kept, removed) = marker(v["message"].as_str().unwrap());
            assert!(message.starts_with(kept));
            assert_eq!(kept.len() + removed, message.len());
        }
    }

    #[test]
    fn a_long_location_gives_way_too() {
        let location = "l".repeat(400_000);
        let message = "m".repeat(400_000);
        let line = render_at("WARN", &location, &message);
        assert!(line.len() - 1 <= MAX_LINE_BYTES);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let (kept, _) = marker(v["location"].as_str().unwrap());
        assert!(kept.len() > 100_000);
        let (kept, _) = marker(v["message"].as_str().unwrap());
        assert!(kept.len() > 100_000);
        // A short location is kept whole.
        let v: serde_json::Value =
            serde_json::from_str(&render_at("WARN", "here", &message)).unwrap();
        assert_eq!(v["location"], "here");
    }

    /// Runs in a child process with `AWS_LAMBDA_LOG_LEVEL=error` (read once per process), which
    /// writes the lines this test reads.
    #[test]
    fn kept_warnings_carry_the_level_lambdas_filter_keeps() {
        const CHILD: &str = "POWERTOOLS_WARNING_TEST_CHILD";
        const NAME: &str = "warning::tests::kept_warnings_carry_the_level_lambdas_filter_keeps";
        if std::env::var_os(CHILD).is_some() {
            warn_kept("powertools_core", "lines are lost");
            assert!(warn_once_kept("k", "powertools_core", "once"));
            assert!(!warn_once_kept("k", "powertools_core", "once"));
            warn("powertools_core", "a plain warning");
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("AWS_LAMBDA_LOG_LEVEL", "error")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<serde_json::Value> = stdout
            .lines()
            // The harness writes `test … ` before the first line.
            .filter_map(|l| l.find('{').map(|at| &l[at..]))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let levels: Vec<_> = lines.iter().map(|l| l["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["ERROR", "ERROR", "WARN"], "{stdout}");
        assert_eq!(lines[0]["message"], "lines are lost");
    }
}
