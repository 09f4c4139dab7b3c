//! The few JSON writing primitives the documents need, appending to a byte buffer.

use serde::Serialize;

/// Appends `s` as a JSON string.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail, and a &str always serialises.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Appends `"key":`.
pub(crate) fn key(out: &mut Vec<u8>, k: &str) {
    string(out, k);
    out.push(b':');
}

/// Appends any serialisable value; `null` if it fails to serialise.
pub(crate) fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    let mark = out.len();
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.truncate(mark);
        out.extend_from_slice(b"null");
    }
}

/// Appends an unsigned integer.
pub(crate) fn uint(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float; `null` for NaN and infinities, which JSON cannot hold.
pub(crate) fn float(out: &mut Vec<u8>, v: f64) {
    value(out, &v);
}

/// Appends epoch microseconds as epoch seconds with six decimals (`1795503914.507123`), exact.
pub(crate) fn epoch_seconds(out: &mut Vec<u8>, micros: u64) {
    uint(out, micros / 1_000_000);
    let frac = micros % 1_000_000;
    let mut digits = [b'0'; 7];
    digits[0] = b'.';
    let mut rest = frac;
    for slot in digits[1..].iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_keep_microseconds() {
        let mut out = Vec::new();
        epoch_seconds(&mut out, 1_795_503_914_000_042);
        assert_eq!(out, b"1795503914.000042");
        out.clear();
        epoch_seconds(&mut out, 1_795_503_914_507_123);
        let parsed: f64 = std::str::from_utf8(&out).unwrap().parse().unwrap();
        assert!((parsed - 1_795_503_914.507_123).abs() < 1e-6);
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\n\u{1}");
        assert_eq!(out, br#""a\"b\\c\n\u0001""#);
        out.clear();
        float(&mut out, f64::NAN);
        assert_eq!(out, b"null");
    }
}
