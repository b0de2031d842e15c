//! The classifier taking up a customer's follow-up, called directly on
//! the embedded backends.

use super::*;
use switchboard_ai::AiError;
use switchboard_domain::fixtures::{InquiryBuilder, classification};
use switchboard_domain::reentry::CUSTOMER_CLOSED;
use switchboard_domain::{Author, CloudEvent, FollowUp, Intent, Language, Message, MessageChannel, Sentiment, Service, Urgency};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};
use switchboard_store::InquiryStore;

/// An engine with a fixed verdict.
struct Scripted(Classification);

#[async_trait]
impl ClassifierEngine for Scripted {
    async fn classify(&self, _request: &ClassifyRequest) -> Result<Classification, AiError> {
        Ok(self.0.clone())
    }
}

fn verdict(sentiment: Sentiment, urgency: Urgency) -> Classification {
    let mut c = classification(Language::En, Intent::GeneralQuestion);
    c.sentiment = sentiment;
    c.urgency = urgency;
    c
}

/// An answered inquiry with its answer, the customer's follow-up `text`
/// and its `inquiry.message_received`.
async fn answered_with(pipeline: &TestPipeline, text: &str) -> (Inquiry, CloudEvent) {
    let mut inquiry = InquiryBuilder::new()
        .created_at(START, 1)
        .content("What time is check-in?")
        .status(InquiryStatus::Answered)
        .classification(classification(Language::En, Intent::GeneralQuestion))
        .build();
    inquiry.answer = Some("From 3 pm.".into());
    pipeline.store_inquiry(&inquiry).await;
    let answer = Message::reply(&inquiry, Author::Ai, "answer", "From 3 pm.", START);
    pipeline.store.append_message(&answer, &[]).await.unwrap();
    let event = followed_up(pipeline, &inquiry, text).await;
    (inquiry, event)
}

/// Stores the customer's follow-up `text` to `inquiry` and returns the
/// `inquiry.message_received` intake would announce it with.
async fn followed_up(pipeline: &TestPipeline, inquiry: &Inquiry, text: &str) -> CloudEvent {
    let said = FollowUp { text: text.into(), language: Some(Language::En) };
    let message = Message::follow_up(inquiry.id, "k1", said, MessageChannel::Api, START);
    let message = pipeline.store.append_message(&message, &[]).await.unwrap().message().clone();
    pipeline.stage(Service::Intake).event(
        EventType::MessageReceived,
        inquiry,
        &message.key,
        json!({ "inquiry_id": inquiry.id, "message_id": message.id }),
    )
}

#[tokio::test]
async fn thanks_resolve_an_answered_inquiry_once_however_often_the_follow_up_is_delivered() {
    let pipeline = TestPipeline::new().await;
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(verdict(Sentiment::Positive, Urgency::Low))));
    let (inquiry, event) = answered_with(&pipeline, "Thanks, that solved it!").await;
    for receive_count in 1..=3 {
        classifier.try_handle(&delivery(&event, receive_count)).await.unwrap();
    }

    let resolved = pipeline.inquiry(inquiry.id).await;
    assert_eq!((resolved.status, resolved.status_reason.as_deref()), (InquiryStatus::Resolved, Some(CUSTOMER_CLOSED)));
    assert_eq!(resolved.version, inquiry.version + 1, "one write");
    let published = pipeline.take(Service::Notifier).await;
    let ids: std::collections::BTreeSet<_> = published.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 1, "the same inquiry.resolved each time: {published:?}");
    let messages = pipeline.store.messages(inquiry.id, 1, 10).await.unwrap();
    assert_eq!(messages.iter().filter(|m| m.author == Author::System).count(), 1);
}

#[tokio::test]
async fn a_new_question_reopens_the_inquiry_and_goes_to_the_responder_classified() {
    let pipeline = TestPipeline::new().await;
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(verdict(Sentiment::Neutral, Urgency::Low))));
    let (inquiry, event) = answered_with(&pipeline, "Is there parking?").await;
    classifier.try_handle(&delivery(&event, 1)).await.unwrap();

    let classified = pipeline.inquiry(inquiry.id).await;
    assert_eq!(classified.status, InquiryStatus::Classified);
    assert_eq!(classified.follow_up.as_ref().map(|r| (r.sequence, r.text.as_str())), Some((3, "Is there parking?")));
    assert_eq!(classified.classification, inquiry.classification, "message 1 keeps its own classification");
    let timeline = pipeline.timeline(inquiry.id).await;
    assert!(timeline.iter().any(|k| k == "status.reopened"), "{timeline:?}");
    let routed = pipeline.take(Service::Responder).await;
    assert_eq!(routed.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["inquiry.classified"]);
}

