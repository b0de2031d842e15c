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
    assert_eq!(outcome, Err(Outcome::reject("event type \"inquiry.answered\" is not inquiry.submitted or inquiry.message_received")));
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

/// The upstream's raw message body, as the intake queue delivers it.
fn raw_delivery(body: String) -> ReceivedMessage {
    ReceivedMessage {
        message_id: "message-raw".into(),
        receipt: "receipt-raw".into(),
        body,
        attributes: Default::default(),
        receive_count: 1,
        trace_header: None,
    }
}

/// The reason of a rejected delivery, which the worker logs, records on
/// its span and keeps with the dead letter.
fn rejection(outcome: Result<(), Outcome>) -> String {
    match outcome {
        Err(Outcome::Reject { reason }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn an_upstream_event_with_a_bad_phone_is_dead_lettered_naming_the_field_not_the_value() {
    let (pipeline, intake) = setup().await;
    let data = json!({ "tenant_id": TENANT, "content": "Is there parking?", "customer_phone": 821012345678_u64 });
    let reason = rejection(intake.try_handle(&delivery(&submitted("evt-phone", data), 1)).await);

    assert_eq!(reason, "data is not an inquiry submission: data.customer_phone: invalid type, expected a string");
    assert!(stored(&pipeline).await.is_empty());
}

#[tokio::test]
async fn an_upstream_event_whose_data_does_not_fit_names_each_field_by_its_path() {
    let (_pipeline, intake) = setup().await;
    let cases = [
        (
            json!({ "tenant_id": TENANT, "content": "hi", "customer_email": ["kim.minji@example.co.kr"] }),
            "data.customer_email: invalid type, expected a string",
        ),
        (
            json!({ "tenant_id": TENANT, "content": "hi", "attachments": [{ "filename": 1012345678 }] }),
            "data.attachments[0].filename: invalid type, expected a string",
        ),
        (
            json!({ "tenant_id": TENANT, "content": "hi", "attachments": "+821012345678" }),
            "data.attachments: invalid type, expected a sequence",
        ),
    ];
    for (data, problem) in cases {
        let reason = rejection(intake.try_handle(&delivery(&submitted("evt-bad", data.clone()), 1)).await);
        assert_eq!(reason, format!("data is not an inquiry submission: {problem}"), "{data}");
    }
}

#[tokio::test]
async fn an_upstream_envelope_that_does_not_parse_is_rejected_naming_the_field_not_the_value() {
    let (_pipeline, intake) = setup().await;
    let cases = [
        (
            json!({ "specversion": "1.0", "id": 821012345678_u64, "source": "crm", "type": "inquiry.submitted" }).to_string(),
            "id: invalid type, expected a string",
        ),
        (
            json!({ "specversion": "010-1234-5678", "id": "evt-1", "source": "crm", "type": "inquiry.submitted" }).to_string(),
            "specversion: must be 1.0",
        ),
        (
            json!({ "specversion": "1.0", "id": "evt-1", "source": "crm", "type": "inquiry.submitted", "time": "kim.minji@example.co.kr" })
                .to_string(),
            "time: invalid value",
        ),
        (
            r#"{"specversion": "1.0", "id": "evt-1", "source": "crm", "type": "inquiry.submitted", "010-1234-5678": tru}"#.to_owned(),
            "malformed JSON at line 1 column 105",
        ),
        ("821012345678".to_owned(), ".: invalid type, expected struct CloudEvent"),
    ];
    for (body, problem) in cases {
        let reason = rejection(intake.try_handle(&raw_delivery(body.clone())).await);
        assert_eq!(reason, format!("not a CloudEvents 1.0 JSON event: {problem}"), "{body}");
    }
}

/// An upstream system's `inquiry.message_received` event: a follow-up to inquiry `id`.
fn message_received(event_id: &str, tenant: &str, id: &str, text: &str) -> CloudEvent {
    serde_json::from_value(json!({
        "specversion": "1.0", "id": event_id, "source": "upstream/crm", "type": "inquiry.message_received",
        "data": { "tenant_id": tenant, "inquiry_id": id, "text": text },
    }))
    .unwrap()
}

/// The texts of the follow-ups stored for `inquiry` (message 1, its own text, left out).
async fn follow_ups(pipeline: &TestPipeline, inquiry: &Inquiry) -> Vec<(String, switchboard_domain::MessageChannel)> {
    let messages = switchboard_store::whole_conversation(pipeline.store.as_ref(), inquiry).await.unwrap();
    messages.into_iter().skip(1).map(|m| (m.text, m.channel)).collect()
}

#[tokio::test]
async fn an_upstream_follow_up_joins_the_conversation_once_however_often_it_is_delivered() {
    let (pipeline, intake) = setup().await;
    intake.try_handle(&delivery(&submitted("evt-1", parking_question()), 1)).await.unwrap();
    let inquiry = stored(&pipeline).await.remove(0);
    let event = message_received("evt-2", TENANT, &inquiry.id.to_string(), "  And is it free? ");
    intake.try_handle(&delivery(&event, 1)).await.unwrap();
    intake.try_handle(&delivery(&event, 2)).await.unwrap();
    assert_eq!(follow_ups(&pipeline, &inquiry).await, [("And is it free?".to_owned(), switchboard_domain::MessageChannel::Upstream)]);
}

#[tokio::test]
async fn an_upstream_follow_up_that_can_never_be_stored_is_rejected_naming_why_not_the_text() {
    let (pipeline, intake) = setup().await;
    intake.try_handle(&delivery(&submitted("evt-1", parking_question()), 1)).await.unwrap();
    let inquiry = stored(&pipeline).await.remove(0);
    let id = inquiry.id.to_string();

    let blank = rejection(intake.try_handle(&delivery(&message_received("evt-2", TENANT, &id, " \u{200B} "), 1)).await);
    assert!(blank.contains("text"), "{blank}");
    let unknown = InquiryId::new(START, [1; 10]).to_string();
    let missing = rejection(intake.try_handle(&delivery(&message_received("evt-3", TENANT, &unknown, "hello"), 1)).await);
    assert!(missing.contains("not found"), "{missing}");
    let garbage = rejection(intake.try_handle(&delivery(&message_received("evt-4", TENANT, "not-an-id", "hello"), 1)).await);
    assert_eq!(garbage, "data.inquiry_id is not an inquiry id");
    assert!(follow_ups(&pipeline, &inquiry).await.is_empty());
}

// ---------------------------------------------------------------------------
// Inbound text messages

/// The two-way number of the test tenant, and its customer's phone.
const OUR_NUMBER: &str = "+15550001111";
const CUSTOMER_PHONE: &str = "+821012345678";

async fn setup_with_inbound_sms() -> (TestPipeline, Intake) {
    let (pipeline, intake) = setup().await;
    let numbers = InboundSmsNumbers::parse(&format!("{OUR_NUMBER}={TENANT},+15550002222=other")).unwrap();
    (pipeline, intake.with_inbound_sms_numbers(numbers))
}

/// What End User Messaging SMS publishes when `from` texts `to`.
fn inbound_sms(from: &str, to: &str, id: &str, text: &str) -> ReceivedMessage {
    raw_delivery(
        json!({
            "originationNumber": from, "destinationNumber": to, "messageKeyword": "KEYWORD_123456789012",
            "messageBody": text, "inboundMessageId": id, "previousPublishedMessageId": "prev-1",
        })
        .to_string(),
    )
}

/// A submission of `tenant`'s customer with phone `phone`, a minute after the previous one.
async fn submit_from(pipeline: &TestPipeline, intake: &Intake, event_id: &str, tenant: &str, phone: &str) -> Inquiry {
    pipeline.clock.advance(jiff::SignedDuration::from_secs(60));
    let data = json!({ "tenant_id": tenant, "content": "Is there parking?", "customer_phone": phone });
    intake.try_handle(&delivery(&submitted(event_id, data), 1)).await.unwrap();
    let inquiry = pipeline.store.claimed_inquiry(&TenantId::parse(tenant).unwrap(), &format!("event:{event_id}")).await.unwrap();
    inquiry.expect("the submission was stored")
}

/// `inquiry` moved to `status` (as the pipeline would, without its events).
async fn set_status(pipeline: &TestPipeline, inquiry: &Inquiry, status: InquiryStatus) {
    let current = pipeline.store.get_inquiry(inquiry.id).await.unwrap().unwrap();
    let next = Inquiry { status, ..current.clone() };
    pipeline.store.update_inquiry(&next, current.version, None, &[]).await.unwrap();
}

#[tokio::test]
async fn a_text_joins_the_senders_newest_open_inquiry_once_as_an_sms_follow_up_and_is_announced() {
    let (pipeline, intake) = setup_with_inbound_sms().await;
    let older = submit_from(&pipeline, &intake, "evt-1", TENANT, CUSTOMER_PHONE).await;
    let newer = submit_from(&pipeline, &intake, "evt-2", TENANT, "010-1234-5678").await;
    pipeline.take(Service::Classifier).await;

    let text = inbound_sms(CUSTOMER_PHONE, OUR_NUMBER, "in-1", "  Can I park a van? ");
    intake.try_handle(&text).await.unwrap();
    intake.try_handle(&text).await.unwrap();

    assert_eq!(follow_ups(&pipeline, &newer).await, [("Can I park a van?".to_owned(), switchboard_domain::MessageChannel::Sms)]);
    assert!(follow_ups(&pipeline, &older).await.is_empty(), "only the newest open inquiry takes the reply");
    let announced = pipeline.take(Service::Classifier).await;
    let kinds: Vec<_> = announced.iter().map(|e| (e.event_type.as_str(), e.subject.clone())).collect();
    assert_eq!(kinds, [("inquiry.message_received", Some(newer.id.to_string()))], "announced once, to re-enter the pipeline");
}

#[tokio::test]
async fn a_text_skips_resolved_and_failed_inquiries_and_goes_nowhere_when_none_is_open() {
    let (pipeline, intake) = setup_with_inbound_sms().await;
    let open = submit_from(&pipeline, &intake, "evt-1", TENANT, CUSTOMER_PHONE).await;
    let failed = submit_from(&pipeline, &intake, "evt-2", TENANT, CUSTOMER_PHONE).await;
    let resolved = submit_from(&pipeline, &intake, "evt-3", TENANT, CUSTOMER_PHONE).await;
    set_status(&pipeline, &failed, InquiryStatus::Failed).await;
    set_status(&pipeline, &resolved, InquiryStatus::Resolved).await;

    intake.try_handle(&inbound_sms(CUSTOMER_PHONE, OUR_NUMBER, "in-1", "Still there?")).await.unwrap();
    assert_eq!(follow_ups(&pipeline, &open).await.len(), 1, "the newest open one, past the closed ones");
    assert!(follow_ups(&pipeline, &failed).await.is_empty() && follow_ups(&pipeline, &resolved).await.is_empty());

    set_status(&pipeline, &open, InquiryStatus::Resolved).await;
    pipeline.take(Service::Classifier).await;
    intake.try_handle(&inbound_sms(CUSTOMER_PHONE, OUR_NUMBER, "in-2", "Hello?")).await.unwrap();
    assert_eq!(follow_ups(&pipeline, &open).await.len(), 1, "nothing open: dropped, not retried");
    assert!(pipeline.take(Service::Classifier).await.is_empty());
}

#[tokio::test]
async fn a_text_from_an_unknown_number_or_to_another_tenants_number_stores_nothing() {
    let (pipeline, intake) = setup_with_inbound_sms().await;
    let mut other = switchboard_pipeline::testing::tenant();
    other.id = TenantId::parse("other").unwrap();
    pipeline.store.put_tenant(&other).await.unwrap();
    let inquiry = submit_from(&pipeline, &intake, "evt-1", TENANT, CUSTOMER_PHONE).await;

    // A stranger: accepted (so never retried), stored nowhere.
    intake.try_handle(&inbound_sms("+12135550149", OUR_NUMBER, "in-1", "Who is this?")).await.unwrap();
    // The same customer texting another business's number reaches none of this tenant's inquiries.
    intake.try_handle(&inbound_sms(CUSTOMER_PHONE, "+15550002222", "in-2", "Hi")).await.unwrap();
    assert!(follow_ups(&pipeline, &inquiry).await.is_empty());
}

#[tokio::test]
async fn a_text_that_can_never_be_stored_is_rejected_naming_why_never_the_numbers_or_the_text() {
    let (pipeline, intake) = setup_with_inbound_sms().await;
    let inquiry = submit_from(&pipeline, &intake, "evt-1", TENANT, CUSTOMER_PHONE).await;
    let not_ours = rejection(intake.try_handle(&inbound_sms(CUSTOMER_PHONE, "+15559990000", "in-1", "Hi")).await);
    assert_eq!(not_ours, "inbound SMS to +*******0000, a number not in SWITCHBOARD_INBOUND_SMS_NUMBERS");
    let blank = rejection(intake.try_handle(&inbound_sms(CUSTOMER_PHONE, OUR_NUMBER, "in-2", " \u{200B} ")).await);
    assert!(blank.starts_with("inbound SMS: messageBody is not a follow-up"), "{blank}");
    let no_id = rejection(intake.try_handle(&inbound_sms(CUSTOMER_PHONE, OUR_NUMBER, " ", "Hi")).await);
    assert_eq!(no_id, "inbound SMS: inboundMessageId must be 1 to 256 characters");
    let bad_sender = rejection(intake.try_handle(&inbound_sms("12345", OUR_NUMBER, "in-3", "Hi")).await);
    assert_eq!(bad_sender, "inbound SMS: originationNumber is not an E.164 number");
    let shape = json!({ "originationNumber": CUSTOMER_PHONE, "destinationNumber": OUR_NUMBER, "messageBody": 1012345678, "inboundMessageId": "in-4" });
    let shape = rejection(intake.try_handle(&raw_delivery(shape.to_string())).await);
    assert_eq!(shape, "inbound SMS: messageBody: invalid type, expected a string");
    for reason in [not_ours, blank, no_id, bad_sender, shape] {
        assert!(!reason.contains("1012345678") && !reason.contains("5559990000"), "{reason}");
    }
    assert!(follow_ups(&pipeline, &inquiry).await.is_empty());
}

#[tokio::test]
async fn an_intake_without_inbound_numbers_dead_letters_every_text() {
    let (pipeline, intake) = setup().await;
    submit_from(&pipeline, &intake, "evt-1", TENANT, CUSTOMER_PHONE).await;
    let reason = rejection(intake.try_handle(&inbound_sms(CUSTOMER_PHONE, OUR_NUMBER, "in-1", "Hi")).await);
    assert!(reason.contains("not in SWITCHBOARD_INBOUND_SMS_NUMBERS"), "{reason}");
}
