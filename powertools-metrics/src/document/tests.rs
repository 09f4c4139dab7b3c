use super::*;
use crate::test_support::check_document;

fn base() -> Base {
    Base::new(
        "Test".into(),
        vec![
            ("env".into(), "prod".into()),
            ("service".into(), "svc".into()),
        ],
    )
}

fn render(doc: &mut Document, base: &Base) -> serde_json::Value {
    let line = String::from_utf8(doc.render(base, 1_795_503_914_507).to_vec()).unwrap();
    assert!(line.ends_with('\n'));
    check_document(&line).unwrap_or_else(|e| panic!("{e}"))
}

fn add(doc: &mut Document, base: &Base, name: &str, value: f64) -> Result<Fill, MetricsError> {
    doc.record(
        base,
        name,
        Unit::Count,
        Resolution::Standard,
        value,
        Merge::Append,
    )
}

#[test]
fn one_value_is_a_scalar_several_an_array() {
    let b = base();
    let mut d = Document::default();
    assert_eq!(add(&mut d, &b, "One", 1.0), Ok(Fill::Open));
    add(&mut d, &b, "Two", 1.5).unwrap();
    add(&mut d, &b, "Two", 2.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["One"], serde_json::json!(1));
    assert_eq!(v["Two"], serde_json::json!([1.5, 2]));
    assert_eq!(v["_aws"]["Timestamp"], 1_795_503_914_507_u64);
    assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Test");
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        serde_json::json!([{"Name":"One","Unit":"Count"},{"Name":"Two","Unit":"Count"}])
    );
}

#[test]
fn exact_bytes_of_a_small_document() {
    let b = base();
    let mut d = Document::default();
    d.add_dimension(&b, "route", "/book").unwrap();
    d.add_metadata(&b, "id", "\"a\\\"b\"".into()).unwrap();
    d.record(
        &b,
        "Lat",
        Unit::Milliseconds,
        Resolution::High,
        12.5,
        Merge::Append,
    )
    .unwrap();
    let line = String::from_utf8(d.render(&b, 7).to_vec()).unwrap();
    assert_eq!(
        line,
        "{\"_aws\":{\"Timestamp\":7,\"CloudWatchMetrics\":[{\"Namespace\":\"Test\",\
         \"Dimensions\":[[\"route\",\"env\",\"service\"]],\"Metrics\":[{\"Name\":\"Lat\",\
         \"Unit\":\"Milliseconds\",\"StorageResolution\":1}]}]},\"route\":\"/book\",\
         \"env\":\"prod\",\"service\":\"svc\",\"id\":\"a\\\"b\",\"Lat\":12.5}\n"
    );
}

#[test]
fn standard_resolution_is_omitted() {
    let b = base();
    let mut d = Document::default();
    add(&mut d, &b, "M", 1.0).unwrap();
    let v = render(&mut d, &b);
    assert!(
        v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]
            .get("StorageResolution")
            .is_none()
    );
}

#[test]
fn full_at_the_hundredth_metric_and_the_hundredth_value() {
    let b = base();
    let mut d = Document::default();
    for i in 0..99 {
        assert_eq!(add(&mut d, &b, &format!("m{i}"), 1.0), Ok(Fill::Open));
    }
    assert_eq!(add(&mut d, &b, "m99", 1.0), Ok(Fill::Full));
    let v = render(&mut d, &b);
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .len(),
        100
    );

    let mut d = Document::default();
    for _ in 0..99 {
        assert_eq!(add(&mut d, &b, "v", 1.0), Ok(Fill::Open));
    }
    assert_eq!(add(&mut d, &b, "v", 1.0), Ok(Fill::Full));
    let v = render(&mut d, &b);
    assert_eq!(v["v"].as_array().unwrap().len(), 100);
}

#[test]
fn non_finite_values_are_rejected() {
    let b = base();
    let mut d = Document::default();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(
            add(&mut d, &b, "M", bad),
            Err(MetricsError::NonFiniteValue { .. })
        ));
    }
    assert!(!d.has_metrics() && !d.recorded());
}

