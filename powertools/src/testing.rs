//! Run a handler inside [`PowertoolsLayer`] in a plain `#[tokio::test]`,
//! with a fake Lambda context, and get back what CloudWatch Logs, CloudWatch metrics and X-Ray
//! would have received, as JSON values to assert on.
//!
//! ```
//! use lambda_runtime::{Error, LambdaEvent};
//! use powertools::metrics::Unit;
//! use powertools::testing::TestHarness;
//! use serde_json::{Value, json};
//!
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     let order_id = event.payload["id"].as_str().unwrap_or_default();
//!     tracing::info!(order_id, "order received");
//!     powertools::metrics::current().add_metric("Orders", Unit::Count, 1.0)?;
//!     Ok(json!({ "ok": true }))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let harness = TestHarness::builder().service("orders").namespace("Shop").build();
//! let run = harness.invoke(handler, json!({ "id": "o-1" })).await;
//!
//! assert_eq!(run.result.as_ref().unwrap(), &json!({ "ok": true }));
//! let line = run.log_line("order received").expect("logged");
//! assert_eq!(line["order_id"], "o-1");
//! assert_eq!(line["function_request_id"], run.request_id.as_str());
//! assert_eq!(run.metric_values("Orders"), vec![1.0]);
//! assert_eq!(run.subsegment("## handler").expect("traced")["trace_id"], run.trace_id.as_str());
//! # }
//! ```
//!
//! Handlers written with `#[powertools::handler]` work too: inside the harness's layer the
//! attribute does not wrap the handler a second time, so everything lands in the harness.
//!
//! The subscriber is the harness's only while the handler runs on the test's task; work the
//! handler hands to `tokio::spawn` logs through the process's subscriber. Whether an invocation
//! is a cold start is decided once per process, as in Lambda: the first invocation in the test
//! binary is the cold one.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, LambdaEvent};
use powertools_core::layer::InvocationService;
use powertools_logger::{Logger, MemorySink};
use powertools_metrics::{CaptureSink, Metrics};
use powertools_tracer::Tracer;
use powertools_tracer::emitter::MemoryEmitter;
use serde_json::Value;
use tower::util::ServiceFn;
use tower::{Layer, Service};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

use crate::{PowertoolsLayer, PowertoolsLayerBuilder};

/// A [`PowertoolsLayer`] writing into memory, and fake Lambda contexts to invoke handlers with.
#[derive(Debug)]
pub struct TestHarness {
    layer: PowertoolsLayer,
    dispatch: Dispatch,
    logs: MemorySink,
    metrics: CaptureSink,
    xray: MemoryEmitter,
    function_name: String,
}

/// Configures a [`TestHarness`].
#[derive(Debug)]
#[must_use]
pub struct TestHarnessBuilder {
    layer: PowertoolsLayerBuilder,
    service: String,
    namespace: String,
    function_name: String,
    log_event: bool,
}

impl Default for TestHarnessBuilder {
    fn default() -> Self {
        Self {
            layer: PowertoolsLayer::builder(),
            service: "test-service".to_owned(),
            namespace: "Test".to_owned(),
            function_name: "test-function".to_owned(),
            log_event: false,
        }
    }
}

