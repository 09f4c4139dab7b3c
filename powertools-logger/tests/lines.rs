//! The line format: keys, order, types, reserved keys, spans, errors, levels, dev mode, formatter.

mod common;

use std::error::Error;
use std::fmt;

use common::{install, json, keys, logger};
use powertools_core::config::LogLevel;
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_logger::{LogRecord, Logger};

fn lambda_invocation() -> Invocation {
    let header: TraceHeader =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            .parse()
            .unwrap();
    Invocation::new(
        InvocationContext::for_test("c6af9ac6-7b61-11e6-9a41-93e812345678", "payment-fn")
            .with_trace_header(Some(header))
            .with_cold_start(true),
    )
}

#[test]
fn keys_and_order_match_the_python_reference() {
    let (logger, sink) = logger(&[("POWERTOOLS_SERVICE_NAME", "payment")]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            tracing::info!(order_id = "o-1", amount = 12.5, "order created");
        });
    });
    let lines = sink.lines();
    assert_eq!(lines.len(), 1);
    // The second line of the Python reference output, key for key.
    let reference = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/python-powertools-3.37-output.jsonl"
    ));
    let reference = reference.expect("the Python reference output is in tests/data");
    let expected = keys(reference.lines().nth(1).unwrap());
    assert_eq!(keys(&lines[0]), expected);
    let line = json(&lines[0]);
    assert_eq!(line["level"], "INFO");
    assert!(
        line["location"]
            .as_str()
            .unwrap()
            .starts_with("powertools-logger/tests/lines.rs:")
    );
    assert_eq!(line["message"], "order created");
    assert_eq!(line["service"], "payment");
    assert_eq!(line["cold_start"], true);
    assert_eq!(line["function_memory_size"], 128);
    assert_eq!(
        line["function_request_id"],
        "c6af9ac6-7b61-11e6-9a41-93e812345678"
    );
    assert_eq!(line["amount"], 12.5);
    assert_eq!(line["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
    let ts = line["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T');
    assert!(lines[0].ends_with("}\n") && !lines[0][..lines[0].len() - 1].contains('\n'));
}

#[test]
fn outside_an_invocation_lambda_keys_are_left_out() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || tracing::warn!("no invocation"));
    let lines = sink.lines();
    assert_eq!(
        keys(&lines[0]),
        ["level", "location", "message", "timestamp", "service"]
    );
    assert_eq!(json(&lines[0])["service"], "service_undefined");
    assert_eq!(json(&lines[0])["level"], "WARN");
}

/// Python's order: `xray_trace_id` is the last key, also when the invocation has a tenant
/// (before, `tenant_id` came after it).
#[test]
fn xray_trace_id_is_the_last_key_with_a_tenant_id() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    let header: TraceHeader =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            .parse()
            .unwrap();
    let invocation = Invocation::new(
        InvocationContext::for_test("r", "f")
            .with_trace_header(Some(header))
            .with_tenant_id(Some("tenant-a".into())),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        invocation.sync_scope(|| {
            powertools_logger::set_correlation_id("corr-1");
            tracing::info!(order_id = "o-1", "hi");
        });
    });
    let lines = sink.lines();
    let k = keys(&lines[0]);
    assert_eq!(k.last().unwrap(), "xray_trace_id", "{k:?}");
    let pos = |name: &str| k.iter().position(|x| x == name).unwrap();
    assert_eq!(pos("tenant_id"), pos("function_request_id") + 1, "{k:?}");
    assert!(pos("tenant_id") < pos("correlation_id"), "{k:?}");
    assert_eq!(json(&lines[0])["tenant_id"], "tenant-a");
}

#[derive(Debug)]
struct Point {
    #[allow(dead_code)]
    x: i32,
}

