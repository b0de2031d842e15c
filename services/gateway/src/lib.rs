//! The gateway: REST API for tenants, the partner's confirmation page,
//! health and readiness. It reads the store and calls the intake and
//! partner-dispatcher libraries in-process; it never talks to workers.

mod auth;
mod health;
mod inquiries;
mod partner;
mod partner_page;
mod problem;
mod rate_limit;

pub use health::Readiness;
pub use problem::Problem;
pub use rate_limit::PartnerRateLimit;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use switchboard_intake::Intake;
use switchboard_partner_dispatcher::PartnerDispatcher;
use switchboard_store::{InquiryStore, TenantStore};
use tower_http::trace::TraceLayer;

/// Largest request body: five 5 MB attachments in base64 plus the text.
pub const MAX_BODY_BYTES: usize = 40 * 1024 * 1024;

/// What the handlers need.
#[derive(Clone)]
pub struct Gateway {
    pub intake: Intake,
    pub dispatcher: PartnerDispatcher,
    pub inquiries: Arc<dyn InquiryStore>,
    pub tenants: Arc<dyn TenantStore>,
    pub readiness: Arc<dyn Readiness>,
    /// Requests a minute each client address may make to the partner
    /// endpoints (`SWITCHBOARD_PARTNER_RATE_PER_MINUTE`).
    pub partner_rate_per_minute: u32,
}

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
        .route("/api/inquiries", post(inquiries::submit))
        .route("/api/inquiries/{id}", get(inquiries::get))
        .route("/api/inquiries/{id}/status", get(inquiries::status))
        .merge(partner)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(gateway)
}
