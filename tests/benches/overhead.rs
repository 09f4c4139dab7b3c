//! Per-invocation overhead of `#[powertools::handler]` (one log line, one metric, one span, the
//! handler subsegment sent to a daemon socket), measured through the real `lambda_runtime` against
//! the local Runtime API: the same handler bare (`bench-bare`) and wrapped (`bench-powertools`),
//! each a real process; each iteration is one invocation's round trip (event handed out →
//! response received). The overhead is the difference of the medians (criterion writes them to
//! `target/criterion/<name>/new/estimates.json`).
//!
//! `cargo bench -p powertools-e2e --bench overhead -- --sample-size 200 --measurement-time 20`
//! (builds the two binaries in release mode).
#![allow(missing_docs)] // `criterion_group!` generates undocumented functions

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use powertools_e2e::function::{FunctionHarness, Observer, RunningFunction, workspace_root};
use powertools_e2e::runtime_api::ScriptedEvent;
use serde_json::json;

/// Counts what the function writes and sends, without parsing or keeping it: the harness's own
/// work per line must not weigh on the function it measures.
#[derive(Default)]
struct Count {
    lines: AtomicU64,
    datagrams: AtomicU64,
}

impl Observer for Count {
    fn stdout_line(&self, _line: &str) {
        self.lines.fetch_add(1, Ordering::Relaxed);
    }
    fn datagram(&self, _datagram: &[u8]) {
        self.datagrams.fetch_add(1, Ordering::Relaxed);
    }
}

fn release_binary(bin: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "bench-functions",
            "--bin",
            bin,
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {bin} failed");
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    target.join("release").join(bin)
}

fn round_trips(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    f: &mut RunningFunction,
) {
    // Past the cold start.
    rt.block_on(async {
        for n in 0..50 {
            f.invoke(ScriptedEvent::new(json!({ "id": n }))).await;
        }
    });
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for n in 0..iters {
                    let event = ScriptedEvent::new(json!({ "id": n }));
                    let start = Instant::now();
                    let outcome = f.invoke(event).await;
                    total += start.elapsed();
                    assert!(outcome.response().is_some());
                }
                total
            })
        });
    });
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let bare = release_binary("bench-bare");
    let wrapped = release_binary("bench-powertools");
    let count = Arc::new(Count::default());
    let mut f = rt.block_on(
        FunctionHarness::new(bare)
            .observe(Arc::clone(&count))
            .start(),
    );
    round_trips(c, &rt, "bare handler", &mut f);
    rt.block_on(f.stop());

    let count = Arc::new(Count::default());
    let mut f = rt.block_on(
        FunctionHarness::new(wrapped)
            .observe(Arc::clone(&count))
            .start(),
    );
    round_trips(c, &rt, "#[powertools::handler] (log, metric, span)", &mut f);
    rt.block_on(f.stop());
    // One log line and one EMF document per invocation, one datagram per invocation.
    assert!(count.lines.load(Ordering::Relaxed) > 0);
    assert!(count.datagrams.load(Ordering::Relaxed) > 0);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(100).measurement_time(Duration::from_secs(8));
    targets = overhead
}
criterion_main!(benches);
