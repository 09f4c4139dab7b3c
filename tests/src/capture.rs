//! What a function wrote (stdout, stderr) and sent (UDP datagrams), sorted into log lines, EMF
//! documents and X-Ray documents; and what CloudWatch Logs keeps of it ([`Captured::cloudwatch`]).

use serde_json::Value;

pub use powertools_core::output::MAX_LINE_BYTES;

/// The X-Ray daemon header line every datagram must start with, newline included.
pub const XRAY_HEADER: &[u8] = b"{\"format\": \"json\", \"version\": 1}\n";

/// One datagram received by the X-Ray daemon socket.
#[derive(Debug, Clone, PartialEq)]
pub struct XrayDatagram {
    /// The raw bytes.
    pub raw: Vec<u8>,
    /// The document after the header line, if the datagram was well formed.
    pub document: Option<Value>,
}

/// Everything captured from one function process.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Every stdout line, in order.
    pub stdout: Vec<String>,
    /// Every stderr line, in order.
    pub stderr: Vec<String>,
    /// Stdout lines that are JSON objects without `_aws`: log lines.
    pub logs: Vec<Value>,
    /// Stdout lines that are JSON objects with `_aws`: EMF documents.
    pub emf: Vec<Value>,
    /// Stdout lines that are not JSON objects.
    pub non_json: Vec<String>,
    /// Every datagram, in order of arrival.
    pub datagrams: Vec<XrayDatagram>,
    /// Lambda's application log-level filter for this function (`AWS_LAMBDA_LOG_FORMAT=JSON` with
    /// `AWS_LAMBDA_LOG_LEVEL`), as the harness started it: what [`Captured::cloudwatch`] applies.
    pub log_filter: Option<LambdaLogLevel>,
    /// Each function process the harness stopped and replaced with a new one, in order
    /// ([`crate::function::FunctionHarness::enforce_deadlines`]).
    pub restarts: Vec<Restart>,
}

/// A function process the harness stopped (an invocation passed its deadline, or the process
/// exited with invocations in flight) and replaced with a new one, as Lambda does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restart {
    /// The stopped process's id.
    pub pid: u32,
    /// The invocations that passed their deadline in it ([`crate::runtime_api::Outcome::TimedOut`]).
    pub timed_out: Vec<String>,
    /// The other invocations in flight in it, lost with it
    /// ([`crate::runtime_api::Outcome::Stopped`]).
    pub stopped: Vec<String>,
    /// How it ended: `signal: 9 (SIGKILL)` when the harness stopped it, `exit status 101`, …
    pub exit: String,
    /// How many stdout lines were captured when its stdout reached its end: lines before this
    /// index were written by it (or by earlier processes), later ones by its successors. Counts
    /// the lines as written ([`Captured::stdout`]), not as CloudWatch cuts them; 0 with an
    /// observer.
    pub stdout_lines: usize,
    /// Likewise for [`Captured::stderr`].
    pub stderr_lines: usize,
}

impl Captured {
    pub(crate) fn push_stdout(&mut self, line: String) {
        match serde_json::from_str::<Value>(&line) {
            Ok(v @ Value::Object(_)) if v.get("_aws").is_some() => self.emf.push(v),
            Ok(v @ Value::Object(_)) => self.logs.push(v),
            _ => self.non_json.push(line.clone()),
        }
        self.stdout.push(line);
    }

    pub(crate) fn push_datagram(&mut self, raw: &[u8]) {
        let document = raw
            .strip_prefix(XRAY_HEADER)
            .and_then(|doc| serde_json::from_slice(doc).ok());
        self.datagrams.push(XrayDatagram {
            raw: raw.to_vec(),
            document,
        });
    }

    /// The X-Ray documents (well-formed datagrams only).
    pub fn xray(&self) -> Vec<&Value> {
        self.datagrams
            .iter()
            .filter_map(|d| d.document.as_ref())
            .collect()
    }

    /// The X-Ray documents of one trace.
    pub fn xray_for_trace(&self, trace_id: &str) -> Vec<&Value> {
        self.xray()
            .into_iter()
            .filter(|d| d["trace_id"] == trace_id)
            .collect()
    }

