//! The invocation scope: finding the invocation in progress from anywhere in the handler's call
//! tree.
//!
//! The invocation layer creates one [`Invocation`] per request and runs the handler future
//! inside its scope (a Tokio task-local). Code running in that future — the handler, what it
//! awaits, `tracing` subscribers reacting to its events — reads it with [`Invocation::current`]
//! or [`Invocation::with_current`]. Because the scope belongs to the future and not to the
//! process, invocations running at once under `run_concurrent` (Lambda Managed Instances) each
//! see their own context, and nothing ever reads `_X_AMZN_TRACE_ID`.
//!
//! A task the handler spawns is a new future outside the scope. Carry the invocation into it
//! explicitly with [`Invocation::scope`]:
//!
//! ```
//! use powertools_core::Invocation;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let invocation = Invocation::for_test("req-1");
//! invocation.clone().scope(async {
//!     let current = Invocation::current().unwrap();
//!     let task = tokio::spawn(current.scope(async {
//!         Invocation::current().map(|i| i.context().request_id().to_owned())
//!     }));
//!     assert_eq!(task.await.unwrap().as_deref(), Some("req-1"));
//! }).await;
//! # }
//! ```

mod extensions;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

pub use extensions::Extensions;

use crate::InvocationContext;

tokio::task_local! {
    static CURRENT: Invocation;
}

/// One invocation in progress: its [`InvocationContext`] and the utilities' per-invocation state.
///
/// Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct Invocation {
    inner: Arc<Inner>,
}

struct Inner {
    context: InvocationContext,
    extensions: Extensions,
}

impl Invocation {
    /// A new invocation with the given context.
    pub fn new(context: InvocationContext) -> Self {
        Self {
            inner: Arc::new(Inner {
                context,
                extensions: Extensions::default(),
            }),
        }
    }

    /// An invocation with a test context (see [`InvocationContext::for_test`]).
    ///
    /// ```
    /// let i = powertools_core::Invocation::for_test("req-1");
    /// assert_eq!(i.context().request_id(), "req-1");
    /// ```
    pub fn for_test(request_id: &str) -> Self {
        Self::new(InvocationContext::for_test(request_id, "test-function"))
    }

    /// The invocation's context.
    pub fn context(&self) -> &InvocationContext {
        &self.inner.context
    }

    /// The utilities' per-invocation state.
    pub fn extensions(&self) -> &Extensions {
        &self.inner.extensions
    }

    /// The invocation whose scope the caller runs in, if any.
    ///
    /// ```
    /// assert!(powertools_core::Invocation::current().is_none());
    /// ```
    pub fn current() -> Option<Invocation> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `f` with the current invocation without cloning it; `None` outside any scope.
    pub fn with_current<R>(f: impl FnOnce(&Invocation) -> R) -> Option<R> {
        CURRENT.try_with(f).ok()
    }

    /// Runs `future` inside this invocation's scope.
    pub fn scope<F: Future>(
        self,
        future: F,
    ) -> tokio::task::futures::TaskLocalFuture<Invocation, F> {
        CURRENT.scope(self, future)
    }

    /// Runs the synchronous `f` inside this invocation's scope (from a `spawn_blocking` closure,
    /// say).
    pub fn sync_scope<R>(self, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self, f)
    }

    /// Whether two handles refer to the same invocation.
    pub fn ptr_eq(&self, other: &Invocation) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("context", &self.inner.context)
            .field("extensions", &self.inner.extensions)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_scopes_stay_apart() {
        let tasks: Vec<_> = (0..32)
            .map(|n| {
                let invocation = Invocation::for_test(&format!("req-{n}"));
                tokio::spawn(invocation.scope(async move {
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        let seen =
                            Invocation::with_current(|i| i.context().request_id().to_owned());
                        assert_eq!(seen.as_deref(), Some(format!("req-{n}").as_str()));
                    }
                    n
                }))
            })
            .collect();
        for (n, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), n);
        }
        assert!(Invocation::current().is_none());
    }

    #[test]
    fn sync_scope_sets_and_restores() {
        let i = Invocation::for_test("a");
        let inner = i.clone().sync_scope(|| Invocation::current().unwrap());
        assert!(inner.ptr_eq(&i));
        assert!(Invocation::current().is_none());
    }
}
