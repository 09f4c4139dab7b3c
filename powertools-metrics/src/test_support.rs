//! Test helpers shared with the integration tests.

#[path = "../tests/support/emf.rs"]
mod emf;

pub(crate) use emf::{check_document, schema_json};

use crate::{CaptureSink, Metrics, MetricsBuilder};

/// A builder with a namespace, a service and a fresh capture.
pub(crate) fn builder(sink: &CaptureSink) -> MetricsBuilder {
    Metrics::builder()
        .namespace("Test")
        .service("svc")
        .sink(sink.clone())
}

/// Every captured document, each checked against the schema and the in-code rules.
pub(crate) fn checked(sink: &CaptureSink) -> Vec<serde_json::Value> {
    sink.lines()
        .iter()
        .map(|l| check_document(l).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}
