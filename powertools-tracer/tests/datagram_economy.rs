//! Datagram economy, over a real UDP socket on loopback: an invocation's spans leave in as few
//! datagrams as they fit (finished siblings grouped, subtrees embedded), every datagram is
//! within 64 KiB, parses with `serde_json`'s default recursion limit and validates, and
//! together they carry every span exactly once under its own parent.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use powertools_tracer::emitter::{DATAGRAM_HEADER, Emitter, MAX_DATAGRAM_BYTES, UdpEmitter};
use serde_json::{Value, json};
use support::{PARENT, assert_valid, flatten, flatten_spans, harness, header, is_group, receiver};
use tracing::Instrument;
use tracing::instrument::WithSubscriber;

/// Counts the datagrams handed to the UDP emitter, to compare with those received.
struct Counting {
    udp: UdpEmitter,
    sent: Arc<AtomicUsize>,
}

impl Emitter for Counting {
    fn emit(&self, datagram: &[u8]) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.udp.emit(datagram);
        // Paced so that the test's receiver keeps up on a loaded machine: what is checked is
        // what the tracer sends, not the kernel's socket buffer (a burst of a few hundred 30 KB
        // datagrams can overflow it while the receiving thread waits for a core).
        std::thread::sleep(std::time::Duration::from_micros(300));
    }
}

/// What one invocation sent, checked datagram by datagram.
struct Sent {
    datagrams: usize,
    docs: Vec<Value>,
    /// The deepest JSON nesting of any document.
    depth: usize,
}

fn json_depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Runs one traced invocation whose handler calls `spans` (inside the `## handler` span) and
/// checks every datagram it sent over UDP.
async fn invoke(
    spans: impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static,
) -> Sent {
    let (address, received) = receiver();
    let sent = Arc::new(AtomicUsize::new(0));
    let h = harness(|b| {
        b.emitter(Counting {
            udp: UdpEmitter::new(address.parse().unwrap()),
            sent: Arc::clone(&sent),
        })
    });
    let spans = Arc::new(spans);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let spans = Arc::clone(&spans);
        async move {
            spans().await;
            Ok(json!("done"))
        }
    })
    .await
    .unwrap();
    let datagrams = received.join().unwrap();
    assert_eq!(
        datagrams.len(),
        sent.load(Ordering::Relaxed),
        "every datagram sent was received"
    );
    let mut docs = Vec::new();
    let mut depth = 0;
    for d in &datagrams {
        assert!(d.len() <= MAX_DATAGRAM_BYTES, "{} bytes", d.len());
        assert!(d.starts_with(DATAGRAM_HEADER));
        let doc: Value = serde_json::from_slice(&d[DATAGRAM_HEADER.len()..])
            .unwrap_or_else(|e| panic!("a document serde_json refuses: {e}"));
        assert_valid(&doc);
        assert_eq!(doc["type"], "subsegment");
        depth = depth.max(json_depth(&doc));
        docs.push(doc);
    }
    Sent {
        datagrams: datagrams.len(),
        docs,
        depth,
    }
}

/// Every span sent complete, exactly once, by id: (parent id with groups looked through,
/// subsegment). Also checks every group: under a real subsegment, spanning its children.
fn spans_by_id(docs: &[Value]) -> HashMap<String, (String, Value)> {
    let mut by_id = HashMap::new();
    for (parent, sub) in flatten_spans(docs) {
        if sub.get("in_progress").is_some() {
            continue;
        }
        let id = sub["id"].as_str().unwrap().to_owned();
        assert!(
            by_id.insert(id.clone(), (parent, sub)).is_none(),
            "span {id} sent twice"
        );
    }
    for (parent, group) in flatten(docs).iter().filter(|(_, s)| is_group(s)) {
        assert!(
            by_id.contains_key(parent),
            "a group under {parent}, not a span"
        );
        let children = group["subsegments"].as_array().unwrap();
        assert!(children.len() > 1, "a group of one");
        assert_eq!(
            group["metadata"]["powertools"]["grouped_subsegments"],
            children.len()
        );
        let (start, end) = (
            group["start_time"].as_f64().unwrap(),
            group["end_time"].as_f64().unwrap(),
        );
        assert!(
            children
                .iter()
                .all(|c| start <= c["start_time"].as_f64().unwrap()
                    && c["end_time"].as_f64().unwrap() <= end)
        );
    }
    by_id
}

/// The handler's subsegment: its id, checked to be under the function's segment.
fn handler_id(spans: &HashMap<String, (String, Value)>) -> String {
    let handlers: Vec<_> = spans
        .iter()
        .filter(|(_, (_, s))| s["name"] == "## handler")
        .collect();
    assert_eq!(handlers.len(), 1);
    assert_eq!(handlers[0].1.0, PARENT);
    handlers[0].0.clone()
}

fn flat(n: usize) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    move || {
        Box::pin(async move {
            for i in 0..n {
                tracing::info_span!("item", index = i).in_scope(|| {});
            }
        })
    }
}

/// `chains` chains of `len` nested spans each, one after the other under the handler.
fn chains(
    chains: usize,
    len: usize,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    move || {
        Box::pin(async move {
            for chain in 0..chains {
                nest(chain, len);
            }
        })
    }
}

