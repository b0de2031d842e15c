//! Domain events in the CloudEvents 1.0 envelope, with deterministic ids.

use crate::inquiry::InquiryId;
use crate::tenant::TenantId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Namespace for deterministic event ids (UUIDv5).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5b1c_7a3e_9d2f_4c11_8e6a_0f3b_2d4c_9a71);

/// Every event type that travels between services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// An upstream system's submission, sent to the intake queue.
    #[serde(rename = "inquiry.submitted")]
    InquirySubmitted,
    /// Intake stored a new inquiry.
    #[serde(rename = "inquiry.received")]
    InquiryReceived,
    /// The image analyzer read the inquiry's attachments.
    #[serde(rename = "inquiry.attachments_analyzed")]
    AttachmentsAnalyzed,
    /// The classifier classified the inquiry.
    #[serde(rename = "inquiry.classified")]
    InquiryClassified,
    /// A partner was asked to confirm.
    #[serde(rename = "partner.requested")]
    PartnerRequested,
    /// The dispatcher's own delayed message: the partner's time is up.
    #[serde(rename = "partner.deadline")]
    PartnerDeadline,
    /// The partner answered.
    #[serde(rename = "partner.responded")]
    PartnerResponded,
    /// The partner did not answer in time.
    #[serde(rename = "partner.timed_out")]
    PartnerTimedOut,
    /// The customer was asked to check the reservation number (the
    /// booking could not be found or verified): the notifier sends them
    /// the question.
    #[serde(rename = "inquiry.awaiting_customer")]
    InquiryAwaitingCustomer,
    /// The dispatcher's own delayed message: the customer's time to reply
    /// to the question is up.
    #[serde(rename = "inquiry.reply_deadline")]
    ReplyDeadline,
    /// The inquiry got an automatic answer.
    #[serde(rename = "inquiry.answered")]
    InquiryAnswered,
    /// The inquiry went to a human.
    #[serde(rename = "inquiry.escalated")]
    InquiryEscalated,
    /// The inquiry was closed.
    #[serde(rename = "inquiry.resolved")]
    InquiryResolved,
    /// The pipeline gave up on the inquiry.
    #[serde(rename = "inquiry.failed")]
    InquiryFailed,
    /// A customer's follow-up was added to the inquiry's conversation: the
    /// classifier takes it up (close, escalate, or through the pipeline again).
    #[serde(rename = "inquiry.message_received")]
    MessageReceived,
    /// The responder's own delayed message: an answer's wait for the
    /// customer's reply is over (unless a reply came).
    #[serde(rename = "inquiry.auto_close")]
    AutoClose,
    /// The notifier's own delayed message: an escalated inquiry's
    /// first-response deadline is due (breached unless a person answered).
    #[serde(rename = "inquiry.sla_check")]
    SlaCheck,
    /// The customer was notified.
    #[serde(rename = "notification.sent")]
    NotificationSent,
    /// The notifier's own (possibly delayed) message: one attempt to
    /// deliver one webhook message to one endpoint.
    #[serde(rename = "webhook.delivery")]
    WebhookDelivery,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 19] = [
        Self::InquirySubmitted,
        Self::InquiryReceived,
        Self::AttachmentsAnalyzed,
        Self::InquiryClassified,
        Self::PartnerRequested,
        Self::PartnerDeadline,
        Self::PartnerResponded,
        Self::PartnerTimedOut,
        Self::InquiryAwaitingCustomer,
        Self::ReplyDeadline,
        Self::InquiryAnswered,
        Self::InquiryEscalated,
        Self::InquiryResolved,
        Self::InquiryFailed,
        Self::MessageReceived,
        Self::AutoClose,
        Self::SlaCheck,
        Self::NotificationSent,
        Self::WebhookDelivery,
    ];

    /// The CloudEvents `type`, e.g. `inquiry.received`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InquirySubmitted => "inquiry.submitted",
            Self::InquiryReceived => "inquiry.received",
            Self::AttachmentsAnalyzed => "inquiry.attachments_analyzed",
            Self::InquiryClassified => "inquiry.classified",
            Self::PartnerRequested => "partner.requested",
            Self::PartnerDeadline => "partner.deadline",
            Self::PartnerResponded => "partner.responded",
            Self::PartnerTimedOut => "partner.timed_out",
            Self::InquiryAwaitingCustomer => "inquiry.awaiting_customer",
            Self::ReplyDeadline => "inquiry.reply_deadline",
            Self::InquiryAnswered => "inquiry.answered",
            Self::InquiryEscalated => "inquiry.escalated",
            Self::InquiryResolved => "inquiry.resolved",
            Self::InquiryFailed => "inquiry.failed",
            Self::MessageReceived => "inquiry.message_received",
            Self::AutoClose => "inquiry.auto_close",
            Self::SlaCheck => "inquiry.sla_check",
            Self::NotificationSent => "notification.sent",
            Self::WebhookDelivery => "webhook.delivery",
        }
    }

    /// The event type with this CloudEvents `type`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A CloudEvents 1.0 event in JSON structured mode: the body of every SNS/SQS message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    /// CloudEvents version: always `1.0`.
    pub specversion: String,
    /// Unique per event; deterministic for inquiry events.
    pub id: String,
    /// The producing service.
    pub source: String,
    /// The event type's wire name (CloudEvents `type`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened.
    pub time: Option<Timestamp>,
    /// The inquiry id, for inquiry events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The media type of `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    /// The payload.
    #[serde(default)]
    pub data: serde_json::Value,
    /// The tenant the event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenantid: Option<String>,
    /// W3C trace context of the producer (SNS has no trace attribute of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Whether the inquiry has attachments (routes to the image analyzer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hasattachments: Option<bool>,
    /// Whether a partner must confirm (routes to the partner dispatcher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needspartner: Option<bool>,
}

