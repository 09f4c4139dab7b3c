//! Keeping every line within one CloudWatch Logs event
//! ([`MAX_LINE_BYTES`](powertools_core::output::MAX_LINE_BYTES)): a line that would be longer has
//! its largest values shortened, each ending with a marker saying how many bytes it lost.
//!
//! Only the slow path lives here: the caller compares the line's length with the limit and calls
//! [`fit_object`] (or [`cut_text`]) only when it is over.
//!
//! The rules, in order, until the line fits:
//!
//! 1. the values of the members the logger does not own outright — `message`, appended keys,
//!    span and event fields, `exception…` — are shortened, the largest first: every value longer
//!    than a common cap is cut down to the cap, the cap chosen as high as the limit allows, so
//!    the smaller values are kept whole;
//! 2. then, the same way, the values of the logger's context keys (`level`, `location`,
//!    `timestamp`, `service`, `function_*`, `correlation_id`, `xray_trace_id`, …), which are
//!    short in practice — but a correlation id comes from the event and can be long;
//! 3. only when that cannot be enough (thousands of members: the keys themselves are too many)
//!    whole members are left out, the largest first — never `level` or `message` — and the
//!    message ends with `…[left out K keys, N bytes]`; the other values first, then the context
//!    values are shortened, then context members left out.
//!
//! A shortened string keeps its beginning, cut between characters and escape sequences, and
//! ends with `…[truncated N bytes]`, N counting the bytes of the value's text (UTF-8, unescaped)
//! that were removed. A shortened non-string value (an object, an array) becomes a string holding
//! the beginning of its JSON text and the same marker.

use std::borrow::Cow;
use std::ops::Range;

use super::json;

/// Whether `key` is a context key (a reserved key other than the message and the error's):
/// shortened only when shortening every other value is not enough.
fn is_context_key(key: &[u8]) -> bool {
    !matches!(
        key,
        b"message" | b"exception" | b"exception_name" | b"exception_chain"
    ) && super::reserved::RESERVED_KEYS
        .iter()
        .any(|k| k.as_bytes() == key)
}

/// Context values longer than this (JSON text) are shortened, down to it, before keys are left
/// out; the Lambda keys are far shorter.
const LONG_CONTEXT_VALUE: usize = 256;

const ELLIPSIS: &str = "\u{2026}";

/// The longest note [`write_left_out_note`] writes (two 20-digit numbers).
const NOTE_MAX: usize =
    ELLIPSIS.len() + "[left out ".len() + 20 + " keys, ".len() + 20 + " bytes]".len();

/// One top-level member of the object being fitted.
#[derive(Debug)]
struct Member {
    /// From the key's opening quote to the end of the value.
    span: Range<usize>,
    /// The value.
    value: Range<usize>,
    /// The key is `message`.
    is_message: bool,
    /// The key is `level`.
    is_level: bool,
    /// A context key (shortened last).
    is_context: bool,
}

impl Member {
    fn value_len(&self) -> usize {
        self.value.len()
    }
}

/// Where a member of the original object is in the fitted one.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// Where the member (key and value) started in the original object.
    pub(crate) old_start: usize,
    /// The member in the fitted object.
    pub(crate) new: Range<usize>,
    /// Its value in the fitted object.
    pub(crate) new_value: Range<usize>,
    /// The member is the `message`.
    pub(crate) is_message: bool,
}

