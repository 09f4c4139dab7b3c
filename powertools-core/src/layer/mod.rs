//! The tower layer that runs a handler inside its invocation scope, with the utilities' hooks
//! around it.
//!
//! ```no_run
//! use lambda_runtime::{service_fn, Error, LambdaEvent};
//! use powertools_core::layer::InvocationLayer;
//! use serde_json::Value;
//! use tower::ServiceBuilder;
//!
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     // Anywhere below here, `Invocation::current()` is this invocation.
//!     Ok(event.payload)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let service = ServiceBuilder::new()
//!         .layer(InvocationLayer::new().handler_name("handler"))
//!         .service(service_fn(handler));
//!     lambda_runtime::run(service).await
//! }
//! ```

mod hook;
#[cfg(feature = "http")]
mod http;
mod outcome;
mod panic;
mod report;
mod watchdog;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use tower::{Layer, Service};
use tracing::Instrument;

pub use hook::InvocationHook;
pub use outcome::{
    ErrorReport, EventView, InvocationOutcome, PanicReport, ResponseView, TimeoutReport,
};
pub use report::{InvalidEvent, PANIC_ERROR_TYPE, ReportErrors, ReportErrorsLayer, diagnostic};

use crate::{ColdStart, Invocation, InvocationContext};

/// A boxed, `Send` future: what [`InvocationService`] returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A `tower::Layer` that gives each invocation its [`Invocation`] scope and runs the hooks of the
/// utilities around the handler.
///
/// A malformed trace header from the runtime is reported by one warning line (the first time
/// in the process) and the invocation runs untraced.
///
/// Cloning is cheap; the service it builds is `Clone` when the inner one is, so it works with
/// `lambda_runtime::run_concurrent`.
#[derive(Clone)]
pub struct InvocationLayer {
    shared: Arc<Shared>,
}

struct Shared {
    hooks: Vec<Arc<dyn InvocationHook>>,
    handler_name: String,
    handler_location: Option<String>,
    timeout_margin: std::time::Duration,
}

impl Default for InvocationLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl InvocationLayer {
    /// A layer with no hooks and the handler name `handler`.
    pub fn new() -> Self {
        panic::install_location_hook();
        // Read the environment now, at init: a bad value warns before the first invocation.
        let _ = crate::PowertoolsConfig::global();
        let _ = ColdStart::global();
        Self {
            shared: Arc::new(Shared {
                hooks: Vec::new(),
                handler_name: "handler".to_owned(),
                handler_location: None,
                timeout_margin: std::time::Duration::from_millis(
                    crate::PowertoolsConfig::global()
                        .powertools
                        .timeout_margin_ms,
                ),
            }),
        }
    }

    /// Adds a hook; hooks start in the order added and end in reverse.
    pub fn hook(mut self, hook: impl InvocationHook) -> Self {
        self.shared_mut().hooks.push(Arc::new(hook));
        self
    }

    /// Adds a shared hook.
    pub fn hook_arc(mut self, hook: Arc<dyn InvocationHook>) -> Self {
        self.shared_mut().hooks.push(hook);
        self
    }

    /// Names the handler (the tracer's `## <name>` subsegment).
    pub fn handler_name(mut self, name: impl Into<String>) -> Self {
        self.shared_mut().handler_name = name.into();
        self
    }

    /// Where the handler is defined (`src/main.rs:26`): the `location` of the line reporting
    /// its `Err` (an error value carries no location). The `#[powertools::handler]` attribute
    /// sets it; an absolute path is made relative ([`crate::location::relative`]).
    ///
    /// ```
    /// let layer = powertools_core::layer::InvocationLayer::new()
    ///     .handler_location(concat!(file!(), ":", line!()));
    /// # let _ = layer;
    /// ```
    pub fn handler_location(mut self, location: impl AsRef<str>) -> Self {
        self.shared_mut().handler_location =
            Some(crate::location::relative(location.as_ref()).to_owned());
        self
    }

    /// How long before the deadline an invocation still running is written out as timed out
    /// (default `POWERTOOLS_TIMEOUT_MARGIN_MS`, else 200 ms; zero turns the watchdog off).
    ///
    /// Lambda stops the process at the deadline, and nothing not yet written survives. At
    /// `deadline - margin` the hooks are called with [`InvocationOutcome::Timeout`]: one line says
    /// the invocation is about to time out (with the spans still open), buffered log lines are
    /// written as on an error, the metrics recorded so far are written, and the handler
    /// subsegment is sent as a fault with its open subsegments closed. The handler keeps running;
    /// if it finishes in time, nothing is written twice. The same happens to every invocation in
    /// flight when the process receives `SIGTERM` (which Lambda sends before a shutdown when an
    /// extension is registered), and the process then exits.
    ///
    /// ```
    /// use std::time::Duration;
    /// let layer = powertools_core::layer::InvocationLayer::new().timeout_margin(Duration::from_millis(500));
    /// # let _ = layer;
    /// ```
    pub fn timeout_margin(mut self, margin: std::time::Duration) -> Self {
        self.shared_mut().timeout_margin = margin;
        self
    }

