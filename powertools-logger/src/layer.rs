//! The `tracing` layer: events in, Powertools JSON lines out.

use std::sync::Arc;

use powertools_core::{Invocation, Timestamp};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::emitter::Emitter;
use crate::failures;
use crate::format::fields::{EventVisitor, SpanVisitor};
use crate::format::reserved::write_user_key;
use crate::format::{LineInput, Message, with_scratch};

/// The fields of a span, rendered once, kept in the span's extensions.
struct SpanFields(Vec<(&'static str, Vec<u8>)>);

/// The fields of `lambda_runtime`'s own span around each invocation (`requestId`,
/// `xrayTraceId`): only written on lines outside our invocation scope (a line of the runtime
/// about the invocation), which would otherwise carry no request id at all. Inside the scope the
/// lines already have `function_request_id` and `xray_trace_id`. They also tell which request a
/// runtime failure line is about (see `failures`).
struct RuntimeSpanFields(Vec<(&'static str, Vec<u8>)>);

fn is_runtime_span(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.target().starts_with("lambda_runtime")
}

/// A [`tracing_subscriber::Layer`] writing each event as one Powertools JSON line.
///
/// Keys, in order: `level, location, message, timestamp, service, [sampling_rate], cold_start,
/// function_name, function_memory_size, function_arn, function_request_id, [tenant_id],
/// [correlation_id]`, appended keys, fields of the enclosing spans (outermost first), the event's
/// fields, `[exception, exception_name, exception_chain]`, and last `xray_trace_id` (Python's
/// order). Outside an invocation the Lambda keys are left out. `location` is `file:line`, never
/// an absolute build path: a dependency's file (`~/.cargo/registry/…/tokio-1.47.0/src/…`) is
/// written from its crate's folder (`tokio-1.47.0/src/…`, see
/// [`powertools_core::location::relative`]). Built by [`Logger`](crate::Logger), usually with its
/// [`LogFilter`](crate::LogFilter) (see [`Logger::into_layer_and_hook`](crate::Logger::into_layer_and_hook)).
///
/// # Example
/// ```
/// use powertools_logger::{Logger, MemorySink};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let sink = MemorySink::new();
/// let parts = Logger::new().sink(sink.clone()).into_parts();
/// // Unfiltered: every event reaches the layer.
/// let subscriber = tracing_subscriber::Registry::default().with(parts.layer);
/// tracing::subscriber::with_default(subscriber, || tracing::trace!("very verbose"));
/// assert_eq!(sink.json_lines()[0]["level"], "TRACE");
/// ```
#[derive(Debug, Clone)]
pub struct PowertoolsJsonLayer {
    pub(crate) emitter: Arc<Emitter>,
}

impl PowertoolsJsonLayer {
    /// Whether the hook wrote the failure `event` (one of `lambda_runtime`'s failure lines) is
    /// about: the request id of the runtime's invoke span around it was noted by the hook.
    fn written_by_hook<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        ctx.event_scope(event).into_iter().flatten().any(|span| {
            let extensions = span.extensions();
            let Some(RuntimeSpanFields(fields)) = extensions.get::<RuntimeSpanFields>() else {
                return false;
            };
            fields
                .iter()
                .find(|(name, _)| *name == failures::RUNTIME_REQUEST_ID_FIELD)
                .is_some_and(|(_, id)| self.emitter.failures.take(id))
        })
    }
}

impl<S> Layer<S> for PowertoolsJsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Vec::new();
        attrs.record(&mut SpanVisitor {
            fields: &mut fields,
        });
        if fields.is_empty() {
            return;
        }
        if is_runtime_span(attrs.metadata()) {
            span.extensions_mut().insert(RuntimeSpanFields(fields));
        } else {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if is_runtime_span(span.metadata()) {
            if let Some(RuntimeSpanFields(fields)) = extensions.get_mut::<RuntimeSpanFields>() {
                values.record(&mut SpanVisitor { fields });
            }
            return;
        }
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut SpanVisitor { fields });
            return;
        }
        let mut fields = Vec::new();
        values.record(&mut SpanVisitor {
            fields: &mut fields,
        });
        if !fields.is_empty() {
            extensions.insert(SpanFields(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let timestamp = Timestamp::now();
        // `lambda_runtime`'s own ERROR line about a failure the hook wrote already: one line
        // per failed invocation (see `failures`).
        if failures::is_runtime_failure(*event.metadata().level(), event.metadata().target())
            && self.written_by_hook(event, &ctx)
        {
            return;
        }
        #[cfg(feature = "log")]
        let normalized = tracing_log::NormalizeEvent::normalized_metadata(event);
        #[cfg(feature = "log")]
        let (meta, is_log) = match normalized.as_ref() {
            Some(meta) => (meta, true),
            None => (event.metadata(), false),
        };
        #[cfg(not(feature = "log"))]
        let (meta, is_log) = (event.metadata(), false);

        with_scratch(|scratch| {
            scratch.parts.clear();
            scratch.spans.clear();
            event.record(&mut EventVisitor {
                parts: &mut scratch.parts,
                skip_log_fields: is_log,
            });
            let own_fields = event.metadata().fields();
            // The event's `message` is the message, not a member: it shadows nothing.
            let has_field = |name: &str| name != "message" && own_fields.field(name).is_some();
            // Whether a span of the event's scope, up to (not including) the span `outer`, has a
            // field `name`: a name is written once, the innermost value winning.
            let in_spans = |name: &str, outer: Option<&Id>| {
                ctx.event_scope(event)
                    .into_iter()
                    .flatten()
                    .take_while(|span| Some(&span.id()) != outer)
                    .any(|span| {
                        span.extensions()
                            .get::<SpanFields>()
                            .is_some_and(|f| f.0.iter().any(|(n, _)| *n == name))
                    })
            };
            // Appended keys give way to the event's fields and to span fields.
            let shadows_appended = |name: &str| has_field(name) || in_spans(name, None);
            if let Some(scope) = ctx.event_scope(event) {
                let mut in_invocation = None;
                for span in scope.from_root() {
                    let extensions = span.extensions();
                    let fields = if let Some(SpanFields(fields)) = extensions.get::<SpanFields>() {
                        fields
                    } else if let Some(RuntimeSpanFields(fields)) = extensions.get() {
                        if *in_invocation.get_or_insert_with(|| {
                            powertools_core::Invocation::with_current(|_| ()).is_some()
                        }) {
                            continue;
                        }
                        fields
                    } else {
                        continue;
                    };
                    let id = span.id();
                    for (name, value) in fields {
                        if !has_field(name) && !in_spans(name, Some(&id)) {
                            write_user_key(&mut scratch.spans, name);
                            scratch.spans.extend_from_slice(value);
                        }
                    }
                }
            }
            let message = std::mem::take(&mut scratch.parts.message);
            let input = LineInput {
                level: *meta.level(),
                level_name: meta.level().as_str(),
                file: meta.file(),
                line: meta.line(),
                target: meta.target(),
                location: None,
                message: Message::Text(&message),
                timestamp,
                has_field: &shadows_appended,
            };
            let emitted =
                Invocation::with_current(|inv| self.emitter.emit(scratch, &input, Some(inv)));
            if emitted.is_none() {
                self.emitter.emit(scratch, &input, None);
            }
            scratch.parts.message = message;
        });
    }
}
