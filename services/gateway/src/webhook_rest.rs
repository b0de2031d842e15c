//! `/api/webhooks…`: tenants' webhook endpoints over REST (the operations
//! are `webhook_ops.rs`). A tenant key manages its own; an operator key
//! names the tenant with `?tenant=`.

use crate::principal::Principal;
use crate::problem::{Problem, from_json_rejection};
use crate::state::Gateway;
use crate::webhook_ops;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::webhook::{AttemptResult, DeliveryAttempt, WebhookEndpoint, WebhookInput, WebhookMessage};
use utoipa::{IntoParams, ToSchema};

/// An endpoint as shown (never its secrets).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookView {
    /// `wh-` and 16 hex digits.
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// Event types, or `["*"]` for every one.
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    /// Why it is disabled (by the tenant, or after failures).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<Timestamp>,
    /// Messages in a row that failed every attempt.
    pub consecutive_failures: u32,
    /// Until when the secret replaced by the last rotation still signs.
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl From<WebhookEndpoint> for WebhookView {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            tenant_id: e.tenant_id.to_string(),
            url: e.url.to_string(),
            events: e.events.names(),
            description: e.description,
            enabled: e.disabled.is_none(),
            disabled_reason: e.disabled.as_ref().map(|d| d.reason.clone()),
            disabled_at: e.disabled.as_ref().map(|d| d.at),
            consecutive_failures: e.consecutive_failures,
            previous_secret_expires_at: e.secrets.entries().iter().filter_map(|s| s.expires_at).max(),
            created_at: e.created_at,
        }
    }
}

/// An endpoint with its new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// `whsec_…`: verify signatures with it (Standard Webhooks).
    pub secret: String,
}

/// `GET /api/webhooks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` (the same for every attempt and replay of a message).
    pub message_id: String,
    pub event_type: String,
    /// 1, then one more per replay.
    pub round: u32,
    /// The attempt within its round (1-based).
    pub attempt: u32,
    pub at: Timestamp,
    /// Whether the receiver answered 2xx.
    pub succeeded: bool,
    /// The receiver's status, when it answered.
    pub status_code: Option<u16>,
    /// Why there was no answer (refused target, connection, timeout).
    pub error: Option<String>,
    pub latency_ms: u64,
}

impl From<DeliveryAttempt> for DeliveryView {
    fn from(a: DeliveryAttempt) -> Self {
        let succeeded = a.result.succeeded();
        let (status_code, error) = match a.result {
            AttemptResult::Status(s) => (Some(s), None),
            AttemptResult::Error(e) => (None, Some(e)),
        };
        Self {
            message_id: a.message_id,
            event_type: a.event_type,
            round: a.round,
            attempt: a.attempt,
            at: a.at,
            succeeded,
            status_code,
            error,
            latency_ms: a.latency_ms,
        }
    }
}

/// `GET /api/webhooks/{id}/deliveries`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub deliveries: Vec<DeliveryView>,
}

/// A replay, accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayView {
    pub message_id: String,
    /// The round the replay is.
    pub round: u32,
}

impl From<WebhookMessage> for ReplayView {
    fn from(m: WebhookMessage) -> Self {
        Self { message_id: m.id, round: m.round }
    }
}

/// `?tenant=`: which tenant's endpoints (operator keys only).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// The tenant (operator keys; a tenant key may name only itself).
    pub tenant: Option<String>,
}

/// `GET /api/webhooks/{id}/deliveries` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// The tenant (operator keys; a tenant key may name only itself).
    pub tenant: Option<String>,
    /// Attempts to list, 1–100 (50 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "The query string is invalid", e.body_text()))
}

fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, Problem> {
    path.map(|Path(p)| p).map_err(|_| Problem::field("id", "is not a webhook endpoint id (`wh-` and 16 hex digits)"))
}

fn with_secret(status: StatusCode, (endpoint, secret): webhook_ops::WithSecret) -> Response {
    (status, Json(WebhookWithSecret { webhook: endpoint.into(), secret })).into_response()
}

