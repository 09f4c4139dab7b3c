//! What the tracer's tests share: schema validation, an in-process invocation harness, and
//! helpers to walk subsegment trees.
#![allow(dead_code)]

use std::sync::{Arc, LazyLock};

use lambda_runtime::{Context, LambdaEvent, service_fn};
use powertools_core::layer::InvocationLayer;
use powertools_tracer::emitter::MemoryEmitter;
use powertools_tracer::{Tracer, TracerBuilder};
use serde_json::Value;
use tower::{Service, ServiceBuilder, ServiceExt};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

pub const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
pub const PARENT: &str = "53995c3f42cd8ad8";

pub fn header(sampled: &str) -> String {
    format!("Root={ROOT};Parent={PARENT};Sampled={sampled}")
}

/// The X-Ray segment schema, compiled once.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/specs/xray-segment.schema.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    &VALIDATOR
}

/// Asserts that `doc` is a valid standalone X-Ray document.
pub fn assert_valid(doc: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "invalid document {doc}: {errors:?}");
}

/// A tracer capturing its datagrams in memory, and a subscriber with its layer.
pub struct Harness {
    pub tracer: Tracer,
    pub captured: MemoryEmitter,
    pub dispatch: Dispatch,
}

pub fn harness(configure: impl FnOnce(TracerBuilder) -> TracerBuilder) -> Harness {
    let captured = MemoryEmitter::new();
    let tracer = configure(
        Tracer::builder()
            .service("payment")
            .enabled(true)
            .emitter(captured.clone()),
    )
    .build();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(tracer.layer()));
    Harness {
        tracer,
        captured,
        dispatch,
    }
}

impl Harness {
    /// Runs one invocation of `handler` through the invocation layer with the tracer's hook.
    pub async fn invoke<F, Fut>(
        &self,
        trace_header: Option<&str>,
        payload: Value,
        handler: F,
    ) -> Result<Value, lambda_runtime::Error>
    where
        F: Fn(LambdaEvent<Value>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Value, lambda_runtime::Error>> + Send + 'static,
    {
        let layer = InvocationLayer::new()
            .handler_name("handler")
            .hook(self.tracer.hook());
        let mut service = ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(handler));
        let mut ctx = Context::default();
        ctx.request_id = "req-1".into();
        ctx.xray_trace_id = trace_header.map(str::to_owned);
        let event = LambdaEvent::new(payload, ctx);
        let service = service.ready().await.expect("ready");
        let future = tracing::dispatcher::with_default(&self.dispatch, || service.call(event));
        future.with_subscriber(self.dispatch.clone()).await
    }

    /// Every document captured so far, each checked against the schema and the datagram
    /// header.
    pub fn documents(&self) -> Vec<Value> {
        for d in self.captured.datagrams() {
            assert!(d.starts_with(b"{\"format\": \"json\", \"version\": 1}\n{"));
            assert!(d.len() <= 65_507, "datagram of {} bytes", d.len());
        }
        let docs = self.captured.documents();
        docs.iter().for_each(assert_valid);
        docs
    }
}

/// Every subsegment in `docs` (standalone and embedded), as (parent id, subsegment).
pub fn flatten(docs: &[Value]) -> Vec<(String, Value)> {
    fn walk(parent: &str, sub: &Value, out: &mut Vec<(String, Value)>) {
        out.push((parent.to_owned(), sub.clone()));
        if let Some(children) = sub["subsegments"].as_array() {
            for c in children {
                walk(sub["id"].as_str().unwrap(), c, out);
            }
        }
    }
    let mut out = Vec::new();
    for d in docs {
        walk(d["parent_id"].as_str().unwrap_or(""), d, &mut out);
    }
    out
}

/// Whether `sub` is a group the tracer made to send finished siblings in one datagram: a
/// `## batch` subsegment whose `powertools` metadata counts the subsegments it carries.
pub fn is_group(sub: &Value) -> bool {
    sub["name"] == "## batch" && sub["metadata"]["powertools"]["grouped_subsegments"].is_u64()
}

/// Like [`flatten`], with the tracer's groups left out: a grouped subsegment's parent is the
/// group's parent, as if it had been embedded there.
pub fn flatten_spans(docs: &[Value]) -> Vec<(String, Value)> {
    fn walk(parent: &str, sub: &Value, out: &mut Vec<(String, Value)>) {
        let own_id = if is_group(sub) {
            parent
        } else {
            out.push((parent.to_owned(), sub.clone()));
            sub["id"].as_str().unwrap()
        };
        if let Some(children) = sub["subsegments"].as_array() {
            for c in children {
                walk(own_id, c, out);
            }
        }
    }
    let mut out = Vec::new();
    for d in docs {
        walk(d["parent_id"].as_str().unwrap_or(""), d, &mut out);
    }
    out
}

/// Receives datagrams on a loopback UDP socket, on a thread, until none arrived for 1.5 s.
pub fn receiver() -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap().to_string();
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(1500)))
        .unwrap();
    let handle = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 70_000];
        while let Ok(n) = socket.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        got
    });
    (address, handle)
}

/// The subsegment named `name` (the last document sent for it: complete beats in-progress).
pub fn find<'a>(subs: &'a [(String, Value)], name: &str) -> &'a (String, Value) {
    subs.iter()
        .rev()
        .find(|(_, s)| s["name"] == name)
        .unwrap_or_else(|| panic!("no subsegment {name:?} in {subs:#?}"))
}

pub fn shared<T>(value: T) -> Arc<T> {
    Arc::new(value)
}
