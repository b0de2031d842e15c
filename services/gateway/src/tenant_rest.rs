//! `/api/tenant`: the caller's tenant settings over REST (a tenant key's
//! own; an operator names the tenant with `?tenant=`). Today the contact
//! e-mail, where the tenant is told of a webhook endpoint disabled after
//! failures. A conditional write of the tenant, retried on a concurrent edit.

use crate::error::ApiError;
use crate::principal::{Principal, managed_tenant};
use crate::problem::{Problem, from_json_rejection};
use crate::state::Gateway;
use crate::webhook_rest::TenantQuery;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_domain::{EmailAddress, Tenant};
use switchboard_store::{StoreError, edit_tenant};
use tracing::info;
use utoipa::ToSchema;

/// A tenant's settings as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    /// Where the tenant is e-mailed about its account (a disabled webhook).
    pub contact_email: Option<String>,
    /// Days an answered inquiry waits for the customer before it closes itself (none: the deployment's default).
    pub auto_close_days: Option<u32>,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            contact_email: t.contact_email.map(|e| e.as_str().to_owned()),
            auto_close_days: t.auto_close_days,
        }
    }
}

/// Body of `PATCH /api/tenant`: fields left out stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettingsInput {
    /// An e-mail address; `null` or `""` removes it.
    #[schema(max_length = 254)]
    #[serde(default, deserialize_with = "present")]
    pub contact_email: Option<Option<String>>,
}

/// A field given as `null` is `Some(None)`; left out, `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "The query string is invalid", e.body_text()))
}

/// The tenant's settings.
#[utoipa::path(
    get, path = "/api/tenant", tag = "tenant",
    params(TenantQuery),
    responses(
        (status = 200, description = "The settings", body = TenantView),
        (status = 400, description = "An operator key without `tenant`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The named tenant does not exist (or is not the key's)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn get(
    State(gateway): State<Gateway>,
    principal: Principal,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
) -> Result<Json<TenantView>, Problem> {
    let id = managed_tenant(&gateway, &principal, query(tenant)?.tenant.as_deref(), "tenant").await?;
    let tenant = gateway.tenants.get_tenant(&id).await.map_err(ApiError::from)?;
    Ok(Json(tenant.ok_or_else(|| ApiError::NotFound(format!("tenant {id} not found")))?.into()))
}

/// Changes the tenant's settings.
#[utoipa::path(
    patch, path = "/api/tenant", tag = "tenant",
    params(TenantQuery),
    request_body = TenantSettingsInput,
    responses(
        (status = 200, description = "Changed", body = TenantView),
        (status = 400, description = "A field is invalid (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The named tenant does not exist (or is not the key's)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn update(
    State(gateway): State<Gateway>,
    principal: Principal,
    tenant: Result<Query<TenantQuery>, QueryRejection>,
    body: Result<Json<TenantSettingsInput>, JsonRejection>,
) -> Result<Json<TenantView>, Problem> {
    let id = managed_tenant(&gateway, &principal, query(tenant)?.tenant.as_deref(), "tenant").await?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let contact = match input.contact_email {
        None => None,
        Some(None) => Some(None),
        Some(Some(e)) if e.trim().is_empty() => Some(None),
        Some(Some(e)) => Some(Some(EmailAddress::parse(&e).map_err(|e| Problem::field("contact_email", &e.to_string()))?)),
    };
    let edited = edit_tenant(gateway.tenants.as_ref(), &id, |t| {
        if let Some(contact) = &contact {
            t.contact_email = contact.clone();
        }
        Ok::<_, ApiError>(())
    })
    .await;
    let (tenant, ()) = match edited {
        Ok(done) => done?,
        Err(StoreError::NotFound(_)) => return Err(ApiError::NotFound(format!("tenant {id} not found")).into()),
        Err(e) => return Err(ApiError::from(e).into()),
    };
    info!(tenant_id = %tenant.id, actor = %principal.actor(), "tenant settings changed");
    Ok(Json(tenant.into()))
}
