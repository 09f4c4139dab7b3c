//! The `tracing_subscriber::Layer` that turns spans inside traced invocations into X-Ray
//! subsegments.
//!
//! A span becomes a subsegment when it is created inside a traced invocation (its
//! [`Invocation`] scope, or a traced parent span), its level passes the tracer's filter (INFO
//! and above by default) and it does not carry `xray.skip = true`. Its parent is the nearest
//! traced ancestor span or, for the top one, the function's segment (the trace header's
//! `Parent`). Spans of the libraries a function runs on ([`DEPENDENCY_TARGETS`]: hyper, h2,
//! tower, rustls, reqwest, the AWS SDK's internals, `lambda_runtime` …) are left out whatever
//! the level, unless [`TracerBuilder::trace_dependency_spans`] asks for them: a span inside
//! one hangs under the nearest traced span around it. Fields map to subsegment data as the [`fields`] table says. An ERROR event inside
//! a traced span flags it `error` with the event's message as its cause (as
//! `#[instrument(err)]` emits).
//!
//! A finished subsegment is kept by its traced parent and embedded in the parent's document,
//! so a typical invocation sends one datagram, when its top subsegment ends. An X-Ray datagram
//! carries one document, and siblings can share a document only inside a common parent: when
//! a parent's finished children reach what one datagram holds, they are sent before the next
//! one is kept, consecutive siblings packed together as the `subsegments` of a `## batch`
//! subsegment under that parent (its `powertools` metadata `grouped_subsegments` counts them),
//! the parent announced first with an `in_progress` document. A subtree 48 subsegments deep is
//! sent as a document of its own under its parent, so that no document nests deeper than JSON
//! parsers accept (about 100 JSON levels; `serde_json` refuses more than 128).

pub mod fields;
pub(crate) mod span_state;

use powertools_core::Invocation;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::Tracer;
use crate::document::{Cause, Subsegment, now_micros, sanitize_static};
use crate::trace_context::trace_of;
use fields::{FieldVisitor, MessageVisitor, SKIP_FIELD, SkipVisitor};
use span_state::{SpanSubsegment, any_traced_span_open, finish_span};

/// The target of the handler span the [`TracerHook`](crate::TracerHook) opens; it passes the
/// level filter whatever its setting.
pub const HANDLER_TARGET: &str = "powertools_tracer::handler";

/// The target of the span the AWS SDK interceptor (feature `aws-sdk`) opens for each SDK
/// operation; it passes the level filter whatever its setting.
pub const AWS_SDK_TARGET: &str = "powertools_tracer::aws_sdk";

/// The target prefixes of the spans the tracer leaves out unless
/// [`TracerBuilder::trace_dependency_spans`] is on: the HTTP, TLS and runtime crates under a
/// function and the AWS SDK's own spans (`invoke`, `try_op`, `try_attempt` …). The SDK
/// operation's `aws` subsegment comes from the interceptor's span ([`AWS_SDK_TARGET`]).
///
/// A prefix matches the target that equals it or continues it with `::` or `_` (`hyper`
/// matches `hyper::client` and `hyper_util`, not `hyperloop`); one ending with `_` matches
/// any continuation (`aws_sdk_` matches every `aws_sdk_*` crate).
///
/// [`TracerBuilder::trace_dependency_spans`]: crate::TracerBuilder::trace_dependency_spans
pub const DEPENDENCY_TARGETS: &[&str] = &[
    "hyper",
    "h2",
    "h3",
    "tower",
    "rustls",
    "tokio_rustls",
    "hyper_rustls",
    "reqwest",
    "aws_smithy_",
    "aws_sdk_",
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_credential_types",
    "lambda_runtime",
    "lambda_http",
];

/// Whether `target` belongs to one of the [`DEPENDENCY_TARGETS`].
pub(crate) fn is_dependency_target(target: &str) -> bool {
    DEPENDENCY_TARGETS.iter().any(|prefix| {
        target.strip_prefix(prefix).is_some_and(|rest| {
            prefix.ends_with('_')
                || rest.is_empty()
                || rest.starts_with("::")
                || rest.starts_with('_')
        })
    })
}

/// Turns spans inside traced invocations into X-Ray subsegments. Made by [`Tracer::layer`].
///
/// ```
/// use powertools_tracer::Tracer;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let tracer = Tracer::builder().service("orders").build();
/// let subscriber = tracing_subscriber::registry().with(tracer.layer());
/// tracing::subscriber::with_default(subscriber, || {
///     // Outside an invocation: spans are ignored.
///     tracing::info_span!("not traced").in_scope(|| {});
/// });
/// ```
#[derive(Debug, Clone)]
pub struct XrayLayer {
    tracer: Tracer,
    enabled: bool,
    level: tracing::level_filters::LevelFilter,
    dependency_spans: bool,
}

