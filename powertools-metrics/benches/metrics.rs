//! Recording and flushing, next to `metrics_cloudwatch_embedded` and awslabs' `metrique` doing
//! the same in the same run, and the cost of finding a metric by name among 10 or 99 (the most a
//! document holds).
//!
//! All three sides write the same document, checked before measuring (see
//! [`check_same_documents`] for exactly what is normalised): the namespace `MyApplication`, one
//! dimension set `[Function, service]` with its two members, ten `Count` metrics with the values
//! 1 to 10, nothing else. Each writes it to the same kind of in-memory writer ([`Memory`], cleared
//! after each document, inside the measured loop for all three).
//!
//! - `metrics_cloudwatch_embedded` records the way its documentation shows: `counter!` with
//!   literal names, then `Collector::flush` to the writer.
//! - `metrique` records the way its documentation shows for a fixed entry type: a `#[metrics]`
//!   struct with one field per metric, closed and appended to a `FlushImmediately` sink (the sink
//!   its guide recommends for Lambda) over its `Emf` formatter (`Emf::builder(..).build()`,
//!   i.e. its optional validations skipped in release builds, as in production).
//!
//! `cargo bench -p powertools-metrics -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use metrique::emf::Emf;
use metrique::unit::Count;
use metrique::unit_of_work::metrics;
use metrique::writer::sink::FlushImmediately;
use metrique::writer::{EntrySink, FormatExt};
use metrique::{CloseValue, RootMetric};
use powertools_core::layer::{InvocationHook, InvocationOutcome, ResponseView};
use powertools_core::{Invocation, InvocationContext};
use powertools_metrics::{Metrics, MetricsBuilder, Unit, WriterSink};

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

/// An in-memory writer shared by clones: documents are appended to one buffer, which the
/// benchmark clears after each document (keeping its capacity).
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Memory {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

fn ours_into(memory: &Memory) -> Metrics {
    builder()
        .sink(WriterSink::new(memory.clone()))
        .build()
        .expect("valid configuration")
}

fn success_then<R>(f: impl FnOnce(&InvocationOutcome<'_>) -> R) -> R {
    let render = || None;
    f(&InvocationOutcome::Success(&ResponseView::new(&render)))
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

/// The cost of one `add_metric` whose name is already among `n` distinct metrics of the
/// invocation's document (n = 10 and 99): the lookup, plus appending the value.
///
/// Each batch opens an invocation, records the `n` names once (not measured), then measures
/// `add_metric` cycling through the `n` names in order, at most 50 values per name (so no metric
/// reaches the 100-value limit and no document is written while measuring), and ends the
/// invocation (not measured). The names are `SuccessfulBooking00`, `FailedBooking00`, …,
/// `ResponseBytes09`: ten stems, a two-digit suffix.
fn lookup(c: &mut Criterion) {
    const VALUES_PER_NAME: u64 = 50;
    let mut group = c.benchmark_group("add_metric: name found among N in the document");
    let metrics = ours();
    let hook = metrics.invocation_hook();
    let context = InvocationContext::for_test("req-1", "my-function");
    // A document holds at most 99 distinct names: recording the 100th writes it at once, so
    // "100 names" is measured with the 99 a document can hold.
    for n in [10usize, powertools_metrics::MAX_METRICS_PER_DOCUMENT - 1] {
        let names: Vec<String> = (0..n)
            .map(|i| format!("{}{:02}", NAMES[i % 10], i / 10))
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &names, |b, names| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut remaining = iters;
                while remaining > 0 {
                    let batch = remaining.min(VALUES_PER_NAME * names.len() as u64);
                    let invocation = Invocation::new(context.clone());
                    invocation.clone().sync_scope(|| {
                        for name in names {
                            metrics.add_metric(name, Unit::Count, 1.0).unwrap();
                        }
                        let mut cycle = names.iter().cycle();
                        let start = Instant::now();
                        for _ in 0..batch {
                            let name = cycle.next().expect("a name");
                            let _ = black_box(metrics.add_metric(
                                black_box(name),
                                Unit::Count,
                                black_box(2.0),
                            ));
                        }
                        total += start.elapsed();
                    });
                    success_then(|success| hook.on_end(&invocation, success));
                    remaining -= batch;
                }
                total
            });
        });
    }
    group.finish();
}

/// What [`check_same_documents`] compares: the document parsed, with `_aws.Timestamp` (checked
/// to be an integer) replaced by 0, and the directive's `Metrics` sorted by `Name` (the order of
/// definitions carries no meaning; the peers keep theirs in a hash map or in field order).
/// Nothing else is changed: the dimension sets, the values (an integer stays an integer, a
/// scalar stays a scalar) and the members must already be equal. Key order inside objects is
/// not compared (a JSON object is unordered; `serde_json::Value` compares maps as maps).
fn normalised(line: &[u8]) -> serde_json::Value {
    let one = line
        .strip_suffix(b"\n")
        .is_some_and(|l| !l.contains(&b'\n'));
    assert!(
        one,
        "one document, one line: {}",
        String::from_utf8_lossy(line)
    );
    let mut doc: serde_json::Value = serde_json::from_slice(line).expect("one JSON document");
    let aws = &mut doc["_aws"];
    assert!(aws["Timestamp"].is_u64(), "a timestamp");
    aws["Timestamp"] = 0.into();
    let definitions = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert_eq!(definitions.len(), 1, "one metric directive");
    let definition = &mut aws["CloudWatchMetrics"][0];
    let mut metrics = definition["Metrics"].as_array().expect("metrics").clone();
    metrics.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
    definition["Metrics"] = metrics.into();
    doc
}

