//! The notifier's handler, called directly on the embedded backends.

use super::*;
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{Escalation, InquiryStatus, Service};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};
use switchboard_store::InquiryStore;

const OPERATORS: &str = "ops@example.com";

async fn setup() -> (TestPipeline, Notifier) {
    let pipeline = TestPipeline::new().await;
    let stage = pipeline.stage(Service::Notifier);
    let notifier = Notifier::new(stage, pipeline.outbox.clone(), pipeline.outbox.clone(), EmailAddress::parse(OPERATORS).unwrap());
    (pipeline, notifier)
}

fn answered() -> Inquiry {
    let mut inquiry = InquiryBuilder::new().created_at(START, 4).language(Language::En).status(InquiryStatus::Answered).build();
    inquiry.answer = Some("Parking is free for guests.".into());
    inquiry
}

/// Stores `inquiry` (unless stored) and hands the notifier an event about it.
async fn notify(pipeline: &TestPipeline, notifier: &Notifier, inquiry: &Inquiry, event_type: EventType) -> Result<(), Outcome> {
    if pipeline.store.get_inquiry(inquiry.id).await.unwrap().is_none() {
        pipeline.store_inquiry(inquiry).await;
    }
    let event = pipeline.stage(Service::Responder).event(event_type, inquiry, "1", json!({}));
    notifier.try_handle(&delivery(&event, 1)).await
}

#[tokio::test]
async fn an_answer_is_texted_to_the_customer_once_however_often_it_is_delivered() {
    let (pipeline, notifier) = setup().await;
    let inquiry = answered();
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await.unwrap();
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await.unwrap();

    let sent = pipeline.outbox(inquiry.id).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].channel.as_str(), sent[0].to.as_str()), ("sms", "+821012345678"));
    assert_eq!(sent[0].body, "Parking is free for guests.");
    assert!(pipeline.timeline(inquiry.id).await.contains(&"notification.customer.inquiry.answered".to_owned()));
}

#[tokio::test]
async fn an_escalation_tells_the_customer_and_the_operators() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.status = InquiryStatus::Escalated;
    inquiry.escalation =
        Some(Escalation { reason: "refunds are decided by a person".into(), customer_message: "A person will reply.".into() });
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryEscalated).await.unwrap();

    let sent = pipeline.outbox(inquiry.id).await;
    let recipients: Vec<(&str, &str)> = sent.iter().map(|m| (m.channel.as_str(), m.to.as_str())).collect();
    assert_eq!(recipients, [("sms", "+821012345678"), ("email", OPERATORS)]);
    assert_eq!(sent[0].body, "A person will reply.");
    assert!(sent[1].body.contains("Reason: refunds are decided by a person"));
}

#[tokio::test]
async fn a_customer_without_a_phone_is_emailed() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.customer.phone = None;
    inquiry.customer.email = Some(EmailAddress::parse("guest@example.com").unwrap());
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await.unwrap();

    let sent = pipeline.outbox(inquiry.id).await;
    assert_eq!((sent[0].channel.as_str(), sent[0].to.as_str()), ("email", "guest@example.com"));
}

#[tokio::test]
async fn a_failed_inquiry_is_told_in_the_customers_language() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.status = InquiryStatus::Failed;
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryFailed).await.unwrap();
    assert_eq!(pipeline.outbox(inquiry.id).await[0].body, failure_message(Language::En));
}

#[tokio::test]
async fn a_failed_inquiry_is_handed_to_the_operators_once_with_its_reason() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.status = InquiryStatus::Failed;
    inquiry.status_reason = Some("the partner's SMS could not be sent".into());
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryFailed).await.unwrap();
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryFailed).await.unwrap();

    let sent = pipeline.outbox(inquiry.id).await;
    let operators: Vec<_> = sent.iter().filter(|m| m.to == OPERATORS).collect();
    assert_eq!(operators.len(), 1, "{sent:?}");
    assert!(operators[0].subject.as_deref().unwrap_or_default().starts_with("[Switchboard] Failed"));
    assert!(operators[0].body.contains("Reason: the partner's SMS could not be sent"));
    assert!(failure_message(Language::En).contains("Our team has been told"), "the customer is told the truth");
}

#[tokio::test]
async fn a_customer_who_cannot_be_reached_is_rejected() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.customer.phone = None;
    let outcome = notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await;
    assert_eq!(outcome, Err(Outcome::reject("the inquiry has no customer contact")));
}

#[tokio::test]
async fn an_answer_not_written_yet_is_retried() {
    let (pipeline, notifier) = setup().await;
    let inquiry = Inquiry { answer: None, ..answered() };
    let outcome = notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await;
    assert_eq!(outcome, Err(Outcome::retry("inquiry has no text for inquiry.answered yet")));
    assert!(pipeline.outbox(inquiry.id).await.is_empty());
}

#[tokio::test]
async fn events_it_does_not_handle_are_rejected() {
    let (pipeline, notifier) = setup().await;
    let outcome = notify(&pipeline, &notifier, &answered(), EventType::InquiryReceived).await;
    assert_eq!(outcome, Err(Outcome::reject("notifier does not handle inquiry.received")));
}

#[test]
fn only_a_resolved_events_reason_keys_its_notifications_apart() {
    let inquiry = InquiryBuilder::new().build();
    let stage = |t| {
        CloudEvent::for_inquiry(
            t,
            inquiry.id,
            &inquiry.tenant_id,
            "1",
            "test",
            inquiry.created_at,
            json!({ "reason": "the customer asked for a person" }),
        )
    };
    assert_eq!(Round::of(&stage(EventType::InquiryEscalated)).suffix(), "", "an operator's escalation keeps the first round's ids");
    assert_eq!(Round::of(&stage(EventType::InquiryResolved)).suffix(), "/the customer asked for a person");
}