#[test]
fn unit_or_resolution_change_is_a_conflict() {
    let b = base();
    let mut d = Document::default();
    add(&mut d, &b, "M", 1.0).unwrap();
    assert!(matches!(
        d.record(
            &b,
            "M",
            Unit::Seconds,
            Resolution::Standard,
            1.0,
            Merge::Append
        ),
        Err(MetricsError::ConflictingDefinition { .. })
    ));
    assert!(matches!(
        d.record(&b, "M", Unit::Count, Resolution::High, 1.0, Merge::Append),
        Err(MetricsError::ConflictingDefinition { .. })
    ));
}

fn collision<T: std::fmt::Debug>(r: Result<T, MetricsError>, existing: KeyKind, new: KeyKind) {
    match r {
        Err(MetricsError::KeyCollision {
            existing: e,
            new: n,
            ..
        }) => assert_eq!((e, n), (existing, new)),
        other => panic!("expected a collision, got {other:?}"),
    }
}

#[test]
fn keys_never_collide() {
    let b = base();
    let mut d = Document::default();
    add(&mut d, &b, "Orders", 1.0).unwrap();
    d.add_dimension(&b, "route", "/a").unwrap();
    d.add_metadata(&b, "trace", "1".into()).unwrap();
    collision(
        add(&mut d, &b, "route", 1.0),
        KeyKind::Dimension,
        KeyKind::Metric,
    );
    collision(
        add(&mut d, &b, "env", 1.0),
        KeyKind::Dimension,
        KeyKind::Metric,
    );
    collision(
        add(&mut d, &b, "service", 1.0),
        KeyKind::Dimension,
        KeyKind::Metric,
    );
    collision(
        add(&mut d, &b, "trace", 1.0),
        KeyKind::Metadata,
        KeyKind::Metric,
    );
    collision(
        d.add_dimension(&b, "Orders", "x"),
        KeyKind::Metric,
        KeyKind::Dimension,
    );
    collision(
        d.add_dimension(&b, "trace", "x"),
        KeyKind::Metadata,
        KeyKind::Dimension,
    );
    collision(
        d.add_dimension_set(&b, &[("Orders", "x")]),
        KeyKind::Metric,
        KeyKind::Dimension,
    );
    collision(
        d.add_metadata(&b, "Orders", "1".into()),
        KeyKind::Metric,
        KeyKind::Metadata,
    );
    collision(
        d.add_metadata(&b, "route", "1".into()),
        KeyKind::Dimension,
        KeyKind::Metadata,
    );
    collision(
        d.add_metadata(&b, "env", "1".into()),
        KeyKind::Dimension,
        KeyKind::Metadata,
    );
    for reserved in [
        add(&mut d, &b, "_aws", 1.0).map(|_| ()),
        d.add_dimension(&b, "_aws", "x"),
        d.add_metadata(&b, "_aws", "1".into()),
    ] {
        assert!(matches!(reserved, Err(MetricsError::InvalidName { .. })));
    }
    render(&mut d, &b);
}

#[test]
fn dimension_sets_share_root_values() {
    let b = base();
    let mut d = Document::default();
    d.add_dimension(&b, "route", "/a").unwrap();
    d.add_dimension_set(&b, &[("region", "eu"), ("route", "/a")])
        .unwrap();
    d.add_dimension_set(&b, &[("tier", "gold")]).unwrap();
    assert!(matches!(
        d.add_dimension_set(&b, &[("region", "us")]),
        Err(MetricsError::DimensionConflict { .. })
    ));
    assert!(matches!(
        d.add_dimension_set(&b, &[("env", "dev")]),
        Err(MetricsError::DimensionConflict { .. })
    ));
    assert!(matches!(
        d.add_dimension(&b, "region", "us"),
        Err(MetricsError::DimensionConflict { .. })
    ));
    d.add_dimension(&b, "route", "/a").unwrap();
    add(&mut d, &b, "M", 1.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([
            ["route", "env", "service"],
            ["region", "route", "env", "service"],
            ["tier", "env", "service"]
        ])
    );
    assert_eq!(v["region"], "eu");
    assert_eq!(v["tier"], "gold");
}

