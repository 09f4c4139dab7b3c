//! OpenTelemetry spans sent as X-Ray subsegments by `XraySpanProcessor`, in the same trace as
//! the `tracing` subsegments: parenting, ids, timing, attributes, errors, remote calls and
//! sampling. Every document is checked against the X-Ray schema.
#![cfg(feature = "opentelemetry")]

mod support;

use std::sync::{Arc, Mutex};

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, KeyValue, Value as OtelValue};
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use powertools_core::{Invocation, InvocationContext, TraceHeader};
use powertools_tracer::emitter::MemoryEmitter;
use powertools_tracer::opentelemetry::{XrayIdGenerator, XraySpanProcessor, current_context};
use serde_json::{Value, json};
use support::{Harness, PARENT, ROOT, assert_valid, find, flatten, harness, header};

/// A provider set up as the processor's documentation says: X-Ray ids, the processor, and the
/// SDK's default (parent-based) sampler unless `sampler` is given.
fn provider(h: &Harness, sampler: Option<Sampler>) -> (SdkTracerProvider, SdkTracer) {
    let mut builder = SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator)
        .with_span_processor(h.tracer.otel_processor());
    if let Some(sampler) = sampler {
        builder = builder.with_sampler(sampler);
    }
    let provider = builder.build();
    let tracer = provider.tracer("orders");
    (provider, tracer)
}

fn time(sub: &Value, key: &str) -> f64 {
    sub[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {sub}"))
}

#[tokio::test]
async fn otel_spans_join_the_trace_under_the_current_subsegment() {
    let h = harness(|b| b);
    let (_provider, otel) = provider(&h, None);
    let span_ids = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&span_ids);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let otel = otel.clone();
        let seen = Arc::clone(&seen);
        async move {
            tracing::info_span!("work").in_scope(|| {
                let cx = current_context();
                let outer = cx.with_span(otel.start_with_context("load order", &cx));
                {
                    let _active = outer.clone().attach();
                    let mut inner = otel.start("query");
                    inner.set_attribute(KeyValue::new("order.id", 7));
                    inner.set_attribute(KeyValue::new("xray.annotation.Tier", "gold"));
                    inner.set_attribute(KeyValue::new("cache.hit", false));
                    inner.set_attribute(KeyValue::new(
                        "db.tables",
                        OtelValue::Array(Array::String(vec!["orders".into(), "lines".into()])),
                    ));
                    seen.lock()
                        .unwrap()
                        .push(inner.span_context().span_id().to_string());
                    inner.end();
                }
                seen.lock()
                    .unwrap()
                    .push(outer.span().span_context().span_id().to_string());
                outer.span().end();
            });
            Ok(json!(null))
        }
    })
    .await
    .unwrap();

    let docs = h.documents();
    assert_eq!(docs.len(), 3, "{docs:#?}");
    // Each OpenTelemetry span is sent when it ends, before the handler's subsegment.
    assert_eq!(docs[0]["name"], "query");
    assert_eq!(docs[1]["name"], "load order");
    assert_eq!(docs[2]["name"], "## handler");
    for doc in &docs {
        assert_eq!(doc["type"], "subsegment");
        assert_eq!(doc["trace_id"], ROOT, "the invocation's trace: {doc}");
    }
    let subs = flatten(&docs);
    let (work_parent, work) = find(&subs, "work");
    let (load_parent, load) = find(&subs, "load order");
    let (query_parent, query) = find(&subs, "query");
    assert_eq!(work_parent, docs[2]["id"].as_str().unwrap());
    assert_eq!(load_parent, work["id"].as_str().unwrap());
    assert_eq!(query_parent, load["id"].as_str().unwrap());
    let span_ids = span_ids.lock().unwrap().clone();
    assert_eq!(query["id"], span_ids[0].as_str());
    assert_eq!(load["id"], span_ids[1].as_str());

    let times = [
        time(work, "start_time"),
        time(load, "start_time"),
        time(query, "start_time"),
        time(query, "end_time"),
        time(load, "end_time"),
        time(work, "end_time"),
    ];
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(times[0] > 1.6e9, "epoch seconds: {}", times[0]);

    assert_eq!(query["metadata"]["payment"]["order.id"], 7);
    assert_eq!(query["metadata"]["payment"]["cache.hit"], false);
    assert_eq!(
        query["metadata"]["payment"]["db.tables"],
        json!(["orders", "lines"])
    );
    assert_eq!(query["annotations"], json!({"Tier": "gold"}));
    for internal in [load, query] {
        assert!(internal.get("namespace").is_none(), "{internal}");
        assert!(internal.get("fault").is_none() && internal.get("error").is_none());
    }
}

