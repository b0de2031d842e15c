//! Tenants' webhooks: for each inquiry event the notifier consumes, one
//! message per enabled endpoint whose filter takes it, each delivered by
//! its own `webhook.delivery` order on the notifier's queue (one slow
//! receiver holds up no other). An attempt that fails is ordered again
//! after the schedule's wait, with jitter; a message whose every attempt
//! failed counts against its endpoint, which is disabled after too many
//! in a row, and the tenant is e-mailed. Replays (from the API) start a
//! new round of the same message, with the same `webhook-id`.
//!
//! Delivery is at least once, and every step tolerates redelivery: the
//! message is stored once per (event, endpoint); each attempt is claimed
//! by a conditional write of the message, so a repeated order finds its
//! attempt claimed and does nothing (only the claimer's own redelivery,
//! after a crash mid-attempt, tries it again).

use crate::Notifier;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::EmailMessage;
use switchboard_channels::webhook::{WebhookRequest, WebhookSender};
use switchboard_domain::event::deterministic_id;
use switchboard_domain::webhook::{
    DeliveryAttempt, DeliveryOrder, Disabled, MessageState, RetrySchedule, WEBHOOK_EVENT_TYPES, WebhookEndpoint, WebhookMessage, expiry,
    message_id, payload, sign,
};
use switchboard_domain::{CloudEvent, EventType, Inquiry};
use switchboard_messaging::{MAX_DELAY, Queue, ReceivedMessage, events};
use switchboard_pipeline::OrRetry;
use switchboard_store::{StoreError, TenantStore, WebhookStore, edit_endpoint};
use switchboard_worker::Outcome;
use tracing::{debug, info, warn};

/// What the notifier needs to deliver webhooks.
#[derive(Clone)]
pub struct Webhooks {
    /// Endpoints and the delivery log.
    pub store: Arc<dyn WebhookStore>,
    /// The tenants, for their contact e-mail.
    pub tenants: Arc<dyn TenantStore>,
    /// Posts the messages.
    pub sender: Arc<dyn WebhookSender>,
    /// The notifier's own queue, where delivery orders go.
    pub queue: Arc<dyn Queue>,
    /// When failed attempts are tried again.
    pub schedule: RetrySchedule,
    /// Messages in a row that failed every attempt before an endpoint is disabled.
    pub disable_after: u32,
}

/// The body's `data`: what happened to which inquiry.
fn event_data(event: &CloudEvent, inquiry: &Inquiry) -> Value {
    let mut data = json!({
        "inquiry_id": inquiry.id,
        "tenant_id": inquiry.tenant_id,
        "status": inquiry.status,
        "event_id": event.id,
        "status_url": format!("/api/inquiries/{}/status", inquiry.id),
    });
    if let Some(c) = &inquiry.classification {
        data["intent"] = json!(c.intent.as_str());
        data["urgency"] = json!(c.urgency.as_str());
    }
    match event.kind() {
        Some(EventType::InquiryAnswered) => data["answer"] = json!(inquiry.answer),
        Some(EventType::InquiryEscalated) => data["reason"] = json!(inquiry.escalation.as_ref().map(|e| e.reason.as_str())),
        Some(EventType::InquiryResolved) => data["reason"] = json!(event.data.get("reason")),
        Some(EventType::InquiryFailed) => data["reason"] = json!(inquiry.status_reason),
        _ => {}
    }
    if let Some(round) = event.data.get("follow_up").filter(|v| !v.is_null()) {
        data["follow_up"] = round.clone();
    }
    data
}

impl Notifier {
    /// Stores one message per matching endpoint of the inquiry's tenant
    /// and orders its first attempt.
    pub(crate) async fn fan_out(&self, event: &CloudEvent, inquiry: &Inquiry) -> Result<(), Outcome> {
        let Some(webhooks) = &self.webhooks else { return Ok(()) };
        let Some(kind) = event.kind().filter(|k| WEBHOOK_EVENT_TYPES.contains(k)) else { return Ok(()) };
        let endpoints = webhooks.store.endpoints(&inquiry.tenant_id).await.or_retry()?;
        let now = self.stage.now();
        let body = payload(kind.as_str(), event.time.unwrap_or(now), &event_data(event, inquiry));
        for endpoint in endpoints.iter().filter(|e| e.enabled() && e.events.matches(kind)) {
            let id = message_id(&event.id, &endpoint.id);
            let fresh = WebhookMessage::new(id, endpoint.id.clone(), inquiry.tenant_id.clone(), kind.as_str(), body.clone(), now);
            let stored = webhooks.store.create_message(&fresh).await.or_retry()?;
            // Ordered already, and taken up: a redelivered event adds nothing.
            if stored.round == 1 && stored.attempts == 0 {
                self.order(webhooks, &DeliveryOrder::first(&stored, now)).await?;
            }
        }
        Ok(())
    }

    /// Sends `order` to the notifier's queue, delayed until due (at most a queue's longest delay).
    async fn order(&self, webhooks: &Webhooks, order: &DeliveryOrder) -> Result<(), Outcome> {
        let now = self.stage.now();
        let delay = Duration::try_from(order.due_at.duration_since(now)).unwrap_or(Duration::ZERO).min(MAX_DELAY);
        events::send(webhooks.queue.as_ref(), &order.to_event(&self.stage.source(), now), delay).await?;
        Ok(())
    }

