//! Many invocations at once through the real invocation layer: documents never mix, spawned
//! tasks are attributed through an explicit handle, and every document is schema-valid.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use lambda_runtime::{Context, LambdaEvent, service_fn};
use powertools_core::layer::InvocationLayer;
use powertools_metrics::{CaptureSink, Metrics, Unit};
use serde_json::{Value, json};
use tower::{Service, ServiceBuilder, ServiceExt};

async fn handler(
    metrics: Metrics,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let n = event.payload["n"].as_u64().unwrap_or_default();
    metrics.add_metadata("n", n)?;
    metrics.add_dimension("parity", if n.is_multiple_of(2) { "even" } else { "odd" })?;
    for step in 0..5 {
        metrics.add_metric("Step", Unit::Count, (n * 10 + step) as f64)?;
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_micros(100)).await;
    }
    // A spawned task is outside the invocation's scope: it records through a bound handle.
    let bound = metrics.for_current_invocation();
    tokio::spawn(async move { bound.add_metric("Spawned", Unit::Count, n as f64) }).await??;
    if n.is_multiple_of(7) {
        return Err(format!("invocation {n} fails").into());
    }
    Ok(json!({ "n": n }))
}

fn event(n: u64) -> LambdaEvent<Value> {
    let mut ctx = Context::default();
    ctx.request_id = format!("req-{n}");
    LambdaEvent::new(json!({ "n": n }), ctx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invocations_never_mix() {
    const N: u64 = 64;
    let sink = CaptureSink::new();
    let metrics = support::builder(&sink)
        .capture_cold_start_metric(false)
        .build()
        .unwrap();
    let m = metrics.clone();
    let service = ServiceBuilder::new()
        .layer(InvocationLayer::new().hook(metrics.invocation_hook()))
        .service(service_fn(move |e| handler(m.clone(), e)));

    let tasks: Vec<_> = (0..N)
        .map(|n| {
            let service = service.clone();
            tokio::spawn(async move { service.oneshot(event(n)).await })
        })
        .collect();
    for (n, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        assert_eq!(result.is_err(), (n as u64).is_multiple_of(7));
    }

    let docs = support::checked(&sink);
    assert_eq!(
        docs.len(),
        N as usize,
        "one document per invocation, failures included"
    );
    let mut seen = HashSet::new();
    for doc in &docs {
        let n = doc["n"].as_u64().unwrap();
        let steps: Vec<u64> = doc["Step"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(
            steps,
            (0..5).map(|s| n * 10 + s).collect::<Vec<_>>(),
            "doc {doc}"
        );
        assert_eq!(doc["Spawned"], n);
        assert_eq!(
            doc["parity"],
            if n.is_multiple_of(2) { "even" } else { "odd" }
        );
        assert!(seen.insert(n), "one document per invocation");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn through_the_layer_a_call_flushes_before_returning() {
    let sink = CaptureSink::new();
    let metrics = support::builder(&sink)
        .capture_cold_start_metric(false)
        .build()
        .unwrap();
    let m = metrics.clone();
    let mut service = ServiceBuilder::new()
        .layer(InvocationLayer::new().hook(metrics.invocation_hook()))
        .service(service_fn(move |e| handler(m.clone(), e)));
    let response = service.ready().await.unwrap().call(event(3)).await.unwrap();
    assert_eq!(response, json!({"n": 3}));
    assert_eq!(
        support::checked(&sink).len(),
        1,
        "written before the response was returned"
    );
}
