//! A real `aws-sdk-dynamodb` client with the `XrayInterceptor`, pointed at a loopback mock of
//! DynamoDB, inside invocations run by the tracer's hook: the `aws` subsegment and the trace
//! header the service receives.
#![cfg(feature = "aws-sdk")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use powertools_tracer::aws_sdk::XrayInterceptor;
use serde_json::{Value, json};
use support::{PARENT, ROOT, flatten, harness, header};

/// One request the mock received: lower-cased header names and values, and the body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the mock answers: status, extra headers, JSON body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// A loopback HTTP/1.1 server answering each request with `respond(n, request)`, `n` counting
/// requests from 0.
struct Mock {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Mock {
    fn start(respond: impl Fn(usize, &Received) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let respond = Arc::new(respond);
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (log, respond) = (Arc::clone(&log), Arc::clone(&respond));
                std::thread::spawn(move || serve(stream, &log, &*respond));
            }
        });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Received>>,
    respond: &(dyn Fn(usize, &Received) -> Answer + Send + Sync),
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let request = Received {
            headers,
            body: String::from_utf8(body).unwrap(),
        };
        let n = {
            let mut log = log.lock().unwrap();
            log.push(request.clone());
            log.len() - 1
        };
        let (status, extra, body) = respond(n, &request);
        let mut response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in extra {
            response.push_str(k);
            response.push_str(": ");
            response.push_str(&v);
            response.push_str("\r\n");
        }
        response.push_str("\r\n");
        response.push_str(&body);
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn item_found(n: usize) -> Answer {
    (
        200,
        vec![("x-amzn-RequestId", format!("REQ{n}"))],
        json!({"Item": {"id": {"S": "1"}, "total": {"N": "42"}}}).to_string(),
    )
}

fn client(url: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .interceptor(XrayInterceptor::new())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn get_order(client: &aws_sdk_dynamodb::Client) -> Result<Value, lambda_runtime::Error> {
    let out = client
        .get_item()
        .table_name("orders")
        .key("id", AttributeValue::S("1".into()))
        .send()
        .await?;
    let total = out.item().and_then(|i| i.get("total")).cloned();
    Ok(json!(format!("{total:?}")))
}

/// The `DynamoDB` subsegments of the captured documents, as (parent id, subsegment).
fn aws_subsegments(h: &support::Harness) -> Vec<(String, Value)> {
    flatten(&h.documents())
        .into_iter()
        .filter(|(_, s)| s["namespace"] == "aws")
        .collect()
}

fn trace_header_parts(value: &str) -> (String, String, String) {
    let part = |key: &str| {
        value
            .split(';')
            .find_map(|p| p.strip_prefix(key))
            .unwrap_or_default()
            .to_owned()
    };
    (part("Root="), part("Parent="), part("Sampled="))
}

#[tokio::test]
async fn get_item_is_one_aws_subsegment_and_sends_it_as_the_trace_parent() {
    let mock = Mock::start(|n, _| item_found(n));
    let client = client(&mock.url);
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let client = client.clone();
        async move { get_order(&client).await }
    })
    .await
    .unwrap();

    let subs = flatten(&h.documents());
    let names: Vec<_> = subs.iter().map(|(_, s)| s["name"].clone()).collect();
    assert_eq!(names, ["## handler", "DynamoDB"], "{subs:#?}");
    let (parent, sub) = &subs[1];
    assert_eq!(parent, subs[0].1["id"].as_str().unwrap());
    assert_eq!(sub["namespace"], "aws");
    assert_eq!(
        sub["aws"],
        json!({
            "operation": "GetItem",
            "region": "eu-west-1",
            "table_name": "orders",
            "request_id": "REQ0",
            "retries": 0,
        })
    );
    assert_eq!(sub["http"]["response"]["status"], 200);
    for flag in ["error", "throttle", "fault", "cause"] {
        assert!(sub.get(flag).is_none(), "{flag}: {sub}");
    }

    let received = mock.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].body.contains("\"TableName\":\"orders\""));
    let value = received[0].header("x-amzn-trace-id").expect("trace header");
    let (root, parent, sampled) = trace_header_parts(value);
    assert_eq!(root, ROOT);
    assert_eq!(parent, sub["id"].as_str().unwrap());
    assert_ne!(parent, PARENT);
    assert_eq!(sampled, "1");
}

#[tokio::test]
async fn the_subsegment_is_sent_whatever_the_tracer_level() {
    let mock = Mock::start(|n, _| item_found(n));
    let client = client(&mock.url);
    let h = harness(|b| b.level(tracing::level_filters::LevelFilter::WARN));
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let client = client.clone();
        async move { get_order(&client).await }
    })
    .await
    .unwrap();
    let subs = aws_subsegments(&h);
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].1["name"], "DynamoDB");
}

