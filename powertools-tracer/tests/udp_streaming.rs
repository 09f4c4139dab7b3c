//! Large trees over a real UDP socket on loopback: every datagram fits, starts with the
//! daemon's header line, validates, and together they rebuild the whole tree.

mod support;

use std::collections::{HashMap, HashSet};
use std::net::UdpSocket;

use powertools_tracer::emitter::{DATAGRAM_HEADER, MAX_DATAGRAM_BYTES, UdpEmitter};
use serde_json::{Value, json};
use support::{PARENT, assert_valid, flatten_spans, harness, header, receiver};

const CHILDREN: usize = 150;

#[tokio::test]
async fn a_tree_over_64_kib_is_streamed_as_valid_datagrams() {
    let (address, received) = receiver();
    let h = harness(|b| b.emitter(UdpEmitter::new(address.parse().unwrap())));
    h.invoke(Some(&header("1")), json!({}), |_| async {
        tracing::info_span!("batch").in_scope(|| {
            for i in 0..CHILDREN {
                tracing::info_span!("item", index = i, payload = "x".repeat(1000).as_str())
                    .in_scope(|| {});
            }
        });
        Ok(json!("done"))
    })
    .await
    .unwrap();
    let datagrams = received.join().unwrap();

    assert!(datagrams.len() > 2, "{} datagrams", datagrams.len());
    let mut docs = Vec::new();
    for d in &datagrams {
        assert!(d.len() <= MAX_DATAGRAM_BYTES, "{} bytes", d.len());
        assert!(
            d.starts_with(b"{\"format\": \"json\", \"version\": 1}\n{\"type\":\"subsegment\",")
        );
        let doc: Value = serde_json::from_slice(&d[DATAGRAM_HEADER.len()..]).unwrap();
        assert_valid(&doc);
        docs.push(doc);
    }
    let total: usize = datagrams.iter().map(Vec::len).sum();
    assert!(
        total > 150_000,
        "the tree is larger than one datagram: {total}"
    );

    // Complete versions of every subsegment: the handler, the batch and each item, once each
    // (the groups that carried items under the batch left out: an item's parent is the batch).
    let subs = flatten_spans(&docs);
    let complete: Vec<_> = subs
        .iter()
        .filter(|(_, s)| s.get("end_time").is_some())
        .collect();
    let ids: HashSet<&str> = complete
        .iter()
        .map(|(_, s)| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(complete.len(), CHILDREN + 2);
    assert_eq!(ids.len(), CHILDREN + 2);
    let by_name = |name: &str| {
        complete
            .iter()
            .filter(|(_, s)| s["name"] == name)
            .collect::<Vec<_>>()
    };
    let handler = by_name("## handler")[0];
    let batch = by_name("batch")[0];
    assert_eq!(handler.0, PARENT);
    assert_eq!(batch.0, handler.1["id"].as_str().unwrap());
    let items = by_name("item");
    let indexes: HashSet<u64> = items
        .iter()
        .map(|(_, s)| s["metadata"]["payment"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes.len(), CHILDREN);
    assert!(
        items
            .iter()
            .all(|(p, _)| p == batch.1["id"].as_str().unwrap())
    );

    // The batch was announced in progress before the first document sent under it.
    let batch_id = batch.1["id"].as_str().unwrap();
    let position = |pred: &dyn Fn(&Value) -> bool| docs.iter().position(pred);
    let announced = position(&|d| d["id"] == batch_id && d["in_progress"] == true)
        .expect("an in_progress document for the batch");
    let first_under_batch =
        position(&|d| d["parent_id"] == batch_id).expect("items sent before the batch ended");
    assert!(announced < first_under_batch);
    let final_batch = position(&|d| d["id"] == batch_id && d.get("end_time").is_some())
        .or_else(|| position(&|d| d["id"] == handler.1["id"]))
        .unwrap();
    assert!(announced < final_batch);
}

#[tokio::test]
async fn the_datagram_bytes_are_exact() {
    let (address, received) = receiver();
    let h = harness(|b| b.emitter(UdpEmitter::new(address.parse().unwrap())));
    h.invoke(Some(&header("1")), json!({}), |_| async { Ok(json!(1)) })
        .await
        .unwrap();
    let datagrams = received.join().unwrap();
    assert_eq!(datagrams.len(), 1);
    let text = String::from_utf8(datagrams[0].clone()).unwrap();
    let (first_line, document) = text.split_once('\n').unwrap();
    assert_eq!(first_line, r#"{"format": "json", "version": 1}"#);
    assert!(!document.contains('\n'));
    let doc: HashMap<String, Value> = serde_json::from_str(document).unwrap();
    assert_eq!(doc["parent_id"], PARENT);
}

#[tokio::test]
async fn an_unreachable_daemon_never_fails_the_handler() {
    // A port nobody listens on: sends fail or vanish, the handler is unaffected.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let h = harness(|b| b.emitter(UdpEmitter::new(closed.parse().unwrap())));
    for _ in 0..3 {
        let out = h
            .invoke(Some(&header("1")), json!({}), |_| async {
                Ok(json!("fine"))
            })
            .await
            .unwrap();
        assert_eq!(out, "fine");
    }
}
