//! The responder on a follow-up's round, and an answer's wait for a reply
//! ([`auto_close`]), called directly on the embedded backends with a
//! manual clock.

use super::*;
use jiff::{SignedDuration, Timestamp};
use switchboard_ai::{AiError, Draft};
use switchboard_domain::fixtures::{InquiryBuilder, classification};
use switchboard_domain::reentry::NO_REPLY;
use switchboard_domain::{CloudEvent, FollowUp, FollowUpRound, Intent, Language, MessageChannel, Sentiment, Service};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};
use switchboard_store::InquiryStore;

/// A drafter that always answers confidently.
struct Confident;

#[async_trait]
impl AnswerDrafter for Confident {
    async fn draft(&self, _request: &DraftRequest) -> Result<Draft, AiError> {
        Ok(Draft {
            text: "Parking is free for guests.".into(),
            confidence: 0.9,
            escalate: None,
            model: "scripted".into(),
            prompt_tokens: 1,
            completion_tokens: 1,
        })
    }
}

const WAIT: Duration = Duration::from_secs(60 * 60);

async fn setup() -> (TestPipeline, Responder) {
    let pipeline = TestPipeline::new().await;
    let auto_close = AutoClose { queue: pipeline.queue(Service::Responder), default_wait: WAIT };
    let responder = Responder::new(pipeline.stage(Service::Responder), pipeline.store.clone(), Arc::new(Confident), Duration::from_secs(5))
        .with_auto_close(auto_close);
    (pipeline, responder)
}

fn question() -> Inquiry {
    InquiryBuilder::new()
        .created_at(START, 1)
        .content("Is there parking?")
        .status(InquiryStatus::Classified)
        .classification(classification(Language::En, Intent::GeneralQuestion))
        .build()
}

async fn classified(pipeline: &TestPipeline, responder: &Responder, inquiry: &Inquiry) {
    let event = pipeline.stage(Service::Classifier).event(EventType::InquiryClassified, inquiry, &inquiry.step("1"), json!({}));
    responder.try_handle(&delivery(&event, 1)).await.unwrap();
}

fn timer(inquiry: &Inquiry, step: &str, due_at: Timestamp) -> CloudEvent {
    CloudEvent::for_inquiry(
        EventType::AutoClose,
        inquiry.id,
        &inquiry.tenant_id,
        step,
        "switchboard/responder",
        START,
        json!({ "step": step, "due_at": due_at }),
    )
}

#[tokio::test]
async fn a_follow_up_round_whose_conversation_worsens_is_escalated_with_worsening_sentiment_instead_of_answered() {
    let (pipeline, responder) = setup().await;
    let mut inquiry = question();
    pipeline.store_inquiry(&inquiry).await;
    let answer = Message::reply(&inquiry, Author::Ai, "answer", "Parking is free.", START);
    pipeline.store.append_message(&answer, &[]).await.unwrap();
    let said = FollowUp { text: "Still no parking space, this is bad".into(), language: Some(Language::En) };
    let mut follow_up = Message::follow_up(inquiry.id, "k", said, MessageChannel::Api, START);
    let mut angry = classification(Language::En, Intent::GeneralQuestion);
    angry.sentiment = Sentiment::Negative;
    follow_up.classification = Some(angry.clone());
    let follow_up = pipeline.store.append_message(&follow_up, &[]).await.unwrap().message().clone();
    inquiry = pipeline.inquiry(inquiry.id).await;
    let round = FollowUpRound { sequence: follow_up.sequence, text: follow_up.text.clone(), classification: Some(angry) };
    pipeline.store.update_inquiry(&Inquiry { follow_up: Some(round), ..inquiry.clone() }, inquiry.version, None, &[]).await.unwrap();
    let inquiry = pipeline.inquiry(inquiry.id).await;

    classified(&pipeline, &responder, &inquiry).await;

    let escalated = pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    assert_eq!(escalated.escalation.map(|e| e.reason), Some("worsening_sentiment".to_owned()));
}

#[tokio::test]
async fn an_unanswered_answer_hops_until_its_time_then_closes_with_no_reply_once() {
    let (pipeline, responder) = setup().await;
    let inquiry = question();
    pipeline.store_inquiry(&inquiry).await;
    pipeline.clock.set(START);
    classified(&pipeline, &responder, &inquiry).await;
    let answered = pipeline.inquiry(inquiry.id).await;
    assert_eq!(answered.status, InquiryStatus::Answered);
    let due_at = answered.updated_at + SignedDuration::try_from(WAIT).unwrap();

    pipeline.clock.set(START + SignedDuration::from_mins(20));
    responder.try_handle(&delivery(&timer(&answered, "auto-close", due_at), 1)).await.unwrap();
    assert_eq!(pipeline.inquiry(inquiry.id).await.status, InquiryStatus::Answered, "not due: it hops on");

    pipeline.clock.set(due_at + SignedDuration::from_secs(1));
    for receive_count in 1..=2 {
        responder.try_handle(&delivery(&timer(&answered, "auto-close", due_at), receive_count)).await.unwrap();
    }
    let closed = pipeline.inquiry(inquiry.id).await;
    assert_eq!((closed.status, closed.status_reason.as_deref()), (InquiryStatus::Resolved, Some(NO_REPLY)));
    let messages = pipeline.store.messages(inquiry.id, 1, 10).await.unwrap();
    let authors: Vec<Author> = messages.iter().map(|m| m.author).collect();
    assert_eq!(authors, [Author::Ai, Author::System], "one closing notice however often the timer comes");
}

#[tokio::test]
async fn the_timer_of_an_answer_the_customer_replied_to_does_nothing() {
    let (pipeline, responder) = setup().await;
    let mut inquiry = question();
    inquiry.status = InquiryStatus::Answered;
    inquiry.answer = Some("Yes.".into());
    inquiry.follow_up = Some(FollowUpRound { sequence: 3, text: "And breakfast?".into(), classification: None });
    pipeline.store_inquiry(&inquiry).await;
    pipeline.clock.set(START + SignedDuration::from_hours(48));

    responder.try_handle(&delivery(&timer(&inquiry, "auto-close", START), 1)).await.unwrap();
    assert_eq!(pipeline.inquiry(inquiry.id).await.status, InquiryStatus::Answered, "the first round's timer is void");
}
