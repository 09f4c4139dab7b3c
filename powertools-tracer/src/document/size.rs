//! Keeping every document within one datagram.
//!
//! A body that would not fit is made smaller in steps, each one losing less than the next:
//! first its oldest embedded children leave (handed back to be sent as documents of their own,
//! grouped), as many as needed for the rest to fit; then its largest metadata values are cut,
//! each replaced by a string holding the start of its JSON text and a marker saying how long it
//! was; last, what still does not fit (metadata, cause, annotations) is replaced by one marker
//! entry. Every step writes one warning line per process. Children nested
//! [`MAX_LEVELS`](super::children::MAX_LEVELS) deep always leave: embedded, they would make the document
//! deeper than parsers accept.

use std::borrow::Cow;

use powertools_core::warning::warn_once;

use super::{Children, MetadataValue, STANDALONE_OVERHEAD, Subsegment, json};
use crate::emitter::MAX_DOCUMENT_BYTES;

/// The largest body that still fits a datagram once wrapped as a standalone document.
pub(crate) const MAX_BODY_BYTES: usize = MAX_DOCUMENT_BYTES - STANDALONE_OVERHEAD;

/// How many bytes of finished children an open subsegment keeps: as many as one group document
/// carries. When the next child would not fit, those kept are sent (grouped) first.
pub(crate) const MAX_CHILDREN_BYTES: usize = MAX_BODY_BYTES - super::children::GROUP_OVERHEAD;

/// The fewest bytes of a cut value that are kept.
const MIN_KEPT_BYTES: usize = 256;

/// Renders `sub`'s body into `out` (cleared first) so that it fits a datagram; children that
/// have to leave are handed to `leave`, before anything is returned.
pub(crate) fn fit_body(
    sub: &mut Subsegment,
    service: &str,
    out: &mut Vec<u8>,
    max_body: usize,
    leave: &mut dyn FnMut(Children),
) {
    let deepest = sub.children.take_deepest();
    if !deepest.is_empty() {
        leave(deepest);
    }
    out.clear();
    sub.write_body(out, service, true);
    if out.len() <= max_body {
        return;
    }
    if !sub.children.is_empty() {
        out.clear();
        sub.write_body(out, service, false);
        let room = max_body.saturating_sub(out.len());
        let n = sub.children.to_leave_for(room);
        leave(sub.children.take_front(n));
        if !sub.children.is_empty() {
            out.clear();
            sub.write_body(out, service, true);
            if out.len() > max_body {
                leave(sub.children.take());
                out.clear();
                sub.write_body(out, service, false);
            }
        }
        if out.len() <= max_body {
            return;
        }
    }
    cut_metadata(sub, out.len() - max_body);
    out.clear();
    sub.write_body(out, service, false);
    if out.len() <= max_body {
        return;
    }
    replace_everything_optional(sub, out.len());
    out.clear();
    sub.write_body(out, service, false);
}

/// Cuts the largest metadata values until `overflow` bytes are saved.
fn cut_metadata(sub: &mut Subsegment, mut overflow: usize) {
    let mut sizes: Vec<(usize, usize)> = sub
        .metadata
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut buf = Vec::new();
            e.value.write_json(&mut buf);
            (i, buf.len())
        })
        .collect();
    sizes.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    for (index, size) in sizes {
        if overflow == 0 || size <= MIN_KEPT_BYTES * 2 {
            break;
        }
        let keep = size.saturating_sub(overflow + 128).max(MIN_KEPT_BYTES);
        let mut text = Vec::with_capacity(size);
        sub.metadata[index].value.write_json(&mut text);
        let cut = cut_value(&text, keep);
        let saved = size.saturating_sub(cut.len());
        overflow = overflow.saturating_sub(saved);
        warn_once(
            "powertools_tracer.truncated_value",
            "powertools_tracer",
            &format!(
                "metadata {:?} of subsegment {:?} is {size} bytes, more than one X-Ray datagram holds; it was cut and marked (warned once)",
                sub.metadata[index].key, sub.name
            ),
        );
        sub.metadata[index].value = MetadataValue::Raw(cut);
    }
}

/// A JSON string of at most about `keep` bytes: the start of `text` and a marker.
fn cut_value(text: &[u8], keep: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let marker = format!(" …[truncated by powertools: {} bytes]", text.len());
    let mut take = keep;
    loop {
        let mut end = take.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let candidate = format!("{}{marker}", &text[..end]);
        let mut out = Vec::with_capacity(candidate.len() + 16);
        json::string(&mut out, &candidate);
        if out.len() <= keep + marker.len() + 2 || end == 0 {
            return String::from_utf8(out).unwrap_or_default();
        }
        take = end
            .saturating_sub(out.len() - (keep + marker.len() + 2))
            .min(end - 1);
    }
}

