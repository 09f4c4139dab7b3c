//! Rendering a document as one compact EMF JSON line, by hand, into a reused buffer.

use super::json::{write_f64, write_str, write_u64};
use super::{Base, Document};

impl Document {
    /// Renders the document into `self.buffer` as one JSON line (newline included) and returns
    /// it. `now_ms` is the timestamp used when none was set.
    pub(crate) fn render(&mut self, base: &Base, now_ms: u64) -> &[u8] {
        let mut out = std::mem::take(&mut self.buffer);
        out.clear();
        out.reserve(256 + 64 * self.len);
        self.define_metrics();
        self.render_into(base, now_ms, &mut out);
        self.buffer = out;
        &self.buffer
    }

    fn render_into(&self, base: &Base, now_ms: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
        write_u64(out, self.timestamp_ms.unwrap_or(now_ms));
        out.extend_from_slice(&base.namespace_json);
        self.write_set(base, &self.primary, out);
        for set in &self.sets {
            out.push(b',');
            self.write_set(base, set, out);
        }
        out.extend_from_slice(b"],\"Metrics\":[");
        if let Some(&end) = self
            .len
            .checked_sub(1)
            .and_then(|last| self.definition_ends.get(last))
        {
            out.extend_from_slice(&self.definitions[..end]);
        }
        out.extend_from_slice(b"]}]}");
        for (key, value) in &self.dimensions {
            member(out, key);
            write_str(out, value);
        }
        if self.overrides_base {
            for (key, value) in &base.dimensions {
                if self.dimension_index(key).is_none() {
                    member(out, key);
                    write_str(out, value);
                }
            }
        } else {
            out.extend_from_slice(&base.members_json);
        }
        for (key, json) in &self.metadata {
            member(out, key);
            out.extend_from_slice(json.as_bytes());
        }
        for metric in self.metrics() {
            out.extend_from_slice(&metric.member);
            if metric.rest.is_empty() {
                write_f64(out, metric.first);
            } else {
                out.push(b'[');
                write_f64(out, metric.first);
                for v in &metric.rest {
                    out.push(b',');
                    write_f64(out, *v);
                }
                out.push(b']');
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// Brings `definitions` up to date with the metrics.
    fn define_metrics(&mut self) {
        let defined = self.defined.min(self.definition_ends.len());
        if defined >= self.len {
            return;
        }
        let start = defined
            .checked_sub(1)
            .map_or(0, |last| self.definition_ends[last]);
        self.definitions.truncate(start);
        self.definition_ends.truncate(defined);
        for (i, metric) in self.entries[defined..self.len].iter().enumerate() {
            if i + defined > 0 {
                self.definitions.push(b',');
            }
            metric.write_definition(&mut self.definitions);
            self.definition_ends.push(self.definitions.len());
        }
        self.defined = self.len;
    }

    /// One dimension set: its own keys, then the base keys.
    fn write_set(&self, base: &Base, own: &[usize], out: &mut Vec<u8>) {
        out.push(b'[');
        for (n, &i) in own.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_str(out, &self.dimensions[i].0);
        }
        if !own.is_empty() && !base.keys_json.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(&base.keys_json);
        out.push(b']');
    }
}

/// `,"key":`
fn member(out: &mut Vec<u8>, key: &str) {
    out.push(b',');
    write_str(out, key);
    out.push(b':');
}
