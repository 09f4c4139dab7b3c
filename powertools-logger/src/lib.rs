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
//!   [`InvocationLayer`](powertools_core::layer::InvocationLayer).
//! - [`append_key`], [`append_persistent_key`], [`remove_key`], [`set_correlation_id`]: keys on
//!   every line, scoped to the invocation or the process.
//! - [`LogSink`], [`StdoutSink`], [`MemorySink`]: where lines go.
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
