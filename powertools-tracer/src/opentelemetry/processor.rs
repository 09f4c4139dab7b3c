//! Ended OpenTelemetry spans → standalone X-Ray subsegment documents.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, Context, KeyValue, Value as OtelValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use powertools_core::Invocation;
use powertools_core::warning::warn_once;

use super::xray_trace_id;
use crate::document::{
    Cause, MAX_BODY_BYTES, MetadataValue, Namespace, Subsegment, fit_body, sanitize,
    sanitize_static, write_standalone,
};
use crate::emitter::DATAGRAM_HEADER;
use crate::layer::fields::{NAMESPACE_FIELD, Value, apply_field};
use crate::trace_context::{with_body_buffer, with_datagram_buffer};
use crate::{SubsegmentId, Tracer};

/// An OpenTelemetry SDK span processor that turns each ended span into an X-Ray subsegment
/// document and sends it with the [`Tracer`]'s emitter (UDP to the X-Ray daemon), as soon as the
/// span ends: no collector, no batching, nothing left to flush when the invocation returns.
///
/// Made by [`Tracer::otel_processor`] or [`XraySpanProcessor::new`]. The document of a span:
///
/// - `id`: the span id; `trace_id`: the span's trace id in X-Ray's form
///   (`1-5759e988-bd862e3fe1be46a994272793`); `parent_id`: the parent span id. Spans started with
///   [`current_context`](super::current_context) have the invocation's trace id and hang under the
///   current X-Ray subsegment (or the function's segment); their children under them.
/// - `name`: the span name (sanitised). Client and producer spans are named after the service
///   they call, as X-Ray's service map expects: `peer.service`, `rpc.service` for AWS SDK calls,
///   `server.address`, or the host of `url.full` / `http.url`.
/// - `start_time` / `end_time`: epoch seconds with microseconds.
/// - Attributes: mapped as the span-field table of [`layer::fields`](crate::layer::fields) says
///   (`http.request.method`, `url.full`, `http.response.status_code`, … → the `http` object;
///   `xray.annotation.<Key>` → an annotation; `xray.name`, `xray.namespace`); everything else
///   is metadata under the service's namespace (arrays as JSON arrays).
/// - `namespace`: `aws` for `rpc.system = "aws-api"` spans (with `rpc.method` as the `aws`
///   operation, `aws.dynamodb.table_names` with one table as `table_name`,
///   `aws.sqs.queue.url` as `queue_url`); `remote` for client and producer spans and for spans
///   with HTTP request attributes, except server and consumer spans (which describe work this
///   function receives).
/// - Status `Error`: `fault`, or `error` when the HTTP status is 4xx; the `cause` lists the span's
///   `exception` events (`exception.type`, `exception.message`), else the status description.
///   An HTTP status alone flags as the tracing layer does (4xx error, 429 throttle, 5xx fault).
///
/// Not sent: anything when the tracer is disabled; spans that are not sampled (with the SDK's
/// default parent-based sampler, spans under an invocation with `Sampled=0`), and spans of an
/// invocation whose header says `Sampled=0` whatever the sampler decided; root spans (no parent:
/// they belong to no X-Ray trace of this invocation; one warning line per process). Span events
/// other than exceptions and span links are not sent.
///
/// # Example
/// ```
/// use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _, TracerProvider as _};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use powertools_tracer::Tracer;
/// use powertools_tracer::opentelemetry::{XrayIdGenerator, current_context};
///
/// let tracer = Tracer::from_env(); // also gives the tracing layer and the handler hook
/// let provider = SdkTracerProvider::builder()
///     .with_id_generator(XrayIdGenerator)
///     .with_span_processor(tracer.otel_processor())
///     .build();
/// let otel = provider.tracer("orders");
///
/// // Inside the handler: a span under the current X-Ray subsegment…
/// let cx = current_context().with_span(otel.start_with_context("load order", &current_context()));
/// {
///     let _active = cx.clone().attach();
///     // …and its children, started from the active OpenTelemetry context.
///     otel.start("query").end();
/// }
/// cx.span().end();
/// ```
#[derive(Debug, Clone)]
pub struct XraySpanProcessor {
    tracer: Tracer,
}

