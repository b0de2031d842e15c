//! The gateway: the gRPC API (`grpc`) and its REST twin for tenants and
//! operators, the partner's confirmation page, health and readiness. It
//! reads the store and calls the intake and partner-dispatcher libraries
//! in-process; it never talks to workers.

mod api;
mod api_limits;
mod chat;
mod error;
pub mod eta;
pub mod grpc;
mod health;
mod inquiries;
pub mod listing;
pub mod openapi;
pub mod operators;
pub mod ops;
mod partner;
mod partner_page;
mod problem;
mod rate_limit;
mod rest;
mod serve;
pub mod telemetry;
mod views;
mod watch;

pub use api::{Api, ApiParts, ApiSettings};
pub use error::ApiError;
pub use health::Readiness;
pub use operators::OperatorKeys;
pub use problem::Problem;
pub use rate_limit::PartnerRateLimit;
pub use serve::{Listeners, serve};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use switchboard_intake::Intake;
use switchboard_partner_dispatcher::PartnerDispatcher;
use switchboard_store::{InquiryStore, TenantStore};

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
    /// The tenant and operator API's shared state (REST and gRPC).
    pub api: Api,
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
        .layer(tower::util::option_layer(rest::cors(&gateway.api.settings().cors_origins)))
        .with_state(gateway)
}
