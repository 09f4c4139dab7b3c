//! Finished children waiting in their parent, and how they leave it.
//!
//! A finished subsegment's body is kept by its parent until the parent's document is written
//! (then it is embedded), or until the children kept reach what one datagram holds (then they
//! are sent). An X-Ray datagram carries one document and a document is one subsegment, so
//! siblings can only share a datagram inside a common parent: children sent while their parent
//! is still open are packed into *groups*, subsegments named [`GROUP_NAME`] whose
//! `subsegments` are as many of the finished siblings as fit one datagram, under the same
//! parent. A lone child is sent as its own document, never wrapped.
//!
//! Every body records how many subsegment levels it nests ([`MAX_LEVELS`] at most), so that no
//! document is deeper than JSON parsers accept: a child already [`MAX_LEVELS`] deep is never
//! embedded or grouped, it is sent as a document of its own under its parent.

use std::mem;

use super::json;
use crate::SubsegmentId;

/// The most subsegment levels one document nests (a subsegment counts 1, its children 2, …).
/// Each level is two JSON levels (the subsegment's object and its `subsegments` array), so a
/// document stays under about 100 JSON levels, within the 128 that `serde_json` accepts by
/// default with room for metadata values.
pub(crate) const MAX_LEVELS: u32 = 48;

/// The name of a group of finished siblings sent together.
pub(crate) const GROUP_NAME: &str = "## batch";

/// The metadata key (namespace `powertools`) of a group: how many subsegments it carries.
pub(crate) const GROUP_MARKER: &str = "grouped_subsegments";

/// The most bytes a group adds around its children's bodies: name, id, times, marker, the
/// `subsegments` key and brackets.
pub(crate) const GROUP_OVERHEAD: usize = 256;

/// `,"subsegments":[` and `]`: what a parent adds around its embedded children.
const ARRAY_OVERHEAD: usize = 17;

#[derive(Debug, Clone, Copy)]
struct Entry {
    len: usize,
    start_micros: u64,
    end_micros: u64,
    levels: u32,
}

/// The rendered bodies of finished children (each without its opening `{`), in the order they
/// finished, stored end to end.
#[derive(Debug, Default)]
pub(crate) struct Children {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// One finished child.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Child<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) start_micros: u64,
    pub(crate) end_micros: u64,
    pub(crate) levels: u32,
}

/// One document that carries children: a child alone, or a group of several (indices).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Packed {
    Alone(usize),
    Group(Vec<usize>),
}

