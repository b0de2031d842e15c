//! The operators' console at `/console`: server-rendered pages (askama
//! templates under `templates/console/`), whole without JavaScript and
//! live with it, in English and Korean.
//!
//! - `cookies.rs`: the console's cookies;
//! - `session.rs`: signing in with an operator key, the session cookie,
//!   CSRF tokens, signing out;
//! - `queue.rs` and `live.rs`: the queue of inquiries waiting for a person
//!   and its live update;
//! - `inquiry_page.rs`: one inquiry, answered and resolved with the reply
//!   suggestions and the feedback controls;
//! - `faq_page.rs`, `reservations_page.rs`: a tenant's FAQ and reservations;
//! - `webhooks_page.rs`: a tenant's webhook endpoints and their deliveries;
//! - `dashboard.rs`: the day's figures, with charts;
//!
//! Every page acts through the same operations as the REST and gRPC APIs
//! (`ops.rs`, `faq_ops.rs`, …) as the signed-in operator, so the rules,
//! the validation and the audit trail are the API's.

mod cookies;
mod dashboard;
mod faq_page;
mod inquiry_page;
mod live;
mod page;
mod queue;
mod reservations_page;
mod session;
mod tenant_choice;
mod webhooks_page;
mod words;

use crate::concurrency_cap::{self, ConcurrencyCap};
use crate::limits::MAX_SMALL_BODY_BYTES;
use crate::state::Gateway;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};

/// The console's routes. Pages and forms are bounded like the API (cap,
/// per-address rate, deadline); the live stream only by its lifetime.
pub(crate) fn routes(gateway: &Gateway, cap: &ConcurrencyCap) -> Router<Gateway> {
    let pages = Router::new()
        .route("/console", get(queue::show))
        .route("/console/queue/rows", get(queue::rows_only))
        .route(session::SIGN_IN_PATH, get(session::show).post(session::sign_in))
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/language/{lang}", get(page::switch_language))
        .route("/console/static/console.js", get(page::script))
        .route("/console/inquiries/{id}", get(inquiry_page::show))
        .route("/console/inquiries/{id}/resolve", post(inquiry_page::resolve))
        .route("/console/faq", get(faq_page::show).post(faq_page::save))
        .route("/console/reservations", get(reservations_page::show).post(reservations_page::save))
        .route("/console/webhooks", get(webhooks_page::show).post(webhooks_page::save))
        .route("/console/dashboard", get(dashboard::show))
        .layer(DefaultBodyLimit::max(MAX_SMALL_BODY_BYTES))
        .route_layer(from_fn_with_state(gateway.clone(), crate::rest::deadline))
        .route_layer(from_fn_with_state(gateway.clone(), crate::rest::limit_client))
        .route_layer(from_fn_with_state(cap.clone(), concurrency_cap::cap));
    let live = Router::new()
        .route("/console/queue/events", get(live::events))
        .route_layer(from_fn_with_state(gateway.clone(), crate::rest::limit_client));
    pages.merge(live).route_layer(from_fn(page::security_headers))
}
