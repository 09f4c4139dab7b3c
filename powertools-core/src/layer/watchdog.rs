//! The watchdog: an invocation still running just before its deadline (or when the process is
//! told to stop) is written out while it still can be.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{LazyLock, Once};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;

use super::TimeoutReport;

/// Set once the process received `SIGTERM`.
static TERMINATING: AtomicBool = AtomicBool::new(false);
/// Wakes every watched invocation when `SIGTERM` arrives.
static TERMINATE: LazyLock<Notify> = LazyLock::new(Notify::new);
/// Invocations whose output is not written yet.
static UNWRITTEN: AtomicUsize = AtomicUsize::new(0);
static LISTEN: Once = Once::new();

/// How a watched handler future ended.
pub(crate) enum Watched<F: Future> {
    /// It finished before the cut-off.
    Finished(F::Output),
    /// The cut-off came first: `report` is for the hooks, `rest` the handler still running.
    Cut {
        report: TimeoutReport,
        rest: Pin<Box<F>>,
    },
}

/// Counts an invocation as unwritten while alive.
struct Unwritten;

impl Unwritten {
    fn new() -> Self {
        UNWRITTEN.fetch_add(1, Ordering::AcqRel);
        Self
    }
}

impl Drop for Unwritten {
    fn drop(&mut self) {
        UNWRITTEN.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `handler` until it finishes, or until `deadline - margin`, or until `SIGTERM`,
/// whichever comes first.
pub(crate) async fn watch<F: Future>(
    handler: F,
    deadline: Option<SystemTime>,
    margin: Duration,
) -> Watched<F> {
    let started = Instant::now();
    let left = deadline
        .filter(|_| !margin.is_zero())
        .map(|d| d.duration_since(SystemTime::now()).unwrap_or_default());
    let Some(left) = left else {
        return Watched::Finished(handler.await);
    };
    listen_for_terminate();
    let _unwritten = Unwritten::new();
    let mut handler = Box::pin(handler);
    let cut_off = tokio::time::sleep(left.saturating_sub(margin));
    let mut cut_off = std::pin::pin!(cut_off);
    let terminate = TERMINATE.notified();
    let mut terminate = std::pin::pin!(terminate);
    let finished = std::future::poll_fn(|cx: &mut Context<'_>| {
        if let Poll::Ready(output) = handler.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if cut_off.as_mut().poll(cx).is_ready()
            || TERMINATING.load(Ordering::Acquire)
            || terminate.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    if let Some(output) = finished {
        return Watched::Finished(output);
    }
    let remaining = deadline
        .and_then(|d| d.duration_since(SystemTime::now()).ok())
        .unwrap_or_default();
    Watched::Cut {
        report: TimeoutReport::new(started.elapsed(), remaining),
        rest: handler,
    }
}

/// Once per process, inside the runtime: on `SIGTERM`, cut every watched invocation, give them a
/// moment to be written, and exit.
fn listen_for_terminate() {
    #[cfg(unix)]
    LISTEN.call_once(|| {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async {
            use tokio::signal::unix::{SignalKind, signal};
            // A runtime built without its IO driver cannot listen for signals (tokio panics):
            // then the watchdog works on deadlines only.
            let Some(Ok(mut terms)) = super::panic::quietly(|| signal(SignalKind::terminate()))
            else {
                return;
            };
            if terms.recv().await.is_none() {
                return;
            }
            TERMINATING.store(true, Ordering::Release);
            TERMINATE.notify_waiters();
            // Lambda stops the process 500 ms after SIGTERM at the latest.
            for _ in 0..40 {
                if UNWRITTEN.load(Ordering::Acquire) == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            std::process::exit(0);
        });
    });
}
