//! Subsegment ids: 64 random bits written as 16 lowercase hex digits.
//!
//! The generator is a per-thread wyrand, seeded once per thread from the standard library's
//! randomly keyed hasher, the time and the thread: a few nanoseconds per id, no locking, no
//! dependency. Ids need to be unique within a trace, not unpredictable.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(elapsed) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(elapsed.as_nanos());
    }
    hasher.write_u64(std::process::id().into());
    std::hash::Hash::hash(&std::thread::current().id(), &mut hasher);
    hasher.finish()
}

/// The next 64 random bits of this thread's generator (wyrand).
pub(crate) fn random_u64() -> u64 {
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

/// The id of a subsegment: 64 bits, never zero, shown as 16 lowercase hex digits.
///
/// # Example
/// ```
/// use powertools_tracer::SubsegmentId;
///
/// let id = SubsegmentId::random();
/// let text = id.to_string();
/// assert_eq!(text.len(), 16);
/// assert!(text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
/// assert_eq!(text.parse::<SubsegmentId>(), Ok(id));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubsegmentId(u64);

impl SubsegmentId {
    /// A fresh random id.
    pub fn random() -> Self {
        loop {
            let v = random_u64();
            if v != 0 {
                return Self(v);
            }
        }
    }

    /// The id with the given bits; `None` for zero, which X-Ray does not accept.
    pub fn from_u64(value: u64) -> Option<Self> {
        (value != 0).then_some(Self(value))
    }

    /// The id's bits.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The id as 16 lowercase hex digits, without allocating.
    pub fn to_hex(self) -> [u8; 16] {
        hex16(self.0)
    }
}

/// `value` as 16 lowercase hex digits.
pub(crate) fn hex16(value: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

impl fmt::Display for SubsegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        // Only ASCII hex digits are ever written.
        f.write_str(std::str::from_utf8(&hex).unwrap_or("0000000000000001"))
    }
}

impl fmt::Debug for SubsegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubsegmentId({self})")
    }
}

/// Why a string is not a [`SubsegmentId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a subsegment id (16 hex digits, not all zero)")]
pub struct ParseSubsegmentIdError(pub String);

impl std::str::FromStr for SubsegmentId {
    type Err = ParseSubsegmentIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSubsegmentIdError(s.to_owned());
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        u64::from_str_radix(s, 16)
            .ok()
            .and_then(Self::from_u64)
            .ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_16_lowercase_hex_and_distinct() {
        let ids: HashSet<String> = (0..10_000)
            .map(|_| SubsegmentId::random().to_string())
            .collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            assert_eq!(id.len(), 16);
            assert!(
                id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{id}"
            );
        }
    }

    #[test]
    fn hex_is_zero_padded_and_big_endian() {
        assert_eq!(
            SubsegmentId::from_u64(1).unwrap().to_string(),
            "0000000000000001"
        );
        assert_eq!(
            SubsegmentId::from_u64(0x5399_5c3f_42cd_8ad8)
                .unwrap()
                .to_string(),
            "53995c3f42cd8ad8"
        );
        assert_eq!(
            SubsegmentId::from_u64(u64::MAX).unwrap().to_string(),
            "ffffffffffffffff"
        );
        assert!(SubsegmentId::from_u64(0).is_none());
    }

    #[test]
    fn parsing_is_strict() {
        assert!("53995C3F42CD8AD8".parse::<SubsegmentId>().is_ok());
        for bad in [
            "",
            "53995c3f42cd8ad",
            "53995c3f42cd8ad8a",
            "0000000000000000",
            "+3995c3f42cd8ad8",
            "53995c3f42cd8adg",
        ] {
            assert!(bad.parse::<SubsegmentId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn threads_get_different_sequences() {
        let a = std::thread::spawn(|| (0..4).map(|_| random_u64()).collect::<Vec<_>>())
            .join()
            .unwrap();
        let b = std::thread::spawn(|| (0..4).map(|_| random_u64()).collect::<Vec<_>>())
            .join()
            .unwrap();
        assert_ne!(a, b);
    }
}