/// One GetItem inside the user's span `load order`, with the tracer at DEBUG: every
/// subsegment as (parent id, name, id).
async fn get_item_at_debug(trace_dependency_spans: bool) -> Vec<(String, String, String)> {
    use tracing::Instrument;
    let mock = Mock::start(|n, _| item_found(n));
    let client = client(&mock.url);
    let h = harness(|b| {
        b.level(tracing::Level::DEBUG)
            .trace_dependency_spans(trace_dependency_spans)
    });
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let client = client.clone();
        async move { get_order(&client).await }.instrument(tracing::info_span!("load order"))
    })
    .await
    .unwrap();
    flatten(&h.documents())
        .into_iter()
        .map(|(parent, s)| {
            (
                parent,
                s["name"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn at_debug_the_aws_subsegment_hangs_under_the_users_span_not_the_sdks() {
    let subs = get_item_at_debug(false).await;
    let names: Vec<_> = subs.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, ["## handler", "load order", "DynamoDB"], "{subs:#?}");
    assert_eq!(subs[2].0, subs[1].2, "{subs:#?}");
}

#[tokio::test]
async fn trace_dependency_spans_brings_the_sdks_spans_back() {
    let subs = get_item_at_debug(true).await;
    let dynamodb = subs.iter().find(|(_, n, _)| n == "DynamoDB").expect("aws");
    let user = subs
        .iter()
        .find(|(_, n, _)| n == "load order")
        .expect("user");
    assert!(subs.len() > 3, "{subs:#?}");
    // The SDK's own spans enclose the interceptor's.
    assert_ne!(dynamodb.0, user.2, "{subs:#?}");
}

#[tokio::test]
async fn a_4xx_is_an_error_with_the_sdk_error_as_cause() {
    let mock = Mock::start(|_, _| {
        (
            400,
            vec![("x-amzn-RequestId", "NOTFOUND".to_owned())],
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                "message": "Requested resource not found"
            })
            .to_string(),
        )
    });
    let client = client(&mock.url);
    let h = harness(|b| b);
    let result = h
        .invoke(Some(&header("1")), json!({}), move |_| {
            let client = client.clone();
            async move { get_order(&client).await }
        })
        .await;
    assert!(result.is_err());
    let subs = aws_subsegments(&h);
    assert_eq!(subs.len(), 1);
    let sub = &subs[0].1;
    assert_eq!(sub["error"], true);
    assert!(sub.get("fault").is_none() && sub.get("throttle").is_none());
    assert_eq!(sub["http"]["response"]["status"], 400);
    assert_eq!(sub["aws"]["request_id"], "NOTFOUND");
    assert_eq!(sub["aws"]["retries"], 0);
    let exception = &sub["cause"]["exceptions"][0];
    assert_eq!(exception["type"], "ResourceNotFoundException");
    assert_eq!(
        exception["message"],
        "ResourceNotFoundException: Requested resource not found"
    );
}

#[tokio::test]
async fn a_429_is_a_throttle() {
    let mock = Mock::start(|_, _| {
        (
            429,
            vec![("x-amzn-RequestId", "SLOW".to_owned())],
            json!({"__type": "Throttled", "message": "slow down"}).to_string(),
        )
    });
    let client = client(&mock.url);
    let h = harness(|b| b);
    let result = h
        .invoke(Some(&header("1")), json!({}), move |_| {
            let client = client.clone();
            async move { get_order(&client).await }
        })
        .await;
    assert!(result.is_err());
    let subs = aws_subsegments(&h);
    assert_eq!(subs.len(), 1);
    let sub = &subs[0].1;
    assert_eq!(sub["error"], true);
    assert_eq!(sub["throttle"], true);
    assert_eq!(sub["http"]["response"]["status"], 429);
    assert!(sub["cause"]["exceptions"][0]["message"].is_string());
}

#[tokio::test]
async fn a_5xx_is_retried_counted_and_a_fault_each_attempt_carrying_the_header() {
    let mock = Mock::start(|n, _| {
        (
            500,
            vec![("x-amzn-RequestId", format!("FAIL{n}"))],
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                "message": "boom"
            })
            .to_string(),
        )
    });
    let client = client(&mock.url);
    let h = harness(|b| b);
    let result = h
        .invoke(Some(&header("1")), json!({}), move |_| {
            let client = client.clone();
            async move { get_order(&client).await }
        })
        .await;
    assert!(result.is_err());
    let subs = aws_subsegments(&h);
    assert_eq!(
        subs.len(),
        1,
        "one subsegment for the operation, not per attempt"
    );
    let sub = &subs[0].1;
    assert_eq!(sub["fault"], true);
    assert!(sub.get("error").is_none());
    assert_eq!(sub["http"]["response"]["status"], 500);
    assert_eq!(sub["aws"]["retries"], 2);
    assert_eq!(sub["aws"]["request_id"], "FAIL2");
    assert_eq!(sub["cause"]["exceptions"][0]["type"], "InternalServerError");

    let received = mock.received();
    assert_eq!(received.len(), 3);
    for r in &received {
        let (root, parent, _) = trace_header_parts(r.header("x-amzn-trace-id").unwrap());
        assert_eq!(
            (root.as_str(), parent.as_str()),
            (ROOT, sub["id"].as_str().unwrap())
        );
    }
}

