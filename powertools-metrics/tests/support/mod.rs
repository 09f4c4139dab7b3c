//! Helpers for the integration tests.

#![allow(dead_code)]

pub mod emf;

use powertools_core::layer::{EventView, InvocationHook, InvocationOutcome, ResponseView};
use powertools_core::{Invocation, InvocationContext};
use powertools_metrics::{CaptureSink, Metrics, MetricsBuilder};
use serde_json::Value;

/// A builder with a namespace, a service and the capture.
pub fn builder(sink: &CaptureSink) -> MetricsBuilder {
    Metrics::builder()
        .namespace("Test")
        .service("svc")
        .sink(sink.clone())
}

/// Every captured document, each checked against the schema and the in-code rules.
pub fn checked(sink: &CaptureSink) -> Vec<Value> {
    sink.lines()
        .iter()
        .map(|l| emf::check_document(l).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Takes the captured documents, each checked.
pub fn take_checked(sink: &CaptureSink) -> Vec<Value> {
    let docs = checked(sink);
    let _ = sink.take_documents();
    docs
}

/// An invocation with a test context.
pub fn invocation(request_id: &str, cold: bool) -> Invocation {
    Invocation::new(InvocationContext::for_test(request_id, "test-fn").with_cold_start(cold))
}

/// Runs the hook's start.
pub fn start(hook: &dyn InvocationHook, invocation: &Invocation) {
    let render = || None;
    hook.on_start(invocation, &EventView::new(&render));
}

/// Runs the hook's end with a success.
pub fn end_ok(hook: &dyn InvocationHook, invocation: &Invocation) {
    let render = || None;
    hook.on_end(
        invocation,
        &InvocationOutcome::Success(&ResponseView::new(&render)),
    );
}

/// The first metric directive's dimension sets.
pub fn dimension_sets(doc: &Value) -> &Value {
    &doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
}

/// The names of the first directive's metrics.
pub fn metric_names(doc: &Value) -> Vec<String> {
    doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect()
}
