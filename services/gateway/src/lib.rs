//! The gateway: REST API for tenants, the partner's confirmation page,
//! health and readiness. It reads the store and calls the intake and
//! partner-dispatcher libraries in-process; it never talks to workers.

mod auth;
mod health;
mod inquiries;
mod partner;
mod partner_page;
mod problem;

pub use health::Readiness;
pub use problem::Problem;

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
}

/// The HTTP application.
pub fn router(gateway: Gateway) -> Router {
    Router::new()
        .route("/api/inquiries", post(inquiries::submit))
        .route("/api/inquiries/{id}", get(inquiries::get))
        .route("/api/inquiries/{id}/status", get(inquiries::status))
        .route("/confirm/{token}", get(partner::confirm))
        .route("/respond", post(partner::respond))
        .route("/r/{token}", get(partner_page::show).post(partner_page::answer))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(gateway)
}