impl TestHarnessBuilder {
    /// The service name (default `test-service`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// The metrics namespace (default `Test`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The function name in the fake context (default `test-function`).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function_name = name.into();
        self
    }

    /// The handler's name: its `## <name>` subsegment (default `handler`).
    pub fn handler_name(mut self, name: impl Into<String>) -> Self {
        self.layer = self.layer.handler_name(name);
        self
    }

    /// See [`PowertoolsLayerBuilder::correlation_id_path`].
    pub fn correlation_id_path(mut self, path: impl Into<String>) -> Self {
        self.layer = self.layer.correlation_id_path(path);
        self
    }

    /// Log every incoming event (default off).
    pub fn log_event(mut self, on: bool) -> Self {
        self.log_event = on;
        self
    }

    /// Builds the harness.
    ///
    /// # Panics
    /// When the correlation id path is malformed (a test set-up mistake).
    pub fn build(self) -> TestHarness {
        let logs = MemorySink::new();
        let metrics = CaptureSink::new();
        let xray = MemoryEmitter::new();
        let logger = Logger::new()
            .service(self.service.clone())
            .log_event(self.log_event)
            .sink(logs.clone());
        let metrics_handle = Metrics::builder()
            .namespace(self.namespace)
            .service(self.service.clone())
            .function_name(self.function_name.clone())
            .warn_on_empty_metrics(false)
            .sink(metrics.clone())
            .build()
            .unwrap_or_else(|e| panic!("invalid test namespace or service: {e}"));
        let tracer = Tracer::builder()
            .service(self.service)
            .enabled(true)
            .emitter(xray.clone())
            .build();
        let assembled = crate::assemble::assemble_parts(
            self.layer
                .logger(logger)
                .metrics(metrics_handle)
                .tracer(tracer)
                .install_subscriber(false),
            false,
        )
        .unwrap_or_else(|e| panic!("invalid test harness configuration: {e}"));
        TestHarness {
            layer: assembled.layer,
            dispatch: assembled.dispatch,
            logs,
            metrics,
            xray,
            function_name: self.function_name,
        }
    }
}

impl Default for TestHarness {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl TestHarness {
    /// A harness with the defaults (service `test-service`, namespace `Test`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder.
    pub fn builder() -> TestHarnessBuilder {
        TestHarnessBuilder::default()
    }

    /// The layer the harness wraps handlers in.
    pub fn layer(&self) -> &PowertoolsLayer {
        &self.layer
    }

    /// A fake Lambda context: a fresh request id, a sampled trace header, a deadline 30 s away.
    pub fn context(&self) -> Context {
        // Unique across the harnesses of a test binary.
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let unique = u64::from(now.subsec_nanos()) ^ (n << 32);
        let mut context = Context::default();
        context.request_id = format!("00000000-0000-4000-8000-{n:012x}");
        context.deadline = u64::try_from(now.as_millis()).unwrap_or(u64::MAX) + 30_000;
        context.invoked_function_arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            self.function_name
        );
        context.xray_trace_id = Some(format!(
            "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=1",
            now.as_secs(),
            u128::from(unique) << 16 | u128::from(n),
            unique | 1
        ));
        let mut config = lambda_runtime::Config::default();
        config.function_name.clone_from(&self.function_name);
        config.memory = 128;
        "$LATEST".clone_into(&mut config.version);
        config.log_group = format!("/aws/lambda/{}", self.function_name);
        "2026/01/01/[$LATEST]0123456789abcdef".clone_into(&mut config.log_stream);
        context.env_config = Arc::new(config);
        context
    }

    /// Invokes `handler` with `payload` and a fresh [`context`](Self::context).
    pub async fn invoke<T, R, E, F, Fut>(&self, handler: F, payload: T) -> TestInvocation<R, E>
    where
        F: FnMut(LambdaEvent<T>) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        InvocationService<ServiceFn<F>>: Service<LambdaEvent<T>, Response = R, Error = E>,
    {
        self.invoke_with(handler, LambdaEvent::new(payload, self.context()))
            .await
    }

    /// Invokes `handler` with an event you built (say, with your own context).
    pub async fn invoke_with<T, R, E, F, Fut>(
        &self,
        handler: F,
        event: LambdaEvent<T>,
    ) -> TestInvocation<R, E>
    where
        F: FnMut(LambdaEvent<T>) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        InvocationService<ServiceFn<F>>: Service<LambdaEvent<T>, Response = R, Error = E>,
    {
        let request_id = event.context.request_id.clone();
        let trace_id = trace_root(event.context.xray_trace_id.as_deref());
        self.run(request_id, trace_id, handler, event).await
    }

