//! Tenant authentication by API key (`x-api-key`).

use crate::{Gateway, Problem};
use axum::http::HeaderMap;
use switchboard_domain::Tenant;
use switchboard_domain::tenant::hash_api_key;

/// The tenant whose key the request carries.
pub async fn tenant(gateway: &Gateway, headers: &HeaderMap) -> Result<Tenant, Problem> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Problem::unauthorized("the x-api-key header is required"))?;
    // Looked up by hash: the key itself is never stored, and the index
    // lookup does not compare secrets byte by byte.
    gateway
        .tenants
        .tenant_by_api_key_hash(&hash_api_key(key))
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .ok_or_else(|| Problem::unauthorized("the API key is not valid"))
}
