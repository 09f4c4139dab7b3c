//! HTTP API: a small order service behind an API Gateway REST API, with structured logs,
//! per-route metrics and a traced call to a downstream service.
//!
//! | route | answer |
//! |---|---|
//! | `GET /orders/{id}` | the order, asked of the orders service; 404 when it has none |
//! | `POST /orders` | 201 once the body (`{"item": "book", "quantity": 2}`) is valid and the orders service took it; 400 for a bad body |
//! | `GET /panic` | panics on purpose (API Gateway answers 502) |
//! | anything else | 404 |
//!
//! The orders service is the plain-HTTP base URL in `DOWNSTREAM_URL` (unset: a local stub
//! answers). Its call runs in a span carrying `http.*` fields, so X-Ray shows it as a remote
//! subsegment, and sends `X-Amzn-Trace-Id` so the service joins the trace. When it fails
//! (unreachable, slow, 5xx, nonsense), the API answers 502 with a message: no panic, no failed
//! invocation.
//!
//! Build and deploy, from the workspace root:
//!
//! ```text
//! cargo lambda build --release --arm64 --package http-api
//! sam deploy --guided --template-file examples/http-api/template.yaml
//! ```
//!
//! Locally: `cargo xtask demo --example http-api` (add `--env DOWNSTREAM_URL=http://…`).

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambda_http::http::header::{CONTENT_TYPE, HeaderValue};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use powertools::metrics::Unit;
use powertools::tracer::{TRACE_HEADER_NAME, trace_header};
use serde_json::{Value, json};
use tracing::Instrument;

/// The orders service's base URL, read once per process.
static DOWNSTREAM_URL: LazyLock<Option<String>> = LazyLock::new(|| {
    std::env::var("DOWNSTREAM_URL")
        .ok()
        .filter(|u| !u.is_empty())
});

/// One client per process: its connections stay open across invocations.
static CLIENT: LazyLock<Client<HttpConnector, Full<Bytes>>> =
    LazyLock::new(|| Client::builder(TokioExecutor::new()).build_http());

/// How long the orders service may take before the API gives up on it.
const DOWNSTREAM_TIMEOUT: Duration = Duration::from_secs(3);

/// The correlation id comes from `requestContext.requestId` of the API Gateway event; the rest
/// of the configuration from the `POWERTOOLS_*` environment (see `template.yaml`).
#[powertools::handler(correlation_id_path = "API_GATEWAY_REST", main)]
async fn handler(request: Request) -> Result<Response<Body>, Error> {
    route(request, DOWNSTREAM_URL.as_deref()).await
}

/// The routes the API knows.
#[derive(Debug, PartialEq)]
enum Route {
    GetOrder(String),
    CreateOrder,
    Panic,
    NotFound,
}

impl Route {
    fn parse(method: &Method, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (&Method::GET, ["orders", id]) => Self::GetOrder((*id).to_owned()),
            (&Method::POST, ["orders"]) => Self::CreateOrder,
            (&Method::GET, ["panic"]) => Self::Panic,
            _ => Self::NotFound,
        }
    }

    /// The name in logs and in the `route` metric dimension: a few fixed values, never the raw
    /// path (each distinct dimension value is a metric of its own in CloudWatch).
    fn name(&self) -> &'static str {
        match self {
            Self::GetOrder(_) => "GET /orders/{id}",
            Self::CreateOrder => "POST /orders",
            Self::Panic => "GET /panic",
            Self::NotFound => "not_found",
        }
    }
}