/// The last resort: one marker entry instead of the metadata, the cause and the annotations.
fn replace_everything_optional(sub: &mut Subsegment, size: usize) {
    warn_once(
        "powertools_tracer.replaced_subsegment_data",
        "powertools_tracer",
        &format!(
            "subsegment {:?} is {size} bytes even after cutting its metadata; its metadata, annotations and cause were replaced by a marker (warned once)",
            sub.name
        ),
    );
    sub.metadata.clear();
    sub.annotations.clear();
    sub.cause = None;
    sub.put_metadata(
        Some("powertools".to_owned()),
        Cow::Borrowed("truncated"),
        MetadataValue::Str(format!(
            "this subsegment's metadata, annotations and cause ({size} bytes) did not fit one X-Ray datagram"
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SubsegmentId;

    fn sub() -> Subsegment {
        Subsegment::new(Cow::Borrowed("big"), SubsegmentId::random(), 1_000_000)
    }

    #[test]
    fn oversized_value_is_cut_with_a_marker() {
        let mut s = sub();
        s.end_micros = Some(2_000_000);
        s.put_metadata(None, Cow::Borrowed("small"), MetadataValue::I64(7));
        s.put_metadata(
            None,
            Cow::Borrowed("response"),
            MetadataValue::Json(serde_json::json!({"blob": "x\"y".repeat(100_000)})),
        );
        let mut out = Vec::new();
        fit_body(&mut s, "svc", &mut out, MAX_BODY_BYTES, &mut |_| {
            panic!("no children")
        });
        assert!(out.len() <= MAX_BODY_BYTES, "{}", out.len());
        let mut doc = b"{".to_vec();
        doc.extend_from_slice(&out);
        let v: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        let cut = v["metadata"]["svc"]["response"].as_str().unwrap();
        assert!(cut.starts_with("{\"blob\":\"x\\\"y"));
        assert!(
            cut.ends_with("[truncated by powertools: 400011 bytes]"),
            "{}",
            &cut[cut.len() - 60..]
        );
        assert_eq!(v["metadata"]["svc"]["small"], 7);
    }

    #[test]
    fn the_oldest_children_leave_before_values_are_cut() {
        let mut s = sub();
        for _ in 0..10 {
            s.children.push(&[b'x'; 10_000], 1_000_000, 2_000_000, 1);
        }
        s.put_metadata(
            None,
            Cow::Borrowed("kept"),
            MetadataValue::Str("y".repeat(5_000)),
        );
        let mut left = Vec::new();
        let mut out = Vec::new();
        fit_body(&mut s, "svc", &mut out, MAX_BODY_BYTES, &mut |c| {
            left.push(c.len());
        });
        assert_eq!(
            left,
            [4],
            "as many as needed, oldest first, in one hand-over"
        );
        assert_eq!(s.children.len(), 6);
        assert!(out.len() <= MAX_BODY_BYTES);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("subsegments") && !text.contains("truncated"));

        // Own data larger than a datagram: every child leaves, then values are cut.
        s.put_metadata(
            None,
            Cow::Borrowed("kept"),
            MetadataValue::Str("y".repeat(70_000)),
        );
        left.clear();
        fit_body(&mut s, "svc", &mut out, MAX_BODY_BYTES, &mut |c| {
            left.push(c.len());
        });
        assert_eq!(left, [6]);
        assert!(s.children.is_empty());
        assert!(out.len() <= MAX_BODY_BYTES);
        assert!(!String::from_utf8_lossy(&out).contains("subsegments"));
    }

    #[test]
    fn children_nested_too_deep_always_leave() {
        let mut s = sub();
        s.children.push(b"\"name\":\"a\"}", 0, 1, 1);
        s.children.push(
            b"\"name\":\"b\"}",
            0,
            1,
            crate::document::children::MAX_LEVELS,
        );
        let mut left = 0;
        let mut out = Vec::new();
        fit_body(&mut s, "svc", &mut out, MAX_BODY_BYTES, &mut |c| {
            left += c.len();
        });
        assert_eq!(left, 1);
        assert_eq!(s.children.levels(), 1);
    }

    #[test]
    fn many_small_values_end_in_one_marker() {
        let mut s = sub();
        for i in 0..20_000 {
            s.put_metadata(None, Cow::Owned(format!("k{i}")), MetadataValue::U64(i));
        }
        let mut out = Vec::new();
        fit_body(&mut s, "svc", &mut out, MAX_BODY_BYTES, &mut |_| {});
        assert!(out.len() <= MAX_BODY_BYTES);
        assert!(String::from_utf8_lossy(&out).contains("did not fit one X-Ray datagram"));
    }
}
