//! Project tasks, run with `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! - `demo [args…]`: builds the `hello-world` example and runs it locally through the local Lambda
//!   Runtime API (cold, warm and failing invocations), showing what CloudWatch Logs and X-Ray
//!   would receive. Extra arguments go to `powertools-local` (`--help` lists them).
//! - `test`: every test of the workspace — unit, integration, end-to-end (real binaries) with
//!   `cargo nextest`, then the documentation examples.

use std::process::{Command, ExitCode};

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn run(mut cmd: Command) -> bool {
    eprintln!("$ {cmd:?}");
    cmd.status().is_ok_and(|s| s.success())
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn test() -> bool {
    if !has_nextest() {
        eprintln!("cargo-nextest is missing: installing it (once)");
        let mut install = cargo();
        install.args(["install", "cargo-nextest", "--locked"]);
        if !run(install) {
            return false;
        }
    }
    let mut nextest = cargo();
    nextest.args([
        "nextest",
        "run",
        "--workspace",
        "--all-features",
        "--no-fail-fast",
    ]);
    let mut doc = cargo();
    doc.args(["test", "--doc", "--workspace", "--all-features"]);
    run(nextest) && run(doc)
}

fn demo(args: &[String]) -> bool {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--package",
        "powertools-e2e",
        "--bin",
        "powertools-local",
        "--",
    ]);
    cmd.args(args);
    run(cmd)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <demo [args…] | test>");
            false
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
