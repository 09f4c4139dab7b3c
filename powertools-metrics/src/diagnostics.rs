//! The lines this crate writes about itself (not metrics): warnings and errors, in the shape of
//! the toolkit's log lines, on stdout.

use std::io::Write;

const LOCATION: &str = "powertools_metrics";

/// One warning line.
pub(crate) fn warn(message: &str) {
    powertools_core::warning::warn(LOCATION, message);
}

/// One warning line, once per process per `key`.
pub(crate) fn warn_once(key: &str, message: &str) {
    powertools_core::warning::warn_once(&format!("{LOCATION}:{key}"), LOCATION, message);
}

/// One error line (`"level":"ERROR"`), for an error the invocation hook cannot return.
pub(crate) fn error(message: &str) {
    let line = powertools_core::warning::render_at("ERROR", LOCATION, message);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}