/// The number of bytes `…[truncated {removed} bytes]` takes.
fn marker_len(removed: usize) -> usize {
    ELLIPSIS.len() + "[truncated ".len() + digits(removed) + " bytes]".len()
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Appends `…[truncated {removed} bytes]`.
pub(crate) fn write_marker(out: &mut Vec<u8>, removed: usize) {
    out.extend_from_slice(ELLIPSIS.as_bytes());
    out.extend_from_slice(b"[truncated ");
    json::write_u64(out, removed as u64);
    out.extend_from_slice(b" bytes]");
}

fn left_out_note(keys: usize, bytes: usize) -> String {
    format!("{ELLIPSIS}[left out {keys} keys, {bytes} bytes]")
}

/// The smallest a shortened value of `len` bytes can be: quotes and marker, nothing kept.
fn floor(len: usize) -> usize {
    2 + marker_len(len)
}

use powertools_core::output::{escaped_char_len, escaped_prefix_len};

/// Appends `text` as a JSON string of at most `budget` bytes (quotes included) ending with `note`:
/// whole when it fits, else its longest beginning (cut between characters) that leaves room for
/// the marker.
///
/// `budget` must be at least `2 + note.len() + marker_len(text.len())`.
fn write_shortened(out: &mut Vec<u8>, text: &str, budget: usize, note: &str) {
    let room = budget.saturating_sub(2 + note.len());
    let mut whole = 0usize;
    let mut fits_whole = true;
    for c in text.chars() {
        whole += escaped_char_len(c);
        if whole > room {
            fits_whole = false;
            break;
        }
    }
    out.push(b'"');
    if fits_whole {
        json::escape_into(out, text);
    } else {
        let avail = room.saturating_sub(marker_len(text.len()));
        let end = escaped_prefix_len(text, avail);
        json::escape_into(out, &text[..end]);
        write_marker(out, text.len() - end);
    }
    out.extend_from_slice(note.as_bytes());
    out.push(b'"');
}

/// The text a value is shortened from: a string's content, else the value's JSON text.
fn value_text(value: &[u8]) -> Cow<'_, str> {
    if value.first() == Some(&b'"')
        && let Ok(s) = serde_json::from_slice::<String>(value)
    {
        return Cow::Owned(s);
    }
    String::from_utf8_lossy(value)
}

/// Writes into `out` the object `line` (one JSON object, without its newline) with its values
/// shortened so that it is at most `max` bytes long; returns where each kept member went.
///
/// `None` when `line` is not a JSON object (`out` is then untouched). `max` must leave room for
/// `level`, a `message` and a note (a few hundred bytes).
pub(crate) fn fit_object(line: &[u8], max: usize, out: &mut Vec<u8>) -> Option<Vec<Placed>> {
    let members = scan_object(line)?;
    let plan = plan(line.len(), max, &members);
    out.clear();
    out.push(b'{');
    let mut placed = Vec::with_capacity(members.len());
    let note =
        (plan.left_out_keys > 0).then(|| left_out_note(plan.left_out_keys, plan.left_out_bytes));
    for (m, budget) in members.iter().zip(&plan.budgets) {
        let Budget::Keep(budget) = budget else {
            continue;
        };
        if out.len() > 1 {
            out.push(b',');
        }
        let start = out.len();
        out.extend_from_slice(&line[m.span.start..m.value.start]);
        let value_start = out.len();
        let note_here = if m.is_message { note.as_deref() } else { None };
        match (budget, note_here) {
            (None, None) => out.extend_from_slice(&line[m.value.clone()]),
            (budget, note) => {
                let text = value_text(&line[m.value.clone()]);
                let budget = budget.unwrap_or(usize::MAX);
                write_shortened(out, &text, budget, note.unwrap_or(""));
            }
        }
        placed.push(Placed {
            old_start: m.span.start,
            new: start..out.len(),
            new_value: value_start..out.len(),
            is_message: m.is_message,
        });
    }
    if let (Some(note), false) = (&note, members.iter().any(|m| m.is_message)) {
        if out.len() > 1 {
            out.push(b',');
        }
        let start = out.len();
        out.extend_from_slice(b"\"message\":");
        let value_start = out.len();
        json::write_str(out, note);
        placed.push(Placed {
            old_start: line.len(),
            new: start..out.len(),
            new_value: value_start..out.len(),
            is_message: true,
        });
    }
    out.push(b'}');
    debug_assert!(out.len() <= max, "fitted to {} > {max}", out.len());
    Some(placed)
}

