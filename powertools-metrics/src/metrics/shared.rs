//! The state one [`Metrics`](crate::Metrics) and its clones share, and how a recording finds
//! its document: the current invocation's, a given invocation's, or the process-level one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use powertools_core::{Invocation, Timestamp};

use crate::diagnostics;
use crate::document::{Base, Document, Fill, Merge, Recording};
use crate::{MetricsError, MetricsSink, Resolution, Unit};

/// Documents kept for reuse, at most.
const POOL_SIZE: usize = 16;

/// Called with an error the invocation hook cannot return.
pub(crate) type ErrorHandler = Arc<dyn Fn(&MetricsError) + Send + Sync>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Which document a recording goes to.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The current invocation's, else the process-level one.
    Current,
    /// This invocation's.
    Invocation(&'a Invocation),
    /// The process-level one.
    Process,
}

/// The configuration a builder produced.
pub(crate) struct Settings {
    pub(crate) base: Base,
    pub(crate) service: String,
    pub(crate) default_dimensions: Vec<(String, String)>,
    pub(crate) function_name: Option<String>,
    pub(crate) capture_cold_start: bool,
    pub(crate) raise_on_empty: bool,
    pub(crate) warn_on_empty: bool,
    pub(crate) disabled: bool,
    pub(crate) sink: Arc<dyn MetricsSink>,
    pub(crate) on_error: Option<ErrorHandler>,
}

pub(crate) struct Shared {
    id: u64,
    pub(crate) settings: Settings,
    /// Metrics recorded outside any invocation.
    process: Mutex<Document>,
    /// Whether the process-level document may hold metrics (spares a lock per invocation).
    process_used: AtomicBool,
    /// Cleared documents, so an invocation's document reuses the buffers of an earlier one.
    #[allow(clippy::vec_box)] // boxed so that taking and returning one moves a pointer
    pool: Mutex<Vec<Box<Document>>>,
}

/// The documents of one invocation, one per `Metrics` (keyed by its id), stored in the
/// invocation's extensions and dropped with it.
#[derive(Default)]
struct InvocationDocuments {
    documents: Mutex<Documents>,
}

/// One document per `Metrics` recording in the invocation: nearly always a single one, kept
/// inline so that an invocation allocates nothing for it.
#[derive(Default)]
struct Documents {
    first: Option<(u64, Box<Document>)>,
    others: Vec<(u64, Box<Document>)>,
}

impl Documents {
    /// The document of the `Metrics` with this id, made by `new` if it has none yet.
    fn get_or_insert(&mut self, id: u64, new: impl FnOnce() -> Box<Document>) -> &mut Document {
        if self.first.as_ref().is_none_or(|(first, _)| *first == id) {
            return &mut self.first.get_or_insert_with(|| (id, new())).1;
        }
        let i = if let Some(i) = self.others.iter().position(|(other, _)| *other == id) {
            i
        } else {
            self.others.push((id, new()));
            self.others.len() - 1
        };
        &mut self.others[i].1
    }

    /// Takes out the document of the `Metrics` with this id.
    fn take(&mut self, id: u64) -> Option<Box<Document>> {
        if self.first.as_ref().is_some_and(|(first, _)| *first == id) {
            return self.first.take().map(|(_, document)| document);
        }
        let i = self.others.iter().position(|(other, _)| *other == id)?;
        Some(self.others.swap_remove(i).1)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn now_ms() -> u64 {
    Timestamp::now().epoch_millis()
}

impl Shared {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            settings,
            process: Mutex::new(Document::default()),
            process_used: AtomicBool::new(false),
            pool: Mutex::new(Vec::new()),
        }
    }

    fn pooled(&self) -> Box<Document> {
        lock(&self.pool).pop().unwrap_or_default()
    }

    fn recycle(&self, mut document: Box<Document>) {
        document.reset();
        let mut pool = lock(&self.pool);
        if pool.len() < POOL_SIZE {
            pool.push(document);
        }
    }

    /// Runs `f` on the document `target` designates.
    pub(crate) fn with_document<R>(
        &self,
        target: Target<'_>,
        f: impl FnOnce(&mut Document) -> R,
    ) -> R {
        match target {
            Target::Invocation(invocation) => self.in_invocation(invocation, f),
            Target::Process => self.in_process(f),
            Target::Current => {
                let mut f = Some(f);
                let done = Invocation::with_current(|invocation| {
                    f.take().map(|f| self.in_invocation(invocation, f))
                })
                .flatten();
                match (done, f) {
                    (Some(result), _) => result,
                    (None, Some(f)) => self.in_process(f),
                    (None, None) => unreachable!("the closure runs only when it returns Some"),
                }
            }
        }
    }

    fn in_process<R>(&self, f: impl FnOnce(&mut Document) -> R) -> R {
        self.process_used.store(true, Ordering::Relaxed);
        f(&mut lock(&self.process))
    }

