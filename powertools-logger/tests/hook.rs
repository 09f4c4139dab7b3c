//! The hook inside the real invocation layer: sampling, correlation id, event logging, buffering,
//! errors and panics.

mod common;

use std::future::Future;

use common::{install, json, keys, logger};
use lambda_runtime::{Context, Error, LambdaEvent, service_fn};
use powertools_core::config::LogLevel;
use powertools_core::layer::InvocationLayer;
use powertools_logger::{BufferConfig, CorrelationIdPath, Logger, LoggerHook, MemorySink};
use serde_json::{Value, json};
use tower::{Service, ServiceBuilder, ServiceExt};

fn context(request_id: &str) -> Context {
    let mut ctx = Context::default();
    ctx.request_id = request_id.into();
    ctx.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn".into();
    ctx.xray_trace_id =
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into());
    ctx
}

/// Runs one invocation of `handler` on `event` through the invocation layer with the logger.
fn invoke<F, Fut>(logger: Logger, event: Value, handler: F) -> Result<Value, Error>
where
    F: Fn(LambdaEvent<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Value, Error>> + Send + 'static,
{
    invoke_in(
        logger,
        |hook| InvocationLayer::new().hook(hook),
        context("req-1"),
        event,
        handler,
    )
}

/// Runs one invocation of `handler` through the invocation layer `layer` makes with the
/// logger's hook.
fn invoke_in<F, Fut>(
    logger: Logger,
    layer: impl FnOnce(LoggerHook) -> InvocationLayer,
    context: Context,
    event: Value,
    handler: F,
) -> Result<Value, Error>
where
    F: Fn(LambdaEvent<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Value, Error>> + Send + 'static,
{
    let (dispatch, hook) = install(logger);
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut service = ServiceBuilder::new()
            .layer(layer(hook))
            .service(service_fn(handler));
        let service = service.ready().await.unwrap();
        service.call(LambdaEvent::new(event, context)).await
    })
}

#[test]
fn event_is_logged_and_correlation_id_taken_from_it() {
    let (logger, sink) = logger(&[("POWERTOOLS_LOGGER_LOG_EVENT", "true")]);
    let logger = logger.correlation_id_path(CorrelationIdPath::api_gateway_rest());
    let event = json!({"requestContext": {"requestId": "corr-7"}, "body": "x\ny"});
    invoke(logger, event.clone(), |_e| async {
        tracing::info!("in handler");
        Ok(Value::Null)
    })
    .unwrap();
    let lines = sink.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(json(&lines[0])["message"], event);
    let k = keys(&lines[1]);
    let at = k.iter().position(|x| x == "correlation_id").unwrap();
    assert_eq!(k[at - 1], "function_request_id");
    assert_eq!(json(&lines[1])["correlation_id"], "corr-7");
    assert_eq!(json(&lines[1])["function_request_id"], "req-1");
}

#[test]
fn correlation_id_from_a_closure() {
    let (logger, sink) = logger(&[]);
    let logger =
        logger.correlation_id_from(|e| e["headers"]["x-correlation-id"].as_str().map(Into::into));
    invoke(
        logger,
        json!({"headers": {"x-correlation-id": "abc"}}),
        |_e| async {
            tracing::info!(seen = powertools_logger::correlation_id(), "x");
            Ok(Value::Null)
        },
    )
    .unwrap();
    let line = &sink.json_lines()[0];
    assert_eq!(line["correlation_id"], "abc");
    assert_eq!(line["seen"], "abc");
}

#[test]
fn handler_errors_are_logged_with_their_chain() {
    let (logger, sink) = logger(&[]);
    let result = invoke(logger, json!({}), |_e| async {
        let io = std::io::Error::other("disk full");
        let err: Error = Box::new(WrapError(io));
        Err(err)
    });
    assert!(result.is_err());
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(lines[0]["message"], "could not save");
    // The message and its `source()` chain, one `caused by:` line each.
    assert_eq!(
        lines[0]["exception"],
        "could not save\ncaused by: disk full"
    );
    assert_eq!(lines[0]["exception_name"], "WrapError");
    assert_eq!(lines[0]["exception_chain"], json!(["disk full"]));
    assert_eq!(lines[0]["function_request_id"], "req-1");
}

