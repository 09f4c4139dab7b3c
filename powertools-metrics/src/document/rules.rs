//! The limits and naming rules of the Embedded Metric Format and CloudWatch, checked before
//! anything is recorded.

use crate::error::{KeyKind, MetricsError};

/// At most this many metrics in one document; the document is flushed when it reaches it.
pub const MAX_METRICS_PER_DOCUMENT: usize = 100;
/// At most this many values of one metric in one document; the document is flushed when a
/// metric reaches it.
pub const MAX_VALUES_PER_METRIC: usize = 100;
/// At most this many dimensions in one dimension set (default dimensions and `service`
/// included).
pub const MAX_DIMENSIONS_PER_SET: usize = 30;
/// The longest metric name, dimension name or namespace, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// The longest dimension value, in characters.
pub const MAX_DIMENSION_VALUE_CHARS: usize = 1024;

/// The document's own top-level members, never user keys: `_aws`, and `level`, which carries
/// the level Lambda's application log-level filter reads (see [`super::Base`]).
fn check_reserved(kind: KeyKind, key: &str) -> Result<(), MetricsError> {
    match key {
        "_aws" => Err(MetricsError::invalid(kind, key, "`_aws` is reserved")),
        "level" => Err(MetricsError::invalid(
            kind,
            key,
            "`level` is reserved: it carries the level Lambda's log-level filter reads",
        )),
        _ => Ok(()),
    }
}

fn at_most_chars(s: &str, max: usize) -> bool {
    s.len() <= max || s.chars().count() <= max
}

/// A metric name: 1–255 characters, not `_aws` or `level`.
pub(crate) fn check_metric_name(name: &str) -> Result<(), MetricsError> {
    let kind = KeyKind::Metric;
    if name.is_empty() {
        return Err(MetricsError::invalid(kind, name, "it is empty"));
    }
    if !at_most_chars(name, MAX_NAME_CHARS) {
        return Err(MetricsError::invalid(
            kind,
            name,
            "it is longer than 255 characters",
        ));
    }
    check_reserved(kind, name)
}

/// What CloudWatch asks of dimension names and values: ASCII, at least one character that is not
/// whitespace (CloudWatch drops metrics whose dimensions break these rules without telling).
fn check_ascii_text(kind: KeyKind, s: &str, max: usize) -> Result<(), MetricsError> {
    if s.is_empty() {
        return Err(MetricsError::invalid(kind, s, "it is empty"));
    }
    if s.len() > max {
        return Err(MetricsError::invalid(
            kind,
            s,
            if max == MAX_NAME_CHARS {
                "it is longer than 255 characters"
            } else {
                "it is longer than 1024 characters"
            },
        ));
    }
    if !s.is_ascii() {
        return Err(MetricsError::invalid(
            kind,
            s,
            "CloudWatch accepts only ASCII here",
        ));
    }
    if s.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err(MetricsError::invalid(kind, s, "it is only whitespace"));
    }
    Ok(())
}

/// A dimension name: 1–255 ASCII characters, not only whitespace, not starting with `:`, not
/// `_aws`.
pub(crate) fn check_dimension_name(name: &str) -> Result<(), MetricsError> {
    let kind = KeyKind::Dimension;
    check_ascii_text(kind, name, MAX_NAME_CHARS)?;
    if name.starts_with(':') {
        return Err(MetricsError::invalid(kind, name, "it starts with `:`"));
    }
    check_reserved(kind, name)
}

/// A dimension value: 1–1024 ASCII characters, not only whitespace.
pub(crate) fn check_dimension_value(value: &str) -> Result<(), MetricsError> {
    check_ascii_text(KeyKind::DimensionValue, value, MAX_DIMENSION_VALUE_CHARS)
}

/// A metadata key: not empty, not `_aws`.
pub(crate) fn check_metadata_key(key: &str) -> Result<(), MetricsError> {
    let kind = KeyKind::Metadata;
    if key.is_empty() {
        return Err(MetricsError::invalid(kind, key, "it is empty"));
    }
    check_reserved(kind, key)
}

/// A namespace: 1–255 characters among ASCII letters, digits and `. - _ / # :` and space, not
/// only spaces.
pub(crate) fn check_namespace(namespace: &str) -> Result<(), MetricsError> {
    let kind = KeyKind::Namespace;
    check_ascii_text(kind, namespace, MAX_NAME_CHARS)?;
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b".-_/#: ".contains(&b);
    if !namespace.bytes().all(allowed) {
        return Err(MetricsError::invalid(
            kind,
            namespace,
            "CloudWatch allows only letters, digits, space and . - _ / # :",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<(), MetricsError>) -> &'static str {
        match r {
            Err(MetricsError::InvalidName { reason, .. }) => reason,
            other => panic!("expected InvalidName, got {other:?}"),
        }
    }

    #[test]
    fn metric_names() {
        assert!(check_metric_name("SuccessfulBooking").is_ok());
        assert!(check_metric_name("日本語 metric").is_ok(), "any UTF-8");
        assert!(
            check_metric_name(&"é".repeat(255)).is_ok(),
            "255 characters, 510 bytes"
        );
        assert_eq!(reason(check_metric_name("")), "it is empty");
        assert_eq!(
            reason(check_metric_name(&"a".repeat(256))),
            "it is longer than 255 characters"
        );
        assert_eq!(reason(check_metric_name("_aws")), "`_aws` is reserved");
    }

    #[test]
    fn dimension_names_and_values() {
        assert!(check_dimension_name("environment").is_ok());
        assert!(check_dimension_value(&"v".repeat(1024)).is_ok());
        assert!(check_dimension_value(&"v".repeat(1025)).is_err());
        assert!(check_dimension_name(&"k".repeat(256)).is_err());
        assert!(check_dimension_name("").is_err());
        assert!(check_dimension_name("   ").is_err());
        assert!(check_dimension_name(":colon").is_err());
        assert!(check_dimension_name("_aws").is_err());
        assert!(check_dimension_value("prod é").is_err());
        assert!(check_dimension_value("").is_err());
    }

    #[test]
    fn namespaces() {
        assert!(check_namespace("ServerlessAirline/Booking-1.0#a:b c_d").is_ok());
        assert!(check_namespace("").is_err());
        assert!(check_namespace("bad*char").is_err());
        assert!(check_namespace(&"n".repeat(256)).is_err());
    }

    #[test]
    fn metadata_keys() {
        assert!(check_metadata_key("booking_id").is_ok());
        assert!(check_metadata_key("").is_err());
        assert!(check_metadata_key("_aws").is_err());
    }
}
