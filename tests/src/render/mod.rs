//! Renders what a function wrote and sent the way a person would rather look at it: log lines
//! pretty-printed and coloured by level, a metrics table per invocation and the X-Ray subsegment
//! tree as a waterfall.

mod logs;
mod metrics;
mod waterfall;

pub use logs::render_log_line;
pub use metrics::render_metrics_table;
pub use waterfall::render_waterfall;

/// Terminal styling: ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// Colours when stdout is a terminal and `NO_COLOR` is unset.
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        Self {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Wraps `text` in the ANSI code `code` (e.g. `"1;31"`) when colouring.
    pub fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}