/// An `Err` line: the error's type name (what Lambda reports as `errorType`), all the keys of
/// the invocation with `xray_trace_id` last, and as `location` the handler's own (relative), else
/// its name — never a file of the toolkit (before: `powertools-logger/src/hook/mod.rs:107`).
#[test]
fn an_err_line_names_its_type_and_the_handler_and_has_every_key() {
    let (logger, sink) = logger(&[("POWERTOOLS_SERVICE_NAME", "payment")]);
    let result = invoke_in(
        logger,
        |hook| {
            InvocationLayer::new()
                .handler_name("charge")
                .handler_location("/home/builder/orders/src/bin/charge.rs:26")
                .hook(hook)
        },
        context("req-1"),
        json!({}),
        |_e| async {
            powertools_logger::append_key("order_id", "o-1")?;
            let deepest = std::io::Error::other("card expired");
            let err: Error = Box::new(WrapError(std::io::Error::other(WrapError(deepest))));
            Err(err)
        },
    );
    assert!(result.is_err());
    let raw = &sink.lines()[0];
    let line = json(raw);
    assert_eq!(line["exception_name"], "WrapError");
    assert_eq!(
        line["exception"],
        "could not save\ncaused by: could not save\ncaused by: card expired"
    );
    assert_eq!(
        line["location"], "orders/src/bin/charge.rs:26",
        "the handler's own"
    );
    assert_eq!(line["service"], "payment");
    assert_eq!(line["order_id"], "o-1");
    assert_eq!(
        line["function_arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn"
    );
    assert_eq!(keys(raw).last().unwrap(), "xray_trace_id");

    // A string error: `Error`, as Lambda reports it. Without the handler's location, its name.
    let (plain, sink) = common::logger(&[]);
    let _ = invoke(plain, json!({}), |_e| async {
        Err::<Value, Error>("plain failure".into())
    });
    let line = &sink.json_lines()[0];
    assert_eq!(line["exception_name"], "Error");
    assert_eq!(line["exception"], "plain failure");
    assert_eq!(line["location"], "handler");
    assert!(line.get("exception_chain").is_none());
}

/// A hook that names the spans still open at a timeout, as the tracer's does (it ends before the
/// logger's).
struct OpenSpans(&'static [&'static str]);

impl powertools_core::layer::InvocationHook for OpenSpans {
    fn on_end(
        &self,
        _invocation: &powertools_core::Invocation,
        outcome: &powertools_core::layer::InvocationOutcome<'_>,
    ) {
        if let powertools_core::layer::InvocationOutcome::Timeout(report) = outcome {
            for span in self.0 {
                report.add_open_span(span);
            }
        }
    }
}