    fn in_invocation<R>(&self, invocation: &Invocation, f: impl FnOnce(&mut Document) -> R) -> R {
        let Some(state) = invocation
            .extensions()
            .try_get_or_init(InvocationDocuments::default)
        else {
            diagnostics::warn_once(
                "extensions-full",
                "the invocation has no room for metrics state; recording in the process-level document",
            );
            return self.in_process(f);
        };
        let mut documents = lock(&state.documents);
        f(documents.get_or_insert(self.id, || self.pooled()))
    }

    /// Renders a document and hands it to the sink (unless disabled).
    pub(crate) fn write(&self, base: &Base, document: &mut Document) {
        let line = document.render(base, now_ms());
        if !self.settings.disabled {
            self.settings.sink.write_document(line);
        }
    }

    /// Records one value. Inlined into the recording methods: the work is done by
    /// [`Shared::record_boxed`], whose result fits in a register, and only an error is unboxed.
    #[inline]
    pub(crate) fn record(
        &self,
        target: Target<'_>,
        name: &str,
        unit: Unit,
        resolution: Resolution,
        value: f64,
        merge: Merge,
    ) -> Result<(), MetricsError> {
        let recording = Recording {
            name,
            unit,
            resolution,
            value,
            merge,
        };
        self.record_boxed(target, &recording).map_err(|e| *e)
    }

    fn record_boxed(
        &self,
        target: Target<'_>,
        recording: &Recording<'_>,
    ) -> Result<(), Box<MetricsError>> {
        // The closure holds two references and returns a pointer-sized result: nothing large is
        // moved through the scope lookup and the lock.
        self.with_document(target, move |document| {
            let base = &self.settings.base;
            if document.record_boxed(base, recording)? == Fill::Full {
                self.write(base, document);
                document.clear_metrics();
            }
            Ok(())
        })
    }

    pub(crate) fn set_timestamp(
        &self,
        target: Target<'_>,
        time: SystemTime,
    ) -> Result<(), MetricsError> {
        let millis = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| MetricsError::TimestampBeforeEpoch)?
            .as_millis();
        let millis = u64::try_from(millis).unwrap_or(u64::MAX);
        if !self.settings.disabled {
            let now = SystemTime::now();
            // Checked: a time near `SystemTime`'s end must not overflow (and panic) here.
            let after = |t: SystemTime, secs| t.checked_add(Duration::from_secs(secs));
            if after(time, 14 * 24 * 3600).is_some_and(|t| t < now) {
                diagnostics::warn_once(
                    "timestamp-past",
                    "a metrics timestamp is more than 14 days in the past; CloudWatch will reject those metrics",
                );
            } else if after(now, 2 * 3600).is_some_and(|limit| time > limit) {
                diagnostics::warn_once(
                    "timestamp-future",
                    "a metrics timestamp is more than 2 hours in the future; CloudWatch will reject those metrics",
                );
            }
        }
        self.with_document(target, |document| document.set_timestamp(millis));
        Ok(())
    }

    /// Writes the target's document and clears it.
    pub(crate) fn flush(&self, target: Target<'_>) -> Result<(), MetricsError> {
        let recorded = self.with_document(target, |document| {
            let recorded = document.recorded();
            if document.has_metrics() {
                self.write(&self.settings.base, document);
            }
            document.clear();
            recorded
        });
        if recorded {
            Ok(())
        } else {
            self.nothing_recorded()
        }
    }

    /// Writes the process-level document if it holds metrics (recorded at init, say).
    fn flush_process_quietly(&self) {
        if !self.process_used.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut document = lock(&self.process);
        if document.has_metrics() {
            self.write(&self.settings.base, &mut document);
            document.clear_metrics();
        }
    }

    /// An invocation ended: write its document, drop its state, report an empty invocation.
    pub(crate) fn finish_invocation(&self, invocation: &Invocation) {
        let document = invocation
            .extensions()
            .get::<InvocationDocuments>()
            .and_then(|state| lock(&state.documents).take(self.id));
        let recorded = match document {
            Some(mut document) => {
                let recorded = document.ever_recorded();
                if document.has_metrics() {
                    self.write(&self.settings.base, &mut document);
                }
                self.recycle(document);
                recorded
            }
            None => false,
        };
        self.flush_process_quietly();
        if !recorded && let Err(error) = self.nothing_recorded() {
            self.report(&error);
        }
    }

    /// Nothing was recorded before a flush: a warning, or an error when opted in.
    fn nothing_recorded(&self) -> Result<(), MetricsError> {
        if self.settings.disabled {
            return Ok(());
        }
        if self.settings.raise_on_empty {
            return Err(MetricsError::NoMetrics);
        }
        if self.settings.warn_on_empty {
            diagnostics::warn(
                "No application metrics to publish. The cold-start metric may be published if enabled.",
            );
        }
        Ok(())
    }

    /// An error that cannot be returned: to the user's handler, else an error line.
    pub(crate) fn report(&self, error: &MetricsError) {
        match &self.settings.on_error {
            Some(handler) => handler(error),
            None => diagnostics::error(&error.to_string()),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Nothing silently lost: metrics recorded outside any invocation and never flushed.
        self.flush_process_quietly();
    }
}
