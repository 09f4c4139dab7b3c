//! Turns a [`PowertoolsLayerBuilder`] into the utilities, their hooks and the subscriber.

use powertools_core::layer::InvocationLayer;
use powertools_core::warning::warn;
#[cfg(feature = "metrics")]
use powertools_core::warning::warn_once;
use tracing::Dispatch;
#[allow(unused_imports)]
use tracing_subscriber::layer::SubscriberExt;

use crate::{ConfigError, PowertoolsLayer, PowertoolsLayerBuilder};

const LOCATION: &str = "powertools";

/// The `warn_once` key of the warning that metrics cannot be configured.
#[cfg(feature = "metrics")]
const METRICS_WARNING: &str = "powertools.metrics_config";

/// The layer and the subscriber (logger and tracer layers) its output goes through.
pub(crate) struct Assembled {
    pub(crate) layer: PowertoolsLayer,
    pub(crate) dispatch: Dispatch,
    #[cfg(feature = "logger")]
    pub(crate) logger_hook: Option<powertools_logger::LoggerHook>,
}

/// Builds the layer and, unless told not to, installs the subscriber as the global default.
pub(crate) fn assemble(
    builder: PowertoolsLayerBuilder,
    lenient: bool,
) -> Result<PowertoolsLayer, ConfigError> {
    let install = builder.install_subscriber.unwrap_or(true);
    let assembled = assemble_parts(builder, lenient)?;
    if install {
        if tracing::dispatcher::set_global_default(assembled.dispatch).is_ok() {
            #[cfg(feature = "logger")]
            if let Some(hook) = &assembled.logger_hook {
                hook.install_log_tracer();
            }
        } else {
            warn(
                LOCATION,
                "a global tracing subscriber is already installed: log lines and subsegments go \
                 through it; add the logger's and tracer's layers to it, or build the \
                 PowertoolsLayer with install_subscriber(false)",
            );
        }
    }
    Ok(assembled.layer)
}

/// Builds the parts without installing anything.
pub(crate) fn assemble_parts(
    mut builder: PowertoolsLayerBuilder,
    lenient: bool,
) -> Result<Assembled, ConfigError> {
    let handler_name = builder
        .handler_name
        .clone()
        .unwrap_or_else(|| "handler".to_owned());
    #[cfg_attr(
        not(any(feature = "logger", feature = "metrics", feature = "tracer")),
        allow(unused_mut)
    )]
    let mut invocation_layer = InvocationLayer::new().handler_name(handler_name);
    let registry = tracing_subscriber::registry();

    #[cfg(feature = "logger")]
    let (registry, logger_hook) = {
        let (layer, hook) = logger_parts(&mut builder, lenient)?;
        invocation_layer = invocation_layer.hook(hook.clone());
        (registry.with(layer), Some(hook))
    };

    #[cfg(feature = "metrics")]
    if let Some(metrics) = metrics_part(&mut builder, lenient)? {
        invocation_layer = invocation_layer.hook(current_metrics::CurrentMetricsHook::new(metrics));
    }

    #[cfg(feature = "tracer")]
    let registry = {
        let tracer = tracer_part(&mut builder);
        let layer = tracer.is_enabled().then(|| tracer.layer());
        invocation_layer = invocation_layer.hook(tracer.hook());
        registry.with(layer)
    };

    let _ = (&mut builder, lenient);
    Ok(Assembled {
        layer: PowertoolsLayer::from_invocation_layer(invocation_layer),
        dispatch: Dispatch::new(registry),
        #[cfg(feature = "logger")]
        logger_hook,
    })
}

#[cfg(feature = "logger")]
fn logger_parts(
    builder: &mut PowertoolsLayerBuilder,
    lenient: bool,
) -> Result<
    (
        powertools_logger::FilteredJsonLayer<tracing_subscriber::Registry>,
        powertools_logger::LoggerHook,
    ),
    ConfigError,