#[test]
fn field_values_keep_their_json_types() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        let id = "o-\"1\"";
        tracing::info!(
            count = 3u64,
            delta = -4i64,
            ratio = 0.5,
            ok = true,
            big = u128::MAX,
            name = "x\ny",
            shown = %id,
            debugged = ?Point { x: 1 },
            nan = f64::NAN,
            "values"
        );
    });
    let raw = &sink.lines()[0];
    let line = json(raw);
    assert_eq!(line["count"], 3);
    assert_eq!(line["delta"], -4);
    assert_eq!(line["ratio"], 0.5);
    assert_eq!(line["ok"], true);
    assert!(raw.contains(&format!("\"big\":{}", u128::MAX)), "{raw}");
    assert_eq!(line["name"], "x\ny");
    assert_eq!(line["shown"], "o-\"1\"");
    assert_eq!(line["debugged"], "Point { x: 1 }");
    assert_eq!(line["nan"], "NaN");
}

#[test]
fn a_json_object_message_stays_an_object() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("{}", "{\n  \"a\": 1, \"b\": [true]\n}");
        tracing::info!("{{not json}}");
        tracing::info!(n = 1);
    });
    let lines = sink.lines();
    assert_eq!(
        json(&lines[0])["message"],
        serde_json::json!({"a": 1, "b": [true]})
    );
    assert_eq!(json(&lines[1])["message"], "{not json}");
    assert_eq!(json(&lines[2])["message"], "");
    assert!(lines.iter().all(|l| l.matches('\n').count() == 1));
}

#[test]
fn span_fields_are_included_and_event_fields_win() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        let outer = tracing::info_span!("outer", tenant = "t-1", step = 1);
        let _o = outer.enter();
        let inner = tracing::info_span!("inner", attempt = tracing::field::Empty);
        inner.record("attempt", 2);
        let _i = inner.enter();
        tracing::info!(step = 9, "inside");
    });
    let raw = &sink.lines()[0];
    let line = json(raw);
    assert_eq!(line["tenant"], "t-1");
    assert_eq!(line["attempt"], 2);
    assert_eq!(line["step"], 9);
    assert_eq!(keys(raw).iter().filter(|k| *k == "step").count(), 1);
}

#[test]
fn a_name_is_written_once_whoever_sets_it() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        Invocation::for_test("req-1").sync_scope(|| {
            powertools_logger::append_key("order", "appended").unwrap();
            powertools_logger::append_key("level", "appended").unwrap();
            let outer = tracing::info_span!("outer", order = "outer", level = "outer", step = 1);
            let _o = outer.enter();
            let inner = tracing::info_span!("inner", order = "inner", step = 2);
            let _i = inner.enter();
            tracing::info!("span fields");
            tracing::info!(order = "event", "event field");
        });
    });
    let lines = sink.lines();
    for raw in &lines {
        let k = keys(raw);
        for name in ["order", "step", "field_level"] {
            assert_eq!(
                k.iter().filter(|x| *x == name).count(),
                1,
                "{name} in {raw}"
            );
        }
    }
    let (first, second) = (json(&lines[0]), json(&lines[1]));
    assert_eq!(first["order"], "inner", "the innermost span wins");
    assert_eq!(first["step"], 2);
    assert_eq!(
        first["field_level"], "outer",
        "a span field wins over an appended key"
    );
    assert_eq!(second["order"], "event", "the event wins");
}

#[test]
fn a_message_framed_by_unicode_line_separators_stays_a_string() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    let text = "\u{2028}{\"level\":\"ERROR\"}\u{2029}";
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("{text}"));
    let line = json(&sink.lines()[0]);
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], text);
}