#[test]
fn overriding_dimensions() {
    let b = base();
    let mut d = Document::default();
    d.add_dimension(&b, "route", "/a").unwrap();
    d.add_dimension(&b, "route", "/b").unwrap();
    d.add_dimension(&b, "env", "staging").unwrap();
    add(&mut d, &b, "M", 1.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["route"], "/b");
    assert_eq!(v["env"], "staging");
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["route", "env", "service"]])
    );
}

#[test]
fn thirty_dimensions_per_set() {
    let b = base();
    let mut d = Document::default();
    for i in 0..28 {
        d.add_dimension(&b, &format!("d{i}"), "v").unwrap();
    }
    assert_eq!(
        d.add_dimension(&b, "one_too_many", "v"),
        Err(MetricsError::TooManyDimensions { count: 31, max: 30 })
    );
    let set: Vec<(String, &str)> = (0..29).map(|i| (format!("s{i}"), "v")).collect();
    assert_eq!(
        d.add_dimension_set(&b, &set),
        Err(MetricsError::TooManyDimensions { count: 31, max: 30 })
    );
    d.add_dimension_set(&b, &set[..28]).unwrap();
    add(&mut d, &b, "M", 1.0).unwrap();
    let v = render(&mut d, &b);
    for set in v["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
        .as_array()
        .unwrap()
    {
        assert_eq!(set.as_array().unwrap().len(), 30);
    }
}

#[test]
fn clearing_keeps_or_drops_what_it_should() {
    let b = base();
    let mut d = Document::default();
    d.add_dimension(&b, "route", "/a").unwrap();
    d.add_metadata(&b, "k", "1".into()).unwrap();
    add(&mut d, &b, "M", 1.0).unwrap();
    d.clear_metrics();
    assert!(!d.has_metrics());
    add(&mut d, &b, "N", 2.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["route"], "/a");
    assert_eq!(v["k"], 1);
    assert!(v.get("M").is_none());
    d.clear();
    assert!(!d.recorded() && d.ever_recorded());
    add(&mut d, &b, "M", 3.0).unwrap();
    let v = render(&mut d, &b);
    assert!(v.get("route").is_none() && v.get("k").is_none());
    assert_eq!(v["M"], 3);
    d.reset();
    assert!(!d.ever_recorded());
}

#[test]
fn sum_and_replace_merge_into_the_last_value() {
    let b = base();
    let mut d = Document::default();
    for _ in 0..3 {
        d.record(&b, "C", Unit::Count, Resolution::Standard, 2.0, Merge::Sum)
            .unwrap();
        d.record(
            &b,
            "G",
            Unit::None,
            Resolution::Standard,
            5.0,
            Merge::Replace,
        )
        .unwrap();
    }
    d.record(
        &b,
        "G",
        Unit::None,
        Resolution::Standard,
        7.0,
        Merge::Replace,
    )
    .unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["C"], 6);
    assert_eq!(v["G"], 7);
}

#[test]
fn names_sharing_a_prefix_stay_apart() {
    let b = base();
    let mut d = Document::default();
    add(&mut d, &b, "RequestLatency", 1.0).unwrap();
    add(&mut d, &b, "RequestLatencyP", 2.0).unwrap();
    add(&mut d, &b, "RequestLatencyX", 3.0).unwrap();
    add(&mut d, &b, "RequestLatencyP", 4.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["RequestLatency"], 1);
    assert_eq!(v["RequestLatencyP"], serde_json::json!([2, 4]));
    assert_eq!(v["RequestLatencyX"], 3);
}

