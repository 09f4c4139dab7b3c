//! What the `#[handler]` expansion calls. Not a public API: names here may change in any release.

use std::future::Future;
use std::sync::LazyLock;

use lambda_runtime::{LambdaEvent, service_fn};
use tower::{Layer, Service};

pub use lambda_runtime;

use crate::{PowertoolsLayer, PowertoolsLayerBuilder};

/// The layer a `#[handler]` builds on its first invocation.
pub struct MacroLayer {
    layer: PowertoolsLayer,
}

impl MacroLayer {
    /// Builds the layer from the attribute's settings and installs the subscriber. A
    /// configuration error (say, no metrics namespace anywhere) is written as one error line and
    /// the toolkit carries on without the part that could not be configured.
    pub fn new(builder: PowertoolsLayerBuilder) -> Self {
        Self {
            layer: builder.build_lenient(),
        }
    }
}

/// Runs one invocation of `handler` inside the layer, or runs it directly when an outer
/// layer (a hand-composed `PowertoolsLayer`, `powertools::testing`) already opened the
/// invocation: wrapping twice would write everything twice.
pub async fn invoke<Req, F, Fut, R, E>(
    layer: &LazyLock<MacroLayer>,
    request: Req,
    mut handler: F,
) -> Result<R, E>
where
    F: FnMut(Req) -> Fut,
    powertools_core::layer::InvocationService<tower::util::ServiceFn<F>>:
        Service<Req, Response = R, Error = E>,
    Fut: Future<Output = Result<R, E>>,
{
    if powertools_core::Invocation::with_current(|_| ()).is_some() {
        return handler(request).await;
    }
    let mut service = layer.layer.invocation_layer().layer(service_fn(handler));
    service.call(request).await
}

/// `main` for a `LambdaEvent` handler: `lambda_runtime::run_concurrent` (sequential unless
/// `AWS_LAMBDA_MAX_CONCURRENCY` > 1), failures reported with their own type.
///
/// The runtime hands over the event as JSON and it is deserialized here, inside the layer: an
/// event that does not fit `T` fails the invocation like an `Err` (an ERROR line, its metrics, a
/// faulted handler subsegment, `errorType` `InvalidEvent`) instead of never reaching the toolkit.
pub async fn run<F, T, R, Fut, E>(
    layer: &'static LazyLock<MacroLayer>,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    F: Fn(LambdaEvent<T>) -> Fut + Clone + Send + 'static,
    T: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let service =
        service_fn(move |event: LambdaEvent<serde_json::Value>| serve(layer, &handler, event));
    lambda_runtime::run_concurrent(powertools_core::layer::ReportErrors::new(service)).await
}

/// One invocation of [`run`]: the event deserialized inside the layer.
fn serve<F, T, R, Fut, E>(
    layer: &'static LazyLock<MacroLayer>,
    handler: &F,
    event: LambdaEvent<serde_json::Value>,
) -> powertools_core::layer::BoxFuture<Result<R, lambda_runtime::Diagnostic>>
where
    F: Fn(LambdaEvent<T>) -> Fut,
    T: serde::de::DeserializeOwned,
    R: serde::Serialize + Send + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    E: std::fmt::Debug + 'static,
{
    use powertools_core::layer::{ErrorReport, InvalidEvent, diagnostic};

    let LambdaEvent { payload, context } = event;
    match serde_json::from_value::<T>(payload.clone()) {
        Ok(typed) => {
            let future = handler(LambdaEvent::new(typed, context));
            Box::pin(async move {
                future
                    .await
                    .map_err(|e| diagnostic(&ErrorReport::from_handler_error(&e)))
            })
        }
        Err(error) => {
            let message = error.to_string();
            let mut service = layer.layer.invocation_layer().layer(service_fn(
                move |_: LambdaEvent<serde_json::Value>| {
                    let error: lambda_runtime::Error = Box::new(InvalidEvent::new(message.clone()));
                    std::future::ready(Err::<R, _>(error))
                },
            ));
            let failed = service.call(LambdaEvent::new(payload, context));
            Box::pin(async move {
                failed
                    .await
                    .map_err(|e| diagnostic(&ErrorReport::from_handler_error(&e)))
            })
        }
    }
}

/// `main` for a `lambda_http` handler: `lambda_http::run_concurrent`.
#[cfg(feature = "http")]
pub async fn run_http<F, R, Fut, E>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(lambda_http::Request) -> Fut + Clone + Send + 'static,
    R: lambda_http::IntoResponse + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    E: Into<lambda_runtime::Diagnostic> + std::fmt::Debug + Send + 'static,
{
    lambda_http::run_concurrent(powertools_core::layer::ReportErrors::new(service_fn(
        handler,
    )))
    .await
}

/// Runs `main`'s future on a multi-threaded Tokio runtime.
pub fn tokio_main<F: Future<Output = Result<(), lambda_runtime::Error>>>(
    future: F,
) -> Result<(), lambda_runtime::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}
