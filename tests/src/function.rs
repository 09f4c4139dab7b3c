//! Runs a real function binary against the [`LocalRuntimeApi`], with the Lambda environment set, a
//! UDP socket on loopback as its X-Ray daemon, and everything it writes captured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::net::UdpSocket;
use tokio::process::{Child, Command};

use crate::capture::{Captured, LambdaLogLevel, Restart};
use crate::runtime_api::{CloseReason, LocalRuntimeApi, Outcome, ScriptedEvent};

/// The function name the harness gives every function.
pub const FUNCTION_NAME: &str = "powertools-demo";

/// Builds a workspace binary (an example) once per test process and returns its path.
///
/// Uses the same target directory as the tests; run the tests with `cargo nextest` (as the
/// README's test command does), which does not hold the build lock while tests run.
pub fn workspace_binary(package: &str) -> PathBuf {
    package_binary(package, package)
}

/// Like [`workspace_binary`], for a binary `bin` of `package` named differently.
pub fn package_binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = built.get(bin) {
        return p.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "--package", package, "--bin", bin])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {package}/{bin} failed");
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    let path = target.join("debug").join(bin);
    built.insert(bin.to_owned(), path.clone());
    path
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A function process under test.
///
/// ```no_run
/// # async fn f() {
/// use powertools_e2e::function::{workspace_binary, FunctionHarness};
/// use powertools_e2e::runtime_api::ScriptedEvent;
///
/// let mut f = FunctionHarness::new(workspace_binary("hello-world"))
///     .env("POWERTOOLS_SERVICE_NAME", "demo")
///     .start()
///     .await;
/// let outcome = f.invoke(ScriptedEvent::new(serde_json::json!({"name": "Ada"}))).await;
/// let captured = f.stop().await;
/// # }
/// ```
///
/// The captured output is what the function wrote; [`Captured::cloudwatch`] gives what
/// CloudWatch Logs keeps of it, applying the application log-level filter the function was
/// started with (`.env("AWS_LAMBDA_LOG_FORMAT", "JSON").env("AWS_LAMBDA_LOG_LEVEL", "WARN")`).
pub struct FunctionHarness {
    binary: PathBuf,
    env: Vec<(String, String)>,
    remove: Vec<String>,
    stdout: StdoutMode,
    observer: Option<Arc<dyn Observer>>,
    enforce_deadlines: bool,
}

/// How the function's stdout is connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StdoutMode {
    /// A pipe the harness reads (the default).
    #[default]
    Piped,
    /// Closed before the function starts (`exec binary >&-`).
    Closed,
    /// A pipe whose read end the harness closes as soon as the function started: every write
    /// fails with a broken pipe.
    BrokenPipe,
}

/// Receives stdout lines and X-Ray datagrams as they arrive, instead of the harness keeping
/// them: for runs too long to keep everything in memory. Stderr is still captured.
pub trait Observer: Send + Sync + 'static {
    /// One stdout line, without its newline.
    fn stdout_line(&self, line: &str);
    /// One datagram received by the X-Ray daemon socket.
    fn datagram(&self, datagram: &[u8]);
}

impl<T: Observer + ?Sized> Observer for Arc<T> {
    fn stdout_line(&self, line: &str) {
        (**self).stdout_line(line);
    }
    fn datagram(&self, datagram: &[u8]) {
        (**self).datagram(datagram);
    }
}

