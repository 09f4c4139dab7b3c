//! What the tracer knows about one traced invocation, kept in the invocation's extensions.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use powertools_core::Invocation;

use crate::document::{Children, MAX_BODY_BYTES, write_standalone};
use crate::emitter::DATAGRAM_HEADER;
use crate::tracer::TracerConfig;
use crate::{SubsegmentId, Tracer};

/// The trace an invocation's subsegments belong to. One per traced invocation; every span of the
/// invocation holds an `Arc` of it, so spans of different invocations can never mix.
pub(crate) struct InvocationTrace {
    pub(crate) config: Arc<TracerConfig>,
    /// The header's `Root`.
    pub(crate) trace_id: String,
    /// The header's `Parent`: the function's segment, parent of the top subsegments.
    pub(crate) parent_id: SubsegmentId,
    pub(crate) lineage: Option<String>,
    /// The handler's name, once the hook opened its subsegment.
    pub(crate) handler_name: OnceLock<String>,
    /// The spans whose subsegments are open, in the order opened: what a timeout closes.
    pub(crate) open_spans: std::sync::Mutex<Vec<tracing::span::Id>>,
}

/// The extension slot: `None` for an invocation that is not traced.
struct TraceSlot(Option<Arc<InvocationTrace>>);

/// The trace of `invocation`, created on first use: `None` when the tracer is disabled, or the
/// invocation has no valid trace header, no `Parent`, or `Sampled=0`.
pub(crate) fn trace_of<'i>(
    invocation: &'i Invocation,
    tracer: &Tracer,
) -> Option<&'i Arc<InvocationTrace>> {
    invocation
        .extensions()
        .try_get_or_init(|| TraceSlot(InvocationTrace::new(invocation, tracer)))?
        .0
        .as_ref()
}

impl InvocationTrace {
    fn new(invocation: &Invocation, tracer: &Tracer) -> Option<Arc<Self>> {
        if !tracer.config.enabled {
            return None;
        }
        let header = invocation.context().trace_header()?;
        if header.sampled() == Some(false) {
            return None;
        }
        let parent_id = header.parent()?.parse().ok()?;
        Some(Arc::new(Self {
            config: Arc::clone(&tracer.config),
            trace_id: header.root().to_owned(),
            parent_id,
            lineage: header.lineage().map(str::to_owned),
            handler_name: OnceLock::new(),
            open_spans: std::sync::Mutex::default(),
        }))
    }

    /// Sends a body as a standalone document under `parent_id`.
    pub(crate) fn send_body(&self, parent_id: SubsegmentId, body: &[u8]) {
        with_datagram_buffer(|datagram| {
            datagram.extend_from_slice(DATAGRAM_HEADER);
            write_standalone(datagram, &self.trace_id, parent_id, body);
            self.config.emitter.emit(datagram);
        });
    }

    /// Sends finished children of subsegment `parent_id` in as few datagrams as they fit:
    /// consecutive siblings grouped, a child too deep or too large for a group alone.
    pub(crate) fn send_children(&self, parent_id: SubsegmentId, children: &Children) {
        for packed in children.pack(MAX_BODY_BYTES) {
            with_datagram_buffer(|datagram| {
                datagram.extend_from_slice(DATAGRAM_HEADER);
                write_standalone(datagram, &self.trace_id, parent_id, b"");
                children.write_packed(&packed, datagram);
                self.config.emitter.emit(datagram);
            });
        }
    }

    /// The `X-Amzn-Trace-Id` value for a call made from subsegment `id`.
    pub(crate) fn header_for(&self, id: SubsegmentId) -> String {
        let mut out = format!("Root={};Parent={id};Sampled=1", self.trace_id);
        if let Some(lineage) = &self.lineage {
            out.push_str(";Lineage=");
            out.push_str(lineage);
        }
        out
    }
}

thread_local! {
    static DATAGRAM: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static BODY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty, reused buffer (a fresh one if the thread's is in use).
pub(crate) fn with_datagram_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    with_buffer(&DATAGRAM, f)
}

/// Like [`with_datagram_buffer`], for rendering bodies.
pub(crate) fn with_body_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    with_buffer(&BODY, f)
}

fn with_buffer<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<u8>>>,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> R {
    let mut f = Some(f);
    let reused = key.try_with(|cell| {
        cell.try_borrow_mut().ok().map(|mut buf| {
            buf.clear();
            let r = (f.take().expect("called once"))(&mut buf);
            if buf.capacity() > 4 * crate::emitter::MAX_DATAGRAM_BYTES {
                *buf = Vec::new();
            }
            r
        })
    });
    match reused {
        Ok(Some(r)) => r,
        _ => (f.take().expect("called once"))(&mut Vec::new()),
    }
}
