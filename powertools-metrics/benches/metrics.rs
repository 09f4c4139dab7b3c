//! Recording and flushing, next to `metrics_cloudwatch_embedded` doing the same in the same run.
//!
//! `cargo bench -p powertools-metrics -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use powertools_core::layer::{InvocationHook, InvocationOutcome, ResponseView};
use powertools_core::{Invocation, InvocationContext};
use powertools_metrics::{Metrics, Unit, WriterSink};

const NAMES: [&str; 10] = [
    "SuccessfulBooking",
    "FailedBooking",
    "Latency",
    "PaymentAttempts",
    "CacheHits",
    "CacheMisses",
    "QueueDepth",
    "ItemsInBasket",
    "RetryCount",
    "ResponseBytes",
];

fn ours() -> Metrics {
    Metrics::builder()
        .namespace("MyApplication")
        .service("booking")
        .default_dimension("Function", "My_Function_Name")
        .capture_cold_start_metric(false)
        .sink(WriterSink::new(std::io::sink()))
        .build()
        .expect("valid configuration")
}

fn add_metric(c: &mut Criterion) {
    let metrics = ours();
    let invocation = Invocation::for_test("req-1");
    invocation.clone().sync_scope(|| {
        for name in NAMES {
            metrics.add_metric(name, Unit::Count, 1.0).unwrap();
        }
        c.bench_function("add_metric/existing, in an invocation", |b| {
            b.iter(|| metrics.add_metric(black_box("CacheHits"), Unit::Count, black_box(2.0)));
        });
    });
    let bound = metrics.bind(&invocation);
    c.bench_function("add_metric/existing, bound handle", |b| {
        b.iter(|| bound.add_metric(black_box("CacheHits"), Unit::Count, black_box(2.0)));
    });
    for name in NAMES {
        metrics.add_metric(name, Unit::Count, 1.0).unwrap();
    }
    c.bench_function("add_metric/existing, process-level", |b| {
        b.iter(|| metrics.add_metric(black_box("CacheHits"), Unit::Count, black_box(2.0)));
    });
}

fn invocation_10_metrics(c: &mut Criterion) {
    let mut group = c.benchmark_group("invocation: 10 metrics then flush");

    let metrics = ours();
    let hook = metrics.invocation_hook();
    let context = InvocationContext::for_test("req-1", "my-function");
    let render = || None;
    group.bench_function("powertools-metrics", |b| {
        b.iter(|| {
            let invocation = Invocation::new(context.clone());
            invocation.clone().sync_scope(|| {
                for (i, name) in NAMES.iter().enumerate() {
                    metrics.add_metric(name, Unit::Count, i as f64).unwrap();
                }
            });
            hook.on_end(
                &invocation,
                &InvocationOutcome::Success(&ResponseView::new(&render)),
            );
        });
    });

    // The same without creating the `Invocation` (the invocation layer's work, not the metrics'):
    // the hook removes the invocation's document, so one invocation can be reused.
    let invocation = Invocation::new(context.clone());
    group.bench_function("powertools-metrics, metrics work only", |b| {
        b.iter(|| {
            invocation.clone().sync_scope(|| {
                for (i, name) in NAMES.iter().enumerate() {
                    metrics.add_metric(name, Unit::Count, i as f64).unwrap();
                }
            });
            hook.on_end(
                &invocation,
                &InvocationOutcome::Success(&ResponseView::new(&render)),
            );
        });
    });

    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("MyApplication")
        .with_dimension("Function", "My_Function_Name")
        .init()
        .expect("first global recorder");
    group.bench_function("metrics_cloudwatch_embedded 0.10", |b| {
        b.iter(|| {
            metrics::counter!("SuccessfulBooking").increment(1);
            metrics::counter!("FailedBooking").increment(1);
            metrics::counter!("Latency").increment(2);
            metrics::counter!("PaymentAttempts").increment(3);
            metrics::counter!("CacheHits").increment(4);
            metrics::counter!("CacheMisses").increment(5);
            metrics::counter!("QueueDepth").increment(6);
            metrics::counter!("ItemsInBasket").increment(7);
            metrics::counter!("RetryCount").increment(8);
            metrics::counter!("ResponseBytes").increment(9);
            collector
                .set_property("RequestId", "req-1")
                .flush(std::io::sink())
                .unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, add_metric, invocation_10_metrics);
criterion_main!(benches);
