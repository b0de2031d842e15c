//! The HTTP application: the API routes, the partner endpoints, health,
//! metrics, and the layers around them.

use crate::limits::MAX_BODY_BYTES;
use crate::rate_limit::PartnerRateLimit;
use crate::state::Gateway;
use crate::{health, partner, partner_page, problem, rate_limit, rest, telemetry};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;

/// The HTTP application. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the partner
/// endpoints are rate limited per client address (without it, all clients
/// share one limit).
pub fn router(gateway: Gateway) -> Router {
    let limit = Arc::new(PartnerRateLimit::per_minute(gateway.partner_rate_per_minute));
    let partner = Router::new()
        .route("/confirm/{token}", get(partner::confirm))
        .route("/respond", post(partner::respond))
        .route("/r/{token}", get(partner_page::show).post(partner_page::answer))
        .route_layer(axum::middleware::from_fn_with_state(limit, rate_limit::limit));
    Router::new()
        .merge(rest::routes(&gateway))
        .merge(partner)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(telemetry::prometheus))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(telemetry::record_metrics))
        .layer(telemetry::trace_layer())
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), rest::shed))
        .layer(tower::util::option_layer(rest::cors(&gateway.api.settings().cors_origins)))
        .with_state(gateway)
}
