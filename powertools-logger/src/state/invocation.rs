//! What the logger keeps for one invocation, stored in its [`Extensions`](powertools_core::Extensions).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock};

use powertools_core::{Invocation, InvocationContext};

use super::AppendedKeys;
use crate::buffer::LogBuffer;
use crate::format::json;

/// The logger's per-invocation state.
#[derive(Debug, Default)]
pub(crate) struct InvocationLogState {
    pub(crate) keys: AppendedKeys,
    correlation_id: RwLock<Option<Box<str>>>,
    sampled: AtomicBool,
    pub(crate) buffer: Mutex<LogBuffer>,
    lambda: OnceLock<LambdaMembers>,
    /// The handler's name, as the invocation layer calls it.
    handler_name: OnceLock<Box<str>>,
}

/// The invocation's Lambda members, rendered once: the part after `service` and the tail.
#[derive(Debug)]
pub(crate) struct LambdaMembers {
    /// `,"cold_start":…,"function_name":…,"function_memory_size":…,"function_arn":…,"function_request_id":…[,"tenant_id":…]`
    pub(crate) head: Box<[u8]>,
    /// `,"xray_trace_id":…` when present: always the last key of a line (Python's order).
    pub(crate) tail: Box<[u8]>,
}

impl LambdaMembers {
    fn render(ctx: &InvocationContext) -> Self {
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b",\"cold_start\":");
        head.extend_from_slice(if ctx.is_cold_start() {
            b"true"
        } else {
            b"false"
        });
        if !ctx.function_name().is_empty() {
            head.extend_from_slice(b",\"function_name\":");
            json::write_str(&mut head, ctx.function_name());
        }
        if let Some(memory) = ctx.memory_size_mb() {
            head.extend_from_slice(b",\"function_memory_size\":");
            json::write_u64(&mut head, u64::from(memory));
        }
        if !ctx.function_arn().is_empty() {
            head.extend_from_slice(b",\"function_arn\":");
            json::write_str(&mut head, ctx.function_arn());
        }
        if !ctx.request_id().is_empty() {
            head.extend_from_slice(b",\"function_request_id\":");
            json::write_str(&mut head, ctx.request_id());
        }
        // With the other keys of the invocation's context: `xray_trace_id` stays the last key.
        if let Some(tenant) = ctx.tenant_id() {
            head.extend_from_slice(b",\"tenant_id\":");
            json::write_str(&mut head, tenant);
        }
        let mut tail = Vec::new();
        if let Some(trace_id) = ctx.xray_trace_id() {
            tail.extend_from_slice(b",\"xray_trace_id\":");
            json::write_str(&mut tail, trace_id);
        }
        Self {
            head: head.into_boxed_slice(),
            tail: tail.into_boxed_slice(),
        }
    }
}

impl InvocationLogState {
    /// The state of `invocation`, created on first use.
    pub(crate) fn of(invocation: &Invocation) -> &Self {
        invocation.extensions().get_or_init(Self::default)
    }

    pub(crate) fn lambda_members(&self, ctx: &InvocationContext) -> &LambdaMembers {
        self.lambda.get_or_init(|| LambdaMembers::render(ctx))
    }

    pub(crate) fn set_handler_name(&self, name: &str) {
        let _ = self.handler_name.set(name.into());
    }

    /// The handler's name, when the invocation layer gave it to the hook.
    pub(crate) fn handler_name(&self) -> Option<&str> {
        self.handler_name.get().map(|name| &**name)
    }

    pub(crate) fn set_sampled(&self, sampled: bool) {
        self.sampled.store(sampled, Ordering::Relaxed);
    }

    pub(crate) fn is_sampled(&self) -> bool {
        self.sampled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_correlation_id(&self, id: Option<&str>) {
        *self
            .correlation_id
            .write()
            .unwrap_or_else(PoisonError::into_inner) = id.map(Into::into);
    }

    pub(crate) fn correlation_id(&self) -> Option<String> {
        self.correlation_id
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_deref()
            .map(str::to_owned)
    }

    /// Appends `,"correlation_id":"…"` when there is one.
    pub(crate) fn write_correlation_member(&self, out: &mut Vec<u8>) {
        let id = self
            .correlation_id
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(id) = id.as_deref() {
            out.extend_from_slice(b",\"correlation_id\":");
            json::write_str(out, id);
        }
    }

    pub(crate) fn buffer(&self) -> std::sync::MutexGuard<'_, LogBuffer> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
