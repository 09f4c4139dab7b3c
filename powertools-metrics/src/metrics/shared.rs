//! The state one [`Metrics`](crate::Metrics) and its clones share, and how a recording finds
//! its document: the current invocation's, a given invocation's, or the process-level one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use powertools_core::{Invocation, Timestamp};

use crate::diagnostics;
use crate::document::{Base, Document, Fill, Merge, Recording};
use crate::{Metrics, MetricsError, MetricsSink, Resolution, Unit};

/// Documents kept for reuse, at most.
const POOL_SIZE: usize = 16;

/// Called with an error the invocation hook cannot return.
pub(crate) type ErrorHandler = Arc<dyn Fn(&MetricsError) + Send + Sync>;

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
    /// The handle of [`crate::current`]: it has no documents of its own and records through the
    /// `Metrics` whose hook runs the invocation in scope.
    pub(crate) follows_invocation: bool,
    pub(crate) settings: Settings,
    /// Metrics recorded outside any invocation.
    process: Mutex<Document>,
    /// Whether the process-level document may hold metrics (spares a lock per invocation).
    process_used: AtomicBool,
    /// Cleared documents, so an invocation's document reuses the buffers of an earlier one.
    #[allow(clippy::vec_box)] // boxed so that taking and returning one moves a pointer
    pool: Mutex<Vec<Box<Document>>>,
}

/// The metrics state of one invocation, stored in its extensions by the first [`MetricsHook`]
/// to start it, and dropped with it.
///
/// [`MetricsHook`]: crate::MetricsHook
pub(crate) struct InvocationMetrics {
    /// The handle whose hook started the invocation: what [`crate::current`] records through.
    pub(crate) current: Metrics,
    documents: Mutex<Documents>,
}

impl InvocationMetrics {
    pub(crate) fn new(current: Metrics) -> Self {
        Self {
            current,
            documents: Mutex::default(),
        }
    }
}

impl Drop for InvocationMetrics {
    /// Documents no hook wrote (no `MetricsHook` ran the invocation) are written when the
    /// invocation is dropped: at its end, or when the last task holding it finishes.
    fn drop(&mut self) {
        self.documents
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .end();
    }
}

/// One document per `Metrics` recording in the invocation: nearly always a single one, kept
/// inline so that an invocation allocates nothing for it.
#[derive(Default)]
struct Documents {
    first: Option<(Arc<Shared>, Box<Document>)>,
    others: Vec<(Arc<Shared>, Box<Document>)>,
    /// The invocation's documents were written: a later recording is refused.
    ended: bool,
}

impl Documents {
    /// The document of `shared`, made from its pool if it has none yet.
    #[inline]
    fn get_or_insert(&mut self, shared: &Arc<Shared>) -> &mut Document {
        let is_first = matches!(&self.first, Some((first, _)) if Arc::ptr_eq(first, shared));
        if is_first {
            match &mut self.first {
                Some((_, document)) => document,
                None => unreachable!("checked just above"),
            }
        } else {
            self.insert_or_other(shared)
        }
    }

    /// [`Documents::get_or_insert`] for a first document to make, or another than the first.
    #[inline(never)]
    fn insert_or_other(&mut self, shared: &Arc<Shared>) -> &mut Document {
        if self.first.is_none() {
            return &mut self.first.insert((shared.clone(), shared.pooled())).1;
        }
        let i = if let Some(i) = self
            .others
            .iter()
            .position(|(other, _)| Arc::ptr_eq(other, shared))
        {
            i
        } else {
            self.others.push((shared.clone(), shared.pooled()));
            self.others.len() - 1
        };
        &mut self.others[i].1
    }

    /// Writes every document left, each by its own `Metrics`, and refuses later recordings.
    fn end(&mut self) {
        self.ended = true;
        let first = self.first.take();
        for (owner, mut document) in first.into_iter().chain(self.others.drain(..)) {
            if document.has_metrics() {
                owner.write(&owner.settings.base, &mut document);
            }
            owner.recycle(document);
        }
    }

