//! `powertools-local`: runs a Lambda function binary locally against a local Lambda Runtime API
//! and shows what CloudWatch Logs, CloudWatch metrics (EMF) and X-Ray would receive.
//!
//! ```text
//! powertools-local [--example NAME | --binary PATH] [--event FILE|DIR]... [--repeat N]
//!                  [--env KEY=VALUE]... [--raw]
//! ```
//! Without `--event`, the events in `examples/NAME/events/` are sent in name order.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use powertools_e2e::capture::Captured;
use powertools_e2e::function::{FunctionHarness, workspace_binary, workspace_root};
use powertools_e2e::render::{Style, render_log_line, render_metrics_table, render_waterfall};
use powertools_e2e::runtime_api::{Outcome, ScriptedEvent};
use serde_json::Value;

struct Options {
    example: String,
    binary: Option<PathBuf>,
    events: Vec<PathBuf>,
    repeat: usize,
    env: Vec<(String, String)>,
    raw: bool,
}

const USAGE: &str = "usage: powertools-local [--example NAME | --binary PATH] [--event FILE|DIR]... \
[--repeat N] [--env KEY=VALUE]... [--raw]";

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        example: "hello-world".into(),
        binary: None,
        events: Vec::new(),
        repeat: 1,
        env: Vec::new(),
        raw: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--example" => o.example = value()?,
            "--binary" => o.binary = Some(value()?.into()),
            "--event" => o.events.push(value()?.into()),
            "--repeat" => o.repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--env" => {
                let kv = value()?;
                let (k, v) = kv.split_once('=').ok_or("--env takes KEY=VALUE")?;
                o.env.push((k.to_owned(), v.to_owned()));
            }
            "--raw" => o.raw = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(o)
}

fn event_files(o: &Options) -> Result<Vec<PathBuf>, String> {
    let sources = if o.events.is_empty() {
        vec![
            workspace_root()
                .join("examples")
                .join(&o.example)
                .join("events"),
        ]
    } else {
        o.events.clone()
    };
    let mut files = Vec::new();
    for s in sources {
        if s.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(&s)
                .map_err(|e| format!("{}: {e}", s.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(s);
        }
    }
    if files.is_empty() {
        return Err("no events to send (give --event FILE)".into());
    }
    Ok(files)
}

fn show(
    index: usize,
    total: usize,
    event: &ScriptedEvent,
    outcome: &Outcome,
    new: &Captured,
    o: &Options,
    style: Style,
) {
    let cold = new.logs.iter().any(|l| l["cold_start"] == true);
    let verdict = match outcome {
        Outcome::Response(_) => style.paint("1;32", "OK"),
        Outcome::Error { .. } => style.paint("1;31", "FAILED"),
        Outcome::TimedOut { .. } => style.paint("1;31", "TIMED OUT"),
        Outcome::Stopped { .. } => style.paint("1;31", "STOPPED"),
    };
    println!(
        "\n{} {verdict}{}  request {}",
        style.paint("1;7", &format!(" invocation {index}/{total} ")),
        if cold {
            style.paint("1;36", " (cold start)")
        } else {
            String::new()
        },
        event.request_id
    );
    if o.raw {
        for l in &new.stdout {
            println!("{l}");
        }
        for d in &new.datagrams {
            println!(
                "udp> {}",
                String::from_utf8_lossy(&d.raw).replace('\n', "\\n")
            );
        }
        return;
    }
    // What CloudWatch keeps: long lines cut into events, Lambda's log-level filter applied.
    let new = &new.cloudwatch();
    println!("{}", style.paint("1;4", "CloudWatch Logs"));
    for l in &new.logs {
        print!("{}", render_log_line(l, style));
    }
    for l in new.non_json.iter().chain(&new.stderr) {
        println!("      {}", style.paint("2", l));
    }
    let emf: Vec<&Value> = new.emf.iter().collect();
    if !emf.is_empty() {
        println!("{}", style.paint("1;4", "CloudWatch metrics (EMF)"));
        print!("{}", render_metrics_table(&emf, style));
    }
    let docs = new.xray();
    if !docs.is_empty() {
        println!(
            "{}  trace {}",
            style.paint("1;4", "X-Ray"),
            event.trace_root().unwrap_or("-")
        );
        print!("{}", render_waterfall(&docs, event.trace_parent(), style));
    }
    match outcome {
        Outcome::Response(v) => println!("{} {v}", style.paint("1", "response:")),
        Outcome::Error { body, .. } => println!("{} {body}", style.paint("1;31", "error report:")),
        Outcome::TimedOut { body } | Outcome::Stopped { body } => {
            println!("{} {body}", style.paint("1;31", "Lambda reports:"));
        }
    }
}

fn slice(all: &Captured, before: &Captured) -> Captured {
    Captured {
        stdout: all.stdout[before.stdout.len()..].to_vec(),
        stderr: all.stderr[before.stderr.len()..].to_vec(),
        logs: all.logs[before.logs.len()..].to_vec(),
        emf: all.emf[before.emf.len()..].to_vec(),
        non_json: all.non_json[before.non_json.len()..].to_vec(),
        datagrams: all.datagrams[before.datagrams.len()..].to_vec(),
        log_filter: all.log_filter,
        restarts: all.restarts[before.restarts.len()..].to_vec(),
    }
}

async fn run(o: Options) -> Result<(), String> {
    let style = Style::detect();
    let files = event_files(&o)?;
    let binary = if let Some(b) = &o.binary {
        b.clone()
    } else {
        eprintln!("building example {} …", o.example);
        workspace_binary(&o.example)
    };
    // Like Lambda: an invocation past its deadline stops the process; the next one starts anew.
    let mut harness = FunctionHarness::new(&binary).enforce_deadlines();
    for (k, v) in &o.env {
        harness = harness.env(k, v);
    }
    let mut function = harness.start().await;
    let total = files.len() * o.repeat;
    let quiet = total > 20;
    let mut failures = 0;
    let mut index = 0;
    for _ in 0..o.repeat {
        for file in &files {
            index += 1;
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let body: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let event = ScriptedEvent::new(body);
            let before = function.captured();
            let outcome = function.invoke(event.clone()).await;
            failures += usize::from(outcome.error().is_some());
            // Everything is written before the response; give the pipes a moment to deliver it.
            tokio::time::sleep(Duration::from_millis(30)).await;
            if quiet {
                eprint!("\r{index}/{total} invocations, {failures} failed");
            } else {
                let new = slice(&function.captured(), &before);
                show(index, total, &event, &outcome, &new, &o, style);
            }
        }
    }
    let alive = function.is_alive();
    let captured = function.stop().await;
    if quiet {
        eprintln!();
    }
    println!(
        "\n{} invocations, {failures} failed; {} log lines, {} EMF documents, {} X-Ray datagrams; process {}",
        total,
        captured.logs.len(),
        captured.emf.len(),
        captured.datagrams.len(),
        if alive { "still serving" } else { "exited" }
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match parse_args() {
        Ok(o) => match run(o).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("powertools-local: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
