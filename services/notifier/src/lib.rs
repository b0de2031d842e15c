//! Notifier: on `inquiry.answered`, `.escalated`, `.resolved`, `.failed`
//! and `.awaiting_customer` (a question about the booking) it tells the
//! customer by SMS (or e-mail when there is no phone) and, on
//! escalation or failure, the operators by e-mail (a failed inquiry was
//! promised a person too). A customer's follow-up on an escalated inquiry
//! is an `inquiry.escalated` for the operators only. Every message id
//! derives from the inquiry, the event type and the follow-up's round
//! ([`Round`]), so a redelivered event never notifies twice and a
//! follow-up's answer is not taken for the first answer.
//! Every customer notification ends with the customer's link back to the
//! conversation ([`customer_link::with_link`]). The same events go to the tenant's
//! webhooks, each delivered by an order on the notifier's own queue
//! (`webhooks.rs`). An escalation starts its first-response SLA clock,
//! whose breach re-notifies the operators once ([`sla`]).

pub mod sla;
mod webhooks;

pub use sla::SlaTimer;
pub use webhooks::Webhooks;

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_channels::{Delivery, EmailMessage, EmailSender, SmsMessage, SmsSender};
use switchboard_domain::customer_link;
use switchboard_domain::event::deterministic_id;
use switchboard_domain::reentry::closing_message;
use switchboard_domain::{CloudEvent, CustomerLinks, EmailAddress, EventType, Inquiry, Language, TimelineEvent};
use switchboard_messaging::{ReceivedMessage, events};
use switchboard_pipeline::{OrRetry, Stage};
use switchboard_store::InquiryStore;
use switchboard_worker::{Handler, Outcome};
use tracing::info;

/// The notifier service.
#[derive(Clone)]
pub struct Notifier {
    stage: Stage,
    sms: Arc<dyn SmsSender>,
    email: Arc<dyn EmailSender>,
    operators: EmailAddress,
    links: CustomerLinks,
    /// Delivers tenants' webhooks; `None`: no webhooks.
    webhooks: Option<Webhooks>,
    /// Where escalations' SLA checks are timed; `None`: no SLA clocks.
    sla: Option<SlaTimer>,
}

impl Notifier {
    /// A notifier texting with `sms`, mailing with `email`, telling `operators`
    /// of escalations, and issuing customers' links with `links`; it keeps
    /// no SLA clocks until [`Self::with_sla`].
    pub fn new(stage: Stage, sms: Arc<dyn SmsSender>, email: Arc<dyn EmailSender>, operators: EmailAddress, links: CustomerLinks) -> Self {
        Self { stage, sms, email, operators, links, webhooks: None, sla: None }
    }

    /// The same notifier, delivering tenants' webhooks too.
    pub fn with_webhooks(self, webhooks: Webhooks) -> Self {
        Self { webhooks: Some(webhooks), ..self }
    }

    /// The same notifier starting a first-response clock on every escalation (see [`sla`]).
    pub fn with_sla(self, timer: SlaTimer) -> Self {
        Self { sla: Some(timer), ..self }
    }

    async fn tell_customer(&self, inquiry: &Inquiry, event_type: EventType, round: &Round, text: String) -> Result<Delivery, Outcome> {
        let id = deterministic_id(&format!("{}/{}{}/customer", inquiry.id, event_type.as_str(), round.suffix()));
        let (channel, delivery) = if let Some(phone) = &inquiry.customer.phone {
            let sms = SmsMessage { id, to: phone.clone(), body: text, inquiry_id: Some(inquiry.id) };
            ("sms", self.sms.send_sms(&sms).await)
        } else if let Some(email) = &inquiry.customer.email {
            let subject = subject(inquiry.reply_language(), inquiry);
            let mail = EmailMessage { id, to: email.clone(), subject, body: text, inquiry_id: Some(inquiry.id) };
            ("email", self.email.send_email(&mail).await)
        } else {
            return Err(Outcome::reject("the inquiry has no customer contact"));
        };
        let delivery = delivery.or_retry()?;
        let mut sent = TimelineEvent::once(
            format!("notification.customer.{}", event_type.as_str()),
            self.stage.service.name(),
            self.stage.now(),
            json!({ "channel": channel }),
        );
        sent.key.push_str(&round.suffix());
        self.stage.inquiries.append_event(inquiry.id, &sent).await.or_retry()?;
        Ok(delivery)
    }

