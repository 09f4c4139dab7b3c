//! Parsers for the values of `POWERTOOLS_*` and Lambda environment variables.

use std::fmt;
use std::str::FromStr;

/// A value that could not be parsed from an environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not {expected}")]
pub struct EnvValueError {
    /// The variable's name.
    pub variable: &'static str,
    /// The value found.
    pub value: String,
    /// What was expected, in words.
    pub expected: &'static str,
}

/// Parses a boolean the way every Powertools peer does: `true/false/1/0/yes/no/on/off`, any case,
/// surrounding spaces ignored.
///
/// ```
/// use powertools_core::config::parse_bool;
/// assert_eq!(parse_bool(" YES "), Some(true));
/// assert_eq!(parse_bool("off"), Some(false));
/// assert_eq!(parse_bool("maybe"), None);
/// ```
pub fn parse_bool(value: &str) -> Option<bool> {
    let v = value.trim();
    for t in ["true", "1", "yes", "on"] {
        if v.eq_ignore_ascii_case(t) {
            return Some(true);
        }
    }
    for f in ["false", "0", "no", "off"] {
        if v.eq_ignore_ascii_case(f) {
            return Some(false);
        }
    }
    None
}

/// A log level as written in `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL` or `AWS_LAMBDA_LOG_LEVEL`.
///
/// Accepts the `tracing` names and the Python/Lambda ones: `WARNING` is [`LogLevel::Warn`],
/// `CRITICAL` and `FATAL` are [`LogLevel::Error`] (Rust has nothing above ERROR). Any case.
///
/// ```
/// use powertools_core::config::LogLevel;
/// assert_eq!("warning".parse(), Ok(LogLevel::Warn));
/// assert_eq!("FATAL".parse(), Ok(LogLevel::Error));
/// assert!("loud".parse::<LogLevel>().is_err());
/// assert!(LogLevel::Debug > LogLevel::Info, "more verbose compares greater");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// The default.
    Info,
    /// Debug and above.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The level's `tracing` name (`WARN`, not `WARNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "ERROR",
            Self::Warn => "WARN",
            Self::Info => "INFO",
            Self::Debug => "DEBUG",
            Self::Trace => "TRACE",
        }
    }

    /// The matching `tracing` level.
    pub fn to_tracing(self) -> tracing::Level {
        match self {
            Self::Error => tracing::Level::ERROR,
            Self::Warn => tracing::Level::WARN,
            Self::Info => tracing::Level::INFO,
            Self::Debug => tracing::Level::DEBUG,
            Self::Trace => tracing::Level::TRACE,
        }
    }
}

impl From<tracing::Level> for LogLevel {
    fn from(level: tracing::Level) -> Self {
        match level {
            tracing::Level::ERROR => Self::Error,
            tracing::Level::WARN => Self::Warn,
            tracing::Level::INFO => Self::Info,
            tracing::Level::DEBUG => Self::Debug,
            tracing::Level::TRACE => Self::Trace,
        }
    }
}

/// The error of parsing a [`LogLevel`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a log level (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL)")]
pub struct ParseLogLevelError(pub String);

impl FromStr for LogLevel {
    type Err = ParseLogLevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let table = [
            ("TRACE", Self::Trace),
            ("DEBUG", Self::Debug),
            ("INFO", Self::Info),
            ("WARN", Self::Warn),
            ("WARNING", Self::Warn),
            ("ERROR", Self::Error),
            ("CRITICAL", Self::Error),
            ("FATAL", Self::Error),
        ];
        table
            .iter()
            .find(|(name, _)| t.eq_ignore_ascii_case(name))
            .map(|(_, l)| *l)
            .ok_or_else(|| ParseLogLevelError(s.to_owned()))
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the execution environment was initialised (`AWS_LAMBDA_INITIALIZATION_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InitializationType {
    /// A cold start caused by an invocation (the default).
    #[default]
    OnDemand,
    /// Pre-initialised by provisioned concurrency: no invocation is ever a cold start.
    ProvisionedConcurrency,
    /// Restored from a SnapStart snapshot.
    SnapStart,
}

impl FromStr for InitializationType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "on-demand" => Ok(Self::OnDemand),
            "provisioned-concurrency" => Ok(Self::ProvisionedConcurrency),
            "snap-start" => Ok(Self::SnapStart),
            _ => Err(()),
        }
    }
}
