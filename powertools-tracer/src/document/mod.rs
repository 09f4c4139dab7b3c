//! Subsegment documents: what a traced span collects, and how it is written as X-Ray JSON.
//!
//! A subsegment is written either embedded in its parent's `subsegments` array or standalone
//! (`type: subsegment` with `trace_id` and `parent_id`). Both forms share the same body, so a
//! child already rendered for embedding can still be sent on its own, or in a group with its
//! finished siblings ([`children`]).

mod cause;
pub(crate) mod children;
pub(crate) mod json;
mod name;
mod size;

use std::borrow::Cow;

pub(crate) use cause::Cause;
pub(crate) use children::Children;
pub(crate) use name::{sanitize, sanitize_static};
pub(crate) use size::{MAX_BODY_BYTES, MAX_CHILDREN_BYTES, fit_body};

use crate::SubsegmentId;
use crate::current::AnnotationValue;

/// Whether a subsegment calls another service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespace {
    /// Any downstream HTTP service.
    Remote,
    /// An AWS service.
    Aws,
}

impl Namespace {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "remote" => Some(Self::Remote),
            "aws" => Some(Self::Aws),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Remote => "remote",
            Self::Aws => "aws",
        }
    }
}

/// A metadata value: a span field as recorded, or any JSON from `put_metadata`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MetadataValue {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Json(serde_json::Value),
    /// Already-rendered JSON text (a value cut to fit a datagram).
    Raw(String),
}

impl MetadataValue {
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Self::Str(s) => json::string(out, s),
            Self::I64(i) => json::value(out, i),
            Self::U64(u) => json::uint(out, *u),
            Self::F64(f) => json::float(out, *f),
            Self::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Self::Json(v) => json::value(out, v),
            Self::Raw(r) => out.extend_from_slice(r.as_bytes()),
        }
    }
}

/// One metadata entry. `namespace: None` is the service's namespace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetadataEntry {
    pub(crate) namespace: Option<String>,
    pub(crate) key: Cow<'static, str>,
    pub(crate) value: MetadataValue,
}

/// HTTP request/response data of a remote call.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Http {
    pub(crate) method: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) client_ip: Option<String>,
    pub(crate) status: Option<u64>,
    pub(crate) content_length: Option<u64>,
}

impl Http {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The longest HTTP string X-Ray takes.
const MAX_HTTP_CHARS: usize = 250;

/// `s` cut to `max` characters, the last one an ellipsis when cut.
pub(crate) fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// What one subsegment holds while its span is open.
#[derive(Debug)]
pub(crate) struct Subsegment {
    pub(crate) id: SubsegmentId,
    pub(crate) parent_id: SubsegmentId,
    pub(crate) name: Cow<'static, str>,
    pub(crate) start_micros: u64,
    pub(crate) end_micros: Option<u64>,
    pub(crate) namespace: Option<Namespace>,
    pub(crate) annotations: Vec<(Cow<'static, str>, AnnotationValue)>,
    pub(crate) metadata: Vec<MetadataEntry>,
    pub(crate) http: Http,
    pub(crate) aws: Vec<(&'static str, String)>,
    pub(crate) error: bool,
    pub(crate) fault: bool,
    pub(crate) throttle: bool,
    pub(crate) cause: Option<Cause>,
    /// Bodies of finished children, until they are embedded or sent.
    pub(crate) children: Children,
}

/// Microseconds since the Unix epoch, now.
pub(crate) fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Subsegment {
    pub(crate) fn new(name: Cow<'static, str>, parent_id: SubsegmentId, start_micros: u64) -> Self {
        Self {
            id: SubsegmentId::random(),
            parent_id,
            name,
            start_micros,
            end_micros: None,
            namespace: None,
            annotations: Vec::new(),
            metadata: Vec::new(),
            http: Http::default(),
            aws: Vec::new(),
            error: false,
            fault: false,
            throttle: false,
            cause: None,
            children: Children::default(),
        }
    }

    /// Sets an annotation, replacing one with the same key.
    pub(crate) fn annotate(&mut self, key: Cow<'static, str>, value: AnnotationValue) {
        if let Some(slot) = self.annotations.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.annotations.push((key, value));
        }
    }

    /// Sets a metadata entry, replacing one with the same namespace and key.
    pub(crate) fn put_metadata(
        &mut self,
        namespace: Option<String>,
        key: Cow<'static, str>,
        value: MetadataValue,
    ) {
        if let Some(slot) = self
            .metadata
            .iter_mut()
            .find(|e| e.namespace == namespace && e.key == key)
        {
            slot.value = value;
        } else {
            self.metadata.push(MetadataEntry {
                namespace,
                key,
                value,
            });
        }
    }

    /// Sets a key of the `aws` object, replacing an earlier value, and marks the subsegment as a
    /// call to an AWS service.
    pub(crate) fn set_aws(&mut self, key: &'static str, value: String) {
        if let Some(slot) = self.aws.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.aws.push((key, value));
        }
        self.namespace = Some(Namespace::Aws);
    }

    /// Sets the type (`kind`) or the message of the cause's single exception, creating it.
    pub(crate) fn set_cause_part(&mut self, kind: bool, text: &str) {
        let cause = self
            .cause
            .get_or_insert_with(|| Cause::from_recorded_parts(None, None));
        if let Some(e) = cause.exceptions.first_mut() {
            let text = Some(cut_chars(text, 4096));
            if kind {
                e.kind = text;
            } else {
                e.message = text;
            }
        }
    }

    /// Sets an HTTP response status, flagging 4xx as error (429 also throttle) and 5xx as fault.
    pub(crate) fn set_http_status(&mut self, status: u64) {
        self.http.status = Some(status);
        match status {
            429 => {
                self.error = true;
                self.throttle = true;
            }
            400..=499 => self.error = true,
            500..=599 => self.fault = true,
            _ => {}
        }
    }

