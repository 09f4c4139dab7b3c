//! Turns a [`PowertoolsLayerBuilder`] into the utilities, their hooks and the subscriber.

use powertools_core::layer::InvocationLayer;
use powertools_core::warning::warn;
#[cfg(feature = "metrics")]
use powertools_core::warning::warn_once_kept;
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
    if let Some(location) = &builder.handler_location {
        invocation_layer = invocation_layer.handler_location(location);
    }
    if let Some(margin) = builder.timeout_margin {
        invocation_layer = invocation_layer.timeout_margin(margin);
    }
    let registry = tracing_subscriber::registry();

    #[cfg(feature = "logger")]
    let (registry, logger_hook) = {
        let (layer, hook) = logger_parts(&mut builder, lenient)?;
        invocation_layer = invocation_layer.hook(hook.clone());
        (registry.with(layer), Some(hook))
    };

    #[cfg(feature = "metrics")]
    {
        let metrics = metrics_part(&mut builder, lenient)?;
        invocation_layer = invocation_layer.hook(metrics.invocation_hook());
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

/// The layer's own `Metrics` (never one shared with another layer): from the builder's
/// settings and the environment. Without a namespace, the attribute's lenient build gets a
/// disabled handle and one warning line that Lambda's log-level filter keeps.
#[cfg(feature = "metrics")]
fn metrics_part(
    builder: &mut PowertoolsLayerBuilder,
    lenient: bool,
) -> Result<powertools_metrics::Metrics, ConfigError> {
    use powertools_metrics::{Metrics, MetricsError};

    if let Some(metrics) = builder.metrics.take() {
        return Ok(metrics);
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
        Ok(metrics) => Ok(metrics),
        Err(error) if lenient => {
            let advice = match error {
                MetricsError::MissingNamespace => {
                    "no metrics namespace: add `namespace = \"…\"` to #[powertools::handler] or set \
                     POWERTOOLS_METRICS_NAMESPACE"
                        .to_owned()
                }
                other => other.to_string(),
            };
            warn_once_kept(
                METRICS_WARNING,
                LOCATION,
                &format!("{advice}; metrics recorded by this function are not written"),
            );
            Ok(Metrics::builder()
                .namespace("Undefined")
                .disabled(true)
                .build()
                .unwrap_or_else(|_| unreachable!("a disabled handle with a valid namespace")))
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
