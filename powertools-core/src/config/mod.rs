//! Typed configuration from the Lambda and `POWERTOOLS_*` environment.
//!
//! Everything is read once, at init ([`PowertoolsConfig::global`]). A value that does not parse
//! gives one warning line (see [`crate::warning`]) and the default is kept: a typo in a template
//! never takes the function down.

mod value;

use std::sync::OnceLock;

pub use value::{EnvValueError, InitializationType, LogLevel, ParseLogLevelError, parse_bool};

/// The default `service` when `POWERTOOLS_SERVICE_NAME` is unset.
pub const DEFAULT_SERVICE_NAME: &str = "service_undefined";

/// The default X-Ray daemon address.
pub const DEFAULT_XRAY_DAEMON_ADDRESS: &str = "127.0.0.1:2000";

/// The Lambda environment of the process (`AWS_LAMBDA_*`, `AWS_REGION`).
///
/// Every field has a default, so a process started outside Lambda (a test, a local run) still
/// gets a usable value; [`LambdaEnvironment::in_lambda`] tells which.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LambdaEnvironment {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub function_version: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    pub memory_size_mb: Option<u32>,
    /// `AWS_REGION`.
    pub region: Option<String>,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    pub log_group: Option<String>,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub log_stream: Option<String>,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`.
    pub initialization_type: InitializationType,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances), 1 when unset.
    pub max_concurrency: u32,
    /// `AWS_LAMBDA_LOG_LEVEL` (advanced logging controls).
    pub log_level: Option<LogLevel>,
    /// `AWS_LAMBDA_LOG_FORMAT`: `JSON` or `Text`.
    pub log_format: Option<String>,
    /// `AWS_XRAY_DAEMON_ADDRESS`, raw (the tracer parses it).
    pub xray_daemon_address: Option<String>,
    /// Whether the process runs under a Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API` or
    /// `AWS_LAMBDA_FUNCTION_NAME` set).
    pub in_lambda: bool,
}

/// The `POWERTOOLS_*` settings (and the legacy `LOG_LEVEL`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PowertoolsSettings {
    /// `POWERTOOLS_SERVICE_NAME`, default `service_undefined`.
    pub service_name: String,
    /// `POWERTOOLS_LOG_LEVEL`, else the legacy `LOG_LEVEL`.
    pub log_level: Option<LogLevel>,
    /// `POWERTOOLS_LOGGER_SAMPLE_RATE`, in `0..=1`, default 0.
    pub logger_sample_rate: f64,
    /// `POWERTOOLS_LOGGER_LOG_EVENT`, default false.
    pub logger_log_event: bool,
    /// `POWERTOOLS_DEV`, default false.
    pub dev: bool,
    /// `POWERTOOLS_METRICS_NAMESPACE`.
    pub metrics_namespace: Option<String>,
    /// `POWERTOOLS_METRICS_FUNCTION_NAME`.
    pub metrics_function_name: Option<String>,
    /// `POWERTOOLS_METRICS_DISABLED`, default false.
    pub metrics_disabled: bool,
    /// `POWERTOOLS_TRACE_DISABLED`, default false.
    pub trace_disabled: bool,
    /// `POWERTOOLS_TRACER_CAPTURE_RESPONSE`, default true.
    pub tracer_capture_response: bool,
    /// `POWERTOOLS_TRACER_CAPTURE_ERROR`, default true.
    pub tracer_capture_error: bool,
    /// `POWERTOOLS_TIMEOUT_MARGIN_MS`: how long before the deadline a running invocation is
    /// written out (see `InvocationLayer::timeout_margin`), default 200 ms; 0 turns it off.
    pub timeout_margin_ms: u64,
}

/// The whole environment, parsed.
///
/// # Example
/// ```
/// use powertools_core::PowertoolsConfig;
///
/// let vars = [("POWERTOOLS_SERVICE_NAME", "payment"), ("POWERTOOLS_DEV", "maybe")];
/// let (config, warnings) = PowertoolsConfig::from_lookup(|k| {
///     vars.iter().find(|(name, _)| *name == k).map(|(_, v)| v.to_string())
/// });
/// assert_eq!(config.powertools.service_name, "payment");
/// assert!(!config.powertools.dev, "a bad value keeps the default");
/// assert_eq!(warnings.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PowertoolsConfig {
    /// The Lambda environment.
    pub lambda: LambdaEnvironment,
    /// The `POWERTOOLS_*` settings.
    pub powertools: PowertoolsSettings,
}

static GLOBAL: OnceLock<PowertoolsConfig> = OnceLock::new();

