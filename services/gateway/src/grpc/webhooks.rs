//! `WebhookService`: tenants' webhook endpoints over gRPC, the twin of
//! `webhook_rest.rs` (both call `webhook_ops`).

use super::Services;
use super::authenticated::caller;
use super::convert::timestamp;
use crate::webhook_ops::{self, WithSecret};
use switchboard_domain::webhook::{AttemptResult, DeliveryAttempt, WebhookEndpoint, WebhookInput};
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::webhook_service_server::WebhookService;
use tonic::{Request, Response, Status};

fn webhook(e: WebhookEndpoint) -> pb::Webhook {
    pb::Webhook {
        id: e.id.to_string(),
        tenant_id: e.tenant_id.to_string(),
        url: e.url.to_string(),
        events: e.events.names(),
        description: e.description.clone(),
        enabled: e.enabled(),
        disabled_reason: e.disabled.as_ref().map(|d| d.reason.clone()).unwrap_or_default(),
        disabled_at: e.disabled.as_ref().map(|d| timestamp(d.at)),
        consecutive_failures: e.consecutive_failures,
        previous_secret_expires_at: e.secrets.entries().iter().filter_map(|s| s.expires_at).max().map(timestamp),
        created_at: Some(timestamp(e.created_at)),
    }
}

fn with_secret((endpoint, secret): WithSecret) -> Response<pb::WebhookWithSecret> {
    Response::new(pb::WebhookWithSecret { webhook: Some(webhook(endpoint)), secret })
}

fn delivery(a: DeliveryAttempt) -> pb::WebhookDelivery {
    let succeeded = a.result.succeeded();
    let (status_code, error) = match a.result {
        AttemptResult::Status(s) => (u32::from(s), String::new()),
        AttemptResult::Error(e) => (0, e),
    };
    pb::WebhookDelivery {
        message_id: a.message_id,
        event_type: a.event_type,
        round: a.round,
        attempt: a.attempt,
        at: Some(timestamp(a.at)),
        succeeded,
        status_code,
        error,
        latency_ms: a.latency_ms,
    }
}

/// proto3 strings are never absent: empty means "not given".
fn given(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
}

#[tonic::async_trait]
impl WebhookService for Services {
    async fn create_webhook(&self, request: Request<pb::CreateWebhookRequest>) -> Result<Response<pb::WebhookWithSecret>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let input = WebhookInput {
            url: Some(r.url),
            events: (!r.events.is_empty()).then_some(r.events),
            description: given(&r.description).map(str::to_owned),
            enabled: None,
        };
        Ok(with_secret(webhook_ops::create(&self.gateway, &principal, given(&r.tenant_id), &input).await?))
    }

    async fn list_webhooks(&self, request: Request<pb::ListWebhooksRequest>) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        let principal = caller(&request)?;
        let endpoints = webhook_ops::list(&self.gateway, &principal, given(&request.get_ref().tenant_id)).await?;
        Ok(Response::new(pb::ListWebhooksResponse { webhooks: endpoints.into_iter().map(webhook).collect() }))
    }

    async fn get_webhook(&self, request: Request<pb::GetWebhookRequest>) -> Result<Response<pb::Webhook>, Status> {
        let principal = caller(&request)?;
        let r = request.get_ref();
        Ok(Response::new(webhook(webhook_ops::get(&self.gateway, &principal, given(&r.tenant_id), &r.id).await?)))
    }

    async fn update_webhook(&self, request: Request<pb::UpdateWebhookRequest>) -> Result<Response<pb::Webhook>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let input =
            WebhookInput { url: r.url, events: r.replace_events.then_some(r.events), description: r.description, enabled: r.enabled };
        Ok(Response::new(webhook(webhook_ops::update(&self.gateway, &principal, given(&r.tenant_id), &r.id, &input).await?)))
    }

    async fn delete_webhook(&self, request: Request<pb::DeleteWebhookRequest>) -> Result<Response<pb::DeleteWebhookResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.get_ref();
        webhook_ops::delete(&self.gateway, &principal, given(&r.tenant_id), &r.id).await?;
        Ok(Response::new(pb::DeleteWebhookResponse {}))
    }

    async fn rotate_webhook_secret(
        &self,
        request: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::WebhookWithSecret>, Status> {
        let principal = caller(&request)?;
        let r = request.get_ref();
        Ok(with_secret(webhook_ops::rotate(&self.gateway, &principal, given(&r.tenant_id), &r.id).await?))
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<pb::ListWebhookDeliveriesRequest>,
    ) -> Result<Response<pb::ListWebhookDeliveriesResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.get_ref();
        let limit = (r.limit != 0).then_some(r.limit);
        let attempts = webhook_ops::deliveries(&self.gateway, &principal, given(&r.tenant_id), &r.id, limit).await?;
        Ok(Response::new(pb::ListWebhookDeliveriesResponse { deliveries: attempts.into_iter().map(delivery).collect() }))
    }

    async fn replay_webhook_delivery(
        &self,
        request: Request<pb::ReplayWebhookDeliveryRequest>,
    ) -> Result<Response<pb::ReplayWebhookDeliveryResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.get_ref();
        let replayed = webhook_ops::replay(&self.gateway, &principal, given(&r.tenant_id), &r.id, &r.message_id).await?;
        Ok(Response::new(pb::ReplayWebhookDeliveryResponse { message_id: replayed.id, round: replayed.round }))
    }
}
