//! The subsegment a traced span carries in its extensions, and how it is finished and sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing_subscriber::Registry;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::SubsegmentId;
use crate::document::{MAX_BODY_BYTES, MAX_CHILDREN_BYTES, Subsegment, fit_body, json, now_micros};
use crate::trace_context::{InvocationTrace, with_body_buffer};

/// How many traced spans are open in the process. While none is, the layer skips the
/// registry look-ups a span would otherwise cost it (finding a traced parent, closing).
static OPEN_TRACED_SPANS: AtomicUsize = AtomicUsize::new(0);

/// Whether any traced span is open in the process.
pub(crate) fn any_traced_span_open() -> bool {
    OPEN_TRACED_SPANS.load(Ordering::Acquire) != 0
}

/// The extension of a traced span.
pub(crate) struct SpanSubsegment {
    pub(crate) trace: Arc<InvocationTrace>,
    pub(crate) id: SubsegmentId,
    pub(crate) is_handler: bool,
    /// Whether an `in_progress` document was sent for it (before a child was streamed).
    pub(crate) announced: bool,
    /// The data, until the subsegment is finished (sent or handed to its parent).
    pub(crate) open: Option<Subsegment>,
}

impl SpanSubsegment {
    pub(crate) fn new(trace: Arc<InvocationTrace>, sub: Subsegment, is_handler: bool) -> Self {
        OPEN_TRACED_SPANS.fetch_add(1, Ordering::AcqRel);
        Self {
            trace,
            id: sub.id,
            is_handler,
            announced: false,
            open: Some(sub),
        }
    }
}

impl Drop for SpanSubsegment {
    fn drop(&mut self) {
        OPEN_TRACED_SPANS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Finishes the subsegment of `span`, if it has an open one: ends it now and either hands it to
/// its traced parent (embedded) or sends it. Everything is sent before this returns.
pub(crate) fn finish_span<'a, R: LookupSpan<'a>>(span: &SpanRef<'a, R>) {
    let end = now_micros();
    let (trace, mut sub) = {
        let mut ext = span.extensions_mut();
        let Some(state) = ext.get_mut::<SpanSubsegment>() else {
            return;
        };
        let Some(sub) = state.open.take() else { return };
        (Arc::clone(&state.trace), sub)
    };
    if let Ok(mut open) = trace.open_spans.lock()
        && let Some(i) = open.iter().rposition(|id| *id == span.id())
    {
        open.remove(i);
    }
    sub.end_micros = Some(end);
    let service = trace.config.service.as_str();
    let id = sub.id;
    with_body_buffer(|body| {
        fit_body(&mut sub, service, body, MAX_BODY_BYTES, &mut |child| {
            trace.send_body(id, child);
        });
        let parent = span
            .scope()
            .skip(1)
            .find(|p| p.extensions().get::<SpanSubsegment>().is_some());
        if let Some(parent) = parent {
            let mut ext = parent.extensions_mut();
            if let Some(state) = ext.get_mut::<SpanSubsegment>()
                && Arc::ptr_eq(&state.trace, &trace)
                && state.id == sub.parent_id
                && let Some(open) = state.open.as_mut()
            {
                if open.children_bytes + body.len() <= MAX_CHILDREN_BYTES {
                    open.children_bytes += body.len();
                    open.children.push(body.clone());
                    return;
                }
                if !state.announced {
                    state.announced = true;
                    let mut progress = Vec::with_capacity(256);
                    write_in_progress_body(open, &mut progress);
                    trace.send_body(open.parent_id, &progress);
                }
            }
        }
        trace.send_body(sub.parent_id, body);
    });
}

/// The body of an `in_progress` document for an open subsegment: name, id, start.
fn write_in_progress_body(sub: &Subsegment, out: &mut Vec<u8>) {
    json::key(out, "name");
    json::string(out, &sub.name);
    out.extend_from_slice(b",\"id\":\"");
    out.extend_from_slice(&sub.id.to_hex());
    out.extend_from_slice(b"\",\"start_time\":");
    json::epoch_seconds(out, sub.start_micros);
    out.extend_from_slice(b",\"in_progress\":true}");
}

/// At a timeout's cut-off: ends the subsegment of every span of `trace` still open but the
/// handler's, innermost first (each lands in its parent, as when it closes), and returns their
/// names, outermost first. Spans closing later find their subsegment already sent.
pub(crate) fn cut_open_spans(
    span: &SpanRef<'_, Registry>,
    trace: &Arc<InvocationTrace>,
) -> Vec<String> {
    let open: Vec<tracing::span::Id> = trace
        .open_spans
        .lock()
        .map(|open| open.clone())
        .unwrap_or_default();
    let mut names = Vec::new();
    with_registry(|registry| {
        for id in open.iter().rev() {
            if *id == span.id() {
                continue;
            }
            if let Some(child) = registry.span(id) {
                names.push(child.name().to_owned());
                finish_span(&child);
            }
        }
    });
    names.reverse();
    names
}

/// Runs `f` with the registry of the current dispatcher, when it is built on one.
fn with_registry<T>(f: impl FnOnce(&Registry) -> T) -> Option<T> {
    let mut f = Some(f);
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        f.take().map(|f| f(registry))
    })
}

/// Runs `f` with the registry span the caller is in (`tracing::Span::current()`), when the
/// subscriber is built on `tracing_subscriber::Registry`.
pub(crate) fn with_current_span<T>(f: impl FnOnce(&SpanRef<'_, Registry>) -> T) -> Option<T> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(id)?;
            Some(f(&span))
        })
        .flatten()
}

/// Runs `f` on the open subsegment of the nearest traced span around the caller.
pub(crate) fn with_current_subsegment<T>(
    f: impl FnOnce(&InvocationTrace, &mut Subsegment) -> T,
) -> Option<T> {
    with_current_span(|span| {
        for s in span.scope() {
            let mut ext = s.extensions_mut();
            if let Some(state) = ext.get_mut::<SpanSubsegment>() {
                let trace = Arc::clone(&state.trace);
                return state.open.as_mut().map(|sub| f(&trace, sub));
            }
        }
        None
    })
    .flatten()
}

/// The trace and id of the nearest traced span around the caller, open or finished.
pub(crate) fn current_subsegment_id() -> Option<(Arc<InvocationTrace>, SubsegmentId)> {
    with_current_span(|span| {
        span.scope().find_map(|s| {
            s.extensions()
                .get::<SpanSubsegment>()
                .map(|state| (Arc::clone(&state.trace), state.id))
        })
    })
    .flatten()
}
