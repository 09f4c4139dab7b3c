//! AWS SDK for Rust calls as X-Ray `aws` subsegments, with the trace propagated to the service.
//!
//! [`XrayInterceptor`] is added once to a client's config. For every operation the client runs
//! inside a traced invocation it opens one span (target [`AWS_SDK_TARGET`], which passes the
//! tracer's level filter whatever its setting) that the [`XrayLayer`](crate::XrayLayer) turns
//! into a subsegment: `name` = the service (`DynamoDB`), `namespace: "aws"`, the `aws` object
//! (`operation`, `region`, `request_id`, `retries`, and `table_name` / `queue_url` when the
//! request names one), `http.response.status` (4xx error, 429 throttle, 5xx fault), and a
//! `cause` from the SDK's error. Each attempt's request carries `X-Amzn-Trace-Id` with the
//! invocation's `Root`, that subsegment as `Parent` and `Sampled=1`, replacing the header the
//! SDK sets from `_X_AMZN_TRACE_ID` (which names the function's segment, and is not set per
//! invocation under `run_concurrent`). Outside a traced invocation the interceptor opens no
//! subsegment: the request carries the invocation's own header if there is one (`Sampled=0`
//! passed on), otherwise whatever the SDK set.
//!
//! ```ignore
//! let sdk_config = aws_config::load_from_env().await;
//! let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config)
//!     .interceptor(powertools_tracer::aws_sdk::XrayInterceptor::new())
//!     .build();
//! let dynamodb = aws_sdk_dynamodb::Client::from_conf(config);
//! ```

use std::fmt;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_types::region::Region;
use tracing::Span;
use tracing::field::Empty;

use crate::current::{TRACE_HEADER_NAME, trace_header};
pub use crate::layer::AWS_SDK_TARGET;

/// The request-body size above which the interceptor does not look for a resource name.
const MAX_BODY_SCANNED: usize = 64 * 1024;

/// An AWS SDK interceptor that records each operation as an X-Ray `aws` subsegment and sends
/// the trace header with its requests. See the [module documentation](self).
///
/// ```
/// use powertools_tracer::aws_sdk::XrayInterceptor;
/// let interceptor = XrayInterceptor::new();
/// # let _ = interceptor;
/// // aws_sdk_dynamodb::config::Builder::from(&sdk_config).interceptor(interceptor)
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct XrayInterceptor {
    _private: (),
}

impl XrayInterceptor {
    /// A new interceptor.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The operation's span, kept in the config bag from `read_before_execution` to
/// `read_after_execution`.
#[derive(Clone)]
struct CallSpan(Span);

impl fmt::Debug for CallSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CallSpan").field(&self.0.id()).finish()
    }
}

impl Storable for CallSpan {
    type Storer = StoreReplace<Self>;
}

fn call_span(cfg: &ConfigBag) -> Option<&Span> {
    cfg.load::<CallSpan>()
        .map(|s| &s.0)
        .filter(|s| !s.is_disabled())
}

/// The resource names in a JSON request body (awsJson protocols: DynamoDB, SQS, …).
#[derive(serde::Deserialize)]
struct Resource {
    #[serde(rename = "TableName")]
    table_name: Option<String>,
    #[serde(rename = "QueueUrl")]
    queue_url: Option<String>,
}

impl Intercept for XrayInterceptor {
    fn name(&self) -> &'static str {
        "powertools_tracer::XrayInterceptor"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The service and operation are recorded once the operation's configuration is in
        // the bag (after serialization).
        let span = tracing::info_span!(
            target: AWS_SDK_TARGET,
            "aws_sdk",
            xray.name = Empty,
            xray.namespace = "aws",
            aws.operation = Empty,
            aws.region = Empty,
            aws.request_id = Empty,
            aws.retries = Empty,
            aws.table_name = Empty,
            aws.queue_url = Empty,
            http.response.status_code = Empty,
            exception.type = Empty,
            exception.message = Empty,
            xray.fault = Empty,
        );
        if span.is_disabled() {
            return Ok(());
        }
        cfg.interceptor_state().store_put(CallSpan(span));
        Ok(())
    }

    fn read_after_serialization(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(span) = call_span(cfg) else {
            return Ok(());
        };
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("AWS", ""), |m| (m.service(), m.name()));
        span.record("xray.name", service);
        if !operation.is_empty() {
            span.record("aws.operation", operation);
        }
        if let Some(region) = cfg.load::<Region>() {
            span.record("aws.region", region.as_ref());
        }
        let request = context.request();
        let json = request
            .headers()
            .get("content-type")
            .is_some_and(|c| c.starts_with("application/x-amz-json"));
        if let Some(body) = request
            .body()
            .bytes()
            .filter(|b| json && b.len() <= MAX_BODY_SCANNED)
            && let Ok(resource) = serde_json::from_slice::<Resource>(body)
        {
            if let Some(table) = resource.table_name {
                span.record("aws.table_name", table.as_str());
            }
            if let Some(queue) = resource.queue_url {
                span.record("aws.queue_url", queue.as_str());
            }
        }
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The span's subsegment as Parent; without one, the invocation's own header (if any).
        let header = match call_span(cfg) {
            Some(span) => span.in_scope(trace_header),
            None => trace_header(),
        };
        if let Some(header) = header {
            context
                .request_mut()
                .headers_mut()
                .insert(TRACE_HEADER_NAME, header);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(span) = call_span(cfg).cloned() else {
            return Ok(());
        };
        let retries = cfg
            .load::<RequestAttempts>()
            .map_or(0, |a| a.attempts().saturating_sub(1));
        span.record("aws.retries", u64::from(retries));
        // The last attempt's response: an earlier attempt's status must not flag the call.
        if let Some(response) = context.response() {
            span.record("http.response.status_code", response.status().as_u16());
            let headers = response.headers();
            if let Some(id) = headers
                .get("x-amzn-requestid")
                .or_else(|| headers.get("x-amz-request-id"))
            {
                span.record("aws.request_id", id);
            }
        }
        if let Some(Err(error)) = context.output_or_error() {
            let message = match error.as_operation_error() {
                Some(e) => e.to_string(),
                None => error_chain(error),
            };
            let kind = error.as_operation_error().and(error_code(&message));
            if let Some(kind) = kind {
                span.record("exception.type", kind);
            }
            span.record("exception.message", message.as_str());
            if context.response().is_none() {
                // No response at all (connection, timeout): a fault, as X-Ray's SDKs record it.
                span.record("xray.fault", true);
            }
        }
        // Closing the span (its last handle) ends the subsegment.
        cfg.interceptor_state().unset::<CallSpan>();
        drop(span);
        Ok(())
    }
}

/// The error code an SDK error's message starts with (`ResourceNotFoundException: …`).
fn error_code(message: &str) -> Option<&str> {
    if let Some(rest) = message.strip_prefix("unhandled error (") {
        return rest.strip_suffix(')').filter(|c| !c.is_empty());
    }
    let code = message.split(':').next()?.trim();
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
        .then_some(code)
}

/// An error and its sources, `: `-separated.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_from_sdk_messages() {
        assert_eq!(
            error_code("ResourceNotFoundException: Requested resource not found"),
            Some("ResourceNotFoundException")
        );
        assert_eq!(
            error_code("ThrottlingException"),
            Some("ThrottlingException")
        );
        assert_eq!(error_code("unhandled error (Boom)"), Some("Boom"));
        assert_eq!(error_code("unhandled error"), None);
    }
}