impl XraySpanProcessor {
    /// A processor sending through `tracer`'s emitter, with its service name as the metadata
    /// namespace. It sends nothing when the tracer is disabled.
    pub fn new(tracer: &Tracer) -> Self {
        Self {
            tracer: tracer.clone(),
        }
    }
}

impl Tracer {
    /// The OpenTelemetry span processor sending ended spans as X-Ray subsegments through this
    /// tracer's emitter (feature `opentelemetry`). See [`XraySpanProcessor`].
    pub fn otel_processor(&self) -> XraySpanProcessor {
        XraySpanProcessor::new(self)
    }
}

/// The warning key for spans without a parent.
const ROOT_SPAN_WARNING: &str = "powertools_tracer.otel_root_span";

impl SpanProcessor for XraySpanProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let config = &self.tracer.config;
        if !config.enabled || !span.span_context.is_sampled() {
            return;
        }
        let Some(parent_id) =
            SubsegmentId::from_u64(u64::from_be_bytes(span.parent_span_id.to_bytes()))
        else {
            warn_once(
                ROOT_SPAN_WARNING,
                "powertools_tracer",
                &format!(
                    "OpenTelemetry span {:?} has no parent and is not sent to X-Ray; start spans with powertools_tracer::opentelemetry::current_context() to place them in the invocation's trace (warned once)",
                    span.name
                ),
            );
            return;
        };
        let Some(id) =
            SubsegmentId::from_u64(u64::from_be_bytes(span.span_context.span_id().to_bytes()))
        else {
            return;
        };
        let trace_id = xray_trace_id(span.span_context.trace_id());
        if in_unsampled_invocation(&trace_id) {
            return;
        }
        let mut sub = subsegment_of(span, id, parent_id);
        with_body_buffer(|body| {
            // An OpenTelemetry span's document has no embedded children to stream.
            fit_body(&mut sub, &config.service, body, MAX_BODY_BYTES, &mut |_| {});
            with_datagram_buffer(|datagram| {
                datagram.extend_from_slice(DATAGRAM_HEADER);
                write_standalone(datagram, &trace_id, parent_id, body);
                config.emitter.emit(datagram);
            });
        });
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Whether the caller runs in an invocation of trace `trace_id` whose header says `Sampled=0`.
fn in_unsampled_invocation(trace_id: &str) -> bool {
    Invocation::with_current(|inv| {
        inv.context()
            .trace_header()
            .is_some_and(|h| h.sampled() == Some(false) && h.root() == trace_id)
    })
    .unwrap_or(false)
}

