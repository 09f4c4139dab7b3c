//! What a function wrote (stdout, stderr) and sent (UDP datagrams), sorted into log lines, EMF
//! documents and X-Ray documents.

use serde_json::Value;

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
