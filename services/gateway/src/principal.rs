//! Who is calling: the `x-api-key` of a REST request or a gRPC call, found
//! in the operator keys or (by hash) among the tenants, and counted
//! against the per-key limit. REST handlers take a [`Principal`] argument
//! (an axum extractor); the gRPC services are wrapped by
//! `grpc::authenticated`, which does the same before each call.

use crate::api::Api;
use crate::error::ApiError;
use crate::problem::Problem;
use crate::rate_limits::LimitKey;
use crate::state::Gateway;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::IpAddr;
use subtle::ConstantTimeEq;
use switchboard_domain::tenant::hash_api_key;
use switchboard_domain::{Inquiry, Tenant, TenantId};

/// The header (gRPC: metadata entry) that carries the API key.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// Who is calling: a tenant's API client or an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// A tenant's API key: its own inquiries only.
    Tenant(Tenant),
    /// An operator key: every tenant's inquiries, resolving, reservations.
    Operator {
        /// The operator's name, as the key list names them.
        name: String,
    },
}

impl Principal {
    /// The timeline's `actor` for changes this caller makes.
    pub fn actor(&self) -> String {
        match self {
            Self::Tenant(t) => format!("tenant:{}", t.id),
            Self::Operator { name } => format!("operator:{name}"),
        }
    }

    /// The tenant, or PERMISSION_DENIED for an operator.
    pub fn tenant(&self) -> Result<&Tenant, ApiError> {
        match self {
            Self::Tenant(t) => Ok(t),
            Self::Operator { .. } => {
                Err(ApiError::PermissionDenied("operator keys do not submit inquiries: use the tenant's API key".into()))
            }
        }
    }

    /// Ok for an operator, PERMISSION_DENIED for a tenant key.
    pub fn operator(&self, what: &str) -> Result<&str, ApiError> {
        match self {
            Self::Operator { name } => Ok(name),
            Self::Tenant(_) => Err(ApiError::PermissionDenied(format!("{what} needs an operator key"))),
        }
    }

    /// Whether this caller may see `inquiry`.
    pub fn may_see(&self, inquiry: &Inquiry) -> bool {
        self.may_see_tenant(&inquiry.tenant_id)
    }

    /// Whether this caller may see the inquiries of `tenant`.
    pub fn may_see_tenant(&self, tenant: &TenantId) -> bool {
        match self {
            Self::Tenant(t) => t.id == *tenant,
            Self::Operator { .. } => true,
        }
    }
}

/// The tenant whose settings or endpoints the caller manages: a tenant key's own (a
/// `tenant` naming another is NOT_FOUND, as another tenant's data is); an
/// operator names one that exists.
pub(crate) async fn managed_tenant(
    gateway: &Gateway,
    principal: &Principal,
    tenant: Option<&str>,
    field: &str,
) -> Result<TenantId, ApiError> {
    let tenant = tenant.map(str::trim).filter(|t| !t.is_empty());
    match principal {
        Principal::Tenant(own) => match tenant {
            Some(named) if named != own.id.as_str() => Err(ApiError::NotFound(format!("tenant {named} not found"))),
            _ => Ok(own.id.clone()),
        },
        Principal::Operator { .. } => {
            let named = tenant.ok_or_else(|| ApiError::field(field, "is required with an operator key"))?;
            let id = TenantId::parse(named).map_err(|e| ApiError::field(field, &e.to_string()))?;
            match gateway.tenants.get_tenant(&id).await? {
                Some(_) => Ok(id),
                None => Err(ApiError::NotFound(format!("tenant {id} not found"))),
            }
        }
    }
}

/// Counts a request from `client` against the per-address limit.
pub(crate) fn check_client(api: &Api, client: Option<IpAddr>) -> Result<(), ApiError> {
    match client {
        Some(ip) => Ok(api.limit(LimitKey::ApiClient(ip))?),
        // No address (a router driven directly in tests): only the key limit applies.
        None => Ok(()),
    }
}

/// The API key of a request, if it has one.
pub(crate) fn api_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers.get(API_KEY_HEADER).map(|v| v.to_str().map_err(|_| ApiError::Unauthenticated("the API key is not valid".into()))).transpose()
}

/// The caller behind an API key, counted against the per-key limit.
pub(crate) async fn authenticate(gateway: &Gateway, key: Option<&str>) -> Result<Principal, ApiError> {
    let key =
        key.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| ApiError::Unauthenticated("the x-api-key header is required".into()))?;
    let principal = if let Some(name) = gateway.api.operators().find(key) {
        Principal::Operator { name: name.to_owned() }
    } else {
        // Looked up by hash: the key itself is never stored. The stored hash
        // is compared again in constant time, so a lookup that matched on
        // anything but the whole hash can never let a key in.
        let hash = hash_api_key(key);
        let tenant = gateway
            .tenants
            .tenant_by_api_key_hash(&hash)
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?
            .filter(|t| bool::from(t.api_key_hash.as_bytes().ct_eq(hash.as_bytes())))
            .ok_or_else(|| ApiError::Unauthenticated("the API key is not valid".into()))?;
        Principal::Tenant(tenant)
    };
    gateway.api.limit(LimitKey::ApiCaller(&principal.actor()))?;
    Ok(principal)
}

/// The caller of a REST request (the per-address limit is a route layer).
impl FromRequestParts<Gateway> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, gateway: &Gateway) -> Result<Self, Self::Rejection> {
        let key = api_key(&parts.headers)?;
        Ok(authenticate(gateway, key).await?)
    }
}
