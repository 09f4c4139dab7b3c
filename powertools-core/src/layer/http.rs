//! [`InvocationService`] for `lambda_http` handlers (`Request` → `IntoResponse`).

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use lambda_http::{IntoResponse, Request, RequestExt};
use serde_json::{Map, Value};
use tower::Service;

use super::{BoxFuture, InvocationService, in_scope};

/// The request as a JSON event in the shape API Gateway sends it (`httpMethod`, `path`,
/// `headers`, `queryStringParameters`, `requestContext`, `body`), so event logging and the
/// correlation-id paths work the same for HTTP handlers.
fn render_request(req: &Request) -> Option<Value> {
    let mut event = Map::new();
    event.insert("httpMethod".into(), req.method().as_str().into());
    event.insert("path".into(), req.raw_http_path().into());
    let headers: Map<String, Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into(),
            )
        })
        .collect();
    event.insert("headers".into(), Value::Object(headers));
    if let Some(q) = req.query_string_parameters_ref() {
        let q: Map<String, Value> = q.iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        event.insert("queryStringParameters".into(), Value::Object(q));
    }
    if let Some(rc) = req.request_context_ref() {
        event.insert("requestContext".into(), serde_json::to_value(rc).ok()?);
    }
    match req.body() {
        lambda_http::Body::Text(t) => {
            event.insert("body".into(), t.as_str().into());
        }
        lambda_http::Body::Binary(b) => {
            event.insert("body".into(), String::from_utf8_lossy(b).into());
        }
        _ => {}
    }
    Some(Value::Object(event))
}

impl<S, R> Service<Request> for InvocationService<S>
where
    S: Service<Request, Response = R>,
    S::Future: Send + 'static,
    S::Error: fmt::Debug + Send + 'static,
    R: IntoResponse + Send + 'static,
{
    type Response = R;
    type Error = S::Error;
    type Future = BoxFuture<Result<R, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let lambda_ctx = req.lambda_context_ref().cloned().unwrap_or_default();
        let (invocation, span) = self.shared.begin(&lambda_ctx, &|| render_request(&req));
        let inner = &mut self.inner;
        let future = in_scope(&invocation, span.as_ref(), || inner.call(req));
        let shared = Arc::clone(&self.shared);
        Box::pin(
            invocation
                .clone()
                .scope(shared.finish(invocation, span, future, |_| None)),
        )
    }
}
