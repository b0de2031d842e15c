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

// ---------------------------------------------------------------------------
// The tenant's memory of operators' corrections

use std::time::Duration;
use switchboard_domain::correction::memory_text;
use switchboard_domain::{Correction, TenantId};
use switchboard_store::CorrectionStore;
use tenant_memory::TenantMemories;

/// A classifier whose engine always says `intent` about reservation
/// HT-20481123, consulting the pipeline's corrections with a cache of `ttl`.
async fn with_memory(intent: Intent, ttl: Duration) -> (TestPipeline, Classifier) {
    let pipeline = TestPipeline::new().await;
    let memories = TenantMemories::new(pipeline.store.clone(), ttl);
    let classifier = Classifier::new(pipeline.stage(Service::Classifier), Arc::new(Scripted(Some(verdict(intent, Some("HT-20481123"))))))
        .with_memory(memories);
    (pipeline, classifier)
}

/// An operator's correction of `text` (an inquiry of `tenant`) from general question to `intent`.
async fn corrected(pipeline: &TestPipeline, tenant: &str, text: &str, intent: Intent) {
    let inquiry = InquiryBuilder::new().tenant(TenantId::parse(tenant).unwrap()).created_at(START, 9).content(text).build();
    let correction = Correction {
        tenant_id: inquiry.tenant_id.clone(),
        inquiry_id: inquiry.id,
        at: START,
        text: memory_text(&inquiry),
        language: Language::En,
        original_intent: Intent::GeneralQuestion,
        original_urgency: Urgency::Medium,
        corrected_intent: Some(intent),
        corrected_urgency: Some(Urgency::High),
        faq_entry_id: None,
    };
    pipeline.store.put_correction(&correction).await.unwrap();
}

/// Classifies a new inquiry of the pipeline's tenant naming reservation HT-20481123.
async fn classify_new(pipeline: &TestPipeline, classifier: &Classifier, text: &str, seed: u8) -> Inquiry {
    let inquiry = InquiryBuilder::new()
        .tenant(TenantId::parse(switchboard_pipeline::testing::TENANT).unwrap())
        .created_at(START, seed)
        .content(text)
        .reservation(ReservationNumber::parse("HT-20481123").unwrap())
        .build();
    pipeline.store_inquiry(&inquiry).await;
    received(pipeline, classifier, &inquiry, 1).await.unwrap();
    pipeline.inquiry(inquiry.id).await
}

#[tokio::test]
async fn a_corrected_intent_sends_the_next_similar_inquiry_to_the_partner() {
    let (pipeline, classifier) = with_memory(Intent::GeneralQuestion, Duration::ZERO).await;
    corrected(&pipeline, switchboard_pipeline::testing::TENANT, "There is no hot water in the shower", Intent::TroubleReport).await;

    let next = classify_new(&pipeline, &classifier, "The shower has no hot water at all", 1).await;
    let verdict = next.classification.unwrap();
    assert_eq!((verdict.intent, verdict.urgency), (Intent::TroubleReport, Urgency::High));
    assert_eq!(verdict.engine, "scripted+memory");
    assert_eq!(pipeline.take(Service::PartnerDispatcher).await.len(), 1, "routed by the operator's intent");
    assert!(pipeline.take(Service::Responder).await.is_empty());
}

#[tokio::test]
async fn a_dissimilar_inquiry_keeps_the_engines_verdict() {
    let (pipeline, classifier) = with_memory(Intent::GeneralQuestion, Duration::ZERO).await;
    corrected(&pipeline, switchboard_pipeline::testing::TENANT, "There is no hot water in the shower", Intent::TroubleReport).await;

    let next = classify_new(&pipeline, &classifier, "Where can I park my car during the stay?", 1).await;
    let verdict = next.classification.unwrap();
    assert_eq!((verdict.intent, verdict.engine.as_str()), (Intent::GeneralQuestion, "scripted"));
    assert_eq!(pipeline.take(Service::Responder).await.len(), 1);
}

#[tokio::test]
async fn another_tenants_corrections_never_apply() {
    let (pipeline, classifier) = with_memory(Intent::GeneralQuestion, Duration::ZERO).await;
    corrected(&pipeline, "another-hotel", "There is no hot water in the shower", Intent::TroubleReport).await;

    let next = classify_new(&pipeline, &classifier, "There is no hot water in the shower", 1).await;
    assert_eq!(next.classification.unwrap().intent, Intent::GeneralQuestion);
    assert!(pipeline.take(Service::PartnerDispatcher).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_cached_memory_sees_a_new_correction_once_its_time_is_up() {
    let (pipeline, classifier) = with_memory(Intent::GeneralQuestion, Duration::from_secs(5)).await;
    let first = classify_new(&pipeline, &classifier, "The heater in the room is broken", 1).await;
    assert_eq!(first.classification.unwrap().intent, Intent::GeneralQuestion, "nothing learnt yet (and that is cached)");

    corrected(&pipeline, switchboard_pipeline::testing::TENANT, "The heater in the room is broken", Intent::TroubleReport).await;
    let cached = classify_new(&pipeline, &classifier, "The heater in the room is broken", 2).await;
    assert_eq!(cached.classification.unwrap().intent, Intent::GeneralQuestion, "within the TTL the cached memory answers");

    tokio::time::advance(Duration::from_secs(5)).await;
    let fresh = classify_new(&pipeline, &classifier, "The heater in the room is broken", 3).await;
    assert_eq!(fresh.classification.unwrap().intent, Intent::TroubleReport, "read again after the TTL");
}
