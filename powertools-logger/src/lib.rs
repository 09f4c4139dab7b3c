//! Powertools-compatible structured JSON logging for Rust AWS Lambda functions, through
//! [`tracing`].
//!
//! Keep writing `tracing::info!(order_id = %id, "order created")`; every line becomes one compact
//! JSON object with the keys, order and meaning of Powertools for Python, so one set of
//! CloudWatch Logs Insights queries serves Python and Rust functions alike:
//!
//! ```text
//! {"level":"INFO","location":"src/main.rs:15","message":"order created","timestamp":"2026-11-24T07:05:14.507Z",
//!  "service":"payment","cold_start":true,"function_name":"payment-fn","function_memory_size":128,
//!  "function_arn":"arn:aws:lambda:…","function_request_id":"c6af9ac6-…","order_id":"o-1",
//!  "xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793"}
//! ```
//!
//! - [`Logger`]: the builder (service, level, directives, sampling, event logging, correlation id,
//!   buffering, dev mode, sink, custom formatter), defaulting from the environment.
//! - [`PowertoolsJsonLayer`] with its [`LogFilter`]: the `tracing_subscriber::Layer`.
//! - [`LoggerHook`]: the per-invocation part, for
//!   [`InvocationLayer`](powertools_core::layer::InvocationLayer): exactly one ERROR line per
//!   failed invocation (`Err`, panic, timeout), `lambda_runtime`'s own line about it left out.
//! - [`append_key`], [`append_persistent_key`], [`remove_key`], [`set_correlation_id`]: keys on
//!   every line, scoped to the invocation or the process. Outside an invocation (at init, in a
//!   task spawned without `Invocation::scope`) `append_key` is an error
//!   ([`AppendKeyError::NoInvocation`]), never a key of the process: that is
//!   [`append_persistent_key`]'s job.
//! - [`LogSink`], [`StdoutSink`], [`MemorySink`]: where lines go.
//!
//! # Every line fits one CloudWatch Logs event
//!
//! Lambda cuts a stdout line longer than
//! [`MAX_LINE_BYTES`](powertools_core::output::MAX_LINE_BYTES) (262,118 bytes) into several
//! CloudWatch events, and the pieces are not JSON: the line's level, keys and fields are lost.
//! So every line the logger writes — event lines, the hook's lines (the logged event, the
//! handler's error), buffered lines, its own warnings — is at most that long (newline aside) and
//! one JSON object. A line that would be longer has its largest values shortened, until it fits:
//!
//! - first the `message`, appended keys, span and event fields and `exception…` members: every
//!   value above a common cap is cut down to it, the cap as high as the limit allows, so smaller
//!   values are kept whole;
//! - the Powertools keys (`level`, `location`, `timestamp`, `service`, `cold_start`,
//!   `function_*`, `correlation_id`, `xray_trace_id`, …) keep their values, and every key keeps its
//!   place;
//! - a shortened string keeps its beginning, cut between characters (never inside a UTF-8
//!   character or an escape sequence), and ends with `…[truncated N bytes]`, N counting the
//!   bytes of the value (UTF-8, unescaped) that were removed;
//! - a shortened object or array (a big appended value, a message that is a JSON object)
//!   becomes a string: the beginning of its JSON text and the same marker;
//! - only a line with thousands of keys (too many for shortening values to be enough) has keys
//!   left out, the largest first, and its message then ends with `…[left out K keys, N bytes]`.
//!
//! ```text
//! {"level":"INFO",…,"message":"order created","timestamp":"…",…,"payload":"{\"items\":[1,2,…[truncated 301234 bytes]",…}
//! ```
//!
//! A line that fits pays one length comparison for this. With a custom [`LineFormatter`], the
//! [`LogRecord`] it gets is made from the shortened line, and its output, when longer than the
//! limit, is shortened the same way if it is a JSON object (else cut, with the marker). In
//! [`dev`](Logger::dev) mode the shortened line is indented.
//!
//! # Example
//! ```no_run
//! use lambda_runtime::{service_fn, Error, LambdaEvent};
//! use powertools_core::layer::InvocationLayer;
//! use powertools_logger::{CorrelationIdPath, Logger};
//! use serde_json::Value;
//! use tower::ServiceBuilder;
//!
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     powertools_logger::append_key("order_id", "o-1")?;
//!     tracing::info!(amount = 12.5, "order created");
//!     Ok(event.payload)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let hook = Logger::new()
//!         .correlation_id_path(CorrelationIdPath::api_gateway_rest())
//!         .init();
//!     let service = ServiceBuilder::new()
//!         .layer(InvocationLayer::new().hook(hook))
//!         .service(service_fn(handler));
//!     lambda_runtime::run(service).await
//! }
//! ```

mod buffer;
mod emitter;
mod failures;
mod format;
mod hook;
mod layer;
mod level;
mod logger;
mod sink;
mod state;

pub use buffer::BufferConfig;
pub use format::reserved::{RENAMED_PREFIX, RESERVED_KEYS, is_reserved_key};
pub use format::{LineFormatter, LogRecord};
pub use hook::{CorrelationIdPath, CorrelationIdPathError, LoggerHook};
pub use layer::PowertoolsJsonLayer;
pub use level::{DirectiveError, Directives, LevelResolution, LogFilter, resolve_level};
pub use logger::{FilteredJsonLayer, InitError, Logger, LoggerParts};
pub use sink::{LogSink, MemorySink, StdoutSink};
pub use state::{
    AppendKeyError, append_key, append_persistent_key, correlation_id, remove_key,
    remove_persistent_key, set_correlation_id,
};
