//! One INFO line with the full Lambda context and three event fields, formatted and written to
//! a sink, against `tracing_subscriber::fmt().json().flatten_event(true)` on the same event.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_logger::{LogSink, Logger};
use tracing_subscriber::layer::SubscriberExt;

/// Discards lines (after making sure they are used).
struct Discard;

impl LogSink for Discard {
    fn write_line(&self, line: &[u8]) {
        black_box(line);
    }
}

fn invocation() -> Invocation {
    let header: TraceHeader =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            .parse()
            .expect("valid header");
    Invocation::new(
        InvocationContext::for_test("c6af9ac6-7b61-11e6-9a41-93e812345678", "payment-fn")
            .with_trace_header(Some(header))
            .with_cold_start(true),
    )
}

fn one_line() {
    tracing::info!(
        order_id = "o-1",
        amount = 12.5,
        attempt = 3u64,
        "order created"
    );
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("info_line_lambda_context_3_fields");

    let (layer, _hook) = Logger::new()
        .service("payment")
        .sink(Discard)
        .into_layer_and_hook();
    let ours = tracing::Dispatch::new(tracing_subscriber::Registry::default().with(layer));
    tracing::dispatcher::with_default(&ours, || {
        invocation().sync_scope(|| {
            group.bench_function("powertools_logger", |b| b.iter(one_line));
        });
    });

    let peer = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(std::io::sink)
            .finish(),
    );
    tracing::dispatcher::with_default(&peer, || {
        invocation().sync_scope(|| {
            group.bench_function("tracing_subscriber_fmt_json_flatten", |b| b.iter(one_line));
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
