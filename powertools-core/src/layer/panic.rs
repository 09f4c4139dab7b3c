//! Catching a panic in the handler future long enough for the hooks to record it.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Mutex, Once};
use std::task::{Context, Poll};

use super::PanicReport;
use crate::Invocation;

static INSTALL: Once = Once::new();

thread_local! {
    /// Set while the toolkit tries something that may panic and handles the panic itself.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it: `None` if it panicked.
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> Option<R> {
    QUIET.with(|q| q.set(true));
    let result = catch_unwind(AssertUnwindSafe(f)).ok();
    QUIET.with(|q| q.set(false));
    result
}

/// Where a panic in an invocation's scope happened, kept in that invocation's extensions (never
/// per thread: a worker thread serves many invocations, and a payload resumed with
/// `resume_unwind` runs no panic hook).
#[derive(Default)]
struct PanicLocation(Mutex<Option<String>>);

/// Installs (once per process) a panic hook that records where a panic happened on the
/// invocation in whose scope it happened, then calls the hook that was there before.
pub(crate) fn install_location_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic in an invocation's scope is reported by the layer (the logger's ERROR line,
            // the handler subsegment's cause, the error Lambda gets): Rust's plain-text message
            // on stderr would only add unparsed lines to CloudWatch. Elsewhere it is kept.
            let in_invocation = Invocation::with_current(|invocation| {
                if let Some(l) = info.location()
                    && let Some(slot) = invocation
                        .extensions()
                        .try_get_or_init(PanicLocation::default)
                    && let Ok(mut slot) = slot.0.try_lock()
                {
                    *slot = Some(format!(
                        "{}:{}:{}",
                        crate::location::relative(l.file()),
                        l.line(),
                        l.column()
                    ));
                }
            })
            .is_some();
            if !in_invocation && !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
}

/// A panic payload's message (`"Box<dyn Any>"` when it is not a string).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Describes a panic payload caught in `invocation`: its message, and the location of the last
/// panic recorded in that invocation's scope (none when it panicked elsewhere, in a task spawned
/// outside the scope, say).
pub(crate) fn report(payload: &(dyn Any + Send), invocation: &Invocation) -> PanicReport {
    let message = message(payload);
    let location = invocation
        .extensions()
        .get::<PanicLocation>()
        .and_then(|slot| slot.0.try_lock().ok().and_then(|mut s| s.take()));
    PanicReport { message, location }
}

pin_project_lite::pin_project! {
    /// A future that turns a panic while polling its inner future into `Err(payload)`.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