/// The message attributes SNS filter policies route on.
pub type RoutingAttributes = BTreeMap<String, String>;

impl CloudEvent {
    /// An event about one inquiry. Its id is derived from (inquiry, type,
    /// step), so a handler that runs again publishes the same id and
    /// consumers can tell it is a repeat.
    pub fn for_inquiry(
        event_type: EventType,
        inquiry_id: InquiryId,
        tenant_id: &TenantId,
        step: &str,
        source: &str,
        time: Timestamp,
        data: serde_json::Value,
    ) -> Self {
        Self {
            specversion: "1.0".to_owned(),
            id: deterministic_id(&format!("{inquiry_id}/{}/{step}", event_type.as_str())),
            source: source.to_owned(),
            event_type: event_type.as_str().to_owned(),
            time: Some(time),
            subject: Some(inquiry_id.to_string()),
            datacontenttype: Some("application/json".to_owned()),
            data,
            tenantid: Some(tenant_id.to_string()),
            traceparent: None,
            hasattachments: None,
            needspartner: None,
        }
    }

    /// Sets `hasattachments`.
    pub fn with_has_attachments(mut self, value: bool) -> Self {
        self.hasattachments = Some(value);
        self
    }

    /// Sets `needspartner`.
    pub fn with_needs_partner(mut self, value: bool) -> Self {
        self.needspartner = Some(value);
        self
    }

    /// The event type, if it is one Switchboard knows.
    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }

    /// The inquiry this event is about, if its subject names one.
    pub fn inquiry_id(&self) -> Option<InquiryId> {
        self.subject.as_deref().and_then(|s| InquiryId::parse(s).ok())
    }

    /// Routing attributes for SNS/SQS, as String attributes (the emulator
    /// mishandles Binary ones, and filter policies match strings).
    pub fn routing_attributes(&self) -> RoutingAttributes {
        let mut attrs = BTreeMap::new();
        attrs.insert("event_type".to_owned(), self.event_type.clone());
        if let Some(t) = &self.tenantid {
            attrs.insert("tenant_id".to_owned(), t.clone());
        }
        if let Some(v) = self.hasattachments {
            attrs.insert("has_attachments".to_owned(), v.to_string());
        }
        if let Some(v) = self.needspartner {
            attrs.insert("needs_partner".to_owned(), v.to_string());
        }
        attrs
    }
}

/// A UUIDv5 of `name` in Switchboard's namespace.
pub fn deterministic_id(name: &str) -> String {
    Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inquiry() -> InquiryId {
        InquiryId::parse("0190f5e2-7c3a-7b1e-8a4d-0123456789ab").unwrap()
    }

    #[test]
    fn the_same_step_gets_the_same_id_and_other_steps_differ() {
        let tenant = TenantId::parse("demo").unwrap();
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let later = Timestamp::from_second(1_700_000_100).unwrap();
        let a = CloudEvent::for_inquiry(EventType::InquiryReceived, inquiry(), &tenant, "1", "intake", now, serde_json::Value::Null);
        let b = CloudEvent::for_inquiry(EventType::InquiryReceived, inquiry(), &tenant, "1", "intake", later, serde_json::Value::Null);
        let c = CloudEvent::for_inquiry(EventType::InquiryClassified, inquiry(), &tenant, "1", "classifier", now, serde_json::Value::Null);
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn envelope_serialises_as_structured_cloudevent_with_routing_attributes() {
        let tenant = TenantId::parse("demo").unwrap();
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let e =
            CloudEvent::for_inquiry(EventType::InquiryClassified, inquiry(), &tenant, "1", "classifier", now, serde_json::json!({"x": 1}))
                .with_needs_partner(true);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "inquiry.classified");
        assert_eq!(json["subject"], inquiry().to_string());
        assert_eq!(json["tenantid"], "demo");
        let attrs = e.routing_attributes();
        assert_eq!(attrs["event_type"], "inquiry.classified");
        assert_eq!(attrs["needs_partner"], "true");
        assert!(!attrs.contains_key("has_attachments"));
        let back: CloudEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
}
