//! The function of `tests/tests/failures.rs`: a typed handler (`LambdaEvent<Order>`) that fails
//! in each way a handler can, chosen by the order's `case`.
//!
//! Every invocation that reaches the handler records `Attempts` 1 and the metadata `request_id`
//! (so each EMF document names its request), then:
//! - `ok`: records `Orders` 1 and answers `{"ok": true, "id": …}`;
//! - `typed`: returns `Err(Declined)` ("order declined: insufficient funds", whose `source()` is
//!   `CardExpired`, "card expired");
//! - `string`: returns `Err("plain failure".into())`;
//! - `panic`: panics with "boom";
//! - `timeout`: writes an INFO and a DEBUG line, then sleeps `sleep_ms` inside the span
//!   `charge_card` (the tests make that longer than the deadline);
//! - anything else: `Err("unknown case …")`.
//!
//! Other cases than `timeout` sleep `sleep_ms` first (outside any span), so that invocations
//! overlap under `AWS_LAMBDA_MAX_CONCURRENCY`. An event that is not an `Order` (`{"id": 5}`)
//! never reaches the handler.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent};
use powertools::metrics::Unit;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::Instrument;

/// The event. (`Serialize` too: the toolkit may render the event, e.g. for event logging.)
#[derive(Debug, Deserialize, Serialize)]
struct Order {
    id: String,
    amount: u64,
    #[serde(default)]
    case: String,
    #[serde(default)]
    sleep_ms: u64,
}

/// The error of the `typed` case.
#[derive(Debug)]
struct Declined {
    reason: String,
    source: CardExpired,
}

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order declined: {}", self.reason)
    }
}

impl StdError for Declined {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// The source of [`Declined`].
#[derive(Debug)]
struct CardExpired;

impl fmt::Display for CardExpired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card expired")
    }
}

impl StdError for CardExpired {}

#[powertools::handler(service = "failures", namespace = "Failures", main)]
async fn handler(event: LambdaEvent<Order>) -> Result<Value, Error> {
    let order = event.payload;
    let metrics = powertools::metrics::current();
    metrics.add_metadata("request_id", event.context.request_id.clone())?;
    metrics.add_metric("Attempts", Unit::Count, 1.0)?;
    tracing::info!(order_id = %order.id, amount = order.amount, case = %order.case, "order received");
    if order.case != "timeout" && order.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(order.sleep_ms)).await;
    }
    match order.case.as_str() {
        "ok" => {
            metrics.add_metric("Orders", Unit::Count, 1.0)?;
            Ok(json!({ "ok": true, "id": order.id }))
        }
        "typed" => Err(Declined {
            reason: "insufficient funds".to_owned(),
            source: CardExpired,
        }
        .into()),
        "string" => Err("plain failure".into()),
        "panic" => panic!("boom"),
        "timeout" => {
            tracing::info!(sleep_ms = order.sleep_ms, "charging the card");
            tracing::debug!(order_id = %order.id, "waiting for the card processor");
            async {
                tokio::time::sleep(Duration::from_millis(order.sleep_ms)).await;
            }
            .instrument(tracing::info_span!("charge_card"))
            .await;
            Ok(json!({ "ok": true, "id": order.id }))
        }
        other => Err(format!("unknown case {other:?}").into()),
    }
}
