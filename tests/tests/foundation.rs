//! The foundation end to end: a real example binary, the real `lambda_runtime` client, the local
//! Runtime API.

use std::time::{Duration, Instant};

use powertools_e2e::function::{FunctionHarness, workspace_binary};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use serde_json::json;

#[tokio::test]
async fn cold_warm_and_failing_invocations() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .start()
        .await;

    let cold = ScriptedEvent::new(json!({ "name": "Ada" }));
    let (cold_id, cold_root) = (
        cold.request_id.clone(),
        cold.trace_root().unwrap().to_owned(),
    );
    let out = f.invoke(cold).await;
    let body = out.response().expect("cold invocation answers");
    assert_eq!(body["message"], "Hello, Ada!");
    assert_eq!(body["invocation"]["request_id"], cold_id.as_str());
    assert_eq!(body["invocation"]["trace_id"], cold_root.as_str());
    assert_eq!(body["invocation"]["cold_start"], true);

    let warm = ScriptedEvent::new(json!({ "name": "Grace" }));
    let warm_id = warm.request_id.clone();
    let out = f.invoke(warm).await;
    let body = out.response().expect("warm invocation answers");
    assert_eq!(body["invocation"]["request_id"], warm_id.as_str());
    assert_eq!(body["invocation"]["cold_start"], false);

    let out = f.invoke(ScriptedEvent::new(json!({ "fail": true }))).await;
    let err = out.error().expect("failing invocation reports an error");
    assert_eq!(err["errorMessage"], "the order was declined");
    assert!(f.is_alive(), "the process survives a failing invocation");

    let out = f.invoke(ScriptedEvent::new(json!({ "panic": true }))).await;
    let err = out.error().expect("panicking invocation reports an error");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("the handler panicked on purpose"),
        "{err}"
    );
    assert!(f.is_alive(), "the process survives a panicking invocation");

    let out = f
        .invoke(ScriptedEvent::new(json!({ "name": "after" })))
        .await;
    assert_eq!(out.response().unwrap()["message"], "Hello, after!");
    f.stop().await;
}

#[tokio::test]
async fn thirty_two_concurrent_invocations_each_see_their_own_context() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "32")
        .start()
        .await;
    let events: Vec<ScriptedEvent> = (0..32)
        .map(|n| ScriptedEvent::new(json!({ "name": format!("n{n}"), "sleep_ms": 200 })))
        .collect();
    let expected: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.request_id.clone(), e.trace_root().unwrap().to_owned()))
        .collect();
    let outcomes = f.invoke_all(events).await;
    let mut cold = 0;
    let mut peak = 0;
    for (n, (outcome, (id, root))) in outcomes.iter().zip(&expected).enumerate() {
        let body = outcome.response().expect("answers");
        assert_eq!(body["message"], format!("Hello, n{n}!"));
        assert_eq!(body["invocation"]["request_id"], id.as_str());
        assert_eq!(body["invocation"]["trace_id"], root.as_str());
        cold += usize::from(body["invocation"]["cold_start"] == true);
        peak = peak.max(body["in_flight"].as_u64().unwrap());
    }
    assert_eq!(cold, 1, "exactly one cold start per process");
    assert!(
        peak > 1,
        "invocations overlapped in one process (peak {peak})"
    );
    f.stop().await;
}

