//! Cost of a span under the tracer: traced (turned into a subsegment and serialised into its
//! parent), and the cost the tracer adds when it is disabled, the invocation is unsampled, or
//! the span is outside any invocation, next to a subscriber without the tracer.
//!
//! `invocation/…`: whole traced trees of 1 to 10,000 spans under one top span, everything sent
//! when it closes, through the real UDP emitter to a loopback socket drained by a thread (what
//! the X-Ray daemon does), next to a discarding emitter and to the bare registry; throughput is
//! spans per second, so the time per element is the cost per span. The datagrams one tree sends
//! are printed before measuring.

use std::hint::black_box;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_tracer::Tracer;
use powertools_tracer::emitter::{Emitter, UdpEmitter};
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

/// Counts datagrams, then hands them on.
struct Counting<E> {
    inner: E,
    sent: Arc<AtomicUsize>,
}

impl<E: Emitter> Emitter for Counting<E> {
    fn emit(&self, datagram: &[u8]) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.emit(datagram);
    }
}

/// A loopback socket read by a thread for the rest of the process, and its address.
fn daemon() -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("loopback socket");
    let address = socket.local_addr().expect("address").to_string();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 70_000];
        while socket.recv(&mut buf).is_ok() {}
    });
    address
}

/// One invocation's tree: a top span and `n` spans under it (flat), all sent when it closes.
fn tree(n: usize) {
    let root = tracing::info_span!("root");
    let _entered = root.enter();
    for i in 0..n {
        tracing::info_span!("child", order_id = i as u64, tier = "gold").in_scope(|| black_box(()));
    }
}

/// Where the traced trees go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sink {
    /// No tracer: the registry's own cost.
    RegistryOnly,
    /// The real UDP emitter, to the loopback daemon.
    Udp,
    /// An emitter that drops every datagram.
    Discard,
}

impl Sink {
    fn name(self) -> &'static str {
        match self {
            Self::RegistryOnly => "registry only",
            Self::Udp => "udp",
            Self::Discard => "discard",
        }
    }

    fn dispatch(self, address: &str, sent: &Arc<AtomicUsize>) -> Dispatch {
        let builder = Tracer::builder().service("bench").enabled(true);
        let sent = Arc::clone(sent);
        let tracer = match self {
            Self::RegistryOnly => return Dispatch::new(tracing_subscriber::registry()),
            Self::Udp => builder.emitter(Counting {
                inner: UdpEmitter::new(address.parse().expect("address")),
                sent,
            }),
            Self::Discard => builder.emitter(Counting {
                inner: Discard,
                sent,
            }),
        }
        .build();
        Dispatch::new(tracing_subscriber::registry().with(tracer.layer()))
    }
}

fn invocations(c: &mut Criterion) {
    let address = daemon();
    let mut group = c.benchmark_group("invocation");
    for n in [1usize, 10, 100, 1_000, 10_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(if n >= 1_000 { 20 } else { 100 });
        for sink in [Sink::RegistryOnly, Sink::Udp, Sink::Discard] {
            let sent = Arc::new(AtomicUsize::new(0));
            let dispatch = sink.dispatch(&address, &sent);
            tracing::dispatcher::with_default(&dispatch, || {
                invocation(true).sync_scope(|| {
                    tree(n);
                    if sink == Sink::Udp {
                        eprintln!(
                            "invocation/udp/{n}: {} datagrams per tree of {n} spans",
                            sent.swap(0, Ordering::Relaxed)
                        );
                    }
                    group.bench_with_input(BenchmarkId::new(sink.name(), n), &n, |b, &n| {
                        b.iter(|| tree(n));
                    });
                });
            });
        }
    }
    group.finish();
}

mod group {
    criterion::criterion_group!(benches, super::spans, super::invocations);
}
criterion_main!(group::benches);
