//! Cold-start detection: true for the first invocation a process serves, and never when the
//! environment was pre-initialised by provisioned concurrency.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::InitializationType;

/// Decides which invocation of a process is the cold one.
///
/// The process has one of these ([`ColdStart::global`]); the invocation layer asks it once per
/// invocation. Under `run_concurrent` several invocations may start at once: exactly one of them
/// is cold.
///
/// # Example
/// ```
/// use powertools_core::ColdStart;
/// use powertools_core::config::InitializationType;
///
/// let detector = ColdStart::new(InitializationType::OnDemand);
/// assert!(detector.take());
/// assert!(!detector.take());
///
/// let provisioned = ColdStart::new(InitializationType::ProvisionedConcurrency);
/// assert!(!provisioned.take());
/// ```
#[derive(Debug)]
pub struct ColdStart {
    pending: AtomicBool,
}

static GLOBAL: std::sync::LazyLock<ColdStart> = std::sync::LazyLock::new(|| {
    ColdStart::new(crate::PowertoolsConfig::global().lambda.initialization_type)
});

impl ColdStart {
    /// A detector for a process initialised the given way.
    pub fn new(initialization: InitializationType) -> Self {
        Self {
            pending: AtomicBool::new(initialization != InitializationType::ProvisionedConcurrency),
        }
    }

    /// The process's detector, configured from `AWS_LAMBDA_INITIALIZATION_TYPE`.
    pub fn global() -> &'static ColdStart {
        &GLOBAL
    }

    /// Whether the calling invocation is the cold one. True at most once per detector.
    pub fn take(&self) -> bool {
        self.pending.swap(false, Ordering::AcqRel)
    }

    /// Whether the next call to [`ColdStart::take`] would return true (does not consume it).
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn first_invocation_only() {
        let c = ColdStart::new(InitializationType::OnDemand);
        assert!(c.is_pending());
        assert!(c.take());
        assert!(!c.is_pending());
        assert!((0..10).all(|_| !c.take()));
    }

    #[test]
    fn snap_start_restores_count_as_cold() {
        assert!(ColdStart::new(InitializationType::SnapStart).take());
    }

    #[test]
    fn never_under_provisioned_concurrency() {
        let c = ColdStart::new(InitializationType::ProvisionedConcurrency);
        assert!((0..10).all(|_| !c.take()));
    }

    #[test]
    fn exactly_one_cold_among_concurrent_invocations() {
        let c = Arc::new(ColdStart::new(InitializationType::OnDemand));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || c.take())
            })
            .collect();
        let cold = handles
            .into_iter()
            .filter(|_| true)
            .map(|h| h.join().unwrap())
            .filter(|cold| *cold)
            .count();
        assert_eq!(cold, 1);
    }
}
