//! Load: many invocations of the real `hello-world` binary through the local Runtime API, each
//! with a log line, an EMF document and a handler subsegment (with its `greet` child). Every one
//! of them is accounted for — counted and checked as it arrives, not sampled — and the function's
//! memory (`VmRSS` from `/proc/<pid>/status`) stays flat.
//!
//! The 100,000-invocation run takes a few minutes in a debug build, so it is ignored in CI:
//!
//! ```text
//! CARGO_TARGET_DIR=… cargo nextest run -p powertools-e2e --test load --run-ignored only --no-capture
//! ```

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use powertools_e2e::capture::XRAY_HEADER;
use powertools_e2e::function::{
    FunctionHarness, Observer, RunningFunction, package_binary, workspace_binary,
};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use serde_json::{Value, json};

const LOG: u8 = 1;
const EMF: u8 = 2;
const XRAY: u8 = 4;
const ANSWER: u8 = 8;
const ALL: u8 = LOG | EMF | XRAY | ANSWER;

/// How much the function's resident memory may grow between the first and the last checkpoint:
/// 1 MiB of allocator slack plus 32 bytes per invocation in between (3.8 MiB over the big run's
/// 90,000; a leak of 48 bytes per invocation fails it).
fn rss_tolerance_kib(invocations: usize) -> i64 {
    1024 + (32 * invocations / 1024) as i64
}

/// Invocation `n`'s request id: its number in the last group.
fn request_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn index_of_request(id: &str) -> Option<usize> {
    id.strip_prefix("00000000-0000-4000-8000-")?.parse().ok()
}

/// Invocation `n`'s trace id: its number in hex in the unique part.
fn trace_root(epoch: u64, n: usize) -> String {
    format!("1-{epoch:08x}-{n:024x}")
}

fn index_of_root(root: &str) -> Option<usize> {
    usize::from_str_radix(root.get(11..)?, 16).ok()
}

fn parent(n: usize) -> String {
    format!("{:016x}", n + 1)
}

/// Everything seen, per invocation, checked as it arrives.
struct Tally {
    epoch: u64,
    seen: Vec<AtomicU8>,
    cold_starts: AtomicUsize,
    cold_lines: AtomicUsize,
    problems: AtomicUsize,
    first_problems: Mutex<Vec<String>>,
}

impl Tally {
    fn new(n: usize, epoch: u64) -> Self {
        Self {
            epoch,
            seen: (0..n).map(|_| AtomicU8::new(0)).collect(),
            cold_starts: AtomicUsize::new(0),
            cold_lines: AtomicUsize::new(0),
            problems: AtomicUsize::new(0),
            first_problems: Mutex::new(Vec::new()),
        }
    }

    fn problem(&self, what: String) {
        self.problems.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_problems.lock().unwrap();
        if first.len() < 20 {
            first.push(what);
        }
    }

    /// Marks `what` seen for invocation `n`, once.
    fn mark(&self, n: Option<usize>, what: u8, raw: &dyn std::fmt::Display) {
        match n.and_then(|n| self.seen.get(n)) {
            Some(slot) => {
                if slot.fetch_or(what, Ordering::Relaxed) & what != 0 {
                    self.problem(format!("seen twice ({what}): {raw}"));
                }
            }
            None => self.problem(format!("belongs to no invocation: {raw}")),
        }
    }

    fn check(&self, ok: bool, what: &str, raw: &dyn std::fmt::Display) {
        if !ok {
            self.problem(format!("{what}: {raw}"));
        }
    }

