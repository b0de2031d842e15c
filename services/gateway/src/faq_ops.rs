//! A tenant's FAQ, read and changed with the tenant's API key: the
//! operations REST (`faq_rest.rs`) and gRPC share. Every change is a
//! conditional write of the tenant ([`edit_tenant`]), retried when another
//! change won, and optionally conditional on the version the client read
//! (`If-Match`).

use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::Gateway;
use switchboard_domain::faq::{FaqEntryInput, add_entry, parse_variant};
use switchboard_domain::{FaqEntry, FaqEntryId, Tenant, TenantId};
use switchboard_store::edit_tenant;
use tracing::info;

/// An entry and the tenant version it was read or written at (the ETag).
pub type Versioned<T> = (T, u64);

/// The entry with `id` in `tenant`'s FAQ, or NOT_FOUND.
fn find<'a>(tenant: &'a Tenant, id: &str) -> Result<&'a FaqEntry, ApiError> {
    FaqEntryId::parse(id).ok().and_then(|id| tenant.faq_entry(&id)).ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("FAQ entry {id} not found"))
}

/// FAILED_PRECONDITION unless the tenant is at the version the client read.
fn check_version(tenant: &Tenant, expected: Option<u64>) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != tenant.version => Err(ApiError::FailedPrecondition {
            detail: format!("the FAQ changed: it is at version {}, not {v}; read it again", tenant.version),
            current: None,
        }),
        _ => Ok(()),
    }
}

/// Every entry of the caller's FAQ.
pub fn list(principal: &Principal) -> Result<Versioned<Vec<FaqEntry>>, ApiError> {
    let tenant = principal.tenant()?;
    Ok((tenant.faq.clone(), tenant.version))
}

/// One entry.
pub fn get(principal: &Principal, id: &str) -> Result<Versioned<FaqEntry>, ApiError> {
    let tenant = principal.tenant()?;
    Ok((find(tenant, id)?.clone(), tenant.version))
}

/// Whose FAQ a change edits and who makes it (the timeline's and the log's actor).
#[derive(Debug, Clone)]
pub struct Editor {
    tenant: TenantId,
    actor: String,
}

impl Editor {
    /// A tenant's key edits its own FAQ.
    pub fn of(principal: &Principal) -> Result<Self, ApiError> {
        Ok(Self { tenant: principal.tenant()?.id.clone(), actor: principal.actor() })
    }

    /// An operator edits `tenant`'s FAQ (the console).
    pub fn operator_for(principal: &Principal, tenant: TenantId) -> Result<Self, ApiError> {
        principal.operator("editing a tenant's FAQ")?;
        Ok(Self { tenant, actor: principal.actor() })
    }
}

/// Applies `change` to the editor's tenant, conditionally, with retries.
async fn change<T>(
    gateway: &Gateway,
    editor: &Editor,
    expected: Option<u64>,
    what: &str,
    mut change: impl FnMut(&mut Tenant) -> Result<T, ApiError>,
) -> Result<Versioned<T>, ApiError> {
    let (tenant, out) = edit_tenant(gateway.tenants.as_ref(), &editor.tenant, |tenant| {
        check_version(tenant, expected)?;
        change(tenant)
    })
    .await??;
    info!(tenant_id = %tenant.id, actor = %editor.actor, version = tenant.version, "FAQ {what}");
    Ok((out, tenant.version))
}

/// Adds an entry.
pub async fn add(
    gateway: &Gateway,
    editor: &Editor,
    input: &FaqEntryInput,
    expected: Option<u64>,
) -> Result<Versioned<FaqEntry>, ApiError> {
    let entry = input.parse_new()?;
    change(gateway, editor, expected, "entry added", |tenant| {
        add_entry(&mut tenant.faq, entry.clone())?;
        Ok(entry.clone())
    })
    .await
}

/// Changes an entry's question, answer or variants (its language stays).
pub async fn edit(
    gateway: &Gateway,
    editor: &Editor,
    id: &str,
    input: &FaqEntryInput,
    expected: Option<u64>,
) -> Result<Versioned<FaqEntry>, ApiError> {
    let edit = input.parse_change()?;
    change(gateway, editor, expected, "entry edited", |tenant| {
        let entry = entry_mut(tenant, id)?;
        entry.apply(edit.clone());
        Ok(entry.clone())
    })
    .await
}

/// Deletes an entry.
pub async fn delete(gateway: &Gateway, editor: &Editor, id: &str, expected: Option<u64>) -> Result<u64, ApiError> {
    let (_, version) = change(gateway, editor, expected, "entry deleted", |tenant| {
        let before = tenant.faq.len();
        tenant.faq.retain(|e| e.id.as_str() != id);
        if tenant.faq.len() == before { Err(not_found(id)) } else { Ok(()) }
    })
    .await?;
    Ok(version)
}

/// Adds a phrasing to an entry (no change if it already has it).
pub async fn add_variant(
    gateway: &Gateway,
    editor: &Editor,
    id: &str,
    text: &str,
    expected: Option<u64>,
) -> Result<Versioned<FaqEntry>, ApiError> {
    let text = parse_variant(text)?;
    change(gateway, editor, expected, "variant added", |tenant| {
        let entry = entry_mut(tenant, id)?;
        entry.push_variant(&text)?;
        Ok(entry.clone())
    })
    .await
}

/// Removes the phrasing at `index` (0-based) of an entry.
pub async fn remove_variant(
    gateway: &Gateway,
    editor: &Editor,
    id: &str,
    index: usize,
    expected: Option<u64>,
) -> Result<Versioned<FaqEntry>, ApiError> {
    change(gateway, editor, expected, "variant removed", |tenant| {
        let entry = entry_mut(tenant, id)?;
        if !entry.remove_variant(index) {
            return Err(ApiError::NotFound(format!("FAQ entry {id} has no variant {index}")));
        }
        Ok(entry.clone())
    })
    .await
}

fn entry_mut<'a>(tenant: &'a mut Tenant, id: &str) -> Result<&'a mut FaqEntry, ApiError> {
    FaqEntryId::parse(id).ok().and_then(|parsed| tenant.faq_entry_mut(&parsed)).ok_or_else(|| not_found(id))
}
