//! X-Ray subsegments from `tracing` spans, for Rust AWS Lambda functions.
//!
//! With active tracing on, the handler and every span it opens (`#[tracing::instrument]`)
//! show in X-Ray as subsegments under the function's segment, with the `ColdStart` and
//! `Service` annotations, the response or error as metadata, and errors and faults flagged.
//!
//! - [`Tracer`]: the configuration ([`Tracer::builder`], defaults from the environment).
//! - [`XrayLayer`] ([`Tracer::layer`]): the `tracing_subscriber::Layer` that turns spans inside
//!   traced invocations into subsegments. Fields that steer it: [`layer::fields`].
//! - [`TracerHook`] ([`Tracer::hook`]): the [`InvocationHook`] that opens the `## <handler>`
//!   subsegment and records the outcome.
//! - [`put_annotation`], [`put_metadata`], [`trace_header`]: on the current subsegment.
//! - [`emitter`]: where documents go: [`UdpEmitter`](emitter::UdpEmitter) to the X-Ray daemon,
//!   [`MemoryEmitter`](emitter::MemoryEmitter) in tests.
//! - `opentelemetry` (feature `opentelemetry`): X-Ray ids and propagation for the OpenTelemetry
//!   API, and `Tracer::otel_processor`, which sends OpenTelemetry spans as subsegments of the
//!   same trace.
//! - `aws_sdk` (feature `aws-sdk`): [`XrayInterceptor`](aws_sdk::XrayInterceptor), added once to
//!   an AWS SDK client's config: one `aws` subsegment per operation and the trace header on its
//!   requests.
//!
//! Nothing is built or sent for an invocation with `Sampled=0` or without a trace header, when
//! `POWERTOOLS_TRACE_DISABLED` is true, or outside Lambda.
//!
//! # Example
//! ```
//! use powertools_core::layer::InvocationLayer;
//! use powertools_tracer::Tracer;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let tracer = Tracer::from_env();
//! let subscriber = tracing_subscriber::registry().with(tracer.layer());
//! # let _ = subscriber;
//! // tracing::subscriber::set_global_default(subscriber)?;
//! let layer = InvocationLayer::new().handler_name("handler").hook(tracer.hook());
//! // ServiceBuilder::new().layer(layer).service(service_fn(handler))
//! # drop(layer);
//! ```
//!
//! [`InvocationHook`]: powertools_core::layer::InvocationHook

#[cfg(feature = "aws-sdk")]
pub mod aws_sdk;
mod current;
mod daemon_address;
mod document;
pub mod emitter;
mod hook;
mod id;
pub mod layer;
#[cfg(feature = "opentelemetry")]
pub mod opentelemetry;
mod trace_context;
mod tracer;

pub use current::{
    AnnotationError, AnnotationValue, MAX_ANNOTATION_KEY_CHARS, MAX_ANNOTATION_VALUE_CHARS,
    MetadataError, TRACE_HEADER_NAME, is_valid_annotation_key, put_annotation, put_metadata,
    put_metadata_in, trace_header,
};
pub use daemon_address::{DEFAULT_DAEMON_ADDRESS, DaemonAddress, DaemonAddressError};
pub use hook::TracerHook;
pub use id::{ParseSubsegmentIdError, SubsegmentId};
pub use layer::XrayLayer;
pub use tracer::{Tracer, TracerBuilder};
