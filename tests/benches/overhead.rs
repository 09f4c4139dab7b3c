//! Per-invocation overhead of `#[powertools::handler]` (one log line, one metric, one span, the
//! handler subsegment sent to a daemon socket), measured through the real `lambda_runtime` against
//! the local Runtime API: the same handler bare (`bench-bare`) and wrapped (`bench-powertools`),
//! each a real process; each sample is one invocation's round trip (event handed out → response
//! received). The overhead is the difference of the medians.
//!
//! `cargo bench -p powertools-e2e --bench overhead` (builds the two binaries in release mode).
#![allow(missing_docs)] // `criterion_group!` generates undocumented functions

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use powertools_e2e::function::{FunctionHarness, RunningFunction, workspace_root};
use powertools_e2e::runtime_api::ScriptedEvent;
use serde_json::json;

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
    let mut f = rt.block_on(FunctionHarness::new(bare).start());
    round_trips(c, &rt, "bare handler", &mut f);
    rt.block_on(f.stop());

    let mut f = rt.block_on(FunctionHarness::new(wrapped).start());
    round_trips(c, &rt, "#[powertools::handler] (log, metric, span)", &mut f);
    let out = rt.block_on(f.stop());
    assert!(!out.logs.is_empty() && !out.emf.is_empty() && !out.datagrams.is_empty());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(100).measurement_time(Duration::from_secs(8));
    targets = overhead
}
criterion_main!(benches);
