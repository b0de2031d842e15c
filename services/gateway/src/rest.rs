//! The tenant and operator REST routes, their limits (body size, per-key
//! and per-address rates, request timeout) and CORS.

use crate::client_address::ClientAddress;
use crate::concurrency_cap::{self, ConcurrencyCap};
use crate::error::ApiError;
use crate::limits::MAX_BODY_BYTES;
use crate::principal::check_client;
use crate::problem::Problem;
use crate::state::Gateway;
use crate::{chat, faq_rest, inquiries, openapi, reservations, sla_rest, tenant_rest, webhook_rest};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use switchboard_telemetry::metrics;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Per-address limit of the API routes.
pub(crate) async fn limit_client(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let client = request.extensions().get::<ClientAddress>().map(|ClientAddress(ip)| *ip);
    match check_client(&gateway.api, client) {
        Ok(()) => next.run(request).await,
        Err(e) => Problem::from(e).into_response(),
    }
}

/// The path of a submission, shed while the backlog is past its bound.
const SUBMIT_PATH: &str = "/api/inquiries";
/// The path of a chat turn, which may submit an inquiry and is shed with it.
const CHAT_PATH: &str = "/chat";

/// Sheds a new submission while the backlog is past its bound
/// (`admission.rs`). This is the outermost layer but CORS: a shed request
/// makes no span, no metric sample of its own duration, no rate-limit
/// charge (it is counted in `submissions_shed`), and its body is never read nor its key looked up, because under
/// overload the shed requests far outnumber the admitted ones and every
/// microsecond spent on them is taken from the pipeline.
pub(crate) async fn shed(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let submission = request.method() == Method::POST && matches!(request.uri().path(), SUBMIT_PATH | CHAT_PATH);
    if submission && let Err(e) = gateway.api.admission().check() {
        metrics().submission_shed("rest");
        return Problem::from(e).into_response();
    }
    next.run(request).await
}

/// Ends a request that takes longer than the configured timeout with a 503
/// problem (the work is dropped, so nothing keeps running for a gone client;
/// a submission alone finishes on its own task, see `ops::submit`).
pub(crate) async fn deadline(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let limit = gateway.api.settings().request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            Problem::from(ApiError::DeadlineExceeded(format!("the request took longer than {} s", limit.as_secs_f32()))).into_response()
        }
    }
}

/// The API routes: `/api/...`, `/chat`, `/openapi.json`. Every route but
/// the event stream counts against `cap`.
pub(crate) fn routes(gateway: &Gateway, cap: &ConcurrencyCap) -> Router<Gateway> {
    let bounded = Router::new()
        .route(SUBMIT_PATH, post(inquiries::submit).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).get(inquiries::list))
        .route("/api/inquiries/{id}", get(inquiries::get))
        .route("/api/inquiries/{id}/status", get(inquiries::status))
        .route("/api/inquiries/{id}/messages", post(inquiries::add_message).get(inquiries::list_messages))
        .route("/api/inquiries/{id}/suggestions", get(inquiries::suggestions))
        .route("/api/inquiries/{id}/escalate", post(inquiries::escalate))
        .route("/api/inquiries/{id}/resolve", post(inquiries::resolve))
        .route("/api/reservations", post(reservations::put_reservation))
        .route("/api/tenants/{tenant}/sla", get(sla_rest::get).put(sla_rest::put))
        .route(CHAT_PATH, post(chat::chat))
        .route("/api/faq", get(faq_rest::list).post(faq_rest::add))
        .route("/api/faq/{id}", get(faq_rest::get).patch(faq_rest::edit).delete(faq_rest::delete))
        .route("/api/faq/{id}/variants", post(faq_rest::add_variant))
        .route("/api/faq/{id}/variants/{index}", delete(faq_rest::remove_variant))
        .route("/api/tenant", get(tenant_rest::get).patch(tenant_rest::update))
        .route("/api/webhooks", get(webhook_rest::list).post(webhook_rest::create))
        .route("/api/webhooks/{id}", get(webhook_rest::get).patch(webhook_rest::update).delete(webhook_rest::delete))
        .route("/api/webhooks/{id}/rotate-secret", post(webhook_rest::rotate))
        .route("/api/webhooks/{id}/deliveries", get(webhook_rest::deliveries))
        .route("/api/webhooks/{id}/deliveries/{message_id}/replay", post(webhook_rest::replay))
        .route_layer(from_fn_with_state(gateway.clone(), deadline))
        .route_layer(from_fn_with_state(gateway.clone(), limit_client))
        .route_layer(from_fn_with_state(cap.clone(), concurrency_cap::cap));
    // Streams are bounded by the client and by shutdown, not by the timeout or the cap.
    let streams = Router::new()
        .route("/api/inquiries/{id}/events", get(inquiries::events))
        .route_layer(from_fn_with_state(gateway.clone(), limit_client));
    bounded.merge(streams).route("/openapi.json", get(openapi::serve))
}

/// The CORS layer for the configured origins, if any.
pub(crate) fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("content-type"),
                HeaderName::from_static("if-match"),
            ])
            .expose_headers([HeaderName::from_static("retry-after"), HeaderName::from_static("etag")]),
    )
}
