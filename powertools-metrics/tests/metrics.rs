//! The `Metrics` handle, its builder and its invocation hook.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use powertools_core::PowertoolsConfig;
use powertools_core::layer::{ErrorReport, InvocationHook, InvocationOutcome, PanicReport};
use powertools_metrics::{CaptureSink, KeyKind, Metrics, MetricsError, Resolution, Unit};
use serde_json::json;
use support::{
    builder, checked, dimension_sets, end_ok, invocation, metric_names, start, take_checked,
};

fn env(vars: &[(&str, &str)]) -> PowertoolsConfig {
    PowertoolsConfig::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .0
}

#[test]
fn namespace_is_required_at_build() {
    let err = Metrics::builder()
        .environment(&env(&[]))
        .build()
        .unwrap_err();
    assert_eq!(err, MetricsError::MissingNamespace);
    assert!(err.to_string().contains("POWERTOOLS_METRICS_NAMESPACE"));
}

#[test]
fn the_environment_supplies_the_defaults() {
    let sink = CaptureSink::new();
    let metrics = Metrics::builder()
        .environment(&env(&[
            ("POWERTOOLS_METRICS_NAMESPACE", "FromEnv"),
            ("POWERTOOLS_SERVICE_NAME", "payment"),
        ]))
        .sink(sink.clone())
        .build()
        .unwrap();
    assert_eq!(
        (metrics.namespace(), metrics.service()),
        ("FromEnv", "payment")
    );
    let metrics = Metrics::builder()
        .environment(&env(&[("POWERTOOLS_METRICS_NAMESPACE", "FromEnv")]))
        .namespace("FromCode")
        .build()
        .unwrap();
    assert_eq!(metrics.namespace(), "FromCode", "code wins");
    assert_eq!(metrics.service(), "service_undefined");
}

#[test]
fn bad_configuration_is_a_typed_error() {
    let bad = |b: powertools_metrics::MetricsBuilder| b.environment(&env(&[])).build().unwrap_err();
    assert!(matches!(
        bad(Metrics::builder().namespace("bad*ns")),
        MetricsError::InvalidName {
            kind: KeyKind::Namespace,
            ..
        }
    ));
    assert!(matches!(
        bad(Metrics::builder().namespace("Ns").service("")),
        MetricsError::InvalidName {
            kind: KeyKind::DimensionValue,
            ..
        }
    ));
    assert!(matches!(
        bad(Metrics::builder()
            .namespace("Ns")
            .default_dimension("", "v")),
        MetricsError::InvalidName {
            kind: KeyKind::Dimension,
            ..
        }
    ));
    let many: Vec<(String, String)> = (0..29).map(|i| (format!("d{i}"), "v".into())).collect();
    assert_eq!(
        bad(Metrics::builder()
            .namespace("Ns")
            .capture_cold_start_metric(true)
            .default_dimensions(many.clone())),
        MetricsError::TooManyDimensions { count: 31, max: 30 },
        "29 defaults + service + function_name of ColdStart"
    );
    assert!(
        Metrics::builder()
            .namespace("Ns")
            .default_dimensions(many)
            .capture_cold_start_metric(false)
            .build()
            .is_ok()
    );
}

#[test]
fn outside_an_invocation_metrics_go_to_the_process_document() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink)
        .default_dimension("env", "prod")
        .build()
        .unwrap();
    metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
    metrics
        .add_high_resolution_metric("Latency", Unit::Milliseconds, 12.5)
        .unwrap();
    metrics
        .add_metric_with_resolution("Latency", Unit::Milliseconds, 13.0, Resolution::High)
        .unwrap();
    metrics.add_dimension("route", "/book").unwrap();
    metrics
        .add_metadata("request", json!({"id": 7, "tags": ["a"]}))
        .unwrap();
    assert!(sink.is_empty(), "nothing written before the flush");
    metrics.flush().unwrap();
    let docs = checked(&sink);
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(dimension_sets(doc), &json!([["route", "env", "service"]]));
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        json!([
            {"Name": "Orders", "Unit": "Count"},
            {"Name": "Latency", "Unit": "Milliseconds", "StorageResolution": 1}
        ])
    );
    assert_eq!(doc["Orders"], 1);
    assert_eq!(doc["Latency"], json!([12.5, 13]));
    assert_eq!(
        (&doc["env"], &doc["service"], &doc["route"]),
        (&json!("prod"), &json!("svc"), &json!("/book"))
    );
    assert_eq!(doc["request"], json!({"id": 7, "tags": ["a"]}));
    let ts = doc["_aws"]["Timestamp"].as_u64().unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(ts <= now && now - ts < 60_000);

    // The flush cleared everything, dimensions and metadata included.
    metrics.add_metric("Orders", Unit::Count, 2.0).unwrap();
    metrics.flush().unwrap();
    let doc = &checked(&sink)[1];
    assert!(doc.get("route").is_none() && doc.get("request").is_none());
    assert_eq!(doc["Orders"], 2);
}

