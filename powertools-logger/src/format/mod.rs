//! Rendering lines: the Powertools key order, JSON escaping, the custom formatter hook.

pub(crate) mod fields;
pub(crate) mod fit;
pub(crate) mod json;
mod line;
mod record;
pub(crate) mod reserved;

pub(crate) use line::{
    LineInput, Message, Scratch, StaticMembers, fit_custom_line, fit_line, is_too_long,
    render_line, with_scratch,
};
pub use record::{LineFormatter, LogRecord};
