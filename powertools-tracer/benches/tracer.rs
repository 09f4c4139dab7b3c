//! Cost of a span under the tracer: traced (turned into a subsegment and serialised into its
//! parent), and the cost the tracer adds when it is disabled, the invocation is unsampled, or
//! the span is outside any invocation, next to a subscriber without the tracer.

use std::hint::black_box;

use criterion::{Criterion, criterion_main};
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_tracer::Tracer;
use powertools_tracer::emitter::Emitter;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

struct Discard;

impl Emitter for Discard {
    fn emit(&self, datagram: &[u8]) {
        black_box(datagram);
    }
}

fn dispatch(enabled: bool) -> Dispatch {
    let tracer = Tracer::builder()
        .service("bench")
        .enabled(enabled)
        .emitter(Discard)
        .build();
    Dispatch::new(tracing_subscriber::registry().with(tracer.layer()))
}

fn invocation(sampled: bool) -> Invocation {
    let header = TraceHeader::new(
        "1-5759e988-bd862e3fe1be46a994272793",
        Some("53995c3f42cd8ad8"),
        Some(sampled),
    )
    .unwrap();
    Invocation::new(InvocationContext::for_test("req", "fn").with_trace_header(Some(header)))
}

fn one_span() {
    let span = tracing::info_span!("child", order_id = 42u64, tier = "gold");
    span.in_scope(|| black_box(()));
}

fn run_in(c: &mut Criterion, name: &str, dispatch: &Dispatch, invocation: Option<Invocation>) {
    tracing::dispatcher::with_default(dispatch, || {
        let mut body = || {
            let root = tracing::info_span!("root");
            let _entered = root.enter();
            c.bench_function(name, |b| b.iter(one_span));
        };
        match invocation {
            Some(i) => i.sync_scope(body),
            None => body(),
        }
    });
}

fn spans(c: &mut Criterion) {
    let without_tracer = Dispatch::new(tracing_subscriber::registry());
    run_in(
        c,
        "span/no tracer layer",
        &without_tracer,
        Some(invocation(true)),
    );
    run_in(
        c,
        "span/traced subsegment",
        &dispatch(true),
        Some(invocation(true)),
    );
    run_in(
        c,
        "span/unsampled invocation",
        &dispatch(true),
        Some(invocation(false)),
    );
    run_in(
        c,
        "span/disabled tracer",
        &dispatch(false),
        Some(invocation(true)),
    );
    run_in(c, "span/outside any invocation", &dispatch(true), None);
}

mod group {
    criterion::criterion_group!(benches, super::spans);
}
criterion_main!(group::benches);
