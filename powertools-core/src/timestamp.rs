//! RFC 3339 timestamps with milliseconds in UTC (`2026-11-24T06:25:37.113Z`), formatted without
//! allocating: the `timestamp` key of every log line.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time with millisecond precision, displayed as RFC 3339 UTC.
///
/// # Example
/// ```
/// use powertools_core::Timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = Timestamp::from(UNIX_EPOCH + Duration::from_millis(1_795_503_914_507));
/// assert_eq!(t.to_string(), "2026-11-24T07:05:14.507Z");
/// assert_eq!(t.as_str_buf().as_str(), "2026-11-24T07:05:14.507Z");
/// assert_eq!(t.epoch_millis(), 1_795_503_914_507);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: u64,
}

/// The formatted text of a [`Timestamp`], held inline (24 bytes, no heap).
#[derive(Clone, Copy)]
pub struct TimestampBuf {
    bytes: [u8; 24],
}

impl TimestampBuf {
    /// The text, e.g. `2026-11-24T07:05:14.507Z`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.bytes).unwrap_or("1970-01-01T00:00:00.000Z")
    }
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Milliseconds since the Unix epoch (the EMF `Timestamp`).
    pub fn epoch_millis(self) -> u64 {
        self.millis
    }

    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub fn from_epoch_millis(millis: u64) -> Self {
        Self { millis }
    }

    /// Formats into an inline buffer.
    pub fn as_str_buf(self) -> TimestampBuf {
        let secs = self.millis / 1000;
        let ms = (self.millis % 1000) as u32;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days as i64);
        let (h, m, s) = (
            (rem / 3600) as u32,
            ((rem % 3600) / 60) as u32,
            (rem % 60) as u32,
        );
        let mut bytes = *b"0000-00-00T00:00:00.000Z";
        let year = year.clamp(0, 9999) as u32;
        put(&mut bytes[0..4], year);
        put(&mut bytes[5..7], month);
        put(&mut bytes[8..10], day);
        put(&mut bytes[11..13], h);
        put(&mut bytes[14..16], m);
        put(&mut bytes[17..19], s);
        put(&mut bytes[20..23], ms);
        TimestampBuf { bytes }
    }
}

fn put(slot: &mut [u8], mut value: u32) {
    for b in slot.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let millis = t
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis();
        Self {
            millis: u64::try_from(millis).unwrap_or(u64::MAX),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str_buf().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_001, "2000-02-29T00:00:00.001Z"),
            (1_795_503_914_507, "2026-11-24T07:05:14.507Z"),
            (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(Timestamp::from_epoch_millis(ms).to_string(), text);
        }
    }

    #[test]
    fn before_epoch_clamps_to_epoch() {
        let t = Timestamp::from(UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(t.epoch_millis(), 0);
    }
}
