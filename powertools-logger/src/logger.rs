//! The builder: configuration from the environment, overridable in code.

use std::sync::Arc;

use powertools_core::PowertoolsConfig;
use powertools_core::config::LogLevel;
use serde_json::Value;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::Registry;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::SubscriberExt;

use crate::buffer::BufferConfig;
use crate::emitter::Emitter;
use crate::format::LineFormatter;
use crate::hook::{CorrelationIdPath, CorrelationIdSource, LoggerHook};
use crate::layer::PowertoolsJsonLayer;
use crate::level::{DirectiveError, Directives, LevelPolicy, LogFilter, resolve_level};
use crate::sink::{LogSink, StdoutSink};

/// The logger's layer behind its filter, ready to add to a `Registry`.
pub type FilteredJsonLayer<S = Registry> = Filtered<PowertoolsJsonLayer, LogFilter, S>;

/// Why [`Logger::try_init`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A global `tracing` subscriber was already installed.
    #[error("a global tracing subscriber is already installed: {0}")]
    SubscriberAlreadySet(#[from] tracing::subscriber::SetGlobalDefaultError),
}

/// The three parts a [`Logger`] builds.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoggerParts {
    /// The layer that writes lines.
    pub layer: PowertoolsJsonLayer,
    /// Its per-layer filter (level, directives, sampling).
    pub filter: LogFilter,
    /// The hook for the invocation layer.
    pub hook: LoggerHook,
}

/// Configures the logger. Every setting starts from the environment
/// ([`PowertoolsConfig::global`] and `RUST_LOG`) and can be overridden in code.
///
/// | setting | environment | default |
/// |---|---|---|
/// | [`service`](Self::service) | `POWERTOOLS_SERVICE_NAME` | `service_undefined` |
/// | [`level`](Self::level) | `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL`, bare level of `RUST_LOG`; `AWS_LAMBDA_LOG_LEVEL` wins | INFO |
/// | [`directives`](Self::directives) | `RUST_LOG` (per-target levels) | none |
/// | [`sample_rate`](Self::sample_rate) | `POWERTOOLS_LOGGER_SAMPLE_RATE` | 0 |
/// | [`log_event`](Self::log_event) | `POWERTOOLS_LOGGER_LOG_EVENT` | false |
/// | [`dev`](Self::dev) | `POWERTOOLS_DEV` | false |
/// | [`correlation_id_path`](Self::correlation_id_path), [`correlation_id_from`](Self::correlation_id_from) | — | none |
/// | [`buffer`](Self::buffer) | — | off |
/// | [`sink`](Self::sink) | — | [`StdoutSink`] |
/// | [`formatter`](Self::formatter) | — | the Powertools line |
///
/// # Example
/// ```no_run
/// use powertools_core::layer::InvocationLayer;
/// use powertools_logger::{CorrelationIdPath, Logger};
///
/// let hook = Logger::new()
///     .service("payment")
///     .correlation_id_path(CorrelationIdPath::api_gateway_rest())
///     .init();
/// let layer = InvocationLayer::new().hook(hook);
/// ```
pub struct Logger {
    service: String,
    level: Option<LogLevel>,
    powertools_level: Option<LogLevel>,
    lambda_level: Option<LogLevel>,
    directives: Directives,
    directive_errors: Vec<DirectiveError>,
    sample_rate: f64,
    log_event: bool,
    correlation: Option<CorrelationIdSource>,
    buffer: Option<BufferConfig>,
    dev: bool,
    sink: Option<Box<dyn LogSink>>,
    formatter: Option<Box<dyn LineFormatter>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("service", &self.service)
            .field("level", &self.level)
            .field("directives", &self.directives)
            .field("sample_rate", &self.sample_rate)
            .field("log_event", &self.log_event)
            .field("correlation", &self.correlation)
            .field("buffer", &self.buffer)
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

impl Default for Logger {
    fn default() -> Self {
        Self::new()
    }
}

impl Logger {
    /// A logger configured from the process's environment.
    pub fn new() -> Self {
        let logger = Self::from_config(PowertoolsConfig::global());
        match std::env::var("RUST_LOG") {
            Ok(rust_log) if !rust_log.trim().is_empty() => logger.directives(&rust_log),
            _ => logger,
        }
    }