impl Children {
    /// Keeps a finished child's body.
    pub(crate) fn push(&mut self, body: &[u8], start_micros: u64, end_micros: u64, levels: u32) {
        self.bytes.extend_from_slice(body);
        self.entries.push(Entry {
            len: body.len(),
            start_micros,
            end_micros: end_micros.max(start_micros),
            levels,
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes the children take embedded in a `subsegments` array (each body, its `{` and a
    /// comma), the array's key and brackets not counted.
    pub(crate) fn embedded_bytes(&self) -> usize {
        self.bytes.len() + 2 * self.entries.len()
    }

    /// The most levels any child nests (0 without children).
    pub(crate) fn levels(&self) -> u32 {
        self.entries.iter().map(|e| e.levels).max().unwrap_or(0)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Child<'_>> {
        let mut offset = 0;
        self.entries.iter().map(move |e| {
            let body = &self.bytes[offset..offset + e.len];
            offset += e.len;
            Child {
                body,
                start_micros: e.start_micros,
                end_micros: e.end_micros,
                levels: e.levels,
            }
        })
    }

    /// Removes and returns all the children.
    pub(crate) fn take(&mut self) -> Children {
        mem::take(self)
    }

    /// Removes and returns the first (oldest) `n` children.
    pub(crate) fn take_front(&mut self, n: usize) -> Children {
        let n = n.min(self.entries.len());
        let split: usize = self.entries[..n].iter().map(|e| e.len).sum();
        let tail_bytes = self.bytes.split_off(split);
        let tail_entries = self.entries.split_off(n);
        Children {
            bytes: mem::replace(&mut self.bytes, tail_bytes),
            entries: mem::replace(&mut self.entries, tail_entries),
        }
    }

    /// Removes and returns the children that nest [`MAX_LEVELS`] levels: embedded, they would
    /// make their parent's document deeper than allowed.
    pub(crate) fn take_deepest(&mut self) -> Children {
        let mut deep = Children::default();
        if self.entries.iter().all(|e| e.levels < MAX_LEVELS) {
            return deep;
        }
        let mut kept = Children::default();
        for child in self.iter() {
            let into = if child.levels >= MAX_LEVELS {
                &mut deep
            } else {
                &mut kept
            };
            into.push(
                child.body,
                child.start_micros,
                child.end_micros,
                child.levels,
            );
        }
        *self = kept;
        deep
    }

    /// How many of the oldest children must leave so that the others, embedded, fit in `room`
    /// bytes (the array's key and brackets included).
    pub(crate) fn to_leave_for(&self, room: usize) -> usize {
        let mut bytes = self.embedded_bytes() + ARRAY_OVERHEAD;
        let mut n = 0;
        for e in &self.entries {
            if bytes <= room {
                break;
            }
            bytes -= e.len + 2;
            n += 1;
        }
        n
    }

    /// Writes `,"subsegments":[{…},{…}]`.
    pub(crate) fn write_array(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b",\"subsegments\":[");
        for (i, child) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            out.extend_from_slice(child.body);
        }
        out.push(b']');
    }

    /// How to send the children as few documents of at most `max_body` bytes (body, before the
    /// standalone wrapper) as possible: consecutive children share a group while it fits; a
    /// child nested [`MAX_LEVELS`] deep or too large for a group is sent alone, and so is a
    /// group of one.
    pub(crate) fn pack(&self, max_body: usize) -> Vec<Packed> {
        let mut plan = Vec::new();
        let mut run = Vec::new();
        let mut run_bytes = 0;
        let flush = |run: &mut Vec<usize>, plan: &mut Vec<Packed>| match run.len() {
            0 => {}
            1 => plan.push(Packed::Alone(run[0])),
            _ => plan.push(Packed::Group(mem::take(run))),
        };
        for (i, child) in self.iter().enumerate() {
            let cost = child.body.len() + 2;
            if child.levels >= MAX_LEVELS || cost + GROUP_OVERHEAD > max_body {
                plan.push(Packed::Alone(i));
                continue;
            }
            if run_bytes + cost + GROUP_OVERHEAD > max_body {
                flush(&mut run, &mut plan);
                run.clear();
                run_bytes = 0;
            }
            run.push(i);
            run_bytes += cost;
        }
        flush(&mut run, &mut plan);
        plan
    }

    /// Writes the body of one packed document (without its opening `{`).
    pub(crate) fn write_packed(&self, packed: &Packed, out: &mut Vec<u8>) {
        match packed {
            Packed::Alone(i) => {
                if let Some(child) = self.iter().nth(*i) {
                    out.extend_from_slice(child.body);
                }
            }
            Packed::Group(indices) => self.write_group(indices, SubsegmentId::random(), out),
        }
    }

    /// Writes a group's body: a subsegment spanning the children at `indices`, carrying them.
    fn write_group(&self, indices: &[usize], id: SubsegmentId, out: &mut Vec<u8>) {
        let picked = || {
            self.iter()
                .enumerate()
                .filter(|(i, _)| indices.binary_search(i).is_ok())
                .map(|(_, c)| c)
        };
        let start = picked().map(|c| c.start_micros).min().unwrap_or(0);
        let end = picked().map(|c| c.end_micros).max().unwrap_or(start);
        json::key(out, "name");
        json::string(out, GROUP_NAME);
        out.extend_from_slice(b",\"id\":\"");
        out.extend_from_slice(&id.to_hex());
        out.extend_from_slice(b"\",\"start_time\":");
        json::epoch_seconds(out, start);
        out.extend_from_slice(b",\"end_time\":");
        json::epoch_seconds(out, end.max(start));
        out.extend_from_slice(b",\"metadata\":{\"powertools\":{\"");
        out.extend_from_slice(GROUP_MARKER.as_bytes());
        out.extend_from_slice(b"\":");
        json::uint(out, indices.len() as u64);
        out.extend_from_slice(b"}},\"subsegments\":[");
        for (i, child) in picked().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            out.extend_from_slice(child.body);
        }
        out.extend_from_slice(b"]}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str, start: u64) -> Vec<u8> {
        format!(
            "\"name\":\"{name}\",\"id\":\"{start:016x}\",\"start_time\":{start}.000001,\"end_time\":{start}.000002}}"
        )
        .into_bytes()
    }

    fn children(n: u64, levels: u32) -> Children {
        let mut c = Children::default();
        for i in 0..n {
            c.push(&leaf("item", 1_700_000_000 + i), i, i + 1, levels);
        }
        c
    }

    fn parse(body: &[u8]) -> serde_json::Value {
        let mut doc = b"{".to_vec();
        doc.extend_from_slice(body);
        serde_json::from_slice(&doc).unwrap()
    }

    #[test]
    fn a_group_carries_its_children_and_spans_them() {
        let c = children(3, 1);
        let mut out = Vec::new();
        c.write_group(&[0, 2], SubsegmentId::random(), &mut out);
        let v = parse(&out);
        assert_eq!(v["name"], GROUP_NAME);
        assert_eq!(v["metadata"]["powertools"][GROUP_MARKER], 2);
        let subs = v["subsegments"].as_array().unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[1]["id"], format!("{:016x}", 1_700_000_002));
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("\"start_time\":0.000000,\"end_time\":0.000003,"),
            "{text}"
        );
        assert!(out.len() - c.embedded_bytes() <= GROUP_OVERHEAD);
    }

