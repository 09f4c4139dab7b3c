//! Nothing recorded is lost without a typed error: the handle of the invocation in scope, tasks
//! outside or after their invocation, handles without a hook, and documents too large for one
//! CloudWatch Logs event.

mod support;

use std::collections::HashMap;

use powertools_core::output::MAX_LINE_BYTES;
use powertools_metrics::{CaptureSink, MetricsError, Unit};
use serde_json::{Value, json};
use support::{builder, checked, end_ok, invocation, start};

/// Every (metric, value) written across `docs`, counted.
fn written_values(docs: &[Value]) -> HashMap<(String, String), usize> {
    let mut seen = HashMap::new();
    for doc in docs {
        for name in support::metric_names(doc) {
            let values = match &doc[&name] {
                Value::Array(values) => values.clone(),
                one => vec![one.clone()],
            };
            for v in values {
                *seen.entry((name.clone(), v.to_string())).or_default() += 1;
            }
        }
    }
    seen
}

#[tokio::test]
async fn current_is_the_handle_of_the_hook_running_the_invocation() {
    let early = powertools_metrics::current();
    assert_eq!(
        early.add_metric("AtInit", Unit::Count, 1.0),
        Err(MetricsError::NoInvocation),
        "outside an invocation: refused, not accepted and lost"
    );

    let (sink_a, sink_b) = (CaptureSink::new(), CaptureSink::new());
    let a = builder(&sink_a)
        .namespace("A")
        .service("a")
        .build()
        .unwrap();
    let b = builder(&sink_b)
        .namespace("B")
        .service("b")
        .build()
        .unwrap();
    let (hook_a, hook_b) = (a.invocation_hook(), b.invocation_hook());
    let (inv_a, inv_b) = (invocation("req-a", false), invocation("req-b", false));
    start(&hook_a, &inv_a);
    start(&hook_b, &inv_b);
    // Interleaved: each invocation's `current()` is its own layer's handle.
    let in_a = inv_a.clone().scope(async {
        tokio::task::yield_now().await;
        powertools_metrics::current().add_metric("Orders", Unit::Count, 1.0)?;
        early.add_metric("Orders", Unit::Count, 2.0)
    });
    let in_b = inv_b
        .clone()
        .scope(async { powertools_metrics::current().add_metric("Orders", Unit::Count, 10.0) });
    let (ra, rb) = tokio::join!(in_a, in_b);
    ra.unwrap();
    rb.unwrap();
    end_ok(&hook_a, &inv_a);
    end_ok(&hook_b, &inv_b);

    let (docs_a, docs_b) = (checked(&sink_a), checked(&sink_b));
    assert_eq!(docs_a.len(), 1);
    assert_eq!(docs_a[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "A");
    assert_eq!(docs_a[0]["service"], "a");
    assert_eq!(docs_a[0]["Orders"], json!([1, 2]));
    assert_eq!(docs_b.len(), 1);
    assert_eq!(docs_b[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "B");
    assert_eq!(docs_b[0]["Orders"], 10);
}

#[tokio::test]
async fn tasks_outside_or_after_their_invocation_get_a_typed_error() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    let hook = metrics.invocation_hook();
    let inv = invocation("req-1", false);
    start(&hook, &inv);
    let (unscoped, late) = inv
        .clone()
        .scope(async {
            powertools_metrics::current().add_metric("InHandler", Unit::Count, 1.0)?;
            let unscoped = tokio::spawn(async {
                powertools_metrics::current().add_metric("Unscoped", Unit::Count, 1.0)
            })
            .await
            .unwrap();
            let current = powertools_core::Invocation::current().unwrap();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let late = tokio::spawn(current.scope(async move {
                rx.await.unwrap();
                powertools_metrics::current().add_metric("Late", Unit::Count, 1.0)
            }));
            Ok::<_, MetricsError>((unscoped, (late, tx)))
        })
        .await
        .unwrap();
    end_ok(&hook, &inv);
    let (late, tx) = late;
    tx.send(()).unwrap();
    assert_eq!(unscoped, Err(MetricsError::NoInvocation));
    assert_eq!(
        late.await.unwrap(),
        Err(MetricsError::InvocationEnded {
            request_id: "req-1".into()
        })
    );
    let docs = checked(&sink);
    assert_eq!(docs.len(), 1);
    assert_eq!(support::metric_names(&docs[0]), ["InHandler"]);
}

#[tokio::test]
async fn a_handle_without_a_hook_is_written_when_its_invocation_ends() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    {
        let inv = invocation("req-1", false);
        inv.clone()
            .scope(async { metrics.add_metric("NoHook", Unit::Count, 1.0) })
            .await
            .unwrap();
        assert!(sink.lines().is_empty(), "written when the invocation ends");
    }
    let docs = checked(&sink);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["NoHook"], 1);
}

