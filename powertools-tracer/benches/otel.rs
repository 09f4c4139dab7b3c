//! Cost of an OpenTelemetry span sent as an X-Ray subsegment by `XraySpanProcessor` (started
//! under the current subsegment with two attributes, ended, turned into a document and handed to
//! the emitter), next to the same span in a provider whose processor drops it (the SDK's own
//! cost: ids, recording, the span data).

use std::hint::black_box;

use criterion::{Criterion, criterion_main};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanProcessor};
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_tracer::Tracer;
use powertools_tracer::emitter::Emitter;
use powertools_tracer::opentelemetry::{XrayIdGenerator, current_context};

struct Discard;

/// Records spans (so the SDK builds their data) and drops them.
#[derive(Debug)]
struct DropAll;

impl SpanProcessor for DropAll {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

impl Emitter for Discard {
    fn emit(&self, datagram: &[u8]) {
        black_box(datagram);
    }
}

fn invocation() -> Invocation {
    let header = TraceHeader::new(
        "1-5759e988-bd862e3fe1be46a994272793",
        Some("53995c3f42cd8ad8"),
        Some(true),
    )
    .unwrap();
    Invocation::new(InvocationContext::for_test("req", "fn").with_trace_header(Some(header)))
}

fn one_span(otel: &SdkTracer) {
    let mut span = otel.start_with_context("child", &current_context());
    span.set_attribute(KeyValue::new("order.id", 42));
    span.set_attribute(KeyValue::new("tier", "gold"));
    span.end();
}

fn spans(c: &mut Criterion) {
    let tracer = Tracer::builder()
        .service("bench")
        .enabled(true)
        .emitter(Discard)
        .build();
    let with_processor = SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator)
        .with_span_processor(tracer.otel_processor())
        .build();
    let without = SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator)
        .with_span_processor(DropAll)
        .build();
    invocation().sync_scope(|| {
        let otel = without.tracer("bench");
        c.bench_function("otel span/sdk, span dropped", |b| {
            b.iter(|| one_span(&otel));
        });
        let otel = with_processor.tracer("bench");
        c.bench_function("otel span/sent as subsegment", |b| {
            b.iter(|| one_span(&otel));
        });
    });
}

mod group {
    criterion::criterion_group!(benches, super::spans);
}
criterion_main!(group::benches);