/// Routes one request; `downstream` is the orders service's base URL.
async fn route(request: Request, downstream: Option<&str>) -> Result<Response<Body>, Error> {
    // Without the stage prefix that API Gateway REST APIs put in the URI.
    let path = match request.raw_http_path() {
        "" => request.uri().path().to_owned(),
        raw => raw.to_owned(),
    };
    let route = Route::parse(request.method(), &path);

    // On every log line of this invocation from here on (keys end with the invocation).
    powertools::logger::append_key("route", route.name())?;
    let metrics = powertools::metrics::current();
    metrics.add_dimension("route", route.name())?;
    metrics.add_metric("Requests", Unit::Count, 1.0)?;
    if let Some(id) = powertools::logger::correlation_id() {
        // Searchable next to the metric in CloudWatch Logs, not a dimension.
        metrics.add_metadata("correlation_id", id)?;
    }
    tracing::info!(http_method = %request.method(), path, "request received");

    let response = match route {
        Route::GetOrder(id) => get_order(&id, downstream).await,
        Route::CreateOrder => {
            let request_id = request
                .lambda_context_ref()
                .map(|c| c.request_id.clone())
                .unwrap_or_default();
            create_order(request.body(), &request_id, downstream).await
        }
        Route::Panic => panic!("GET /panic panics on purpose"),
        Route::NotFound => reply(
            StatusCode::NOT_FOUND,
            &json!({ "message": format!("no route for {} {path}", request.method()) }),
        ),
    };
    tracing::info!(status = response.status().as_u16(), "request answered");
    Ok(response)
}

async fn get_order(id: &str, downstream: Option<&str>) -> Response<Body> {
    // The id goes into the downstream URL: accept only what an order id looks like.
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return reply(
            StatusCode::BAD_REQUEST,
            &json!({ "message": "invalid order id" }),
        );
    }
    let Some(base) = downstream else {
        return reply(
            StatusCode::OK,
            &json!({ "id": id, "item": "sample", "quantity": 1, "source": "stub" }),
        );
    };
    match call_downstream(base, Method::GET, &format!("/orders/{id}"), None).await {
        Ok((status, body)) if status.is_success() => match serde_json::from_slice::<Value>(&body) {
            Ok(order) => reply(StatusCode::OK, &order),
            Err(_) => bad_gateway("the orders service sent an order that is not JSON"),
        },
        Ok((StatusCode::NOT_FOUND, _)) => reply(
            StatusCode::NOT_FOUND,
            &json!({ "message": format!("order {id} not found") }),
        ),
        Ok((status, _)) => bad_gateway(&format!("the orders service answered {status}")),
        Err(message) => bad_gateway(&message),
    }
}

async fn create_order(body: &Body, request_id: &str, downstream: Option<&str>) -> Response<Body> {
    let mut order = match parse_order(body) {
        Ok(order) => order,
        Err(reason) => {
            tracing::warn!(reason, "invalid order");
            return reply(StatusCode::BAD_REQUEST, &json!({ "message": reason }));
        }
    };
    let id = format!("o-{}", request_id.get(..8).unwrap_or(request_id));
    order["id"] = Value::String(id.clone());
    if let Some(base) = downstream {
        match call_downstream(base, Method::POST, "/orders", Some(&order)).await {
            Ok((status, _)) if status.is_success() => {}
            Ok((status, _)) => {
                return bad_gateway(&format!("the orders service answered {status}"));
            }
            Err(message) => return bad_gateway(&message),
        }
    }
    tracing::info!(order_id = id, "order created");
    reply(StatusCode::CREATED, &order)
}

