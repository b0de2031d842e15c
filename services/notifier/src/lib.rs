//! Notifier: on `inquiry.answered`, `.escalated`, `.resolved` and `.failed`
//! it tells the customer by SMS (or e-mail when there is no phone) and, on
//! escalation or failure, the operators by e-mail (a failed inquiry was
//! promised a person too). Every message id derives from the
//! inquiry and the event, so a redelivered event never notifies twice.
//! Every customer notification ends with the customer's link back to the
//! conversation (`link_text.rs`).

mod link_text;

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_channels::{Delivery, EmailMessage, EmailSender, SmsMessage, SmsSender};
use switchboard_domain::event::deterministic_id;
use switchboard_domain::{CustomerLinks, EmailAddress, EventType, Inquiry, Language, TimelineEvent};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::{OrRetry, Stage};
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
}

impl Notifier {
    /// A notifier texting with `sms`, mailing with `email`, telling `operators`
    /// of escalations, and issuing customers' links with `links`.
    pub fn new(stage: Stage, sms: Arc<dyn SmsSender>, email: Arc<dyn EmailSender>, operators: EmailAddress, links: CustomerLinks) -> Self {
        Self { stage, sms, email, operators, links }
    }

    async fn tell_customer(&self, inquiry: &Inquiry, event_type: EventType, text: String) -> Result<Delivery, Outcome> {
        let id = deterministic_id(&format!("{}/{}/customer", inquiry.id, event_type.as_str()));
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
        let sent = TimelineEvent::once(
            format!("notification.customer.{}", event_type.as_str()),
            self.stage.service.name(),
            self.stage.now(),
            json!({ "channel": channel }),
        );
        self.stage.inquiries.append_event(inquiry.id, &sent).await.or_retry()?;
        Ok(delivery)
    }

    /// E-mails the operators that `inquiry` needs a person: it was
    /// escalated, or it failed (`event_type`), with the reason.
    async fn tell_operators(&self, inquiry: &Inquiry, event_type: EventType) -> Result<(), Outcome> {
        let (what, reason) = match event_type {
            EventType::InquiryFailed => ("Failed", inquiry.status_reason.as_deref().unwrap_or("failed")),
            _ => ("Escalated", inquiry.escalation.as_ref().map(|e| e.reason.as_str()).unwrap_or("escalated")),
        };
        let intent = inquiry.classification.as_ref().map(|c| c.intent.as_str()).unwrap_or("unclassified");
        let urgency = inquiry.classification.as_ref().map(|c| c.urgency.as_str()).unwrap_or("unknown");
        let mail = EmailMessage {
            id: deterministic_id(&format!("{}/{}/operators", inquiry.id, event_type.as_str())),
            to: self.operators.clone(),
            subject: format!("[Switchboard] {what} {urgency} {intent} inquiry {}", inquiry.id),
            body: format!(
                "Inquiry {id} of tenant {tenant} needs a person.\nReason: {reason}\nIntent: {intent}, urgency: {urgency}\n\n{content}\n\nResolve it with POST /api/inquiries/{id}/resolve.",
                id = inquiry.id,
                tenant = inquiry.tenant_id,
                content = inquiry.content,
            ),
            inquiry_id: Some(inquiry.id),
        };
        self.email.send_email(&mail).await.or_retry()?;
        let sent =
            TimelineEvent::once("notification.operators", self.stage.service.name(), self.stage.now(), json!({ "channel": "email" }));
        self.stage.inquiries.append_event(inquiry.id, &sent).await.or_retry()?;
        Ok(())
    }

    async fn notify(&self, event_type: EventType, inquiry: &Inquiry) -> Result<(), Outcome> {
        let language = inquiry.reply_language();
        let text = match event_type {
            EventType::InquiryAnswered => inquiry.answer.clone(),
            EventType::InquiryEscalated => inquiry.escalation.as_ref().map(|e| e.customer_message.clone()),
            EventType::InquiryResolved => inquiry.human_answer.clone(),
            EventType::InquiryFailed => Some(failure_message(language)),
            _ => return Err(Outcome::reject(format!("notifier does not handle {}", event_type.as_str()))),
        };
        let Some(text) = text else {
            return Err(Outcome::retry(format!("inquiry has no text for {} yet", event_type.as_str())));
        };
        // Valid from the inquiry's last change, not from now: a redelivery
        // signs the same link, so the same notification has the same body
        // (its message id already keeps it from being sent twice).
        let text = link_text::with_link(&text, &self.links.link(inquiry, inquiry.updated_at), language);
        let delivery = self.tell_customer(inquiry, event_type, text).await?;
        if matches!(event_type, EventType::InquiryEscalated | EventType::InquiryFailed) {
            self.tell_operators(inquiry, event_type).await?;
        }
        info!(inquiry_id = %inquiry.id, event = event_type.as_str(), ?delivery, "customer notified");
        let sent = self.stage.event(EventType::NotificationSent, inquiry, event_type.as_str(), json!({ "for": event_type.as_str() }));
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
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        let (event, inquiry) = self.stage.load(message).await?;
        let event_type = event.kind().ok_or_else(|| Outcome::reject(format!("unknown event type {}", event.event_type)))?;
        self.notify(event_type, &inquiry).await
    }
}

#[async_trait]
impl Handler for Notifier {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }
}

#[cfg(test)]
mod tests;