    fn log_line(&self, line: &Value) {
        let n = line["function_request_id"]
            .as_str()
            .and_then(index_of_request);
        if let Some(n) = n {
            self.check(line["message"] == "greeting requested", "message", line);
            self.check(line["name"] == format!("n{n}").as_str(), "name", line);
            let root = trace_root(self.epoch, n);
            self.check(line["xray_trace_id"] == root.as_str(), "trace", line);
            if line["cold_start"] == true {
                self.cold_lines.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.mark(n, LOG, line);
    }

    fn emf(&self, doc: &Value) {
        if doc.get("ColdStart").is_some() {
            self.cold_starts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let n = doc["request_id"].as_str().and_then(index_of_request);
        self.check(doc["Requests"] == 1.0, "Requests", doc);
        self.check(doc["Greetings"] == 1.0, "Greetings", doc);
        self.check(doc["service"] == "demo", "service", doc);
        self.mark(n, EMF, doc);
    }

    fn subsegment(&self, doc: &Value) {
        let n = doc["trace_id"].as_str().and_then(index_of_root);
        if let Some(n) = n {
            self.check(doc["name"] == "## handler", "name", doc);
            self.check(doc["parent_id"] == parent(n).as_str(), "parent", doc);
            let response = &doc["metadata"]["demo"]["handler response"];
            let id = request_id(n);
            self.check(
                response["invocation"]["request_id"] == id.as_str(),
                "response",
                doc,
            );
            let greet = &doc["subsegments"][0];
            self.check(greet["name"] == "greet", "greet", doc);
            let name = format!("n{n}");
            self.check(
                greet["metadata"]["demo"]["name"] == name.as_str(),
                "greet name",
                doc,
            );
        }
        self.mark(n, XRAY, doc);
    }

    fn answer(&self, id: &str, outcome: &Outcome) {
        let n = index_of_request(id);
        match (n, outcome.response()) {
            (Some(n), Some(body)) => {
                let expected = format!("Hello, n{n}!");
                self.check(body["message"] == expected.as_str(), "answer", body);
            }
            _ => self.problem(format!("{id} failed: {outcome:?}")),
        }
        self.mark(n, ANSWER, &id);
    }

    /// Invocations `..n` that are not complete yet.
    fn incomplete(&self, n: usize) -> usize {
        self.seen[..n]
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) != ALL)
            .count()
    }
}

impl Observer for Tally {
    fn stdout_line(&self, line: &str) {
        match serde_json::from_str::<Value>(line) {
            Ok(doc) if doc.get("_aws").is_some() => self.emf(&doc),
            Ok(doc @ Value::Object(_)) => self.log_line(&doc),
            _ => self.problem(format!("not a JSON object: {line}")),
        }
    }