/// Shortly before the deadline: the buffered lines, then one ERROR line saying the invocation is
/// about to time out, with the request id, the elapsed time and the spans still open. A handler
/// that still finishes in time writes only what came after the cut: no second ERROR line when it
/// succeeds, the lines it buffered after the cut discarded.
#[test]
fn a_timeout_writes_the_buffer_then_one_error_line_with_the_open_spans() {
    let (logger, sink) = buffered(&[], BufferConfig::new());
    let result = invoke_in(
        logger,
        |hook| {
            InvocationLayer::new()
                .timeout_margin(std::time::Duration::from_millis(300))
                .hook(hook)
                .hook(OpenSpans(&["charge_card", "call_bank"]))
        },
        context_with_deadline("req-slow", 400),
        json!({}),
        |_e| async {
            tracing::debug!("waiting for the bank");
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            tracing::debug!("held after the cut, discarded");
            tracing::info!("finished after the cut");
            Ok(Value::Null)
        },
    );
    assert!(result.is_ok(), "the handler's own result");
    let raw = sink.lines();
    let lines = sink.json_lines();
    let messages: Vec<_> = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 3, "{raw:#?}");
    assert_eq!(messages[0], "waiting for the bank", "the buffer first");
    assert_eq!(messages[2], "finished after the cut");
    let line = &lines[1];
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["exception_name"], "Timeout");
    assert_eq!(line["function_request_id"], "req-slow");
    assert_eq!(line["open_spans"], json!(["charge_card", "call_bank"]));
    let elapsed = line["elapsed_ms"].as_u64().unwrap();
    assert!((50..400).contains(&elapsed), "{line}");
    assert!(line["remaining_ms"].as_u64().unwrap() <= 400, "{line}");
    let message = line["message"].as_str().unwrap();
    assert!(
        message.starts_with("the invocation is about to time out after")
            && message.ends_with("spans still open: charge_card, call_bank"),
        "{message}"
    );
    assert_eq!(line["exception"], message);
    assert_eq!(line["location"], "handler");
    assert_eq!(keys(&raw[1]).last().unwrap(), "xray_trace_id");
}

/// A context whose deadline is `ms` from now.
fn context_with_deadline(request_id: &str, ms: u64) -> Context {
    let mut ctx = context(request_id);
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_millis(ms);
    ctx.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ctx
}

#[derive(Debug)]
struct WrapError(std::io::Error);
impl std::fmt::Display for WrapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not save")
    }
}
impl std::error::Error for WrapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn panics_are_logged_with_message_and_location() {
    let (logger, sink) = logger(&[]);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        invoke(logger, json!({}), |e| async move {
            let items: Vec<u32> = Vec::new();
            let index = e.payload.as_object().map_or(3, |o| o.len() + 3);
            Ok(Value::from(items[index]))
        })
    }));
    assert!(outcome.is_err(), "the panic resumes");
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 1);
    // The type Lambda reports a panic under.
    assert_eq!(lines[0]["exception_name"], "Panic");
    assert_eq!(
        lines[0]["exception_name"],
        powertools_core::layer::PANIC_ERROR_TYPE
    );
    let expected = "index out of bounds: the len is 0 but the index is 3";
    assert_eq!(lines[0]["exception"], expected);
    assert_eq!(lines[0]["message"], format!("handler panicked: {expected}"));
    assert!(
        lines[0]["location"]
            .as_str()
            .unwrap()
            .contains("tests/hook.rs:"),
        "{}",
        lines[0]
    );
}

fn buffered(sink_vars: &[(&str, &str)], config: BufferConfig) -> (Logger, MemorySink) {
    let (logger, sink) = logger(sink_vars);
    (logger.level(LogLevel::Debug).buffer(config), sink)
}

#[test]
fn buffered_lines_are_discarded_on_success() {
    let (logger, sink) = buffered(&[], BufferConfig::new());
    invoke(logger, json!({}), |_e| async {
        tracing::debug!("held");
        tracing::info!("written");
        Ok(Value::Null)
    })
    .unwrap();
    let messages: Vec<_> = sink
        .json_lines()
        .iter()
        .map(|l| l["message"].clone())
        .collect();
    assert_eq!(messages, ["written"]);
}

#[test]
fn buffered_lines_are_flushed_in_order_when_the_handler_fails() {
    let (logger, sink) = buffered(&[], BufferConfig::new());
    let _ = invoke(logger, json!({}), |_e| async {
        tracing::debug!("first");
        tracing::info!("written at once");
        tracing::debug!(step = 2, "second");
        Err::<Value, Error>("boom".into())
    });
    let lines = sink.json_lines();
    let messages: Vec<_> = lines.iter().map(|l| l["message"].clone()).collect();
    assert_eq!(messages, ["written at once", "first", "second", "boom"]);
    assert_eq!(lines[2]["step"], 2);
    // Original timestamps: a held line is not newer than the error line.
    assert!(lines[1]["timestamp"].as_str() <= lines[3]["timestamp"].as_str());
    assert_eq!(lines[1]["function_request_id"], "req-1");
}