    fn shared_mut(&mut self) -> &mut Shared {
        if Arc::get_mut(&mut self.shared).is_none() {
            self.shared = Arc::new(Shared {
                hooks: self.shared.hooks.clone(),
                handler_name: self.shared.handler_name.clone(),
                handler_location: self.shared.handler_location.clone(),
                timeout_margin: self.shared.timeout_margin,
            });
        }
        Arc::get_mut(&mut self.shared).expect("freshly made unique")
    }
}

impl fmt::Debug for InvocationLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationLayer")
            .field("hooks", &self.shared.hooks.len())
            .field("handler_name", &self.shared.handler_name)
            .finish()
    }
}

impl<S> Layer<S> for InvocationLayer {
    type Service = InvocationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InvocationService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service built by [`InvocationLayer`].
#[derive(Clone)]
pub struct InvocationService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for InvocationService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Starts an invocation: builds its scope and runs the start hooks in it.
    fn begin(
        &self,
        lambda_ctx: &lambda_runtime::Context,
        render_event: &dyn Fn() -> Option<serde_json::Value>,
    ) -> (Invocation, Option<tracing::Span>) {
        let context = InvocationContext::from_lambda(lambda_ctx, ColdStart::global().take());
        if let Some(error) = context.trace_header_error() {
            crate::warning::warn_once(
                "powertools_core.trace_header",
                "powertools_core",
                &format!(
                    "{error}; invocations with a malformed trace header run untraced (warned once)"
                ),
            );
        }
        let invocation = Invocation::new(context);
        let span = invocation.clone().sync_scope(|| {
            let event = EventView::new(render_event);
            for hook in &self.hooks {
                hook.on_start(&invocation, &event);
            }
            self.hooks
                .iter()
                .find_map(|h| h.handler_span(&invocation, &self.handler_name))
        });
        (invocation, span)
    }
}

/// Calls `f` inside the invocation's scope and, when there is one, its handler span.
fn in_scope<R>(invocation: &Invocation, span: Option<&tracing::Span>, f: impl FnOnce() -> R) -> R {
    invocation.clone().sync_scope(|| match span {
        Some(span) => span.in_scope(f),
        None => f(),
    })
}

impl Shared {
    fn end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        for hook in self.hooks.iter().rev() {
            hook.on_end(invocation, outcome);
        }
    }

    /// Runs the handler future to completion inside the scope (and span), then the end hooks,
    /// then returns its result or resumes its panic.
    async fn finish<F, R, E>(
        self: Arc<Self>,
        invocation: Invocation,
        span: Option<tracing::Span>,
        future: F,
        render_response: fn(&R) -> Option<serde_json::Value>,
    ) -> Result<R, E>
    where
        F: Future<Output = Result<R, E>>,
        E: fmt::Debug + 'static,
    {
        let handler = panic::CatchUnwind::new(future)
            .instrument(span.clone().unwrap_or_else(tracing::Span::none));
        let run_end = |outcome: &InvocationOutcome<'_>| match &span {
            Some(span) => span.in_scope(|| self.end(&invocation, outcome)),
            None => self.end(&invocation, outcome),
        };
        let watched = watchdog::watch(
            handler,
            invocation.context().deadline(),
            self.timeout_margin,
        )
        .await;
        let caught = match watched {
            watchdog::Watched::Finished(caught) => caught,
            watchdog::Watched::Cut { report, rest } => {
                run_end(&InvocationOutcome::Timeout(&report));
                drop(report);
                // Written out while it still could be. The handler may yet finish in time: its
                // result goes back to the runtime and the hooks write what came after the cut.
                rest.await
            }
        };
        let result = match caught {
            Ok(Ok(response)) => {
                let render = || render_response(&response);
                let view = ResponseView::new(&render);
                run_end(&InvocationOutcome::Success(&view));
                Ok(response)
            }
            Ok(Err(error)) => {
                let mut report = ErrorReport::from_handler_error(&error);
                report.location.clone_from(&self.handler_location);
                run_end(&InvocationOutcome::Error(&report));
                Err(error)
            }
            Err(payload) => {
                let report = panic::report(payload.as_ref(), &invocation);
                run_end(&InvocationOutcome::Panic(&report));
                drop(span);
                std::panic::resume_unwind(payload);
            }
        };
        drop(span);
        result
    }
}

fn render_serialize<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

impl<S, T, R> Service<LambdaEvent<T>> for InvocationService<S>
where
    S: Service<LambdaEvent<T>, Response = R>,
    S::Future: Send + 'static,
    S::Error: fmt::Debug + Send + 'static,
    T: Serialize,
    R: Serialize + Send + 'static,
{
    type Response = R;
    type Error = S::Error;
    type Future = BoxFuture<Result<R, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<T>) -> Self::Future {
        let (invocation, span) = self
            .shared
            .begin(&event.context, &|| render_serialize(&event.payload));
        let inner = &mut self.inner;
        let future = in_scope(&invocation, span.as_ref(), || inner.call(event));
        let shared = Arc::clone(&self.shared);
        Box::pin(invocation.clone().scope(shared.finish(
            invocation,
            span,
            future,
            render_serialize::<R>,
        )))
    }
}

#[cfg(test)]
mod tests;