    pub(crate) fn set_http_string(&mut self, which: HttpField, value: &str) {
        let v = Some(cut_chars(value, MAX_HTTP_CHARS));
        match which {
            HttpField::Method => self.http.method = v,
            HttpField::Url => self.http.url = v,
            HttpField::UserAgent => self.http.user_agent = v,
            HttpField::ClientIp => self.http.client_ip = v,
        }
        if self.namespace.is_none() && which != HttpField::ClientIp {
            self.namespace = Some(Namespace::Remote);
        }
    }

    /// Writes the body: everything after the opening `{`, closing `}` included.
    pub(crate) fn write_body(&self, out: &mut Vec<u8>, service: &str, with_children: bool) {
        json::key(out, "name");
        json::string(out, &self.name);
        out.extend_from_slice(b",\"id\":\"");
        out.extend_from_slice(&self.id.to_hex());
        out.extend_from_slice(b"\",\"start_time\":");
        json::epoch_seconds(out, self.start_micros);
        match self.end_micros {
            Some(end) => {
                out.extend_from_slice(b",\"end_time\":");
                json::epoch_seconds(out, end.max(self.start_micros));
            }
            None => out.extend_from_slice(b",\"in_progress\":true"),
        }
        if let Some(ns) = self.namespace {
            out.extend_from_slice(b",\"namespace\":\"");
            out.extend_from_slice(ns.as_str().as_bytes());
            out.push(b'"');
        }
        for (flag, name) in [
            (self.error, &b",\"error\":true"[..]),
            (self.fault, b",\"fault\":true"),
            (self.throttle, b",\"throttle\":true"),
        ] {
            if flag {
                out.extend_from_slice(name);
            }
        }
        if !self.annotations.is_empty() {
            out.extend_from_slice(b",\"annotations\":{");
            for (i, (k, v)) in self.annotations.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::key(out, k);
                v.write_json(out);
            }
            out.push(b'}');
        }
        self.write_metadata(out, service);
        if !self.http.is_empty() {
            self.write_http(out);
        }
        if !self.aws.is_empty() {
            out.extend_from_slice(b",\"aws\":{");
            for (i, (k, v)) in self.aws.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::key(out, k);
                // `retries` is a number in X-Ray's schema.
                if *k == "retries" && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    out.extend_from_slice(v.as_bytes());
                } else {
                    json::string(out, v);
                }
            }
            out.push(b'}');
        }
        if let Some(cause) = &self.cause {
            out.extend_from_slice(b",\"cause\":");
            cause.write_json(out);
        }
        if with_children && !self.children.is_empty() {
            self.children.write_array(out);
        }
        out.push(b'}');
    }

    fn write_metadata(&self, out: &mut Vec<u8>, service: &str) {
        if self.metadata.is_empty() {
            return;
        }
        out.extend_from_slice(b",\"metadata\":{");
        let mut first_ns = true;
        for (i, entry) in self.metadata.iter().enumerate() {
            let ns = namespace(entry, service);
            // Each namespace is written once, at its first entry, with all its entries.
            if self.metadata[..i]
                .iter()
                .any(|e| namespace(e, service) == ns)
            {
                continue;
            }
            if !first_ns {
                out.push(b',');
            }
            first_ns = false;
            json::key(out, ns);
            out.push(b'{');
            let mut first = true;
            for e in &self.metadata[i..] {
                if namespace(e, service) != ns {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                json::key(out, &e.key);
                e.value.write_json(out);
            }
            out.push(b'}');
        }
        out.push(b'}');
    }

    fn write_http(&self, out: &mut Vec<u8>) {
        let h = &self.http;
        out.extend_from_slice(b",\"http\":{");
        let mut first_part = true;
        let request = [
            ("method", &h.method),
            ("url", &h.url),
            ("user_agent", &h.user_agent),
            ("client_ip", &h.client_ip),
        ];
        if request.iter().any(|(_, v)| v.is_some()) {
            out.extend_from_slice(b"\"request\":{");
            let mut first = true;
            for (k, v) in request {
                if let Some(v) = v {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    json::key(out, k);
                    json::string(out, v);
                }
            }
            out.push(b'}');
            first_part = false;
        }
        if h.status.is_some() || h.content_length.is_some() {
            if !first_part {
                out.push(b',');
            }
            out.extend_from_slice(b"\"response\":{");
            let mut first = true;
            for (k, v) in [("status", h.status), ("content_length", h.content_length)] {
                if let Some(v) = v {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    json::key(out, k);
                    json::uint(out, v);
                }
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

fn namespace<'a>(e: &'a MetadataEntry, service: &'a str) -> &'a str {
    e.namespace.as_deref().unwrap_or(service)
}

/// Which HTTP request string a field sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpField {
    Method,
    Url,
    UserAgent,
    ClientIp,
}

/// Writes a standalone document (`type: subsegment`) around a body.
pub(crate) fn write_standalone(
    out: &mut Vec<u8>,
    trace_id: &str,
    parent_id: SubsegmentId,
    body: &[u8],
) {
    out.extend_from_slice(b"{\"type\":\"subsegment\",\"trace_id\":");
    json::string(out, trace_id);
    out.extend_from_slice(b",\"parent_id\":\"");
    out.extend_from_slice(&parent_id.to_hex());
    out.extend_from_slice(b"\",");
    out.extend_from_slice(body);
}

/// The bytes a standalone wrapper adds to a body (trace ids are 35 characters).
pub(crate) const STANDALONE_OVERHEAD: usize = 128;