#[test]
fn runtime_span_and_tracer_control_fields_are_not_log_keys() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        // What `lambda_runtime` opens around every invocation.
        let runtime = tracing::info_span!(
            target: "lambda_runtime::layers::trace",
            "Lambda runtime invoke",
            requestId = "r-1",
            xrayTraceId = "Root=1-x"
        );
        let _r = runtime.enter();
        lambda_invocation().sync_scope(|| {
            let step = tracing::info_span!(
                "step",
                xray.name = "custom",
                xray.annotation.kind = "a",
                kept = 1
            );
            let _s = step.enter();
            tracing::info!("inside");
        });
        tracing::error!("user handler panicked");
    });
    let line = json(&sink.lines()[0]);
    assert_eq!(line["kept"], 1);
    for key in [
        "requestId",
        "xrayTraceId",
        "xray.name",
        "xray.annotation.kind",
    ] {
        assert!(line.get(key).is_none(), "{key} in {line}");
    }
    // Outside our invocation scope (the runtime reporting a failed invocation), the runtime's
    // request id is the only correlation the line can have: kept.
    let report = json(&sink.lines()[1]);
    assert_eq!(report["requestId"], "r-1", "{report}");
}

#[test]
fn reserved_keys_cannot_be_forged() {
    let (logger, sink) = logger(&[("POWERTOOLS_SERVICE_NAME", "real")]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        lambda_invocation().sync_scope(|| {
            powertools_logger::append_key("function_name", "forged").unwrap();
            tracing::info!(level = "DEBUG", service = "fake", xray_trace_id = "x", "m");
        });
    });
    let raw = &sink.lines()[0];
    let line = json(raw);
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["service"], "real");
    assert_eq!(line["function_name"], "payment-fn");
    assert_eq!(line["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
    assert_eq!(line["field_level"], "DEBUG");
    assert_eq!(line["field_service"], "fake");
    assert_eq!(line["field_function_name"], "forged");
    let k = keys(raw);
    let mut unique = k.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), k.len(), "no duplicate keys: {k:?}");
}

#[test]
fn appended_keys_are_scoped_to_their_invocation() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        powertools_logger::append_persistent_key("deployment", "blue").unwrap();
        Invocation::for_test("a").sync_scope(|| {
            powertools_logger::append_key("order_id", "o-1").unwrap();
            powertools_logger::append_key("deployment", "green").unwrap();
            powertools_logger::append_key("tmp", [1, 2]).unwrap();
            assert!(powertools_logger::remove_key("tmp"));
            tracing::info!(order_id = "from-event", "first");
        });
        Invocation::for_test("b").sync_scope(|| tracing::info!("second"));
        assert!(powertools_logger::remove_persistent_key("deployment"));
        tracing::info!("third");
    });
    let lines = sink.lines();
    let first = json(&lines[0]);
    assert_eq!(first["deployment"], "green", "the invocation's key wins");
    assert_eq!(first["order_id"], "from-event", "the event's field wins");
    assert!(first.get("tmp").is_none());
    assert_eq!(
        keys(&lines[0])
            .iter()
            .filter(|k| *k == "deployment")
            .count(),
        1
    );
    let second = json(&lines[1]);
    assert_eq!(second["deployment"], "blue");
    assert!(second.get("order_id").is_none());
    assert!(json(&lines[2]).get("deployment").is_none());
}

#[derive(Debug)]
struct PaymentError(std::io::Error);
impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment failed")
    }
}
impl Error for PaymentError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn errors_carry_message_type_and_source_chain() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        let lambda_invocation = lambda_invocation();
        lambda_invocation.sync_scope(|| {
            let err = PaymentError(std::io::Error::other("connection reset"));
            tracing::error!(error = &err as &dyn Error, order_id = 7, "charging failed");
        });
    });
    let raw = &sink.lines()[0];
    let line = json(raw);
    assert_eq!(line["exception"], "payment failed");
    assert_eq!(line["exception_name"], "PaymentError");
    assert_eq!(
        line["exception_chain"],
        serde_json::json!(["connection reset"])
    );
    let k = keys(raw);
    let pos = |name: &str| k.iter().position(|x| x == name).unwrap();
    assert!(pos("order_id") < pos("exception") && pos("exception_chain") < pos("xray_trace_id"));
}

