//! Which level wins: code, `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL`, `RUST_LOG`, and Lambda's
//! `AWS_LAMBDA_LOG_LEVEL` over all of them.

use powertools_core::config::LogLevel;
use tracing::level_filters::LevelFilter;

/// The outcome of [`resolve_level`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelResolution {
    /// The level lines are written at.
    pub level: LevelFilter,
    /// `AWS_LAMBDA_LOG_LEVEL`, the cap no directive or sampling may exceed.
    pub lambda_cap: Option<LevelFilter>,
    /// The level the user set (in code, `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL` or `RUST_LOG`) when
    /// Lambda's overrode it with a less verbose one (the user is warned once). `None` when no
    /// level was set: the default INFO giving way to Lambda's level is no news.
    pub overridden: Option<LevelFilter>,
}

/// Resolves the log level: the level set in code, else `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`
/// (both in `powertools`), else the bare level of `RUST_LOG`, else INFO; then
/// `AWS_LAMBDA_LOG_LEVEL`, when set, wins.
///
/// # Example
/// ```
/// use powertools_core::config::LogLevel;
/// use powertools_logger::resolve_level;
/// use tracing::level_filters::LevelFilter;
///
/// let r = resolve_level(None, Some(LogLevel::Debug), Some(LogLevel::Warn), None);
/// assert_eq!(r.level, LevelFilter::WARN);
/// assert_eq!(r.overridden, Some(LevelFilter::DEBUG));
///
/// let r = resolve_level(None, None, None, Some(LevelFilter::ERROR));
/// assert_eq!(r.level, LevelFilter::ERROR);
/// ```
pub fn resolve_level(
    explicit: Option<LogLevel>,
    powertools: Option<LogLevel>,
    lambda: Option<LogLevel>,
    rust_log_default: Option<LevelFilter>,
) -> LevelResolution {
    let set = explicit
        .or(powertools)
        .map(|l| LevelFilter::from_level(l.to_tracing()))
        .or(rust_log_default);
    match lambda.map(|l| LevelFilter::from_level(l.to_tracing())) {
        None => LevelResolution {
            level: set.unwrap_or(LevelFilter::INFO),
            lambda_cap: None,
            overridden: None,
        },
        Some(cap) => LevelResolution {
            level: cap,
            lambda_cap: Some(cap),
            overridden: set.filter(|&ours| ours > cap),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let r = resolve_level(None, None, None, None);
        assert_eq!(r.level, LevelFilter::INFO);
        let r = resolve_level(Some(LogLevel::Error), Some(LogLevel::Debug), None, None);
        assert_eq!(r.level, LevelFilter::ERROR);
        let r = resolve_level(None, Some(LogLevel::Debug), None, Some(LevelFilter::ERROR));
        assert_eq!(r.level, LevelFilter::DEBUG);
        // Lambda wins in both directions; only a more verbose level of ours is reported.
        let r = resolve_level(None, Some(LogLevel::Error), Some(LogLevel::Debug), None);
        assert_eq!((r.level, r.overridden), (LevelFilter::DEBUG, None));
        // No level set: the default INFO under Lambda's WARN or ERROR is not an override.
        for lambda in [LogLevel::Warn, LogLevel::Error] {
            let r = resolve_level(None, None, Some(lambda), None);
            assert_eq!(r.overridden, None, "{lambda:?}");
            assert_eq!(r.level, LevelFilter::from_level(lambda.to_tracing()));
        }
        let r = resolve_level(Some(LogLevel::Info), None, Some(LogLevel::Error), None);
        assert_eq!(r.overridden, Some(LevelFilter::INFO), "INFO set in code");
        let r = resolve_level(None, None, Some(LogLevel::Warn), Some(LevelFilter::DEBUG));
        assert_eq!(r.overridden, Some(LevelFilter::DEBUG), "RUST_LOG=debug");
        let r = resolve_level(None, Some(LogLevel::Trace), Some(LogLevel::Info), None);
        assert_eq!(
            (r.level, r.lambda_cap, r.overridden),
            (
                LevelFilter::INFO,
                Some(LevelFilter::INFO),
                Some(LevelFilter::TRACE)
            )
        );
    }
}
