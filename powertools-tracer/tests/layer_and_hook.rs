//! The tracer through the invocation layer, in-process: trees, parenting, timing, outcomes,
//! sampling, field conventions, the current-subsegment API. Every document is checked against
//! the X-Ray schema.

mod support;

use std::collections::HashSet;

use serde_json::json;
use support::{PARENT, ROOT, find, flatten, harness, header};
use tracing::Instrument;

#[tracing::instrument]
async fn load_order(id: u32) -> u32 {
    tokio::task::yield_now().await;
    price(id).await
}

#[tracing::instrument(fields(currency = "EUR"))]
async fn price(id: u32) -> u32 {
    tokio::task::yield_now().await;
    id * 2
}

#[tokio::test]
async fn handler_and_nested_spans_form_one_tree_under_the_header_parent() {
    let h = harness(|b| b);
    let out = h
        .invoke(Some(&header("1")), json!({"id": 21}), |event| async move {
            let id = event.payload["id"].as_u64().unwrap() as u32;
            let total = load_order(id).await;
            tracing::info_span!("audit").in_scope(|| {});
            Ok(json!({ "total": total }))
        })
        .await
        .unwrap();
    assert_eq!(out["total"], 42);

    let docs = h.documents();
    assert_eq!(docs.len(), 1, "a small tree is one document: {docs:#?}");
    let doc = &docs[0];
    assert_eq!(doc["type"], "subsegment");
    assert_eq!(doc["trace_id"], ROOT);
    assert_eq!(doc["parent_id"], PARENT);
    assert_eq!(doc["name"], "## handler");
    assert!(doc["annotations"]["ColdStart"].is_boolean());
    assert_eq!(doc["annotations"]["Service"], "payment");
    assert_eq!(
        doc["metadata"]["payment"]["handler response"],
        json!({"total": 42})
    );
    assert!(doc.get("in_progress").is_none());

    let subs = flatten(&docs);
    let names: Vec<_> = subs
        .iter()
        .map(|(_, s)| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["## handler", "load_order", "price", "audit"]);
    let (load_parent, load) = find(&subs, "load_order");
    let (price_parent, price) = find(&subs, "price");
    assert_eq!(load_parent, doc["id"].as_str().unwrap());
    assert_eq!(price_parent, load["id"].as_str().unwrap());
    assert_eq!(load["metadata"]["payment"]["id"], 21);
    assert_eq!(price["metadata"]["payment"]["currency"], "EUR");

    let ids: HashSet<_> = subs
        .iter()
        .map(|(_, s)| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), subs.len(), "ids are unique");
    for (parent, sub) in &subs {
        let id = sub["id"].as_str().unwrap();
        assert!(id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        let (start, end) = (
            sub["start_time"].as_f64().unwrap(),
            sub["end_time"].as_f64().unwrap(),
        );
        assert!(start <= end, "{sub}");
        assert!(start > 1.6e9, "epoch seconds: {start}");
        if let Some((_, p)) = subs.iter().find(|(_, s)| s["id"] == parent.as_str()) {
            assert!(p["start_time"].as_f64().unwrap() <= start);
            assert!(end <= p["end_time"].as_f64().unwrap());
        }
    }
}

#[tokio::test]
async fn times_carry_microseconds() {
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), |_| async {
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        Ok(json!(null))
    })
    .await
    .unwrap();
    let datagram = String::from_utf8(h.captured.datagrams().remove(0)).unwrap();
    let start = datagram.split("\"start_time\":").nth(1).unwrap();
    let number: String = start
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    assert_eq!(number.split('.').nth(1).map(str::len), Some(6), "{number}");
    let doc = &h.documents()[0];
    let took = doc["end_time"].as_f64().unwrap() - doc["start_time"].as_f64().unwrap();
    assert!(took >= 0.003, "{took}");
}

