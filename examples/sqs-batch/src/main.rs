//! SQS batch processor: each record is processed on its own, with its `message_id` on the log
//! lines written meanwhile and a subsegment of its own in X-Ray; the records that failed go back
//! to the queue through a partial batch response (`batchItemFailures`), the others are deleted.
//!
//! A record fails when its body is not JSON or is `{"fail": true}`. The batch's counts go to the
//! `ProcessedRecords` and `FailedRecords` metrics.
//!
//! Build and deploy, from the workspace root:
//!
//! ```text
//! cargo lambda build --release --arm64 --package sqs-batch
//! sam deploy --guided --template-file examples/sqs-batch/template.yaml
//! ```
//!
//! The event source mapping must have `FunctionResponseTypes: [ReportBatchItemFailures]` (see
//! `template.yaml`), or Lambda ignores the response and retries the whole batch on an `Err`
//! only. Locally: `cargo xtask demo --example sqs-batch`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use powertools::metrics::Unit;
use serde_json::Value;
use tracing::Instrument;

/// Everything not given here comes from the `POWERTOOLS_*` environment (see `template.yaml`).
#[powertools::handler(main)]
async fn handler(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let records = event.payload.records;
    tracing::info!(records = records.len(), "batch received");

    let mut response = SqsBatchResponse::default();
    let mut processed = 0_u32;
    // One record after the other: the `message_id` key belongs to the invocation, so records
    // processed concurrently would overwrite each other's.
    for record in &records {
        // A record without an id cannot be reported alone; an empty identifier makes Lambda
        // retry the whole batch, which is the safe outcome.
        let message_id = record.message_id.as_deref().unwrap_or_default();
        powertools::logger::append_key("message_id", message_id)?;

        let span = tracing::info_span!("process_record", xray.annotation.message_id = message_id);
        match process_record(record).instrument(span.clone()).await {
            Ok(()) => processed += 1,
            Err(reason) => {
                // Inside the span: its subsegment is flagged with this cause.
                span.in_scope(|| tracing::error!(reason, "record failed"));
                response.add_failure(message_id);
            }
        }
        powertools::logger::remove_key("message_id");
    }

    let failed = response.batch_item_failures.len();
    let metrics = powertools::metrics::current();
    metrics.add_metric("ProcessedRecords", Unit::Count, f64::from(processed))?;
    metrics.add_metric("FailedRecords", Unit::Count, failed as f64)?;
    tracing::info!(processed, failed, "batch processed");
    Ok(response)
}

/// One record: its body must be JSON and must not ask to fail.
async fn process_record(record: &SqsMessage) -> Result<(), String> {
    let body = record.body.as_deref().unwrap_or_default();
    let message: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if message["fail"] == true {
        return Err("the message asks to fail".to_owned());
    }
    // Real work (a database write, a call) would be awaited here.
    tokio::task::yield_now().await;
    tracing::info!(order_id = message["order_id"].as_str(), "record processed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use powertools::testing::TestHarness;

    fn batch(bodies: &[(&str, &str)]) -> SqsEvent {
        let mut event = SqsEvent::default();
        for (id, body) in bodies {
            let mut record = SqsMessage::default();
            record.message_id = Some((*id).to_owned());
            record.body = Some((*body).to_owned());
            event.records.push(record);
        }
        event
    }

    #[tokio::test]
    async fn bad_records_are_reported_alone() {
        let run = TestHarness::new()
            .invoke(
                super::handler,
                batch(&[
                    ("m-1", r#"{"order_id": "o-1"}"#),
                    ("m-2", "not json"),
                    ("m-3", r#"{"fail": true}"#),
                    ("m-4", r#"{"order_id": "o-4"}"#),
                ]),
            )
            .await;

        let failures: Vec<&str> = run
            .result
            .as_ref()
            .unwrap()
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failures, ["m-2", "m-3"]);
        assert_eq!(run.metric_values("ProcessedRecords"), vec![2.0]);
        assert_eq!(run.metric_values("FailedRecords"), vec![2.0]);

        // Each record's lines carry its id; the key is gone afterwards.
        let keyed: Vec<(&str, &str)> = run
            .logs
            .iter()
            .map(|l| {
                (
                    l["message"].as_str().unwrap(),
                    l["message_id"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        assert_eq!(
            keyed,
            [
                ("batch received", "-"),
                ("record processed", "m-1"),
                ("record failed", "m-2"),
                ("record failed", "m-3"),
                ("record processed", "m-4"),
                ("batch processed", "-"),
            ]
        );

        let handler = run.subsegment("## handler").unwrap();
        let records = handler["subsegments"].as_array().unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(records[1]["annotations"]["message_id"], "m-2");
        assert_eq!(records[1]["error"], true);
        assert!(records[0].get("error").is_none());
    }
}