#[test]
fn without_a_tracing_span_the_parent_is_the_header_parent() {
    let captured = MemoryEmitter::new();
    let tracer = powertools_tracer::Tracer::builder()
        .service("payment")
        .enabled(true)
        .emitter(captured.clone())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator)
        .with_span_processor(XraySpanProcessor::new(&tracer))
        .build();
    let otel = provider.tracer("orders");
    let header: TraceHeader = header("1").parse().unwrap();
    let invocation =
        Invocation::new(InvocationContext::for_test("r", "f").with_trace_header(Some(header)));
    invocation.sync_scope(|| otel.start_with_context("top", &current_context()).end());

    let docs = captured.documents();
    assert_eq!(docs.len(), 1, "{docs:#?}");
    assert_valid(&docs[0]);
    assert_eq!(docs[0]["name"], "top");
    assert_eq!(docs[0]["trace_id"], ROOT);
    assert_eq!(docs[0]["parent_id"], PARENT);
}

#[tokio::test]
async fn error_status_flags_the_subsegment_with_a_cause() {
    let h = harness(|b| b);
    let (_provider, otel) = provider(&h, None);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let otel = otel.clone();
        async move {
            let cx = current_context();
            let mut charge = otel.start_with_context("charge", &cx);
            charge.record_error(&std::io::Error::other("connection reset"));
            charge.add_event(
                "exception",
                vec![
                    KeyValue::new("exception.type", "PaymentError"),
                    KeyValue::new("exception.message", "card declined"),
                ],
            );
            charge.add_event("retrying", vec![]);
            charge.set_status(Status::error("payment failed"));
            charge.end();

            let mut lookup = otel.start_with_context("lookup", &cx);
            lookup.set_attribute(KeyValue::new("http.response.status_code", 404));
            lookup.set_status(Status::error("order not found"));
            lookup.end();

            let mut fine = otel.start_with_context("fine", &cx);
            fine.record_error(&std::io::Error::other("recovered"));
            fine.set_status(Status::Ok);
            fine.end();
            Ok(json!(null))
        }
    })
    .await
    .unwrap();

    let docs = h.documents();
    let subs = flatten(&docs);
    let (_, charge) = find(&subs, "charge");
    assert_eq!(charge["fault"], true);
    assert!(charge.get("error").is_none());
    let exceptions = charge["cause"]["exceptions"].as_array().unwrap();
    assert_eq!(exceptions.len(), 2, "{charge}");
    assert_eq!(exceptions[0]["message"], "connection reset");
    assert_eq!(exceptions[1]["type"], "PaymentError");
    assert_eq!(exceptions[1]["message"], "card declined");

    let (_, lookup) = find(&subs, "lookup");
    assert_eq!(
        lookup["error"], true,
        "a 4xx is the caller's error: {lookup}"
    );
    assert!(lookup.get("fault").is_none());
    assert_eq!(
        lookup["cause"]["exceptions"][0]["message"],
        "order not found"
    );
    assert_eq!(lookup["http"]["response"]["status"], 404);

    let (_, fine) = find(&subs, "fine");
    assert!(fine.get("fault").is_none() && fine.get("error").is_none());
    assert!(fine.get("cause").is_none(), "{fine}");

    let (_, handler) = find(&subs, "## handler");
    assert!(
        handler.get("fault").is_none(),
        "the handler itself succeeded"
    );
}