#[tokio::test]
async fn an_angry_urgent_follow_up_escalates_with_worsening_sentiment() {
    let pipeline = TestPipeline::new().await;
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(verdict(Sentiment::Negative, Urgency::High))));
    let (inquiry, event) = answered_with(&pipeline, "This is useless, call me now!").await;
    classifier.try_handle(&delivery(&event, 1)).await.unwrap();

    let escalated = pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    assert_eq!(escalated.escalation.map(|e| e.reason), Some("worsening_sentiment".to_owned()));
}

/// An inquiry waiting for the customer's reply to the question about
/// booking `HT-99999999` (not found), the customer's `reply` and its
/// `inquiry.message_received`.
async fn asked_with(pipeline: &TestPipeline, reply: &str) -> (Inquiry, CloudEvent) {
    let unknown = switchboard_domain::ReservationNumber::parse("HT-99999999").unwrap();
    let mut c = classification(Language::En, Intent::ReservationChange);
    c.reservation_number = Some(unknown.clone());
    let mut inquiry = InquiryBuilder::new()
        .created_at(START, 1)
        .content("Please move booking HT-99999999 to Friday.")
        .reservation(unknown)
        .status(InquiryStatus::AwaitingCustomer)
        .classification(c)
        .build();
    let unverified = switchboard_domain::Unverified::NotFound;
    inquiry.customer_question = Some(switchboard_domain::CustomerQuestion {
        unverified,
        message: unverified.question(Language::En, inquiry.reservation_number.as_ref()),
        asked_at: START,
        deadline_at: START + jiff::SignedDuration::from_hours(24),
        reply: None,
    });
    pipeline.store_inquiry(&inquiry).await;
    let question = inquiry.customer_question.as_ref().unwrap().as_message(&inquiry);
    pipeline.store.append_message(&question, &[]).await.unwrap();
    let event = followed_up(pipeline, &inquiry, reply).await;
    (inquiry, event)
}

#[tokio::test]
async fn a_reply_naming_a_reservation_resumes_the_partner_flow_once_however_often_it_is_delivered() {
    let pipeline = TestPipeline::new().await;
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(verdict(Sentiment::Neutral, Urgency::Low))));
    let (inquiry, event) = asked_with(&pipeline, "Sorry, it is HT-20481123.").await;
    for receive_count in 1..=2 {
        classifier.try_handle(&delivery(&event, receive_count)).await.unwrap();
    }

    let resumed = pipeline.inquiry(inquiry.id).await;
    assert_eq!(resumed.status, InquiryStatus::Classified);
    assert_eq!(resumed.version, inquiry.version + 1, "one write");
    assert_eq!(resumed.reservation_number.as_ref().map(|n| n.as_str()), Some("HT-20481123"));
    assert_eq!(resumed.classification.as_ref().and_then(|c| c.reservation_number.as_ref()).map(|n| n.as_str()), Some("HT-20481123"));
    assert_eq!(resumed.customer_question.as_ref().and_then(|q| q.reply), Some(3), "the reply is recorded: the inquiry asked once");
    assert_eq!(resumed.follow_up, None, "the partner's answer will be to the inquiry itself");
    let routed = pipeline.take(Service::PartnerDispatcher).await;
    assert_eq!(routed.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["inquiry.classified", "inquiry.classified"]);
    assert_eq!(routed[0].id, routed[1].id, "the same event again");
    assert!(pipeline.take(Service::Responder).await.is_empty(), "to the partner flow, not the responder");
}

#[tokio::test]
async fn a_reply_without_a_reservation_number_escalates_with_the_reason() {
    let pipeline = TestPipeline::new().await;
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(verdict(Sentiment::Neutral, Urgency::Low))));
    let (inquiry, event) = asked_with(&pipeline, "I don't have it with me, sorry.").await;
    for receive_count in 1..=2 {
        classifier.try_handle(&delivery(&event, receive_count)).await.unwrap();
    }

    let escalated = pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    assert_eq!(escalated.version, inquiry.version + 1, "one write");
    assert_eq!(escalated.escalation.as_ref().map(|e| e.reason.as_str()), Some("reservation not found"));
    let told = pipeline.take(Service::Notifier).await;
    assert_eq!(told.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["inquiry.escalated", "inquiry.escalated"]);
    assert_eq!(told[0].id, told[1].id, "announced again with the same event");
    assert_eq!(told[0].data.get("operators_only"), None, "the customer is told too");
    let notices = pipeline.store.messages(inquiry.id, 1, 10).await.unwrap();
    assert_eq!(notices.iter().filter(|m| m.author == Author::System).count(), 2, "the question and one escalation notice");
}
