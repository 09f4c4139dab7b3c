//! What the hooks see of an invocation: its event on the way in, its outcome on the way out.

use std::cell::OnceCell;
use std::fmt;

use serde_json::Value;

/// The incoming event, rendered as JSON only if a hook asks for it.
pub struct EventView<'a> {
    render: &'a dyn Fn() -> Option<Value>,
    cache: OnceCell<Option<Value>>,
}

impl<'a> EventView<'a> {
    /// A view rendering the event with `render` on first use.
    ///
    /// ```
    /// use powertools_core::layer::EventView;
    /// let render = || Some(serde_json::json!({"id": 1}));
    /// let view = EventView::new(&render);
    /// assert_eq!(view.json().unwrap()["id"], 1);
    /// ```
    pub fn new(render: &'a dyn Fn() -> Option<Value>) -> Self {
        Self {
            render,
            cache: OnceCell::new(),
        }
    }

    /// The event as JSON (`None` if it could not be rendered).
    pub fn json(&self) -> Option<&Value> {
        self.cache.get_or_init(|| (self.render)()).as_ref()
    }
}

impl fmt::Debug for EventView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventView")
            .field("rendered", &self.cache.get())
            .finish()
    }
}

/// A handler error, described for logs, metadata and X-Ray causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// The error's message (`Display`, or `Debug` when the type has no `Display` we can reach).
    pub message: String,
    /// The error's type name (best effort for boxed errors; see [`ErrorReport::from_handler_error`]).
    pub type_name: String,
    /// The messages of the `source()` chain, outermost first, not including `message`.
    pub sources: Vec<String>,
    /// The handler's own source location (`src/main.rs:26`), when the layer knows it (the
    /// `#[powertools::handler]` attribute tells it; see `InvocationLayer::handler_location`).
    /// An error value carries no location of its own.
    pub location: Option<String>,
}

impl ErrorReport {
    /// Describes a `std::error::Error` and its `source()` chain.
    ///
    /// ```
    /// use powertools_core::layer::ErrorReport;
    /// let err = "x".parse::<u32>().unwrap_err();
    /// let report = ErrorReport::from_error(&err);
    /// assert_eq!(report.message, "invalid digit found in string");
    /// assert_eq!(report.type_name, "ParseIntError");
    /// ```
    pub fn from_error(err: &(dyn std::error::Error + 'static)) -> Self {
        let mut sources = Vec::new();
        let mut next = err.source();
        while let Some(source) = next {
            sources.push(source.to_string());
            next = source.source();
        }
        Self {
            message: err.to_string(),
            type_name: debug_type_name(err),
            sources,
            location: None,
        }
    }

    /// Describes whatever error type a handler returned.
    ///
    /// `lambda_runtime::Error` (a boxed `std::error::Error`) gets its message, `source()` chain and
    /// the concrete type's name as its `Debug` output begins; `String`, `&str` and
    /// `lambda_runtime::Diagnostic` their text; any other type its `Debug` output and its Rust type
    /// name.
    pub fn from_handler_error<E: fmt::Debug + 'static>(err: &E) -> Self {
        let any: &dyn std::any::Any = err;
        if let Some(boxed) = any.downcast_ref::<lambda_runtime::Error>() {
            return Self::from_error(boxed.as_ref());
        }
        if let Some(boxed) = any.downcast_ref::<Box<dyn std::error::Error>>() {
            return Self::from_error(boxed.as_ref());
        }
        if let Some(d) = any.downcast_ref::<lambda_runtime::Diagnostic>() {
            return Self {
                message: d.error_message.clone(),
                type_name: d.error_type.clone(),
                sources: Vec::new(),
                location: None,
            };
        }
        let message = if let Some(s) = any.downcast_ref::<String>() {
            s.clone()
        } else if let Some(s) = any.downcast_ref::<&str>() {
            (*s).to_owned()
        } else {
            format!("{err:?}")
        };
        let type_name = std::any::type_name::<E>();
        Self {
            message,
            type_name: short_type_name(type_name).to_owned(),
            sources: Vec::new(),
            location: None,
        }
    }
}

/// The leading identifier of a value's `Debug` output: `ParseIntError { kind: .. }` gives
/// `ParseIntError`. A boxed error has no other way to name its concrete type.
fn debug_type_name(err: &dyn std::error::Error) -> String {
    let debug = format!("{err:?}");
    let name: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if name.is_empty() {
        "Error".to_owned()
    } else {
        name
    }
}

fn short_type_name(full: &str) -> &str {
    let head = full.split('<').next().unwrap_or(full);
    head.rsplit("::").next().unwrap_or(head)
}

/// A panic caught in the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicReport {
    /// The panic message (`"Box<dyn Any>"` if the payload was not a string).
    pub message: String,
    /// Where it panicked, `file:line:column`, when the panic hook saw it.
    pub location: Option<String>,
}