#[derive(Debug)]
struct Declined(std::io::Error);
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}
impl std::error::Error for Declined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[tokio::test]
async fn an_error_sets_the_error_flag_cause_chain_and_metadata() {
    let h = harness(|b| b);
    let result = h
        .invoke(Some(&header("1")), json!({}), |_| async {
            Err(Box::new(Declined(std::io::Error::other("issuer unavailable"))).into())
        })
        .await;
    assert!(result.is_err());
    let doc = &h.documents()[0];
    assert_eq!(
        doc["fault"], true,
        "a failed invocation is a fault, as in Python"
    );
    assert!(doc.get("error").is_none());
    let exceptions = doc["cause"]["exceptions"].as_array().unwrap();
    assert_eq!(exceptions.len(), 2);
    assert_eq!(exceptions[0]["message"], "card declined");
    assert_eq!(exceptions[0]["type"], "Declined");
    assert_eq!(exceptions[0]["cause"], exceptions[1]["id"]);
    assert_eq!(exceptions[1]["message"], "issuer unavailable");
    let meta = &doc["metadata"]["payment"]["handler error"];
    assert_eq!(meta["message"], "card declined");
    assert_eq!(meta["sources"], json!(["issuer unavailable"]));
    assert!(doc["metadata"]["payment"].get("handler response").is_none());
}