fn nest(chain: usize, len: usize) {
    let mut entered = Vec::with_capacity(len);
    for depth in 0..len {
        entered.push(tracing::info_span!("level", chain, depth).entered());
    }
    while let Some(span) = entered.pop() {
        drop(span);
    }
}

/// Checks `n` flat items under the handler, each once.
fn assert_flat(sent: &Sent, n: usize) {
    let spans = spans_by_id(&sent.docs);
    let handler = handler_id(&spans);
    assert_eq!(spans.len(), n + 1);
    let mut indexes = HashSet::new();
    for (parent, sub) in spans.values().filter(|(_, s)| s["name"] == "item") {
        assert_eq!(*parent, handler);
        assert!(indexes.insert(sub["metadata"]["payment"]["index"].as_u64().unwrap()));
    }
    assert_eq!(indexes.len(), n);
}

/// Checks `chains` chains of `len` spans, each span once under the one before it.
fn assert_chains(sent: &Sent, chains: usize, len: usize) {
    let spans = spans_by_id(&sent.docs);
    let handler = handler_id(&spans);
    assert_eq!(spans.len(), chains * len + 1);
    let mut at: HashMap<(u64, u64), &str> = HashMap::new();
    for (id, (_, sub)) in &spans {
        if sub["name"] == "level" {
            let meta = &sub["metadata"]["payment"];
            let key = (
                meta["chain"].as_u64().unwrap(),
                meta["depth"].as_u64().unwrap(),
            );
            assert!(at.insert(key, id).is_none());
        }
    }
    assert_eq!(at.len(), chains * len);
    for ((chain, depth), id) in &at {
        let expected = match depth {
            0 => handler.as_str(),
            d => at[&(*chain, d - 1)],
        };
        assert_eq!(
            spans[*id].0, expected,
            "parent of span {depth} of chain {chain}"
        );
    }
}

#[tokio::test]
async fn a_typical_invocation_is_one_datagram() {
    let sent = invoke(|| {
        Box::pin(async {
            for order in 0..25 {
                async {
                    tracing::info_span!("load", order).in_scope(|| {
                        tracing::info_span!("query", table = "orders").in_scope(|| {});
                    });
                    for line in 0..6 {
                        tracing::info_span!("price", line).in_scope(|| {});
                    }
                    tracing::info_span!("save", order).in_scope(|| {});
                }
                .instrument(tracing::info_span!("order", order))
                .await;
            }
        })
    })
    .await;
    eprintln!("250 spans: {} datagrams", sent.datagrams);
    assert_eq!(sent.datagrams, 1);
    assert_eq!(spans_by_id(&sent.docs).len(), 251);
}

#[tokio::test]
async fn a_thousand_flat_spans_leave_in_a_few_datagrams() {
    let sent = invoke(flat(1_000)).await;
    eprintln!("1,000 flat spans: {} datagrams", sent.datagrams);
    assert!(sent.datagrams <= 5, "{} datagrams", sent.datagrams);
    assert_flat(&sent, 1_000);
}

#[tokio::test]
async fn ten_thousand_flat_spans_leave_in_a_few_dozen_datagrams() {
    let sent = invoke(flat(10_000)).await;
    eprintln!("10,000 flat spans: {} datagrams", sent.datagrams);
    assert!(sent.datagrams <= 40, "{} datagrams", sent.datagrams);
    assert_flat(&sent, 10_000);
}

#[tokio::test]
async fn a_chain_of_1001_nested_spans_stays_within_parser_depth() {
    let sent = invoke(chains(1, 1_001)).await;
    eprintln!(
        "a chain of 1,001 spans: {} datagrams, {} JSON levels at most",
        sent.datagrams, sent.depth
    );
    assert!(sent.depth <= 100, "{} JSON levels", sent.depth);
    assert!(sent.datagrams <= 25, "{} datagrams", sent.datagrams);
    assert_chains(&sent, 1, 1_001);
}

#[tokio::test]
async fn ten_chains_of_1001_nested_spans_leave_in_a_few_hundred_datagrams() {
    let sent = invoke(chains(10, 1_001)).await;
    eprintln!(
        "10 chains of 1,001 spans: {} datagrams, {} JSON levels at most",
        sent.datagrams, sent.depth
    );
    assert!(sent.depth <= 100, "{} JSON levels", sent.depth);
    assert!(sent.datagrams <= 250, "{} datagrams", sent.datagrams);
    assert_chains(&sent, 10, 1_001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_closing_on_several_threads_under_one_parent_are_each_sent_once() {
    let sent = invoke(|| {
        Box::pin(async {
            let tasks: Vec<_> = (0..4)
                .map(|task| {
                    tokio::spawn(
                        async move {
                            for i in 0..2_500 {
                                tracing::info_span!("item", index = task * 2_500 + i)
                                    .in_scope(|| {});
                                if i % 100 == 0 {
                                    tokio::task::yield_now().await;
                                }
                            }
                        }
                        .in_current_span()
                        .with_current_subscriber(),
                    )
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
    })
    .await;
    eprintln!("10,000 spans from 4 tasks: {} datagrams", sent.datagrams);
    assert!(sent.datagrams <= 40, "{} datagrams", sent.datagrams);
    assert_flat(&sent, 10_000);
}