impl FunctionHarness {
    /// A harness for `binary` with the standard Lambda environment.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        let env = [
            ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/powertools-demo"),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/24/[$LATEST]0123456789abcdef",
            ),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("POWERTOOLS_SERVICE_NAME", "demo"),
            ("POWERTOOLS_METRICS_NAMESPACE", "Powertools"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            binary: binary.into(),
            env,
            remove: Vec::new(),
            stdout: StdoutMode::Piped,
            observer: None,
            enforce_deadlines: false,
        }
    }

    /// Behaves like Lambda at the deadline: when an invocation passes its deadline
    /// (`Lambda-Runtime-Deadline-Ms`, see [`ScriptedEvent::deadline_in`]) unanswered, the harness
    /// stops the function process (SIGKILL, as Lambda stops the execution environment), records
    /// [`Outcome::TimedOut`] (other invocations in flight in it: [`Outcome::Stopped`]), keeps
    /// everything the process wrote and sent until then, and starts a new process (its first
    /// invocation is a cold start) for the next events. Each restart is listed in
    /// [`Captured::restarts`]. Likewise a process that exits by itself with invocations in
    /// flight is replaced (they are [`Outcome::Stopped`], `Runtime.ExitError`).
    ///
    /// Off by default: the harness then waits for answers whatever the deadline says.
    pub fn enforce_deadlines(mut self) -> Self {
        self.enforce_deadlines = true;
        self
    }

    /// Connects the function's stdout as `mode` says (default [`StdoutMode::Piped`]).
    pub fn stdout(mut self, mode: StdoutMode) -> Self {
        self.stdout = mode;
        self
    }

    /// Hands stdout lines and datagrams to `observer` instead of capturing them.
    pub fn observe(mut self, observer: impl Observer) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Sets (or overrides) an environment variable of the function.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.remove.retain(|k| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Removes an environment variable the harness would set.
    pub fn without_env(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.remove.push(key.to_owned());
        self
    }

    /// Starts the Runtime API, the X-Ray daemon socket and the function process.
    pub async fn start(self) -> RunningFunction {
        let api = LocalRuntimeApi::start().await.expect("runtime api binds");
        let daemon = UdpSocket::bind("127.0.0.1:0").await.expect("udp binds");
        let daemon_addr = daemon.local_addr().expect("udp addr").to_string();
        let env = |key: &str| {
            self.env
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let captured = Arc::new(Mutex::new(Captured {
            log_filter: LambdaLogLevel::filter_of(
                env("AWS_LAMBDA_LOG_FORMAT"),
                env("AWS_LAMBDA_LOG_LEVEL"),
            ),
            ..Captured::default()
        }));
        let enforce = self.enforce_deadlines;
        let launch = Arc::new(Launch {
            binary: self.binary,
            env: self.env,
            remove: self.remove,
            stdout: self.stdout,
            observer: self.observer,
            daemon_addr: daemon_addr.clone(),
        });
        let process = Arc::new(Mutex::new(launch.spawn(&api.addr(), &captured)));

        let c = Arc::clone(&captured);
        let observer = launch.observer.clone();
        let udp_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            while let Ok(n) = daemon.recv(&mut buf).await {
                match &observer {
                    Some(o) => o.datagram(&buf[..n]),
                    None => c.lock().expect("capture lock").push_datagram(&buf[..n]),
                }
            }
        });
        let supervisor = enforce.then(|| {
            let stop = Arc::new(AtomicBool::new(false));
            let task = tokio::spawn(supervise(
                api.clone(),
                Arc::clone(&launch),
                Arc::clone(&process),
                Arc::clone(&captured),
                Arc::clone(&stop),
            ));
            Supervisor { stop, task }
        });
        RunningFunction {
            api,
            process,
            captured,
            udp_task: Some(udp_task),
            daemon_addr,
            supervisor,
        }
    }
}

/// What it takes to start (and restart) the function process.
struct Launch {
    binary: PathBuf,
    env: Vec<(String, String)>,
    remove: Vec<String>,
    stdout: StdoutMode,
    observer: Option<Arc<dyn Observer>>,
    daemon_addr: String,
}