/// Registers an endpoint; the answer shows its signing secret, once.
#[utoipa::path(
    post, path = "/api/webhooks", tag = "webhooks",
    params(TenantQuery),
    request_body = crate::schemas::WebhookCreateDoc,
    responses(
        (status = 201, description = "Registered, with its secret (shown this once)", body = WebhookWithSecret),
        (status = 400, description = "A field is invalid, or the URL reaches an address webhooks may not (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The named tenant does not exist (or is not the key's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tenant has 20 endpoints already", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn create(
    State(gateway): State<Gateway>,
    principal: Principal,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
    body: Result<Json<WebhookInput>, JsonRejection>,
) -> Result<Response, Problem> {
    let tenant = query(tenant)?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let created = webhook_ops::create(&gateway, &principal, tenant.tenant.as_deref(), &input).await?;
    Ok(with_secret(StatusCode::CREATED, created))
}

/// The tenant's endpoints.
#[utoipa::path(
    get, path = "/api/webhooks", tag = "webhooks",
    params(TenantQuery),
    responses(
        (status = 200, description = "Every endpoint of the tenant", body = WebhookList),
        (status = 400, description = "An operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The named tenant does not exist (or is not the key's)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list(
    State(gateway): State<Gateway>,
    principal: Principal,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
) -> Result<Json<WebhookList>, Problem> {
    let tenant = query(tenant)?;
    let endpoints = webhook_ops::list(&gateway, &principal, tenant.tenant.as_deref()).await?;
    Ok(Json(WebhookList { webhooks: endpoints.into_iter().map(WebhookView::from).collect() }))
}

/// One endpoint.
#[utoipa::path(
    get, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`wh-` and 16 hex digits)"), TenantQuery),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 400, description = "An operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or another tenant's)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn get(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
) -> Result<Json<WebhookView>, Problem> {
    let (id, tenant) = (path(id)?, query(tenant)?);
    Ok(Json(webhook_ops::get(&gateway, &principal, tenant.tenant.as_deref(), &id).await?.into()))
}

/// Changes an endpoint's URL, events or description, or enables
/// (`"enabled": true`, which also forgets its failures) or disables it.
#[utoipa::path(
    patch, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`wh-` and 16 hex digits)"), TenantQuery),
    request_body = crate::schemas::WebhookChangeDoc,
    responses(
        (status = 200, description = "Changed", body = WebhookView),
        (status = 400, description = "A field is invalid, or the URL reaches an address webhooks may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or another tenant's)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn update(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
    body: Result<Json<WebhookInput>, JsonRejection>,
) -> Result<Json<WebhookView>, Problem> {
    let (id, tenant) = (path(id)?, query(tenant)?);
    let Json(input) = body.map_err(from_json_rejection)?;
    Ok(Json(webhook_ops::update(&gateway, &principal, tenant.tenant.as_deref(), &id, &input).await?.into()))
}

/// Deletes an endpoint.
#[utoipa::path(
    delete, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`wh-` and 16 hex digits)"), TenantQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "An operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or another tenant's)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn delete(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
) -> Result<StatusCode, Problem> {
    let (id, tenant) = (path(id)?, query(tenant)?);
    webhook_ops::delete(&gateway, &principal, tenant.tenant.as_deref(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the endpoint a new secret, shown this once; the old one keeps
/// signing beside it (two signatures) until `previous_secret_expires_at`.
#[utoipa::path(
    post, path = "/api/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`wh-` and 16 hex digits)"), TenantQuery),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = WebhookWithSecret),
        (status = 400, description = "An operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or another tenant's)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn rotate(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let (id, tenant) = (path(id)?, query(tenant)?);
    Ok(with_secret(StatusCode::OK, webhook_ops::rotate(&gateway, &principal, tenant.tenant.as_deref(), &id).await?))
}

/// The endpoint's delivery log: its newest attempts, newest first.
#[utoipa::path(
    get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`wh-` and 16 hex digits)"), DeliveriesQuery),
    responses(
        (status = 200, description = "The attempts", body = DeliveryList),
        (status = 400, description = "A bad limit, or an operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or another tenant's)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn deliveries(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<DeliveryList>, Problem> {
    let (id, params) = (path(id)?, query(params)?);
    let attempts = webhook_ops::deliveries(&gateway, &principal, params.tenant.as_deref(), &id, params.limit).await?;
    Ok(Json(DeliveryList { deliveries: attempts.into_iter().map(DeliveryView::from).collect() }))
}

/// Sends a logged message again (same `webhook-id`, new round).
#[utoipa::path(
    post, path = "/api/webhooks/{id}/deliveries/{message_id}/replay", tag = "webhooks",
    params(
        ("id" = String, Path, description = "The endpoint id (`wh-` and 16 hex digits)"),
        ("message_id" = String, Path, description = "The message's `webhook-id`, as the delivery log lists it"),
        TenantQuery,
    ),
    responses(
        (status = 202, description = "Ordered: the notifier delivers it", body = ReplayView),
        (status = 400, description = "An operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled, or the message is still being delivered", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn replay(
    State(gateway): State<Gateway>,
    principal: Principal,
    ids: Result<Path<(String, String)>, PathRejection>,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let ((id, message_id), tenant) = (path(ids)?, query(tenant)?);
    let replayed = webhook_ops::replay(&gateway, &principal, tenant.tenant.as_deref(), &id, &message_id).await?;
    Ok((StatusCode::ACCEPTED, Json(ReplayView::from(replayed))).into_response())
}
