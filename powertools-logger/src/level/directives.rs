//! `RUST_LOG`-style directives: `info,my_crate=debug,hyper=warn`.

use std::fmt;
use std::str::FromStr;

use powertools_core::config::LogLevel;
use tracing::level_filters::LevelFilter;

/// A directive that could not be parsed (it is skipped, with a warning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a log directive (LEVEL, TARGET or TARGET=LEVEL)")]
pub struct DirectiveError(pub String);

/// A default level and per-target levels, the subset of `RUST_LOG` syntax that filters by
/// target: comma-separated `LEVEL`, `TARGET=LEVEL` or `TARGET` (= TRACE). A target matches
/// itself and every target it is a prefix of; the longest match wins. Levels: `off`, `error`,
/// `warn`, `info`, `debug`, `trace` and the Lambda/Python names (`WARNING`, `CRITICAL`, `FATAL`).
///
/// # Example
/// ```
/// use powertools_logger::Directives;
/// use tracing::level_filters::LevelFilter;
///
/// let (d, errors) = Directives::parse("warn,my_app=debug,my_app::db=off,=bad=");
/// assert_eq!(errors.len(), 1);
/// assert_eq!(d.default_level(), Some(LevelFilter::WARN));
/// assert_eq!(d.level_for("my_app::handler", LevelFilter::INFO), LevelFilter::DEBUG);
/// assert_eq!(d.level_for("my_app::db::pool", LevelFilter::INFO), LevelFilter::OFF);
/// // No directive for the target: the level given (the resolved log level).
/// assert_eq!(d.level_for("hyper", LevelFilter::INFO), LevelFilter::INFO);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    default: Option<LevelFilter>,
    /// Longest target first.
    targets: Vec<(String, LevelFilter)>,
}

fn parse_level(text: &str) -> Option<LevelFilter> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("off") {
        return Some(LevelFilter::OFF);
    }
    t.parse::<LogLevel>()
        .ok()
        .map(|l| LevelFilter::from_level(l.to_tracing()))
}

fn is_target(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
}

impl Directives {
    /// Parses directives, returning those that did not parse instead of failing.
    pub fn parse(text: &str) -> (Self, Vec<DirectiveError>) {
        let mut directives = Self::default();
        let mut errors = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let parsed = match part.split_once('=') {
                Some((target, level)) => match parse_level(level) {
                    Some(level) if is_target(target.trim()) => Some((Some(target.trim()), level)),
                    _ => None,
                },
                None => match parse_level(part) {
                    Some(level) => Some((None, level)),
                    None if is_target(part) => Some((Some(part), LevelFilter::TRACE)),
                    None => None,
                },
            };
            match parsed {
                Some((None, level)) => directives.default = Some(level),
                Some((Some(target), level)) => directives.set(target, level),
                None => errors.push(DirectiveError(part.to_owned())),
            }
        }
        (directives, errors)
    }

    /// Sets the level of one target.
    pub fn set(&mut self, target: &str, level: LevelFilter) {
        if let Some(slot) = self.targets.iter_mut().find(|(t, _)| t == target) {
            slot.1 = level;
        } else {
            self.targets.push((target.to_owned(), level));
            self.targets
                .sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        }
    }

    /// The bare level given, if any.
    pub fn default_level(&self) -> Option<LevelFilter> {
        self.default
    }

    /// Adds `other`'s directives, which win over these.
    pub fn merge(&mut self, other: &Directives) {
        if other.default.is_some() {
            self.default = other.default;
        }
        for (target, level) in &other.targets {
            self.set(target, *level);
        }
    }

    /// The level for `target`: its longest matching directive, else `default`.
    pub fn level_for(&self, target: &str, default: LevelFilter) -> LevelFilter {
        self.targets
            .iter()
            .find(|(t, _)| target.starts_with(t.as_str()))
            .map_or(default, |(_, l)| *l)
    }

    /// The most verbose level of any target directive.
    pub fn max_target_level(&self) -> LevelFilter {
        self.targets
            .iter()
            .map(|(_, l)| *l)
            .max()
            .unwrap_or(LevelFilter::OFF)
    }

    /// Makes no directive more verbose than `cap`; returns whether any was.
    pub fn cap(&mut self, cap: LevelFilter) -> bool {
        let mut capped = false;
        for (_, level) in &mut self.targets {
            if *level > cap {
                *level = cap;
                capped = true;
            }
        }
        capped
    }
}

impl FromStr for Directives {
    type Err = DirectiveError;

    /// Parses strictly: the first bad directive is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (d, mut errors) = Self::parse(s);
        if errors.is_empty() {
            Ok(d)
        } else {
            Err(errors.swap_remove(0))
        }
    }
}

impl fmt::Display for Directives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(level) = self.default {
            write!(f, "{}", level.to_string().to_lowercase())?;
            first = false;
        }
        for (target, level) in &self.targets {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{target}={}", level.to_string().to_lowercase())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rust_log_subset() {
        let (d, errors) = Directives::parse(" debug , a=warn,a::b=ERROR, c ,d=FATAL,e=warning");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(d.default_level(), Some(LevelFilter::DEBUG));
        assert_eq!(d.level_for("a::x", LevelFilter::INFO), LevelFilter::WARN);
        assert_eq!(
            d.level_for("a::b::c", LevelFilter::INFO),
            LevelFilter::ERROR
        );
        assert_eq!(d.level_for("c", LevelFilter::INFO), LevelFilter::TRACE);
        assert_eq!(d.level_for("d", LevelFilter::INFO), LevelFilter::ERROR);
        assert_eq!(d.level_for("e", LevelFilter::INFO), LevelFilter::WARN);
        assert_eq!(d.level_for("zzz", LevelFilter::INFO), LevelFilter::INFO);
        assert_eq!(d.max_target_level(), LevelFilter::TRACE);
        let round: Directives = d.to_string().parse().unwrap();
        assert_eq!(round, d);
    }

    #[test]
    fn bad_directives_are_reported_and_skipped() {
        let (d, errors) = Directives::parse("a=loud,b=info,[span]=debug,=x");
        assert_eq!(
            errors,
            [
                DirectiveError("a=loud".into()),
                DirectiveError("[span]=debug".into()),
                DirectiveError("=x".into())
            ]
        );
        assert_eq!(d.level_for("b", LevelFilter::OFF), LevelFilter::INFO);
        assert!("x=nope".parse::<Directives>().is_err());
    }

    #[test]
    fn cap_and_merge() {
        let (mut d, _) = Directives::parse("a=trace,b=warn");
        let (other, _) = Directives::parse("error,b=debug");
        d.merge(&other);
        assert_eq!(d.default_level(), Some(LevelFilter::ERROR));
        assert!(d.cap(LevelFilter::INFO));
        assert_eq!(d.level_for("a", LevelFilter::OFF), LevelFilter::INFO);
        assert_eq!(d.level_for("b", LevelFilter::OFF), LevelFilter::INFO);
    }
}
