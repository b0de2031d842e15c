//! `/api/tenants/{tenant}/sla`: a tenant's first-response SLA policy over
//! REST (operators set it, the tenant's own key may read it).

use crate::principal::Principal;
use crate::problem::{Problem, from_json_rejection};
use crate::sla_ops::{self, TenantSla};
use crate::state::Gateway;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use serde::Serialize;
use switchboard_domain::SlaPolicyInput;
use switchboard_domain::sla::{OpeningInput, Targets};
use utoipa::ToSchema;

/// A tenant's SLA policy as returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaPolicyView {
    pub tenant_id: String,
    /// The tenant set no policy: this is the default (1 h high, 4 h medium, 24 h low, around the clock, UTC).
    pub default: bool,
    /// Seconds to a person's first response, by urgency.
    #[schema(value_type = crate::schemas::SlaTargetsDoc)]
    pub first_response_secs: Targets,
    /// The IANA time zone of the business hours.
    pub time_zone: String,
    /// When the business answers; empty: around the clock.
    #[schema(value_type = Vec<crate::schemas::OpeningDoc>)]
    pub business_hours: Vec<OpeningInput>,
}

impl From<TenantSla> for SlaPolicyView {
    fn from(t: TenantSla) -> Self {
        let input = t.policy.input().clone();
        Self {
            tenant_id: t.tenant_id.to_string(),
            default: t.default,
            first_response_secs: input.first_response_secs,
            time_zone: input.time_zone,
            business_hours: input.business_hours,
        }
    }
}

fn path_tenant(tenant: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    tenant.map(|Path(t)| t).map_err(|_| Problem::field("tenant", "must be 1–64 characters of a-z, 0-9 and '-'"))
}

/// The tenant's first-response SLA policy (its own, or the default).
#[utoipa::path(
    get, path = "/api/tenants/{tenant}/sla", tag = "operators",
    params(("tenant" = String, Path, pattern = r"^[a-z0-9-]{1,64}$", description = "The tenant id")),
    responses(
        (status = 200, description = "The policy", body = SlaPolicyView),
        (status = 400, description = "The tenant id is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A tenant key asking for another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn get(
    State(gateway): State<Gateway>,
    principal: Principal,
    tenant: Result<Path<String>, PathRejection>,
) -> Result<Json<SlaPolicyView>, Problem> {
    let tenant = path_tenant(tenant)?;
    Ok(Json(sla_ops::get(&gateway, &principal, &tenant).await?.into()))
}

/// Sets the tenant's first-response SLA policy (operator key): a target per
/// urgency in seconds, the time zone and the business hours the targets
/// count in. Escalations from now on are held to it.
#[utoipa::path(
    put, path = "/api/tenants/{tenant}/sla", tag = "operators",
    params(("tenant" = String, Path, pattern = r"^[a-z0-9-]{1,64}$", description = "The tenant id")),
    request_body = crate::schemas::SlaPolicyDoc,
    responses(
        (status = 200, description = "Set", body = SlaPolicyView),
        (status = 400, description = "A field is invalid (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn put(
    State(gateway): State<Gateway>,
    principal: Principal,
    tenant: Result<Path<String>, PathRejection>,
    body: Result<Json<SlaPolicyInput>, JsonRejection>,
) -> Result<Json<SlaPolicyView>, Problem> {
    let tenant = path_tenant(tenant)?;
    let Json(input) = body.map_err(from_json_rejection)?;
    Ok(Json(sla_ops::put(&gateway, &principal, &tenant, input).await?.into()))
}