/// `{"item": "<non-empty>", "quantity": 1..=100}`, or why not.
fn parse_order(body: &Body) -> Result<Value, String> {
    let bytes: &[u8] = match body {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    let order: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let item = order["item"].as_str().unwrap_or_default();
    if item.trim().is_empty() {
        return Err("`item` must be a non-empty string".to_owned());
    }
    let quantity = order["quantity"].as_u64().unwrap_or(0);
    if !(1..=100).contains(&quantity) {
        return Err("`quantity` must be a whole number from 1 to 100".to_owned());
    }
    Ok(json!({ "item": item, "quantity": quantity }))
}

/// Calls the orders service: a remote `orders-service` subsegment in X-Ray (the `http.*`
/// fields), with the trace header so the service's own segments join this trace. The latency
/// goes to the `DownstreamLatency` metric, failures (5xx too) to `DownstreamErrors`. Failures come back as the message to answer with.
async fn call_downstream(
    base: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Bytes), String> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let span = tracing::info_span!(
        "orders-service",
        http.method = %method,
        http.url = %url,
        http.status_code = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = async {
        let mut request = lambda_http::http::Request::builder()
            .method(method)
            .uri(&url);
        // Inside the span: `Parent` is this call's subsegment.
        if let Some(header) = trace_header() {
            request = request.header(TRACE_HEADER_NAME, header);
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let payload = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = request
            .body(Full::new(payload))
            .map_err(|e| format!("cannot call the orders service at {url}: {e}"))?;
        let exchange = async {
            let response = CLIENT
                .request(request)
                .await
                .map_err(|e| format!("the orders service is unreachable: {e}"))?;
            let status = response.status();
            tracing::Span::current().record("http.status_code", status.as_u16());
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("the orders service's answer broke off: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(DOWNSTREAM_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "the orders service did not answer within {DOWNSTREAM_TIMEOUT:?}"
                ))
            })
    }
    .instrument(span.clone())
    .await;

    let metrics = powertools::metrics::current();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = metrics.add_metric("DownstreamLatency", Unit::Milliseconds, elapsed_ms) {
        tracing::warn!(error = %e, "DownstreamLatency not recorded");
    }
    let failed = match &result {
        // A 5xx already marks the subsegment as a fault (`http.status_code`).
        Ok((status, _)) => status.is_server_error(),
        Err(message) => {
            // An ERROR event inside the span flags its subsegment with this cause.
            span.in_scope(|| tracing::error!(error = %message, "orders service call failed"));
            true
        }
    };
    if failed && let Err(e) = metrics.add_metric("DownstreamErrors", Unit::Count, 1.0) {
        tracing::warn!(error = %e, "DownstreamErrors not recorded");
    }
    result
}

