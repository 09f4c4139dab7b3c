//! The function of `tests/tests/nothing_lost.rs`: every way the toolkit could lose telemetry
//! silently, chosen by the event's `case`.
//!
//! `main` calls `powertools::metrics::current()` before any layer exists (as init code reaching
//! for metrics early would), then builds the layer with the namespace and service given in code
//! only: `PowertoolsLayer::builder()` (default), or the `#[powertools::handler]` attribute when
//! `NOTHING_LOST_LAYER=attribute`.
//!
//! Cases (`{"case": "…"}`; the answer reports what the toolkit said as `"Ok"` or the error's
//! text):
//! - `plain`: one log line `plain`, nothing else;
//! - `metric`: `Orders` 1 through `powertools::metrics::current()`;
//! - `spawn_unscoped_metric`: `Orders` 1, then `Unscoped` 1 from a plain `tokio::spawn`;
//! - `spawn_late_metric`: `Orders` 1, then a task in the invocation's scope records `Late` 1
//!   about 200 ms after the handler returned, and logs (and prints to stderr) what it was told;
//! - `huge_metrics`: 99 metrics of 255-character names, 99 values each ([`huge_metric_name`],
//!   [`huge_metric_value`]): more than one CloudWatch event of EMF;
//! - `huge_metadata`: `meta0`…`meta7` of 40,000 characters each (answered as `meta`: what each
//!   `add_metadata` said) and `Orders` 1, then one value of 300,000 characters under `huge`;
//! - `huge_log`: a line with a 400,000-character field `big`, a line with a 400,000-character
//!   message;
//! - `append_key_unscoped`: `append_key("user_id", <event's user_id>)` from a plain
//!   `tokio::spawn`;
//! - `panic_here`: panics in the handler; `spawn_panic`: a plain `tokio::spawn`ed task panics
//!   and the handler resumes its panic; `caught_panic`: a panic the handler catches itself
//!   (answers with its location). Each panic message names the panic's own `file:line`.

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use powertools::PowertoolsLayer;
use powertools::core::Invocation;
use powertools::metrics::Unit;
use serde_json::{Value, json};
use tower::ServiceBuilder;

/// The service name, given in code only.
const SERVICE: &str = "nothing-lost";
/// The metrics namespace, given in code only.
const NAMESPACE: &str = "NothingLost";

/// The name of metric `i` of the `huge_metrics` case: 255 characters.
fn huge_metric_name(i: usize) -> String {
    format!("Huge{i:02}{}", "x".repeat(249))
}

/// Value `j` of metric `i` of the `huge_metrics` case: distinct, 17 significant digits.
fn huge_metric_value(i: usize, j: usize) -> f64 {
    1e-100 * (1.0 + (i * 99 + j) as f64 / 9801.0 * std::f64::consts::PI)
}

/// `"Ok"`, or what the error says.
fn said<E: std::fmt::Display>(result: &Result<(), E>) -> String {
    match result {
        Ok(()) => "Ok".to_owned(),
        Err(e) => e.to_string(),
    }
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = event.payload;
    let case = payload["case"].as_str().unwrap_or("plain").to_owned();
    let metrics = powertools::metrics::current();
    let answer = match case.as_str() {
        "plain" => {
            tracing::info!("plain");
            json!({})
        }
        "metric" => {
            metrics.add_metric("Orders", Unit::Count, 1.0)?;
            json!({})
        }
        "spawn_unscoped_metric" => {
            metrics.add_metric("Orders", Unit::Count, 1.0)?;
            let result = tokio::spawn(async {
                powertools::metrics::current().add_metric("Unscoped", Unit::Count, 1.0)
            })
            .await?;
            json!({ "unscoped": said(&result) })
        }
        "spawn_late_metric" => {
            metrics.add_metric("Orders", Unit::Count, 1.0)?;
            let invocation = Invocation::current().ok_or("no invocation in the handler")?;
            tokio::spawn(invocation.scope(async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let result = powertools::metrics::current().add_metric("Late", Unit::Count, 1.0);
                tracing::info!(result = %said(&result), "late metric");
                eprintln!("late metric: {}", said(&result));
            }));
            json!({})
        }
        "huge_metrics" => {
            for i in 0..99 {
                let name = huge_metric_name(i);
                for j in 0..99 {
                    metrics.add_metric(&name, Unit::Count, huge_metric_value(i, j))?;
                }
            }
            json!({})
        }
        "huge_metadata" => {
            let meta: Vec<String> = (0..8u8)
                .map(|k| {
                    let value = char::from(b'a' + k).to_string().repeat(40_000);
                    said(&metrics.add_metadata(&format!("meta{k}"), value))
                })
                .collect();
            metrics.add_metric("Orders", Unit::Count, 1.0)?;
            let result = metrics.add_metadata("huge", "z".repeat(300_000));
            tracing::info!(result = %said(&result), "huge metadata");
            json!({ "meta": meta, "huge": said(&result) })
        }
        "huge_log" => {
            let big = "x".repeat(400_000);
            tracing::info!(big = %big, "huge field");
            tracing::info!("{}", "y".repeat(400_000));
            json!({})
        }
        "append_key_unscoped" => {
            let user = payload["user_id"].as_str().unwrap_or("u-1").to_owned();
            let result =
                tokio::spawn(async move { powertools::logger::append_key("user_id", user) })
                    .await?;
            tracing::info!(result = %said(&result), "append key");
            json!({ "append_key": said(&result) })
        }
        "panic_here" => {
            panic!("panic_here at {}:{}", file!(), line!());
        }
        "spawn_panic" => {
            let joined = tokio::spawn(spawned_panic()).await;
            match joined {
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                other => json!({ "spawned": format!("{other:?}") }),
            }
        }
        "caught_panic" => {
            let at = format!("{}:{}", file!(), line!() + 1);
            let caught = std::panic::catch_unwind(|| panic!("caught on purpose")).is_err();
            json!({ "caught": caught, "at": at })
        }
        other => return Err(format!("unknown case {other:?}").into()),
    };
    Ok(answer)
}

/// The task `spawn_panic` spawns, outside any invocation scope.
async fn spawned_panic() {
    tokio::task::yield_now().await;
    panic!("spawned task at {}:{}", file!(), line!());
}

/// The same handler behind the attribute (`NOTHING_LOST_LAYER=attribute`).
#[powertools::handler(service = "nothing-lost", namespace = "NothingLost")]
async fn attributed(event: LambdaEvent<Value>) -> Result<Value, Error> {
    handler(event).await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Init code reaching for metrics before any layer is built.
    let _early = powertools::metrics::current();
    if std::env::var("NOTHING_LOST_LAYER").as_deref() == Ok("attribute") {
        return lambda_runtime::run_concurrent(service_fn(attributed)).await;
    }
    let layer = PowertoolsLayer::builder()
        .service(SERVICE)
        .namespace(NAMESPACE)
        .build()?;
    lambda_runtime::run_concurrent(
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(handler)),
    )
    .await
}
