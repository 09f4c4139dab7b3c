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

// ---------------------------------------------------------------------------------------------
// Nothing accepted is lost, nothing refused is written, every document fits one CloudWatch Logs
// event: arbitrary sequences of calls across explicit flushes and invocations that end early.
// ---------------------------------------------------------------------------------------------

mod sequences {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex, PoisonError};

    use powertools_core::Invocation;
    use powertools_core::output::MAX_LINE_BYTES;
    use powertools_metrics::{CaptureSink, Metrics, MetricsError, MetricsSink, Unit};
    use proptest::prelude::*;
    use serde_json::Value;

    use super::support;

    /// Metric names: a small pool (so values of one metric accumulate and documents reach 100
    /// metrics), the longest valid name (255 characters, ASCII and two-byte), one too long, and
    /// the awkward strings of [`super::name`].
    fn metric_name() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "M[0-9]",
            2 => "N[0-9]{1,2}",
            1 => Just("L".repeat(254) + "1"),
            1 => Just("L".repeat(254) + "2"),
            1 => Just("é".repeat(255)),
            1 => Just("T".repeat(256)),
            1 => "[A-Za-z]{255}",
            2 => super::name(),
        ]
    }

    /// Dimension values: short, at CloudWatch's 1024-character limit, and over it.
    fn dimension_value() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "[a-z]{1,12}",
            1 => Just("v".repeat(1024)),
            1 => Just("w".repeat(1025)),
            2 => super::name(),
        ]
    }

    fn dimension() -> impl Strategy<Value = (String, String)> {
        (
            prop_oneof![4 => "D[0-9]", 1 => Just("d".repeat(255)), 2 => super::name()],
            dimension_value(),
        )
    }

    /// A metadata value: a short string, or `len` copies of one character (built when the
    /// operation runs, so a failing case prints its size rather than its text). `"` and U+0001
    /// take 2 and 6 bytes escaped, `é` 2 bytes unescaped: up to ~1.8 MB of JSON.
    #[derive(Debug, Clone)]
    enum MetaValue {
        Short(String),
        Repeated { len: usize, ch: char },
    }

    impl MetaValue {
        fn build(&self) -> String {
            match self {
                MetaValue::Short(s) => s.clone(),
                MetaValue::Repeated { len, ch } => std::iter::repeat_n(*ch, *len).collect(),
            }
        }
    }

    fn meta_value() -> impl Strategy<Value = MetaValue> {
        prop_oneof![
            6 => super::name().prop_map(MetaValue::Short),
            2 => (0..300_000usize, prop::sample::select(vec!['x', '"', '\u{1}', 'é']))
                .prop_map(|(len, ch)| MetaValue::Repeated { len, ch }),
            1 => (200_000..300_000usize, Just('x')).prop_map(|(len, ch)| MetaValue::Repeated { len, ch }),
        ]
    }

    /// A value of a metric: arbitrary, integral, NaN, ±∞, -0.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => super::value(),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(-0.0),
            1 => Just(f64::MAX),
            1 => Just(f64::MIN_POSITIVE),
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// One value; `high` for high resolution; `current` records through
        /// `powertools_metrics::current()` rather than the `Metrics` handle.
        Metric {
            name: String,
            unit: usize,
            value: f64,
            high: bool,
            current: bool,
        },
        /// `count` values over `distinct` names `{stem}{i}` (cycling), value `base + i`: reaches the
        /// 100-metric and 100-value limits quickly.
        Burst {
            stem: String,
            distinct: usize,
            count: usize,
            base: f64,
        },
        Dimension(String, String),
        DimensionSet(Vec<(String, String)>),
        Metadata(String, MetaValue),
        Flush,
        /// The hook's `on_end` for the current invocation, then a new invocation begins.
        EndInvocation,
        /// A value recorded through a handle bound to an invocation that has ended.
        Late(String, f64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            10 => (metric_name(), 0..Unit::ALL.len(), value(), any::<bool>(), any::<bool>())
                .prop_map(|(name, unit, value, high, current)| Op::Metric { name, unit, value, high, current }),
            1 => (prop_oneof![3 => "B[a-z]{0,3}", 1 => Just("B".repeat(252))], 1..=120usize, 1..=5_000usize, super::value())
                .prop_map(|(stem, distinct, count, base)| Op::Burst { stem, distinct, count, base }),
            3 => dimension().prop_map(|(k, v)| Op::Dimension(k, v)),
            1 => prop::collection::vec(dimension(), 0..5).prop_map(Op::DimensionSet),
            3 => (prop_oneof![3 => "K[0-9]", 1 => super::name()], meta_value()).prop_map(|(k, v)| Op::Metadata(k, v)),
            1 => Just(Op::Flush),
            1 => Just(Op::EndInvocation),
            1 => (metric_name(), value()).prop_map(|(n, v)| Op::Late(n, v)),
        ]
    }

    /// A [`CaptureSink`] that also keeps each document's bytes as written (framing, exact
    /// length).
    #[derive(Clone, Default)]
    struct Tee {
        capture: CaptureSink,
        raw: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl MetricsSink for Tee {
        fn write_document(&self, line: &[u8]) {
            self.raw
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line.to_vec());
            self.capture.write_document(line);
        }
    }

    /// A value as compared: `-0` is written `0` (an integer), so both count as `0`.
    fn key(name: &str, value: f64) -> (String, u64) {
        let value = if value == 0.0 { 0.0 } else { value };
        (name.to_owned(), value.to_bits())
    }

    type Multiset = BTreeMap<(String, u64), usize>;

    /// Every (metric, value) of a document.
    fn written(doc: &Value, into: &mut Multiset) {
        for name in support::metric_names(doc) {
            let values = match &doc[&name] {
                Value::Array(values) => values.clone(),
                one => vec![one.clone()],
            };
            for v in values {
                // serde_json parses floats exactly here (`float_roundtrip`, a dev-dependency
                // feature), so the written value is the recorded one bit for bit.
                let v = v.as_f64().expect("a metric value is a number");
                *into.entry(key(&name, v)).or_default() += 1;
            }
        }
    }

    struct Run {
        metrics: Metrics,
        hook: powertools_metrics::MetricsHook,
        invocation: Invocation,
        ended: Option<Invocation>,
        invocations: usize,
        accepted: Multiset,
    }

    impl Run {
        fn next_invocation(&mut self) {
            self.invocations += 1;
            let id = format!("req-{}", self.invocations);
            self.invocation = support::invocation(&id, false);
            support::start(&self.hook, &self.invocation);
        }

        fn end_invocation(&mut self) {
            support::end_ok(&self.hook, &self.invocation);
            self.ended = Some(self.invocation.clone());
        }

        fn record(
            &mut self,
            name: &str,
            unit: Unit,
            value: f64,
            high: bool,
            current: bool,
        ) -> Result<(), MetricsError> {
            let metrics = if current {
                powertools_metrics::current()
            } else {
                self.metrics.clone()
            };
            let result = self.invocation.clone().sync_scope(|| {
                if high {
                    metrics.add_high_resolution_metric(name, unit, value)
                } else {
                    metrics.add_metric(name, unit, value)
                }
            });
            if result.is_ok() {
                *self.accepted.entry(key(name, value)).or_default() += 1;
            }
            result
        }

        /// Runs one operation; the errors it met, each checked against what the operation was.
        fn apply(&mut self, op: &Op) -> Result<Vec<MetricsError>, TestCaseError> {
            let mut errors = Vec::new();
            match op {
                Op::Metric {
                    name,
                    unit,
                    value,
                    high,
                    current,
                } => {
                    if let Err(e) = self.record(name, Unit::ALL[*unit], *value, *high, *current) {
                        if !value.is_finite() {
                            prop_assert!(matches!(e, MetricsError::NonFiniteValue { .. }), "{e:?}");
                        }
                        if name.chars().count() > 255 || name.is_empty() {
                            prop_assert!(
                                matches!(
                                    e,
                                    MetricsError::InvalidName { .. }
                                        | MetricsError::NonFiniteValue { .. }
                                ),
                                "{e:?}"
                            );
                        }
                        errors.push(e);
                    } else {
                        prop_assert!(value.is_finite(), "{value} accepted");
                        prop_assert!(
                            (1..=255).contains(&name.chars().count()),
                            "{name:?} accepted"
                        );
                    }
                }
                Op::Burst {
                    stem,
                    distinct,
                    count,
                    base,
                } => {
                    for i in 0..*count {
                        let name = format!("{stem}{}", i % distinct);
                        if let Err(e) =
                            self.record(&name, Unit::Count, base + i as f64, false, false)
                        {
                            errors.push(e);
                        }
                    }
                }
                Op::Dimension(k, v) => {
                    let r = self
                        .invocation
                        .clone()
                        .sync_scope(|| self.metrics.add_dimension(k, v));
                    errors.extend(r.err());
                }
                Op::DimensionSet(set) => {
                    let r = self
                        .invocation
                        .clone()
                        .sync_scope(|| self.metrics.add_dimension_set(set));
                    errors.extend(r.err());
                }
                Op::Metadata(k, v) => {
                    let v = v.build();
                    let r = self
                        .invocation
                        .clone()
                        .sync_scope(|| self.metrics.add_metadata(k, &v));
                    errors.extend(r.err());
                }
                Op::Flush => {
                    let r = self.invocation.clone().sync_scope(|| self.metrics.flush());
                    errors.extend(r.err());
                }
                Op::EndInvocation => {
                    self.end_invocation();
                    self.next_invocation();
                }
                Op::Late(name, value) => {
                    if let Some(ended) = &self.ended {
                        let r = self
                            .metrics
                            .bind(ended)
                            .add_metric(name, Unit::Count, *value);
                        prop_assert!(
                            matches!(r, Err(MetricsError::InvocationEnded { .. })),
                            "recording into an ended invocation: {r:?}"
                        );
                        errors.extend(r.err());
                    }
                }
            }
            for e in &errors {
                // Typed, with a message, and never "no invocation": one is always in scope.
                prop_assert!(!e.to_string().is_empty());
                prop_assert!(!matches!(e, MetricsError::NoInvocation), "{e:?} in scope");
            }
            Ok(errors)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// (a) The (metric, value) pairs written across all documents are exactly the accepted
        /// ones, each once; refused values never appear. (b) Every document is one line of at
        /// most `MAX_LINE_BYTES` bytes (newline excluded), JSON valid against the EMF schema.
        /// (c) Every refusal is a typed `MetricsError` fitting the call.
        #[test]
        fn accepted_values_are_written_once_in_documents_that_fit(ops in prop::collection::vec(op(), 1..40)) {
            let sink = Tee::default();
            let metrics = Metrics::builder()
                .namespace("Test")
                .service("svc")
                .default_dimension("env", "prod")
                .warn_on_empty_metrics(false)
                .sink(sink.clone())
                .build()
                .unwrap();
            let hook = metrics.invocation_hook();
            let mut run = Run {
                invocation: support::invocation("req-0", false),
                metrics,
                hook,
                ended: None,
                invocations: 0,
                accepted: Multiset::new(),
            };
            support::start(&run.hook, &run.invocation);
            for op in &ops {
                run.apply(op)?;
            }
            run.end_invocation();
            let Run { metrics, accepted, .. } = run;
            drop(metrics);

            let raw = sink.raw.lock().unwrap_or_else(PoisonError::into_inner).clone();
            prop_assert_eq!(raw.len(), sink.capture.len());
            let mut written_values = Multiset::new();
            for line in &raw {
                let text = std::str::from_utf8(line);
                prop_assert!(text.is_ok(), "a document is not UTF-8");
                let body = line.strip_suffix(b"\n");
                prop_assert!(body.is_some(), "a document does not end with its newline");
                let body = body.unwrap();
                prop_assert!(!body.contains(&b'\n'), "a document spans several lines");
                prop_assert!(
                    body.len() <= MAX_LINE_BYTES,
                    "a document of {} bytes (at most {} fit one CloudWatch Logs event)",
                    body.len(),
                    MAX_LINE_BYTES
                );
                let doc = support::emf::check_document(text.unwrap());
                prop_assert!(doc.is_ok(), "{}", doc.unwrap_err().chars().take(2_000).collect::<String>());
                written(&doc.unwrap(), &mut written_values);
            }
            let missing: Vec<_> = accepted.iter().filter(|(k, n)| written_values.get(*k) != Some(n)).map(|((name, v), n)| (name.chars().take(40).collect::<String>(), f64::from_bits(*v), *n, written_values.get(&(name.clone(), *v)).copied().unwrap_or(0))).take(10).collect();
            let extra: Vec<_> = written_values.iter().filter(|(k, _)| !accepted.contains_key(*k)).map(|((name, v), n)| (name.chars().take(40).collect::<String>(), f64::from_bits(*v), *n)).take(10).collect();
            prop_assert!(
                missing.is_empty() && extra.is_empty(),
                "accepted but not written once (name, value, accepted, written): {:?}; written but never accepted: {:?}",
                missing,
                extra
            );
        }
    }
}
