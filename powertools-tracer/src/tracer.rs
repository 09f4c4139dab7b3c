//! The tracer's configuration, shared by its tracing layer and its invocation hook.

use std::fmt;
use std::sync::Arc;

use powertools_core::PowertoolsConfig;
use powertools_core::warning::warn_once;
use tracing::level_filters::LevelFilter;

use crate::emitter::{Emitter, UdpEmitter};
use crate::{DaemonAddress, TracerHook, XrayLayer};

/// An X-Ray tracer: the configuration that its [`XrayLayer`] (spans → subsegments) and its
/// [`TracerHook`] (the handler's subsegment) share.
///
/// Cheap to clone. Build one with [`Tracer::builder`]; every setting defaults from the
/// environment ([`PowertoolsConfig::global`]).
///
/// # Example
/// ```
/// use powertools_tracer::Tracer;
/// use powertools_tracer::emitter::MemoryEmitter;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let captured = MemoryEmitter::new();
/// let tracer = Tracer::builder()
///     .service("payment")
///     .enabled(true)
///     .emitter(captured.clone())
///     .build();
/// let subscriber = tracing_subscriber::registry().with(tracer.layer());
/// let hook = tracer.hook(); // for powertools_core::layer::InvocationLayer::hook
/// # drop((subscriber, hook));
/// ```
#[derive(Clone)]
pub struct Tracer {
    pub(crate) config: Arc<TracerConfig>,
}

pub(crate) struct TracerConfig {
    pub(crate) enabled: bool,
    pub(crate) service: String,
    pub(crate) capture_response: bool,
    pub(crate) capture_error: bool,
    pub(crate) level: LevelFilter,
    pub(crate) dependency_spans: bool,
    pub(crate) emitter: Arc<dyn Emitter>,
}

impl Tracer {
    /// A builder with every setting taken from the environment.
    pub fn builder() -> TracerBuilder {
        TracerBuilder::from_config(PowertoolsConfig::global())
    }

    /// The tracer the environment describes.
    pub fn from_env() -> Self {
        Self::builder().build()
    }

    /// The `tracing_subscriber::Layer` turning spans inside traced invocations into subsegments.
    pub fn layer(&self) -> XrayLayer {
        XrayLayer::new(self.clone())
    }

    /// The hook for [`powertools_core::layer::InvocationLayer`]: the `## <handler>` subsegment,
    /// its annotations, the captured response or error.
    pub fn hook(&self) -> TracerHook {
        TracerHook::new(self.clone())
    }

    /// Whether the tracer sends anything at all.
    pub fn is_enabled(&self) -> bool {
        self.config.enabled
    }

