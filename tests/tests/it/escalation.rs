#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::json;
use switchboard_tests::TestApp;

#[tokio::test]
async fn an_angry_urgent_complaint_is_escalated_and_operators_are_notified() {
    let app = TestApp::spawn().await;
    let body = json!({
        "title": "Unacceptable",
        "content": "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!",
        "customer_phone": "+12135550149",
    });
    let id = app.submit_ok(&body).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated");
    assert_eq!(inquiry["classification"]["intent"], "complaint");
    assert!(inquiry["escalation"]["reason"].as_str().unwrap().contains("complaint"));

    app.wait_for_timeline(&id, "notification.operators").await;
    let sent = app.notified(&id).await;
    let operators: Vec<_> = sent.iter().filter(|m| m.to == app.config.operator_email).collect();
    assert_eq!(operators.len(), 1, "operators get one e-mail: {sent:?}");
    assert_eq!(operators[0].channel, "email");
    assert!(operators[0].subject.as_deref().unwrap_or_default().contains("Escalated"));
    let customer: Vec<_> = sent.iter().filter(|m| m.to == "+12135550149").collect();
    assert_eq!(customer.len(), 1, "the customer hears a person will reply");
    app.stop().await;
}
