//! Span fields → subsegment data.
//!
//! | field | effect |
//! |---|---|
//! | `xray.skip = true` | the span is not traced (its children attach to the nearest traced ancestor) |
//! | `xray.name`, `otel.name` | the subsegment's name (sanitised, ≤ 200 characters) |
//! | `xray.namespace = "remote"` / `"aws"` | marks a call to another service |
//! | `xray.annotation.<Key>` | an annotation (string, number or bool) |
//! | `http.method` / `http.request.method` | `http.request.method`, namespace `remote` |
//! | `http.url` / `url.full` | `http.request.url`, namespace `remote` |
//! | `http.user_agent` / `user_agent.original` | `http.request.user_agent` |
//! | `http.client_ip` / `client.address` | `http.request.client_ip` |
//! | `http.status_code` / `http.response.status_code` | `http.response.status`; 4xx error, 429 throttle, 5xx fault |
//! | `http.response.content_length` | `http.response.content_length` |
//! | `aws.operation`, `aws.region`, `aws.request_id`, `aws.retries`, `aws.table_name`, `aws.queue_url`, `aws.account_id` | the `aws` object, namespace `aws` |
//! | `exception.type`, `exception.message` | the `cause`: one exception (flags come from the status or `xray.fault`) |
//! | `xray.fault = true` | flags the subsegment `fault` (a call that got no response) |
//! | any other field | metadata under the service's namespace |

use std::borrow::Cow;
use std::fmt;

use powertools_core::warning::warn_once;
use tracing::field::{Field, Visit};

use crate::current::AnnotationValue;
use crate::document::{HttpField, MetadataValue, Namespace, Subsegment, sanitize};

/// The field that opts a span out of tracing.
pub const SKIP_FIELD: &str = "xray.skip";
/// The field that names a span's subsegment.
pub const NAME_FIELD: &str = "xray.name";
/// The field that sets a span's subsegment namespace (`remote` or `aws`).
pub const NAMESPACE_FIELD: &str = "xray.namespace";
/// The prefix of fields that become annotations.
pub const ANNOTATION_PREFIX: &str = "xray.annotation.";

/// A field or attribute value.
pub(crate) enum Value<'v> {
    Str(&'v str),
    String(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl Value<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Self::U64(u) => Some(*u),
            Self::I64(i) => u64::try_from(*i).ok(),
            Self::Str(s) => s.trim().parse().ok(),
            Self::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn into_metadata(self) -> MetadataValue {
        match self {
            Self::Str(s) => MetadataValue::Str(s.to_owned()),
            Self::String(s) => MetadataValue::Str(s),
            Self::I64(i) => MetadataValue::I64(i),
            Self::U64(u) => MetadataValue::U64(u),
            Self::F64(f) => MetadataValue::F64(f),
            Self::Bool(b) => MetadataValue::Bool(b),
        }
    }

    fn into_annotation(self) -> AnnotationValue {
        match self {
            Self::Str(s) => AnnotationValue::String(s.to_owned()),
            Self::String(s) => AnnotationValue::String(s),
            Self::I64(i) => AnnotationValue::Int(i),
            Self::U64(u) => AnnotationValue::UInt(u),
            Self::F64(f) => AnnotationValue::Float(f),
            Self::Bool(b) => AnnotationValue::Bool(b),
        }
    }
}

/// Whether a span's fields opt it out (`xray.skip = true`).
pub(crate) struct SkipVisitor(pub(crate) bool);

impl Visit for SkipVisitor {
    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == SKIP_FIELD {
            self.0 = value;
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == SKIP_FIELD {
            self.0 = value == "true";
        }
    }
    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

/// Applies span fields to a subsegment.
pub(crate) struct FieldVisitor<'a> {
    pub(crate) sub: &'a mut Subsegment,
}

impl FieldVisitor<'_> {
    fn apply(&mut self, name: &'static str, value: Value<'_>) {
        apply_field(self.sub, Cow::Borrowed(name), value);
    }
}

/// The `aws.*` fields and the key each sets in the `aws` object.
const AWS_FIELDS: [(&str, &str); 7] = [
    ("aws.operation", "operation"),
    ("aws.region", "region"),
    ("aws.request_id", "request_id"),
    ("aws.retries", "retries"),
    ("aws.table_name", "table_name"),
    ("aws.queue_url", "queue_url"),
    ("aws.account_id", "account_id"),
];