#[test]
fn recording_errors_are_typed_and_record_nothing() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    assert!(matches!(
        metrics.add_metric("M", Unit::Count, f64::NAN),
        Err(MetricsError::NonFiniteValue { .. })
    ));
    assert!(matches!(
        metrics.add_metric("", Unit::Count, 1.0),
        Err(MetricsError::InvalidName {
            kind: KeyKind::Metric,
            ..
        })
    ));
    assert!(matches!(
        metrics.add_metric(&"x".repeat(256), Unit::Count, 1.0),
        Err(MetricsError::InvalidName { .. })
    ));
    assert_eq!(
        metrics.add_metric("service", Unit::Count, 1.0),
        Err(MetricsError::KeyCollision {
            key: "service".into(),
            existing: KeyKind::Dimension,
            new: KeyKind::Metric
        })
    );
    assert_eq!(
        "Fathoms".parse::<Unit>(),
        Err(MetricsError::UnknownUnit("Fathoms".into()))
    );
    assert!(matches!(
        metrics.add_metadata("m", MapWithNonStringKeys),
        Err(MetricsError::Metadata { .. })
    ));
    assert_eq!(
        metrics.set_timestamp(SystemTime::UNIX_EPOCH - Duration::from_secs(1)),
        Err(MetricsError::TimestampBeforeEpoch)
    );
    let metrics = builder(&sink).raise_on_empty_metrics(true).build().unwrap();
    assert_eq!(
        metrics.flush(),
        Err(MetricsError::NoMetrics),
        "the failed calls recorded nothing"
    );
}

struct MapWithNonStringKeys;
impl serde::Serialize for MapWithNonStringKeys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(&vec![1], &1)?;
        m.end()
    }
}