/// A document reused after `reset` (as the invocation pool does) renders exactly what a new
/// document recording the same metrics renders, whichever metrics, units and resolutions change
/// from one use to the next (its cached definitions and member names must follow).
#[test]
fn a_reused_document_renders_like_a_new_one() {
    type Rec = (&'static str, Unit, Resolution, f64);
    const STD: Resolution = Resolution::Standard;
    let rounds: [&[Rec]; 8] = [
        &[("A", Unit::Count, STD, 1.0), ("Bee", Unit::Count, STD, 2.0)],
        &[("A", Unit::Count, STD, 3.0), ("Bee", Unit::Count, STD, 4.0)],
        &[
            ("A", Unit::Count, STD, 1.0),
            ("C\"q", Unit::Seconds, STD, 0.5),
        ],
        &[
            ("A", Unit::Milliseconds, Resolution::High, 7.0),
            ("C\"q", Unit::Seconds, STD, 1.0),
        ],
        &[("A", Unit::Milliseconds, STD, 7.0)],
        &[
            ("A", Unit::Milliseconds, STD, 7.0),
            ("C\"q", Unit::Seconds, STD, 1.0),
            ("D", Unit::Bytes, STD, 9.0),
        ],
        &[
            ("LongerName_1", Unit::Count, STD, 1.0),
            ("LongerName_2", Unit::Count, STD, 2.0),
            ("LongerName_1", Unit::Count, STD, 3.0),
        ],
        &[
            ("LongerName_2", Unit::Count, STD, 1.0),
            ("LongerName_1", Unit::Count, STD, 2.0),
        ],
    ];
    let b = base();
    let mut reused = Document::default();
    for records in rounds {
        let mut new = Document::default();
        for doc in [&mut reused, &mut new] {
            for &(name, unit, resolution, value) in records {
                doc.record(&b, name, unit, resolution, value, Merge::Append)
                    .unwrap();
            }
        }
        let expected = String::from_utf8(new.render(&b, 5).to_vec()).unwrap();
        let line = String::from_utf8(reused.render(&b, 5).to_vec()).unwrap();
        assert_eq!(line, expected, "{records:?}");
        check_document(&line).unwrap_or_else(|e| panic!("{e}"));
        // A second render of the same document is the same (nothing cached twice).
        assert_eq!(reused.render(&b, 5), expected.as_bytes());
        reused.reset();
    }
}

/// After a full document was written, the next one of the same document (the same entries
/// reused with other metrics) carries only its own metrics.
#[test]
fn metrics_after_a_full_document_have_their_own_definitions() {
    let b = base();
    let mut d = Document::default();
    for i in 0..MAX_METRICS_PER_DOCUMENT {
        add(&mut d, &b, &format!("M{i}"), 1.0).unwrap();
    }
    d.render(&b, 5);
    d.clear_metrics();
    d.record(
        &b,
        "Other",
        Unit::Bytes,
        Resolution::Standard,
        2.0,
        Merge::Append,
    )
    .unwrap();
    add(&mut d, &b, "M1", 3.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        serde_json::json!([{"Name":"Other","Unit":"Bytes"},{"Name":"M1","Unit":"Count"}])
    );
    assert_eq!(v["Other"], 2);
    assert_eq!(v["M1"], 3);
    assert!(v.get("M0").is_none());
}

#[test]
fn a_spare_entry_renamed_in_a_reused_document_finds_its_metric() {
    let b = base();
    let mut d = Document::default();
    for name in ["A", "B", "C"] {
        add(&mut d, &b, name, 1.0).unwrap();
    }
    d.reset();
    // "C" takes the first entry, whose spare neighbours still hold "B" and "C".
    add(&mut d, &b, "C", 1.0).unwrap();
    add(&mut d, &b, "B", 2.0).unwrap();
    add(&mut d, &b, "C", 3.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["C"], serde_json::json!([1, 3]));
    assert_eq!(v["B"], serde_json::json!(2));
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Once every entry holds a metric again, spare names are distinct again.
    add(&mut d, &b, "A", 4.0).unwrap();
    d.reset();
    for (i, name) in ["C", "B", "A"].into_iter().enumerate() {
        add(&mut d, &b, name, i as f64).unwrap();
    }
    add(&mut d, &b, "A", 9.0).unwrap();
    let v = render(&mut d, &b);
    assert_eq!(v["A"], serde_json::json!([2, 9]));
}