    #[test]
    fn packing_fills_groups_and_never_wraps_one_child() {
        let c = children(1_000, 1);
        let plan = c.pack(10_000);
        let mut seen = Vec::new();
        for p in &plan {
            let mut out = Vec::new();
            c.write_packed(p, &mut out);
            assert!(out.len() <= 10_000, "{}", out.len());
            match p {
                Packed::Alone(i) => seen.push(*i),
                Packed::Group(ix) => {
                    assert!(ix.len() > 1);
                    seen.extend(ix);
                }
            }
        }
        assert_eq!(seen, (0..1_000).collect::<Vec<_>>());
        let per_doc = c.embedded_bytes() / plan.len();
        assert!(per_doc > 9_000, "{} documents", plan.len());
        assert_eq!(children(1, 1).pack(10_000), [Packed::Alone(0)]);
    }

    #[test]
    fn deep_children_are_never_embedded_or_grouped() {
        let mut c = children(4, MAX_LEVELS - 1);
        c.push(&leaf("deep", 9), 9, 10, MAX_LEVELS);
        c.push(&leaf("shallow", 10), 10, 11, 1);
        assert_eq!(
            c.pack(65_000),
            [Packed::Alone(4), Packed::Group(vec![0, 1, 2, 3, 5])]
        );
        let deep = c.take_deepest();
        assert_eq!(deep.len(), 1);
        assert_eq!(c.len(), 5);
        assert_eq!(c.levels(), MAX_LEVELS - 1);
        assert!(
            c.iter()
                .all(|ch| !String::from_utf8_lossy(ch.body).contains("deep"))
        );
    }

    #[test]
    fn the_oldest_leave_until_the_rest_fits() {
        let mut c = children(10, 1);
        let each = c.embedded_bytes() / 10;
        let n = c.to_leave_for(4 * each + ARRAY_OVERHEAD);
        assert_eq!(n, 6);
        let front = c.take_front(n);
        assert_eq!(front.len(), 6);
        assert_eq!(c.len(), 4);
        let mut out = Vec::new();
        c.write_array(&mut out);
        assert!(out.len() <= 4 * each + ARRAY_OVERHEAD);
        assert!(String::from_utf8_lossy(&out).contains("1700000006"));
        assert!(!String::from_utf8_lossy(&out).contains("1700000005"));
        assert_eq!(c.to_leave_for(0), 4);
    }
}