#[test]
fn a_full_document_is_written_and_the_next_one_begun() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    metrics.add_dimension("route", "/a").unwrap();
    metrics.add_metadata("trace", "t-1").unwrap();
    for i in 0..250 {
        metrics
            .add_metric(&format!("m{i}"), Unit::Count, f64::from(i))
            .unwrap();
    }
    assert_eq!(sink.len(), 2, "written at the 100th and the 200th metric");
    metrics.flush().unwrap();
    let docs = checked(&sink);
    assert_eq!(docs.len(), 3);
    let counts: Vec<usize> = docs.iter().map(|d| metric_names(d).len()).collect();
    assert_eq!(counts, [100, 100, 50], "nothing lost");
    for doc in &docs {
        assert_eq!(doc["route"], "/a", "dimensions kept across the split");
        assert_eq!(doc["trace"], "t-1", "metadata kept across the split");
    }

    for i in 0..250 {
        metrics
            .add_metric("Values", Unit::Count, f64::from(i))
            .unwrap();
    }
    metrics.flush().unwrap();
    let docs = checked(&sink);
    let values: Vec<f64> = docs[3..]
        .iter()
        .flat_map(|d| {
            d["Values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(docs.len(), 6);
    assert_eq!(values, (0..250).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn metrics_in_an_invocation_are_flushed_by_the_hook() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink)
        .capture_cold_start_metric(false)
        .build()
        .unwrap();
    let hook = metrics.invocation_hook();
    let inv = invocation("req-1", false);
    start(&hook, &inv);
    inv.clone().sync_scope(|| {
        metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
        metrics.add_dimension("route", "/a").unwrap();
    });
    // Outside the scope the process-level document is used, not the invocation's.
    metrics.add_metric("AtInit", Unit::Count, 1.0).unwrap();
    assert!(sink.is_empty());
    end_ok(&hook, &inv);
    let docs = checked(&sink);
    assert_eq!(
        docs.len(),
        2,
        "the invocation's document, then the process-level one"
    );
    assert_eq!(docs[0]["Orders"], 1);
    assert_eq!(docs[0]["route"], "/a");
    assert!(docs[0].get("AtInit").is_none());
    assert_eq!(docs[1]["AtInit"], 1);
    assert!(docs[1].get("route").is_none());

    // The state went with the invocation: a second one starts clean.
    let inv2 = invocation("req-2", false);
    inv2.clone()
        .sync_scope(|| metrics.add_metric("Orders", Unit::Count, 5.0).unwrap());
    end_ok(&hook, &inv2);
    let docs = checked(&sink);
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[2]["Orders"], 5);
    assert!(docs[2].get("route").is_none());
}

/// Invocations one after another reuse the documents of earlier ones: each document still carries
/// exactly its own invocation's metrics, units, dimensions and values.
#[test]
fn successive_invocations_each_write_exactly_their_own_metrics() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink)
        .capture_cold_start_metric(false)
        .build()
        .unwrap();
    let hook = metrics.invocation_hook();
    let rounds: [&[(&str, Unit, Resolution, f64)]; 5] = [
        &[
            ("Orders", Unit::Count, Resolution::Standard, 1.0),
            ("Latency", Unit::Milliseconds, Resolution::Standard, 12.5),
        ],
        &[
            ("Orders", Unit::Count, Resolution::Standard, 2.0),
            ("Latency", Unit::Milliseconds, Resolution::Standard, 3.0),
            ("Orders", Unit::Count, Resolution::Standard, 4.0),
        ],
        &[
            ("Orders", Unit::Count, Resolution::Standard, 1.0),
            ("Refunds", Unit::Count, Resolution::High, 1.0),
        ],
        &[("Orders", Unit::Seconds, Resolution::Standard, 0.25)],
        &[
            ("Orders", Unit::Seconds, Resolution::Standard, 0.5),
            ("Latency", Unit::Milliseconds, Resolution::Standard, 3.0),
            ("Bytes", Unit::Bytes, Resolution::Standard, 1024.0),
        ],
    ];
    for (n, records) in rounds.iter().enumerate() {
        let inv = invocation(&format!("req-{n}"), false);
        inv.clone().sync_scope(|| {
            if n == 1 {
                metrics.add_dimension("route", "/b").unwrap();
            }
            for &(name, unit, resolution, value) in *records {
                metrics
                    .add_metric_with_resolution(name, unit, value, resolution)
                    .unwrap();
            }
        });
        end_ok(&hook, &inv);
        let docs = take_checked(&sink);
        assert_eq!(docs.len(), 1, "round {n}");
        let doc = &docs[0];
        let mut definitions = Vec::new();
        for &(name, unit, resolution, _) in *records {
            let definition = match resolution {
                Resolution::High => {
                    json!({"Name": name, "Unit": unit.as_str(), "StorageResolution": 1})
                }
                Resolution::Standard => json!({"Name": name, "Unit": unit.as_str()}),
            };
            if !definitions.contains(&definition) {
                definitions.push(definition);
            }
            let values: Vec<f64> = records
                .iter()
                .filter(|r| r.0 == name)
                .map(|r| r.3)
                .collect();
            assert_eq!(as_f64s(&doc[name]), values, "round {n}: {name}");
            assert_eq!(doc[name].is_array(), values.len() > 1, "round {n}: {name}");
        }
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!(definitions),
            "round {n}"
        );
        let members = doc.as_object().unwrap().len();
        let dimensions = if n == 1 { 2 } else { 1 }; // `service`, and `route` in round 1
        assert_eq!(
            members,
            1 + dimensions + definitions.len(),
            "round {n}: {doc}"
        );
        assert_eq!(doc.get("route").is_some(), n == 1, "round {n}");
    }
}

fn as_f64s(value: &serde_json::Value) -> Vec<f64> {
    match value {
        serde_json::Value::Array(values) => values
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect(),
        other => other.as_f64().into_iter().collect(),
    }
}

#[test]
fn flushed_on_error_and_panic_too() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    let hook = metrics.invocation_hook();
    let report = ErrorReport {
        message: "x".into(),
        type_name: "E".into(),
        sources: vec![],
        location: None,
    };
    let panic = PanicReport {
        message: "boom".into(),
        location: None,
    };
    for outcome in [
        InvocationOutcome::Error(&report),
        InvocationOutcome::Panic(&panic),
    ] {
        let inv = invocation("req", false);
        inv.clone()
            .sync_scope(|| metrics.add_metric("Attempts", Unit::Count, 1.0).unwrap());
        hook.on_end(&inv, &outcome);
    }
    let docs = checked(&sink);
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["Attempts"] == 1));
}

