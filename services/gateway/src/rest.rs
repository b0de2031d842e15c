//! The tenant and operator REST routes, their limits (body size, per-key
//! and per-address rates, request timeout) and CORS.

use crate::inquiries::{self, caller};
use crate::ops::{self, ReservationInput};
use crate::problem::from_json_rejection;
use crate::{Gateway, Problem, chat, openapi};
use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use std::net::SocketAddr;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::ToSchema;

/// Largest body of the JSON routes other than submit (which carries attachments).
pub const MAX_SMALL_BODY_BYTES: usize = 64 * 1024;

/// A stored reservation, as returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationView {
    pub reservation_number: String,
    pub tenant_id: String,
    pub customer_name: String,
    pub customer_phone: String,
    pub partner_id: String,
    pub partner_name: String,
    pub partner_phone: String,
    pub partner_locale: String,
    pub service_type: String,
    pub reservation_date: String,
}

/// Stores a reservation (operator key), replacing one with the same number.
#[utoipa::path(
    post, path = "/api/reservations", tag = "operators",
    request_body = ReservationInput,
    responses(
        (status = 201, description = "Stored", body = ReservationView),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn put_reservation(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<ReservationInput>, JsonRejection>,
) -> Result<(StatusCode, Json<ReservationView>), Problem> {
    let principal = caller(&gateway, &headers).await?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let r = ops::put_reservation(&gateway, &principal, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReservationView {
            reservation_number: r.reservation_number.to_string(),
            tenant_id: r.tenant_id.to_string(),
            customer_name: r.customer_name,
            customer_phone: r.customer_phone.masked(),
            partner_id: r.partner_id,
            partner_name: r.partner_name,
            partner_phone: r.partner_phone.masked(),
            partner_locale: r.partner_locale.as_str().to_owned(),
            service_type: r.service_type,
            reservation_date: r.reservation_date,
        }),
    ))
}

/// Per-address limit of the API routes.
async fn limit_client(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    match ops::check_client(&gateway.api, client) {
        Ok(()) => next.run(request).await,
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Ends a request that takes longer than the configured timeout with a 503
/// problem (the work is dropped, so nothing keeps running for a gone client).
async fn deadline(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let limit = gateway.api.settings().request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::from(crate::ApiError::DeadlineExceeded(format!("the request took longer than {} s", limit.as_secs_f32())))
            .into_response(),
    }
}

/// The API routes: `/api/...`, `/chat`, `/openapi.json`.
pub fn routes(gateway: &Gateway) -> Router<Gateway> {
    let small = DefaultBodyLimit::max(MAX_SMALL_BODY_BYTES);
    let bounded = Router::new()
        .route("/api/inquiries", post(inquiries::submit).get(inquiries::list))
        .route("/api/inquiries/{id}", get(inquiries::get))
        .route("/api/inquiries/{id}/status", get(inquiries::status))
        .route("/api/inquiries/{id}/escalate", post(inquiries::escalate).layer(small))
        .route("/api/inquiries/{id}/resolve", post(inquiries::resolve).layer(small))
        .route("/api/reservations", post(put_reservation).layer(small))
        .route("/chat", post(chat::chat).layer(small))
        .route_layer(from_fn_with_state(gateway.clone(), deadline));
    // Streams are bounded by the client and by shutdown, not by the timeout.
    let streams = Router::new().route("/api/inquiries/{id}/events", get(inquiries::events));
    bounded.merge(streams).route_layer(from_fn_with_state(gateway.clone(), limit_client)).route("/openapi.json", get(openapi::serve))
}

/// The CORS layer for the configured origins, if any.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
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
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("content-type"),
            ])
            .expose_headers([HeaderName::from_static("retry-after")]),
    )
}
