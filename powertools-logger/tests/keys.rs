//! Appended keys belong to an invocation: where none is in scope, `append_key` is an error, never a
//! key of the process that the next requests' lines would carry.

mod common;

use common::{install, logger};
use lambda_runtime::{Context, Error, LambdaEvent, service_fn};
use powertools_core::Invocation;
use powertools_core::layer::InvocationLayer;
use powertools_logger::AppendKeyError;
use serde_json::{Value, json};
use tower::{Service, ServiceBuilder, ServiceExt};

fn context(request_id: &str) -> Context {
    let mut ctx = Context::default();
    ctx.request_id = request_id.into();
    ctx
}

/// Runs each event in turn through one service: the logger's hook in the invocation layer
/// around `handler`; invocation `n` has request id `req-n`.
fn invoke_all<F, Fut>(events: &[Value], handler: F) -> Vec<Value>
where
    F: Fn(LambdaEvent<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Value, Error>> + Send + 'static,
{
    let (logger, sink) = logger(&[]);
    let (dispatch, hook) = install(logger);
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut service = ServiceBuilder::new()
            .layer(InvocationLayer::new().hook(hook))
            .service(service_fn(handler));
        for (n, event) in events.iter().enumerate() {
            let service = service.ready().await.unwrap();
            let request = LambdaEvent::new(event.clone(), context(&format!("req-{n}")));
            service.call(request).await.unwrap();
        }
    });
    sink.json_lines()
}

#[test]
fn a_key_appended_in_an_unscoped_task_is_an_error_and_never_reaches_the_next_request() {
    let events = [json!({"user": "u-1"}), json!({"user": "u-2"})];
    let lines = invoke_all(&events, |event| async move {
        let user = event.payload["user"].as_str().unwrap().to_owned();
        if user == "u-1" {
            // A plain `tokio::spawn`: the task does not carry the invocation.
            let appended = tokio::spawn(async move {
                powertools_logger::append_key("user_id", &user).map_err(|e| match e {
                    AppendKeyError::NoInvocation { key } => key,
                    other => panic!("not NoInvocation: {other}"),
                })
            })
            .await
            .unwrap();
            assert_eq!(appended, Err("user_id".to_owned()));
        }
        tracing::info!("handled");
        Ok(Value::Null)
    });
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1]["function_request_id"], "req-1");
    for line in &lines {
        assert!(line.get("user_id").is_none(), "{line}");
    }
}

#[test]
fn a_key_appended_in_a_scoped_task_lands_on_its_invocation_only() {
    let events = [json!({"user": "u-1"}), json!({"user": "u-2"})];
    let lines = invoke_all(&events, |event| async move {
        let user = event.payload["user"].as_str().unwrap().to_owned();
        if user == "u-1" {
            // What the error says to do: first without the scope, then with it.
            let unscoped = tokio::spawn(async { powertools_logger::append_key("user_id", "u-1") });
            let error = unscoped.await.unwrap().unwrap_err();
            assert!(matches!(error, AppendKeyError::NoInvocation { .. }));
            let invocation = Invocation::current().unwrap();
            tokio::spawn(invocation.scope(async move {
                powertools_logger::append_key("user_id", &user).unwrap();
                tracing::info!("from the task");
            }))
            .await
            .unwrap();
        }
        tracing::info!("handled");
        Ok(Value::Null)
    });
    let seen: Vec<_> = lines
        .iter()
        .map(|l| (l["function_request_id"].clone(), l["user_id"].clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (json!("req-0"), json!("u-1")),
            (json!("req-0"), json!("u-1")),
            (json!("req-1"), Value::Null),
        ]
    );
}

#[test]
fn outside_an_invocation_append_key_fails_and_remove_key_leaves_persistent_keys() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    tracing::dispatcher::with_default(&dispatch, || {
        let error = powertools_logger::append_key("at_init", 1).unwrap_err();
        assert!(matches!(&error, AppendKeyError::NoInvocation { key } if key == "at_init"));
        let message = error.to_string();
        assert!(message.contains("append_persistent_key"), "{message}");
        assert!(message.contains("Invocation::scope"), "{message}");

        powertools_logger::append_persistent_key("keys_rs_deployment", "blue").unwrap();
        assert!(!powertools_logger::remove_key("keys_rs_deployment"));
        Invocation::for_test("req-1").sync_scope(|| tracing::info!("handled"));
        assert!(powertools_logger::remove_persistent_key(
            "keys_rs_deployment"
        ));
    });
    let lines = sink.json_lines();
    assert!(lines[0].get("at_init").is_none());
    assert_eq!(
        lines[0]["keys_rs_deployment"], "blue",
        "still on every line"
    );
}
