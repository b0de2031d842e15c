//! The responder's handler, called directly on the embedded backends with
//! a manual clock.

use super::*;
use jiff::SignedDuration;
use switchboard_ai::{AiError, Draft};
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{Intent, Language, PartnerOutcome, PartnerRequest, Service};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};
use switchboard_store::InquiryStore;

/// A drafter with a fixed draft of the given confidence; `None` never answers.
struct Scripted(Option<f32>);

#[async_trait]
impl AnswerDrafter for Scripted {
    async fn draft(&self, _request: &DraftRequest) -> Result<Draft, AiError> {
        let Some(confidence) = self.0 else { return std::future::pending().await };
        Ok(Draft {
            text: "Parking is free for guests.".into(),
            confidence,
            escalate: None,
            model: "scripted".into(),
            prompt_tokens: 12,
            completion_tokens: 5,
        })
    }
}

async fn setup(drafter: Scripted) -> (TestPipeline, Responder) {
    let pipeline = TestPipeline::new().await;
    let stage = pipeline.stage(Service::Responder);
    let responder = Responder::new(stage, pipeline.store.clone(), Arc::new(drafter), Duration::from_millis(50));
    (pipeline, responder)
}

fn classified(intent: Intent) -> Inquiry {
    let classification = switchboard_domain::fixtures::classification(Language::En, intent);
    InquiryBuilder::new()
        .created_at(START, 2)
        .content("Is there parking?")
        .status(InquiryStatus::Classified)
        .classification(classification)
        .build()
}

/// `inquiry` waiting for the partner, who answered with `outcome` (or not yet).
fn awaiting_partner(outcome: Option<PartnerOutcome>) -> Inquiry {
    let mut inquiry = classified(Intent::ReservationChange);
    inquiry.status = InquiryStatus::AwaitingPartner;
    inquiry.partner = Some(PartnerRequest {
        partner_id: "partner-1".into(),
        partner_name: "Jeonju Tours".into(),
        requested_at: START,
        deadline_at: START + SignedDuration::from_mins(5),
        responded_at: outcome.as_ref().map(|_| START + SignedDuration::from_mins(5)),
        outcome,
    });
    inquiry
}

/// Stores `inquiry` and hands the responder an event about it.
async fn handle(pipeline: &TestPipeline, responder: &Responder, inquiry: &Inquiry, event_type: EventType) -> Result<(), Outcome> {
    pipeline.store_inquiry(inquiry).await;
    let event = pipeline.stage(Service::Classifier).event(event_type, inquiry, "1", json!({}));
    responder.try_handle(&delivery(&event, 1)).await
}

fn types(events: &[switchboard_domain::CloudEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

#[tokio::test]
async fn a_confident_draft_answers_the_customer() {
    let (pipeline, responder) = setup(Scripted(Some(0.9))).await;
    let inquiry = classified(Intent::GeneralQuestion);
    pipeline.clock.set(START + SignedDuration::from_secs(2));
    handle(&pipeline, &responder, &inquiry, EventType::InquiryClassified).await.unwrap();

    let answered = pipeline.inquiry(inquiry.id).await;
    assert_eq!(answered.status, InquiryStatus::Answered);
    assert_eq!(answered.answer.as_deref(), Some("Parking is free for guests."));
    let records = pipeline.store.ai_responses(inquiry.id).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].at, records[0].model.as_str(), records[0].fallback_used),
        (START + SignedDuration::from_secs(2), "scripted", false)
    );
    assert_eq!(types(&pipeline.take(Service::Notifier).await), ["inquiry.answered"]);
}

#[tokio::test]
async fn an_engine_that_misses_its_budget_escalates_with_the_fallback_message() {
    let (pipeline, responder) = setup(Scripted(None)).await;
    let inquiry = classified(Intent::GeneralQuestion);
    handle(&pipeline, &responder, &inquiry, EventType::InquiryClassified).await.unwrap();

    let escalated = pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    let escalation = escalated.escalation.unwrap();
    assert_eq!(escalation.customer_message, decision::fallback_message(Language::En));
    assert_eq!(escalation.reason, "answer engine failed: no answer within 50ms");
    let records = pipeline.store.ai_responses(inquiry.id).await.unwrap();
    assert!(records[0].fallback_used);
    assert_eq!(types(&pipeline.take(Service::Notifier).await), ["inquiry.escalated"]);
}

#[tokio::test]
async fn a_partner_timeout_is_told_to_the_customer_and_goes_to_a_person() {
    let (pipeline, responder) = setup(Scripted(Some(1.0))).await;
    let inquiry = awaiting_partner(Some(PartnerOutcome::TimedOut));
    handle(&pipeline, &responder, &inquiry, EventType::PartnerTimedOut).await.unwrap();

    let escalated = pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    assert_eq!(escalated.escalation.unwrap().customer_message, "Parking is free for guests.");
}

#[tokio::test]
async fn an_outcome_event_that_overtook_its_write_is_retried() {
    let (pipeline, responder) = setup(Scripted(Some(1.0))).await;
    let inquiry = awaiting_partner(None);
    let outcome = handle(&pipeline, &responder, &inquiry, EventType::PartnerResponded).await;
    assert_eq!(outcome, Err(Outcome::retry("partner outcome not recorded yet")));
    assert_eq!(pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner);
}

#[tokio::test]
async fn a_redelivery_after_the_answer_announces_it_again_without_drafting() {
    let (pipeline, responder) = setup(Scripted(Some(0.9))).await;
    let mut inquiry = classified(Intent::GeneralQuestion);
    inquiry.status = InquiryStatus::Answered;
    inquiry.answer = Some("Yes.".into());
    handle(&pipeline, &responder, &inquiry, EventType::InquiryClassified).await.unwrap();

    assert!(pipeline.store.ai_responses(inquiry.id).await.unwrap().is_empty());
    assert_eq!(types(&pipeline.take(Service::Notifier).await), ["inquiry.answered"]);
}

#[tokio::test]
async fn the_answer_joins_the_conversation_once_however_often_it_is_delivered() {
    let (pipeline, responder) = setup(Scripted(Some(0.9))).await;
    let inquiry = classified(Intent::GeneralQuestion);
    handle(&pipeline, &responder, &inquiry, EventType::InquiryClassified).await.unwrap();
    let event = pipeline.stage(Service::Classifier).event(EventType::InquiryClassified, &inquiry, "1", json!({}));
    responder.try_handle(&delivery(&event, 2)).await.unwrap();

    let messages = pipeline.store.messages(inquiry.id, 1, 10).await.unwrap();
    let said: Vec<_> = messages.iter().map(|m| (m.sequence, m.author, m.text.as_str())).collect();
    assert_eq!(said, [(2, Author::Ai, "Parking is free for guests.")]);
}

#[tokio::test]
async fn an_escalation_tells_the_conversation_a_person_takes_over() {
    let (pipeline, responder) = setup(Scripted(None)).await;
    let inquiry = classified(Intent::GeneralQuestion);
    handle(&pipeline, &responder, &inquiry, EventType::InquiryClassified).await.unwrap();

    let escalated = pipeline.inquiry(inquiry.id).await;
    let messages = pipeline.store.messages(inquiry.id, 1, 10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].author, Author::System);
    assert_eq!(Some(messages[0].text.as_str()), escalated.escalation.as_ref().map(|e| e.customer_message.as_str()));
}