#[tokio::test]
async fn capture_switches_keep_response_and_error_messages_out() {
    let h = harness(|b| b.capture_response(false).capture_error(false));
    h.invoke(Some(&header("1")), json!({}), |_| async {
        Ok(json!({"secret": 1}))
    })
    .await
    .unwrap();
    let _ = h
        .invoke(Some(&header("1")), json!({}), |_| async {
            Err("secret reason".into())
        })
        .await;
    let docs = h.documents();
    assert_eq!(docs.len(), 2);
    assert!(
        docs.iter().all(|d| d.get("metadata").is_none()),
        "{docs:#?}"
    );
    assert_eq!(docs[1]["fault"], true);
    assert!(docs[1]["cause"]["exceptions"][0].get("message").is_none());
    assert!(!docs[1].to_string().contains("secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_marks_a_fault_and_still_sends() {
    let h = support::shared(harness(|b| b));
    let h2 = std::sync::Arc::clone(&h);
    let joined = tokio::spawn(async move {
        h2.invoke(Some(&header("1")), json!({}), |_| async {
            let ledger: Option<u32> = std::hint::black_box(None);
            Ok(json!(ledger.expect("ledger corrupted")))
        })
        .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    let doc = &h.documents()[0];
    assert_eq!(doc["fault"], true);
    let exception = &doc["cause"]["exceptions"][0];
    assert_eq!(exception["message"], "ledger corrupted");
    assert_eq!(exception["type"], "Panic");
    assert!(
        exception["stack"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("layer_and_hook.rs")
    );
}

#[tokio::test]
async fn unsampled_untraced_and_disabled_invocations_send_nothing() {
    let h = harness(|b| b);
    let handler = |_| async {
        load_order(1).await;
        powertools_tracer::put_annotation("k", 1).unwrap();
        Ok(json!(null))
    };
    h.invoke(Some(&header("0")), json!({}), handler)
        .await
        .unwrap();
    h.invoke(None, json!({}), handler).await.unwrap();
    h.invoke(Some("Root=garbage"), json!({}), handler)
        .await
        .unwrap();
    h.invoke(Some(&format!("Root={ROOT};Sampled=1")), json!({}), handler)
        .await
        .unwrap();
    assert!(h.captured.datagrams().is_empty());

    let off = harness(|b| b.enabled(false));
    off.invoke(Some(&header("1")), json!({}), handler)
        .await
        .unwrap();
    assert!(off.captured.datagrams().is_empty());
}

#[tokio::test]
async fn unsampled_invocations_pass_their_decision_downstream() {
    let h = harness(|b| b);
    h.invoke(Some(&header("0")), json!({}), |_| async {
        assert_eq!(powertools_tracer::trace_header(), Some(header("0")));
        Ok(json!(null))
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn level_filter_opt_out_and_name_override() {
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), |_| async {
        tracing::debug_span!("chatty").in_scope(|| {
            tracing::info_span!("under_chatty").in_scope(|| {});
        });
        tracing::info_span!("secret", xray.skip = true).in_scope(|| {
            tracing::info_span!("under_secret").in_scope(|| {});
        });
        tracing::info_span!("renamed", xray.name = "GET /orders/{id}").in_scope(|| {});
        tracing::warn_span!("odd name <é>").in_scope(|| {});
        Ok(json!(null))
    })
    .await
    .unwrap();
    let docs = h.documents();
    let subs = flatten(&docs);
    let names: Vec<_> = subs
        .iter()
        .map(|(_, s)| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "## handler",
            "under_chatty",
            "under_secret",
            "GET /orders/_id_",
            "odd name ___"
        ]
    );
    let handler_id = docs[0]["id"].as_str().unwrap();
    assert!(
        subs[1..].iter().all(|(p, _)| p == handler_id),
        "skipped spans' children attach above"
    );
    assert!(
        subs.iter()
            .all(|(_, s)| s["metadata"]["payment"].get("xray.skip").is_none())
    );
}

#[tokio::test]
async fn debug_level_filter_traces_debug_spans() {
    let h = harness(|b| b.level(tracing::Level::DEBUG));
    h.invoke(Some(&header("1")), json!({}), |_| async {
        tracing::debug_span!("chatty").in_scope(|| {});
        tracing::trace_span!("noise").in_scope(|| {});
        Ok(json!(null))
    })
    .await
    .unwrap();
    let subs = flatten(&h.documents());
    let names: Vec<_> = subs
        .iter()
        .map(|(_, s)| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["## handler", "chatty"]);
}

/// Spans of other crates inside a user span, at DEBUG: (parent id, name) of what is sent.
async fn dependency_spans(trace_them: bool) -> Vec<(String, String, String)> {
    let h = harness(|b| {
        b.level(tracing::Level::DEBUG)
            .trace_dependency_spans(trace_them)
    });
    h.invoke(Some(&header("1")), json!({}), |_| async {
        tracing::info_span!("load order").in_scope(|| {
            tracing::span!(
                target: "aws_smithy_runtime::client::orchestrator",
                tracing::Level::DEBUG,
                "try_op"
            )
            .in_scope(|| {
                tracing::span!(target: "hyper::client", tracing::Level::DEBUG, "connect")
                    .in_scope(|| tracing::debug_span!("inner").in_scope(|| {}));
            });
        });
        Ok(json!(null))
    })
    .await
    .unwrap();
    flatten(&h.documents())
        .into_iter()
        .map(|(parent, s)| {
            (
                parent,
                s["name"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn other_crates_spans_are_left_out_at_debug_and_what_they_enclose_hangs_above() {
    let subs = dependency_spans(false).await;
    let names: Vec<_> = subs.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, ["## handler", "load order", "inner"], "{subs:?}");
    // `inner` hangs under the user's span, not under hyper's or the SDK's.
    assert_eq!(subs[2].0, subs[1].2);
    assert_eq!(subs[1].0, subs[0].2);
}

#[tokio::test]
async fn trace_dependency_spans_turns_other_crates_spans_into_subsegments() {
    let subs = dependency_spans(true).await;
    let names: Vec<_> = subs.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["## handler", "load order", "try_op", "connect", "inner"],
        "{subs:?}"
    );
    for i in 1..subs.len() {
        assert_eq!(subs[i].0, subs[i - 1].2, "{subs:?}");
    }
}

#[tokio::test]
async fn annotations_metadata_and_errors_on_the_current_subsegment() {
    use powertools_tracer::{AnnotationError, put_annotation, put_metadata, put_metadata_in};
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), |_| async {
        put_annotation("tier", "gold").unwrap();
        async {
            put_annotation("items", 3u32).unwrap();
            put_annotation("express", true).unwrap();
            put_annotation("weight", 1.5).unwrap();
            assert!(matches!(
                put_annotation("bad-key", 1),
                Err(AnnotationError::InvalidKey(_))
            ));
            assert!(matches!(
                put_annotation("nan", f64::NAN),
                Err(AnnotationError::NonFiniteNumber(_))
            ));
            put_metadata("basket", &json!({"skus": ["a", "b"]})).unwrap();
            put_metadata_in(Some("billing"), "invoice", &42).unwrap();
            tracing::error!(error = "stock lookup failed", "lookup");
        }
        .instrument(tracing::info_span!("reserve"))
        .await;
        Ok(json!(null))
    })
    .await
    .unwrap();
    let docs = h.documents();
    assert_eq!(docs[0]["annotations"]["tier"], "gold");
    let subs = flatten(&docs);
    let (_, reserve) = find(&subs, "reserve");
    assert_eq!(
        reserve["annotations"],
        json!({"items": 3, "express": true, "weight": 1.5})
    );
    assert_eq!(
        reserve["metadata"]["payment"]["basket"],
        json!({"skus": ["a", "b"]})
    );
    assert_eq!(reserve["metadata"]["billing"]["invoice"], 42);
    assert_eq!(reserve["error"], true);
    assert_eq!(
        reserve["cause"]["exceptions"][0]["message"],
        "stock lookup failed"
    );
    assert!(
        docs[0].get("error").is_none(),
        "the handler itself succeeded"
    );
}

#[tokio::test]
async fn remote_calls_carry_namespace_and_http_data() {
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), |_| async {
        let span = tracing::info_span!(
            "orders-api",
            http.method = "GET",
            http.url = "https://orders.internal/orders/7",
            http.status_code = tracing::field::Empty,
        );
        let sent_header = span.in_scope(powertools_tracer::trace_header).unwrap();
        span.record("http.status_code", 503);
        drop(span);
        tracing::info_span!("ddb", aws.operation = "GetItem", aws.table_name = "orders")
            .in_scope(|| {});
        tracing::info_span!("throttled", http.status_code = 429u64).in_scope(|| {});
        Ok(json!({ "sent": sent_header }))
    })
    .await
    .unwrap();
    let docs = h.documents();
    let subs = flatten(&docs);
    let (_, remote) = find(&subs, "orders-api");
    assert_eq!(remote["namespace"], "remote");
    assert_eq!(
        remote["http"],
        json!({"request": {"method": "GET", "url": "https://orders.internal/orders/7"}, "response": {"status": 503}})
    );
    assert_eq!(remote["fault"], true);
    let sent = docs[0]["metadata"]["payment"]["handler response"]["sent"]
        .as_str()
        .unwrap();
    assert_eq!(
        sent,
        format!(
            "Root={ROOT};Parent={};Sampled=1",
            remote["id"].as_str().unwrap()
        )
    );
    let (_, ddb) = find(&subs, "ddb");
    assert_eq!(ddb["namespace"], "aws");
    assert_eq!(
        ddb["aws"],
        json!({"operation": "GetItem", "table_name": "orders"})
    );
    let (_, throttled) = find(&subs, "throttled");
    assert_eq!(
        (throttled["error"].clone(), throttled["throttle"].clone()),
        (json!(true), json!(true))
    );
}

#[tokio::test]
async fn spans_outside_invocations_are_ignored() {
    let h = harness(|b| b);
    tracing::dispatcher::with_default(&h.dispatch, || {
        tracing::info_span!("startup").in_scope(|| {
            assert_eq!(powertools_tracer::trace_header(), None);
            powertools_tracer::put_annotation("k", 1).unwrap();
        });
    });
    assert!(h.captured.datagrams().is_empty());
}

#[tokio::test]
async fn an_oversized_response_is_cut_with_a_marker_not_dropped() {
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), |_| async {
        Ok(json!({ "blob": "z".repeat(300_000) }))
    })
    .await
    .unwrap();
    let docs = h.documents();
    assert_eq!(docs.len(), 1);
    let cut = docs[0]["metadata"]["payment"]["handler response"]
        .as_str()
        .unwrap();
    assert!(cut.starts_with("{\"blob\":\"zzz"));
    assert!(cut.contains("[truncated by powertools: 300011 bytes]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invocations_never_cross_their_trees() {
    let h = support::shared(harness(|b| b));
    let roots: Vec<String> = (0..24).map(|n| format!("1-5759e988-{n:024x}")).collect();
    let tasks: Vec<_> = roots
        .iter()
        .enumerate()
        .map(|(n, root)| {
            let h = std::sync::Arc::clone(&h);
            let header = format!("Root={root};Parent={PARENT};Sampled=1");
            tokio::spawn(async move {
                h.invoke(Some(&header), json!({ "n": n }), |event| async move {
                    let n = event.payload["n"].as_u64().unwrap();
                    for step in 0..3 {
                        async {
                            tokio::task::yield_now().await;
                            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                            powertools_tracer::put_annotation("invocation", n).unwrap();
                        }
                        .instrument(tracing::info_span!(
                            "step",
                            xray.name = format!("step-{n}-{step}").as_str()
                        ))
                        .await;
                    }
                    Ok(json!(n))
                })
                .await
                .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let docs = h.documents();
    assert_eq!(docs.len(), roots.len());
    for doc in &docs {
        let n = doc["metadata"]["payment"]["handler response"]
            .as_u64()
            .unwrap() as usize;
        assert_eq!(doc["trace_id"], roots[n]);
        let steps = doc["subsegments"].as_array().unwrap();
        assert_eq!(steps.len(), 3);
        for (step, sub) in steps.iter().enumerate() {
            assert_eq!(sub["name"], format!("step-{n}-{step}"));
            assert_eq!(sub["annotations"]["invocation"], n);
        }
    }
}