#[tokio::test]
async fn unsampled_disabled_and_root_spans_send_nothing() {
    let handler = |otel: SdkTracer| {
        move |_| {
            let otel = otel.clone();
            async move {
                tracing::info_span!("work")
                    .in_scope(|| otel.start_with_context("child", &current_context()).end());
                Ok(json!(null))
            }
        }
    };

    // The default sampler follows the header's decision; an always-on sampler is overruled.
    for sampler in [None, Some(Sampler::AlwaysOn)] {
        let h = harness(|b| b);
        let (_provider, otel) = provider(&h, sampler);
        h.invoke(Some(&header("0")), json!({}), handler(otel))
            .await
            .unwrap();
        assert!(h.captured.datagrams().is_empty(), "{:?}", h.documents());
    }

    let off = harness(|b| b.enabled(false));
    let (_provider, otel) = provider(&off, Some(Sampler::AlwaysOn));
    off.invoke(Some(&header("1")), json!({}), handler(otel))
        .await
        .unwrap();
    assert!(off.captured.datagrams().is_empty());

    // A span without a parent belongs to no trace of the invocation: not sent.
    let h = harness(|b| b);
    let (_provider, otel) = provider(&h, None);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let otel = otel.clone();
        async move {
            otel.start_with_context("orphan", &Context::new()).end();
            Ok(json!(null))
        }
    })
    .await
    .unwrap();
    let docs = h.documents();
    assert_eq!(docs.len(), 1, "{docs:#?}");
    assert_eq!(docs[0]["name"], "## handler");
}

#[tokio::test]
async fn client_spans_are_remote_calls_with_http_and_aws_data() {
    let h = harness(|b| b);
    let (_provider, otel) = provider(&h, None);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let otel = otel.clone();
        async move {
            let cx = current_context();
            otel.span_builder("GET /orders/{id}")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("http.request.method", "GET"),
                    KeyValue::new("url.full", "https://api.example.com/orders/7?expand=lines"),
                    KeyValue::new("http.response.status_code", 503),
                    KeyValue::new("user_agent.original", "orders/1.0"),
                ])
                .start_with_context(&otel, &cx)
                .end();
            otel.span_builder("DynamoDB.GetItem")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("rpc.system", "aws-api"),
                    KeyValue::new("rpc.service", "DynamoDB"),
                    KeyValue::new("rpc.method", "GetItem"),
                    KeyValue::new("aws.request_id", "R1"),
                    KeyValue::new(
                        "aws.dynamodb.table_names",
                        OtelValue::Array(Array::String(vec!["orders".into()])),
                    ),
                    KeyValue::new("http.response.status_code", 200),
                ])
                .start_with_context(&otel, &cx)
                .end();
            otel.span_builder("publish")
                .with_kind(SpanKind::Producer)
                .with_attributes([KeyValue::new("peer.service", "billing")])
                .start_with_context(&otel, &cx)
                .end();
            otel.span_builder("POST /hooks")
                .with_kind(SpanKind::Server)
                .with_attributes([
                    KeyValue::new("http.request.method", "POST"),
                    KeyValue::new("http.response.status_code", 204),
                ])
                .start_with_context(&otel, &cx)
                .end();
            Ok(json!(null))
        }
    })
    .await
    .unwrap();

    let docs = h.documents();
    let subs = flatten(&docs);
    let handler_id = find(&subs, "## handler").1["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (parent, http) = find(&subs, "api.example.com");
    assert_eq!(parent, &handler_id);
    assert_eq!(http["namespace"], "remote");
    assert_eq!(
        http["http"],
        json!({
            "request": {
                "method": "GET",
                "url": "https://api.example.com/orders/7?expand=lines",
                "user_agent": "orders/1.0"
            },
            "response": {"status": 503}
        })
    );
    assert_eq!(http["fault"], true, "a 5xx from the callee: {http}");

    let (_, ddb) = find(&subs, "DynamoDB");
    assert_eq!(ddb["namespace"], "aws");
    assert_eq!(
        ddb["aws"],
        json!({"operation": "GetItem", "request_id": "R1", "table_name": "orders"})
    );
    assert_eq!(ddb["http"]["response"]["status"], 200);
    assert!(ddb.get("fault").is_none() && ddb.get("error").is_none());
    assert_eq!(ddb["metadata"]["payment"]["rpc.service"], "DynamoDB");

    let (_, publish) = find(&subs, "billing");
    assert_eq!(publish["namespace"], "remote");

    let (_, server) = find(&subs, "POST /hooks");
    assert!(
        server.get("namespace").is_none(),
        "work received is no remote call: {server}"
    );
    assert_eq!(server["http"]["request"]["method"], "POST");
}
