//! No customer is dropped: a reservation number that cannot be found, or
//! that is not the customer's, goes to a person with its reason, the
//! operators are e-mailed and the customer is told what happens next.

use switchboard_tests::{TestApp, inquiry_body};

/// The customer of the demo reservation HT-20481123.
const DEMO_CUSTOMER: &str = "+821012345678";

#[tokio::test]
async fn an_unknown_reservation_number_is_escalated_with_its_reason_and_the_operators_are_told() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("예약 날짜를 12월 25일로 변경하고 싶어요. 예약번호 HT-99999999", "010-1234-5678")).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated", "{inquiry}");
    assert_eq!(inquiry["escalation"]["reason"], "reservation not found");

    app.wait_for_timeline(&id, "notification.operators").await;
    let sent = app.notified(&id).await;
    let operators: Vec<_> = sent.iter().filter(|m| m.to == app.config.operator_email).collect();
    assert_eq!(operators.len(), 1, "operators get one e-mail: {sent:?}");
    assert!(operators[0].body.contains("reservation not found"), "{}", operators[0].body);
    let customer: Vec<_> = sent.iter().filter(|m| m.to == DEMO_CUSTOMER).collect();
    assert_eq!(customer.len(), 1, "the customer gets one message: {sent:?}");
    assert!(customer[0].body.contains("HT-99999999") && customer[0].body.contains("담당자"), "{}", customer[0].body);
    assert!(sent.iter().all(|m| m.to == DEMO_CUSTOMER || m.to == app.config.operator_email), "no partner is texted: {sent:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_reservation_of_someone_else_is_escalated_without_telling_the_customer_whose_it_is() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("Please move booking HT-20481123 to December 26.", "+12135550149")).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated", "{inquiry}");
    assert_eq!(inquiry["escalation"]["reason"], "the customer's phone does not match the reservation");

    let sent = app.notified(&id).await;
    let customer: Vec<_> = sent.iter().filter(|m| m.to == "+12135550149").collect();
    assert_eq!(customer.len(), 1);
    assert!(customer[0].body.starts_with("We could not find booking HT-20481123 under your details"), "{}", customer[0].body);
    assert!(!customer[0].body.contains(DEMO_CUSTOMER) && !customer[0].body.contains("김민지"));
    app.stop().await;
}
