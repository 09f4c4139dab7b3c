//! What `PowertoolsLayer` adds to one invocation, in process: the same handler called bare and
//! through the layer, with one log line, one metric and one span — the lines written to a pipe
//! (as Lambda's stdout is), the subsegments sent over UDP to a socket on loopback.
//! Also the toolkit's cold-start initialisation (building the layer from the environment).
//!
//! `cargo bench -p powertools --bench layer`
#![allow(missing_docs)] // `criterion_group!` generates undocumented functions

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lambda_runtime::{Context, LambdaEvent, service_fn};
use powertools::PowertoolsLayer;
use powertools::logger::{LogSink, Logger};
use powertools::metrics::{Metrics, Unit, WriterSink};
use powertools::tracer::{DaemonAddress, Tracer, TracerBuilder};
use serde_json::{Value, json};
use tower::{Layer, Service};
use tracing::Dispatch;

/// Lines into a pipe drained by `cat > /dev/null`, like Lambda's stdout.
struct PipeSink(Mutex<std::process::ChildStdin>);

impl LogSink for PipeSink {
    fn write_line(&self, line: &[u8]) {
        let _ = self.0.lock().unwrap().write_all(line);
    }
}

/// Discards lines: what the layer costs in CPU alone, without the write.
struct Discard;

impl LogSink for Discard {
    fn write_line(&self, line: &[u8]) {
        std::hint::black_box(line);
    }
}

impl powertools::tracer::emitter::Emitter for Discard {
    fn emit(&self, datagram: &[u8]) {
        std::hint::black_box(datagram);
    }
}

/// A socket on loopback drained by a thread, as the X-Ray daemon's.
fn udp_daemon() -> DaemonAddress {
    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = daemon.local_addr().unwrap().to_string().parse().unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0; 65_536];
        while daemon.recv(&mut buf).is_ok() {}
    });
    address
}

fn drain() -> std::process::ChildStdin {
    Command::new("sh")
        .args(["-c", "cat > /dev/null"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("sh")
        .stdin
        .take()
        .unwrap()
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let id = event.payload["id"].as_u64().unwrap_or_default();
    step(id);
    powertools::metrics::current().add_metric("Handled", Unit::Count, 1.0)?;
    Ok(json!({ "id": id, "ok": true }))
}

#[tracing::instrument]
fn step(id: u64) {
    tracing::info!(id, "handled");
}

async fn bare(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let id = event.payload["id"].as_u64().unwrap_or_default();
    Ok(json!({ "id": id, "ok": true }))
}

fn event(n: u64) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = format!("req-{n}");
    context.xray_trace_id = Some(
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_owned(),
    );
    context.deadline = 4_102_444_800_000;
    LambdaEvent::new(json!({ "id": n }), context)
}

/// The layer and its subscriber, writing lines to `log` and `emf`, subsegments through `tracer`.
fn powertools_layer(
    log: impl LogSink,
    emf: impl Write + Send + 'static,
    tracer: TracerBuilder,
) -> (PowertoolsLayer, Dispatch) {
    PowertoolsLayer::builder()
        .logger(Logger::new().service("bench").sink(log))
        .metrics(
            Metrics::builder()
                .namespace("Bench")
                .service("bench")
                .sink(WriterSink::new(emf))
                .build()
                .unwrap(),
        )
        .tracer(tracer.service("bench").enabled(true).build())
        .build_with_subscriber()
        .unwrap()
}

fn invocation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let address = udp_daemon();
    let real_io = powertools_layer(
        PipeSink(Mutex::new(drain())),
        drain(),
        Tracer::builder().daemon_address(address),
    );
    let cpu_only = powertools_layer(Discard, std::io::sink(), Tracer::builder().emitter(Discard));

    let mut group = c.benchmark_group("invocation");
    let mut plain = service_fn(bare);
    group.bench_function("bare handler", |b| {
        let mut n = 0;
        b.iter(|| {
            n += 1;
            rt.block_on(plain.call(event(n))).unwrap()
        });
    });
    for (name, (layer, subscriber)) in [
        ("PowertoolsLayer (log, metric, span, subsegment)", real_io),
        ("PowertoolsLayer, output discarded (CPU only)", cpu_only),
    ] {
        let mut wrapped = layer.layer(service_fn(handler));
        tracing::dispatcher::with_default(&subscriber, || {
            group.bench_function(name, |b| {
                let mut n = 0;
                b.iter(|| {
                    n += 1;
                    rt.block_on(wrapped.call(event(n))).unwrap()
                });
            });
        });
    }
    group.finish();
}

/// A chain of spans `depth` deep, three leaves at each level.
fn chain(depth: u32) {
    let span = tracing::info_span!("step", depth);
    span.in_scope(|| {
        for leaf in 0..3 {
            tracing::info_span!("leaf", leaf).in_scope(|| {});
        }
        if depth < 50 {
            chain(depth + 1);
        }
    });
}

/// What a timeout's cut-off has to write at worst: a full log buffer (20 KiB of DEBUG lines),
/// 100 metrics and a tree of 200 spans (a chain of 50 with 150 leaves), through a pipe and a
/// UDP socket. The invocation fails, so everything is written as at the cut-off; the time is the
/// margin such an invocation needs on this machine (recording included, so an upper bound).
async fn heavy(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let metrics = powertools::metrics::current();
    for i in 0..100 {
        metrics.add_metric(&format!("Metric{i:03}"), Unit::Count, f64::from(i))?;
    }
    for i in 0..200 {
        tracing::debug!(i, detail = "x".repeat(64), "buffered detail");
    }
    chain(1);
    if event.payload["fail"].as_bool() == Some(true) {
        return Err("cut off".into());
    }
    Ok(json!({ "ok": true }))
}

fn timeout_flush(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let address = udp_daemon();
    let (layer, subscriber) = PowertoolsLayer::builder()
        .logger(
            Logger::new()
                .service("bench")
                .level(powertools::core::config::LogLevel::Debug)
                .buffer(powertools::logger::BufferConfig::new())
                .sink(PipeSink(Mutex::new(drain()))),
        )
        .metrics(
            Metrics::builder()
                .namespace("Bench")
                .service("bench")
                .sink(WriterSink::new(drain()))
                .build()
                .unwrap(),
        )
        .tracer(
            Tracer::builder()
                .daemon_address(address)
                .service("bench")
                .enabled(true)
                .build(),
        )
        .build_with_subscriber()
        .unwrap();
    let mut wrapped = powertools::core::layer::InvocationLayer::layer(
        layer.invocation_layer(),
        service_fn(heavy),
    );
    let mut group = c.benchmark_group("timeout margin: record and write a full invocation");
    tracing::dispatcher::with_default(&subscriber, || {
        for (name, fail) in [
            ("buffer flushed (failure or cut-off)", true),
            ("buffer discarded (success)", false),
        ] {
            group.bench_function(name, |b| {
                let mut n = 0;
                b.iter(|| {
                    n += 1;
                    let mut event = event(n);
                    event.payload["fail"] = json!(fail);
                    let _ = rt.block_on(wrapped.call(event));
                });
            });
        }
    });
    group.finish();
}

fn initialisation(c: &mut Criterion) {
    c.bench_function("PowertoolsLayer::build (cold-start init)", |b| {
        b.iter(|| {
            let metrics = Metrics::builder()
                .namespace("Bench")
                .service("bench")
                .build();
            PowertoolsLayer::builder()
                .service("bench")
                .metrics(metrics.unwrap())
                .install_subscriber(false)
                .build()
                .unwrap()
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = invocation, timeout_flush, initialisation
}
criterion_main!(benches);
