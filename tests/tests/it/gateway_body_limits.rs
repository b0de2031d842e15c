//! The request size limits, at their edge: a body (REST) or message (gRPC)
//! of exactly the limit is read and judged on its content; one byte more is
//! refused with 413 and a problem naming the limit (REST) or OUT_OF_RANGE
//! naming it (gRPC: tonic's code for a message over the decoding limit),
//! whatever it holds.
//!
//! REST bodies are padded with JSON whitespace after the value, so a body of
//! any size is valid JSON with the same meaning.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message;
use serde_json::{Value, json};
use switchboard_gateway::grpc::{MAX_SMALL_MESSAGE_BYTES, MAX_SUBMIT_MESSAGE_BYTES};
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{bad_fields, expect_code, inquiries, keyed, reservations};
use switchboard_tests::{API_KEY, OPERATOR_KEY, TestApp, inquiry_body};
use tonic::Code;

/// The limit of the JSON bodies other than a submission (escalate, resolve,
/// reservations, chat), as the API documents it: 64 KiB.
const SMALL_BODY_BYTES: usize = 64 * 1024;

const CUSTOMER: &str = "+12135550149";

/// `value` as JSON followed by spaces, `size` bytes in all.
fn padded(value: &Value, size: usize) -> Vec<u8> {
    let mut body = serde_json::to_vec(value).unwrap();
    assert!(body.len() <= size, "the value alone is {} bytes", body.len());
    body.resize(size, b' ');
    body
}

async fn post_bytes(app: &TestApp, path: &str, key: &str, body: Vec<u8>) -> reqwest::Response {
    app.http.post(app.url(path)).header("x-api-key", key).header("content-type", "application/json").body(body).send().await.unwrap()
}

/// Asserts 413 with a too-large problem whose detail names `limit`.
async fn too_large(response: reqwest::Response, limit: usize) {
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!((problem["status"].as_u64(), problem["type"].as_str()), (Some(413), Some("/problems/too-large")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains(&limit.to_string()), "the detail names the limit: {problem}");
}

fn reservation_json() -> Value {
    json!({
        "reservation_number": "CR-55500002", "tenant_id": "demo", "customer_name": "Park", "customer_phone": "010-2222-3333",
        "partner_id": "hanbit-rent", "partner_name": "한빛렌터카", "partner_phone": "+821033334444", "service_type": "car_rental",
        "reservation_date": "2026-12-30",
    })
}

#[tokio::test]
async fn a_submission_body_of_exactly_the_limit_is_accepted_and_one_byte_more_gets_413() {
    let app = TestApp::spawn().await;
    let limit = switchboard_gateway::MAX_BODY_BYTES;
    let question = inquiry_body("What time is check-in?", CUSTOMER);
    too_large(post_bytes(&app, "/api/inquiries", API_KEY, padded(&question, limit + 1)).await, limit).await;
    let accepted = post_bytes(&app, "/api/inquiries", API_KEY, padded(&question, limit)).await;
    assert_eq!(accepted.status(), 202, "{}", accepted.text().await.unwrap());
    app.stop().await;
}

#[tokio::test]
async fn small_bodies_of_exactly_64_kib_are_read_and_one_byte_more_gets_413() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", CUSTOMER)).await;
    app.wait_terminal(&id).await;

    // Read as bytes, then as JSON (the body is optional).
    let escalate = format!("/api/inquiries/{id}/escalate");
    let reason = json!({ "reason": "the customer asked for a person" });
    too_large(post_bytes(&app, &escalate, API_KEY, padded(&reason, SMALL_BODY_BYTES + 1)).await, SMALL_BODY_BYTES).await;
    assert_eq!(app.inquiry(&id).await["status"], "answered", "a refused body changes nothing");
    let escalated = post_bytes(&app, &escalate, API_KEY, padded(&reason, SMALL_BODY_BYTES)).await;
    assert_eq!(escalated.status(), 200);
    assert_eq!(escalated.json::<Value>().await.unwrap()["status"], "escalated");

    // Read by the JSON extractor.
    let reservation = reservation_json();
    too_large(post_bytes(&app, "/api/reservations", OPERATOR_KEY, padded(&reservation, SMALL_BODY_BYTES + 1)).await, SMALL_BODY_BYTES)
        .await;
    let stored = post_bytes(&app, "/api/reservations", OPERATOR_KEY, padded(&reservation, SMALL_BODY_BYTES)).await;
    assert_eq!(stored.status(), 201);
    app.stop().await;
}

/// The message `build` makes from padding of the length that makes it
/// encode to exactly `size` bytes (length prefixes grow with the padding,
/// so the length is found by correcting the guess).
fn sized<M: Message>(size: usize, build: impl Fn(String) -> M) -> M {
    let mut pad = size.saturating_sub(build(String::new()).encoded_len());
    for _ in 0..8 {
        let message = build("x".repeat(pad));
        let len = message.encoded_len();
        if len == size {
            return message;
        }
        pad = (pad + size).checked_sub(len).expect("padding left");
    }
    panic!("no padding makes a message of {size} bytes");
}

#[tokio::test]
async fn a_grpc_message_of_exactly_its_limit_is_read_and_one_byte_more_gets_out_of_range() {
    let app = TestApp::spawn().await;
    let submission = |content: String| pb::SubmitInquiryRequest { content, customer_phone: CUSTOMER.into(), ..Default::default() };
    let mut client = inquiries(&app).await;
    let over = sized(MAX_SUBMIT_MESSAGE_BYTES + 1, submission);
    let status = expect_code(client.submit_inquiry(keyed(API_KEY, over)).await, Code::OutOfRange);
    assert!(status.message().contains(&MAX_SUBMIT_MESSAGE_BYTES.to_string()), "{status:?}");
    // At the limit the message is read; its content is then too long to be an inquiry.
    let at = sized(MAX_SUBMIT_MESSAGE_BYTES, submission);
    assert_eq!(bad_fields(&expect_code(client.submit_inquiry(keyed(API_KEY, at)).await, Code::InvalidArgument)), ["content"]);

    let reservation = |customer_name: String| pb::PutReservationRequest {
        reservation: Some(pb::Reservation {
            reservation_number: "TR-77700002".into(),
            tenant_id: "demo".into(),
            customer_name,
            customer_phone: CUSTOMER.into(),
            partner_id: "jeonju-tours".into(),
            partner_name: "Jeonju Day Tours".into(),
            partner_phone: "+821055501234".into(),
            partner_locale: "en".into(),
            service_type: "tour".into(),
            reservation_date: "2026-12-28T10:00".into(),
        }),
    };
    let small = |size: usize| sized(size, reservation);
    let mut client = reservations(&app).await;
    let status = expect_code(client.put_reservation(keyed(OPERATOR_KEY, small(MAX_SMALL_MESSAGE_BYTES + 1))).await, Code::OutOfRange);
    assert!(status.message().contains(&MAX_SMALL_MESSAGE_BYTES.to_string()), "{status:?}");
    match client.put_reservation(keyed(OPERATOR_KEY, small(MAX_SMALL_MESSAGE_BYTES))).await {
        Ok(stored) => assert_eq!(stored.into_inner().reservation_number, "TR-77700002"),
        Err(status) => assert_eq!(bad_fields(&status), ["customer_name"], "refused for its content, not its size: {status:?}"),
    }
    app.stop().await;
}
