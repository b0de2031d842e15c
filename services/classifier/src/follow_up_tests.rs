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
    let said = FollowUp { text: text.into(), language: Some(Language::En) };
    let message = Message::follow_up(inquiry.id, "k1", said, MessageChannel::Api, START);
    let message = pipeline.store.append_message(&message, &[]).await.unwrap().message().clone();
    let event = pipeline.stage(Service::Intake).event(
        EventType::MessageReceived,
        &inquiry,
        &message.key,
        json!({ "inquiry_id": inquiry.id, "message_id": message.id }),
    );
    (inquiry, event)
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