#[test]
fn cold_start_is_a_separate_document_with_its_dimensions() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink)
        .default_dimension("env", "prod")
        .capture_cold_start_metric(true)
        .build()
        .unwrap();
    let hook = metrics.invocation_hook();
    let inv = invocation("req-1", true);
    start(&hook, &inv);
    let docs = checked(&sink);
    assert_eq!(
        docs.len(),
        1,
        "written before the handler runs, success or failure"
    );
    let doc = &docs[0];
    assert_eq!(metric_names(doc), ["ColdStart"]);
    assert_eq!(doc["ColdStart"], 1);
    assert_eq!(
        dimension_sets(doc),
        &json!([["function_name", "service", "env"]])
    );
    assert_eq!(
        (&doc["function_name"], &doc["service"], &doc["env"]),
        (&json!("test-fn"), &json!("svc"), &json!("prod"))
    );
    end_ok(&hook, &inv);

    // Warm: nothing.
    let warm = invocation("req-2", false);
    start(&hook, &warm);
    end_ok(&hook, &warm);
    assert_eq!(checked(&sink).len(), 1);

    // Overridden function name, from code or the environment.
    for m in [
        builder(&sink)
            .capture_cold_start_metric(true)
            .function_name("from-code")
            .build()
            .unwrap(),
        builder(&sink)
            .capture_cold_start_metric(true)
            .environment(&env(&[("POWERTOOLS_METRICS_FUNCTION_NAME", "from-env")]))
            .build()
            .unwrap(),
    ] {
        let inv = invocation("req-3", true);
        start(&m.invocation_hook(), &inv);
    }
    let docs = checked(&sink);
    assert_eq!(docs[1]["function_name"], "from-code");
    assert_eq!(docs[2]["function_name"], "from-env");

    // Off by default, and turned off.
    let off = builder(&sink).build().unwrap();
    start(&off.invocation_hook(), &invocation("req-4", true));
    let off = builder(&sink)
        .capture_cold_start_metric(false)
        .build()
        .unwrap();
    start(&off.invocation_hook(), &invocation("req-4", true));
    assert_eq!(sink.len(), 3);
}

