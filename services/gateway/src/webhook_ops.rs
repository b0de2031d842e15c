//! Tenants' webhook endpoints, managed with the caller's key: the
//! operations REST (`webhook_rest.rs`), gRPC (`grpc/webhooks.rs`) and the
//! operators' console share. A tenant key manages its own endpoints; an
//! operator key names the tenant. A URL is checked against server-side
//! request forgery when it is registered or changed (the notifier checks
//! it again at every delivery). Every change is a conditional write.

use crate::error::ApiError;
use crate::principal::{Principal, managed_tenant};
use crate::state::Gateway;
use jiff::Timestamp;
use switchboard_channels::webhook::{TargetError, resolve};
use switchboard_domain::TenantId;
use switchboard_domain::webhook::secret::GENERATED_SECRET_BYTES;
use switchboard_domain::webhook::{
    DeliveryAttempt, DeliveryOrder, MessageState, SecretRing, WebhookChange, WebhookEndpoint, WebhookEndpointId, WebhookInput,
    WebhookMessage, WebhookSecret, WebhookUrl,
};
use switchboard_messaging::events;
use switchboard_store::{StoreError, edit_endpoint};
use tracing::info;

/// Most endpoints one tenant may register.
pub const MAX_ENDPOINTS_PER_TENANT: usize = 20;
/// Most delivery attempts one listing returns.
pub const MAX_DELIVERIES_LISTED: u32 = 100;

/// An endpoint and the secret to show once (creation, rotation).
pub type WithSecret = (WebhookEndpoint, String);

fn endpoint_id(id: &str) -> Result<WebhookEndpointId, ApiError> {
    WebhookEndpointId::parse(id.trim()).map_err(|_| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("webhook endpoint {id} not found"))
}

/// A fresh secret from the system's random source.
fn new_secret() -> Result<WebhookSecret, ApiError> {
    let bytes: [u8; GENERATED_SECRET_BYTES] = rand::random();
    WebhookSecret::from_bytes(&bytes).map_err(|e| ApiError::Unavailable(e.to_string()))
}

/// BAD REQUEST naming `url` unless it resolves only to allowed addresses.
async fn check_target(gateway: &Gateway, url: &WebhookUrl) -> Result<(), ApiError> {
    match resolve(url, &gateway.webhooks.policy).await {
        Ok(_) => Ok(()),
        Err(TargetError::Refused(refused)) => Err(ApiError::field("url", &format!("resolves to {refused}, which webhooks may not reach"))),
        Err(TargetError::Unresolved(why)) => Err(ApiError::field("url", &format!("does not resolve ({why})"))),
    }
}

async fn checked(gateway: &Gateway, input: &WebhookInput, new: bool) -> Result<WebhookChange, ApiError> {
    let change = input.parse(new, gateway.webhooks.allow_http)?;
    if let Some(url) = &change.url {
        check_target(gateway, url).await?;
    }
    Ok(change)
}

/// Registers an endpoint; its secret is returned once.
pub async fn create(gateway: &Gateway, principal: &Principal, tenant: Option<&str>, input: &WebhookInput) -> Result<WithSecret, ApiError> {
    let tenant = managed_tenant(gateway, principal, tenant, "tenant").await?;
    let change = checked(gateway, input, true).await?;
    let store = gateway.webhooks.store.as_ref();
    if store.endpoints(&tenant).await?.len() >= MAX_ENDPOINTS_PER_TENANT {
        return Err(ApiError::FailedPrecondition {
            detail: format!("a tenant has at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints: delete one first"),
            current: None,
        });
    }
    let url = change.url.clone().ok_or_else(|| ApiError::field("url", "is required"))?;
    let secret = new_secret()?;
    let now = Timestamp::now();
    let mut endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        tenant_id: tenant,
        url,
        events: switchboard_domain::webhook::EventFilter::All,
        description: String::new(),
        secrets: SecretRing::new(secret.clone()),
        disabled: None,
        consecutive_failures: 0,
        created_at: now,
        version: 0,
    };
    change.apply(&mut endpoint, now);
    store.create_endpoint(&endpoint).await?;
    info!(tenant_id = %endpoint.tenant_id, endpoint_id = %endpoint.id, actor = %principal.actor(), "webhook endpoint registered");
    Ok((endpoint, secret.expose()))
}

/// The tenant's endpoints.
pub async fn list(gateway: &Gateway, principal: &Principal, tenant: Option<&str>) -> Result<Vec<WebhookEndpoint>, ApiError> {
    let tenant = managed_tenant(gateway, principal, tenant, "tenant").await?;
    Ok(gateway.webhooks.store.endpoints(&tenant).await?)
}

/// One endpoint.
pub async fn get(gateway: &Gateway, principal: &Principal, tenant: Option<&str>, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let tenant = managed_tenant(gateway, principal, tenant, "tenant").await?;
    gateway.webhooks.store.get_endpoint(&tenant, &endpoint_id(id)?).await?.ok_or_else(|| not_found(id))
}

