//! Read-change-write of a tenant, retried when a concurrent edit wins:
//! the one way FAQ edits and operators' feedback change a tenant.

use crate::{StoreError, TenantStore};
use switchboard_domain::{Tenant, TenantId};

/// How many times an edit is re-applied on a fresh read before giving up
/// with `Conflict`.
pub const EDIT_ATTEMPTS: usize = 5;

/// Applies `change` to the stored tenant and writes it conditionally,
/// re-reading and re-applying when another edit came first. `change`
/// returns `Err` to abandon the edit (nothing is written) and must be
/// repeatable: it may run several times. Returns the stored tenant and
/// what `change` returned on the attempt that was written.
pub async fn edit_tenant<S, T, E>(
    store: &S,
    id: &TenantId,
    mut change: impl FnMut(&mut Tenant) -> Result<T, E>,
) -> Result<Result<(Tenant, T), E>, StoreError>
where
    S: TenantStore + ?Sized,
{
    for _ in 0..EDIT_ATTEMPTS {
        let Some(mut tenant) = store.get_tenant(id).await? else {
            return Err(StoreError::NotFound(format!("tenant {id}")));
        };
        let expected = tenant.version;
        let out = match change(&mut tenant) {
            Ok(out) => out,
            Err(e) => return Ok(Err(e)),
        };
        match store.update_tenant(&tenant, expected).await {
            Ok(stored) => return Ok(Ok((stored, out))),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict(format!("tenant {id}: concurrent edits kept winning")))
}
