//! The custom formatter hook: for organisations with their own logging schema.

use powertools_core::{InvocationContext, Timestamp};
use tracing::Level;

/// One line to be written, as a custom [`LineFormatter`] sees it.
///
/// All the parts of the default line are here, plus the default line itself. When the default
/// line would be longer than a CloudWatch Logs event holds, the parts are those of the shortened
/// line (see the crate documentation: values end with `…[truncated N bytes]`).
#[derive(Debug)]
pub struct LogRecord<'a> {
    pub(crate) level: Level,
    pub(crate) location: &'a str,
    pub(crate) message: &'a str,
    pub(crate) timestamp: Timestamp,
    pub(crate) service: &'a str,
    pub(crate) context: Option<&'a InvocationContext>,
    pub(crate) correlation_id: Option<&'a str>,
    pub(crate) fields: &'a str,
    pub(crate) error: &'a str,
    pub(crate) default_line: &'a str,
}

impl<'a> LogRecord<'a> {
    /// The level.
    pub fn level(&self) -> Level {
        self.level
    }
    /// `file:line` (or the target when the file is unknown).
    pub fn location(&self) -> &'a str {
        self.location
    }
    /// The message as rendered in the default line: a JSON string or, for a message that is a
    /// JSON object, that object.
    pub fn message_json(&self) -> &'a str {
        self.message
    }
    /// When the event happened.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    /// The service name.
    pub fn service(&self) -> &'a str {
        self.service
    }
    /// The invocation's context, inside an invocation.
    pub fn context(&self) -> Option<&'a InvocationContext> {
        self.context
    }
    /// The invocation's correlation id, if any.
    pub fn correlation_id(&self) -> Option<&'a str> {
        self.correlation_id
    }
    /// The appended keys, span fields and event fields as one JSON object (`{}` when none).
    pub fn fields_json(&self) -> &'a str {
        self.fields
    }
    /// The error members (`exception`, `exception_name`, `exception_chain`) as one JSON object,
    /// `{}` when the line carries no error.
    pub fn error_json(&self) -> &'a str {
        self.error
    }
    /// The line the default format would write (compact JSON, without the newline).
    pub fn default_line(&self) -> &'a str {
        self.default_line
    }
}

/// Formats lines in a schema of one's own.
///
/// Write exactly one line into `out` (a trailing newline is added when missing). Implemented for
/// closures. A line longer than
/// [`MAX_LINE_BYTES`](powertools_core::output::MAX_LINE_BYTES) is shortened before it is
/// written: its largest values, when it is a JSON object, as the default line's; else it is cut
/// and ends with `…[truncated N bytes]`.
///
/// # Example
/// ```
/// use powertools_logger::{Logger, LogRecord, MemorySink};
///
/// let sink = MemorySink::new();
/// let (layer, _hook) = Logger::new()
///     .sink(sink.clone())
///     .formatter(|record: &LogRecord<'_>, out: &mut Vec<u8>| {
///         let fields: serde_json::Value = serde_json::from_str(record.fields_json()).unwrap();
///         let doc = serde_json::json!({
///             "severity": record.level().as_str(),
///             "msg": serde_json::from_str::<serde_json::Value>(record.message_json()).unwrap(),
///             "attributes": fields,
///         });
///         serde_json::to_writer(out, &doc).unwrap();
///     })
///     .into_layer_and_hook();
/// let subscriber = tracing_subscriber::layer::SubscriberExt::with(
///     tracing_subscriber::Registry::default(),
///     layer,
/// );
/// tracing::subscriber::with_default(subscriber, || tracing::warn!(tries = 3, "slow"));
/// let line = &sink.json_lines()[0];
/// assert_eq!(line["severity"], "WARN");
/// assert_eq!(line["msg"], "slow");
/// assert_eq!(line["attributes"]["tries"], 3);
/// ```
pub trait LineFormatter: Send + Sync + 'static {
    /// Writes `record` as one line into `out` (which starts empty).
    fn format(&self, record: &LogRecord<'_>, out: &mut Vec<u8>);
}

impl<F> LineFormatter for F
where
    F: Fn(&LogRecord<'_>, &mut Vec<u8>) + Send + Sync + 'static,
{
    fn format(&self, record: &LogRecord<'_>, out: &mut Vec<u8>) {
        self(record, out);
    }
}
