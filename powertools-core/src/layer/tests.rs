use std::sync::{Arc, Mutex};

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use tower::{Layer, Service, ServiceExt};

use super::*;

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

struct Named(&'static str, Arc<Recorder>);

impl InvocationHook for Named {
    fn on_start(&self, invocation: &Invocation, event: &EventView<'_>) {
        assert!(
            Invocation::current().unwrap().ptr_eq(invocation),
            "start runs in scope"
        );
        let id = event.json().and_then(|e| e["id"].as_u64()).unwrap_or(0);
        self.1
            .0
            .lock()
            .unwrap()
            .push(format!("{} start {id}", self.0));
    }
    fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        assert!(
            Invocation::current().unwrap().ptr_eq(invocation),
            "end runs in scope"
        );
        let what = match outcome {
            InvocationOutcome::Success(r) => format!("ok {}", r.json().unwrap()),
            InvocationOutcome::Error(e) => format!("err {}", e.message),
            InvocationOutcome::Panic(p) => {
                format!("panic {} at {}", p.message, p.location.is_some())
            }
            InvocationOutcome::Timeout(t) => format!("timeout after {:?}", t.elapsed),
        };
        self.1
            .0
            .lock()
            .unwrap()
            .push(format!("{} end {what}", self.0));
    }
}

fn event(id: u64) -> LambdaEvent<Value> {
    let mut ctx = lambda_runtime::Context::default();
    ctx.request_id = format!("req-{id}");
    LambdaEvent::new(json!({ "id": id }), ctx)
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let seen = Invocation::current().expect("handler runs in scope");
    assert_eq!(seen.context().request_id(), event.context.request_id);
    match event.payload["id"].as_u64() {
        Some(2) => Err("declined".into()),
        Some(3) => panic!("boom"),
        _ => Ok(json!({ "ok": event.payload["id"] })),
    }
}

#[tokio::test]
async fn hooks_run_in_order_on_ok_err_and_panic() {
    let rec = Arc::new(Recorder::default());
    let layer = InvocationLayer::new()
        .hook(Named("a", rec.clone()))
        .hook(Named("b", rec.clone()));
    let mut svc = layer.layer(service_fn(handler));

    let ok = svc.ready().await.unwrap().call(event(1)).await.unwrap();
    assert_eq!(ok, json!({ "ok": 1 }));
    let err = svc.ready().await.unwrap().call(event(2)).await.unwrap_err();
    assert_eq!(err.to_string(), "declined");
    let fut = svc.ready().await.unwrap().call(event(3));
    let panicked = tokio::spawn(fut).await.unwrap_err();
    assert!(panicked.is_panic(), "the panic resumes after the hooks");

    assert_eq!(
        *rec.0.lock().unwrap(),
        [
            "a start 1",
            "b start 1",
            "b end ok {\"ok\":1}",
            "a end ok {\"ok\":1}",
            "a start 2",
            "b start 2",
            "b end err declined",
            "a end err declined",
            "a start 3",
            "b start 3",
            "b end panic boom at true",
            "a end panic boom at true",
        ]
    );
    assert!(Invocation::current().is_none());
}

#[tokio::test]
async fn the_service_is_clone_for_run_concurrent() {
    fn assert_clone<T: Clone + Send + 'static>(_: &T) {}
    let svc = InvocationLayer::new().layer(service_fn(handler));
    assert_clone(&svc);
}

/// The panic location a hook sees, per invocation.
#[derive(Default)]
struct Locations(Mutex<Vec<Option<String>>>);

