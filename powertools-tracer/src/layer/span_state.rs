//! The subsegment a traced span carries in its extensions, and how it is finished and sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing_subscriber::Registry;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::SubsegmentId;
use crate::document::{
    Children, MAX_BODY_BYTES, MAX_CHILDREN_BYTES, Subsegment, fit_body, json, now_micros,
};
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
    /// Whether an `in_progress` document was sent for it (before the first document sent under
    /// it while it was still open).
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
/// its traced parent (kept there until the parent's document is written) or sends it.
///
/// A parent keeps its finished children's bodies up to what one datagram holds
/// ([`MAX_CHILDREN_BYTES`]); when the next child would not fit, the children kept are sent
/// first, grouped into as few documents as fit (the parent announced once with an
/// `in_progress` document before anything is sent under it). Everything is sent before this
/// returns.
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
        // Children that cannot stay in this document leave now: this subsegment has ended, so
        // nothing needs announcing.
        fit_body(&mut sub, service, body, MAX_BODY_BYTES, &mut |children| {
            trace.send_children(id, &children);
        });
        let levels = sub.children.levels() + 1;
        let parent = span
            .scope()
            .skip(1)
            .find(|p| p.extensions().get::<SpanSubsegment>().is_some());
        let Some(parent) = parent else {
            trace.send_body(sub.parent_id, body);
            return;
        };
        // What leaves the parent to make room: sent once its lock is released.
        let mut flushed: Option<Flushed> = None;
        let kept = {
            let mut ext = parent.extensions_mut();
            match ext.get_mut::<SpanSubsegment>() {
                Some(state) if Arc::ptr_eq(&state.trace, &trace) && state.id == sub.parent_id => {
                    let announced = &mut state.announced;
                    state.open.as_mut().map(|open| {
                        if !open.children.is_empty()
                            && open.children.embedded_bytes() + body.len() + 2 > MAX_CHILDREN_BYTES
                        {
                            let announcement = (!*announced).then(|| {
                                *announced = true;
                                let mut progress = Vec::with_capacity(256);
                                write_in_progress_body(open, &mut progress);
                                (open.parent_id, progress)
                            });
                            flushed = Some(Flushed {
                                announcement,
                                children: open.children.take(),
                            });
                        }
                        open.children.push(body, sub.start_micros, end, levels);
                    })
                }
                _ => None,
            }
        };
        if let Some(Flushed {
            announcement,
            children,
        }) = flushed
        {
            if let Some((grandparent, progress)) = announcement {
                trace.send_body(grandparent, &progress);
            }
            trace.send_children(sub.parent_id, &children);
        }
        if kept.is_none() {
            trace.send_body(sub.parent_id, body);
        }
    });
}

/// Children that left an open parent to make room, and the parent's `in_progress` document
/// (its parent id and body) when it was not announced yet.
struct Flushed {
    announcement: Option<(SubsegmentId, Vec<u8>)>,
    children: Children,
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
