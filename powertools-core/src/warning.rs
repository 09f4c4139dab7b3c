//! Warning lines: how the toolkit tells the user about a bad setting or a dropped value.
//!
//! A warning is one compact JSON line on stdout, the same shape as a logger line
//! (`level`, `location`, `message`, `timestamp`), so it lands in CloudWatch next to the function's
//! own logs and is found by the same queries. It is written directly, whether or not a `tracing`
//! subscriber is installed, and a write error is ignored: a warning never fails the handler.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use crate::Timestamp;

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
    let line = render(location, message);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
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
    let first = ONCE_KEYS
        .lock()
        .is_ok_and(|mut seen| seen.insert(key.to_owned()));
    if first {
        warn(location, message);
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
    let timestamp = Timestamp::now();
    let mut line = serde_json::json!({
        "level": "WARN",
        "location": location,
        "message": message,
        "timestamp": timestamp.as_str_buf().as_str(),
    })
    .to_string();
    line.push('\n');
    line
}
