//! Annotation values and key rules.

use std::fmt;

/// The longest annotation key X-Ray indexes.
pub const MAX_ANNOTATION_KEY_CHARS: usize = 500;
/// The longest annotation string value X-Ray indexes.
pub const MAX_ANNOTATION_VALUE_CHARS: usize = 1000;

/// An annotation value: a string, a number or a boolean (what X-Ray indexes for filter
/// expressions).
///
/// Built with `From` from strings, integers, floats and `bool`, or with `TryFrom` from a
/// `serde_json::Value` (arrays, objects and `null` are rejected).
///
/// ```
/// use powertools_tracer::AnnotationValue;
///
/// assert_eq!(AnnotationValue::from(true), AnnotationValue::Bool(true));
/// assert_eq!(AnnotationValue::from("gold"), AnnotationValue::String("gold".into()));
/// assert!(AnnotationValue::try_from(serde_json::json!([1, 2])).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationValue {
    /// A string (at most 1000 characters).
    String(String),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A finite float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Why an annotation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotationError {
    /// The key is empty, too long, or has characters other than ASCII letters, digits and `_`.
    #[error("annotation key {0:?} must be 1 to 500 ASCII letters, digits or underscores")]
    InvalidKey(String),
    /// The value is a JSON array, object or `null`.
    #[error("annotation {key:?} must be a string, number or boolean, not {kind}")]
    InvalidValue {
        /// The key.
        key: String,
        /// What the value was (`array`, `object`, `null`).
        kind: &'static str,
    },
    /// The value is NaN or infinite.
    #[error("annotation {0:?} is not a finite number")]
    NonFiniteNumber(String),
    /// The string value is longer than 1000 characters.
    #[error("annotation {key:?} is {chars} characters long; X-Ray takes at most 1000")]
    ValueTooLong {
        /// The key.
        key: String,
        /// The value's length in characters.
        chars: usize,
    },
}

/// Whether X-Ray accepts `key` as an annotation key.
pub fn is_valid_annotation_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_ANNOTATION_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl AnnotationValue {
    /// Checks `key` and this value against X-Ray's rules.
    pub fn validate(&self, key: &str) -> Result<(), AnnotationError> {
        if !is_valid_annotation_key(key) {
            return Err(AnnotationError::InvalidKey(key.to_owned()));
        }
        match self {
            Self::Float(f) if !f.is_finite() => {
                Err(AnnotationError::NonFiniteNumber(key.to_owned()))
            }
            Self::String(s) => {
                let chars = s.chars().count();
                if chars > MAX_ANNOTATION_VALUE_CHARS {
                    Err(AnnotationError::ValueTooLong {
                        key: key.to_owned(),
                        chars,
                    })
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        use crate::document::json;
        match self {
            Self::String(s) => json::string(out, s),
            Self::Int(i) => json::value(out, i),
            Self::UInt(u) => json::uint(out, *u),
            Self::Float(f) => json::float(out, *f),
            Self::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        }
    }
}

impl fmt::Display for AnnotationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => f.write_str(s),
            Self::Int(i) => write!(f, "{i}"),
            Self::UInt(u) => write!(f, "{u}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl From<&str> for AnnotationValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}
impl From<String> for AnnotationValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}
impl From<bool> for AnnotationValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<f64> for AnnotationValue {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}
impl From<f32> for AnnotationValue {
    fn from(v: f32) -> Self {
        Self::Float(v.into())
    }
}
macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for AnnotationValue {
            fn from(v: $t) -> Self { Self::Int(v.into()) }
        }
    )*};
}
macro_rules! from_unsigned {
    ($($t:ty),*) => {$(
        impl From<$t> for AnnotationValue {
            fn from(v: $t) -> Self { Self::UInt(v.into()) }
        }
    )*};
}
from_signed!(i8, i16, i32, i64);
from_unsigned!(u8, u16, u32, u64);

impl TryFrom<serde_json::Value> for AnnotationValue {
    type Error = AnnotationError;

    /// Converts a JSON scalar; the error's key is empty (the caller knows it).
    fn try_from(v: serde_json::Value) -> Result<Self, Self::Error> {
        use serde_json::Value;
        let invalid = |kind| AnnotationError::InvalidValue {
            key: String::new(),
            kind,
        };
        match v {
            Value::String(s) => Ok(Self::String(s)),
            Value::Bool(b) => Ok(Self::Bool(b)),
            Value::Number(n) => Ok(if let Some(u) = n.as_u64() {
                Self::UInt(u)
            } else if let Some(i) = n.as_i64() {
                Self::Int(i)
            } else {
                Self::Float(n.as_f64().unwrap_or(f64::NAN))
            }),
            Value::Null => Err(invalid("null")),
            Value::Array(_) => Err(invalid("array")),
            Value::Object(_) => Err(invalid("object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["ColdStart", "order_id", "a", "X9_"] {
            assert!(is_valid_annotation_key(ok), "{ok}");
        }
        for bad in ["", "order-id", "order id", "ordér", "a.b", &"k".repeat(501)] {
            assert!(!is_valid_annotation_key(bad), "{bad}");
        }
    }

    #[test]
    fn values() {
        assert!(AnnotationValue::from(1.5).validate("k").is_ok());
        assert_eq!(
            AnnotationValue::from(f64::INFINITY).validate("k"),
            Err(AnnotationError::NonFiniteNumber("k".into()))
        );
        assert_eq!(
            AnnotationValue::from("x".repeat(1001)).validate("k"),
            Err(AnnotationError::ValueTooLong {
                key: "k".into(),
                chars: 1001
            })
        );
        assert!(
            AnnotationValue::from("é".repeat(1000))
                .validate("k")
                .is_ok()
        );
        assert_eq!(
            AnnotationValue::from(true).validate("bad key"),
            Err(AnnotationError::InvalidKey("bad key".into()))
        );
        assert_eq!(
            AnnotationValue::try_from(serde_json::json!(-3)),
            Ok(AnnotationValue::Int(-3))
        );
        assert_eq!(
            AnnotationValue::try_from(serde_json::json!(3)),
            Ok(AnnotationValue::UInt(3))
        );
        assert!(matches!(
            AnnotationValue::try_from(serde_json::json!({"a": 1})),
            Err(AnnotationError::InvalidValue { kind: "object", .. })
        ));
        assert!(AnnotationValue::try_from(serde_json::Value::Null).is_err());
    }
}
