//! Adding to the current subsegment, and calling other services under it.
//!
//! "Current" is the subsegment of the nearest traced span around the caller
//! (`tracing::Span::current()` and its ancestors). Outside a traced invocation these calls do
//! nothing (and [`trace_header`] returns the invocation's own header, so an unsampled decision
//! still travels downstream).

mod annotation;

use std::borrow::Cow;

use powertools_core::Invocation;
use serde::Serialize;

pub use annotation::{
    AnnotationError, AnnotationValue, MAX_ANNOTATION_KEY_CHARS, MAX_ANNOTATION_VALUE_CHARS,
    is_valid_annotation_key,
};

use crate::document::MetadataValue;
use crate::layer::span_state::{current_subsegment_id, with_current_subsegment};

/// The header that carries the trace to other services.
pub const TRACE_HEADER_NAME: &str = "X-Amzn-Trace-Id";

/// Why metadata was refused.
#[derive(Debug, thiserror::Error)]
#[error("metadata {key:?} cannot be serialised as JSON: {source}")]
pub struct MetadataError {
    /// The key.
    pub key: String,
    /// The serialisation error.
    #[source]
    pub source: serde_json::Error,
}

/// Adds an annotation (indexed, searchable: `annotation.<key> = value`) to the current
/// subsegment, replacing one with the same key.
///
/// Keys are ASCII letters, digits and `_` (at most 500); values strings (at most 1000
/// characters), finite numbers or booleans. A refused annotation is an error and is not recorded.
///
/// ```
/// use powertools_tracer::{AnnotationError, put_annotation};
///
/// // Outside a traced invocation: nothing to annotate, not an error.
/// assert!(put_annotation("order_tier", "gold").is_ok());
/// assert!(matches!(put_annotation("order-tier", 1), Err(AnnotationError::InvalidKey(_))));
/// ```
pub fn put_annotation(key: &str, value: impl Into<AnnotationValue>) -> Result<(), AnnotationError> {
    let value = value.into();
    value.validate(key)?;
    with_current_subsegment(|_, sub| sub.annotate(Cow::Owned(key.to_owned()), value));
    Ok(())
}

/// Adds metadata (not indexed, any JSON) to the current subsegment under the service's
/// namespace, replacing an entry with the same key.
///
/// ```
/// use powertools_tracer::put_metadata;
/// put_metadata("basket", &serde_json::json!({"items": 3})).unwrap();
/// ```
pub fn put_metadata<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), MetadataError> {
    put_metadata_in(None, key, value)
}

/// Like [`put_metadata`], under the given namespace (`None`: the service's).
pub fn put_metadata_in<T: Serialize + ?Sized>(
    namespace: Option<&str>,
    key: &str,
    value: &T,
) -> Result<(), MetadataError> {
    let json = serde_json::to_value(value).map_err(|source| MetadataError {
        key: key.to_owned(),
        source,
    })?;
    with_current_subsegment(|_, sub| {
        sub.put_metadata(
            namespace.map(str::to_owned),
            Cow::Owned(key.to_owned()),
            MetadataValue::Json(json),
        );
    });
    Ok(())
}

/// The `X-Amzn-Trace-Id` value to send with an outgoing call so the callee joins the trace
/// under the current subsegment: `Root=…;Parent=<current subsegment>;Sampled=1`.
///
/// Inside an invocation that is not traced, the invocation's own header (so `Sampled=0` is
/// passed on); outside any invocation, `None`.
///
/// For the call to show as a remote node, run it in a span marked as one, e.g.
/// `info_span!("GET orders", http.method = "GET", http.url = %url, http.status_code = Empty)`,
/// and record the status when it is known.
///
/// ```
/// use powertools_tracer::{TRACE_HEADER_NAME, trace_header};
///
/// let mut request = String::from("GET /orders HTTP/1.1\r\nHost: orders.internal\r\n");
/// if let Some(value) = trace_header() {
///     request.push_str(&format!("{TRACE_HEADER_NAME}: {value}\r\n"));
/// }
/// ```
pub fn trace_header() -> Option<String> {
    if let Some((trace, id)) = current_subsegment_id() {
        return Some(trace.header_for(id));
    }
    Invocation::with_current(|inv| inv.context().trace_header().map(ToString::to_string)).flatten()
}