fn epoch_micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a OtelValue> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The subsegment document data of an ended span.
fn subsegment_of(span: SpanData, id: SubsegmentId, parent_id: SubsegmentId) -> Subsegment {
    let attributes = &span.attributes;
    let aws_api = attribute(attributes, "rpc.system").is_some_and(|v| v.as_str() == "aws-api");
    let calls_out = matches!(span.span_kind, SpanKind::Client | SpanKind::Producer);
    let receives = matches!(span.span_kind, SpanKind::Server | SpanKind::Consumer);
    let explicit_namespace = attribute(attributes, NAMESPACE_FIELD).is_some();

    let name = if calls_out || aws_api {
        remote_service_name(attributes, aws_api)
    } else {
        None
    };
    let name = match name {
        Some(n) => Cow::Owned(sanitize(&n).into_owned()),
        None => match span.name {
            Cow::Borrowed(n) => sanitize_static(n),
            Cow::Owned(n) => Cow::Owned(sanitize(&n).into_owned()),
        },
    };
    let mut sub = Subsegment::new(name, parent_id, epoch_micros(span.start_time));
    sub.id = id;
    sub.end_micros = Some(epoch_micros(span.end_time));

    for kv in span.attributes {
        let KeyValue { key, value, .. } = kv;
        let key = String::from(key);
        match (key.as_str(), value) {
            ("rpc.method", v) if aws_api => sub.set_aws("operation", v.as_str().into_owned()),
            ("aws.dynamodb.table_names", OtelValue::Array(Array::String(tables)))
                if tables.len() == 1 =>
            {
                sub.set_aws("table_name", tables[0].as_str().to_owned());
            }
            ("aws.sqs.queue.url", v) => sub.set_aws("queue_url", v.as_str().into_owned()),
            (_, OtelValue::Array(array)) => {
                sub.put_metadata(
                    None,
                    Cow::Owned(key),
                    MetadataValue::Json(array_json(array)),
                );
            }
            (_, v) => apply_field(&mut sub, Cow::Owned(key), field_value(v)),
        }
    }

    if aws_api {
        sub.namespace = Some(Namespace::Aws);
    } else if !explicit_namespace {
        if calls_out && sub.namespace.is_none() {
            sub.namespace = Some(Namespace::Remote);
        } else if receives && sub.namespace == Some(Namespace::Remote) {
            sub.namespace = None;
        }
    }

    if let Status::Error { description } = &span.status {
        if matches!(sub.http.status, Some(400..=499)) {
            sub.error = true;
        } else {
            sub.fault = true;
        }
        let exceptions: Vec<(Option<String>, Option<String>)> = span
            .events
            .iter()
            .filter(|e| e.name == "exception")
            .map(|e| {
                let text = |k| attribute(&e.attributes, k).map(|v| v.as_str().into_owned());
                (text("exception.type"), text("exception.message"))
            })
            .collect();
        if !exceptions.is_empty() {
            sub.cause = Some(Cause::from_recorded(exceptions));
        } else if !description.is_empty() {
            sub.cause = Some(Cause::from_message(description));
        }
    }
    sub
}

/// The name X-Ray shows for a called service: `peer.service`, the AWS service, the server's
/// address, or the host of the URL.
fn remote_service_name(attributes: &[KeyValue], aws_api: bool) -> Option<String> {
    let text = |k| {
        attribute(attributes, k)
            .map(|v| v.as_str().into_owned())
            .filter(|s| !s.is_empty())
    };
    text("peer.service")
        .or_else(|| if aws_api { text("rpc.service") } else { None })
        .or_else(|| text("server.address"))
        .or_else(|| text("net.peer.name"))
        .or_else(|| text("http.host"))
        .or_else(|| {
            text("url.full")
                .or_else(|| text("http.url"))
                .and_then(|u| url_host(&u).map(str::to_owned))
        })
}

/// The host of an absolute URL (`https://user@api.example.com:8443/x` → `api.example.com`).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split_once(':').map_or(host_port, |(h, _)| h)
    };
    (!host.is_empty()).then_some(host)
}

fn field_value(v: OtelValue) -> Value<'static> {
    match v {
        OtelValue::Bool(b) => Value::Bool(b),
        OtelValue::I64(i) => Value::I64(i),
        OtelValue::F64(f) => Value::F64(f),
        OtelValue::String(s) => Value::String(s.into()),
        other => Value::String(other.as_str().into_owned()),
    }
}

fn array_json(array: Array) -> serde_json::Value {
    match array {
        Array::Bool(v) => v.into(),
        Array::I64(v) => v.into(),
        Array::F64(v) => v.into(),
        Array::String(v) => v
            .iter()
            .map(|s| serde_json::Value::from(s.as_str()))
            .collect(),
        other => other.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://api.example.com/orders/7?x=1"),
            Some("api.example.com")
        );
        assert_eq!(
            url_host("http://user:pw@api.example.com:8443"),
            Some("api.example.com")
        );
        assert_eq!(url_host("http://[::1]:8080/x"), Some("::1"));
        assert_eq!(url_host("http://h?q#f"), Some("h"));
        assert_eq!(url_host("/relative/path"), None);
        assert_eq!(url_host("http:///x"), None);
    }

    #[test]
    fn arrays_become_json_arrays() {
        assert_eq!(
            array_json(Array::String(vec!["a".into(), "b".into()])),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            array_json(Array::F64(vec![f64::NAN, 1.5])),
            serde_json::json!([null, 1.5])
        );
    }
}
