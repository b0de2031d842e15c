//! Read-change-write of a webhook endpoint, retried when a concurrent
//! change wins: how the API and the notifier (its failure count) change one.

use crate::tenant_edit::EDIT_ATTEMPTS;
use crate::{StoreError, WebhookStore};
use switchboard_domain::TenantId;
use switchboard_domain::webhook::{WebhookEndpoint, WebhookEndpointId};

/// Applies `change` to the stored endpoint and writes it conditionally,
/// re-reading and re-applying when another change came first. `change`
/// returns `Err` to abandon the edit and must be repeatable. Returns the
/// stored endpoint and what `change` returned on the attempt written.
pub async fn edit_endpoint<S, T, E>(
    store: &S,
    tenant: &TenantId,
    id: &WebhookEndpointId,
    mut change: impl FnMut(&mut WebhookEndpoint) -> Result<T, E>,
) -> Result<Result<(WebhookEndpoint, T), E>, StoreError>
where
    S: WebhookStore + ?Sized,
{
    for _ in 0..EDIT_ATTEMPTS {
        let Some(mut endpoint) = store.get_endpoint(tenant, id).await? else {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        };
        let expected = endpoint.version;
        let out = match change(&mut endpoint) {
            Ok(out) => out,
            Err(e) => return Ok(Err(e)),
        };
        match store.update_endpoint(&endpoint, expected).await {
            Ok(stored) => return Ok(Ok((stored, out))),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict(format!("webhook endpoint {id}: concurrent edits kept winning")))
}