    fn datagram(&self, datagram: &[u8]) {
        match datagram
            .strip_prefix(XRAY_HEADER)
            .map(serde_json::from_slice::<Value>)
        {
            Some(Ok(doc)) => self.subsegment(&doc),
            _ => self.problem(format!(
                "malformed datagram: {}",
                String::from_utf8_lossy(datagram)
            )),
        }
    }
}

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// The event of invocation `k`: a deterministic request id and trace header.
fn event(epoch: u64, k: usize) -> ScriptedEvent {
    let mut event = ScriptedEvent::new(json!({ "name": format!("n{k}") }));
    event.request_id = request_id(k);
    event.trace_header = Some(format!(
        "Root={};Parent={};Sampled=1",
        trace_root(epoch, k),
        parent(k)
    ));
    event
}

fn epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sends invocations `0..checkpoints.last()` in batches, waiting for every answer; returns the
/// function's RSS (KiB) at each checkpoint.
async fn drive(f: &RunningFunction, epoch: u64, checkpoints: &[usize]) -> Vec<u64> {
    let pid = f.pid().expect("running");
    let started = Instant::now();
    let mut rss = Vec::new();
    let mut sent = 0;
    for &checkpoint in checkpoints {
        while sent < checkpoint {
            let batch = (checkpoint - sent).min(500);
            for k in sent..sent + batch {
                f.api().push(event(epoch, k));
            }
            sent += batch;
            let answered = f.api().wait_for_count(sent, Duration::from_secs(120)).await;
            assert_eq!(answered, sent, "answers stopped coming");
        }
        rss.push(rss_kib(pid));
        eprintln!(
            "{checkpoint} invocations in {:.1?}: VmRSS {} KiB",
            started.elapsed(),
            rss.last().unwrap()
        );
    }
    rss
}

/// Runs `checkpoints.last()` invocations of `hello-world` with `max_concurrency`, checking
/// every answer, line, document and subsegment; returns the RSS (KiB) at each checkpoint.
async fn load(max_concurrency: &str, checkpoints: &[usize]) -> Vec<u64> {
    let n = *checkpoints.last().unwrap();
    let epoch = epoch();
    let tally = Arc::new(Tally::new(n, epoch));
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .env("AWS_LAMBDA_MAX_CONCURRENCY", max_concurrency)
        .observe(Arc::clone(&tally))
        .start()
        .await;
    let t = Arc::clone(&tally);
    f.api().on_answer(move |id, outcome| t.answer(id, outcome));
    let rss = drive(&f, epoch, checkpoints).await;
    assert!(f.is_alive());
    let out = f.stop().await;

    let problems = tally.problems.load(Ordering::Relaxed);
    assert_eq!(
        problems,
        0,
        "first problems: {:#?}",
        tally.first_problems.lock().unwrap()
    );
    assert_eq!(tally.incomplete(n), 0, "invocations missing output");
    assert_eq!(
        tally.cold_starts.load(Ordering::Relaxed),
        1,
        "one ColdStart document"
    );
    assert_eq!(
        tally.cold_lines.load(Ordering::Relaxed),
        1,
        "one cold log line"
    );
    assert!(out.stderr.is_empty(), "{:?}", out.stderr);
    rss
}

/// Growth from the first checkpoint to the last, in KiB.
fn growth(rss: &[u64]) -> i64 {
    rss[rss.len() - 1] as i64 - rss[0] as i64
}

fn assert_flat(rss: &[u64], checkpoints: &[usize]) {
    let tolerance = rss_tolerance_kib(checkpoints[checkpoints.len() - 1] - checkpoints[0]);
    assert!(
        growth(rss) <= tolerance,
        "VmRSS grew by {} KiB (tolerance {tolerance} KiB): {rss:?} at {checkpoints:?}",
        growth(rss)
    );
}

// The function runs with AWS_LAMBDA_MAX_CONCURRENCY=2: `lambda_runtime`'s sequential loop sets
// `_X_AMZN_TRACE_ID` with `std::env::set_var` on every invocation, and glibc keeps every value
// ever set (~160 bytes per invocation, the same with or without the toolkit: see
// `sequential_mode_grows_no_more_than_a_bare_function`). The concurrent loop does not.

#[tokio::test]
async fn two_thousand_invocations_are_all_accounted_for() {
    let checkpoints = [500, 2_000];
    let rss = load("2", &checkpoints).await;
    assert_flat(&rss, &checkpoints);
}

/// 100,000 invocations; RSS at 10k, 50k and 100k. Run with
/// `cargo nextest run -p powertools-e2e --test load --run-ignored only --no-capture`.
#[tokio::test]
#[ignore = "takes minutes: run it with --run-ignored only"]
async fn hundred_thousand_invocations_are_all_accounted_for_in_flat_memory() {
    let checkpoints = [10_000, 50_000, 100_000];
    let rss = load("2", &checkpoints).await;
    assert_flat(&rss, &checkpoints);
}

/// In `lambda_runtime`'s sequential mode (no `AWS_LAMBDA_MAX_CONCURRENCY`), the function with
/// the toolkit grows no more than the same runtime without it (`bench-bare`).
#[tokio::test]
#[ignore = "takes minutes: run it with --run-ignored only"]
async fn sequential_mode_grows_no_more_than_a_bare_function() {
    let checkpoints = [5_000, 30_000];
    let rss = load("1", &checkpoints).await;
    let bare = FunctionHarness::new(package_binary("bench-functions", "bench-bare"))
        .start()
        .await;
    let bare_rss = drive(&bare, epoch(), &checkpoints).await;
    bare.stop().await;
    eprintln!(
        "sequential growth over {} invocations: with the toolkit {} KiB, bare {} KiB",
        checkpoints[1] - checkpoints[0],
        growth(&rss),
        growth(&bare_rss)
    );
    assert!(
        growth(&rss) <= growth(&bare_rss) + rss_tolerance_kib(checkpoints[1] - checkpoints[0]),
        "with the toolkit {rss:?}, bare {bare_rss:?}"
    );
}