    /// A logger configured from `config` alone (no `RUST_LOG`): for tests and embedding.
    ///
    /// ```
    /// use powertools_core::PowertoolsConfig;
    /// use powertools_logger::Logger;
    ///
    /// let (config, _) = PowertoolsConfig::from_lookup(|k| {
    ///     (k == "POWERTOOLS_SERVICE_NAME").then(|| "payment".to_owned())
    /// });
    /// let logger = Logger::from_config(&config);
    /// ```
    pub fn from_config(config: &PowertoolsConfig) -> Self {
        let settings = &config.powertools;
        Self {
            service: settings.service_name.clone(),
            level: None,
            powertools_level: settings.log_level,
            lambda_level: config.lambda.log_level,
            directives: Directives::default(),
            directive_errors: Vec::new(),
            sample_rate: settings.logger_sample_rate,
            log_event: settings.logger_log_event,
            correlation: None,
            buffer: None,
            dev: settings.dev,
            sink: None,
            formatter: None,
        }
    }

    /// The `service` key.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// The log level (wins over the environment, except `AWS_LAMBDA_LOG_LEVEL`).
    pub fn level(mut self, level: LogLevel) -> Self {
        self.level = Some(level);
        self
    }

    /// Adds `RUST_LOG`-style directives (`info,my_crate=debug`); they win over earlier ones. A
    /// directive that does not parse is skipped with a warning line.
    pub fn directives(mut self, directives: &str) -> Self {
        let (parsed, errors) = Directives::parse(directives);
        self.directives.merge(&parsed);
        self.directive_errors.extend(errors);
        self
    }

    /// The fraction of invocations (`0..=1`) logged at DEBUG; out-of-range values are clamped.
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Whether to log each incoming event (events often carry secrets: off by default).
    pub fn log_event(mut self, log_event: bool) -> Self {
        self.log_event = log_event;
        self
    }

    /// Takes the correlation id from this path in each event.
    pub fn correlation_id_path(mut self, path: CorrelationIdPath) -> Self {
        self.correlation = Some(CorrelationIdSource::Path(path));
        self
    }

    /// Takes the correlation id from each event with `f`.
    ///
    /// ```
    /// use powertools_logger::Logger;
    /// let logger = Logger::new().correlation_id_from(|event| {
    ///     event["headers"]["x-correlation-id"].as_str().map(str::to_owned)
    /// });
    /// ```
    pub fn correlation_id_from(
        mut self,
        f: impl Fn(&Value) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.correlation = Some(CorrelationIdSource::Function(Arc::new(f)));
        self
    }

    /// Turns log buffering on (see [`BufferConfig`]).
    pub fn buffer(mut self, config: BufferConfig) -> Self {
        self.buffer = Some(config);
        self
    }

    /// Indented JSON for reading locally (`POWERTOOLS_DEV`).
    pub fn dev(mut self, dev: bool) -> Self {
        self.dev = dev;
        self
    }

    /// Where lines go (default: [`StdoutSink`]); a [`MemorySink`](crate::MemorySink) in tests.
    pub fn sink(mut self, sink: impl LogSink) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Formats lines with `formatter` instead of the Powertools format.
    pub fn formatter(mut self, formatter: impl LineFormatter) -> Self {
        self.formatter = Some(Box::new(formatter));
        self
    }