#[tokio::test]
async fn a_5xx_then_success_records_the_retry_and_no_flag() {
    let mock = Mock::start(|n, _| {
        if n == 0 {
            (
                500,
                vec![],
                json!({"__type": "InternalServerError"}).to_string(),
            )
        } else {
            item_found(n)
        }
    });
    let client = client(&mock.url);
    let h = harness(|b| b);
    h.invoke(Some(&header("1")), json!({}), move |_| {
        let client = client.clone();
        async move { get_order(&client).await }
    })
    .await
    .unwrap();
    let sub = &aws_subsegments(&h)[0].1;
    assert_eq!(sub["aws"]["retries"], 1);
    assert_eq!(sub["aws"]["request_id"], "REQ1");
    assert_eq!(sub["http"]["response"]["status"], 200);
    for flag in ["error", "throttle", "fault", "cause"] {
        assert!(sub.get(flag).is_none(), "{flag}: {sub}");
    }
}

#[tokio::test]
async fn no_response_is_a_fault() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client(&format!("http://127.0.0.1:{port}"));
    let h = harness(|b| b);
    let result = h
        .invoke(Some(&header("1")), json!({}), move |_| {
            let client = client.clone();
            async move { get_order(&client).await }
        })
        .await;
    assert!(result.is_err());
    let sub = &aws_subsegments(&h)[0].1;
    assert_eq!(sub["fault"], true);
    assert!(sub["http"].get("response").is_none());
    assert!(sub["cause"]["exceptions"][0]["message"].is_string());
}

#[tokio::test]
async fn outside_a_traced_invocation_nothing_is_recorded_and_sampled_0_is_passed_on() {
    let mock = Mock::start(|n, _| item_found(n));
    let client = client(&mock.url);
    let h = harness(|b| b);
    // Not sampled: no subsegment, the invocation's own header travels.
    let c = client.clone();
    h.invoke(Some(&header("0")), json!({}), move |_| {
        let client = c.clone();
        async move { get_order(&client).await }
    })
    .await
    .unwrap();
    assert!(h.captured.datagrams().is_empty());
    assert_eq!(
        mock.received()[0].header("x-amzn-trace-id"),
        Some(header("0").as_str())
    );
    // Outside any invocation: the client works, nothing is sent.
    tracing::dispatcher::with_default(&h.dispatch, || get_order(&client))
        .await
        .unwrap();
    assert!(h.captured.datagrams().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invocations_each_send_their_own_root_and_subsegment() {
    let mock = Mock::start(|n, _| item_found(n));
    let client = client(&mock.url);
    let h = support::shared(harness(|b| b));
    let roots: Vec<String> = (0..12).map(|n| format!("1-5759e988-{n:024x}")).collect();
    let tasks: Vec<_> = roots
        .iter()
        .enumerate()
        .map(|(n, root)| {
            let (h, client) = (Arc::clone(&h), client.clone());
            let header = format!("Root={root};Parent={PARENT};Sampled=1");
            tokio::spawn(async move {
                h.invoke(Some(&header), json!({ "n": n }), move |_| {
                    let client = client.clone();
                    async move {
                        get_order(&client).await?;
                        tokio::task::yield_now().await;
                        get_order(&client).await
                    }
                })
                .await
                .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let docs = h.documents();
    assert_eq!(docs.len(), roots.len());
    // Subsegment id → the trace it belongs to.
    let mut owner = std::collections::HashMap::new();
    for doc in &docs {
        let trace = doc["trace_id"].as_str().unwrap().to_owned();
        let calls: Vec<_> = flatten(std::slice::from_ref(doc))
            .into_iter()
            .filter(|(_, s)| s["namespace"] == "aws")
            .collect();
        assert_eq!(calls.len(), 2, "{doc}");
        for (parent, call) in calls {
            assert_eq!(parent, doc["id"].as_str().unwrap());
            owner.insert(call["id"].as_str().unwrap().to_owned(), trace.clone());
        }
    }
    let received = mock.received();
    assert_eq!(received.len(), 2 * roots.len());
    for r in &received {
        let (root, parent, sampled) = trace_header_parts(r.header("x-amzn-trace-id").unwrap());
        assert_eq!(owner.get(&parent), Some(&root), "{parent} in {root}");
        assert_eq!(sampled, "1");
    }
    assert_eq!(owner.len(), received.len(), "each call its own subsegment");
}