    /// The log lines of one request.
    pub fn logs_for(&self, request_id: &str) -> Vec<&Value> {
        self.logs
            .iter()
            .filter(|l| l["function_request_id"] == request_id)
            .collect()
    }

    /// The log lines whose `message` equals `message`.
    pub fn logs_with_message(&self, message: &str) -> Vec<&Value> {
        self.logs
            .iter()
            .filter(|l| l["message"] == message)
            .collect()
    }

    /// The EMF documents that define metric `name`.
    pub fn emf_with_metric(&self, name: &str) -> Vec<&Value> {
        self.emf
            .iter()
            .filter(|d| {
                d["_aws"]["CloudWatchMetrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|m| m["Metrics"].as_array().into_iter().flatten())
                    .any(|m| m["Name"] == name)
            })
            .collect()
    }
}

impl Captured {
    /// What CloudWatch Logs keeps of this function's stdout, sorted the same way: every line cut
    /// into events as Lambda cuts it ([`cloudwatch_events`]), then the events below
    /// [`Captured::log_filter`] dropped ([`LambdaLogLevel::of_event`]). Stderr and datagrams are
    /// kept as they are.
    ///
    /// Apply the usual helpers to the result (`logs_for`, `emf_with_metric`, …) to assert on what
    /// a user would find in CloudWatch rather than on what the function wrote.
    ///
    /// ```
    /// use powertools_e2e::capture::{Captured, LambdaLogLevel};
    ///
    /// let mut written = Captured::default();
    /// written.stdout = vec![
    ///     r#"{"level":"INFO","message":"hi"}"#.to_owned(),
    ///     r#"{"level":"ERROR","message":"oops"}"#.to_owned(),
    ///     r#"{"_aws":{"CloudWatchMetrics":[]},"Orders":1}"#.to_owned(),
    /// ];
    /// written.log_filter = Some(LambdaLogLevel::Warn);
    /// let kept = written.cloudwatch();
    /// assert_eq!(kept.logs.len(), 1, "the INFO line is dropped");
    /// assert!(kept.emf.is_empty(), "a document without a level counts as INFO");
    /// ```
    pub fn cloudwatch(&self) -> Captured {
        self.cloudwatch_with(self.log_filter)
    }

    /// Like [`Captured::cloudwatch`], with the filter `filter` instead of the function's own.
    pub fn cloudwatch_with(&self, filter: Option<LambdaLogLevel>) -> Captured {
        let mut kept = Captured {
            stderr: self.stderr.clone(),
            datagrams: self.datagrams.clone(),
            log_filter: filter,
            restarts: self.restarts.clone(),
            ..Captured::default()
        };
        for event in self.stdout.iter().flat_map(|l| cloudwatch_events(l)) {
            if filter.is_none_or(|min| LambdaLogLevel::of_event(event) >= min) {
                kept.push_stdout(event.to_owned());
            }
        }
        kept
    }

    /// Every way a stdout line breaks the rule "one line is one JSON object that CloudWatch keeps
    /// as one event": longer than [`MAX_LINE_BYTES`], not a JSON object, a key written twice.
    /// Empty when every line keeps it.
    pub fn line_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (n, line) in self.stdout.iter().enumerate() {
            if line.len() > MAX_LINE_BYTES {
                problems.push(format!(
                    "stdout line {n} is {} bytes, over {MAX_LINE_BYTES}: Lambda cuts it into {} \
                     events: {}",
                    line.len(),
                    cloudwatch_events(line).len(),
                    preview(line)
                ));
            }
            match top_level_keys(line) {
                Ok(mut keys) => {
                    keys.sort_unstable();
                    if let Some([key, ..]) = keys.windows(2).find(|w| w[0] == w[1]) {
                        problems.push(format!(
                            "stdout line {n} has the key {key:?} twice: {}",
                            preview(line)
                        ));
                    }
                }
                Err(e) => problems.push(format!(
                    "stdout line {n} is not a JSON object ({e}): {}",
                    preview(line)
                )),
            }
        }
        problems
    }