    /// Builds the layer, its filter and the hook, writing any configuration warning through the
    /// sink.
    pub fn into_parts(self) -> LoggerParts {
        let resolution = resolve_level(
            self.level,
            self.powertools_level,
            self.lambda_level,
            self.directives.default_level(),
        );
        // Warnings that lines are lost must pass Lambda's filter: the one this logger was
        // configured with, or the process's (`AWS_LAMBDA_LOG_LEVEL`), whichever is more severe.
        let kept_level = powertools_core::output::kept_level(match resolution.lambda_cap {
            Some(cap) if cap <= LevelFilter::ERROR => "ERROR",
            _ => "WARN",
        });
        let emitter = Arc::new(Emitter::new(
            self.service,
            self.sample_rate,
            self.dev,
            self.sink.unwrap_or_else(|| Box::new(StdoutSink)),
            self.formatter,
            self.buffer,
            kept_level,
        ));
        for error in &self.directive_errors {
            emitter.warn(&format!("{error}; skipping it"));
        }
        let mut directives = self.directives;
        if let Some(cap) = resolution.lambda_cap {
            let upper = |l: LevelFilter| l.to_string().to_uppercase();
            let capped = directives.cap(cap);
            if let Some(ours) = resolution.overridden {
                emitter.warn_lost(&format!(
                    "the log level {} is more verbose than AWS_LAMBDA_LOG_LEVEL={}; Lambda's \
                     level wins and lines below it are not written",
                    upper(ours),
                    upper(cap)
                ));
            } else if capped {
                emitter.warn_lost(&format!(
                    "some log directives are more verbose than AWS_LAMBDA_LOG_LEVEL={0}; they \
                     are capped at {0}",
                    upper(cap)
                ));
            }
        }
        let sampled_level = (self.sample_rate > 0.0).then(|| {
            resolution
                .lambda_cap
                .map_or(LevelFilter::DEBUG, |cap| cap.min(LevelFilter::DEBUG))
        });
        let policy = Arc::new(LevelPolicy {
            level: resolution.level,
            directives,
            sampled_level,
        });
        LoggerParts {
            layer: PowertoolsJsonLayer {
                emitter: Arc::clone(&emitter),
            },
            filter: LogFilter {
                policy: Arc::clone(&policy),
            },
            hook: LoggerHook {
                emitter,
                policy,
                sample_rate: self.sample_rate,
                log_event: self.log_event,
                correlation: self.correlation,
            },
        }
    }

    /// Builds the filtered layer (for a subscriber of type `S`) and the hook.
    ///
    /// ```
    /// use powertools_logger::Logger;
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let (layer, hook) = Logger::new().into_layer_and_hook();
    /// let subscriber = tracing_subscriber::Registry::default().with(layer);
    /// # let _ = (subscriber, hook);
    /// ```
    pub fn into_layer_and_hook<S>(self) -> (FilteredJsonLayer<S>, LoggerHook)
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let parts = self.into_parts();
        (parts.layer.with_filter(parts.filter), parts.hook)
    }

    /// Installs the logger as the process's `tracing` subscriber (and, with feature `log`, the
    /// `log` crate's logger) and returns the hook for the invocation layer.
    pub fn try_init(self) -> Result<LoggerHook, InitError> {
        self.try_init_inner().map_err(|(_, error)| error)
    }

    /// Like [`try_init`](Self::try_init); when a global subscriber is already installed, writes
    /// a warning line and returns the hook anyway (its lines then go nowhere).
    pub fn init(self) -> LoggerHook {
        match self.try_init_inner() {
            Ok(hook) => hook,
            Err((hook, error)) => {
                hook.emitter
                    .warn_lost(&format!("{error}; the powertools logger is not installed"));
                hook
            }
        }
    }

    fn try_init_inner(self) -> Result<LoggerHook, (LoggerHook, InitError)> {
        let (layer, hook) = self.into_layer_and_hook::<Registry>();
        match tracing::subscriber::set_global_default(Registry::default().with(layer)) {
            Ok(()) => {
                hook.install_log_tracer();
                Ok(hook)
            }
            Err(error) => Err((hook, error.into())),
        }
    }
}

impl LoggerHook {
    /// Routes records of the `log` crate (dependencies that log through `log`) into `tracing`,
    /// and so to the logger, up to the logger's most verbose level. Only needed when you install
    /// the logger's layer in your own subscriber; [`Logger::init`] does it. Returns false (and
    /// writes one warning line) when another `log` logger is already installed, or when the
    /// `log` feature is off.
    ///
    /// ```no_run
    /// use powertools_logger::Logger;
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let (layer, hook) = Logger::new().into_layer_and_hook();
    /// tracing::subscriber::set_global_default(tracing_subscriber::Registry::default().with(layer))
    ///     .expect("no other subscriber");
    /// hook.install_log_tracer();
    /// ```
    pub fn install_log_tracer(&self) -> bool {
        #[cfg(feature = "log")]
        {
            let max = tracing_log::AsLog::as_log(&self.policy.max_level());
            if tracing_log::LogTracer::builder()
                .with_max_level(max)
                .init()
                .is_err()
            {
                self.emitter.warn_lost(
                    "a `log` logger is already installed: records of the `log` crate do not reach \
                     the powertools logger",
                );
                return false;
            }
            true
        }
        #[cfg(not(feature = "log"))]
        false
    }
}