/// One function process and the tasks reading its stdout and stderr.
struct Process {
    child: Child,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Launch {
    /// Spawns the function process against the Runtime API at `api_addr`, its stdout and stderr
    /// read into `captured` (or handed to the observer).
    fn spawn(&self, api_addr: &str, captured: &Arc<Mutex<Captured>>) -> Process {
        let mut cmd = if self.stdout == StdoutMode::Closed {
            let mut sh = Command::new("/bin/sh");
            sh.args(["-c", "exec \"$0\" >&-"]).arg(&self.binary);
            sh
        } else {
            Command::new(&self.binary)
        };
        cmd.env_clear();
        for key in ["PATH", "HOME", "RUST_BACKTRACE", "LLVM_PROFILE_FILE"] {
            if let Ok(v) = std::env::var(key) {
                cmd.env(key, v);
            }
        }
        cmd.env("AWS_LAMBDA_RUNTIME_API", api_addr)
            .env("AWS_XRAY_DAEMON_ADDRESS", &self.daemon_addr);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for k in &self.remove {
            cmd.env_remove(k);
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", self.binary.display()));

        let stdout = child.stdout.take().expect("piped stdout");
        let c = Arc::clone(captured);
        let observer = self.observer.clone();
        let broken = self.stdout == StdoutMode::BrokenPipe;
        let stdout_task = tokio::spawn(async move {
            if broken {
                drop(stdout);
                return;
            }
            let mut stdout = BufReader::new(stdout);
            while let Some(line) = next_line(&mut stdout).await {
                match &observer {
                    Some(o) => o.stdout_line(&line),
                    None => c.lock().expect("capture lock").push_stdout(line),
                }
            }
        });
        let stderr = child.stderr.take().expect("piped stderr");
        let c = Arc::clone(captured);
        let stderr_task = tokio::spawn(async move {
            let mut stderr = BufReader::new(stderr);
            while let Some(line) = next_line(&mut stderr).await {
                c.lock().expect("capture lock").stderr.push(line);
            }
        });
        Process {
            child,
            readers: vec![stdout_task, stderr_task],
        }
    }
}

/// The deadline watcher of [`FunctionHarness::enforce_deadlines`].
struct Supervisor {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// How often the supervisor looks at the deadlines and the process.
const SUPERVISE_EVERY: Duration = Duration::from_millis(2);

/// Watches the invocations in flight: when one passes its deadline (or the process exits with
/// some in flight), stops the process, closes its endpoint (recording the outcomes), and starts
/// a new process on a new endpoint.
async fn supervise(
    api: LocalRuntimeApi,
    launch: Arc<Launch>,
    process: Arc<Mutex<Process>>,
    captured: Arc<Mutex<Captured>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(SUPERVISE_EVERY).await;
        let in_flight = api.in_flight();
        if in_flight.is_empty() {
            continue;
        }
        let now = crate::runtime_api::now_ms();
        let reason = if in_flight.iter().any(|f| f.deadline_ms <= now) {
            CloseReason::Deadline
        } else {
            match process.lock().expect("process lock").child.try_wait() {
                Ok(Some(status)) => CloseReason::Exited(describe_exit(status)),
                _ => continue,
            }
        };
        // Stop taking events and answers first, then stop the process.
        let stopped = api.close_endpoint(&reason);
        let pid = process.lock().expect("process lock").child.id();
        let exit = end_process(&process).await;
        let mut timed_out = Vec::new();
        let mut interrupted = Vec::new();
        for (id, outcome) in stopped {
            if outcome.timed_out() {
                timed_out.push(id);
            } else {
                interrupted.push(id);
            }
        }
        {
            let mut c = captured.lock().expect("capture lock");
            let restart = Restart {
                pid: pid.unwrap_or_default(),
                timed_out,
                stopped: interrupted,
                exit,
                stdout_lines: c.stdout.len(),
                stderr_lines: c.stderr.len(),
            };
            c.restarts.push(restart);
        }
        let addr = api.open_endpoint().await.expect("runtime api binds");
        let next = launch.spawn(&addr, &captured);
        *process.lock().expect("process lock") = next;
    }
}

/// Kills the process (if still running), waits for it, and for its stdout and stderr to be read
/// to their end; returns how it ended.
async fn end_process(process: &Mutex<Process>) -> String {
    let _ = process.lock().expect("process lock").child.start_kill();
    let status = loop {
        match process.lock().expect("process lock").child.try_wait() {
            Ok(Some(status)) => break describe_exit(status),
            Ok(None) => {}
            Err(e) => break format!("unknown ({e})"),
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let readers = std::mem::take(&mut process.lock().expect("process lock").readers);
    for t in readers {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
    status
}

/// `exit status: 0`, `signal: 9 (SIGKILL)`, … as Lambda words a runtime's exit.
fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(9)) => "signal: 9 (SIGKILL)".to_owned(),
        (None, Some(15)) => "signal: 15 (SIGTERM)".to_owned(),
        (None, Some(6)) => "signal: 6 (SIGABRT)".to_owned(),
        (None, Some(signal)) => format!("signal: {signal}"),
        (None, None) => "unknown".to_owned(),
    }
}

/// The next line of `reader` without its line ending; `None` at the end or on a read error.
/// Bytes that are not UTF-8 are replaced (`U+FFFD`) rather than ending the capture.
async fn next_line(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<String> {
    let mut buf = Vec::new();
    match reader.read_until(b'\n', &mut buf).await {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            Some(
                String::from_utf8(buf)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            )
        }
    }
}

/// A started function process (with [`FunctionHarness::enforce_deadlines`], the current one of
/// the processes started in turn).
pub struct RunningFunction {
    api: LocalRuntimeApi,
    process: Arc<Mutex<Process>>,
    captured: Arc<Mutex<Captured>>,
    udp_task: Option<tokio::task::JoinHandle<()>>,
    daemon_addr: String,
    supervisor: Option<Supervisor>,
}

/// How long one invocation may take before the harness gives up on it.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

impl RunningFunction {
    /// The Runtime API the function polls.
    pub fn api(&self) -> &LocalRuntimeApi {
        &self.api
    }

    /// The address of the X-Ray daemon socket (`AWS_XRAY_DAEMON_ADDRESS`).
    pub fn daemon_addr(&self) -> &str {
        &self.daemon_addr
    }

    /// Sends one event and waits for its answer.
    pub async fn invoke(&mut self, event: ScriptedEvent) -> Outcome {
        let id = self.api.push(event);
        self.api
            .wait_for(&id, INVOKE_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no answer for {id}; stderr: {:?}", self.stderr()))
    }

    /// Queues all events at once (for concurrent functions) and waits for every answer.
    pub async fn invoke_all(&mut self, events: Vec<ScriptedEvent>) -> Vec<Outcome> {
        let ids: Vec<String> = events.into_iter().map(|e| self.api.push(e)).collect();
        let mut outcomes = Vec::with_capacity(ids.len());
        for id in ids {
            let o = self
                .api
                .wait_for(&id, INVOKE_TIMEOUT)
                .await
                .unwrap_or_else(|| panic!("no answer for {id}"));
            outcomes.push(o);
        }
        outcomes
    }

    /// The function's process id (while it runs; after a restart, the new process's).
    pub fn pid(&self) -> Option<u32> {
        self.process.lock().expect("process lock").child.id()
    }

    /// Whether the process is still running (it should survive failing invocations).
    pub fn is_alive(&mut self) -> bool {
        matches!(
            self.process.lock().expect("process lock").child.try_wait(),
            Ok(None)
        )
    }

    /// What was captured so far.
    pub fn captured(&self) -> Captured {
        self.captured.lock().expect("capture lock").clone()
    }

    fn stderr(&self) -> Vec<String> {
        self.captured.lock().expect("capture lock").stderr.clone()
    }

    /// Sends SIGTERM to the function process now (Lambda sends it before shutting an execution
    /// environment down when an extension is registered); returns whether it was sent.
    pub fn sigterm(&self) -> bool {
        self.pid().is_some_and(|pid| signal("TERM", pid))
    }

    /// Stops watching deadlines (the process is left as it is).
    async fn stop_supervising(&mut self) {
        if let Some(s) = self.supervisor.take() {
            s.stop.store(true, Ordering::SeqCst);
            let _ = s.task.await;
        }
    }

    /// Waits until the function is polling for the next event (so everything of the previous
    /// invocations was written), then stops it and returns what it wrote and sent.
    pub async fn stop(mut self) -> Captured {
        let answered = self.api.outcomes().len() as u64;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.api.polls() <= answered && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Output written before the next poll may still sit in the pipe or socket buffers.
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.stop_supervising().await;
        self.finish().await
    }

    /// Kills the function now (if it is still running) and returns what it wrote and sent
    /// until then: output already in the pipe or the daemon socket is not lost.
    pub async fn kill(mut self) -> Captured {
        self.stop_supervising().await;
        self.finish().await
    }

    /// Shuts the function down as Lambda does: SIGTERM, then SIGKILL if it is still running
    /// after `grace`; returns what it wrote and sent until then.
    pub async fn terminate(mut self, grace: Duration) -> Captured {
        self.stop_supervising().await;
        if self.sigterm() {
            let deadline = tokio::time::Instant::now() + grace;
            while !matches!(
                self.process.lock().expect("process lock").child.try_wait(),
                Ok(Some(_))
            ) && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        self.finish().await
    }

    /// Kills the process, reads its output to the end, waits for the datagrams in flight.
    async fn finish(&mut self) -> Captured {
        end_process(&self.process).await;
        // Datagrams already in the socket buffer are read by the still running UDP task.
        tokio::time::sleep(Duration::from_millis(150)).await;
        if let Some(t) = self.udp_task.take() {
            t.abort();
        }
        self.captured.lock().expect("capture lock").clone()
    }
}

impl Drop for RunningFunction {
    fn drop(&mut self) {
        if let Some(s) = self.supervisor.take() {
            s.stop.store(true, Ordering::SeqCst);
            s.task.abort();
        }
        if let Some(t) = self.udp_task.take() {
            t.abort();
        }
    }
}

/// `kill -<name> <pid>`.
fn signal(name: &str, pid: u32) -> bool {
    std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}