    /// E-mails the operators that `inquiry` needs a person: it was
    /// escalated, or it failed (`event_type`), with the reason.
    async fn tell_operators(&self, inquiry: &Inquiry, event_type: EventType, round: &Round) -> Result<(), Outcome> {
        let (what, reason) = match event_type {
            EventType::InquiryFailed => ("Failed", inquiry.status_reason.as_deref().unwrap_or("failed")),
            _ if round.operators_only => ("Follow-up on escalated", "the customer wrote again"),
            _ => ("Escalated", inquiry.escalation.as_ref().map(|e| e.reason.as_str()).unwrap_or("escalated")),
        };
        let follow_up = match round.sequence {
            Some(sequence) => self.follow_up_text(inquiry, sequence).await?,
            None => String::new(),
        };
        let intent = inquiry.classification.as_ref().map(|c| c.intent.as_str()).unwrap_or("unclassified");
        let urgency = inquiry.classification.as_ref().map(|c| c.urgency.as_str()).unwrap_or("unknown");
        let mail = EmailMessage {
            id: deterministic_id(&format!("{}/{}{}/operators", inquiry.id, event_type.as_str(), round.suffix())),
            to: self.operators.clone(),
            subject: format!("[Switchboard] {what} {urgency} {intent} inquiry {}", inquiry.id),
            body: format!(
                "Inquiry {id} of tenant {tenant} needs a person.\nReason: {reason}\nIntent: {intent}, urgency: {urgency}\n\n{content}\n{follow_up}\nResolve it with POST /api/inquiries/{id}/resolve.",
                id = inquiry.id,
                tenant = inquiry.tenant_id,
                content = inquiry.content,
            ),
            inquiry_id: Some(inquiry.id),
        };
        self.email.send_email(&mail).await.or_retry()?;
        let mut sent =
            TimelineEvent::once("notification.operators", self.stage.service.name(), self.stage.now(), json!({ "channel": "email" }));
        sent.key.push_str(&round.suffix());
        self.stage.inquiries.append_event(inquiry.id, &sent).await.or_retry()?;
        Ok(())
    }

    /// The follow-up numbered `sequence`, quoted for the operators' e-mail.
    async fn follow_up_text(&self, inquiry: &Inquiry, sequence: u32) -> Result<String, Outcome> {
        let store: &dyn InquiryStore = self.stage.inquiries.as_ref();
        let messages = store.messages(inquiry.id, sequence.saturating_sub(1), 1).await.or_retry()?;
        Ok(messages.first().filter(|m| m.sequence == sequence).map(|m| format!("Follow-up {sequence}:\n{}\n", m.text)).unwrap_or_default())
    }

    async fn notify(&self, event_type: EventType, inquiry: &Inquiry, round: &Round) -> Result<(), Outcome> {
        let language = inquiry.reply_language();
        if round.operators_only {
            self.tell_operators(inquiry, event_type, round).await?;
            info!(inquiry_id = %inquiry.id, "operators told of a follow-up");
            return Ok(());
        }
        let text = match event_type {
            EventType::InquiryAnswered => inquiry.answer.clone(),
            EventType::InquiryEscalated => inquiry.escalation.as_ref().map(|e| e.customer_message.clone()),
            // Closed by the customer's thanks or silence: a closing notice.
            EventType::InquiryResolved if round.reason.is_some() => round.reason.as_deref().map(|reason| closing_message(language, reason)),
            EventType::InquiryResolved => inquiry.human_answer.clone(),
            EventType::InquiryFailed => Some(failure_message(language)),
            // The question about the booking: the customer's reply resumes the partner flow.
            EventType::InquiryAwaitingCustomer => inquiry.customer_question.as_ref().map(|q| q.message.clone()),
            _ => return Err(Outcome::reject(format!("notifier does not handle {}", event_type.as_str()))),
        };
        let Some(text) = text else {
            return Err(Outcome::retry(format!("inquiry has no text for {} yet", event_type.as_str())));
        };
        if event_type == EventType::InquiryEscalated {
            // First, so the clock runs even while the channels are down.
            self.start_sla(inquiry).await?;
        }
        // Valid from the inquiry's last change, not from now: a redelivery
        // signs the same link, so the same notification has the same body
        // (its message id already keeps it from being sent twice).
        let text = customer_link::with_link(&text, &self.links.link(inquiry, inquiry.updated_at), language);
        let delivery = self.tell_customer(inquiry, event_type, round, text).await?;
        if matches!(event_type, EventType::InquiryEscalated | EventType::InquiryFailed) {
            self.tell_operators(inquiry, event_type, round).await?;
        }
        info!(inquiry_id = %inquiry.id, event = event_type.as_str(), ?delivery, "customer notified");
        let step = format!("{}{}", event_type.as_str(), round.suffix());
        let sent = self.stage.event(EventType::NotificationSent, inquiry, &step, json!({ "for": event_type.as_str() }));
        self.stage.publish(&[sent]).await
    }
}

