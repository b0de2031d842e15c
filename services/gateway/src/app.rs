//! The HTTP application: the API routes, the partner endpoints, health,
//! metrics, and the layers around them.

use crate::client_address;
use crate::concurrency_cap;
use crate::customer_page::{RATING_SUFFIX, REPLY_SUFFIX};
use crate::limits::{MAX_CUSTOMER_FORM_BYTES, MAX_PARTNER_BODY_BYTES, MAX_SMALL_BODY_BYTES};
use crate::state::Gateway;
use crate::{customer_page, health, html_page, partner, partner_limit, partner_page, problem, rest, telemetry};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use std::sync::Arc;

/// The HTTP application. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so requests are
/// rate limited per client address (without it, all clients share one
/// limit on the partner endpoints and none on the API).
///
/// Layers, outermost first: CORS; load shedding of submissions (before
/// anything costs); the trace; metrics; the client's address; the body
/// limit (small unless a route says otherwise). Per route: the cap on
/// requests at once, rate limits, the request deadline; then the handler,
/// whose key check comes before its body is read.
pub fn router(gateway: Gateway) -> Router {
    router_with(gateway, true)
}

/// The internal listener's application: `/metrics` and `/healthz` only.
pub fn metrics_router(gateway: Gateway) -> Router {
    Router::new().route("/metrics", get(telemetry::prometheus)).route("/healthz", get(health::healthz)).with_state(gateway)
}

/// [`router`], serving `/metrics` too when `with_metrics` (no internal
/// metrics listener is configured).
pub fn router_with(gateway: Gateway, with_metrics: bool) -> Router {
    let cap = gateway.api.cap().clone();
    // The customer's page: its reply carries a follow-up's length.
    let customer = Router::new()
        .route("/c/{token}", get(customer_page::show))
        .route(&format!("/c/{{token}}{REPLY_SUFFIX}"), post(customer_page::reply))
        .route(&format!("/c/{{token}}{RATING_SUFFIX}"), post(customer_page::rate))
        .layer(DefaultBodyLimit::max(MAX_CUSTOMER_FORM_BYTES));
    // The link routes (partner and customer): no key, the token is the
    // credential, so they are rate limited per address and per link.
    let partner = Router::new()
        .route("/confirm/{token}", get(partner::confirm))
        .route("/respond", post(partner::respond))
        .route("/r/{token}", get(partner_page::show).post(partner_page::answer))
        .layer(DefaultBodyLimit::max(MAX_PARTNER_BODY_BYTES))
        .merge(customer)
        .route_layer(from_fn_with_state(gateway.clone(), rest::deadline))
        .route_layer(from_fn_with_state(gateway.clone(), partner_limit::limit))
        .route_layer(from_fn_with_state(cap.clone(), concurrency_cap::cap))
        .route_layer(from_fn(html_page::security_headers));
    let proxies = Arc::new(gateway.api.settings().trusted_proxies.clone());
    Router::new()
        .merge(rest::routes(&gateway, &cap))
        .merge(crate::console::routes(&gateway, &cap))
        .merge(partner)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(if with_metrics { Router::new().route("/metrics", get(telemetry::prometheus)) } else { Router::new() })
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_SMALL_BODY_BYTES))
        .layer(from_fn_with_state(proxies, client_address::resolve))
        .layer(axum::middleware::from_fn(telemetry::record_metrics))
        .layer(telemetry::trace_layer())
        .layer(from_fn_with_state(gateway.clone(), rest::shed))
        .layer(tower::util::option_layer(rest::cors(&gateway.api.settings().cors_origins)))
        .with_state(gateway)
}