/// The harness behaves like Lambda at the deadline (`enforce_deadlines`): an invocation past its
/// deadline gets `Sandbox.Timedout` without waiting for the handler, the process is killed
/// (what it wrote until then is kept), and the next invocation runs in a new process, cold.
#[tokio::test]
async fn the_harness_kills_at_the_deadline_and_restarts_like_lambda() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .enforce_deadlines()
        .start()
        .await;
    let first = f.invoke(ScriptedEvent::new(json!({ "name": "Ada" }))).await;
    assert_eq!(first.response().unwrap()["invocation"]["cold_start"], true);
    let first_pid = f.pid().unwrap();

    let slow = ScriptedEvent::new(json!({ "name": "Slow", "sleep_ms": 10_000 })).deadline_in(500);
    let started = Instant::now();
    let outcome = f.invoke(slow.clone()).await;
    let waited = started.elapsed();
    assert!(outcome.timed_out(), "{outcome:?}");
    let Outcome::TimedOut { body } = &outcome else {
        unreachable!()
    };
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    let message = body["errorMessage"].as_str().unwrap();
    let prefix = format!(
        "RequestId: {} Error: Task timed out after ",
        slow.request_id
    );
    assert!(
        message.starts_with(&prefix) && message.ends_with(" seconds"),
        "{message}"
    );
    assert!(
        (Duration::from_millis(480)..Duration::from_secs(3)).contains(&waited),
        "answered at the deadline, not when the handler ended: {waited:?}"
    );

    let next = f
        .invoke(ScriptedEvent::new(json!({ "name": "Next" })))
        .await;
    let body = next.response().expect("the new process answers");
    assert_eq!(body["message"], "Hello, Next!");
    assert_eq!(body["invocation"]["cold_start"], true, "a new process");
    assert_ne!(f.pid().unwrap(), first_pid);
    let out = f.stop().await;

    assert_eq!(out.restarts.len(), 1, "{:#?}", out.restarts);
    let restart = &out.restarts[0];
    assert_eq!(restart.pid, first_pid);
    assert_eq!(restart.timed_out, std::slice::from_ref(&slow.request_id));
    assert!(restart.stopped.is_empty());
    assert_eq!(restart.exit, "signal: 9 (SIGKILL)");
    let written = out.stdout[..restart.stdout_lines]
        .iter()
        .position(|l| l.contains(&slow.request_id) && l.contains("greeting requested"));
    assert!(
        written.is_some(),
        "the line the killed process wrote before its deadline is kept: {:#?}",
        out.stdout
    );
    assert_eq!(
        out.logs_with_message("greeting requested").len(),
        3,
        "one line per invocation, none lost or repeated"
    );
}

/// Two invocations in flight in one process (`AWS_LAMBDA_MAX_CONCURRENCY`): when one passes its
/// deadline the process is killed, the other is lost with it (`Stopped`, `Runtime.ExitError`),
/// and the queued events go to the new process.
#[tokio::test]
async fn a_timeout_stops_the_other_invocations_of_the_process() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "2")
        .enforce_deadlines()
        .start()
        .await;
    let slow = ScriptedEvent::new(json!({ "name": "Slow", "sleep_ms": 10_000 })).deadline_in(800);
    let other = ScriptedEvent::new(json!({ "name": "Other", "sleep_ms": 10_000 }));
    let outcomes = f.invoke_all(vec![slow.clone(), other.clone()]).await;
    assert!(outcomes[0].timed_out(), "{:?}", outcomes[0]);
    match &outcomes[1] {
        Outcome::Stopped { body } => assert_eq!(body["errorType"], "Runtime.ExitError"),
        o => panic!("expected Stopped, got {o:?}"),
    }
    let after = f
        .invoke(ScriptedEvent::new(json!({ "name": "After" })))
        .await;
    assert_eq!(after.response().unwrap()["message"], "Hello, After!");
    let out = f.stop().await;
    assert_eq!(out.restarts.len(), 1);
    assert_eq!(out.restarts[0].timed_out, [slow.request_id]);
    assert_eq!(out.restarts[0].stopped, [other.request_id]);
}

/// `sigterm` sends SIGTERM (what Lambda sends before shutdown when an extension is registered):
/// the function ends within Lambda's shutdown grace (by the signal's default action, or by the
/// toolkit's own handling of it, which writes what is in flight and exits).
#[tokio::test]
async fn sigterm_reaches_the_function() {
    let mut f = FunctionHarness::new(workspace_binary("hello-world"))
        .start()
        .await;
    let out = f.invoke(ScriptedEvent::new(json!({ "name": "Ada" }))).await;
    assert!(out.response().is_some());
    assert!(f.sigterm(), "sent");
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.is_alive() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !f.is_alive(),
        "the default action of SIGTERM ends the process"
    );
    let out = f.terminate(Duration::from_millis(100)).await;
    assert_eq!(out.logs_with_message("greeting requested").len(), 1);
}
