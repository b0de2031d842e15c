//! The notifier's handler, called directly on the embedded backends.

use super::*;
use switchboard_domain::customer_link::DEFAULT_CUSTOMER_LINK_VALIDITY;
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::token::TokenKeys;
use switchboard_domain::{Escalation, InquiryStatus, Service};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};
use switchboard_store::InquiryStore;

const OPERATORS: &str = "ops@example.com";

fn links() -> CustomerLinks {
    CustomerLinks::new(TokenKeys::new(vec![vec![3; 32]]).unwrap(), "https://sb.example/", DEFAULT_CUSTOMER_LINK_VALIDITY)
}

/// The text before the customer's link, and the token the link carries.
fn split_link(body: &str) -> (&str, &str) {
    let (text, link) = body.rsplit_once("\n\n").expect("a link after a blank line");
    let token = link.rsplit_once("https://sb.example/c/").expect("the customer link").1;
    (text, token)
}

pub(crate) async fn setup() -> (TestPipeline, Notifier) {
    let pipeline = TestPipeline::new().await;
    let stage = pipeline.stage(Service::Notifier);
    let notifier = Notifier::new(stage, pipeline.outbox.clone(), pipeline.outbox.clone(), EmailAddress::parse(OPERATORS).unwrap(), links());
    (pipeline, notifier)
}

pub(crate) fn answered() -> Inquiry {
    answered_seeded(4)
}

/// An answered inquiry whose id derives from `seed`.
pub(crate) fn answered_seeded(seed: u8) -> Inquiry {
    let mut inquiry = InquiryBuilder::new().created_at(START, seed).language(Language::En).status(InquiryStatus::Answered).build();
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
    let (text, token) = split_link(&sent[0].body);
    assert_eq!(text, "Parking is free for guests.");
    assert_eq!(links().open(token, START).unwrap().inquiry_id, inquiry.id, "the link opens this inquiry's conversation");
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
    assert_eq!(split_link(&sent[0].body).0, "A person will reply.");
    assert!(!sent[1].body.contains("/c/"), "the operators' mail carries no customer link");
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
    assert_eq!(split_link(&pipeline.outbox(inquiry.id).await[0].body).0, failure_message(Language::En));
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

#[tokio::test]
async fn an_e_mailed_answer_carries_the_link_back_too_in_the_customers_language() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.customer.phone = None;
    inquiry.customer.email = Some(EmailAddress::parse("kim@example.co.kr").unwrap());
    inquiry.language = Some(Language::Ko);
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await.unwrap();

    let sent = pipeline.outbox(inquiry.id).await;
    assert_eq!(sent[0].channel.as_str(), "email");
    assert!(sent[0].body.contains("문의 내역·답장: https://sb.example/c/"), "{}", sent[0].body);
    assert!(links().open(split_link(&sent[0].body).1, START).is_ok());
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

#[tokio::test]
async fn a_question_about_the_booking_is_sent_to_the_customer_once_and_not_to_the_operators() {
    let (pipeline, notifier) = setup().await;
    let mut inquiry = answered();
    inquiry.status = InquiryStatus::AwaitingCustomer;
    inquiry.answer = None;
    let unverified = switchboard_domain::Unverified::NoNumber;
    inquiry.customer_question = Some(switchboard_domain::CustomerQuestion {
        unverified,
        message: unverified.question(Language::En, None),
        asked_at: START,
        deadline_at: START,
        reply: None,
    });
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAwaitingCustomer).await.unwrap();
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAwaitingCustomer).await.unwrap();

    let sent = pipeline.outbox(inquiry.id).await;
    assert_eq!(sent.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(), ["+821012345678"], "{sent:?}");
    assert_eq!(split_link(&sent[0].body).0, unverified.question(Language::En, None), "with the link to reply on");
}

#[test]
fn the_failure_notice_with_the_longest_link_is_3_segments_in_korean_and_2_in_english() {
    use switchboard_domain::fixtures::longest_customer_link;
    for (language, segments) in [(Language::Ko, 3), (Language::En, 2)] {
        let text = customer_link::with_link(&failure_message(language), &longest_customer_link(), language);
        assert_eq!(switchboard_domain::sms_segments(&text), segments, "{text}");
    }
}

#[tokio::test]
async fn the_customer_is_texted_a_compact_48_character_link_that_opens_the_inquiry() {
    let (pipeline, notifier) = setup().await;
    let inquiry = answered();
    notify(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await.unwrap();
    let body = pipeline.outbox(inquiry.id).await[0].body.clone();
    let (_, token) = split_link(&body);
    assert_eq!(token.len(), switchboard_domain::customer_link::COMPACT_CUSTOMER_TOKEN_CHARS, "{body}");
    assert!(links().open(token, START).unwrap().opens(&inquiry));
}
