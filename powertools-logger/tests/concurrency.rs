//! Many invocations at once in one process: each line carries its own invocation's keys only.

mod common;

use std::time::Duration;

use common::{install, logger};
use powertools_core::Invocation;
use tracing::instrument::WithSubscriber;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invocations_never_see_each_others_keys() {
    let (logger, sink) = logger(&[]);
    let (dispatch, _hook) = install(logger);
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let invocation = Invocation::for_test(&format!("req-{n}"));
            let work = async move {
                powertools_logger::append_key("invocation", n).unwrap();
                powertools_logger::append_key(&format!("only_{n}"), true).unwrap();
                powertools_logger::set_correlation_id(&format!("corr-{n}"));
                for step in 0..10 {
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_micros(200)).await;
                    tracing::info!(step, "working");
                }
                // A task spawned by the handler carries the invocation explicitly.
                let current = Invocation::current().unwrap();
                tokio::spawn(
                    current
                        .scope(async { tracing::info!(step = 10, "from a spawned task") })
                        .with_subscriber(tracing::dispatcher::get_default(Clone::clone)),
                )
                .await
                .unwrap();
            };
            tokio::spawn(invocation.scope(work).with_subscriber(dispatch.clone()))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let lines = sink.json_lines();
    assert_eq!(lines.len(), 64 * 11);
    for line in &lines {
        let request = line["function_request_id"].as_str().unwrap();
        let n: u64 = request.strip_prefix("req-").unwrap().parse().unwrap();
        assert_eq!(line["invocation"], n, "{line}");
        assert_eq!(line["correlation_id"], format!("corr-{n}"));
        let only: Vec<_> = line
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("only_"))
            .collect();
        assert_eq!(only, [&format!("only_{n}")], "{line}");
    }
    assert!(Invocation::current().is_none());
}
