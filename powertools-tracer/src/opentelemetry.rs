//! OpenTelemetry interop (feature `opentelemetry`): code instrumented with the OpenTelemetry API
//! joins the invocation's X-Ray trace.
//!
//! - [`XrayIdGenerator`]: trace ids in X-Ray's format (the first 32 bits are the epoch
//!   seconds), for the OpenTelemetry SDK's tracer provider.
//! - [`XrayPropagator`]: the `X-Amzn-Trace-Id` header ⇄ OpenTelemetry `SpanContext`, for
//!   incoming and outgoing calls.
//! - [`current_context`]: an OpenTelemetry `Context` whose remote parent is the current X-Ray
//!   subsegment: spans started with it share the invocation's trace id and hang under that
//!   subsegment.
//! - [`XraySpanProcessor`] ([`Tracer::otel_processor`](crate::Tracer::otel_processor)): the
//!   span processor that sends each ended OpenTelemetry span as an X-Ray subsegment through the
//!   tracer's emitter, beside the subsegments of `tracing` spans: no collector needed.
//! - [`span_context_from_header`] / [`header_from_span_context`]: the conversions themselves.
//!
//! Setup: an `SdkTracerProvider` with [`XrayIdGenerator`] and [`XraySpanProcessor`] (its
//! documentation has the example), spans started with [`current_context`] as their parent
//! context.
//!
//! ```
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use powertools_tracer::opentelemetry::XrayPropagator;
//! use std::collections::HashMap;
//!
//! // Header maps keep names in lowercase.
//! let mut incoming = HashMap::new();
//! incoming.insert(
//!     "x-amzn-trace-id".to_owned(),
//!     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_owned(),
//! );
//! let cx = XrayPropagator::new().extract(&incoming);
//! let parent = cx.span().span_context().clone();
//! assert_eq!(parent.trace_id().to_string(), "5759e988bd862e3fe1be46a994272793");
//! assert_eq!(parent.span_id().to_string(), "53995c3f42cd8ad8");
//! assert!(parent.is_sampled());
//!
//! let mut outgoing = HashMap::new();
//! XrayPropagator::new().inject_context(&cx, &mut outgoing);
//! assert_eq!(outgoing["x-amzn-trace-id"], incoming["x-amzn-trace-id"]);
//! ```

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use powertools_core::{Invocation, TraceHeader};

use crate::TRACE_HEADER_NAME;
use crate::id::{hex16, random_u64};
use crate::layer::span_state::current_subsegment_id;

mod processor;

pub use processor::XraySpanProcessor;

/// An OpenTelemetry trace id in X-Ray's form: `1-<8 hex digits>-<24 hex digits>`.
pub(crate) fn xray_trace_id(id: TraceId) -> String {
    let bits = u128::from_be_bytes(id.to_bytes());
    let (high, low) = (hex16((bits >> 64) as u64), hex16(bits as u64));
    let mut out = Vec::with_capacity(35);
    out.extend_from_slice(b"1-");
    out.extend_from_slice(&high[..8]);
    out.push(b'-');
    out.extend_from_slice(&high[8..]);
    out.extend_from_slice(&low);
    // Only ASCII digits, hex digits and dashes were written.
    String::from_utf8(out).unwrap_or_default()
}