#[test]
fn an_error_line_flushes_the_buffer() {
    let (logger, sink) = buffered(&[], BufferConfig::new());
    invoke(logger, json!({}), |_e| async {
        tracing::debug!("held");
        tracing::error!("something broke");
        tracing::debug!("held after, discarded");
        Ok(Value::Null)
    })
    .unwrap();
    let messages: Vec<_> = sink
        .json_lines()
        .iter()
        .map(|l| l["message"].clone())
        .collect();
    assert_eq!(messages, ["held", "something broke"]);
}

#[test]
fn a_full_buffer_evicts_the_oldest_and_says_so() {
    let (logger, sink) = buffered(&[], BufferConfig::new().max_bytes(900));
    let _ = invoke(logger, json!({}), |_e| async {
        for n in 0..10 {
            tracing::debug!(n, "held line with some padding to fill the buffer quickly");
        }
        Err::<Value, Error>("boom".into())
    });
    let lines = sink.json_lines();
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("log buffer (900 bytes) is full")
    );
    assert_eq!(lines[0]["level"], "WARN");
    let report = lines[1]["message"].as_str().unwrap();
    assert!(report.contains("were evicted"), "{report}");
    let held: Vec<_> = lines.iter().filter_map(|l| l["n"].as_u64()).collect();
    assert!(!held.is_empty() && held.len() < 10);
    assert_eq!(*held.last().unwrap(), 9, "the newest lines are kept");
    assert!(held.windows(2).all(|w| w[0] + 1 == w[1]));
    assert_eq!(lines.last().unwrap()["message"], "boom");
}

#[test]
fn buffer_eviction_warnings_pass_lambdas_filter() {
    // Lambda keeps ERROR lines only: the buffer holds ERROR lines, and its warnings about the
    // lines it lost must be ERROR lines too, or Lambda drops them.
    let (logger, sink) = logger(&[("AWS_LAMBDA_LOG_LEVEL", "ERROR")]);
    let logger = logger.buffer(
        BufferConfig::new()
            .max_bytes(900)
            .buffer_at_level(LogLevel::Error)
            .flush_on_error_log(false),
    );
    let _ = invoke(logger, json!({}), |_e| async {
        for n in 0..10 {
            tracing::error!(n, "held line with some padding to fill the buffer quickly");
        }
        Err::<Value, Error>("boom".into())
    });
    let lines = sink.json_lines();
    let warnings: Vec<_> = lines
        .iter()
        .filter(|l| l["message"].as_str().unwrap().contains("log buffer"))
        .collect();
    assert_eq!(warnings.len(), 2, "{lines:?}");
    assert!(warnings[0]["message"].as_str().unwrap().contains("is full"));
    assert!(
        warnings[1]["message"]
            .as_str()
            .unwrap()
            .contains("were evicted")
    );
    assert!(lines.iter().all(|l| l["level"] == "ERROR"), "{lines:?}");
}

#[test]
fn buffered_and_logged_event_lines_fit_one_cloudwatch_event() {
    let (logger, sink) = buffered(
        &[("POWERTOOLS_LOGGER_LOG_EVENT", "true")],
        BufferConfig::new().max_bytes(2_000_000),
    );
    let body = "é\"🚀\n".repeat(100_000);
    let event = json!({ "body": body });
    let held = "held ".repeat(80_000);
    let held_for_handler = held.clone();
    let _ = invoke(logger, event.clone(), move |_e| {
        let held = held_for_handler.clone();
        async move {
            tracing::debug!(payload = held.as_str(), "held");
            Err::<Value, Error>("boom".into())
        }
    });
    let lines = sink.lines();
    assert_eq!(lines.len(), 3, "logged event, held line, error");
    let logged = common::assert_fits(&lines[0]);
    common::assert_shortened(&logged["message"], &event.to_string());
    assert_eq!(logged["function_request_id"], "req-1");
    let flushed = common::assert_fits(&lines[1]);
    assert_eq!(flushed["message"], "held");
    common::assert_shortened(&flushed["payload"], &held);
}

