//! No customer is dropped: a reservation number that cannot be found, or
//! that is not the customer's, is answered with a question back (issue
//! 17): the inquiry waits for the customer (`awaiting_customer`), who is
//! asked once to check the number. A reply with the right number resumes
//! the partner flow; a reply that still does not verify, a reply without
//! a number, or no reply in time goes to a person with the reason, the
//! operators are e-mailed and the customer is told what happens next.

use serde_json::json;
use switchboard_tests::{Options, TestApp, inquiry_body, token_in};

/// The customer of the demo reservation HT-20481123.
const DEMO_CUSTOMER: &str = "+821012345678";
/// The partner of the demo reservation HT-20481123.
const DEMO_PARTNER: &str = "+821098765432";
/// A change request naming a booking the demo tenant does not have, from
/// the customer of HT-20481123.
const UNKNOWN_BOOKING: &str = "예약 날짜를 12월 25일로 변경하고 싶어요. 예약번호 HT-99999999";

/// Submits the unknown booking's change request and waits for the question to reach the customer.
async fn asked(app: &TestApp) -> String {
    let id = app.submit_ok(&inquiry_body(UNKNOWN_BOOKING, "010-1234-5678")).await;
    let inquiry = app.wait_for(&id, |s| s == "awaiting_customer").await;
    assert!(inquiry["escalation"].is_null(), "no person yet: {inquiry}");
    app.wait_for_timeline(&id, "notification.customer.inquiry.awaiting_customer").await;
    id
}

/// What the customer was sent.
async fn to_customer(app: &TestApp, id: &str, phone: &str) -> Vec<String> {
    app.outbox(id).await.into_iter().filter(|m| m.to == phone).map(|m| m.body).collect()
}

#[tokio::test]
async fn an_unknown_reservation_is_answered_with_a_question_back_and_the_right_number_resumes_the_partner_flow() {
    let app = TestApp::spawn().await;
    let id = asked(&app).await;

    let said = app.conversation(&id).await;
    assert_eq!(said.len(), 2, "the inquiry and the question: {said:?}");
    assert_eq!(said[1].0, "system");
    assert!(said[1].1.contains("HT-99999999") && said[1].1.contains("예약번호를 확인"), "{}", said[1].1);
    let sent = to_customer(&app, &id, DEMO_CUSTOMER).await;
    assert_eq!(sent.len(), 1, "the customer is asked once: {sent:?}");
    assert!(sent[0].starts_with(&said[1].1), "the question as in the conversation, with the link back: {}", sent[0]);
    let outbox = app.outbox(&id).await;
    assert!(outbox.iter().all(|m| m.to == DEMO_CUSTOMER), "no partner is texted, no operator told yet: {outbox:?}");
    // The link in the question opens the customer's page, which says what it waits for and promises no time.
    let link = sent[0].split_whitespace().find(|w| w.contains("/c/")).unwrap();
    let page = app.http.get(app.url(&link[link.find("/c/").unwrap()..])).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("예약번호 확인을 위해 답장을 기다리고 있습니다") && !html.contains("예상 완료"), "{html}");

    app.follow_up(&id, "reply-1", "죄송합니다. 예약번호는 HT-20481123 입니다.").await;
    let inquiry = app.wait_for(&id, |s| s == "awaiting_partner").await;
    assert_eq!(inquiry["reservation_number"], "HT-20481123");
    let partner: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == DEMO_PARTNER).collect();
    assert_eq!(partner.len(), 1, "the partner is texted once: {partner:?}");
    assert!(partner[0].body.contains("HT-20481123"));

    let token = token_in(&partner[0].body);
    let answered = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(answered.status(), 200);
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered", "{inquiry}");
    app.wait_for_timeline(&id, "notification.customer.inquiry.answered").await;
    let sent = to_customer(&app, &id, DEMO_CUSTOMER).await;
    assert_eq!(sent.len(), 2, "the question, then the answer: {sent:?}");
    assert!(sent[1].contains("HT-20481123"), "{}", sent[1]);
    app.stop().await;
}

#[tokio::test]
async fn no_reply_before_the_deadline_escalates_with_its_reason_and_the_operators_are_told() {
    let app = TestApp::spawn_with(Options { customer_reply_secs: 2, ..Options::default() }).await;
    let id = app.submit_ok(&inquiry_body(UNKNOWN_BOOKING, "010-1234-5678")).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated", "{inquiry}");
    assert_eq!(inquiry["escalation"]["reason"], "reservation not found");
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"status.awaiting_customer"), "the customer was asked first: {kinds:?}");

    app.wait_for_timeline(&id, "notification.operators").await;
    app.wait_for_timeline(&id, "notification.customer.inquiry.escalated").await;
    let sent = app.outbox(&id).await;
    let operators: Vec<_> = sent.iter().filter(|m| m.to == app.config.operator_email).collect();
    assert_eq!(operators.len(), 1, "operators get one e-mail: {sent:?}");
    assert!(operators[0].body.contains("reservation not found"), "{}", operators[0].body);
    let customer = to_customer(&app, &id, DEMO_CUSTOMER).await;
    assert_eq!(customer.len(), 2, "the question, then one notice that a person will check: {customer:?}");
    assert!(customer[1].contains("HT-99999999") && customer[1].contains("담당자"), "{}", customer[1]);
    assert!(sent.iter().all(|m| m.to == DEMO_CUSTOMER || m.to == app.config.operator_email), "no partner is texted: {sent:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_reply_that_still_does_not_verify_escalates_at_once() {
    let app = TestApp::spawn().await;
    let id = asked(&app).await;
    app.follow_up(&id, "reply-1", "아, HT-88888888 이었던 것 같아요.").await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated", "asked once, well before the day is out: {inquiry}");
    assert_eq!(inquiry["escalation"]["reason"], "reservation not found");
    app.wait_for_timeline(&id, "notification.operators").await;
    let sent = app.outbox(&id).await;
    assert_eq!(sent.iter().filter(|m| m.to == app.config.operator_email).count(), 1, "{sent:?}");
    assert!(sent.iter().all(|m| m.to != DEMO_PARTNER), "no partner is texted: {sent:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_reply_without_a_reservation_number_escalates_with_the_reason() {
    let app = TestApp::spawn().await;
    let id = asked(&app).await;
    app.follow_up(&id, "reply-1", "예약번호를 모르겠어요. 전화 주세요.").await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated", "{inquiry}");
    assert_eq!(inquiry["escalation"]["reason"], "reservation not found");
    app.wait_for_timeline(&id, "notification.operators").await;
    app.wait_for_timeline(&id, "notification.customer.inquiry.escalated").await;
    assert_eq!(to_customer(&app, &id, DEMO_CUSTOMER).await.len(), 2, "the question, then the notice");
    app.stop().await;
}

#[tokio::test]
async fn a_reservation_of_someone_else_is_asked_about_without_telling_the_customer_whose_it_is() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("Please move booking HT-20481123 to December 26.", "+12135550149")).await;
    app.wait_for(&id, |s| s == "awaiting_customer").await;
    app.wait_for_timeline(&id, "notification.customer.inquiry.awaiting_customer").await;

    let customer = to_customer(&app, &id, "+12135550149").await;
    assert_eq!(customer.len(), 1);
    assert!(customer[0].starts_with("We could not find booking HT-20481123 under your details. Please check"), "{}", customer[0]);
    assert!(!customer[0].contains(DEMO_CUSTOMER) && !customer[0].contains("김민지"));
    assert!(app.outbox(&id).await.iter().all(|m| m.to != DEMO_PARTNER), "no partner is texted");
    app.stop().await;
}
