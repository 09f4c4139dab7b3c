//! Where finished lines go: stdout in production, memory in tests.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// Receives finished log lines.
///
/// Each call carries exactly one complete line, newline included. An implementation must write it
/// in one piece (so lines from concurrent tasks never interleave) and must never panic; a failed
/// write is ignored, never surfaced to the handler.
///
/// # Example
/// ```
/// use powertools_logger::LogSink;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// /// Counts bytes instead of writing them.
/// #[derive(Default)]
/// struct ByteCounter(AtomicUsize);
///
/// impl LogSink for ByteCounter {
///     fn write_line(&self, line: &[u8]) {
///         self.0.fetch_add(line.len(), Ordering::Relaxed);
///     }
/// }
/// ```
pub trait LogSink: Send + Sync + 'static {
    /// Writes one line (ending in `\n`).
    fn write_line(&self, line: &[u8]);
}

impl<T: LogSink + ?Sized> LogSink for Arc<T> {
    fn write_line(&self, line: &[u8]) {
        (**self).write_line(line);
    }
}

/// The default sink: standard output, one `write_all` per line with the lock held.
///
/// ```
/// use powertools_logger::{LogSink, StdoutSink};
/// StdoutSink.write_line(b"{\"message\":\"hello\"}\n");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutSink;

impl LogSink for StdoutSink {
    fn write_line(&self, line: &[u8]) {
        let mut out = std::io::stdout().lock();
        // A closed stdout must never take the handler down.
        let _ = out.write_all(line);
    }
}

/// A sink that keeps lines in memory: for tests. Clones share the same lines.
///
/// # Example
/// ```
/// use powertools_logger::{Logger, MemorySink};
///
/// let sink = MemorySink::new();
/// let (layer, _hook) = Logger::new().service("payment").sink(sink.clone()).into_layer_and_hook();
/// let subscriber = tracing_subscriber::layer::SubscriberExt::with(
///     tracing_subscriber::Registry::default(),
///     layer,
/// );
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order_id = 7, "order created"));
///
/// let lines = sink.json_lines();
/// assert_eq!(lines[0]["message"], "order created");
/// assert_eq!(lines[0]["order_id"], 7);
/// assert_eq!(lines[0]["service"], "payment");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    lines: Arc<Mutex<Vec<String>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines written so far, each with its trailing newline.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The lines written so far, parsed as JSON.
    ///
    /// # Panics
    /// If a line is not valid JSON: what a test wants to know.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.lines()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}"))
            })
            .collect()
    }

    /// Removes and returns the lines written so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl LogSink for MemorySink {
    fn write_line(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line).into_owned();
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(text);
    }
}