    /// Panics with every [`Captured::line_problems`]: every stdout line the function wrote must
    /// be one valid JSON object of at most [`MAX_LINE_BYTES`].
    pub fn assert_every_line_is_one_json_event(&self) {
        let problems = self.line_problems();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

/// The start and end of a long line, for messages.
fn preview(line: &str) -> String {
    const EDGE: usize = 120;
    if line.len() <= 2 * EDGE + 10 {
        return line.to_owned();
    }
    let head = floor_char_boundary(line, EDGE);
    let tail = floor_char_boundary(line, line.len() - EDGE);
    format!(
        "{} […{} bytes…] {}",
        &line[..head],
        tail - head,
        &line[tail..]
    )
}

/// The largest char boundary of `s` at or before byte `index` (`str::floor_char_boundary` is newer
/// than the workspace's minimum Rust version).
fn floor_char_boundary(s: &str, index: usize) -> usize {
    (0..=index.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// The CloudWatch Logs events Lambda makes of one stdout line (without its newline): the line
/// itself when it holds at most [`MAX_LINE_BYTES`] bytes, else consecutive pieces of at most that
/// many bytes. A piece of a JSON line is not JSON.
///
/// Lambda cuts at a byte count; here a cut that would fall inside a UTF-8 character moves back
/// to the character's start, so every piece stays a `&str`.
///
/// ```
/// use powertools_e2e::capture::{MAX_LINE_BYTES, cloudwatch_events};
///
/// assert_eq!(cloudwatch_events(r#"{"a":1}"#), [r#"{"a":1}"#]);
/// let long = "x".repeat(MAX_LINE_BYTES + 1);
/// assert_eq!(cloudwatch_events(&long).iter().map(|e| e.len()).collect::<Vec<_>>(), [MAX_LINE_BYTES, 1]);
/// ```
pub fn cloudwatch_events(line: &str) -> Vec<&str> {
    let mut events = Vec::with_capacity(1);
    let mut rest = line;
    while rest.len() > MAX_LINE_BYTES {
        let cut = floor_char_boundary(rest, MAX_LINE_BYTES);
        let (event, tail) = rest.split_at(cut);
        events.push(event);
        rest = tail;
    }
    events.push(rest);
    events
}

/// The levels of Lambda's application log-level filter, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LambdaLogLevel {
    /// `TRACE`
    Trace,
    /// `DEBUG`
    Debug,
    /// `INFO`: also the level of an event without a valid `level`.
    Info,
    /// `WARN`
    Warn,
    /// `ERROR`
    Error,
    /// `FATAL`
    Fatal,
}

impl LambdaLogLevel {
    /// The level Lambda's documentation names `name` (`TRACE`, `DEBUG`, `INFO`, `WARN`,
    /// `ERROR`, `FATAL`), exactly; `None` for anything else (`WARNING`, `warn`, `CRITICAL`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "TRACE" => Self::Trace,
            "DEBUG" => Self::Debug,
            "INFO" => Self::Info,
            "WARN" => Self::Warn,
            "ERROR" => Self::Error,
            "FATAL" => Self::Fatal,
            _ => return None,
        })
    }

    /// The level Lambda's filter reads from one CloudWatch event: its root `"level"` when that is
    /// one of the six names, else (no level, another value, not a JSON object) `INFO`.
    ///
    /// ```
    /// use powertools_e2e::capture::LambdaLogLevel;
    ///
    /// assert_eq!(LambdaLogLevel::of_event(r#"{"level":"ERROR"}"#), LambdaLogLevel::Error);
    /// assert_eq!(LambdaLogLevel::of_event(r#"{"level":"WARNING"}"#), LambdaLogLevel::Info);
    /// assert_eq!(LambdaLogLevel::of_event(r#"{"_aws":{}}"#), LambdaLogLevel::Info);
    /// assert_eq!(LambdaLogLevel::of_event(r#"{"level":"ERR"#), LambdaLogLevel::Info);
    /// ```
    pub fn of_event(event: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Level {
            level: Option<Value>,
        }
        serde_json::from_str::<Level>(event)
            .ok()
            .and_then(|l| l.level)
            .as_ref()
            .and_then(Value::as_str)
            .and_then(Self::from_name)
            .unwrap_or(Self::Info)
    }