/// Writes into `out` the beginning of `line` (not a JSON object: a custom formatter's) that fits
/// in `max` bytes with the marker, cut between UTF-8 characters.
pub(crate) fn cut_text(line: &[u8], max: usize, out: &mut Vec<u8>) {
    let mut end = max.saturating_sub(marker_len(line.len())).min(line.len());
    while end > 0 && end < line.len() && (line[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    out.clear();
    out.extend_from_slice(&line[..end]);
    write_marker(out, line.len() - end);
}

/// The new range of a range of members (`,"k":v…`, leading comma included) of the original.
pub(crate) fn remap(range: &Range<usize>, placed: &[Placed]) -> Range<usize> {
    let mut inside = placed
        .iter()
        .filter(|p| !p.is_message && range.contains(&p.old_start));
    match (inside.next(), inside.next_back()) {
        (None, _) => 0..0,
        (Some(first), last) => first.new.start - 1..last.unwrap_or(first).new.end,
    }
}

/// What happens to one member.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Budget {
    /// Kept: whole (`None`) or shortened to at most this many bytes.
    Keep(Option<usize>),
    /// Left out.
    Drop,
}

#[derive(Debug)]
struct Plan {
    budgets: Vec<Budget>,
    left_out_keys: usize,
    left_out_bytes: usize,
}

/// Decides each member's budget so that the object, `total` bytes now, fits in `max`.
fn plan(total: usize, max: usize, members: &[Member]) -> Plan {
    let first = plan_with(total, max, members, None);
    if first.left_out_keys == 0 {
        return first;
    }
    // Members were left out (a huge key, thousands of keys): the values shortened before that
    // may not have had to be. Plan again with those members out from the start.
    let dropped: Vec<bool> = first.budgets.iter().map(|b| *b == Budget::Drop).collect();
    plan_with(total, max, members, Some(&dropped))
}

/// [`plan`], with the members `dropped` left out from the start.
fn plan_with(total: usize, max: usize, members: &[Member], dropped: Option<&[bool]>) -> Plan {
    let mut plan = Plan {
        budgets: vec![Budget::Keep(None); members.len()],
        left_out_keys: 0,
        left_out_bytes: 0,
    };
    let mut total = total;
    let message = members.iter().position(|m| m.is_message);
    if let Some(dropped) = dropped {
        for (i, m) in members.iter().enumerate().filter(|&(i, _)| dropped[i]) {
            plan.budgets[i] = Budget::Drop;
            plan.left_out_keys += 1;
            plan.left_out_bytes += m.span.len();
            total = total.saturating_sub(m.span.len() + 1);
        }
        // Room for the note saying so, as `leave_out` makes it.
        total += match message {
            Some(i) => {
                let len = members[i].value_len();
                len.max(floor(len)) + NOTE_MAX - len
            }
            None => ",\"message\":\"\"".len() + NOTE_MAX,
        };
    }
    let mut excess = total.saturating_sub(max);
    // The largest values first: a context value longer than every other value (a huge
    // correlation id) gives way before they do, down to the longest of them.
    let longest_other = members
        .iter()
        .enumerate()
        .filter(|&(i, m)| !m.is_context && plan.budgets[i] != Budget::Drop)
        .map(|(_, m)| m.value_len())
        .max()
        .unwrap_or(0);
    excess = plan.shorten(members, true, excess, LONG_CONTEXT_VALUE.max(longest_other));
    excess = plan.shorten(members, false, excess, 0);
    // A context value that is long (a correlation id taken from the event) is shortened before
    // any key is left out; the usual ones (a request id, an ARN) are kept whole.
    excess = plan.shorten(members, true, excess, LONG_CONTEXT_VALUE);
    if dropped.is_some()
        && let Some(i) = message
    {
        let len = members[i].value_len();
        let now = plan.value_size(members, i);
        plan.budgets[i] = Budget::Keep(Some(now.max(floor(len)) + NOTE_MAX));
    }
    for context in [false, true] {
        excess = plan.leave_out(members, context, excess);
        if !context {
            excess = plan.shorten(members, true, excess, 0);
        }
    }
    plan
}

impl Plan {
    /// The planned size of member `i`'s value.
    fn value_size(&self, members: &[Member], i: usize) -> usize {
        match self.budgets[i] {
            Budget::Keep(Some(b)) => b,
            _ => members[i].value_len(),
        }
    }

    /// Shortens the values of one tier (the context keys or the others), those above a common
    /// cap down to it, the cap as high as removes `excess` bytes but not below `min_cap`;
    /// returns what is left to remove. Values already shortened count at their planned size.
    fn shorten(
        &mut self,
        members: &[Member],
        context: bool,
        excess: usize,
        min_cap: usize,
    ) -> usize {
        if excess == 0 {
            return 0;
        }
        let tier: Vec<usize> = (0..members.len())
            .filter(|&i| members[i].is_context == context && self.budgets[i] != Budget::Drop)
            .collect();
        let cost = |cap: usize| -> usize {
            tier.iter()
                .map(|&i| {
                    let now = self.value_size(members, i);
                    now.saturating_sub(cap.max(floor(members[i].value_len())))
                })
                .sum()
        };
        let all = cost(min_cap);
        let (cap, left) = if all > excess {
            // The highest cap that still removes enough: cost(lo) >= excess > cost(hi).
            let mut lo = min_cap;
            let mut hi = tier
                .iter()
                .map(|&i| self.value_size(members, i))
                .max()
                .unwrap_or(0);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if cost(mid) >= excess {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            (lo, 0)
        } else {
            (min_cap, excess - all)
        };
        for &i in &tier {
            let target = cap.max(floor(members[i].value_len()));
            if self.value_size(members, i) > target {
                self.budgets[i] = Budget::Keep(Some(target));
            }
        }
        left
    }

    /// Leaves members of one tier out, the largest first (never `level` or `message`), until
    /// `excess` bytes and the note saying so are gone; returns what is left to remove.
    fn leave_out(&mut self, members: &[Member], context: bool, mut excess: usize) -> usize {
        if excess == 0 {
            return 0;
        }
        if self.left_out_keys == 0 {
            // Room for the note: in the message (which may then have to become a string), or
            // in a `"message"` member of its own.
            match members.iter().position(|m| m.is_message) {
                Some(i) => {
                    let now = self.value_size(members, i);
                    let budget = now.max(floor(members[i].value_len())) + NOTE_MAX;
                    excess += budget - now;
                    self.budgets[i] = Budget::Keep(Some(budget));
                }
                None => excess += ",\"message\":\"\"".len() + NOTE_MAX,
            }
        }
        // Each member's size as planned, with its comma.
        let size = |plan: &Self, i: usize| {
            let m = &members[i];
            (m.value.start - m.span.start) + plan.value_size(members, i) + 1
        };
        let mut order: Vec<(usize, usize)> = (0..members.len())
            .filter(|&i| {
                let m = &members[i];
                m.is_context == context
                    && !m.is_message
                    && !m.is_level
                    && self.budgets[i] != Budget::Drop
            })
            .map(|i| (size(self, i), i))
            .collect();
        order.sort_unstable_by(|a, b| b.cmp(a));
        for (size, i) in order {
            if excess == 0 {
                break;
            }
            excess = excess.saturating_sub(size);
            self.left_out_keys += 1;
            self.left_out_bytes += members[i].span.len();
            self.budgets[i] = Budget::Drop;
        }
        excess
    }
}

/// The top-level members of a JSON object, or `None` when `text` is not one.
fn scan_object(text: &[u8]) -> Option<Vec<Member>> {
    std::str::from_utf8(text).ok()?;
    let mut pos = skip_ws(text, 0);
    if text.get(pos) != Some(&b'{') {
        return None;
    }
    pos = skip_ws(text, pos + 1);
    let mut members = Vec::new();
    if text.get(pos) == Some(&b'}') {
        return (skip_ws(text, pos + 1) == text.len()).then_some(members);
    }
    loop {
        if text.get(pos) != Some(&b'"') {
            return None;
        }
        let start = pos;
        let key_end = skip_string(text, pos)?;
        let key = &text[start + 1..key_end - 1];
        pos = skip_ws(text, key_end);
        if text.get(pos) != Some(&b':') {
            return None;
        }
        pos = skip_ws(text, pos + 1);
        let value_start = pos;
        pos = skip_value(text, pos)?;
        members.push(Member {
            span: start..pos,
            value: value_start..pos,
            is_message: key == b"message",
            is_level: key == b"level",
            is_context: is_context_key(key),
        });
        pos = skip_ws(text, pos);
        match text.get(pos) {
            Some(b',') => pos = skip_ws(text, pos + 1),
            Some(b'}') => {
                return (skip_ws(text, pos + 1) == text.len()).then_some(members);
            }
            _ => return None,
        }
    }
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while matches!(text.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

/// The end (after the closing quote) of the string starting at `pos`.
fn skip_string(text: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of the value starting at `pos`.
fn skip_value(text: &[u8], pos: usize) -> Option<usize> {
    match text.get(pos)? {
        b'"' => skip_string(text, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < text.len() {
                match text[i] {
                    b'"' => {
                        i = skip_string(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while i < text.len()
                && !matches!(text[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            (i > pos).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn fit(value: &Value, max: usize) -> (String, Value) {
        let line = value.to_string();
        let mut out = Vec::new();
        fit_object(line.as_bytes(), max, &mut out).expect("an object");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(text.len() <= max, "{} > {max}", text.len());
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        (text, parsed)
    }

    /// The kept beginning and the number of bytes the marker says were removed.
    fn split_marker(s: &str) -> (&str, usize) {
        let at = s.rfind("\u{2026}[truncated ").expect("a marker");
        let n = s[at..]
            .trim_start_matches("\u{2026}[truncated ")
            .trim_end_matches(" bytes]")
            .parse()
            .expect("a number");
        (&s[..at], n)
    }

    fn assert_shortened(kept: &Value, original: &str) {
        let (prefix, removed) = split_marker(kept.as_str().expect("a string"));
        assert!(original.starts_with(prefix), "kept a beginning");
        assert_eq!(
            prefix.len() + removed,
            original.len(),
            "the marker counts what went"
        );
    }

    #[test]
    fn the_marker_format() {
        let mut out = Vec::new();
        write_marker(&mut out, 123_456);
        assert_eq!(String::from_utf8(out).unwrap(), "…[truncated 123456 bytes]");
        assert_eq!(marker_len(123_456), "…[truncated 123456 bytes]".len());
        assert_eq!(marker_len(0), "…[truncated 0 bytes]".len());
    }

    #[test]
    fn the_largest_values_go_first_and_small_ones_stay_whole() {
        let big = "a".repeat(5_000);
        let medium = "b".repeat(2_000);
        let line =
            json!({"level": "INFO", "message": "m", "big": big, "medium": medium, "small": "s"});
        let (_, v) = fit(&line, 3_000);
        assert_eq!(v["small"], "s");
        assert_eq!(v["message"], "m");
        assert_eq!(v["level"], "INFO");
        assert_shortened(&v["big"], &big);
        // Both over the cap are cut to it: the medium one too, but it keeps more than nothing.
        assert_shortened(&v["medium"], &medium);
        let (kept_big, _) = split_marker(v["big"].as_str().unwrap());
        let (kept_medium, _) = split_marker(v["medium"].as_str().unwrap());
        assert!(
            kept_big.len().abs_diff(kept_medium.len()) <= 2,
            "one cap for both"
        );
        let (_, v) = fit(&line, 6_000);
        assert_eq!(v["medium"], medium, "only the largest when that is enough");
        assert_shortened(&v["big"], &big);
    }

    #[test]
    fn context_keys_are_kept_while_other_values_can_give_way() {
        let corr = "c".repeat(1_000);
        let line = json!({"level": "INFO", "location": "a.rs:1", "message": "x".repeat(4_000),
            "timestamp": "2026-01-01T00:00:00.000Z", "correlation_id": corr, "f": "y".repeat(4_000)});
        let (_, v) = fit(&line, 3_000);
        assert_eq!(v["correlation_id"], corr);
        assert_eq!(v["location"], "a.rs:1");
        // When nothing else is left to shorten, they are shortened too.
        let (_, v) = fit(&line, 400);
        assert_shortened(&v["correlation_id"], &corr);
        assert_eq!(v["level"], "INFO");
    }

    #[test]
    fn never_cuts_a_character_or_an_escape() {
        for unit in ["é", "🚀", "\"", "\\", "\n", "\u{1}", "a\u{2028}"] {
            for max in 200..260 {
                let text = unit.repeat(300);
                let (_, v) = fit(&json!({"level": "INFO", "message": text}), max);
                assert_shortened(&v["message"], &text);
            }
        }
    }

    #[test]
    fn a_surrogate_pair_escape_is_one_character() {
        // Escaped by another writer (a custom formatter): decoded, then written again.
        let line = format!(
            "{{\"level\":\"INFO\",\"message\":\"{}\"}}",
            "\\ud83d\\ude80".repeat(100)
        );
        let mut out = Vec::new();
        fit_object(line.as_bytes(), 200, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_shortened(&v["message"], &"🚀".repeat(100));
    }

    #[test]
    fn objects_and_arrays_become_marked_strings_of_their_json() {
        let payload = json!({"items": (0..500).collect::<Vec<_>>(), "note": "quote \" here"});
        let (_, v) = fit(
            &json!({"level": "INFO", "message": "m", "payload": payload}),
            500,
        );
        assert_shortened(&v["payload"], &payload.to_string());
        // A message that is an object, the same.
        let (_, v) = fit(&json!({"level": "INFO", "message": payload}), 500);
        assert_shortened(&v["message"], &payload.to_string());
    }

    #[test]
    fn with_thousands_of_keys_some_are_left_out_and_the_message_says_so() {
        let mut map = serde_json::Map::new();
        map.insert("level".into(), json!("INFO"));
        map.insert("message".into(), json!("many"));
        for i in 0..2_000 {
            map.insert(format!("key_{i}"), json!(i));
        }
        map.insert("timestamp".into(), json!("2026-01-01T00:00:00.000Z"));
        let (text, v) = fit(&Value::Object(map), 2_000);
        let message = v["message"].as_str().unwrap();
        assert!(message.starts_with("many…[left out "), "{message}");
        assert!(message.ends_with(" bytes]"));
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["timestamp"], "2026-01-01T00:00:00.000Z");
        assert!(text.len() > 1_500, "fills what it can: {}", text.len());
        // Without a message, one is added for the note.
        let mut map = serde_json::Map::new();
        for i in 0..2_000 {
            map.insert(format!("key_{i}"), json!(i));
        }
        let (_, v) = fit(&Value::Object(map), 1_000);
        assert!(v["message"].as_str().unwrap().starts_with("…[left out "));
    }

    #[test]
    fn a_huge_context_value_gives_way_before_a_short_message() {
        let line = json!({
            "level": "INFO",
            "message": "\r\n{\"service\":\"forged\"}",
            "correlation_id": "\u{10000}".repeat(80_000),
        });
        let (_, kept) = fit(&line, 262_118);
        assert_eq!(
            kept["message"], line["message"],
            "the short message stays whole"
        );
        assert_shortened(
            &kept["correlation_id"],
            line["correlation_id"].as_str().unwrap(),
        );
    }

    #[test]
    fn a_huge_context_value_is_shortened_and_no_key_left_out() {
        // A correlation id taken from the event can be anything: longer than the limit alone.
        let corr = "\u{10000}".repeat(2_000);
        let line = json!({"level": "INFO", "location": "a.rs:1", "message": "",
            "correlation_id": corr, "field_level": "", "field_service": "", "xray_trace_id": "1-x"});
        let (_, v) = fit(&line, 2_000);
        assert_shortened(&v["correlation_id"], &corr);
        assert_eq!(v["message"], "", "no key left out: {v}");
        assert_eq!(v["field_level"], "");
        assert_eq!(v["field_service"], "");
        assert_eq!(v["xray_trace_id"], "1-x");
        assert_eq!(v["location"], "a.rs:1");
    }

    #[test]
    fn a_huge_key_is_left_out_rather_than_a_request_id_shortened() {
        let key = "k".repeat(5_000);
        let line = json!({"level": "INFO", "message": "", key.clone(): "",
            "function_request_id": "00000000-0000-4000-8000-000000000749", "kept": 2});
        let total = line.to_string().len();
        let (_, v) = fit(&line, total - 30);
        assert_eq!(
            v["function_request_id"],
            "00000000-0000-4000-8000-000000000749"
        );
        assert!(v.get(&key).is_none());
        assert_eq!(v["kept"], 2);
    }

    #[test]
    fn a_huge_key_is_left_out() {
        let key = "k".repeat(5_000);
        let line = json!({"level": "INFO", "message": "m", key.clone(): 1, "kept": 2});
        let (_, v) = fit(&line, 1_000);
        assert!(v.get(&key).is_none());
        assert_eq!(v["kept"], 2);
    }

    #[test]
    fn values_are_not_shortened_when_leaving_a_huge_key_out_is_enough() {
        let key = "k".repeat(5_000);
        // How `{}` writes a subnormal float, and u128::MAX: long, but numbers.
        let float = "0.".to_owned() + &"0".repeat(320) + "5";
        let line = format!(
            r#"{{"level":"INFO","message":"m","{key}":1,"float":{float},"big":340282366920938463463374607431768211455,"text":"{}"}}"#,
            "t".repeat(300)
        );
        let mut out = Vec::new();
        fit_object(line.as_bytes(), 1_000, &mut out).unwrap();
        assert!(out.len() <= 1_000);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!(r#""float":{float}"#)), "{text}");
        assert!(
            text.contains(r#""big":340282366920938463463374607431768211455"#),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["text"], "t".repeat(300));
        assert!(v.get(&key).is_none());
        let message = v["message"].as_str().unwrap();
        assert!(message.starts_with("m\u{2026}[left out 1 keys, "), "{v}");
    }

    #[test]
    fn non_objects_are_refused_and_text_is_cut_between_characters() {
        let mut out = Vec::new();
        assert!(fit_object(b"[1,2]", 100, &mut out).is_none());
        assert!(fit_object(b"{\"a\":1} x", 100, &mut out).is_none());
        assert!(fit_object(b"{\"a\":", 100, &mut out).is_none());
        let text = "é".repeat(100);
        cut_text(text.as_bytes(), 51, &mut out);
        let cut = String::from_utf8(out).expect("not cut inside a character");
        assert!(cut.len() <= 51);
        let (kept, removed) = split_marker(&cut);
        assert_eq!(kept.len() + removed, text.len());
    }

    #[test]
    fn member_ranges_follow_the_members() {
        let line = br#"{"level":"INFO","message":"m","a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","b":2,"exception":"e"}"#;
        let at = |pat: &[u8]| line.windows(pat.len()).position(|w| w == pat).unwrap();
        let fields = at(b",\"a\":")..at(b",\"exception\"");
        assert_eq!(&line[fields.clone()], br#","a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","b":2"#);
        let mut out = Vec::new();
        let placed = fit_object(line, 100, &mut out).unwrap();
        let new = remap(&fields, &placed);
        let text = std::str::from_utf8(&out[new]).unwrap();
        assert!(
            text.starts_with(",\"a\":\"xx") && text.ends_with(" bytes]\",\"b\":2"),
            "{text}"
        );
        let message = placed.iter().find(|p| p.is_message).unwrap();
        assert_eq!(&out[message.new_value.clone()], b"\"m\"");
        assert_eq!(remap(&(0..0), &placed), 0..0);
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            (any::<String>(), 0usize..200).prop_map(|(s, n)| Value::String(s.repeat(n))),
            ("[\"\\\\\n\u{0}-\u{1f}é🚀\u{2028}a-z]{0,8}", 0usize..300)
                .prop_map(|(s, n)| Value::String(s.repeat(n))),
            any::<i64>().prop_map(Value::from),
            Just(Value::Bool(true)),
            proptest::collection::vec(any::<String>(), 0..60).prop_map(|v| json!({"items": v})),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        #[test]
        fn any_object_fits_with_its_values_kept_or_marked(
            members in proptest::collection::vec(
                (proptest::sample::select(vec![
                    "message", "timestamp", "correlation_id", "a", "b", "c", "exception", "é\"k",
                ]), value()),
                0..12,
            ),
            extra_keys in 0usize..400,
            max in 300usize..6_000,
        ) {
            let mut map = serde_json::Map::new();
            map.insert("level".into(), json!("INFO"));
            for (k, v) in members {
                map.insert(k.to_owned(), v);
            }
            for i in 0..extra_keys {
                map.insert(format!("k{i}"), json!(i));
            }
            let original = Value::Object(map);
            let line = original.to_string();
            let mut out = Vec::new();
            fit_object(line.as_bytes(), max, &mut out).expect("an object");
            proptest::prop_assert!(out.len() <= max || line.len() <= max, "{} > {max}", out.len());
            let fitted: Value = serde_json::from_slice(&out).expect("valid JSON");
            proptest::prop_assert_eq!(&fitted["level"], "INFO");
            for (k, v) in fitted.as_object().unwrap() {
                let Some(before) = original.get(k) else {
                    proptest::prop_assert_eq!(k, "message", "only a note is added");
                    continue;
                };
                if v == before {
                    continue;
                }
                let text = v.as_str().expect("a shortened value is a string");
                let whole = before.as_str().map_or_else(|| before.to_string(), str::to_owned);
                let text = match text.rfind("\u{2026}[left out ") {
                    Some(at) if k == "message" => &text[..at],
                    _ => text,
                };
                if text == whole {
                    continue;
                }
                let (prefix, removed) = split_marker(text);
                proptest::prop_assert!(whole.starts_with(prefix));
                proptest::prop_assert_eq!(prefix.len() + removed, whole.len());
            }
        }
    }
}
