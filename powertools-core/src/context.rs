//! The invocation context: who is being invoked, for which request, under which trace.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::PowertoolsConfig;
use crate::trace_header::{TraceHeader, TraceHeaderError};

/// Everything the utilities need to know about one invocation, built from
/// [`lambda_runtime::Context`] and the Lambda environment.
///
/// # Example
/// ```
/// use powertools_core::InvocationContext;
///
/// let mut lambda_ctx = lambda_runtime::Context::default();
/// lambda_ctx.request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678".into();
/// lambda_ctx.xray_trace_id =
///     Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into());
///
/// let ctx = InvocationContext::from_lambda(&lambda_ctx, true);
/// assert_eq!(ctx.request_id(), "c6af9ac6-7b61-11e6-9a41-93e812345678");
/// assert_eq!(ctx.xray_trace_id(), Some("1-5759e988-bd862e3fe1be46a994272793"));
/// assert!(ctx.is_cold_start());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationContext {
    request_id: String,
    function_name: String,
    function_version: String,
    memory_size_mb: Option<u32>,
    function_arn: String,
    log_group: Option<String>,
    log_stream: Option<String>,
    trace_header: Option<TraceHeader>,
    trace_header_error: Option<TraceHeaderError>,
    tenant_id: Option<String>,
    deadline_ms: u64,
    cold_start: bool,
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl InvocationContext {
    /// Builds the context of an invocation from the runtime's [`lambda_runtime::Context`].
    ///
    /// Fields the runtime left empty (a `Context::default()` in a test) fall back to the Lambda
    /// environment. The trace header comes from [`lambda_runtime::Context::xray_trace_id`], which
    /// is correct per invocation also under `run_concurrent` (unlike `_X_AMZN_TRACE_ID`). A
    /// malformed header is kept as [`InvocationContext::trace_header_error`] and the invocation
    /// runs untraced.
    pub fn from_lambda(ctx: &lambda_runtime::Context, cold_start: bool) -> Self {
        let env = &PowertoolsConfig::global().lambda;
        let cfg = &ctx.env_config;
        let (trace_header, trace_header_error) = match ctx.xray_trace_id.as_deref() {
            None | Some("") => (None, None),
            Some(raw) => match raw.parse::<TraceHeader>() {
                Ok(h) => (Some(h), None),
                Err(e) => (None, Some(e)),
            },
        };
        Self {
            request_id: ctx.request_id.clone(),
            function_name: non_empty(&cfg.function_name)
                .unwrap_or_else(|| env.function_name.clone()),
            function_version: non_empty(&cfg.version)
                .unwrap_or_else(|| env.function_version.clone()),
            memory_size_mb: u32::try_from(cfg.memory)
                .ok()
                .filter(|m| *m > 0)
                .or(env.memory_size_mb),
            function_arn: ctx.invoked_function_arn.clone(),
            log_group: non_empty(&cfg.log_group).or_else(|| env.log_group.clone()),
            log_stream: non_empty(&cfg.log_stream).or_else(|| env.log_stream.clone()),
            trace_header,
            trace_header_error,
            tenant_id: ctx.tenant_id.clone().filter(|t| !t.is_empty()),
            deadline_ms: ctx.deadline,
            cold_start,
        }
    }

    /// A context for tests and local runs: the given request id and function name, nothing else.
    ///
    /// ```
    /// let ctx = powertools_core::InvocationContext::for_test("req-1", "my-fn");
    /// assert_eq!(ctx.function_name(), "my-fn");
    /// assert!(!ctx.is_cold_start());
    /// ```
    pub fn for_test(request_id: &str, function_name: &str) -> Self {
        Self {
            request_id: request_id.to_owned(),
            function_name: function_name.to_owned(),
            function_version: "$LATEST".to_owned(),
            memory_size_mb: Some(128),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            log_group: None,
            log_stream: None,
            trace_header: None,
            trace_header_error: None,
            tenant_id: None,
            deadline_ms: 0,
            cold_start: false,
        }
    }

    /// Sets the trace header (builder style, for tests).
    pub fn with_trace_header(mut self, header: Option<TraceHeader>) -> Self {
        self.trace_header = header;
        self
    }

    /// Sets the cold-start flag (builder style, for tests).
    pub fn with_cold_start(mut self, cold_start: bool) -> Self {
        self.cold_start = cold_start;
        self
    }

    /// Sets the tenant id (builder style, for tests).
    pub fn with_tenant_id(mut self, tenant_id: Option<String>) -> Self {
        self.tenant_id = tenant_id;
        self
    }

    /// The AWS request id (`function_request_id`).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    /// The function name.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }
    /// The function version (`$LATEST` or a number).
    pub fn function_version(&self) -> &str {
        &self.function_version
    }
    /// The configured memory, in MB.
    pub fn memory_size_mb(&self) -> Option<u32> {
        self.memory_size_mb
    }
    /// The ARN the function was invoked with (may carry an alias or version).
    pub fn function_arn(&self) -> &str {
        &self.function_arn
    }
    /// The CloudWatch Logs group.
    pub fn log_group(&self) -> Option<&str> {
        self.log_group.as_deref()
    }
    /// The CloudWatch Logs stream.
    pub fn log_stream(&self) -> Option<&str> {
        self.log_stream.as_deref()
    }
    /// The invocation's trace header, when the runtime sent a valid one.
    pub fn trace_header(&self) -> Option<&TraceHeader> {
        self.trace_header.as_ref()
    }
    /// Why the runtime's trace header was rejected, when it was.
    pub fn trace_header_error(&self) -> Option<&TraceHeaderError> {
        self.trace_header_error.as_ref()
    }
    /// The trace id (`Root`), the logger's `xray_trace_id`.
    pub fn xray_trace_id(&self) -> Option<&str> {
        self.trace_header.as_ref().map(TraceHeader::root)
    }
    /// The tenant id, in tenant isolation mode.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }
    /// Whether this is the first invocation of the process (and not provisioned concurrency).
    pub fn is_cold_start(&self) -> bool {
        self.cold_start
    }
    /// The deadline in milliseconds since the Unix epoch (0 when unknown).
    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }
    /// The deadline as a [`SystemTime`], when known.
    pub fn deadline(&self) -> Option<SystemTime> {
        (self.deadline_ms > 0).then(|| UNIX_EPOCH + Duration::from_millis(self.deadline_ms))
    }
    /// Time left before the deadline (zero once passed; `None` when unknown).
    pub fn remaining_time(&self) -> Option<Duration> {
        self.deadline().map(|d| {
            d.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_trace_header_is_kept_as_an_error() {
        let mut c = lambda_runtime::Context::default();
        c.request_id = "r".into();
        c.xray_trace_id = Some("Root=nope".into());
        let ctx = InvocationContext::from_lambda(&c, false);
        assert!(ctx.trace_header().is_none());
        assert!(matches!(
            ctx.trace_header_error(),
            Some(TraceHeaderError::InvalidRoot(_))
        ));
    }

    #[test]
    fn runtime_fields_are_copied() {
        let mut c = lambda_runtime::Context::default();
        c.request_id = "r-1".into();
        c.deadline = 1_795_503_914_507;
        c.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn".into();
        c.tenant_id = Some("tenant-a".into());
        let cfg = lambda_runtime::Config {
            function_name: "payment-fn".into(),
            memory: 256,
            version: "7".into(),
            ..Default::default()
        };
        c.env_config = std::sync::Arc::new(cfg);
        let ctx = InvocationContext::from_lambda(&c, true);
        assert_eq!(ctx.function_name(), "payment-fn");
        assert_eq!(ctx.memory_size_mb(), Some(256));
        assert_eq!(ctx.function_version(), "7");
        assert_eq!(ctx.tenant_id(), Some("tenant-a"));
        assert_eq!(ctx.deadline_ms(), 1_795_503_914_507);
        assert!(ctx.deadline().is_some());
        assert_eq!(ctx.xray_trace_id(), None);
        assert!(ctx.is_cold_start());
    }
}