    /// The filter a function runs with: `AWS_LAMBDA_LOG_LEVEL` (any case), when
    /// `AWS_LAMBDA_LOG_FORMAT` is `JSON` (Lambda filters only JSON-format logs).
    pub fn filter_of(log_format: Option<&str>, log_level: Option<&str>) -> Option<Self> {
        if !log_format.is_some_and(|f| f.trim().eq_ignore_ascii_case("JSON")) {
            return None;
        }
        Self::from_name(&log_level?.trim().to_ascii_uppercase())
    }
}

/// The top-level keys of a JSON object line, in the order written, duplicates included (a parsed
/// `Value` keeps only the last of two equal keys, and sorts them).
///
/// ```
/// let keys = powertools_e2e::capture::top_level_keys(r#"{"b":1,"a":{"c":2},"b":3}"#).unwrap();
/// assert_eq!(keys, ["b", "a", "b"]);
/// ```
///
/// # Errors
/// When `line` is not a JSON object.
pub fn top_level_keys(line: &str) -> Result<Vec<String>, serde_json::Error> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(line).map(|k| k.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(lines: &[&str], filter: Option<LambdaLogLevel>) -> Captured {
        let mut c = Captured {
            log_filter: filter,
            ..Captured::default()
        };
        for l in lines {
            c.push_stdout((*l).to_owned());
        }
        c
    }

    #[test]
    fn a_long_line_becomes_pieces_that_are_not_json() {
        let long = format!(
            r#"{{"level":"ERROR","message":"{}é"}}"#,
            "x".repeat(MAX_LINE_BYTES)
        );
        let c = written(&[&long], None);
        assert_eq!(c.logs.len(), 1, "as written: one line");
        let cw = c.cloudwatch();
        assert!(cw.logs.is_empty());
        assert_eq!(cw.non_json.len(), 2);
        assert_eq!(cw.non_json.concat(), long, "no byte lost or added");
        assert!(cw.non_json.iter().all(|e| e.len() <= MAX_LINE_BYTES));
        assert_eq!(c.line_problems().len(), 1);
    }

    #[test]
    fn the_filter_keeps_its_level_and_above_and_reads_no_level_as_info() {
        let lines = [
            r#"{"level":"DEBUG","message":"d"}"#,
            r#"{"level":"INFO","message":"i"}"#,
            r#"{"message":"none"}"#,
            r#"{"level":"WARN","message":"w"}"#,
            r#"{"level":"FATAL","message":"f"}"#,
            r#"{"level":"ERROR","_aws":{"CloudWatchMetrics":[]}}"#,
            "not json",
        ];
        let kept = |filter| written(&lines, filter).cloudwatch().stdout.len();
        assert_eq!(kept(None), 7);
        assert_eq!(kept(Some(LambdaLogLevel::Info)), 6, "DEBUG dropped");
        assert_eq!(kept(Some(LambdaLogLevel::Warn)), 3);
        let error = written(&lines, Some(LambdaLogLevel::Error)).cloudwatch();
        assert_eq!(error.stdout.len(), 2);
        assert_eq!(error.emf.len(), 1, "an EMF document with a level passes");
    }

    #[test]
    fn the_filter_applies_only_to_the_json_log_format() {
        assert_eq!(
            LambdaLogLevel::filter_of(Some("JSON"), Some("warn")),
            Some(LambdaLogLevel::Warn)
        );
        assert_eq!(LambdaLogLevel::filter_of(Some("Text"), Some("WARN")), None);
        assert_eq!(LambdaLogLevel::filter_of(None, Some("ERROR")), None);
        assert_eq!(LambdaLogLevel::filter_of(Some("JSON"), Some("loud")), None);
    }

    #[test]
    fn line_problems_name_duplicate_keys_and_non_json() {
        let c = written(&[r#"{"a":1,"a":2}"#, "plain text", r#"{"ok":true}"#], None);
        let problems = c.line_problems();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("\"a\" twice"));
        assert!(problems[1].contains("not a JSON object"));
    }
}
