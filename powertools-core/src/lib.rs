//! What the powertools-rs utilities share.
//!
//! - [`InvocationContext`]: request id, function name/version/memory/ARN, log group and stream,
//!   [`TraceHeader`], tenant id, deadline and cold start of one invocation.
//! - [`Invocation`]: the invocation in progress, found from anywhere in the handler's call tree
//!   with [`Invocation::current`] — correct when several invocations run at once in one process.
//! - [`layer::InvocationLayer`]: the `tower::Layer` that creates the invocation scope and runs
//!   each utility's [`layer::InvocationHook`] around the handler.
//! - [`PowertoolsConfig`]: the Lambda and `POWERTOOLS_*` environment, parsed once.
//! - [`ColdStart`], [`Timestamp`], [`warning`], [`output`].
//!
//! Most users never name this crate: the `powertools` crate and its handler macro put it to work.

mod cold_start;
pub mod config;
mod context;
mod invocation;
pub mod layer;
pub mod location;
pub mod output;
mod timestamp;
mod trace_header;
pub mod warning;

pub use cold_start::ColdStart;
pub use config::PowertoolsConfig;
pub use context::InvocationContext;
pub use invocation::{Extensions, Invocation};
pub use timestamp::{Timestamp, TimestampBuf};
pub use trace_header::{TraceHeader, TraceHeaderError};