impl PowertoolsConfig {
    /// The process's configuration, read from the environment on first use; each bad value
    /// writes one warning line, then.
    pub fn global() -> &'static PowertoolsConfig {
        if let Some(config) = GLOBAL.get() {
            return config;
        }
        let (config, warnings) = PowertoolsConfig::from_lookup(|k| std::env::var(k).ok());
        let mut stored = false;
        let config = GLOBAL.get_or_init(|| {
            stored = true;
            config
        });
        // Written once the configuration is in place: a warning line reads it (its `service`).
        if stored {
            for w in &warnings {
                crate::warning::warn("powertools_core", &format!("{w}; keeping the default"));
            }
        }
        config
    }

    /// Parses the configuration from any variable lookup, returning the warnings instead of
    /// writing them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> (Self, Vec<EnvValueError>) {
        let mut reader = Reader {
            lookup: &lookup,
            warnings: Vec::new(),
        };
        let lambda = LambdaEnvironment {
            function_name: reader
                .string("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_default(),
            function_version: reader
                .string("AWS_LAMBDA_FUNCTION_VERSION")
                .unwrap_or_else(|| "$LATEST".to_owned()),
            memory_size_mb: reader.parsed(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "a memory size in MB",
                |v| v.trim().parse().ok(),
            ),
            region: reader.string("AWS_REGION"),
            log_group: reader.string("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream: reader.string("AWS_LAMBDA_LOG_STREAM_NAME"),
            initialization_type: reader
                .parsed(
                    "AWS_LAMBDA_INITIALIZATION_TYPE",
                    "on-demand, provisioned-concurrency or snap-start",
                    |v| v.parse().ok(),
                )
                .unwrap_or_default(),
            max_concurrency: reader
                .parsed("AWS_LAMBDA_MAX_CONCURRENCY", "a positive integer", |v| {
                    v.trim().parse().ok().filter(|n: &u32| *n >= 1)
                })
                .unwrap_or(1),
            log_level: reader.parsed("AWS_LAMBDA_LOG_LEVEL", "a log level", |v| v.parse().ok()),
            log_format: reader.string("AWS_LAMBDA_LOG_FORMAT"),
            xray_daemon_address: reader.string("AWS_XRAY_DAEMON_ADDRESS"),
            in_lambda: lookup("AWS_LAMBDA_RUNTIME_API").is_some()
                || lookup("AWS_LAMBDA_FUNCTION_NAME").is_some(),
        };
        let log_level = reader
            .parsed("POWERTOOLS_LOG_LEVEL", "a log level", |v| v.parse().ok())
            .or_else(|| reader.parsed("LOG_LEVEL", "a log level", |v| v.parse().ok()));
        let powertools = PowertoolsSettings {
            service_name: reader
                .string("POWERTOOLS_SERVICE_NAME")
                .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned()),
            log_level,
            logger_sample_rate: reader
                .parsed(
                    "POWERTOOLS_LOGGER_SAMPLE_RATE",
                    "a number between 0 and 1",
                    |v| {
                        v.trim()
                            .parse()
                            .ok()
                            .filter(|r: &f64| (0.0..=1.0).contains(r))
                    },
                )
                .unwrap_or(0.0),
            logger_log_event: reader.bool("POWERTOOLS_LOGGER_LOG_EVENT", false),
            dev: reader.bool("POWERTOOLS_DEV", false),
            metrics_namespace: reader.string("POWERTOOLS_METRICS_NAMESPACE"),
            metrics_function_name: reader.string("POWERTOOLS_METRICS_FUNCTION_NAME"),
            metrics_disabled: reader.bool("POWERTOOLS_METRICS_DISABLED", false),
            trace_disabled: reader.bool("POWERTOOLS_TRACE_DISABLED", false),
            tracer_capture_response: reader.bool("POWERTOOLS_TRACER_CAPTURE_RESPONSE", true),
            tracer_capture_error: reader.bool("POWERTOOLS_TRACER_CAPTURE_ERROR", true),
            timeout_margin_ms: reader
                .parsed(
                    "POWERTOOLS_TIMEOUT_MARGIN_MS",
                    "a number of milliseconds",
                    |v| v.trim().parse().ok(),
                )
                .unwrap_or(200),
        };
        (Self { lambda, powertools }, reader.warnings)
    }
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    warnings: Vec<EnvValueError>,
}