fn subject(language: Language, inquiry: &Inquiry) -> String {
    let title = inquiry.title.clone().unwrap_or_default();
    match language {
        Language::Ko => format!("[문의 답변] {title}"),
        Language::En => format!("[Your inquiry] {title}"),
    }
}

fn failure_message(language: Language) -> String {
    match language {
        Language::Ko => "죄송합니다. 문의를 자동으로 처리하지 못했습니다. 담당자에게 전달되었으니 곧 연락드리겠습니다.".into(),
        Language::En => "We're sorry: we could not process your inquiry automatically. Our team has been told and will contact you.".into(),
    }
}

impl Notifier {
    /// Tells the customer (and, on escalation, the operators) about the
    /// inquiry of an `inquiry.answered`, `.escalated`, `.resolved` or
    /// `.failed` message, then publishes `notification.sent`.
    /// A `webhook.delivery` order makes its one attempt instead.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        let event = events::parse(message).map_err(Outcome::reject)?;
        if webhooks::is_order(&event) {
            return self.deliver(&event, message).await;
        }
        if event.kind() == Some(EventType::SlaCheck) && self.hop_sla(&event).await? {
            return Ok(());
        }
        let (event, inquiry) = self.stage.load(message).await?;
        let event_type = event.kind().ok_or_else(|| Outcome::reject(format!("unknown event type {}", event.event_type)))?;
        if event_type == EventType::SlaCheck {
            return self.on_sla_check(&event, inquiry).await;
        }
        // First, so an inquiry the customer cannot be told of still reaches the tenant's webhooks.
        self.fan_out(&event, &inquiry).await?;
        self.notify(event_type, &inquiry, &Round::of(&event)).await
    }
}

/// Which round of the conversation an event is about, as its data says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Round {
    /// The follow-up it is about; `None`: the inquiry itself.
    sequence: Option<u32>,
    /// A follow-up on an escalated inquiry: the operators are told, not the customer.
    operators_only: bool,
    /// Why a `resolved` closed without a person (`customer_closed`, `no_reply`).
    reason: Option<String>,
}

impl Round {
    fn of(event: &CloudEvent) -> Self {
        let data = &event.data;
        Self {
            sequence: data.get("follow_up").and_then(serde_json::Value::as_u64).and_then(|s| u32::try_from(s).ok()),
            operators_only: data.get("operators_only").and_then(serde_json::Value::as_bool).unwrap_or(false),
            // Only a `resolved` says why it closed without a person (an
            // operator's escalation carries its own reason, told by the inquiry).
            reason: (event.kind() == Some(EventType::InquiryResolved))
                .then(|| data.get("reason").and_then(serde_json::Value::as_str).map(str::to_owned))
                .flatten(),
        }
    }

    /// What keys this round's messages apart from the first round's
    /// (nothing for the first round, whose ids stay as they were).
    fn suffix(&self) -> String {
        let mut suffix = self.sequence.map(|s| format!("/follow-up-{s}")).unwrap_or_default();
        if self.operators_only {
            suffix.push_str("/operators-only");
        }
        if let Some(reason) = &self.reason {
            suffix.push_str(&format!("/{reason}"));
        }
        suffix
    }
}

#[async_trait]
impl Handler for Notifier {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }
}

#[cfg(test)]
mod sla_tests;
#[cfg(test)]
mod tests;
