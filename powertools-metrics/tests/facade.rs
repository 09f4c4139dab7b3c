//! The `metrics` crate facade writes into the same per-invocation documents.
#![cfg(feature = "metrics-facade")]

mod support;

use powertools_core::Invocation;
use powertools_metrics::facade::MetricsRecorder;
use powertools_metrics::{CaptureSink, Unit};
use serde_json::json;

#[test]
fn counters_gauges_and_histograms_land_in_the_invocation_document() {
    let sink = CaptureSink::new();
    let metrics = support::builder(&sink)
        .capture_cold_start_metric(false)
        .build()
        .unwrap();
    let recorder = MetricsRecorder::new(metrics.clone());
    let hook = metrics.invocation_hook();
    let inv = support::invocation("req-1", false);
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_histogram!("latency", metrics::Unit::Milliseconds, "request latency");
        inv.clone().sync_scope(|| {
            metrics.add_metric("Direct", Unit::Count, 1.0).unwrap();
            metrics::counter!("requests").increment(1);
            metrics::counter!("requests").increment(2);
            metrics::gauge!("queue_depth").set(5.0);
            metrics::gauge!("queue_depth").increment(2.0);
            metrics::histogram!("latency").record(12.0);
            metrics::histogram!("latency").record(15.5);
            metrics::counter!("by_route", "route" => "/book").increment(1);
            assert!(Invocation::current().is_some());
        });
        // Outside the invocation: the process-level document.
        metrics::counter!("at_init").increment(1);
    });
    support::end_ok(&hook, &inv);
    let docs = support::checked(&sink);
    assert_eq!(docs.len(), 2);
    let doc = &docs[0];
    assert_eq!(doc["Direct"], 1);
    assert_eq!(doc["requests"], 3);
    assert_eq!(doc["queue_depth"], 7);
    assert_eq!(doc["latency"], json!([12, 15.5]));
    assert_eq!(doc["by_route"], 1);
    assert_eq!(doc["route"], "/book", "labels become dimensions");
    let units: Vec<_> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["Name"].as_str().unwrap(), m["Unit"].as_str().unwrap()))
        .collect();
    assert!(units.contains(&("requests", "Count")));
    assert!(units.contains(&("queue_depth", "None")));
    assert!(
        units.contains(&("latency", "Milliseconds")),
        "described unit used"
    );
    assert_eq!(docs[1]["at_init"], 1);
}

#[test]
fn a_recorder_made_at_init_from_current_follows_each_invocation() {
    // Installed at init, before any layer or handle exists.
    let recorder = MetricsRecorder::new(powertools_metrics::current());
    let (sink_a, sink_b) = (CaptureSink::new(), CaptureSink::new());
    let a = support::builder(&sink_a).namespace("A").build().unwrap();
    let b = support::builder(&sink_b).namespace("B").build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        for (metrics, id) in [(&a, "req-a"), (&b, "req-b")] {
            let hook = metrics.invocation_hook();
            let inv = support::invocation(id, false);
            support::start(&hook, &inv);
            inv.clone()
                .sync_scope(|| metrics::counter!("requests").increment(1));
            support::end_ok(&hook, &inv);
        }
        // Outside any invocation: refused (one warning line), never written elsewhere.
        metrics::counter!("requests").increment(1);
    });
    for (sink, namespace) in [(&sink_a, "A"), (&sink_b, "B")] {
        let docs = support::checked(sink);
        assert_eq!(docs.len(), 1, "{namespace}");
        assert_eq!(docs[0]["requests"], 1);
        assert_eq!(
            docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            namespace
        );
    }
}