    /// Invokes a `lambda_http` handler with `request` and a fresh [`context`](Self::context)
    /// (added to the request's extensions).
    #[cfg(feature = "http")]
    pub async fn invoke_http<R, E, F, Fut>(
        &self,
        handler: F,
        mut request: lambda_http::Request,
    ) -> TestInvocation<R, E>
    where
        F: FnMut(lambda_http::Request) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        InvocationService<ServiceFn<F>>: Service<lambda_http::Request, Response = R, Error = E>,
    {
        let context = self.context();
        let request_id = context.request_id.clone();
        let trace_id = trace_root(context.xray_trace_id.as_deref());
        request.extensions_mut().insert(context);
        self.run(request_id, trace_id, handler, request).await
    }

    async fn run<Req, R, E, F, Fut>(
        &self,
        request_id: String,
        trace_id: String,
        handler: F,
        request: Req,
    ) -> TestInvocation<R, E>
    where
        F: FnMut(Req) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        InvocationService<ServiceFn<F>>: Service<Req, Response = R, Error = E>,
    {
        let mut service = self
            .layer
            .invocation_layer()
            .layer(tower::service_fn(handler));
        // `call` may open the handler's span before the future is first polled.
        let future = tracing::dispatcher::with_default(&self.dispatch, || service.call(request));
        let result = future.with_subscriber(self.dispatch.clone()).await;
        let logs = self.logs.take();
        let mut log_lines = Vec::with_capacity(logs.len());
        for line in logs {
            log_lines.push(serde_json::from_str(&line).unwrap_or(Value::String(line)));
        }
        TestInvocation {
            result,
            request_id,
            trace_id,
            logs: log_lines,
            metrics: self.metrics.take_documents(),
            traces: self.xray.take_documents(),
        }
    }
}

fn trace_root(header: Option<&str>) -> String {
    header
        .and_then(|h| h.split(';').find_map(|part| part.strip_prefix("Root=")))
        .unwrap_or_default()
        .to_owned()
}

/// What one invocation in a [`TestHarness`] returned and wrote.
#[derive(Debug)]
#[non_exhaustive]
pub struct TestInvocation<R, E> {
    /// The handler's result, as the runtime would have received it.
    pub result: Result<R, E>,
    /// The fake context's request id.
    pub request_id: String,
    /// The trace header's `Root`.
    pub trace_id: String,
    /// The log lines, parsed (a line that is not JSON is kept as a string).
    pub logs: Vec<Value>,
    /// The EMF documents (including a `ColdStart` document on a cold start, with
    /// `capture_cold_start_metric`).
    pub metrics: Vec<Value>,
    /// The X-Ray segment documents sent to the daemon.
    pub traces: Vec<Value>,
}

impl<R, E> TestInvocation<R, E> {
    /// The first log line whose `message` is `message`.
    pub fn log_line(&self, message: &str) -> Option<&Value> {
        self.logs.iter().find(|l| l["message"] == message)
    }

    /// Every value recorded for the metric `name`, across the EMF documents.
    pub fn metric_values(&self, name: &str) -> Vec<f64> {
        self.metrics
            .iter()
            .filter_map(|doc| doc.get(name))
            .flat_map(|v| match v {
                Value::Array(values) => values.iter().filter_map(Value::as_f64).collect(),
                other => other.as_f64().into_iter().collect::<Vec<_>>(),
            })
            .collect()
    }

    /// The first subsegment named `name` (e.g. `## handler`), among the documents sent and
    /// the subsegments nested in them.
    pub fn subsegment(&self, name: &str) -> Option<&Value> {
        find_subsegment(&self.traces, name)
    }
}

/// The first subsegment named `name` among X-Ray `documents` and the subsegments nested in them.
///
/// ```
/// let docs = [serde_json::json!({"name": "## handler", "subsegments": [{"name": "step"}]})];
/// assert!(powertools::testing::find_subsegment(&docs, "step").is_some());
/// ```
pub fn find_subsegment<'a>(documents: &'a [Value], name: &str) -> Option<&'a Value> {
    fn find<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
        if doc["name"] == name {
            return Some(doc);
        }
        doc["subsegments"]
            .as_array()?
            .iter()
            .find_map(|child| find(child, name))
    }
    documents.iter().find_map(|doc| find(doc, name))
}