impl InvocationHook for Arc<Locations> {
    fn on_end(&self, _invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        if let InvocationOutcome::Panic(p) = outcome {
            self.0.lock().unwrap().push(p.location.clone());
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_location_is_the_panicking_invocations_own() {
    async fn panics(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        match event.payload["case"].as_str() {
            // A task outside the invocation's scope panics on this thread; the handler copes.
            Some("swallow") => {
                let joined = tokio::spawn(async { panic!("in a spawned task") }).await;
                assert!(joined.is_err());
                Ok(json!("coped"))
            }
            // A payload resumed without a panic hook running.
            Some("resume") => std::panic::resume_unwind(Box::new("resumed")),
            _ => panic!("in the handler"),
        }
    }
    let locations = Arc::new(Locations::default());
    let mut svc = InvocationLayer::new()
        .hook(locations.clone())
        .layer(service_fn(panics));
    for case in ["direct", "swallow", "resume"] {
        let mut event = event(9);
        event.payload["case"] = json!(case);
        let fut = svc.ready().await.unwrap().call(event);
        let joined = tokio::spawn(fut).await;
        assert_eq!(joined.is_err(), case != "swallow", "{case}");
    }
    let seen = locations.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "two invocations panicked");
    let first = seen[0]
        .as_deref()
        .expect("the handler's own panic has a location");
    assert!(first.contains("layer/tests.rs"), "{first}");
    assert_eq!(
        seen[1], None,
        "a resumed payload has no location of its own, never an earlier panic's on this thread"
    );
}

#[tokio::test]
async fn lambda_is_told_the_failures_own_type_and_message() {
    #[derive(Debug)]
    struct Declined;
    impl std::fmt::Display for Declined {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("card declined")
        }
    }
    impl std::error::Error for Declined {}

    async fn failing(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        match event.payload["case"].as_str() {
            Some("typed") => Err(Declined.into()),
            Some("string") => Err("plain failure".into()),
            _ => panic!("boom"),
        }
    }
    let mut svc = ReportErrorsLayer.layer(InvocationLayer::new().layer(service_fn(failing)));
    let mut diagnostic = async |case: &str| {
        let mut event = event(1);
        event.payload["case"] = json!(case);
        svc.ready().await.unwrap().call(event).await.unwrap_err()
    };
    let typed = diagnostic("typed").await;
    assert_eq!(
        (typed.error_type.as_str(), typed.error_message.as_str()),
        ("Declined", "card declined")
    );
    let string = diagnostic("string").await;
    assert_eq!(
        (string.error_type.as_str(), string.error_message.as_str()),
        ("Error", "plain failure")
    );
    let panicked = diagnostic("panic").await;
    assert_eq!(
        (
            panicked.error_type.as_str(),
            panicked.error_message.as_str()
        ),
        (PANIC_ERROR_TYPE, "boom")
    );
}

#[tokio::test]
async fn a_diagnostic_returned_by_the_handler_names_itself() {
    async fn named(_: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Diagnostic> {
        Err(lambda_runtime::Diagnostic {
            error_type: "Orders.Declined".into(),
            error_message: "declined".into(),
        })
    }
    let mut svc = ReportErrorsLayer.layer(InvocationLayer::new().layer(service_fn(named)));
    let error = svc.ready().await.unwrap().call(event(1)).await.unwrap_err();
    assert_eq!(error.error_type, "Orders.Declined");
}

#[tokio::test]
async fn an_invocation_still_running_near_its_deadline_is_written_out_before_it_ends() {
    async fn slow(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        let ms = event.payload["sleep_ms"].as_u64().unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        Ok(json!({ "slept": ms }))
    }
    let rec = Arc::new(Recorder::default());
    let mut svc = InvocationLayer::new()
        .timeout_margin(std::time::Duration::from_millis(200))
        .hook(Named("a", rec.clone()))
        .layer(service_fn(slow));
    let call = |sleep_ms: u64| {
        let mut event = event(sleep_ms);
        event.payload["sleep_ms"] = json!(sleep_ms);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        event.context.deadline = now + 400;
        event
    };
    // Cut at ~200 ms, finishes at 300 ms: written once, as a timeout; the result still returned.
    let late = svc.ready().await.unwrap().call(call(300)).await.unwrap();
    assert_eq!(late, json!({ "slept": 300 }));
    // Finishes well before the cut-off: an ordinary end.
    let quick = svc.ready().await.unwrap().call(call(10)).await.unwrap();
    assert_eq!(quick, json!({ "slept": 10 }));
    let seen = rec.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen[1].starts_with("a end timeout after"), "{seen:?}");
    assert_eq!(seen[2], "a end ok {\"slept\":300}", "then its real end");
    assert_eq!(seen[4], "a end ok {\"slept\":10}");
}

#[tokio::test]
async fn an_err_is_located_at_the_handler_never_at_an_absolute_path() {
    #[derive(Default)]
    struct ErrLocation(Mutex<Vec<Option<String>>>);
    impl InvocationHook for Arc<ErrLocation> {
        fn on_end(&self, _: &Invocation, outcome: &InvocationOutcome<'_>) {
            if let InvocationOutcome::Error(e) = outcome {
                self.0.lock().unwrap().push(e.location.clone());
            }
        }
    }
    let seen = Arc::new(ErrLocation::default());
    for location in ["src/main.rs:26", "/home/me/build/orders/src/main.rs:26"] {
        let mut svc = InvocationLayer::new()
            .handler_location(location)
            .hook(seen.clone())
            .layer(service_fn(handler));
        let _ = svc.ready().await.unwrap().call(event(2)).await;
    }
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            Some("src/main.rs:26".to_owned()),
            Some("orders/src/main.rs:26".to_owned())
        ]
    );
}