impl XrayLayer {
    pub(crate) fn new(tracer: Tracer) -> Self {
        Self {
            enabled: tracer.config.enabled,
            level: tracer.config.level,
            dependency_spans: tracer.config.dependency_spans,
            tracer,
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for XrayLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !self.enabled {
            return;
        }
        let meta = attrs.metadata();
        let is_handler = meta.target() == HANDLER_TARGET;
        // The handler's span and the AWS SDK interceptor's pass whatever the level filter.
        if !is_handler && *meta.level() > self.level && meta.target() != AWS_SDK_TARGET {
            return;
        }
        // Other crates' spans: out before any look-up (a few prefix comparisons).
        if !self.dependency_spans && is_dependency_target(meta.target()) {
            return;
        }
        // `Some(None)`: inside an invocation that is not traced (unsampled, no header).
        let from_invocation = Invocation::with_current(|inv| trace_of(inv, &self.tracer).cloned());
        if let Some(None) = from_invocation {
            return;
        }
        // No traced span anywhere: no parent to inherit from.
        if from_invocation.is_none() && !any_traced_span_open() {
            return;
        }
        let parent = if let Some(parent) = attrs.parent() {
            ctx.span(parent)
        } else if attrs.is_contextual() {
            ctx.lookup_current()
        } else {
            None
        };
        let from_parent = parent.and_then(|p| {
            p.scope().find_map(|s| {
                s.extensions()
                    .get::<SpanSubsegment>()
                    .map(|state| (std::sync::Arc::clone(&state.trace), state.id))
            })
        });
        let (trace, parent_id) = match (from_parent, from_invocation) {
            (Some(found), _) => found,
            (None, Some(Some(trace))) => {
                let parent_id = trace.parent_id;
                (trace, parent_id)
            }
            _ => return,
        };
        if meta.fields().field(SKIP_FIELD).is_some() {
            let mut skip = SkipVisitor(false);
            attrs.record(&mut skip);
            if skip.0 {
                return;
            }
        }
        let mut sub = Subsegment::new(sanitize_static(meta.name()), parent_id, now_micros());
        attrs.record(&mut FieldVisitor { sub: &mut sub });
        let Some(span) = ctx.span(id) else { return };
        if let Ok(mut open) = trace.open_spans.lock() {
            open.push(id.clone());
        }
        span.extensions_mut()
            .insert(SpanSubsegment::new(trace, sub, is_handler));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.enabled || !any_traced_span_open() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(sub) = ext
            .get_mut::<SpanSubsegment>()
            .and_then(|s| s.open.as_mut())
        {
            values.record(&mut FieldVisitor { sub });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !self.enabled || *event.metadata().level() != Level::ERROR || !any_traced_span_open() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        for s in span.scope() {
            let mut ext = s.extensions_mut();
            if let Some(state) = ext.get_mut::<SpanSubsegment>() {
                if let Some(sub) = state.open.as_mut() {
                    sub.error = true;
                    if sub.cause.is_none() {
                        let mut visitor = MessageVisitor::default();
                        event.record(&mut visitor);
                        if let Some(text) = visitor.error.or(visitor.message) {
                            sub.cause = Some(Cause::from_message(&text));
                        }
                    }
                }
                return;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if !self.enabled || !any_traced_span_open() {
            return;
        }
        if let Some(span) = ctx.span(&id) {
            finish_span(&span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_dependency_target;

    #[test]
    fn dependency_targets_match_at_crate_boundaries() {
        for target in [
            "hyper",
            "hyper::client::connect",
            "hyper_util::client::legacy",
            "h2::proto",
            "tower::buffer",
            "tower_http::trace",
            "rustls::conn",
            "reqwest::connect",
            "aws_smithy_runtime::client::orchestrator",
            "aws_smithy_runtime_api::client",
            "aws_sdk_dynamodb::operation::get_item",
            "aws_config::imds",
            "lambda_runtime::layers",
            "lambda_runtime_api_client",
        ] {
            assert!(is_dependency_target(target), "{target}");
        }
        for target in [
            "orders",
            "hyperloop",
            "towers::build",
            "h2o",
            super::HANDLER_TARGET,
            super::AWS_SDK_TARGET,
        ] {
            assert!(!is_dependency_target(target), "{target}");
        }
    }
}