#[test]
fn a_document_too_large_for_one_event_is_split_and_every_value_written_once() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    let hook = metrics.invocation_hook();
    let inv = invocation("req-1", false);
    start(&hook, &inv);
    let mut accepted = HashMap::new();
    inv.clone().sync_scope(|| {
        for m in 0..99 {
            let name = format!("{m:02}{}", "m".repeat(253));
            for v in 0..99 {
                let value = f64::from(v) + 0.123_456_789_012_345;
                metrics.add_metric(&name, Unit::Count, value).unwrap();
                let written = serde_json::to_value(value).unwrap().to_string();
                *accepted.entry((name.clone(), written)).or_insert(0) += 1;
            }
        }
        metrics.add_metadata("note", "x".repeat(100_000)).unwrap();
    });
    end_ok(&hook, &inv);
    for line in sink.lines() {
        assert!(line.trim_end().len() <= MAX_LINE_BYTES, "{}", line.len());
    }
    let docs = checked(&sink);
    assert!(docs.len() >= 2, "split into several documents");
    assert!(
        docs.iter()
            .all(|d| d["note"].as_str().unwrap().len() == 100_000)
    );
    assert_eq!(written_values(&docs), accepted);
}

#[test]
fn metadata_that_cannot_fit_one_event_is_a_typed_error() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    let hook = metrics.invocation_hook();
    let inv = invocation("req-1", false);
    start(&hook, &inv);
    inv.clone().sync_scope(|| {
        let too_big = metrics.add_metadata("blob", "x".repeat(300_000));
        assert!(
            matches!(&too_big, Err(MetricsError::TooLarge { key, .. }) if key == "blob"),
            "{too_big:?}"
        );
        // Six parts of 40 KB fit beside the metrics; the seventh does not.
        for k in 0..6 {
            metrics
                .add_metadata(&format!("part{k}"), "y".repeat(40_000))
                .unwrap();
        }
        let seventh = metrics.add_metadata("part6", "y".repeat(40_000));
        assert!(
            matches!(seventh, Err(MetricsError::TooLarge { .. })),
            "{seventh:?}"
        );
        metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
    });
    end_ok(&hook, &inv);
    let docs = checked(&sink);
    assert_eq!(docs.len(), 1);
    assert!(docs[0].get("blob").is_none() && docs[0].get("part6").is_none());
    assert_eq!(docs[0]["part5"].as_str().unwrap().len(), 40_000);
    assert!(sink.lines()[0].len() <= MAX_LINE_BYTES);
}

#[test]
fn level_is_a_reserved_key() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    for result in [
        metrics.add_metric("level", Unit::Count, 1.0),
        metrics.add_dimension("level", "gold"),
        metrics.add_metadata("level", "gold"),
    ] {
        assert!(
            matches!(&result, Err(MetricsError::InvalidName { reason, .. }) if reason.contains("level")),
            "{result:?}"
        );
    }
}

#[test]
fn finding_a_metric_among_a_hundred_keeps_each_one_apart() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    // Same length and first bytes: names a prefix comparison cannot tell apart.
    for round in 0..3 {
        for m in 0..99 {
            metrics
                .add_metric(&format!("Metric{m:03}"), Unit::Count, f64::from(round))
                .unwrap();
        }
    }
    metrics.flush().unwrap();
    let docs = checked(&sink);
    assert_eq!(docs.len(), 1);
    for m in 0..99 {
        assert_eq!(docs[0][format!("Metric{m:03}")], json!([0, 1, 2]));
    }
}
