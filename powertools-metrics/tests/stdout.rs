//! What reaches stdout: the default sink (one line per document), warning and error lines, and
//! nothing at all when disabled. Each case runs this test binary again as a child process and
//! reads its real stdout.

mod support;

use std::process::Command;

use powertools_metrics::{Metrics, Unit};

const CHILD: &str = "POWERTOOLS_METRICS_TEST_CHILD";

/// Runs the named test in a child process (with `CHILD` set) and returns the JSON objects on its
/// stdout (the test harness's own text is left out).
fn run_child(test: &str, env: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        // The harness prints `test name ... ` before the test's own output, on the same line.
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

#[test]
fn child_records_through_stdout() {
    if !is_child() {
        return;
    }
    let metrics = Metrics::builder().namespace("Stdout").build().unwrap();
    metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
    metrics.flush().unwrap();
    metrics.flush().unwrap(); // empty: a warning line
    let strict = Metrics::builder()
        .namespace("Stdout")
        .raise_on_empty_metrics(true)
        .build()
        .unwrap();
    let hook = strict.invocation_hook();
    support::end_ok(&hook, &support::invocation("req-1", false)); // an error line
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(15 * 24 * 3600);
    metrics.set_timestamp(t).unwrap();
    metrics.set_timestamp(t).unwrap(); // warned once only
}

#[test]
fn stdout_carries_documents_warnings_and_errors() {
    if is_child() {
        return;
    }
    let lines = run_child(
        "child_records_through_stdout",
        &[("POWERTOOLS_METRICS_DISABLED", "false")],
    );
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let doc = support::emf::check_document(&lines[0].to_string()).unwrap();
    assert_eq!(doc["Orders"], 1);
    assert_eq!(lines[1]["level"], "WARN");
    assert!(
        lines[1]["message"]
            .as_str()
            .unwrap()
            .contains("No application metrics")
    );
    assert_eq!(lines[2]["level"], "ERROR");
    assert_eq!(lines[2]["message"], "no metrics were recorded");
    assert_eq!(lines[3]["level"], "WARN");
    assert!(lines[3]["message"].as_str().unwrap().contains("14 days"));
}

#[test]
fn disabled_by_the_environment_writes_nothing_at_all() {
    if is_child() {
        return;
    }
    let lines = run_child(
        "child_records_through_stdout",
        &[("POWERTOOLS_METRICS_DISABLED", "true")],
    );
    assert!(lines.is_empty(), "{lines:#?}");
}

#[test]
fn child_writes_one_document() {
    if !is_child() {
        return;
    }
    let metrics = Metrics::builder().namespace("Stdout").build().unwrap();
    metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
    metrics.flush().unwrap();
}

#[test]
fn lambdas_level_filter_keeps_the_documents() {
    if is_child() {
        return;
    }
    // Lambda drops a line without a `level` (counted as INFO) at WARN and above.
    for (filter, level) in [("WARN", "WARN"), ("error", "ERROR"), ("FATAL", "FATAL")] {
        let lines = run_child(
            "child_writes_one_document",
            &[("AWS_LAMBDA_LOG_LEVEL", filter)],
        );
        assert_eq!(lines.len(), 1, "{lines:#?}");
        let doc = support::emf::check_document(&lines[0].to_string()).unwrap();
        assert_eq!(doc["Orders"], 1);
        assert_eq!(doc["level"], level, "{filter}");
    }
    for filter in ["INFO", "DEBUG", ""] {
        let lines = run_child(
            "child_writes_one_document",
            &[("AWS_LAMBDA_LOG_LEVEL", filter)],
        );
        assert!(lines[0].get("level").is_none(), "{filter}: {lines:#?}");
    }
}
