//! Rendering lines: the Powertools key order, JSON escaping, the custom formatter hook.

pub(crate) mod fields;
pub(crate) mod json;
mod line;
mod record;
pub(crate) mod reserved;

pub(crate) use line::{LineInput, Message, Scratch, StaticMembers, render_line, with_scratch};
pub use record::{LineFormatter, LogRecord};
