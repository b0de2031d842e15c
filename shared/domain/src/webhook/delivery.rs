//! The delivery log: one message per event and endpoint, tried by
//! attempts until one succeeds or the schedule ends; a replay sends the
//! same message (the same `webhook-id`) again, as a new round.

use super::endpoint::WebhookEndpointId;
use crate::event::{CloudEvent, EventType, deterministic_id};
use crate::tenant::TenantId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// How long messages and their attempts are kept (DynamoDB's TTL deletes
/// them after; the embedded store when it next writes the endpoint's log).
pub const DELIVERY_LOG_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Namespace of message ids (UUIDv5).
const MESSAGE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x0a1e_51c4_7d3b_4e0f_9b26_3c8d_5e71_f402);

/// The `webhook-id` of event `event_id` sent to `endpoint`: the same for
/// every attempt and replay, so receivers can deduplicate.
pub fn message_id(event_id: &str, endpoint: &WebhookEndpointId) -> String {
    format!("msg_{}", Uuid::new_v5(&MESSAGE_ID_NAMESPACE, format!("{event_id}/{endpoint}").as_bytes()).simple())
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Attempts are under way.
    Pending,
    /// An attempt got a 2xx.
    Delivered,
    /// Every attempt of the round failed.
    Failed,
}

/// One message to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// The `webhook-id`.
    pub id: String,
    /// Where it goes.
    pub endpoint_id: WebhookEndpointId,
    /// Whose.
    pub tenant_id: TenantId,
    /// The event type.
    pub event_type: String,
    /// The body, exactly as signed and sent.
    pub payload: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// 1, then one more per replay.
    pub round: u32,
    /// Attempts claimed in this round.
    pub attempts: u32,
    /// Whether the last claimed attempt finished, and failed.
    #[serde(default)]
    pub last_failed: bool,
    /// Where it stands.
    pub state: MessageState,
    /// Bumped by every conditional update.
    #[serde(default)]
    pub version: u64,
    /// When the log forgets it.
    pub expires_at: Timestamp,
}

impl WebhookMessage {
    /// A new message, pending its first attempt.
    pub fn new(id: String, endpoint_id: WebhookEndpointId, tenant_id: TenantId, event_type: &str, payload: String, now: Timestamp) -> Self {
        Self {
            id,
            endpoint_id,
            tenant_id,
            event_type: event_type.to_owned(),
            payload,
            created_at: now,
            round: 1,
            attempts: 0,
            last_failed: false,
            state: MessageState::Pending,
            version: 0,
            expires_at: expiry(now),
        }
    }

    /// The message replayed at `now`: a new round from its first attempt.
    pub fn replayed(&self, now: Timestamp) -> Self {
        Self {
            round: self.round + 1,
            attempts: 0,
            last_failed: false,
            state: MessageState::Pending,
            expires_at: expiry(now),
            ..self.clone()
        }
    }
}

/// When something logged at `now` is forgotten.
pub fn expiry(now: Timestamp) -> Timestamp {
    jiff::SignedDuration::try_from(DELIVERY_LOG_TTL).ok().and_then(|ttl| now.checked_add(ttl).ok()).unwrap_or(Timestamp::MAX)
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    /// The receiver answered with this status (2xx: delivered).
    Status(u16),
    /// No answer: refused target, connection failure, timeout.
    Error(String),
}

impl AttemptResult {
    /// Whether the attempt delivered the message.
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Status(s) if (200..300).contains(s))
    }
}

/// One attempt, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// The message (`webhook-id`).
    pub message_id: String,
    /// Where it went.
    pub endpoint_id: WebhookEndpointId,
    /// The event type.
    pub event_type: String,
    /// The message's round (1, then one per replay).
    pub round: u32,
    /// The attempt in its round (1-based).
    pub attempt: u32,
    /// When it was sent.
    pub at: Timestamp,
    /// What came back.
    pub result: AttemptResult,
    /// How long the receiver took, in milliseconds.
    pub latency_ms: u64,
    /// When the log forgets it.
    pub expires_at: Timestamp,
}

/// The notifier's order to make one attempt: a `webhook.delivery` event
/// sent to its own queue, delayed until the attempt is due (in hops of at
/// most a queue's longest delay, as the other timers do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryOrder {
    /// Whose endpoint.
    pub tenant_id: TenantId,
    /// The endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// The message (`webhook-id`).
    pub message_id: String,
    /// Its round.
    pub round: u32,
    /// The attempt to make (1-based).
    pub attempt: u32,
    /// Not before.
    pub due_at: Timestamp,
}

impl DeliveryOrder {
    /// The first attempt of `message`'s current round, due at once.
    pub fn first(message: &WebhookMessage, now: Timestamp) -> Self {
        Self {
            tenant_id: message.tenant_id.clone(),
            endpoint_id: message.endpoint_id.clone(),
            message_id: message.id.clone(),
            round: message.round,
            attempt: 1,
            due_at: now,
        }
    }

    /// The next attempt, due at `due_at`.
    pub fn next(&self, due_at: Timestamp) -> Self {
        Self { attempt: self.attempt + 1, due_at, ..self.clone() }
    }

    /// The order as an event from `source` made at `now`; its id is the
    /// same for the same attempt, so a repeated order is recognisable.
    pub fn to_event(&self, source: &str, now: Timestamp) -> CloudEvent {
        CloudEvent {
            specversion: "1.0".to_owned(),
            id: deterministic_id(&format!("{}/{}/{}/{}", self.endpoint_id, self.message_id, self.round, self.attempt)),
            source: source.to_owned(),
            event_type: EventType::WebhookDelivery.as_str().to_owned(),
            time: Some(now),
            subject: Some(self.message_id.clone()),
            datacontenttype: Some("application/json".to_owned()),
            data: serde_json::to_value(self).unwrap_or_default(),
            tenantid: Some(self.tenant_id.to_string()),
            traceparent: None,
            hasattachments: None,
            needspartner: None,
        }
    }

    /// The order a `webhook.delivery` event carries.
    pub fn from_event(event: &CloudEvent) -> Result<Self, serde_json::Error> {
        serde_json::from_value(event.data.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_is_stable_per_event_and_endpoint() {
        let (a, b) = (WebhookEndpointId::generate(), WebhookEndpointId::generate());
        assert_eq!(message_id("e1", &a), message_id("e1", &a));
        assert_ne!(message_id("e1", &a), message_id("e1", &b));
        assert!(message_id("e1", &a).starts_with("msg_"));
    }

    #[test]
    fn an_order_travels_as_a_webhook_delivery_event() {
        let message = WebhookMessage::new(
            "msg_1".into(),
            WebhookEndpointId::generate(),
            TenantId::from_valid("t"),
            "inquiry.answered",
            "{}".into(),
            Timestamp::UNIX_EPOCH,
        );
        let order = DeliveryOrder::first(&message, Timestamp::UNIX_EPOCH);
        let event = order.to_event("switchboard/notifier", Timestamp::UNIX_EPOCH);
        assert_eq!(event.kind(), Some(EventType::WebhookDelivery));
        assert_eq!(DeliveryOrder::from_event(&event).unwrap(), order);
        let next = order.next(Timestamp::UNIX_EPOCH);
        assert_eq!(next.attempt, 2);
        assert_ne!(next.to_event("s", Timestamp::UNIX_EPOCH).id, event.id);
    }

    #[test]
    fn only_a_2xx_delivers() {
        assert!(AttemptResult::Status(204).succeeded());
        assert!(!AttemptResult::Status(302).succeeded(), "redirects are not followed");
        assert!(!AttemptResult::Error("timed out".into()).succeeded());
    }
}