#[test]
fn levels_and_directives_filter() {
    let (logger, sink) = logger(&[("POWERTOOLS_LOG_LEVEL", "warn")]);
    let (dispatch, _hook) = install(logger.directives("lines::chatty=debug,lines::mute=off"));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("dropped");
        tracing::warn!("kept");
        tracing::debug!(target: "lines::chatty::db", "kept debug");
        tracing::trace!(target: "lines::chatty", "dropped trace");
        tracing::error!(target: "lines::mute", "dropped error");
    });
    let messages: Vec<_> = sink
        .json_lines()
        .iter()
        .map(|l| l["message"].clone())
        .collect();
    assert_eq!(messages, ["kept", "kept debug"]);
}

#[test]
fn lambda_log_level_wins_and_warns() {
    let (logger, sink) = logger(&[
        ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
        ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
    ]);
    let (dispatch, _hook) = install(logger.directives("x=trace"));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::warn!("dropped");
        tracing::debug!(target: "x", "dropped too");
        tracing::error!("kept");
    });
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // At the level Lambda's filter keeps: a WARN line would be dropped by Lambda.
    assert_eq!(lines[0]["level"], "ERROR");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("AWS_LAMBDA_LOG_LEVEL=ERROR")
    );
    assert_eq!(lines[1]["message"], "kept");
}

#[test]
fn warnings_that_lines_are_lost_pass_lambdas_filter_and_others_stay_warn() {
    let level_of_warning = |vars: &[(&str, &str)], directives: &str| {
        let (logger, sink) = logger(vars);
        let _parts = logger.directives(directives).into_parts();
        let lines = sink.json_lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        lines[0]["level"].as_str().unwrap().to_owned()
    };
    // Our level is more verbose than Lambda's: lines are lost.
    let more_verbose = [
        ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
        ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
    ];
    assert_eq!(level_of_warning(&more_verbose, ""), "ERROR");
    let more_verbose = [
        ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
    ];
    assert_eq!(level_of_warning(&more_verbose, ""), "WARN");
    // Directives capped by Lambda's level: lines are lost.
    let lambda = [("AWS_LAMBDA_LOG_LEVEL", "ERROR")];
    assert_eq!(level_of_warning(&lambda, "error,chatty=debug"), "ERROR");
    // A directive that does not parse: a plain warning.
    assert_eq!(level_of_warning(&[], "=broken"), "WARN");
}

/// With only Lambda's level (WARN or ERROR) and no level set by the user, nothing is overridden:
/// no warning (before, every cold start wrote one, at ERROR under an ERROR filter). A level the
/// user set (code, environment, `RUST_LOG`) that Lambda's overrides is still reported.
#[test]
fn lambdas_level_alone_writes_no_level_warning() {
    for lambda in ["WARN", "ERROR"] {
        let (logger, sink) = common::logger(&[("AWS_LAMBDA_LOG_LEVEL", lambda)]);
        let _parts = logger.into_parts();
        assert!(sink.lines().is_empty(), "{lambda}: {:?}", sink.lines());
    }
    let (logger, sink) = common::logger(&[("AWS_LAMBDA_LOG_LEVEL", "ERROR")]);
    let _parts = logger.level(LogLevel::Info).into_parts();
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("the log level INFO is more verbose than AWS_LAMBDA_LOG_LEVEL=ERROR")
    );
    for set in [("LOG_LEVEL", "INFO"), ("POWERTOOLS_LOG_LEVEL", "DEBUG")] {
        let (logger, sink) = common::logger(&[("AWS_LAMBDA_LOG_LEVEL", "WARN"), set]);
        let _parts = logger.into_parts();
        assert_eq!(sink.lines().len(), 1, "{set:?}");
    }
    let (logger, sink) = common::logger(&[("AWS_LAMBDA_LOG_LEVEL", "WARN")]);
    let _parts = logger.directives("debug").into_parts();
    assert_eq!(sink.lines().len(), 1, "RUST_LOG=debug");
}

