//! The invocation hook: the handler's `## <name>` subsegment and what the invocation's outcome
//! adds to it.

use std::borrow::Cow;

use powertools_core::Invocation;
use powertools_core::layer::{InvocationHook, InvocationOutcome};

use crate::Tracer;
use crate::document::{Cause, MetadataValue};
use crate::layer::HANDLER_TARGET;
use crate::layer::span_state::{SpanSubsegment, cut_open_spans, finish_span, with_current_span};
use crate::trace_context::trace_of;

/// Opens the handler's subsegment and closes it with the invocation's outcome. Made by
/// [`Tracer::hook`]; give it to [`InvocationLayer::hook`].
///
/// - `handler_span` opens `## <handler name>` with the annotations `ColdStart` (bool) and
///   `Service`, for traced invocations only (none when disabled, unsampled or untraced);
/// - `on_end` records, under the service's metadata namespace, `<name> response` (when response
///   capture is on) or `<name> error` (when error capture is on); an `Err` or a panic flags the
///   subsegment `fault` with a `cause` whose first exception's `type` is the error's type name
///   (`Panic` for a panic), with the `source()` chain, or the panic's message and location; then
///   it sends the subsegment, so every document of the
///   invocation is out before its response is returned.
///
/// Needs the subscriber to be built on `tracing_subscriber::Registry` with the tracer's
/// [`XrayLayer`](crate::XrayLayer).
///
/// ```
/// use powertools_core::layer::InvocationLayer;
/// use powertools_tracer::Tracer;
///
/// let tracer = Tracer::builder().service("orders").build();
/// let layer = InvocationLayer::new()
///     .handler_name("create_order")
///     .hook(tracer.hook().capture_response(false));
/// # drop(layer);
/// ```
///
/// [`InvocationLayer::hook`]: powertools_core::layer::InvocationLayer::hook
#[derive(Debug, Clone)]
pub struct TracerHook {
    tracer: Tracer,
    capture_response: bool,
    capture_error: bool,
}

impl TracerHook {
    pub(crate) fn new(tracer: Tracer) -> Self {
        Self {
            capture_response: tracer.config.capture_response,
            capture_error: tracer.config.capture_error,
            tracer,
        }
    }

    /// Overrides, for this handler, whether its response is recorded as metadata.
    pub fn capture_response(mut self, capture: bool) -> Self {
        self.capture_response = capture;
        self
    }

    /// Overrides, for this handler, whether its error is recorded as metadata and with messages.
    pub fn capture_error(mut self, capture: bool) -> Self {
        self.capture_error = capture;
        self
    }
}

impl InvocationHook for TracerHook {
    fn handler_span(&self, invocation: &Invocation, handler_name: &str) -> Option<tracing::Span> {
        let trace = trace_of(invocation, &self.tracer)?;
        let _ = trace.handler_name.set(handler_name.to_owned());
        let name = format!("## {handler_name}");
        Some(tracing::info_span!(
            target: HANDLER_TARGET,
            "handler",
            xray.name = name.as_str(),
            xray.annotation.ColdStart = invocation.context().is_cold_start(),
            xray.annotation.Service = self.tracer.service(),
        ))
    }

    fn on_end(&self, invocation: &Invocation, outcome: &InvocationOutcome<'_>) {
        let Some(trace) = trace_of(invocation, &self.tracer) else {
            return;
        };
        let handler = trace.handler_name.get().map_or("handler", String::as_str);
        with_current_span(|current| {
            let Some(span) = current.scope().find(|s| {
                s.extensions().get::<SpanSubsegment>().is_some_and(|state| {
                    state.is_handler && std::sync::Arc::ptr_eq(&state.trace, trace)
                })
            }) else {
                return;
            };
            if let InvocationOutcome::Timeout(report) = outcome {
                for name in cut_open_spans(&span, trace) {
                    report.add_open_span(&name);
                }
            }
            {
                let mut ext = span.extensions_mut();
                let Some(sub) = ext
                    .get_mut::<SpanSubsegment>()
                    .and_then(|s| s.open.as_mut())
                else {
                    return;
                };
                match outcome {
                    InvocationOutcome::Timeout(report) => {
                        sub.fault = true;
                        sub.cause = Some(Cause::from_timeout(&report.message()));
                    }
                    InvocationOutcome::Success(response) => {
                        if self.capture_response
                            && let Some(json) = response.json()
                        {
                            sub.put_metadata(
                                None,
                                Cow::Owned(format!("{handler} response")),
                                MetadataValue::Json(json.clone()),
                            );
                        }
                    }
                    InvocationOutcome::Error(report) => {
                        // A failed invocation is a server-side failure: a fault, as Powertools
                        // for Python and TypeScript record it (X-Ray's `error` is a 4xx).
                        sub.fault = true;
                        sub.cause = Some(Cause::from_error(report, self.capture_error));
                        if self.capture_error {
                            sub.put_metadata(
                                None,
                                Cow::Owned(format!("{handler} error")),
                                MetadataValue::Json(serde_json::json!({
                                    "type": report.type_name,
                                    "message": report.message,
                                    "sources": report.sources,
                                })),
                            );
                        }
                    }
                    InvocationOutcome::Panic(report) => {
                        sub.fault = true;
                        sub.cause = Some(Cause::from_panic(report, self.capture_error));
                        if self.capture_error {
                            sub.put_metadata(
                                None,
                                Cow::Owned(format!("{handler} error")),
                                MetadataValue::Json(serde_json::json!({
                                    "type": powertools_core::layer::PANIC_ERROR_TYPE,
                                    "message": report.message,
                                    "location": report.location,
                                })),
                            );
                        }
                    }
                }
            }
            finish_span(&span);
        });
    }
}