/// Changes an endpoint's URL, filter, description, or enables or disables it.
pub async fn update(
    gateway: &Gateway,
    principal: &Principal,
    tenant: Option<&str>,
    id: &str,
    input: &WebhookInput,
) -> Result<WebhookEndpoint, ApiError> {
    let tenant = managed_tenant(gateway, principal, tenant, "tenant").await?;
    let change = checked(gateway, input, false).await?;
    let now = Timestamp::now();
    let (endpoint, ()) = edit(gateway, &tenant, id, |e| {
        change.apply(e, now);
        Ok(())
    })
    .await?;
    info!(tenant_id = %tenant, endpoint_id = %endpoint.id, actor = %principal.actor(), enabled = endpoint.enabled(), "webhook endpoint changed");
    Ok(endpoint)
}

/// Deletes an endpoint (its log expires by itself).
pub async fn delete(gateway: &Gateway, principal: &Principal, tenant: Option<&str>, id: &str) -> Result<(), ApiError> {
    let tenant = managed_tenant(gateway, principal, tenant, "tenant").await?;
    if !gateway.webhooks.store.delete_endpoint(&tenant, &endpoint_id(id)?).await? {
        return Err(not_found(id));
    }
    info!(tenant_id = %tenant, endpoint_id = %id, actor = %principal.actor(), "webhook endpoint deleted");
    Ok(())
}

/// Gives the endpoint a new secret, returned once; the old one keeps
/// signing beside it for the configured grace.
pub async fn rotate(gateway: &Gateway, principal: &Principal, tenant: Option<&str>, id: &str) -> Result<WithSecret, ApiError> {
    let tenant = managed_tenant(gateway, principal, tenant, "tenant").await?;
    let secret = new_secret()?;
    let (now, grace) = (Timestamp::now(), gateway.webhooks.rotation_grace);
    let (endpoint, ()) = edit(gateway, &tenant, id, |e| {
        e.secrets.rotate(secret.clone(), now, grace);
        Ok(())
    })
    .await?;
    info!(tenant_id = %tenant, endpoint_id = %endpoint.id, actor = %principal.actor(), "webhook secret rotated");
    Ok((endpoint, secret.expose()))
}

/// The endpoint's newest delivery attempts, newest first.
pub async fn deliveries(
    gateway: &Gateway,
    principal: &Principal,
    tenant: Option<&str>,
    id: &str,
    limit: Option<u32>,
) -> Result<Vec<DeliveryAttempt>, ApiError> {
    let endpoint = get(gateway, principal, tenant, id).await?;
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_DELIVERIES_LISTED).contains(&limit) {
        return Err(ApiError::field("limit", &format!("must be 1 to {MAX_DELIVERIES_LISTED}")));
    }
    Ok(gateway.webhooks.store.attempts(&endpoint.id, limit, Timestamp::now()).await?)
}

/// Sends a logged message again, as a new round with the same
/// `webhook-id`. The endpoint must be enabled, and the message not being
/// delivered right now.
pub async fn replay(
    gateway: &Gateway,
    principal: &Principal,
    tenant: Option<&str>,
    id: &str,
    message_id: &str,
) -> Result<WebhookMessage, ApiError> {
    let endpoint = get(gateway, principal, tenant, id).await?;
    if !endpoint.enabled() {
        return Err(ApiError::FailedPrecondition { detail: "the endpoint is disabled: enable it before replaying".into(), current: None });
    }
    let now = Timestamp::now();
    let store = gateway.webhooks.store.as_ref();
    let message = store
        .get_message(&endpoint.id, message_id.trim(), now)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("message {message_id} not found in the delivery log")))?;
    if message.state == MessageState::Pending {
        return Err(ApiError::FailedPrecondition { detail: "the message is still being delivered".into(), current: None });
    }
    let replayed = match store.update_message(&message.replayed(now), message.version).await {
        Ok(replayed) => replayed,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::FailedPrecondition { detail: "the message was replayed meanwhile".into(), current: None });
        }
        Err(e) => return Err(e.into()),
    };
    let order = DeliveryOrder::first(&replayed, now).to_event("switchboard/gateway", now);
    events::send(gateway.webhooks.notifier_queue.as_ref(), &order, std::time::Duration::ZERO)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    info!(tenant_id = %endpoint.tenant_id, endpoint_id = %endpoint.id, message_id = %replayed.id, round = replayed.round, actor = %principal.actor(), "webhook message replayed");
    Ok(replayed)
}

/// Applies `change` to the endpoint, conditionally, with retries.
async fn edit<T>(
    gateway: &Gateway,
    tenant: &TenantId,
    id: &str,
    change: impl FnMut(&mut WebhookEndpoint) -> Result<T, ApiError>,
) -> Result<(WebhookEndpoint, T), ApiError> {
    match edit_endpoint(gateway.webhooks.store.as_ref(), tenant, &endpoint_id(id)?, change).await {
        Ok(edited) => edited,
        Err(StoreError::NotFound(_)) => Err(not_found(id)),
        Err(e) => Err(e.into()),
    }
}