    /// Makes the attempt a `webhook.delivery` order asks for, once.
    pub(crate) async fn deliver(&self, event: &CloudEvent, message: &ReceivedMessage) -> Result<(), Outcome> {
        let Some(webhooks) = &self.webhooks else { return Err(Outcome::reject("webhooks are not configured")) };
        let order = DeliveryOrder::from_event(event).map_err(|e| Outcome::reject(format!("a webhook.delivery without an order: {e}")))?;
        let now = self.stage.now();
        if now < order.due_at {
            // Not due: hop on as it is, without a read.
            return self.order(webhooks, &order).await;
        }
        let Some(stored) = webhooks.store.get_message(&order.endpoint_id, &order.message_id, now).await.or_retry()? else {
            debug!(message_id = %order.message_id, "webhook message expired or unknown: nothing to deliver");
            return Ok(());
        };
        let Some(claimed) = self.claim(webhooks, &order, stored, message.receive_count).await? else { return Ok(()) };
        let Some(endpoint) = webhooks.store.get_endpoint(&order.tenant_id, &order.endpoint_id).await.or_retry()? else {
            debug!(endpoint_id = %order.endpoint_id, "webhook endpoint deleted: message dropped");
            return Ok(());
        };
        if !endpoint.enabled() {
            // Ended without an attempt, so a replay may send it once the endpoint is enabled again.
            debug!(endpoint_id = %endpoint.id, "webhook endpoint disabled: message left for a replay");
            let ended = WebhookMessage { state: MessageState::Failed, ..claimed.clone() };
            return match webhooks.store.update_message(&ended, claimed.version).await {
                Ok(_) => Ok(()),
                Err(e) => settled(e),
            };
        }
        let attempt = self.attempt(webhooks, &endpoint, &claimed, &order).await;
        webhooks.store.log_attempt(&attempt, self.stage.now()).await.or_retry()?;
        let delivered = attempt.result.succeeded();
        info!(endpoint_id = %endpoint.id, message_id = %claimed.id, attempt = order.attempt, delivered, "webhook attempt");
        if delivered {
            return self.delivered(webhooks, &endpoint, claimed).await;
        }
        self.failed(webhooks, &endpoint, claimed, &order).await
    }

    /// The message as claimed for `order`'s attempt, or `None` when there
    /// is nothing to do: the round is over or was replayed, the attempt
    /// is past, or another delivery of the order holds it.
    async fn claim(
        &self,
        webhooks: &Webhooks,
        order: &DeliveryOrder,
        stored: WebhookMessage,
        receive_count: u32,
    ) -> Result<Option<WebhookMessage>, Outcome> {
        if stored.round != order.round || stored.state != MessageState::Pending || stored.attempts > order.attempt {
            return Ok(None);
        }
        if stored.attempts == order.attempt {
            if stored.last_failed {
                // Failed and recorded, but the next order may not have gone out.
                self.next_attempt(webhooks, stored, order).await?;
                return Ok(None);
            }
            // Claimed and unfinished: only the claimer's own redelivery (after
            // a crash mid-attempt) tries again; a repeated order leaves it.
            return Ok((receive_count > 1).then_some(stored));
        }
        if stored.attempts + 1 != order.attempt {
            return Ok(None);
        }
        let claim = WebhookMessage { attempts: order.attempt, last_failed: false, ..stored.clone() };
        match webhooks.store.update_message(&claim, stored.version).await {
            Ok(claimed) => Ok(Some(claimed)),
            Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(Outcome::retry(e)),
        }
    }

    /// Signs and posts the message once.
    async fn attempt(
        &self,
        webhooks: &Webhooks,
        endpoint: &WebhookEndpoint,
        message: &WebhookMessage,
        order: &DeliveryOrder,
    ) -> DeliveryAttempt {
        let now = self.stage.now();
        let signed = sign(&message.id, now, &message.payload, &endpoint.secrets.live(now));
        let request = WebhookRequest { url: endpoint.url.clone(), signed, body: message.payload.clone() };
        let response = webhooks.sender.post(&request).await;
        DeliveryAttempt {
            message_id: message.id.clone(),
            endpoint_id: endpoint.id.clone(),
            event_type: message.event_type.clone(),
            round: message.round,
            attempt: order.attempt,
            at: now,
            result: response.result,
            latency_ms: u64::try_from(response.latency.as_millis()).unwrap_or(u64::MAX),
            expires_at: expiry(now),
        }
    }

    async fn delivered(&self, webhooks: &Webhooks, endpoint: &WebhookEndpoint, claimed: WebhookMessage) -> Result<(), Outcome> {
        let done = WebhookMessage { state: MessageState::Delivered, ..claimed.clone() };
        if let Err(e) = webhooks.store.update_message(&done, claimed.version).await {
            return settled(e);
        }
        if endpoint.consecutive_failures > 0 {
            let reset = edit_endpoint(webhooks.store.as_ref(), &endpoint.tenant_id, &endpoint.id, |e| {
                e.consecutive_failures = 0;
                Ok::<_, ()>(())
            });
            match reset.await {
                Ok(_) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(Outcome::retry(e)),
            }
        }
        Ok(())
    }