impl Reader<'_> {
    /// A non-empty string value.
    fn string(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn parsed<T>(
        &mut self,
        name: &'static str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = self.string(name)?;
        let parsed = parse(&raw);
        if parsed.is_none() {
            self.warnings.push(EnvValueError {
                variable: name,
                value: raw,
                expected,
            });
        }
        parsed
    }

    fn bool(&mut self, name: &'static str, default: bool) -> bool {
        self.parsed(name, "a boolean (true/false/1/0/yes/no/on/off)", parse_bool)
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> (PowertoolsConfig, Vec<EnvValueError>) {
        PowertoolsConfig::from_lookup(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_with_an_empty_environment() {
        let (c, w) = parse(&[]);
        assert!(w.is_empty());
        assert_eq!(c.powertools.service_name, "service_undefined");
        assert_eq!(c.powertools.log_level, None);
        assert!(c.powertools.tracer_capture_response && c.powertools.tracer_capture_error);
        assert!(!c.powertools.metrics_disabled && !c.powertools.trace_disabled);
        assert_eq!(c.lambda.max_concurrency, 1);
        assert_eq!(c.lambda.initialization_type, InitializationType::OnDemand);
        assert!(!c.lambda.in_lambda);
        assert_eq!(c.lambda.function_version, "$LATEST");
    }

    #[test]
    fn good_values_are_parsed() {
        let (c, w) = parse(&[
            ("POWERTOOLS_SERVICE_NAME", "payment"),
            ("POWERTOOLS_LOG_LEVEL", "debug"),
            ("LOG_LEVEL", "error"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.25"),
            ("POWERTOOLS_LOGGER_LOG_EVENT", "TRUE"),
            ("POWERTOOLS_METRICS_DISABLED", "on"),
            ("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "0"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency"),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "64"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ("AWS_LAMBDA_FUNCTION_NAME", "payment-fn"),
        ]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.powertools.service_name, "payment");
        assert_eq!(
            c.powertools.log_level,
            Some(LogLevel::Debug),
            "POWERTOOLS_ wins over LOG_LEVEL"
        );
        assert!((c.powertools.logger_sample_rate - 0.25).abs() < f64::EPSILON);
        assert!(c.powertools.logger_log_event && c.powertools.metrics_disabled);
        assert!(!c.powertools.tracer_capture_response);
        assert_eq!(
            c.lambda.initialization_type,
            InitializationType::ProvisionedConcurrency
        );
        assert_eq!(c.lambda.max_concurrency, 64);
        assert_eq!(c.lambda.memory_size_mb, Some(128));
        assert_eq!(c.lambda.log_level, Some(LogLevel::Warn));
        assert!(c.lambda.in_lambda);
    }

    #[test]
    fn legacy_log_level_is_used_alone() {
        let (c, _) = parse(&[("LOG_LEVEL", "WARNING")]);
        assert_eq!(c.powertools.log_level, Some(LogLevel::Warn));
    }

    #[test]
    fn bad_values_warn_once_each_and_keep_defaults() {
        let (c, w) = parse(&[
            ("POWERTOOLS_LOG_LEVEL", "loud"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "1.5"),
            ("POWERTOOLS_DEV", "maybe"),
            ("POWERTOOLS_TRACER_CAPTURE_ERROR", "nope"),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "0"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "warm"),
        ]);
        let names: Vec<_> = w.iter().map(|e| e.variable).collect();
        assert_eq!(
            names,
            [
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_INITIALIZATION_TYPE",
                "AWS_LAMBDA_MAX_CONCURRENCY",
                "POWERTOOLS_LOG_LEVEL",
                "POWERTOOLS_LOGGER_SAMPLE_RATE",
                "POWERTOOLS_DEV",
                "POWERTOOLS_TRACER_CAPTURE_ERROR",
            ]
        );
        assert_eq!(c.powertools.log_level, None);
        assert!(c.powertools.logger_sample_rate.abs() < f64::EPSILON);
        assert!(!c.powertools.dev);
        assert!(c.powertools.tracer_capture_error);
        assert_eq!(c.lambda.max_concurrency, 1);
        assert_eq!(c.lambda.memory_size_mb, None);
        assert_eq!(c.lambda.initialization_type, InitializationType::OnDemand);
        assert!(
            w[0].to_string()
                .contains("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=\"lots\"")
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let (c, w) = parse(&[("POWERTOOLS_SERVICE_NAME", "  "), ("POWERTOOLS_DEV", "")]);
        assert!(w.is_empty());
        assert_eq!(c.powertools.service_name, DEFAULT_SERVICE_NAME);
    }

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["true", "True", "1", "yes", "ON"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "FALSE", "0", "no", "Off"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "2", "truthy", "nein"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_values_never_panic(key in "[A-Z_]{1,40}", value in "\\PC*") {
            let (_config, warnings) = PowertoolsConfig::from_lookup(|k| (k == key).then(|| value.clone()));
            proptest::prop_assert!(warnings.len() <= 2);
        }
    }
}
