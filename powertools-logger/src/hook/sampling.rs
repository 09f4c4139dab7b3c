//! The per-invocation sampling draw.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static DRAWS: AtomicU64 = AtomicU64::new(0);

/// A uniform draw in `[0, 1)`: std's randomly keyed hasher over a counter and the clock. Not for
/// cryptography; plenty for deciding which invocations log at DEBUG.
pub(crate) fn draw() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(DRAWS.fetch_add(1, Ordering::Relaxed));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether an invocation is sampled at `rate`.
pub(crate) fn is_sampled(rate: f64) -> bool {
    rate >= 1.0 || (rate > 0.0 && draw() < rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough() {
        let n = 20_000;
        let hits = (0..n).filter(|_| is_sampled(0.25)).count();
        // 0.25 ± 5σ (σ ≈ 0.003 at n = 20 000).
        let share = hits as f64 / f64::from(n);
        assert!((0.235..0.265).contains(&share), "{share}");
        assert!((0..100).all(|_| !is_sampled(0.0)));
        assert!((0..100).all(|_| is_sampled(1.0)));
    }
}
