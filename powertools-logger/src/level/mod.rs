//! Which lines are written: the log level, `RUST_LOG`-style per-target directives, Lambda's
//! advanced logging controls and per-invocation sampling.

mod directives;
mod filter;
mod resolve;

pub use directives::{DirectiveError, Directives};
pub(crate) use filter::LevelPolicy;
pub use filter::LogFilter;
pub use resolve::{LevelResolution, resolve_level};