    async fn failed(
        &self,
        webhooks: &Webhooks,
        endpoint: &WebhookEndpoint,
        claimed: WebhookMessage,
        order: &DeliveryOrder,
    ) -> Result<(), Outcome> {
        if order.attempt < webhooks.schedule.max_attempts() {
            let recorded = WebhookMessage { last_failed: true, ..claimed.clone() };
            return match webhooks.store.update_message(&recorded, claimed.version).await {
                Ok(recorded) => self.next_attempt(webhooks, recorded, order).await,
                Err(e) => settled(e),
            };
        }
        // The last attempt: the message failed. Only the write that ends it counts it.
        let ended = WebhookMessage { last_failed: true, state: MessageState::Failed, ..claimed.clone() };
        if let Err(e) = webhooks.store.update_message(&ended, claimed.version).await {
            return settled(e);
        }
        warn!(endpoint_id = %endpoint.id, message_id = %claimed.id, "webhook message failed every attempt");
        self.count_failure(webhooks, endpoint).await
    }

    /// Orders the attempt after `order`'s, after the schedule's wait.
    async fn next_attempt(&self, webhooks: &Webhooks, message: WebhookMessage, order: &DeliveryOrder) -> Result<(), Outcome> {
        let next = order.attempt + 1;
        let Some(wait) = webhooks.schedule.jittered_wait_before(next, rand::random::<f64>()) else { return Ok(()) };
        let wait = jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::MAX);
        let due_at = self.stage.now().checked_add(wait).unwrap_or(Timestamp::MAX);
        debug!(message_id = %message.id, attempt = next, "webhook attempt ordered again");
        self.order(webhooks, &order.next(due_at)).await
    }

    /// Counts a failed message against the endpoint; disables it (and
    /// tells the tenant) when that makes too many in a row.
    async fn count_failure(&self, webhooks: &Webhooks, endpoint: &WebhookEndpoint) -> Result<(), Outcome> {
        let now = self.stage.now();
        let limit = webhooks.disable_after;
        let counted = edit_endpoint(webhooks.store.as_ref(), &endpoint.tenant_id, &endpoint.id, |e| {
            e.consecutive_failures = e.consecutive_failures.saturating_add(1);
            let disable = limit > 0 && e.consecutive_failures >= limit && e.enabled();
            if disable {
                e.disabled =
                    Some(Disabled { reason: format!("{} messages in a row failed every attempt", e.consecutive_failures), at: now });
            }
            Ok::<_, ()>(disable)
        })
        .await;
        match counted {
            Ok(Ok((stored, true))) => self.tell_tenant(webhooks, &stored).await,
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(Outcome::retry(e)),
        }
    }

    /// E-mails the tenant that `endpoint` was disabled (once per disabling).
    async fn tell_tenant(&self, webhooks: &Webhooks, endpoint: &WebhookEndpoint) -> Result<(), Outcome> {
        warn!(endpoint_id = %endpoint.id, tenant_id = %endpoint.tenant_id, "webhook endpoint disabled after failures");
        let tenant = webhooks.tenants.get_tenant(&endpoint.tenant_id).await.or_retry()?;
        let Some(to) = tenant.and_then(|t| t.contact_email) else {
            warn!(tenant_id = %endpoint.tenant_id, "the tenant has no contact e-mail: not told of its disabled webhook");
            return Ok(());
        };
        let at = endpoint.disabled.as_ref().map(|d| d.at.as_millisecond()).unwrap_or_default();
        let reason = endpoint.disabled.as_ref().map(|d| d.reason.as_str()).unwrap_or("failures");
        let mail = EmailMessage {
            id: deterministic_id(&format!("webhook-disabled/{}/{at}", endpoint.id)),
            to,
            subject: format!("[Switchboard] Webhook {} disabled", endpoint.id),
            body: format!(
                "Your webhook endpoint {id} ({url}) was disabled: {reason}.\n\
                 Nothing is delivered to it until you enable it again (PATCH /api/webhooks/{id} with {{\"enabled\": true}});\n\
                 failed deliveries can then be replayed (POST /api/webhooks/{id}/deliveries/{{message_id}}/replay).",
                id = endpoint.id,
                url = endpoint.url,
            ),
            inquiry_id: None,
        };
        self.email.send_email(&mail).await.or_retry()?;
        Ok(())
    }
}

/// A conditional write of the message lost: another delivery moved it on,
/// or it was replayed. Nothing is left to do here.
fn settled(e: StoreError) -> Result<(), Outcome> {
    match e {
        StoreError::Conflict(_) | StoreError::NotFound(_) => Ok(()),
        other => Err(Outcome::retry(other)),
    }
}

/// Whether `event` is a delivery order.
pub(crate) fn is_order(event: &CloudEvent) -> bool {
    event.kind() == Some(EventType::WebhookDelivery)
}

#[cfg(test)]
mod tests;
