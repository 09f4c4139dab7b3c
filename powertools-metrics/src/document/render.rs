//! Rendering a document as one compact EMF JSON line, by hand, into a reused buffer.

use std::ops::Range;

use powertools_core::output::MAX_LINE_BYTES;

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
        self.render_into(base, now_ms, 0..self.len, &mut out);
        self.buffer = out;
        &self.buffer
    }

    /// Renders the document as one or more lines, each at most
    /// [`MAX_LINE_BYTES`](powertools_core::output::MAX_LINE_BYTES) long (newline excluded), and
    /// hands each to `emit`: when the whole document would be longer, its metrics are shared out
    /// between documents that each repeat its dimensions, metadata and timestamp. Every value is
    /// written exactly once.
    pub(crate) fn render_each(&mut self, base: &Base, now_ms: u64, mut emit: impl FnMut(&[u8])) {
        let line = self.render(base, now_ms);
        if line.len() <= MAX_LINE_BYTES + 1 {
            emit(line);
            return;
        }
        let mut out = std::mem::take(&mut self.buffer);
        out.clear();
        self.render_into(base, now_ms, 0..0, &mut out);
        // The dimensions and metadata are kept under `MAX_FIXED_BYTES` when added, so at least
        // one metric always fits beside them.
        let room = (MAX_LINE_BYTES + 1).saturating_sub(out.len());
        let mut values = Vec::new();
        let mut start = 0;
        while start < self.len {
            let mut end = start;
            let mut used = 0;
            while end < self.len {
                values.clear();
                self.write_values(end, &mut values);
                // Definition, member and values, with a comma before each of the two.
                let cost =
                    self.definition_len(end) + self.entries[end].member.len() + values.len() + 2;
                if end > start && used + cost > room {
                    break;
                }
                used += cost;
                end += 1;
            }
            out.clear();
            self.render_into(base, now_ms, start..end, &mut out);
            emit(&out);
            start = end;
        }
        self.buffer = out;
    }

    /// The length of metric `i`'s definition in `definitions`.
    fn definition_len(&self, i: usize) -> usize {
        let start = i
            .checked_sub(1)
            .map_or(0, |prev| self.definition_ends[prev] + 1);
        self.definition_ends[i] - start
    }

    /// Metric `i`'s values: a number, or an array of several.
    fn write_values(&self, i: usize, out: &mut Vec<u8>) {
        let metric = &self.entries[i];
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

    /// The document with the metrics `metrics` (definitions up to date).
    fn render_into(&self, base: &Base, now_ms: u64, metrics: Range<usize>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
        write_u64(out, self.timestamp_ms.unwrap_or(now_ms));
        out.extend_from_slice(&base.namespace_json);
        self.write_set(base, &self.primary, out);
        for set in &self.sets {
            out.push(b',');
            self.write_set(base, set, out);
        }
        out.extend_from_slice(b"],\"Metrics\":[");
        if !metrics.is_empty() {
            let start = metrics
                .start
                .checked_sub(1)
                .map_or(0, |prev| self.definition_ends[prev] + 1);
            out.extend_from_slice(&self.definitions[start..self.definition_ends[metrics.end - 1]]);
        }
        out.extend_from_slice(b"]}]}");
        out.extend_from_slice(&base.level_json);
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
        for i in metrics {
            out.extend_from_slice(&self.entries[i].member);
            self.write_values(i, out);
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