    /// Takes out the document of `shared`.
    fn take(&mut self, shared: &Shared) -> Option<Box<Document>> {
        if self
            .first
            .as_ref()
            .is_some_and(|(first, _)| std::ptr::eq(Arc::as_ptr(first), shared))
        {
            return self.first.take().map(|(_, document)| document);
        }
        let i = self
            .others
            .iter()
            .position(|(other, _)| std::ptr::eq(Arc::as_ptr(other), shared))?;
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
            follows_invocation: false,
            settings,
            process: Mutex::new(Document::default()),
            process_used: AtomicBool::new(false),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// The state of the handle [`crate::current`] returns outside an invocation.
    pub(crate) fn follower() -> Self {
        let mut shared = Self::new(Settings {
            base: Base::new(String::new(), Vec::new()),
            service: String::new(),
            default_dimensions: Vec::new(),
            function_name: None,
            capture_cold_start: false,
            raise_on_empty: false,
            warn_on_empty: false,
            disabled: true,
            sink: Arc::new(crate::CaptureSink::new()),
            on_error: None,
        });
        shared.follows_invocation = true;
        shared
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

    /// Runs `f` on the document `target` designates, with the `Shared` that owns it (another one
    /// than `self` for the handle of [`crate::current`]).
    ///
    /// # Errors
    /// [`MetricsError::NoInvocation`] for the handle of [`crate::current`] where no invocation
    /// with a `MetricsHook` is in scope; [`MetricsError::InvocationEnded`] when the invocation's
    /// documents were already written.
    pub(crate) fn with_document<R>(
        self: &Arc<Self>,
        target: Target<'_>,
        f: impl FnOnce(&Arc<Shared>, &mut Document) -> R,
    ) -> Result<R, Box<MetricsError>> {
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

    fn in_process<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&Arc<Shared>, &mut Document) -> R,
    ) -> Result<R, Box<MetricsError>> {
        if self.follows_invocation {
            return Err(Box::new(MetricsError::NoInvocation));
        }
        self.process_used.store(true, Ordering::Relaxed);
        Ok(f(self, &mut lock(&self.process)))
    }

    fn in_invocation<R>(
        self: &Arc<Self>,
        invocation: &Invocation,
        f: impl FnOnce(&Arc<Shared>, &mut Document) -> R,
    ) -> Result<R, Box<MetricsError>> {
        let state = if self.follows_invocation {
            invocation.extensions().get::<InvocationMetrics>()
        } else {
            // Normally made by the hook's `on_start`; without a hook, the first handle to record
            // makes it, and its documents are written when the invocation is dropped.
            invocation.extensions().try_get_or_init(|| {
                InvocationMetrics::new(Metrics {
                    shared: self.clone(),
                })
            })
        };
        let Some(state) = state else {
            return self.in_process(f);
        };
        let owner = if self.follows_invocation {
            let owner = state.current.shared_arc();
            if owner.follows_invocation {
                return Err(Box::new(MetricsError::NoInvocation));
            }
            owner
        } else {
            self
        };
        let mut documents = lock(&state.documents);
        if documents.ended {
            return Err(Box::new(MetricsError::InvocationEnded {
                request_id: invocation.context().request_id().to_owned(),
            }));
        }
        Ok(f(owner, documents.get_or_insert(owner)))
    }

    /// Renders a document and hands it to the sink (unless disabled), in as many documents as
    /// it takes for each line to fit one CloudWatch Logs event.
    pub(crate) fn write(&self, base: &Base, document: &mut Document) {
        let now = now_ms();
        if self.settings.disabled {
            return;
        }
        let sink = &self.settings.sink;
        document.render_each(base, now, |line| sink.write_document(line));
    }

    /// Records one value. Inlined into the recording methods: the work is done by
    /// [`Shared::record_boxed`], whose result fits in a register, and only an error is unboxed.
    #[inline]
    pub(crate) fn record(
        self: &Arc<Self>,
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
        self: &Arc<Self>,
        target: Target<'_>,
        recording: &Recording<'_>,
    ) -> Result<(), Box<MetricsError>> {
        // The closure holds one reference and returns a pointer-sized result: nothing large is
        // moved through the scope lookup and the lock.
        self.with_document(target, move |shared, document| {
            let base = &shared.settings.base;
            if document.record_boxed(base, recording)? == Fill::Full {
                shared.write(base, document);
                document.clear_metrics();
            }
            Ok(())
        })?
    }

    /// Runs a check-and-change of the target's document (a dimension, metadata): `f` gets the
    /// base of the `Metrics` owning the document.
    pub(crate) fn change(
        self: &Arc<Self>,
        target: Target<'_>,
        f: impl FnOnce(&Base, &mut Document) -> Result<(), MetricsError>,
    ) -> Result<(), MetricsError> {
        self.with_document(target, |shared, document| {
            f(&shared.settings.base, document)
        })
        .map_err(|e| *e)?
    }

    pub(crate) fn set_timestamp(
        self: &Arc<Self>,
        target: Target<'_>,
        time: SystemTime,
    ) -> Result<(), MetricsError> {
        let millis = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| MetricsError::TimestampBeforeEpoch)?
            .as_millis();
        let millis = u64::try_from(millis).unwrap_or(u64::MAX);
        let disabled = self
            .with_document(target, |shared, document| {
                document.set_timestamp(millis);
                shared.settings.disabled
            })
            .map_err(|e| *e)?;
        if !disabled {
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
        Ok(())
    }

    /// Writes the target's document and clears it.
    pub(crate) fn flush(self: &Arc<Self>, target: Target<'_>) -> Result<(), MetricsError> {
        self.with_document(target, |shared, document| {
            let recorded = document.recorded();
            if document.has_metrics() {
                shared.write(&shared.settings.base, document);
            }
            document.clear();
            if recorded {
                Ok(())
            } else {
                shared.nothing_recorded()
            }
        })
        .map_err(|e| *e)?
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

    /// A timeout's cut-off: writes every document of the invocation as it stands and clears
    /// their metrics (dimensions and metadata stay for what comes after).
    pub(crate) fn write_invocation_so_far(invocation: &Invocation) {
        let Some(state) = invocation.extensions().get::<InvocationMetrics>() else {
            return;
        };
        let mut documents = lock(&state.documents);
        let Documents { first, others, .. } = &mut *documents;
        for (owner, document) in first.iter_mut().chain(others.iter_mut()) {
            if document.has_metrics() {
                owner.write(&owner.settings.base, document);
                document.clear_metrics();
            }
        }
    }

    /// An invocation ended for the hook of this `Metrics`: write its document; the hook that
    /// started the invocation (`last`) also writes the documents of handles that have no hook
    /// in this layer and closes the invocation to later recordings. Reports an empty invocation.
    pub(crate) fn finish_invocation(&self, invocation: &Invocation, last: bool) {
        let mut recorded = false;
        if let Some(state) = invocation.extensions().get::<InvocationMetrics>() {
            let mut documents = lock(&state.documents);
            if let Some(mut own) = documents.take(self) {
                recorded = own.ever_recorded();
                if own.has_metrics() {
                    self.write(&self.settings.base, &mut own);
                }
                self.recycle(own);
            }
            if last {
                documents.end();
            }
        }
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