#[test]
fn raise_on_empty_reports_through_on_error() {
    let sink = CaptureSink::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    let metrics = builder(&sink)
        .raise_on_empty_metrics(true)
        .on_error(move |e| seen2.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let hook = metrics.invocation_hook();
    let inv = invocation("req-1", false);
    end_ok(&hook, &inv);
    assert_eq!(*seen.lock().unwrap(), [MetricsError::NoMetrics]);

    // An invocation that flushed by hand is not empty.
    let inv = invocation("req-2", false);
    inv.clone().sync_scope(|| {
        metrics.add_metric("M", Unit::Count, 1.0).unwrap();
        metrics.flush().unwrap();
    });
    end_ok(&hook, &inv);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(checked(&sink).len(), 1);
}

#[test]
fn disabled_writes_nothing_but_still_checks() {
    let sink = CaptureSink::new();
    for metrics in [
        builder(&sink)
            .disabled(true)
            .raise_on_empty_metrics(true)
            .build()
            .unwrap(),
        builder(&sink)
            .environment(&env(&[("POWERTOOLS_METRICS_DISABLED", "true")]))
            .build()
            .unwrap(),
    ] {
        assert!(metrics.is_disabled());
        let hook = metrics.invocation_hook();
        let inv = invocation("req-1", true);
        start(&hook, &inv);
        inv.clone().sync_scope(|| {
            for i in 0..150 {
                metrics
                    .add_metric(&format!("m{i}"), Unit::Count, 1.0)
                    .unwrap();
            }
            assert!(metrics.add_metric("x", Unit::Count, f64::INFINITY).is_err());
        });
        end_ok(&hook, &inv);
        metrics.single_metric("S", Unit::Count, 1.0).emit().unwrap();
        assert_eq!(metrics.flush(), Ok(()), "no NoMetrics error when disabled");
    }
    assert!(sink.is_empty());
}

#[test]
fn single_metric_is_its_own_document() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink)
        .default_dimension("env", "prod")
        .build()
        .unwrap();
    let inv = invocation("req-1", false);
    inv.clone().sync_scope(|| {
        metrics.add_dimension("route", "/a").unwrap();
        metrics
            .single_metric("Refund", Unit::Count, 1.0)
            .dimension("payment", "card")
            .metadata("order", 42)
            .resolution(Resolution::High)
            .emit()
            .unwrap();
    });
    let docs = checked(&sink);
    assert_eq!(docs.len(), 1, "written at once");
    let doc = &docs[0];
    assert_eq!(dimension_sets(doc), &json!([["payment", "env", "service"]]));
    assert!(
        doc.get("route").is_none(),
        "not the invocation's dimensions"
    );
    assert_eq!(doc["order"], 42);
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"],
        1
    );

    metrics
        .single_metric("Bare", Unit::Seconds, 0.5)
        .without_default_dimensions()
        .timestamp(SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_503_914_507))
        .emit()
        .unwrap();
    let many = (1..=150).fold(metrics.single_metric("Many", Unit::Count, 0.0), |s, i| {
        s.value(f64::from(i))
    });
    many.emit().unwrap();
    let docs = checked(&sink);
    assert_eq!(dimension_sets(&docs[1]), &json!([[]]));
    assert_eq!(docs[1]["_aws"]["Timestamp"], 1_795_503_914_507_u64);
    assert_eq!(docs.len(), 4, "151 values: two documents");
    assert_eq!(docs[2]["Many"].as_array().unwrap().len(), 100);
    assert_eq!(docs[3]["Many"].as_array().unwrap().len(), 51);

    let err = metrics
        .single_metric("Bad", Unit::Count, f64::NAN)
        .dimension("k", "v")
        .emit();
    assert!(matches!(err, Err(MetricsError::NonFiniteValue { .. })));
    let err = metrics.single_metric("env", Unit::Count, 1.0).emit();
    assert!(matches!(err, Err(MetricsError::KeyCollision { .. })));
    assert_eq!(checked(&sink).len(), 4, "an error writes nothing");
}

#[test]
fn explicit_timestamp_is_used() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    let t = SystemTime::now() - Duration::from_secs(3600);
    metrics.set_timestamp(t).unwrap();
    metrics.add_metric("M", Unit::Count, 1.0).unwrap();
    metrics.flush().unwrap();
    let expected = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert_eq!(checked(&sink)[0]["_aws"]["Timestamp"], expected);
}

#[test]
fn a_timestamp_at_the_end_of_time_is_kept_without_a_panic() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    // The latest time the platform represents: checking it against "now + 14 days" must not
    // overflow.
    let end = SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64);
    metrics.set_timestamp(end).unwrap();
    metrics.add_metric("M", Unit::Count, 1.0).unwrap();
    metrics.flush().unwrap();
    assert_eq!(
        checked(&sink)[0]["_aws"]["Timestamp"],
        u64::MAX,
        "saturated"
    );
}

#[test]
fn several_metrics_instances_keep_separate_documents() {
    let sink = CaptureSink::new();
    let a = builder(&sink).namespace("A").build().unwrap();
    let b = builder(&sink).namespace("B").build().unwrap();
    let inv = invocation("req-1", false);
    inv.clone().sync_scope(|| {
        a.add_metric("Same", Unit::Count, 1.0).unwrap();
        b.add_metric("Same", Unit::Seconds, 2.0).unwrap();
    });
    end_ok(&a.invocation_hook(), &inv);
    end_ok(&b.invocation_hook(), &inv);
    let docs = checked(&sink);
    let ns: Vec<&str> = docs
        .iter()
        .map(|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(ns, ["A", "B"]);
    assert_eq!((&docs[0]["Same"], &docs[1]["Same"]), (&json!(1), &json!(2)));
}

#[test]
fn every_unit_is_accepted() {
    let sink = CaptureSink::new();
    let metrics = builder(&sink).build().unwrap();
    for (i, unit) in Unit::ALL.iter().enumerate() {
        metrics.add_metric(&format!("m{i}"), *unit, 1.0).unwrap();
    }
    metrics.flush().unwrap();
    let doc = &checked(&sink)[0];
    let units: Vec<&str> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Unit"].as_str().unwrap())
        .collect();
    assert_eq!(
        units,
        Unit::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>()
    );
}
