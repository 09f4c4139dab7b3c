//! Hand-written JSON output into a reused byte buffer: string escaping, numbers, and
//! re-spacing (compacting or indenting) JSON text that is already valid.

use std::fmt;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether the byte can be copied into a JSON string as is.
#[inline]
fn is_plain(b: u8) -> bool {
    b >= 0x20 && b != b'"' && b != b'\\'
}

/// Appends the escaped text of `s` (without quotes).
#[inline]
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_plain(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `s` as a quoted JSON string.
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Appends `,"key":` (escaping the key).
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    escape_into(out, key);
    out.extend_from_slice(b"\":");
}

/// Appends an unsigned integer.
#[inline]
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends a signed integer.
#[inline]
pub(crate) fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// Appends a float: a JSON number when finite, else the string `"NaN"`, `"inf"` or `"-inf"`
/// (JSON has no such numbers).
pub(crate) fn write_f64(out: &mut Vec<u8>, n: f64) {
    use std::io::Write as _;
    if n.is_finite() {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{n}");
    } else if n.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if n > 0.0 {
        out.extend_from_slice(b"\"inf\"");
    } else {
        out.extend_from_slice(b"\"-inf\"");
    }
}

/// A `fmt::Write` that escapes what is written into a JSON string body.
pub(crate) struct EscapingWriter<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for EscapingWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// Appends `value`'s `Debug` output as a quoted JSON string, without allocating.
pub(crate) fn write_debug(out: &mut Vec<u8>, value: &dyn fmt::Debug) {
    use fmt::Write as _;
    out.push(b'"');
    // A Debug impl that fails leaves what it wrote so far: still a valid string.
    let _ = write!(EscapingWriter(out), "{value:?}");
    out.push(b'"');
}

/// Appends `value`'s `Display` output as a quoted JSON string, without allocating.
pub(crate) fn write_display(out: &mut Vec<u8>, value: &dyn fmt::Display) {
    use fmt::Write as _;
    out.push(b'"');
    let _ = write!(EscapingWriter(out), "{value}");
    out.push(b'"');
}

/// Whether `text` is a JSON object (what a message that "is JSON" must be to stay structured).
///
/// Only JSON's own whitespace may surround it: `str::trim` would also strip U+2028 and other
/// Unicode spaces, which `write_compact` keeps, and the line would not be JSON.
pub(crate) fn is_json_object(text: &str) -> bool {
    let t = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    t.starts_with('{')
        && t.ends_with('}')
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// Appends valid JSON text with the whitespace outside strings removed (one line).
pub(crate) fn write_compact(out: &mut Vec<u8>, json: &str) {
    let mut in_string = false;
    let mut escaped = false;
    for &b in json.as_bytes() {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'"' => {
                    in_string = true;
                    out.push(b);
                }
                _ => out.push(b),
            }
        }
    }
}

/// Appends compact, valid JSON text re-indented with two spaces (`POWERTOOLS_DEV`).
pub(crate) fn write_indented(out: &mut Vec<u8>, json: &[u8]) {
    fn newline(out: &mut Vec<u8>, depth: usize) {
        out.push(b'\n');
        out.resize(out.len() + depth * 2, b' ');
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut iter = json.iter().peekable();
    while let Some(&b) = iter.next() {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                out.push(b);
                let close = if b == b'{' { b'}' } else { b']' };
                if iter.peek() == Some(&&close) {
                    out.push(close);
                    iter.next();
                } else {
                    depth += 1;
                    newline(out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_whitespace_around_an_object_message() {
        assert!(is_json_object(" \t\r\n{\"a\": 1}\n "));
        for text in [
            "\u{2028}{\"level\":\"ERROR\"}",
            "{}\u{2029}",
            "\u{a0}{}",
            "\u{3000}{}",
        ] {
            assert!(!is_json_object(text), "{text:?}");
        }
    }

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(escaped("plain"), "\"plain\"");
        assert_eq!(escaped("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(escaped("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(escaped("\u{0}\u{1f}\u{8}\u{c}"), r#""\u0000\u001f\b\f""#);
        assert_eq!(escaped("héllo ✓ 🚀"), "\"héllo ✓ 🚀\"");
        for s in ["", "\u{7f}", "\u{2028}", "\"\"\"", "\\"] {
            let parsed: String = serde_json::from_str(&escaped(s)).unwrap();
            assert_eq!(parsed, s);
        }
    }

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        for (n, text) in [(0i64, "0"), (-1, "-1"), (i64::MIN, "-9223372036854775808")] {
            out.clear();
            write_i64(&mut out, n);
            assert_eq!(out, text.as_bytes());
        }
        out.clear();
        write_u64(&mut out, u64::MAX);
        assert_eq!(out, b"18446744073709551615");
        for (f, text) in [
            (12.5, "12.5"),
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"inf\""),
            (f64::NEG_INFINITY, "\"-inf\""),
        ] {
            out.clear();
            write_f64(&mut out, f);
            assert_eq!(String::from_utf8_lossy(&out), text);
        }
    }

    #[test]
    fn json_objects_are_recognised_and_compacted() {
        assert!(is_json_object(" {\"a\": [1, 2]}\n"));
        assert!(!is_json_object("{not json}"));
        assert!(!is_json_object("[1]"));
        let mut out = Vec::new();
        write_compact(&mut out, "{\n  \"a b\": [1, 2],\n \"c\": \"x \\\" y\"\n}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a b":[1,2],"c":"x \" y"}"#
        );
    }

    #[test]
    fn indents_compact_json() {
        let mut out = Vec::new();
        write_indented(&mut out, br#"{"a":1,"b":{},"c":[1,{"d":"x,{"}]}"#);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": 1,\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": \"x,{\"\n    }\n  ]\n}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["c"][1]["d"], "x,{");
    }
}