    /// The service name (the `Service` annotation and the default metadata namespace).
    pub fn service(&self) -> &str {
        &self.config.service
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("enabled", &self.config.enabled)
            .field("service", &self.config.service)
            .field("capture_response", &self.config.capture_response)
            .field("capture_error", &self.config.capture_error)
            .field("level", &self.config.level)
            .field("dependency_spans", &self.config.dependency_spans)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Tracer`].
///
/// Defaults: service from `POWERTOOLS_SERVICE_NAME`; enabled when running in Lambda and
/// `POWERTOOLS_TRACE_DISABLED` is not true; response and error capture from
/// `POWERTOOLS_TRACER_CAPTURE_RESPONSE` / `_CAPTURE_ERROR` (true); spans at INFO and above,
/// other crates' spans ([`DEPENDENCY_TARGETS`](crate::layer::DEPENDENCY_TARGETS)) left out;
/// UDP to `AWS_XRAY_DAEMON_ADDRESS` (`127.0.0.1:2000`).
pub struct TracerBuilder {
    enabled: bool,
    service: String,
    capture_response: bool,
    capture_error: bool,
    level: LevelFilter,
    dependency_spans: bool,
    daemon_address: DaemonAddress,
    emitter: Option<Arc<dyn Emitter>>,
}

impl fmt::Debug for TracerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracerBuilder")
            .field("enabled", &self.enabled)
            .field("service", &self.service)
            .field("daemon_address", &self.daemon_address)
            .finish_non_exhaustive()
    }
}

impl TracerBuilder {
    /// A builder with the defaults `config` describes. A malformed `AWS_XRAY_DAEMON_ADDRESS`
    /// gives one warning line and the default address.
    pub fn from_config(config: &PowertoolsConfig) -> Self {
        let daemon_address = match config.lambda.xray_daemon_address.as_deref() {
            None => DaemonAddress::default(),
            Some(raw) => raw.parse().unwrap_or_else(|e| {
                warn_once(
                    crate::daemon_address::DAEMON_WARNING,
                    "powertools_tracer",
                    &format!("{e}; using 127.0.0.1:2000"),
                );
                DaemonAddress::default()
            }),
        };
        Self {
            enabled: config.lambda.in_lambda && !config.powertools.trace_disabled,
            service: config.powertools.service_name.clone(),
            capture_response: config.powertools.tracer_capture_response,
            capture_error: config.powertools.tracer_capture_error,
            level: LevelFilter::INFO,
            dependency_spans: false,
            daemon_address,
            emitter: None,
        }
    }

    /// The service name.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Turns the tracer on or off (off: near-zero cost, nothing sent).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Whether handler responses are recorded as `<handler> response` metadata.
    pub fn capture_response(mut self, capture: bool) -> Self {
        self.capture_response = capture;
        self
    }

    /// Whether handler errors are recorded as `<handler> error` metadata and with their
    /// messages in the `cause` (off: only the error's type is sent).
    pub fn capture_error(mut self, capture: bool) -> Self {
        self.capture_error = capture;
        self
    }

    /// The most verbose span level turned into subsegments (default INFO).
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.level = level.into();
        self
    }

    /// Whether the spans of the crates a function runs on (hyper, h2, tower, rustls, reqwest,
    /// the AWS SDK's internals, `lambda_runtime`: the
    /// [`DEPENDENCY_TARGETS`](crate::layer::DEPENDENCY_TARGETS)) become subsegments too, when
    /// their level passes [`level`](Self::level). Default off: they are left out whatever the
    /// level, at the cost of a few prefix comparisons each, and what they enclose hangs under
    /// the nearest traced span around them (an AWS SDK call's `aws` subsegment under the span
    /// that made the call).
    ///
    /// ```
    /// use powertools_tracer::Tracer;
    ///
    /// // hyper's and the AWS SDK's DEBUG spans as subsegments too, when debugging.
    /// let tracer = Tracer::builder()
    ///     .level(tracing::Level::DEBUG)
    ///     .trace_dependency_spans(true)
    ///     .build();
    /// # drop(tracer);
    /// ```
    pub fn trace_dependency_spans(mut self, trace: bool) -> Self {
        self.dependency_spans = trace;
        self
    }

    /// The daemon's address, for the default UDP emitter.
    pub fn daemon_address(mut self, address: DaemonAddress) -> Self {
        self.daemon_address = address;
        self
    }

    /// Sends datagrams somewhere else than the daemon (a [`MemoryEmitter`] in tests).
    ///
    /// [`MemoryEmitter`]: crate::emitter::MemoryEmitter
    pub fn emitter(mut self, emitter: impl Emitter) -> Self {
        self.emitter = Some(Arc::new(emitter));
        self
    }

    /// Builds the tracer.
    pub fn build(self) -> Tracer {
        let emitter = self
            .emitter
            .unwrap_or_else(|| Arc::new(UdpEmitter::new(self.daemon_address)));
        Tracer {
            config: Arc::new(TracerConfig {
                enabled: self.enabled,
                service: self.service,
                capture_response: self.capture_response,
                capture_error: self.capture_error,
                level: self.level,
                dependency_spans: self.dependency_spans,
                emitter,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> PowertoolsConfig {
        PowertoolsConfig::from_lookup(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .0
    }

    #[test]
    fn disabled_outside_lambda_and_when_asked() {
        assert!(
            !TracerBuilder::from_config(&config(&[]))
                .build()
                .is_enabled()
        );
        let in_lambda = [("AWS_LAMBDA_FUNCTION_NAME", "f")];
        assert!(
            TracerBuilder::from_config(&config(&in_lambda))
                .build()
                .is_enabled()
        );
        let off = [
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("POWERTOOLS_TRACE_DISABLED", "true"),
        ];
        assert!(
            !TracerBuilder::from_config(&config(&off))
                .build()
                .is_enabled()
        );
    }

    #[test]
    fn settings_come_from_the_environment() {
        let t = TracerBuilder::from_config(&config(&[
            ("POWERTOOLS_SERVICE_NAME", "payment"),
            ("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "false"),
            (
                "AWS_XRAY_DAEMON_ADDRESS",
                "tcp:10.0.0.1:2000 udp:10.0.0.2:2000",
            ),
        ]));
        assert_eq!(t.daemon_address.udp(), "10.0.0.2:2000");
        let t = t.build();
        assert_eq!(t.service(), "payment");
        assert!(!t.config.capture_response && t.config.capture_error);
        assert_eq!(t.config.level, LevelFilter::INFO);
    }

    #[test]
    fn bad_daemon_address_keeps_the_default() {
        let b = TracerBuilder::from_config(&config(&[("AWS_XRAY_DAEMON_ADDRESS", "nowhere")]));
        assert_eq!(b.daemon_address, DaemonAddress::default());
    }
}
