//! The intake queue's handler, called directly on the embedded backends
//! with a manual clock.

use super::*;
use serde_json::Value;
use switchboard_domain::CloudEvent;
use switchboard_pipeline::testing::{START, TENANT, TestPipeline, delivery};
use switchboard_store::PageRequest;

async fn setup() -> (TestPipeline, Intake) {
    let pipeline = TestPipeline::new().await;
    let intake = Intake::new(pipeline.store.clone(), pipeline.store.clone(), pipeline.blobs.clone(), pipeline.relay())
        .with_clock(pipeline.clock.clone());
    (pipeline, intake)
}

/// An upstream system's `inquiry.submitted` event.
fn submitted(id: &str, data: Value) -> CloudEvent {
    serde_json::from_value(json!({ "specversion": "1.0", "id": id, "source": "upstream/crm", "type": "inquiry.submitted", "data": data }))
        .unwrap()
}

fn parking_question() -> Value {
    json!({ "tenant_id": TENANT, "content": "Is there parking?", "customer_phone": "+821012345678" })
}

async fn stored(pipeline: &TestPipeline) -> Vec<Inquiry> {
    pipeline.store.list_by_tenant(&TenantId::parse(TENANT).unwrap(), &PageRequest::first(10)).await.unwrap().items
}

#[tokio::test]
async fn an_upstream_submission_is_stored_and_announced() {
    let (pipeline, intake) = setup().await;
    intake.try_handle(&delivery(&submitted("evt-1", parking_question()), 1)).await.unwrap();

    let inquiries = stored(&pipeline).await;
    assert_eq!(inquiries.len(), 1);
    let inquiry = &inquiries[0];
    assert_eq!((inquiry.status, inquiry.channel, inquiry.content.as_str()), (InquiryStatus::Received, Channel::Event, "Is there parking?"));
    assert_eq!(inquiry.created_at, START, "stamped by the intake's clock");
    let announced = pipeline.take(Service::Classifier).await;
    assert_eq!(announced.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["inquiry.received"]);
    assert_eq!(announced[0].subject, Some(inquiry.id.to_string()));
}

#[tokio::test]
async fn an_upstream_submission_is_stored_normalised_like_an_api_one() {
    let (pipeline, intake) = setup().await;
    // "주차" as decomposed jamo, with a zero-width space, as some systems pass text on.
    let data = json!({ "tenant_id": TENANT, "title": "\u{110C}\u{116E}\u{110E}\u{1161}", "content": "주\u{200B}차 되나요?", "customer_phone": "+821012345678" });
    intake.try_handle(&delivery(&submitted("evt-nfd", data), 1)).await.unwrap();

    let inquiry = &stored(&pipeline).await[0];
    assert_eq!((inquiry.title.as_deref(), inquiry.content.as_str()), (Some("주차"), "주차 되나요?"));
}

#[tokio::test]
async fn the_same_event_delivered_twice_is_one_inquiry() {
    let (pipeline, intake) = setup().await;
    let event = submitted("evt-1", parking_question());
    intake.try_handle(&delivery(&event, 1)).await.unwrap();
    pipeline.clock.advance(jiff::SignedDuration::from_secs(30));
    intake.try_handle(&delivery(&event, 2)).await.unwrap();
    assert_eq!(stored(&pipeline).await.len(), 1);
}

#[tokio::test]
async fn a_submission_that_can_never_be_accepted_is_rejected() {
    let (pipeline, intake) = setup().await;
    let cases = [
        (json!({ "tenant_id": "nobody", "content": "hi", "customer_phone": "+821012345678" }), "unknown tenant nobody".to_owned()),
        (json!({ "content": "hi" }), "data.tenant_id is required".to_owned()),
        (json!({ "tenant_id": "Not Valid", "content": "hi" }), "data.tenant_id is not a valid tenant id".to_owned()),
    ];
    for (data, reason) in cases {
        let outcome = intake.try_handle(&delivery(&submitted("evt-x", data.clone()), 1)).await;
        assert_eq!(outcome, Err(Outcome::reject(reason)), "{data}");
    }
    let invalid = intake.try_handle(&delivery(&submitted("evt-y", json!({ "tenant_id": TENANT, "content": "" })), 1)).await;
    assert!(matches!(invalid, Err(Outcome::Reject { .. })), "{invalid:?}");
    assert!(stored(&pipeline).await.is_empty());
}

#[tokio::test]
async fn events_other_than_submissions_are_rejected() {
    let (_pipeline, intake) = setup().await;
    let mut event = submitted("evt-1", parking_question());
    event.event_type = "inquiry.answered".into();
    let outcome = intake.try_handle(&delivery(&event, 1)).await;
    assert_eq!(outcome, Err(Outcome::reject("event type \"inquiry.answered\" is not inquiry.submitted")));
}

#[tokio::test]
async fn an_event_whose_id_is_longer_than_256_characters_is_dead_lettered_with_the_reason_not_retried() {
    let (pipeline, intake) = setup().await;
    let at_the_limit = "e".repeat(256);
    intake.try_handle(&delivery(&submitted(&at_the_limit, parking_question()), 1)).await.unwrap();
    let too_long = "e".repeat(257);
    let outcome = intake.try_handle(&delivery(&submitted(&too_long, parking_question()), 1)).await;
    assert_eq!(outcome, Err(Outcome::reject("not a CloudEvents 1.0 JSON event: id is longer than 256 characters")));
    assert_eq!(stored(&pipeline).await.len(), 1, "only the event at the limit is stored");
}

#[test]
fn a_submission_error_is_rejected_unless_a_dependency_was_down() {
    let unknown = Outcome::from(SubmitError::UnknownTenant("nobody".into()));
    assert_eq!(unknown, Outcome::reject("unknown tenant nobody"));
    let down = Outcome::from(SubmitError::Unavailable("store down".into()));
    assert_eq!(down, Outcome::retry("a dependency is unavailable: store down"));
}
