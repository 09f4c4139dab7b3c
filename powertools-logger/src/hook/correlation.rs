//! Finding the correlation id in the incoming event.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde_json::Value;

/// A path to the correlation id in the event: dot-separated keys, a key in double quotes when it
/// holds dots or other punctuation, a number indexing an array.
///
/// The built-in paths: [`api_gateway_rest`](Self::api_gateway_rest),
/// [`api_gateway_http`](Self::api_gateway_http) and [`function_url`](Self::function_url)
/// (`requestContext.requestId`), [`alb`](Self::alb) (`headers."x-amzn-trace-id"`) and
/// [`event_bridge`](Self::event_bridge) (`id`).
///
/// # Example
/// ```
/// use powertools_logger::CorrelationIdPath;
/// use serde_json::json;
///
/// let path: CorrelationIdPath = r#"detail."order.id""#.parse().unwrap();
/// let event = json!({"detail": {"order.id": "o-1"}});
/// assert_eq!(path.extract(&event).as_deref(), Some("o-1"));
///
/// let alb = CorrelationIdPath::alb();
/// let event = json!({"headers": {"x-amzn-trace-id": "Root=1-abc"}});
/// assert_eq!(alb.extract(&event).as_deref(), Some("Root=1-abc"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationIdPath {
    text: String,
    segments: Vec<String>,
}

/// A correlation id path that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path:?} is not a correlation id path: {reason}")]
pub struct CorrelationIdPathError {
    /// The path given.
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl CorrelationIdPath {
    /// API Gateway REST APIs: `requestContext.requestId`.
    pub fn api_gateway_rest() -> Self {
        Self::builtin("requestContext.requestId")
    }
    /// API Gateway HTTP APIs: `requestContext.requestId`.
    pub fn api_gateway_http() -> Self {
        Self::builtin("requestContext.requestId")
    }
    /// Lambda function URLs: `requestContext.requestId`.
    pub fn function_url() -> Self {
        Self::builtin("requestContext.requestId")
    }
    /// Application Load Balancer: `headers."x-amzn-trace-id"`.
    pub fn alb() -> Self {
        Self::builtin(r#"headers."x-amzn-trace-id""#)
    }
    /// EventBridge: `id`.
    pub fn event_bridge() -> Self {
        Self::builtin("id")
    }

    fn builtin(text: &str) -> Self {
        text.parse().expect("built-in paths parse")
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The id at this path in `event`: a string as is, a number or boolean as text, an object or
    /// array as compact JSON; `None` when absent or null.
    pub fn extract(&self, event: &Value) -> Option<String> {
        let mut at = event;
        for segment in &self.segments {
            at = match at {
                Value::Object(map) => map.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match at {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

impl FromStr for CorrelationIdPath {
    type Err = CorrelationIdPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason| CorrelationIdPathError {
            path: text.to_owned(),
            reason,
        };
        let mut segments = Vec::new();
        let mut chars = text.trim().chars().peekable();
        loop {
            let mut segment = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => segment.push(c),
                        None => return Err(error("unclosed quote")),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == '.' {
                        break;
                    }
                    if c == '"' {
                        return Err(error("a quote inside an unquoted key"));
                    }
                    segment.push(c);
                    chars.next();
                }
                if segment.is_empty() {
                    return Err(error("an empty key"));
                }
            }
            segments.push(segment);
            match chars.next() {
                None => break,
                Some('.') => {}
                Some(_) => return Err(error("a quoted key must be followed by '.' or the end")),
            }
        }
        Ok(Self {
            text: text.trim().to_owned(),
            segments,
        })
    }
}

impl fmt::Display for CorrelationIdPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A user function finding the correlation id in an event.
pub(crate) type ExtractFn = dyn Fn(&Value) -> Option<String> + Send + Sync;

/// Where the hook takes the correlation id from.
#[derive(Clone)]
pub(crate) enum CorrelationIdSource {
    Path(CorrelationIdPath),
    Function(Arc<ExtractFn>),
}

impl CorrelationIdSource {
    pub(crate) fn extract(&self, event: &Value) -> Option<String> {
        match self {
            Self::Path(path) => path.extract(event),
            Self::Function(f) => f(event),
        }
    }
}

impl fmt::Debug for CorrelationIdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Function(_) => f.write_str("Function"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn built_in_paths_find_their_ids() {
        let rest = json!({"requestContext": {"requestId": "c6af9ac6-7b61"}, "headers": {}});
        assert_eq!(
            CorrelationIdPath::api_gateway_rest()
                .extract(&rest)
                .as_deref(),
            Some("c6af9ac6-7b61")
        );
        assert_eq!(
            CorrelationIdPath::api_gateway_http()
                .extract(&rest)
                .as_deref(),
            Some("c6af9ac6-7b61")
        );
        assert_eq!(
            CorrelationIdPath::function_url().extract(&rest).as_deref(),
            Some("c6af9ac6-7b61")
        );
        let bridge = json!({"id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "x"});
        assert_eq!(
            CorrelationIdPath::event_bridge()
                .extract(&bridge)
                .as_deref(),
            Some("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
        );
        assert_eq!(CorrelationIdPath::alb().extract(&bridge), None);
    }

    #[test]
    fn paths_index_arrays_and_render_non_strings() {
        let p: CorrelationIdPath = "Records.0.messageId".parse().unwrap();
        let e = json!({"Records": [{"messageId": 42}]});
        assert_eq!(p.extract(&e).as_deref(), Some("42"));
        let p: CorrelationIdPath = "a".parse().unwrap();
        assert_eq!(
            p.extract(&json!({"a": {"b": 1}})).as_deref(),
            Some(r#"{"b":1}"#)
        );
        assert_eq!(p.extract(&json!({"a": null})), None);
        assert_eq!(p.extract(&json!("a")), None);
    }

    #[test]
    fn bad_paths_are_errors() {
        for bad in ["", "a..b", "a.\"b", "a\"b\"", "\"a\"b", "a."] {
            assert!(bad.parse::<CorrelationIdPath>().is_err(), "{bad:?}");
        }
    }
}
