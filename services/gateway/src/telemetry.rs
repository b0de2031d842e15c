//! The gateway's part of telemetry: every HTTP request is a server span
//! that starts a new trace (the inquiry's trace, for a submission), HTTP
//! metrics by route template, and the Prometheus `/metrics` endpoint.
//!
//! Paths are never recorded: partner links carry a secret token in the
//! path, so spans and labels use the route template (`/r/{token}`).

use crate::state::Gateway;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, Response, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use std::time::{Duration, Instant};
use switchboard_telemetry::{in_service, metrics, propagation};
use tower_http::classify::{GrpcErrorsAsFailures, GrpcFailureClass, ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier};
use tower_http::trace::{DefaultOnBodyChunk, DefaultOnEos, DefaultOnRequest, MakeSpan, OnFailure, OnResponse, TraceLayer};
use tracing::Span;
use tracing::field::Empty;

/// Routes that get no span.
const UNTRACED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The component name of the gateway's spans.
pub const GATEWAY: &str = "gateway";

fn route<B>(request: &axum::http::Request<B>) -> &str {
    request.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("unmatched")
}

/// Makes each request's server span, the root of a new trace. A caller's
/// own trace context (`traceparent`, `X-Amzn-Trace-Id`) becomes a link,
/// not the parent, so an inquiry's trace always starts here with an
/// X-Ray-valid trace id.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpSpan;

impl<B> MakeSpan<B> for HttpSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let route = route(request);
        // Probes and scrapes every few seconds would each make a trace
        // (with SDK calls, in AWS mode): they are counted, not traced.
        if UNTRACED.contains(&route) {
            return Span::none();
        }
        let method = method_label(request.method());
        let span = tracing::info_span!(
            "http request",
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = %method,
            http.route = %route,
            http.response.status_code = Empty,
            error.type = Empty,
        );
        root(span, request.headers())
    }
}

/// Makes `span` the root of a new trace in the gateway's service, linked
/// (not parented) to a caller's context when the request carries one.
fn root(span: Span, headers: &axum::http::HeaderMap) -> Span {
    let caller = propagation::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()));
    if let Some(caller) = &caller {
        propagation::add_link(&span, caller);
    }
    // An empty parent context: the span is a root.
    in_service(&span, GATEWAY, Some(propagation::Context::new()));
    span
}

/// Records the status on the span; 5xx are errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpStatus;

impl<B> OnResponse<B> for HttpStatus {
    fn on_response(self, response: &Response<B>, _latency: Duration, span: &Span) {
        let status = response.status();
        span.record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            span.record("error.type", status.as_str());
            span.record("otel.status_code", "error");
        }
    }
}

/// Records a failure that produced no response (a dropped connection, an error).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpFailure;

impl OnFailure<ServerErrorsFailureClass> for HttpFailure {
    fn on_failure(&mut self, failure: ServerErrorsFailureClass, _latency: Duration, span: &Span) {
        if let ServerErrorsFailureClass::Error(_) = failure {
            span.record("error.type", "connection");
            span.record("otel.status_code", "error");
        }
    }
}

/// The gateway's trace layer.
pub type HttpTraceLayer = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    HttpSpan,
    DefaultOnRequest,
    HttpStatus,
    DefaultOnBodyChunk,
    DefaultOnEos,
    HttpFailure,
>;

/// [`TraceLayer`] with the gateway's spans.
pub fn trace_layer() -> HttpTraceLayer {
    TraceLayer::new_for_http().make_span_with(HttpSpan).on_response(HttpStatus).on_failure(HttpFailure)
}

/// Makes each gRPC call's server span, the root of a new trace like
/// [`HttpSpan`]'s; health checks and reflection are not traced.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcSpan;

impl<B> MakeSpan<B> for GrpcSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        // `/package.Service/Method`: names only, never call data.
        let path = request.uri().path();
        let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path, ""));
        if service.starts_with("grpc.") {
            return Span::none();
        }
        let span = tracing::info_span!(
            "grpc call",
            otel.name = %format!("{service}/{method}"),
            otel.kind = "server",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = Empty,
            error.type = Empty,
        );
        root(span, request.headers())
    }
}

/// Records a failed call's gRPC code on its span.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcFailure;

impl OnFailure<GrpcFailureClass> for GrpcFailure {
    fn on_failure(&mut self, failure: GrpcFailureClass, _latency: Duration, span: &Span) {
        let kind = match failure {
            // The code only: a status message can quote the request.
            GrpcFailureClass::Status(status) => {
                span.record("rpc.grpc.status_code", status.code_raw());
                status.code_raw().to_string()
            }
            _ => "connection".to_owned(),
        };
        span.record("error.type", kind.as_str());
        span.record("otel.status_code", "error");
    }
}

/// The gRPC server's trace layer.
pub type GrpcTraceLayer = TraceLayer<
    SharedClassifier<GrpcErrorsAsFailures>,
    GrpcSpan,
    DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
    DefaultOnBodyChunk,
    DefaultOnEos,
    GrpcFailure,
>;

/// [`TraceLayer`] with the gateway's gRPC spans.
pub fn grpc_trace_layer() -> GrpcTraceLayer {
    TraceLayer::new_for_grpc().make_span_with(GrpcSpan).on_failure(GrpcFailure)
}

/// The method as a metric label or span name: one of a fixed set, so a
/// client sending made-up methods cannot grow the metric series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Counts requests and their latency by method, route and status.
pub async fn record_metrics(request: Request, next: Next) -> axum::response::Response {
    let method = method_label(request.method());
    let route = route(&request).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics().http_request(method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// How long a scrape waits for the queues' depths before answering without them.
const SAMPLE_BUDGET: Duration = Duration::from_secs(5);

/// `GET /metrics`: Prometheus text format. Queue depths, ages and
/// dead-letter counts are sampled now, from the queue ports.
pub async fn prometheus(State(gateway): State<Gateway>) -> impl IntoResponse {
    // A slow backend delays the scrape, never fails it.
    let _ = tokio::time::timeout(SAMPLE_BUDGET, gateway.readiness.sample_queues()).await;
    let mut response = metrics().render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::method_label;
    use axum::http::Method;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"X-RANDOM-1").unwrap()), "OTHER");
    }
}
