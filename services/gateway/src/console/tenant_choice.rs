//! The tenant a tenant-scoped page (FAQ, reservations) works on: chosen
//! in the page's query, checked against the tenants that exist.

use crate::state::Gateway;
use switchboard_domain::{Tenant, TenantId};
use switchboard_store::StoreError;

/// Every tenant, and the chosen one if it exists.
pub(crate) async fn choose(gateway: &Gateway, wanted: Option<&str>) -> Result<(Vec<String>, Option<Tenant>), StoreError> {
    let tenants = gateway.tenants.list_tenants().await?;
    let ids = tenants.iter().map(|t| t.id.to_string()).collect();
    let chosen = match wanted.and_then(|w| TenantId::parse(w).ok()) {
        Some(id) => tenants.into_iter().find(|t| t.id == id),
        None => None,
    };
    Ok((ids, chosen))
}

/// Whether `needle` (case-insensitive) occurs in any of `fields`; an empty needle matches.
pub(crate) fn matches(needle: &str, fields: &[&str]) -> bool {
    let needle = needle.trim().to_lowercase();
    needle.is_empty() || fields.iter().any(|f| f.to_lowercase().contains(&needle))
}
