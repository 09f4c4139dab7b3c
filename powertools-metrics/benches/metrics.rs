//! Recording and flushing, next to `metrics_cloudwatch_embedded` doing the same in the same run.
//!
//! Both sides write the same document, checked before measuring: the namespace, the dimensions
//! `Function` and `service`, ten `Count` metrics with their values, nothing else. The peer
//! records the way its documentation shows (`counter!` with literal names, then `flush` to a
//! writer whose type it knows, `std::io::sink()`).
//!
//! `cargo bench -p powertools-metrics -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use powertools_core::layer::{InvocationHook, InvocationOutcome, ResponseView};
use powertools_core::{Invocation, InvocationContext};
use powertools_metrics::{CaptureSink, Metrics, MetricsBuilder, Unit, WriterSink};

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

fn builder() -> MetricsBuilder {
    Metrics::builder()
        .namespace("MyApplication")
        .service("booking")
        .default_dimension("Function", "My_Function_Name")
        .capture_cold_start_metric(false)
}

fn ours() -> Metrics {
    builder()
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

/// Our document and the peer's carry the same content: namespace, the dimensions `Function` and
/// `service`, ten `Count` metrics with the values 1 to 10, no other member. Checked before
/// measuring, so both sides do the same work.
fn check_same_documents(ours: &[u8], peer: &[u8]) {
    fn normalised(line: &[u8]) -> serde_json::Value {
        let mut doc: serde_json::Value = serde_json::from_slice(line).expect("one JSON document");
        let aws = &mut doc["_aws"];
        assert!(aws["Timestamp"].is_u64(), "a timestamp");
        aws["Timestamp"] = 0.into();
        let definition = &mut aws["CloudWatchMetrics"][0];
        let mut metrics = definition["Metrics"].as_array().expect("metrics").clone();
        metrics.sort_by_key(ToString::to_string);
        definition["Metrics"] = metrics.into();
        doc
    }
    for line in [ours, peer] {
        let one = line
            .strip_suffix(b"\n")
            .is_some_and(|l| !l.contains(&b'\n'));
        assert!(one, "one document, one line");
    }
    assert_eq!(
        normalised(ours),
        normalised(peer),
        "the same document on both sides"
    );
}

/// The peer's usual recording: `counter!` with literal names, `increment`, `flush`.
fn peer_invocation(
    collector: &metrics_cloudwatch_embedded::Collector,
    writer: impl std::io::Write,
) {
    metrics::counter!("SuccessfulBooking").increment(1);
    metrics::counter!("FailedBooking").increment(2);
    metrics::counter!("Latency").increment(3);
    metrics::counter!("PaymentAttempts").increment(4);
    metrics::counter!("CacheHits").increment(5);
    metrics::counter!("CacheMisses").increment(6);
    metrics::counter!("QueueDepth").increment(7);
    metrics::counter!("ItemsInBasket").increment(8);
    metrics::counter!("RetryCount").increment(9);
    metrics::counter!("ResponseBytes").increment(10);
    collector.flush(writer).unwrap();
}

fn invocation_10_metrics(c: &mut Criterion) {
    let mut group = c.benchmark_group("invocation: 10 metrics then flush");
    let render = || None;
    let success = InvocationOutcome::Success(&ResponseView::new(&render));
    let context = InvocationContext::for_test("req-1", "my-function");

    let record_10 = |metrics: &Metrics| {
        for (i, name) in NAMES.iter().enumerate() {
            metrics
                .add_metric(name, Unit::Count, (i + 1) as f64)
                .unwrap();
        }
    };

    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("MyApplication")
        .with_dimension("Function", "My_Function_Name")
        .with_dimension("service", "booking")
        .init()
        .expect("first global recorder");
    for name in NAMES {
        metrics::describe_counter!(name, metrics::Unit::Count, "");
    }
    {
        let sink = CaptureSink::new();
        let metrics = builder()
            .sink(sink.clone())
            .build()
            .expect("valid configuration");
        let invocation = Invocation::new(context.clone());
        invocation.clone().sync_scope(|| record_10(&metrics));
        metrics.invocation_hook().on_end(&invocation, &success);
        let mut peer = Vec::new();
        peer_invocation(collector, &mut peer);
        check_same_documents(format!("{}\n", sink.lines()[0]).as_bytes(), &peer);
    }

    let metrics = ours();
    let hook = metrics.invocation_hook();
    group.bench_function("powertools-metrics", |b| {
        b.iter(|| {
            let invocation = Invocation::new(context.clone());
            invocation.clone().sync_scope(|| record_10(&metrics));
            hook.on_end(&invocation, &success);
        });
    });

    // The same without creating the `Invocation` (the invocation layer's work, not the metrics'):
    // the hook removes the invocation's document, so one invocation can be reused.
    let invocation = Invocation::new(context.clone());
    group.bench_function("powertools-metrics, metrics work only", |b| {
        b.iter(|| {
            invocation.clone().sync_scope(|| record_10(&metrics));
            hook.on_end(&invocation, &success);
        });
    });

    group.bench_function("metrics_cloudwatch_embedded 0.10", |b| {
        b.iter(|| peer_invocation(collector, std::io::sink()));
    });
    group.finish();
}

criterion_group!(benches, add_metric, invocation_10_metrics);
criterion_main!(benches);
