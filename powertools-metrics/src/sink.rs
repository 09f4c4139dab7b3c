//! Where EMF documents go: stdout in Lambda, memory or any writer in tests and benchmarks.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// Receives EMF documents, one compact JSON line at a time.
///
/// Implementations must not panic and must not block for long: they run at the end of the
/// invocation, before its response is returned. A write error is theirs to ignore or report.
///
/// # Example
/// ```
/// use powertools_metrics::MetricsSink;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[derive(Default)]
/// struct CountDocuments(AtomicUsize);
///
/// impl MetricsSink for CountDocuments {
///     fn write_document(&self, _line: &[u8]) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait MetricsSink: Send + Sync + 'static {
    /// Writes one document: a compact JSON object followed by `\n`.
    fn write_document(&self, line: &[u8]);
}

impl<S: MetricsSink + ?Sized> MetricsSink for Arc<S> {
    fn write_document(&self, line: &[u8]) {
        (**self).write_document(line);
    }
}

/// The default sink: each document is one `write` to stdout, where Lambda sends it to
/// CloudWatch Logs. Write errors are ignored (a full pipe never fails the handler).
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn write_document(&self, line: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line);
        let _ = out.flush();
    }
}

/// Keeps every document in memory, for tests.
///
/// Clones share the same documents, so keep one and give another to the builder.
///
/// # Example
/// ```
/// use powertools_metrics::{CaptureSink, Metrics, Unit};
///
/// let sink = CaptureSink::new();
/// let metrics = Metrics::builder()
///     .namespace("Shop")
///     .service("orders")
///     .sink(sink.clone())
///     .build()?;
/// metrics.add_metric("Orders", Unit::Count, 1.0)?;
/// metrics.flush()?;
///
/// let docs = sink.documents();
/// assert_eq!(docs[0]["Orders"], 1);
/// assert_eq!(docs[0]["service"], "orders");
/// # Ok::<(), powertools_metrics::MetricsError>(())
/// ```
#[derive(Clone, Default)]
pub struct CaptureSink {
    lines: Arc<Mutex<Vec<String>>>,
}

impl CaptureSink {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// The documents written so far, as text (newline removed).
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The documents written so far, parsed.
    ///
    /// A line that is not valid JSON (never written by this crate) becomes a JSON string holding
    /// the line, so a test sees it rather than a panic.
    pub fn documents(&self) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .map(|l| serde_json::from_str(&l).unwrap_or(serde_json::Value::String(l)))
            .collect()
    }

    /// Takes the documents written so far, leaving the capture empty.
    pub fn take_documents(&self) -> Vec<serde_json::Value> {
        let lines = std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner));
        lines
            .into_iter()
            .map(|l| serde_json::from_str(&l).unwrap_or(serde_json::Value::String(l)))
            .collect()
    }

    /// How many documents were written.
    pub fn len(&self) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no document was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for CaptureSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureSink")
            .field("documents", &self.len())
            .finish()
    }
}

impl MetricsSink for CaptureSink {
    fn write_document(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line)).into_owned();
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(text);
    }
}

/// Writes each document to any [`Write`] (a file, a socket, `std::io::sink()`), one
/// `write_all` per document, ignoring errors.
///
/// ```
/// use powertools_metrics::WriterSink;
/// let sink = WriterSink::new(Vec::<u8>::new());
/// # let _ = sink;
/// ```
pub struct WriterSink<W> {
    writer: Mutex<W>,
}

impl<W: Write + Send + 'static> WriterSink<W> {
    /// A sink writing to `writer`.
    pub fn new(writer: W) -> Self {
        Self {
            writer: Mutex::new(writer),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.writer
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<W> fmt::Debug for WriterSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterSink").finish_non_exhaustive()
    }
}

impl<W: Write + Send + 'static> MetricsSink for WriterSink<W> {
    fn write_document(&self, line: &[u8]) {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writer.write_all(line);
    }
}
