//! The few JSON writing primitives the EMF renderer needs, appending to a byte buffer without
//! allocating.

/// Appends `s` as a JSON string literal (quotes included).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The length of `s` as a JSON string literal, quotes included, as [`write_str`] writes it.
pub(crate) fn escaped_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        return bytes.len() + 2;
    }
    2 + bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Whether any byte is a control character, `"` or `\\`; eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // A byte below 0x20 (exact for thresholds up to 0x80), or equal to `"` or `\\`.
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
        if below_space
            || has_zero(x ^ (ONES * u64::from(b'"')))
            || has_zero(x ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends a finite number: integral values below 2^53 as integers (`1`, not `1.0`), others in
/// the shortest form that reads back exactly.
#[inline]
pub(crate) fn write_f64(out: &mut Vec<u8>, value: f64) {
    // The commonest values (counts) are small non-negative integers: `-0.0` passes too and is
    // written `0`, as the general path writes it.
    #[allow(clippy::float_cmp)] // exactness is the point: is the value an integer?
    if (0.0..10_000.0).contains(&value) && f64::from(value as u16) == value {
        write_small(out, value as u16);
        return;
    }
    write_f64_general(out, value);
}

/// Appends an integer below 10,000.
#[inline]
fn write_small(out: &mut Vec<u8>, value: u16) {
    if value < 10 {
        out.push(b'0' + value as u8);
    } else if value < 100 {
        out.extend_from_slice(&digit_pair(value));
    } else {
        let (high, low) = (value / 100, value % 100);
        if high < 10 {
            out.push(b'0' + high as u8);
        } else {
            out.extend_from_slice(&digit_pair(high));
        }
        out.extend_from_slice(&digit_pair(low));
    }
}

/// The two digits of `n` (below 100).
fn digit_pair(n: u16) -> [u8; 2] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
                                2021222324252627282930313233343536373839\
                                4041424344454647484950515253545556575859\
                                6061626364656667686970717273747576777879\
                                8081828384858687888990919293949596979899";
    let i = 2 * usize::from(n);
    [PAIRS[i], PAIRS[i + 1]]
}

/// [`write_f64`] for any other value, kept out of line.
#[inline(never)]
fn write_f64_general(out: &mut Vec<u8>, value: f64) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    #[allow(clippy::float_cmp)] // exactness is the point: is the value an integer?
    let integral = value.abs() < EXACT && (value as i64) as f64 == value;
    if integral {
        write_i64(out, value as i64);
    } else if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        // Values are checked when recorded; never reached.
        out.extend_from_slice(b"null");
    }
}

/// Appends an integer.
pub(crate) fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u64(out, value.unsigned_abs());
}

/// Appends an unsigned integer.
pub(crate) fn write_u64(out: &mut Vec<u8>, value: u64) {
    // Small integers (counts, mostly) are the commonest values: written from a table of digit
    // pairs, sparing the general formatter's setup and copy.
    if value < 10_000 {
        write_small(out, value as u16);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    fn number(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for s in [
            "",
            "plain",
            "quote\"back\\slash",
            "nl\ncr\rtab\t\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "unicode é 日本 🎉",
        ] {
            assert_eq!(string(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn escape_detection_in_every_position() {
        for len in 0..20 {
            for pos in 0..len {
                for special in [b'"', b'\\', b'\n', 0u8, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes[pos] = special;
                    assert!(needs_escape(&bytes), "{bytes:?}");
                }
                let plain: Vec<u8> = (0..len)
                    .map(|i| b' ' + (i as u8 * 7) % 60)
                    .filter(|b| *b != b'"')
                    .collect();
                assert!(!needs_escape(&plain), "{plain:?}");
            }
        }
        assert!(
            !needs_escape("é日本🎉 plain text!".as_bytes()),
            "UTF-8 needs no escaping"
        );
    }

    #[test]
    fn integers_are_written_like_itoa() {
        let mut cases: Vec<i64> = (-1200..1200).collect();
        cases.extend([
            9_999,
            10_000,
            10_001,
            99_999,
            123_456_789,
            -10_000,
            i64::MAX,
            i64::MIN,
        ]);
        for v in cases {
            let mut out = b"x".to_vec();
            write_i64(&mut out, v);
            assert_eq!(out, format!("x{v}").as_bytes(), "{v}");
        }
        for v in [0, 9, 10, 99, 100, 999, 1000, 9_999, 10_000, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes(), "{v}");
        }
    }

    #[test]
    fn small_integers_are_written_like_other_numbers() {
        let mut cases: Vec<f64> = (-200..12_000).map(f64::from).collect();
        cases.extend([
            -0.0,
            0.5,
            9_999.5,
            9_999.999_999_999,
            1e-300,
            10_000.0,
            65_536.0,
        ]);
        for v in cases {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            write_f64(&mut fast, v);
            write_f64_general(&mut general, v);
            assert_eq!(fast, general, "{v}");
        }
    }

    #[test]
    fn numbers_read_back_exactly() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(-42.0), "-42");
        assert_eq!(number(0.5), "0.5");
        for v in [
            0.1,
            1e300,
            -1e-300,
            9_007_199_254_740_992.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let back: f64 = serde_json::from_str(&number(v)).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
    }
}
