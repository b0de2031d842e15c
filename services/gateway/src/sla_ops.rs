//! A tenant's first-response SLA policy, read and set: the operations REST
//! (`sla_rest.rs`) and gRPC share. Operators set it; a tenant's own key may
//! read it. A tenant without a policy of its own is held to
//! [`SlaPolicy::default`], which a read shows as `default`.

use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::Gateway;
use switchboard_domain::{SlaPolicy, SlaPolicyInput, TenantId};
use switchboard_store::edit_tenant;
use tracing::info;

/// A tenant's policy and whether it is the default (the tenant set none).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantSla {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The policy its escalations are held to.
    pub policy: SlaPolicy,
    /// `true`: the tenant has no policy of its own.
    pub default: bool,
}

fn tenant_id(tenant: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(tenant.trim()).map_err(|e| ApiError::field("tenant", &e.to_string()))
}

/// The policy of `tenant` (operator: any tenant; a tenant key: its own).
pub async fn get(gateway: &Gateway, principal: &Principal, tenant: &str) -> Result<TenantSla, ApiError> {
    let id = tenant_id(tenant)?;
    if !principal.may_see_tenant(&id) {
        return Err(ApiError::PermissionDenied("a tenant key reads only its own tenant's SLA".into()));
    }
    let tenant = gateway.tenants.get_tenant(&id).await?.ok_or_else(|| ApiError::NotFound(format!("tenant {id} not found")))?;
    Ok(TenantSla { tenant_id: id, default: tenant.sla.is_none(), policy: tenant.sla_policy() })
}

/// Sets the policy of `tenant` (operator key only); every field is
/// checked first and each bad one named. Escalations from now on are held
/// to it; clocks already running keep their deadlines.
pub async fn put(gateway: &Gateway, principal: &Principal, tenant: &str, input: SlaPolicyInput) -> Result<TenantSla, ApiError> {
    principal.operator("setting a tenant's SLA")?;
    let id = tenant_id(tenant)?;
    let policy = input.parse()?;
    let (stored, ()) = edit_tenant(gateway.tenants.as_ref(), &id, |t| {
        t.sla = Some(policy.clone());
        Ok::<(), ApiError>(())
    })
    .await??;
    info!(tenant_id = %id, actor = %principal.actor(), "SLA policy set");
    Ok(TenantSla { tenant_id: id, default: false, policy: stored.sla_policy() })
}