/// An invocation about to pass its deadline: Lambda stops the process at the deadline, so the
/// hooks write what the invocation recorded so far, before it is too late.
///
/// The tracer's hook adds the names of the spans still open ([`TimeoutReport::add_open_span`])
/// before the logger's hook writes its line (hooks end in reverse order: tracer, metrics,
/// logger).
#[derive(Debug)]
pub struct TimeoutReport {
    /// How long the invocation has run.
    pub elapsed: std::time::Duration,
    /// How long was left before the deadline when the hooks were called.
    pub remaining: std::time::Duration,
    open_spans: std::sync::Mutex<Vec<String>>,
}

impl TimeoutReport {
    /// The type name a timeout is reported under (X-Ray cause, log line).
    pub const TYPE_NAME: &'static str = "Timeout";

    /// A report for an invocation that has run `elapsed`, with `remaining` left.
    pub fn new(elapsed: std::time::Duration, remaining: std::time::Duration) -> Self {
        Self {
            elapsed,
            remaining,
            open_spans: std::sync::Mutex::default(),
        }
    }

    /// Records the name of a span still open at the cut-off.
    pub fn add_open_span(&self, name: &str) {
        if let Ok(mut spans) = self.open_spans.lock() {
            spans.push(name.to_owned());
        }
    }

    /// The names of the spans still open at the cut-off, outermost first.
    pub fn open_spans(&self) -> Vec<String> {
        self.open_spans
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The message a timeout is reported with.
    ///
    /// ```
    /// use std::time::Duration;
    /// let report = powertools_core::layer::TimeoutReport::new(Duration::from_millis(2900), Duration::from_millis(100));
    /// report.add_open_span("charge_card");
    /// assert_eq!(report.message(), "the invocation is about to time out after 2900 ms (100 ms left); spans still open: charge_card");
    /// ```
    pub fn message(&self) -> String {
        let spans = self.open_spans();
        let mut message = format!(
            "the invocation is about to time out after {} ms ({} ms left)",
            self.elapsed.as_millis(),
            self.remaining.as_millis()
        );
        if !spans.is_empty() {
            message.push_str("; spans still open: ");
            message.push_str(&spans.join(", "));
        }
        message
    }
}

/// The result of a handler, as the hooks see it.
pub enum InvocationOutcome<'a> {
    /// The handler returned `Ok`.
    Success(&'a ResponseView<'a>),
    /// The handler returned `Err`.
    Error(&'a ErrorReport),
    /// The handler panicked (the panic resumes once the hooks ran).
    Panic(&'a PanicReport),
    /// The handler had not finished shortly before the deadline (or the process was told to
    /// stop): what was recorded so far is written now, since Lambda keeps nothing of a process it
    /// stops. The handler goes on running; if it finishes in time the hooks are called again
    /// with its real outcome and write only what came after the cut.
    Timeout(&'a TimeoutReport),
}

impl InvocationOutcome<'_> {
    /// Whether the invocation failed (`Err` or panic).
    pub fn is_failure(&self) -> bool {
        !matches!(self, Self::Success(_))
    }
}

impl fmt::Debug for InvocationOutcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success(_) => f.write_str("Success"),
            Self::Error(e) => f.debug_tuple("Error").field(e).finish(),
            Self::Panic(p) => f.debug_tuple("Panic").field(p).finish(),
            Self::Timeout(t) => f.debug_tuple("Timeout").field(t).finish(),
        }
    }
}

/// The handler's response, rendered as JSON only if a hook asks for it.
pub struct ResponseView<'a> {
    render: &'a dyn Fn() -> Option<Value>,
    cache: OnceCell<Option<Value>>,
}

impl<'a> ResponseView<'a> {
    /// A view rendering the response with `render` on first use.
    pub fn new(render: &'a dyn Fn() -> Option<Value>) -> Self {
        Self {
            render,
            cache: OnceCell::new(),
        }
    }

    /// The response as JSON (`None` if it cannot be rendered, e.g. an HTTP response body).
    pub fn json(&self) -> Option<&Value> {
        self.cache.get_or_init(|| (self.render)()).as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("payment failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn boxed_errors_keep_their_chain() {
        let err: lambda_runtime::Error = Box::new(Outer(std::io::Error::other("connection reset")));
        let r = ErrorReport::from_handler_error(&err);
        assert_eq!(r.message, "payment failed");
        assert_eq!(r.type_name, "Outer");
        assert_eq!(r.sources, ["connection reset"]);
    }

    #[test]
    fn strings_and_other_types() {
        #[derive(Debug)]
        #[allow(dead_code)]
        enum MyError {
            Declined { code: u32 },
        }
        let r = ErrorReport::from_handler_error(&String::from("nope"));
        assert_eq!(
            (r.message.as_str(), r.type_name.as_str()),
            ("nope", "String")
        );
        let r = ErrorReport::from_handler_error(&MyError::Declined { code: 7 });
        assert_eq!(r.message, "Declined { code: 7 }");
        assert_eq!(r.type_name, "MyError");
    }
}