fn reply(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn bad_gateway(message: &str) -> Response<Body> {
    reply(StatusCode::BAD_GATEWAY, &json!({ "message": message }))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};

    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use lambda_http::http::{Method, StatusCode};
    use lambda_http::{Body, Request};
    use powertools::testing::TestHarness;
    use serde_json::{Value, json};

    use super::Route;

    fn request(method: &str, path: &str, body: Option<&str>) -> Request {
        lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://api.example.com{path}"))
            .body(body.map_or(Body::Empty, |b| Body::Text(b.to_owned())))
            .unwrap()
    }

    fn json_body(response: &lambda_http::Response<Body>) -> Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    /// A one-route orders service on loopback: `GET /orders/{id}` answers `status` with an
    /// order; records the trace header of every request.
    async fn orders_service(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = Arc::clone(&record);
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let header = req
                        .headers()
                        .get("x-amzn-trace-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    record.lock().unwrap().push(header);
                    let body = json!({ "id": "o-1", "item": "book", "quantity": 2 }).to_string();
                    let mut response =
                        hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
                    *response.status_mut() = StatusCode::from_u16(status).unwrap();
                    async move { Ok::<_, Infallible>(response) }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), svc));
            }
        });
        (format!("http://{addr}"), seen)
    }

    #[test]
    fn routes() {
        assert_eq!(
            Route::parse(&Method::GET, "/orders/o-1"),
            Route::GetOrder("o-1".into())
        );
        assert_eq!(Route::parse(&Method::POST, "/orders/"), Route::CreateOrder);
        assert_eq!(Route::parse(&Method::GET, "/panic"), Route::Panic);
        assert_eq!(
            Route::parse(&Method::DELETE, "/orders/o-1"),
            Route::NotFound
        );
        assert_eq!(Route::parse(&Method::GET, "/orders/o-1/x"), Route::NotFound);
    }

    #[tokio::test]
    async fn get_order_calls_the_orders_service_in_the_trace() {
        let (url, seen) = orders_service(200).await;
        let harness = TestHarness::new();
        let run = harness
            .invoke_http(
                move |req| {
                    let url = url.clone();
                    async move { super::route(req, Some(&url)).await }
                },
                request("GET", "/orders/o-1", None),
            )
            .await;

        let response = run.result.as_ref().unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json_body(response)["item"], "book");
        let answered = run.log_line("request answered").unwrap();
        assert_eq!(answered["route"], "GET /orders/{id}");
        assert_eq!(answered["status"], 200);
        assert_eq!(run.metric_values("Requests"), vec![1.0]);
        assert_eq!(run.metric_values("DownstreamLatency").len(), 1);
        let doc = run.metrics.iter().find(|d| d.get("Requests").is_some());
        assert_eq!(doc.unwrap()["route"], "GET /orders/{id}");

        let call = run.subsegment("orders-service").unwrap();
        assert_eq!(call["namespace"], "remote");
        assert_eq!(call["http"]["response"]["status"], 200);
        let header = seen.lock().unwrap().pop().unwrap();
        assert!(
            header.starts_with(&format!(
                "Root={};Parent={}",
                run.trace_id,
                call["id"].as_str().unwrap()
            )),
            "{header}"
        );
    }

    #[tokio::test]
    async fn downstream_failures_are_502_answers() {
        let (url, _) = orders_service(500).await;
        let run = TestHarness::new()
            .invoke_http(
                move |req| {
                    let url = url.clone();
                    async move { super::route(req, Some(&url)).await }
                },
                request("GET", "/orders/o-1", None),
            )
            .await;
        let response = run.result.as_ref().unwrap();
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            json_body(response)["message"],
            "the orders service answered 500 Internal Server Error"
        );
        assert_eq!(run.metric_values("DownstreamErrors"), vec![1.0]);
        assert_eq!(run.subsegment("orders-service").unwrap()["fault"], true);

        // Nobody listening: still an answer.
        let run = TestHarness::new()
            .invoke_http(
                |req| super::route(req, Some("http://127.0.0.1:9")),
                request("GET", "/orders/o-1", None),
            )
            .await;
        let response = run.result.as_ref().unwrap();
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        let message = json_body(response)["message"].as_str().unwrap().to_owned();
        assert!(message.contains("unreachable"), "{message}");
        assert_eq!(run.subsegment("orders-service").unwrap()["error"], true);
    }

    #[tokio::test]
    async fn create_order_validates_the_body() {
        let harness = TestHarness::new();
        let run = harness
            .invoke_http(
                super::handler,
                request(
                    "POST",
                    "/orders",
                    Some(r#"{"item": "book", "quantity": 2}"#),
                ),
            )
            .await;
        let response = run.result.as_ref().unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(json_body(response)["quantity"], 2);
        assert!(run.log_line("order created").is_some());

        let run = harness
            .invoke_http(
                super::handler,
                request(
                    "POST",
                    "/orders",
                    Some(r#"{"item": "book", "quantity": 0}"#),
                ),
            )
            .await;
        let response = run.result.as_ref().unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(
            json_body(response)["message"]
                .as_str()
                .unwrap()
                .contains("quantity")
        );
        assert_eq!(run.log_line("invalid order").unwrap()["level"], "WARN");
    }

    #[tokio::test]
    async fn unknown_routes_and_bad_ids_are_4xx() {
        let harness = TestHarness::new();
        let run = harness
            .invoke_http(super::handler, request("GET", "/nowhere", None))
            .await;
        assert_eq!(run.result.as_ref().unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(
            run.log_line("request received").unwrap()["route"],
            "not_found"
        );

        let run = harness
            .invoke_http(super::handler, request("GET", "/orders/a%2Fb", None))
            .await;
        assert_eq!(
            run.result.as_ref().unwrap().status(),
            StatusCode::BAD_REQUEST
        );
    }
}
