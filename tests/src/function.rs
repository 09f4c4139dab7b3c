//! Runs a real function binary against the [`LocalRuntimeApi`], with the Lambda environment set, a
//! UDP socket on loopback as its X-Ray daemon, and everything it writes captured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::net::UdpSocket;
use tokio::process::{Child, Command};

use crate::capture::{Captured, LambdaLogLevel};
use crate::runtime_api::{LocalRuntimeApi, Outcome, ScriptedEvent};

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
        }
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
        cmd.env("AWS_LAMBDA_RUNTIME_API", api.addr())
            .env("AWS_XRAY_DAEMON_ADDRESS", &daemon_addr);
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
        let c = Arc::clone(&captured);
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
        let c = Arc::clone(&captured);
        let stderr_task = tokio::spawn(async move {
            let mut stderr = BufReader::new(stderr);
            while let Some(line) = next_line(&mut stderr).await {
                c.lock().expect("capture lock").stderr.push(line);
            }
        });
        let c = Arc::clone(&captured);
        let observer = self.observer;
        let udp_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            while let Ok(n) = daemon.recv(&mut buf).await {
                match &observer {
                    Some(o) => o.datagram(&buf[..n]),
                    None => c.lock().expect("capture lock").push_datagram(&buf[..n]),
                }
            }
        });
        RunningFunction {
            api,
            child,
            captured,
            tasks: vec![stdout_task, stderr_task, udp_task],
            daemon_addr,
        }
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

/// A started function process.
pub struct RunningFunction {
    api: LocalRuntimeApi,
    child: Child,
    captured: Arc<Mutex<Captured>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    daemon_addr: String,
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

    /// The function's process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process is still running (it should survive failing invocations).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What was captured so far.
    pub fn captured(&self) -> Captured {
        self.captured.lock().expect("capture lock").clone()
    }

    fn stderr(&self) -> Vec<String> {
        self.captured.lock().expect("capture lock").stderr.clone()
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
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        for t in self.tasks.drain(..2) {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
        for t in &self.tasks {
            t.abort();
        }
        self.captured.lock().expect("capture lock").clone()
    }

    /// Kills the function now (if it is still running) and returns what it wrote and sent
    /// until then: output already in the pipe or the daemon socket is not lost.
    pub async fn kill(mut self) -> Captured {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        for t in self.tasks.drain(..2) {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
        // Datagrams already in the socket buffer are read by the still running UDP task.
        tokio::time::sleep(Duration::from_millis(150)).await;
        for t in &self.tasks {
            t.abort();
        }
        self.captured.lock().expect("capture lock").clone()
    }
}