/// A line from code outside the workspace (a dependency in `~/.cargo/registry`) names its file
/// from the crate's folder, never the build machine's absolute path — in the line and in what a
/// custom formatter sees.
#[cfg(feature = "log")]
#[test]
fn a_dependencys_location_is_never_an_absolute_path() {
    const FILE: &str = "/home/builder/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/\
                        hyper-1.7.0/src/proto/h1/conn.rs";
    let record = |message: std::fmt::Arguments<'_>| {
        let _ = tracing_log::format_trace(
            &log::Record::builder()
                .args(message)
                .level(log::Level::Warn)
                .target("hyper::proto::h1::conn")
                .file(Some(FILE))
                .line(Some(451))
                .module_path(Some("hyper::proto::h1::conn"))
                .build(),
        );
    };
    let (logger, sink) = common::logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        record(format_args!("connection reset"));
        lambda_invocation().sync_scope(|| record(format_args!("in an invocation")));
    });
    for line in sink.json_lines() {
        assert_eq!(
            line["location"], "hyper-1.7.0/src/proto/h1/conn.rs:451",
            "{line}"
        );
    }
    assert_eq!(sink.lines().len(), 2);

    let (logger, sink) = common::logger(&[]);
    let logger = logger.formatter(|record: &LogRecord<'_>, out: &mut Vec<u8>| {
        out.extend_from_slice(record.location().as_bytes());
    });
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || record(format_args!("formatted")));
    assert_eq!(sink.lines(), ["hyper-1.7.0/src/proto/h1/conn.rs:451\n"]);
}

#[test]
fn fatal_and_critical_mean_error() {
    let (logger, sink) = logger(&[("LOG_LEVEL", "CRITICAL")]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::warn!("dropped");
        tracing::error!("kept");
    });
    assert_eq!(sink.json_lines().len(), 1);
}

#[test]
fn bad_directives_warn() {
    let (logger, sink) = logger(&[]);
    let _parts = logger.directives("ok=info,=broken").into_parts();
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0]["message"].as_str().unwrap().contains("=broken"));
}

#[test]
fn dev_mode_indents() {
    let (logger, sink) = logger(&[("POWERTOOLS_DEV", "true")]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || tracing::info!(a = 1, "pretty"));
    let text = &sink.lines()[0];
    assert!(text.starts_with("{\n  \"level\": \"INFO\",\n"), "{text}");
    assert_eq!(json(text)["a"], 1);
}

#[test]
fn custom_formatter_replaces_the_line() {
    let (logger, sink) = logger(&[]);
    let logger = logger.formatter(|record: &LogRecord<'_>, out: &mut Vec<u8>| {
        out.extend_from_slice(
            format!(
                "{} {} {} {}",
                record.level(),
                record.message_json(),
                record.fields_json(),
                record.context().map_or("-", |c| c.request_id())
            )
            .as_bytes(),
        );
    });
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        Invocation::for_test("req-9").sync_scope(|| tracing::info!(n = 1, "custom"));
    });
    assert_eq!(sink.lines(), ["INFO \"custom\" {\"n\":1} req-9\n"]);
}

#[test]
fn levels_can_be_set_in_code() {
    let (logger, sink) = logger(&[("POWERTOOLS_LOG_LEVEL", "error")]);
    let (dispatch, _hook) = install(logger.level(LogLevel::Debug));
    tracing::dispatcher::with_default(&dispatch, || tracing::debug!("kept"));
    assert_eq!(sink.lines().len(), 1);
    let _ = Logger::new();
}

#[cfg(feature = "log")]
#[test]
fn log_crate_records_are_captured() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing_log::LogTracer::init().unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        log::info!(target: "some_dependency", "from log {}", 1);
        log::debug!("dropped");
    });
    let lines = sink.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = json(&lines[0]);
    assert_eq!(line["message"], "from log 1");
    assert!(
        line["location"]
            .as_str()
            .unwrap()
            .contains("tests/lines.rs:")
    );
    assert!(line.get("log.target").is_none());
}