> {
    use powertools_logger::{CorrelationIdPath, Logger};

    let mut logger = builder.logger.take().unwrap_or_else(|| {
        let mut logger = Logger::new();
        if let Some(service) = &builder.service {
            logger = logger.service(service.clone());
        }
        if let Some(on) = builder.log_event {
            logger = logger.log_event(on);
        }
        logger
    });
    if let Some(path) = &builder.correlation_id_path {
        let parsed = match path.as_str() {
            "API_GATEWAY_REST" => Ok(CorrelationIdPath::api_gateway_rest()),
            "API_GATEWAY_HTTP" => Ok(CorrelationIdPath::api_gateway_http()),
            "LAMBDA_FUNCTION_URL" => Ok(CorrelationIdPath::function_url()),
            "APPLICATION_LOAD_BALANCER" => Ok(CorrelationIdPath::alb()),
            "EVENT_BRIDGE" => Ok(CorrelationIdPath::event_bridge()),
            other => other.parse::<CorrelationIdPath>(),
        };
        match parsed {
            Ok(path) => logger = logger.correlation_id_path(path),
            Err(error) if lenient => warn(
                LOCATION,
                &format!("{error}; logging without a correlation id"),
            ),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(logger.into_layer_and_hook())
}

#[cfg(feature = "metrics")]
fn metrics_part(
    builder: &mut PowertoolsLayerBuilder,
    lenient: bool,
) -> Result<Option<powertools_metrics::Metrics>, ConfigError> {
    use powertools_metrics::Metrics;

    if let Some(metrics) = builder.metrics.take() {
        return Ok(Some(metrics));
    }
    if let Some(global) = current_metrics::GLOBAL.get() {
        return Ok(Some(global.clone()));
    }
    let mut metrics = Metrics::builder();
    if let Some(service) = &builder.service {
        metrics = metrics.service(service.clone());
    }
    if let Some(namespace) = &builder.namespace {
        metrics = metrics.namespace(namespace.clone());
    }
    if let Some(on) = builder.capture_cold_start_metric {
        metrics = metrics.capture_cold_start_metric(on);
    }
    match metrics.build() {
        Ok(metrics) => Ok(Some(
            current_metrics::GLOBAL.get_or_init(|| metrics).clone(),
        )),
        Err(error) if lenient => {
            // Same key as `current_metrics::global`: the handler's first `current()` call
            // meets the same error, and one line says it.
            warn_once(
                METRICS_WARNING,
                LOCATION,
                &format!("{error}; metrics recorded by this function are not written"),
            );
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(feature = "tracer")]
fn tracer_part(builder: &mut PowertoolsLayerBuilder) -> powertools_tracer::Tracer {
    use powertools_tracer::Tracer;

    builder.tracer.take().unwrap_or_else(|| {
        let mut tracer = Tracer::builder();
        if let Some(service) = &builder.service {
            tracer = tracer.service(service.clone());
        }
        if let Some(on) = builder.capture_response {
            tracer = tracer.capture_response(on);
        }
        if let Some(on) = builder.capture_error {
            tracer = tracer.capture_error(on);
        }
        tracer.build()
    })
}

/// The `Metrics` handle of the layer running the current invocation.
#[cfg(feature = "metrics")]
pub(crate) mod current_metrics {
    use std::sync::OnceLock;

    use powertools_core::Invocation;
    use powertools_core::layer::{EventView, InvocationHook, InvocationOutcome};
    use powertools_metrics::{Metrics, MetricsHook};

    /// The handle of the first layer built in the process (or built from the environment by
    /// [`crate::metrics::current`] outside any invocation).
    pub(crate) static GLOBAL: OnceLock<Metrics> = OnceLock::new();

    /// Stored in the invocation's extensions by [`CurrentMetricsHook`].
    struct InvocationMetrics(Metrics);

    /// The metrics hook, plus making its handle the invocation's current one.
    pub(crate) struct CurrentMetricsHook {
        metrics: Metrics,
        inner: MetricsHook,
    }

    impl CurrentMetricsHook {
        pub(crate) fn new(metrics: Metrics) -> Self {
            Self {
                inner: metrics.invocation_hook(),
                metrics,
            }
        }
    }

    impl InvocationHook for CurrentMetricsHook {
        fn on_start(&self, invocation: &Invocation, event: &EventView<'_>) {
            invocation
                .extensions()
                .try_get_or_init(|| InvocationMetrics(self.metrics.clone()));
            self.inner.on_start(invocation, event);
        }

        fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
            self.inner.on_end(invocation, outcome);
        }
    }

    pub(crate) fn current() -> Metrics {
        Invocation::with_current(|invocation| {
            invocation
                .extensions()
                .get::<InvocationMetrics>()
                .map(|m| m.0.clone())
        })
        .flatten()
        .unwrap_or_else(|| global().clone())
    }

    fn global() -> &'static Metrics {
        GLOBAL.get_or_init(|| match Metrics::builder().build() {
            Ok(metrics) => metrics,
            Err(error) => {
                powertools_core::warning::warn_once(
                    super::METRICS_WARNING,
                    super::LOCATION,
                    &format!("{error}; metrics recorded by this function are not written"),
                );
                Metrics::builder()
                    .namespace("Undefined")
                    .disabled(true)
                    .build()
                    .unwrap_or_else(|_| unreachable!("a disabled handle with a valid namespace"))
            }
        })
    }
}
