//! Arbitrary names, values and dimension strings give schema-valid documents or a typed error,
//! never a panic or an invalid document.

mod support;

use powertools_metrics::{CaptureSink, MetricsError, Unit};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9_.]{0,20}",
        "\\PC{0,40}",
        ".{0,300}",
        Just(String::new()),
        Just("_aws".to_owned()),
        Just("service".to_owned()),
        "[ \t\n\"\\\\:]{0,5}",
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        -1e6..1e6f64,
        Just(f64::NAN),
        Just(f64::INFINITY),
        (0..1000i32).prop_map(f64::from),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Metric(String, usize, f64, bool),
    Dimension(String, String),
    DimensionSet(Vec<(String, String)>),
    Metadata(String, String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (name(), 0..Unit::ALL.len(), value(), any::<bool>()).prop_map(|(n, u, v, h)| Op::Metric(n, u, v, h)),
        2 => (name(), name()).prop_map(|(k, v)| Op::Dimension(k, v)),
        1 => proptest::collection::vec((name(), name()), 0..4).prop_map(Op::DimensionSet),
        1 => (name(), name()).prop_map(|(k, v)| Op::Metadata(k, v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn documents_are_valid_or_errors_typed(ops in proptest::collection::vec(op(), 1..60)) {
        let sink = CaptureSink::new();
        let metrics = support::builder(&sink).default_dimension("env", "prod").warn_on_empty_metrics(false).build().unwrap();
        let mut accepted_values = 0usize;
        for op in &ops {
            let result: Result<(), MetricsError> = match op {
                Op::Metric(n, u, v, high) => if *high {
                    metrics.add_high_resolution_metric(n, Unit::ALL[*u], *v)
                } else {
                    metrics.add_metric(n, Unit::ALL[*u], *v)
                },
                Op::Dimension(k, v) => metrics.add_dimension(k, v),
                Op::DimensionSet(set) => metrics.add_dimension_set(set),
                Op::Metadata(k, v) => metrics.add_metadata(k, v),
            };
            match result {
                Ok(()) => if matches!(op, Op::Metric(..)) { accepted_values += 1 },
                // Every error is typed and has a message.
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
        let _ = metrics.flush();
        // Checks every document against the schema and the in-code rules.
        let docs = support::checked(&sink);
        // Accepted values are never dropped: each appears once.
        {
            let written: usize = docs.iter().map(|d| {
                support::metric_names(d).iter().map(|n| match &d[n.as_str()] {
                    serde_json::Value::Array(a) => a.len(),
                    _ => 1,
                }).sum::<usize>()
            }).sum();
            prop_assert_eq!(written, accepted_values);
        }
    }
}