/// Every side's document carries the same content (see [`normalised`]). Checked before
/// measuring, so all sides do the same work.
fn check_same_documents(ours: &[u8], peers: &[(&str, &[u8])]) {
    let expected = normalised(ours);
    for (peer, line) in peers {
        assert_eq!(
            expected,
            normalised(line),
            "the same document from powertools-metrics and {peer}:\n{}\n{}",
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(line),
        );
    }
}

/// The peer's usual recording: `counter!` with literal names, `increment`, `flush`.
fn mce_invocation(collector: &metrics_cloudwatch_embedded::Collector, writer: impl Write) {
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

/// metrique's unit of work: one field per metric, the dimensions as string fields.
#[metrics]
#[derive(Default)]
struct BookingMetrics {
    #[metrics(name = "Function")]
    function: &'static str,
    #[metrics(name = "service")]
    service: &'static str,
    #[metrics(name = "SuccessfulBooking", unit = Count)]
    successful_booking: u64,
    #[metrics(name = "FailedBooking", unit = Count)]
    failed_booking: u64,
    #[metrics(name = "Latency", unit = Count)]
    latency: u64,
    #[metrics(name = "PaymentAttempts", unit = Count)]
    payment_attempts: u64,
    #[metrics(name = "CacheHits", unit = Count)]
    cache_hits: u64,
    #[metrics(name = "CacheMisses", unit = Count)]
    cache_misses: u64,
    #[metrics(name = "QueueDepth", unit = Count)]
    queue_depth: u64,
    #[metrics(name = "ItemsInBasket", unit = Count)]
    items_in_basket: u64,
    #[metrics(name = "RetryCount", unit = Count)]
    retry_count: u64,
    #[metrics(name = "ResponseBytes", unit = Count)]
    response_bytes: u64,
}

type BookingRoot = RootMetric<BookingMetrics>;

/// metrique's usual recording for a known entry type: fill the entry, close it, append it to a
/// sink that formats and writes it at once.
fn metrique_invocation(sink: &impl EntrySink<BookingRoot>) {
    let mut entry = BookingMetrics {
        function: "My_Function_Name",
        service: "booking",
        ..BookingMetrics::default()
    };
    entry.successful_booking += 1;
    entry.failed_booking += 2;
    entry.latency += 3;
    entry.payment_attempts += 4;
    entry.cache_hits += 5;
    entry.cache_misses += 6;
    entry.queue_depth += 7;
    entry.items_in_basket += 8;
    entry.retry_count += 9;
    entry.response_bytes += 10;
    sink.append(BookingRoot::new(entry.close()));
}

fn invocation_10_metrics(c: &mut Criterion) {
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

    let memory = Memory::default();
    let metrics = ours_into(&memory);
    let hook = metrics.invocation_hook();
    let metrique_sink = FlushImmediately::<BookingRoot, _>::new(
        Emf::builder(
            "MyApplication".to_owned(),
            vec![vec!["Function".to_owned(), "service".to_owned()]],
        )
        .build()
        .output_to(memory.clone()),
    );
    {
        let invocation = Invocation::new(context.clone());
        invocation.clone().sync_scope(|| record_10(&metrics));
        success_then(|success| hook.on_end(&invocation, success));
        let ours = memory.take();
        mce_invocation(collector, memory.clone());
        let mce = memory.take();
        metrique_invocation(&metrique_sink);
        let metrique = memory.take();
        for (side, line) in [
            ("powertools-metrics", &ours),
            ("metrics_cloudwatch_embedded", &mce),
            ("metrique", &metrique),
        ] {
            eprint!("{side}: {}", String::from_utf8_lossy(line));
        }
        check_same_documents(
            &ours,
            &[
                ("metrics_cloudwatch_embedded", &mce),
                ("metrique", &metrique),
            ],
        );
    }

    let mut group = c.benchmark_group("invocation: 10 metrics then flush");
    group.bench_function("powertools-metrics", |b| {
        b.iter(|| {
            let invocation = Invocation::new(context.clone());
            invocation.clone().sync_scope(|| record_10(&metrics));
            success_then(|success| hook.on_end(&invocation, success));
            memory.clear();
        });
    });

    // The same without creating the `Invocation` (the invocation layer's work, not the metrics'):
    // each iteration gets a fresh one made outside the measurement (an ended invocation refuses
    // recording, so one cannot be reused).
    group.bench_function("powertools-metrics, metrics work only", |b| {
        b.iter_batched(
            || Invocation::new(context.clone()),
            |invocation| {
                invocation.clone().sync_scope(|| record_10(&metrics));
                success_then(|success| hook.on_end(&invocation, success));
                memory.clear();
                invocation
            },
            BatchSize::SmallInput,
        );
    });

    group.bench_function("metrics_cloudwatch_embedded 0.10", |b| {
        let mut writer = memory.clone();
        b.iter(|| {
            mce_invocation(collector, &mut writer);
            memory.clear();
        });
    });

    group.bench_function("metrique 0.1", |b| {
        b.iter(|| {
            metrique_invocation(&metrique_sink);
            memory.clear();
        });
    });
    group.finish();
}

criterion_group!(benches, add_metric, lookup, invocation_10_metrics);
criterion_main!(benches);