/// The OpenTelemetry `SpanContext` a trace header describes (remote), when it has a `Parent`.
pub fn span_context_from_header(header: &TraceHeader) -> Option<SpanContext> {
    let hex: String = header
        .root()
        .get(2..)?
        .chars()
        .filter(|c| *c != '-')
        .collect();
    let trace_id = TraceId::from_hex(&hex).ok()?;
    let span_id = SpanId::from_hex(header.parent()?).ok()?;
    let flags = if header.sampled() == Some(false) {
        TraceFlags::default()
    } else {
        TraceFlags::SAMPLED
    };
    Some(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
}

/// The trace header of an OpenTelemetry `SpanContext`; `None` for an invalid context.
pub fn header_from_span_context(cx: &SpanContext) -> Option<TraceHeader> {
    if !cx.is_valid() {
        return None;
    }
    let root = xray_trace_id(cx.trace_id());
    let parent = format!("{:016x}", u64::from_be_bytes(cx.span_id().to_bytes()));
    TraceHeader::new(&root, Some(&parent), Some(cx.is_sampled())).ok()
}

/// The current X-Ray subsegment as a remote OpenTelemetry `SpanContext` (or, in an invocation
/// that is not traced, the invocation's header).
pub fn current_span_context() -> Option<SpanContext> {
    let header = match current_subsegment_id() {
        Some((trace, id)) => trace.header_for(id).parse::<TraceHeader>().ok(),
        None => Invocation::with_current(|inv| inv.context().trace_header().cloned()).flatten(),
    }?;
    span_context_from_header(&header)
}

/// An OpenTelemetry `Context` whose parent is the current X-Ray subsegment; the current
/// OpenTelemetry context unchanged when there is none.
pub fn current_context() -> Context {
    let cx = Context::current();
    match current_span_context() {
        Some(sc) => cx.with_remote_span_context(sc),
        None => cx,
    }
}

/// Generates ids in X-Ray's format: trace ids start with the current epoch seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct XrayIdGenerator;

impl opentelemetry_sdk::trace::IdGenerator for XrayIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()) as u32;
        let random = (u128::from(random_u64()) << 32) | u128::from(random_u64() >> 32);
        let random = random | 1; // never all zero
        TraceId::from_bytes(((u128::from(secs) << 96) | random).to_be_bytes())
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from_bytes(crate::SubsegmentId::random().as_u64().to_be_bytes())
    }
}

/// Propagates the `X-Amzn-Trace-Id` header.
#[derive(Debug, Clone)]
pub struct XrayPropagator {
    fields: [String; 1],
}

impl XrayPropagator {
    /// A propagator for `X-Amzn-Trace-Id`.
    pub fn new() -> Self {
        Self {
            fields: [TRACE_HEADER_NAME.to_owned()],
        }
    }
}

impl Default for XrayPropagator {
    fn default() -> Self {
        Self::new()
    }
}

impl TextMapPropagator for XrayPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        if let Some(header) = header_from_span_context(cx.span().span_context()) {
            injector.set(TRACE_HEADER_NAME, header.to_string());
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let raw = extractor
            .get(TRACE_HEADER_NAME)
            .or_else(|| extractor.get("x-amzn-trace-id"));
        match raw
            .and_then(|r| r.parse::<TraceHeader>().ok())
            .and_then(|h| span_context_from_header(&h))
        {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::trace::IdGenerator;

    #[test]
    fn header_and_span_context_round_trip() {
        let header: TraceHeader =
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
                .parse()
                .unwrap();
        let sc = span_context_from_header(&header).unwrap();
        assert!(!sc.is_sampled() && sc.is_remote());
        assert_eq!(header_from_span_context(&sc), Some(header));
        assert!(header_from_span_context(&SpanContext::empty_context()).is_none());
    }

    #[test]
    fn trace_ids_in_xray_form() {
        let id = TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap();
        assert_eq!(xray_trace_id(id), "1-5759e988-bd862e3fe1be46a994272793");
        let small = TraceId::from_bytes(1u128.to_be_bytes());
        assert_eq!(xray_trace_id(small), "1-00000000-000000000000000000000001");
    }

    #[test]
    fn generated_trace_ids_are_xray_roots() {
        let id = XrayIdGenerator.new_trace_id();
        let sc = SpanContext::new(
            id,
            XrayIdGenerator.new_span_id(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let header = header_from_span_context(&sc).unwrap();
        let secs = u32::from_str_radix(&header.root()[2..10], 16).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(u64::from(secs) <= now && now - u64::from(secs) < 5);
        assert_ne!(XrayIdGenerator.new_trace_id(), id);
    }

    #[test]
    fn current_context_follows_the_current_subsegment() {
        use crate::emitter::MemoryEmitter;
        use tracing_subscriber::layer::SubscriberExt;
        let captured = MemoryEmitter::new();
        let tracer = crate::Tracer::builder()
            .enabled(true)
            .emitter(captured.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(tracer.layer());
        let header: TraceHeader =
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
                .parse()
                .unwrap();
        let invocation = Invocation::new(
            powertools_core::InvocationContext::for_test("r", "f").with_trace_header(Some(header)),
        );
        let inner = tracing::subscriber::with_default(subscriber, || {
            invocation.sync_scope(|| {
                tracing::info_span!("work")
                    .in_scope(|| current_context().span().span_context().clone())
            })
        });
        let doc = &captured.documents()[0];
        assert_eq!(inner.span_id().to_string(), doc["id"].as_str().unwrap());
        assert_eq!(
            inner.trace_id().to_string(),
            "5759e988bd862e3fe1be46a994272793"
        );
    }
}
