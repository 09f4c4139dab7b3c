//! What Lambda is told about a failed invocation: a readable `errorType` and the `Display` text.

use std::fmt;
use std::task::{Context, Poll};

use lambda_runtime::Diagnostic;
use tower::{Layer, Service};

use super::{BoxFuture, ErrorReport, panic};

/// The `errorType` Lambda reports for a handler that panicked.
pub const PANIC_ERROR_TYPE: &str = "Panic";

/// A `tower::Layer` that reports a handler's failure to Lambda as a [`Diagnostic`] whose
/// `errorType` is the error's own type name and whose `errorMessage` is its `Display` text.
///
/// `lambda_runtime` names a failure after the Rust type of the value it received
/// (`&alloc::boxed::Box<dyn core::error::Error + …>` for a boxed error): nothing a Step
/// Functions `Retry`/`Catch`, a destination or a person can tell apart. Behind this layer:
///
/// | the handler | `errorType` | `errorMessage` |
/// |---|---|---|
/// | `Err(Declined { .. })` (boxed or not) | `Declined` | its `Display` text |
/// | `Err("text".into())` | `Error` | `text` |
/// | `Err(Diagnostic { error_type, .. })` | that `error_type`: set it yourself | its message |
/// | panics | [`PANIC_ERROR_TYPE`] (`Panic`) | the panic message |
///
/// `#[powertools::handler(main)]` and `PowertoolsLayer` put it in place; a hand-written `main`
/// gets it from `powertools::service_fn`, or by wrapping the service with this layer.
///
/// ```
/// use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
/// use powertools_core::layer::ReportErrorsLayer;
/// use serde_json::Value;
/// use tower::{Layer, Service, ServiceExt};
///
/// #[derive(Debug)]
/// struct Declined;
/// impl std::fmt::Display for Declined {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("card declined")
///     }
/// }
/// impl std::error::Error for Declined {}
///
/// async fn handler(_: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
///     Err(Declined.into())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut service = ReportErrorsLayer.layer(service_fn(handler));
/// let event = LambdaEvent::new(Value::Null, lambda_runtime::Context::default());
/// let error: Diagnostic = service.ready().await.unwrap().call(event).await.unwrap_err();
/// assert_eq!(error.error_type, "Declined");
/// assert_eq!(error.error_message, "card declined");
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportErrorsLayer;

impl<S> Layer<S> for ReportErrorsLayer {
    type Service = ReportErrors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReportErrors { inner }
    }
}

/// The service of [`ReportErrorsLayer`].
#[derive(Debug, Clone)]
pub struct ReportErrors<S> {
    inner: S,
}

impl<S> ReportErrors<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

/// An event that does not deserialize into the handler's event type: the handler is not called,
/// and the invocation fails as an `Err` would (an ERROR line, its metrics, a faulted handler
/// subsegment), with the `errorType` `InvalidEvent`.
///
/// ```
/// let error = powertools_core::layer::InvalidEvent::new("missing field `amount`");
/// assert_eq!(error.to_string(), "the event does not match the handler's event type: missing field `amount`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEvent {
    message: String,
}

impl InvalidEvent {
    /// The deserializer's message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for InvalidEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the event does not match the handler's event type: {}",
            self.message
        )
    }
}

impl std::error::Error for InvalidEvent {}

/// The diagnostic Lambda gets for a handler error.
pub fn diagnostic(report: &ErrorReport) -> Diagnostic {
    Diagnostic {
        error_type: report.type_name.clone(),
        error_message: report.message.clone(),
    }
}

impl<S, Req> Service<Req> for ReportErrors<S>
where
    S: Service<Req>,
    S::Error: fmt::Debug + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = Diagnostic;
    type Future = BoxFuture<Result<S::Response, Diagnostic>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Diagnostic>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| diagnostic(&ErrorReport::from_handler_error(&e)))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let future = panic::CatchUnwind::new(self.inner.call(request));
        Box::pin(async move {
            match future.await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(error)) => Err(diagnostic(&ErrorReport::from_handler_error(&error))),
                Err(payload) => Err(Diagnostic {
                    error_type: PANIC_ERROR_TYPE.to_owned(),
                    error_message: panic::message(payload.as_ref()),
                }),
            }
        })
    }
}
