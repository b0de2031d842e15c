//! The classifier's handler, called directly on the embedded backends.

use super::*;
use switchboard_ai::AiError;
use switchboard_ai::local::CLASSIFIER_ENGINE;
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{Classification, Intent, Language, ReservationNumber, Sentiment, Service, Urgency};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};

/// An engine with a fixed verdict, or none (it fails).
struct Scripted(Option<Classification>);

#[async_trait]
impl ClassifierEngine for Scripted {
    async fn classify(&self, _request: &ClassifyRequest) -> Result<Classification, AiError> {
        self.0.clone().ok_or_else(|| AiError::Unavailable("engine down".into()))
    }
}

fn verdict(intent: Intent, reservation: Option<&str>) -> Classification {
    Classification {
        language: Language::En,
        intent,
        urgency: Urgency::Medium,
        sentiment: Sentiment::Neutral,
        reservation_number: reservation.map(|n| ReservationNumber::parse(n).unwrap()),
        key_phrases: vec![],
        pii: vec![],
        engine: "scripted".into(),
        certainty: None,
        unsure: None,
    }
}

async fn setup(engine: Option<Classification>) -> (TestPipeline, Classifier) {
    let pipeline = TestPipeline::new().await;
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(engine)));
    (pipeline, classifier)
}

/// Stores `inquiry` and hands the classifier its `inquiry.received`, as
/// its `receive_count`-th delivery.
async fn received(pipeline: &TestPipeline, classifier: &Classifier, inquiry: &Inquiry, receive_count: u32) -> Result<(), Outcome> {
    let event = pipeline.stage(Service::Intake).event(EventType::InquiryReceived, inquiry, "1", json!({}));
    classifier.try_handle(&delivery(&event, receive_count)).await
}

#[tokio::test]
async fn a_change_request_with_a_reservation_is_classified_and_routed_to_the_partner() {
    let (pipeline, classifier) = setup(Some(verdict(Intent::ReservationChange, Some("HT-20481123")))).await;
    let inquiry = InquiryBuilder::new().created_at(START, 1).content("Can we move the tour?").build();
    pipeline.store_inquiry(&inquiry).await;
    received(&pipeline, &classifier, &inquiry, 1).await.unwrap();

    let classified = pipeline.inquiry(inquiry.id).await;
    assert_eq!(classified.status, InquiryStatus::Classified);
    assert_eq!(classified.reservation_number, ReservationNumber::parse("HT-20481123").ok(), "the number found is kept");
    assert_eq!(classified.language, Some(Language::En));
    assert_eq!(classified.updated_at, START, "written at the stage clock's time");
    let routed = pipeline.take(Service::PartnerDispatcher).await;
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].event_type, "inquiry.classified");
    assert!(pipeline.take(Service::Responder).await.is_empty());
}

#[tokio::test]
async fn a_general_question_goes_straight_to_the_responder() {
    let (pipeline, classifier) = setup(Some(verdict(Intent::GeneralQuestion, None))).await;
    let inquiry = InquiryBuilder::new().created_at(START, 1).content("Is there parking?").build();
    pipeline.store_inquiry(&inquiry).await;
    received(&pipeline, &classifier, &inquiry, 1).await.unwrap();

    assert_eq!(pipeline.take(Service::Responder).await.len(), 1);
    assert!(pipeline.take(Service::PartnerDispatcher).await.is_empty());
}

#[tokio::test]
async fn a_failing_engine_is_retried_once_then_the_local_rules_decide() {
    let (pipeline, classifier) = setup(None).await;
    let inquiry = InquiryBuilder::new().created_at(START, 1).content("Is there parking?").build();
    pipeline.store_inquiry(&inquiry).await;

    let first = received(&pipeline, &classifier, &inquiry, 1).await;
    assert_eq!(first, Err(Outcome::retry("the engine is unavailable: engine down")));
    assert_eq!(pipeline.inquiry(inquiry.id).await.status, InquiryStatus::Received);

    received(&pipeline, &classifier, &inquiry, 2).await.unwrap();
    let classified = pipeline.inquiry(inquiry.id).await;
    assert_eq!(classified.status, InquiryStatus::Classified);
    assert_eq!(classified.classification.map(|c| c.engine), Some(CLASSIFIER_ENGINE.to_owned()));
}

#[tokio::test]
async fn a_redelivery_after_the_write_announces_the_same_event_again() {
    let (pipeline, classifier) = setup(Some(verdict(Intent::GeneralQuestion, None))).await;
    let inquiry = InquiryBuilder::new().created_at(START, 1).build();
    pipeline.store_inquiry(&inquiry).await;
    received(&pipeline, &classifier, &inquiry, 1).await.unwrap();
    received(&pipeline, &classifier, &inquiry, 2).await.unwrap();

    let announced = pipeline.take(Service::Responder).await;
    assert_eq!(announced.len(), 2);
    assert_eq!(announced[0].id, announced[1].id, "the event id dedupes the second announcement");
}

#[tokio::test]
async fn an_inquiry_past_classification_is_left_alone() {
    let (pipeline, classifier) = setup(Some(verdict(Intent::Complaint, None))).await;
    let inquiry = InquiryBuilder::new().created_at(START, 1).status(InquiryStatus::Answered).build();
    pipeline.store_inquiry(&inquiry).await;
    received(&pipeline, &classifier, &inquiry, 1).await.unwrap();

    assert_eq!(pipeline.inquiry(inquiry.id).await, inquiry);
    assert!(pipeline.take(Service::Responder).await.is_empty());
}

#[tokio::test]
async fn a_message_about_an_unknown_inquiry_is_rejected() {
    let (pipeline, classifier) = setup(Some(verdict(Intent::GeneralQuestion, None))).await;
    let inquiry = InquiryBuilder::new().created_at(START, 1).build();
    let outcome = received(&pipeline, &classifier, &inquiry, 1).await;
    assert_eq!(outcome, Err(Outcome::reject(format!("inquiry {} does not exist", inquiry.id))));
}