/// Applies one named value to a subsegment, as the table in this module's documentation says.
/// Shared by span fields and OpenTelemetry span attributes.
pub(crate) fn apply_field(sub: &mut Subsegment, name: Cow<'static, str>, value: Value<'_>) {
    match name.as_ref() {
        SKIP_FIELD => {}
        NAME_FIELD | "otel.name" => {
            if let Some(s) = value.as_str() {
                sub.name = Cow::Owned(sanitize(s).into_owned());
            }
        }
        NAMESPACE_FIELD => {
            if let Some(ns) = value.as_str().and_then(Namespace::parse) {
                sub.namespace = Some(ns);
            }
        }
        "http.method" | "http.request.method" => http(sub, HttpField::Method, &value),
        "http.url" | "url.full" => http(sub, HttpField::Url, &value),
        "http.user_agent" | "user_agent.original" => http(sub, HttpField::UserAgent, &value),
        "http.client_ip" | "client.address" => http(sub, HttpField::ClientIp, &value),
        "http.status_code" | "http.response.status_code" => {
            if let Some(status) = value.as_u64() {
                sub.set_http_status(status);
            }
        }
        "exception.type" | "exception.message" => {
            if let Some(s) = value.as_str() {
                sub.set_cause_part(name.as_ref() == "exception.type", s);
            }
        }
        "xray.fault" => {
            if matches!(value, Value::Bool(true)) {
                sub.fault = true;
            }
        }
        "http.response.content_length" | "http.content_length" => {
            if let Some(len) = value.as_u64() {
                sub.http.content_length = Some(len);
            }
        }
        field => {
            if let Some((_, key)) = AWS_FIELDS.iter().find(|(f, _)| *f == field) {
                let text = match &value {
                    Value::Str(s) => (*s).to_owned(),
                    Value::String(s) => s.clone(),
                    Value::I64(i) => i.to_string(),
                    Value::U64(u) => u.to_string(),
                    Value::F64(f) => f.to_string(),
                    Value::Bool(b) => b.to_string(),
                };
                sub.set_aws(key, text);
            } else if field.starts_with(ANNOTATION_PREFIX) {
                let key = match &name {
                    Cow::Borrowed(n) => Cow::Borrowed(&n[ANNOTATION_PREFIX.len()..]),
                    Cow::Owned(n) => Cow::Owned(n[ANNOTATION_PREFIX.len()..].to_owned()),
                };
                let annotation = value.into_annotation();
                match annotation.validate(&key) {
                    Ok(()) => sub.annotate(key, annotation),
                    Err(e) => {
                        warn_once(
                            &format!("powertools_tracer.field_annotation.{key}"),
                            "powertools_tracer",
                            &format!("span field {name}: {e}; recorded as metadata instead"),
                        );
                        sub.put_metadata(None, name, annotation_as_metadata(annotation));
                    }
                }
            } else {
                sub.put_metadata(None, name, value.into_metadata());
            }
        }
    }
}

fn annotation_as_metadata(v: AnnotationValue) -> MetadataValue {
    match v {
        AnnotationValue::String(s) => MetadataValue::Str(s),
        AnnotationValue::Int(i) => MetadataValue::I64(i),
        AnnotationValue::UInt(u) => MetadataValue::U64(u),
        AnnotationValue::Float(f) => MetadataValue::F64(f),
        AnnotationValue::Bool(b) => MetadataValue::Bool(b),
    }
}

fn http(sub: &mut Subsegment, which: HttpField, value: &Value<'_>) {
    match value.as_str() {
        Some(s) => sub.set_http_string(which, s),
        None => {
            if let Some(u) = value.as_u64() {
                sub.set_http_string(which, &u.to_string());
            }
        }
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.apply(field.name(), Value::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.apply(field.name(), Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.apply(field.name(), Value::U64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.apply(field.name(), Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.apply(field.name(), Value::Str(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.apply(field.name(), Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.apply(field.name(), Value::String(format!("{value:?}")));
    }
}

/// The text of an ERROR event: its `message`, or its `error` field.
#[derive(Default)]
pub(crate) struct MessageVisitor {
    pub(crate) message: Option<String>,
    pub(crate) error: Option<String>,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_owned()),
            "error" => self.error = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if matches!(field.name(), "error" | "message") {
            self.error = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = Some(format!("{value:?}")),
            "error" => self.error = Some(format!("{value:?}")),
            _ => {}
        }
    }
}
