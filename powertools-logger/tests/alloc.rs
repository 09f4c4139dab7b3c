//! No heap allocation per line in steady state, proven with a counting global allocator.

use std::alloc::System;
use std::sync::atomic::{AtomicUsize, Ordering};

use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_logger::{LogSink, Logger};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Counts lines and bytes; keeps nothing.
#[derive(Default)]
struct CountingSink {
    lines: AtomicUsize,
    bytes: AtomicUsize,
}

impl LogSink for CountingSink {
    fn write_line(&self, line: &[u8]) {
        self.lines.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(line.len(), Ordering::Relaxed);
    }
}

#[test]
fn steady_state_lines_do_not_allocate() {
    let sink = std::sync::Arc::new(CountingSink::default());
    let (layer, _hook) = Logger::new()
        .service("payment")
        .sink(std::sync::Arc::clone(&sink))
        .into_layer_and_hook();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::Registry::default().with(layer));
    let header: TraceHeader =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            .parse()
            .unwrap();
    let invocation = Invocation::new(
        InvocationContext::for_test("c6af9ac6-7b61-11e6-9a41-93e812345678", "payment-fn")
            .with_trace_header(Some(header))
            .with_cold_start(true),
    );
    powertools_logger::append_persistent_key("deployment", "blue").unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        invocation.sync_scope(|| {
            powertools_logger::append_key("tenant", "t-1").unwrap();
            powertools_logger::set_correlation_id("corr-1");
            let order = "o-1";
            let log = |n: u64| {
                tracing::info!(
                    order_id = order,
                    amount = 12.5,
                    attempt = n,
                    "order created"
                );
                tracing::warn!(reason = %"slow \"downstream\"\n", ?n, "retrying {}", n);
                let span = tracing::info_span!("charge", card = "visa");
                let _entered = span.enter();
                tracing::info!(inside = true, "in span");
            };
            // Warm-up: the thread's buffers grow to size, the invocation renders its keys.
            for n in 0..100 {
                log(n);
            }
            let before = sink.lines.load(Ordering::Relaxed);
            let region = Region::new(GLOBAL);
            for n in 0..1_000 {
                tracing::info!(
                    order_id = order,
                    amount = 12.5,
                    attempt = n,
                    "order created"
                );
                tracing::warn!(reason = %"slow \"downstream\"\n", ?n, "retrying {}", n);
            }
            let stats = region.change();
            let allocations = stats.allocations + stats.reallocations;
            let written = sink.lines.load(Ordering::Relaxed) - before;
            assert_eq!(written, 2_000, "every line was written");
            assert_eq!(allocations, 0, "allocations while writing {written} lines");
        });
    });
    assert!(sink.bytes.load(Ordering::Relaxed) > 0);
}