#[test]
fn sampling_turns_debug_on_for_the_invocation() {
    let (sampled, sink) = logger(&[("POWERTOOLS_LOGGER_SAMPLE_RATE", "1")]);
    invoke(sampled, json!({}), |_e| async {
        tracing::debug!("sampled debug");
        tracing::trace!("still dropped");
        Ok(Value::Null)
    })
    .unwrap();
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["sampling_rate"], 1.0);
    let raw = &sink.lines()[0];
    let k = keys(raw);
    assert_eq!(k[5], "sampling_rate");

    let (unsampled, sink) = logger(&[]);
    invoke(unsampled.sample_rate(0.0), json!({}), |_e| async {
        tracing::debug!("not sampled");
        Ok(Value::Null)
    })
    .unwrap();
    assert!(sink.lines().is_empty());
}

#[test]
fn a_debug_line_outside_a_sampled_invocation_is_dropped() {
    let (logger, sink) = logger(&[("POWERTOOLS_LOGGER_SAMPLE_RATE", "1")]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || tracing::debug!("no invocation"));
    assert!(sink.lines().is_empty());
}

/// Buffering at ERROR: the failure's line is written, not held in a buffer nothing would write
/// any more.
#[test]
fn a_failure_line_is_never_held_in_the_buffer() {
    let (logger, sink) = logger(&[]);
    let logger = logger.buffer(
        BufferConfig::new()
            .buffer_at_level(LogLevel::Error)
            .flush_on_error_log(false),
    );
    let _ = invoke(logger, json!({}), |_e| async {
        tracing::error!("held, then flushed by the failure");
        Err::<Value, Error>("boom".into())
    });
    let messages: Vec<_> = sink
        .json_lines()
        .iter()
        .map(|l| l["message"].clone())
        .collect();
    assert_eq!(messages, ["held, then flushed by the failure", "boom"]);
}

/// The logger's own warnings written inside an invocation carry what the function's lines
/// carry: `service`, the Lambda keys, `function_request_id`, `xray_trace_id` last; `location`
/// `powertools_logger` tells them apart.
#[test]
fn the_loggers_own_warnings_inside_an_invocation_carry_the_invocations_keys() {
    let (logger, sink) = buffered(
        &[("POWERTOOLS_SERVICE_NAME", "payment")],
        BufferConfig::new().max_bytes(900),
    );
    let _ = invoke(logger, json!({}), |_e| async {
        powertools_logger::append_key("order_id", "o-1")?;
        for n in 0..10 {
            tracing::debug!(n, "held line with some padding to fill the buffer quickly");
        }
        Err::<Value, Error>("boom".into())
    });
    let raw = sink.lines();
    let warnings: Vec<(&String, Value)> = raw
        .iter()
        .map(|r| (r, json(r)))
        .filter(|(_, l)| l["location"] == "powertools_logger")
        .collect();
    assert_eq!(warnings.len(), 2, "full, then evicted: {raw:#?}");
    for (raw, warning) in &warnings {
        assert_eq!(warning["level"], "WARN");
        assert_eq!(warning["service"], "payment");
        assert_eq!(warning["function_request_id"], "req-1");
        assert!(warning["cold_start"].is_boolean(), "{warning}");
        assert_eq!(
            warning["function_arn"],
            "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn"
        );
        assert_eq!(warning["order_id"], "o-1", "the appended keys too");
        assert_eq!(
            warning["xray_trace_id"],
            "1-5759e988-bd862e3fe1be46a994272793"
        );
        assert_eq!(keys(raw).last().unwrap(), "xray_trace_id");
    }
}
