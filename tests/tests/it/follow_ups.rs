//! A customer's follow-up re-entering the pipeline (issue 17 item 3):
//! thanks close the inquiry, a new question is answered from the FAQ,
//! anger escalates, a follow-up on an escalated inquiry reaches the
//! operators, a redelivered announcement changes nothing twice, and an
//! answer nobody replies to closes itself.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_domain::{CloudEvent, EventType, InquiryId, Service, TenantId};
use switchboard_messaging::events;
use switchboard_tests::{Options, PATIENCE, TestApp, inquiry_body};

const CUSTOMER: &str = "+12135550149";
const QUESTION: &str = "What time is check-in?";
const PARKING: &str = "Is there parking at the hotel, and what does it cost?";
const ANGRY: &str =
    "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!";

/// An FAQ question, answered, its answer in the conversation and sent.
async fn answered(app: &TestApp) -> String {
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    app.wait_for_timeline(&id, "notification.customer.inquiry.answered").await;
    id
}

/// Polls the conversation until `done` holds; panics after [`PATIENCE`].
async fn wait_conversation(app: &TestApp, id: &str, done: impl Fn(&[(String, String)]) -> bool) -> Vec<(String, String)> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = app.conversation(id).await;
        if done(&messages) {
            return messages;
        }
        assert!(tokio::time::Instant::now() < deadline, "conversation of {id} never got there: {messages:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn by(messages: &[(String, String)], author: &str) -> usize {
    messages.iter().filter(|(a, _)| a == author).count()
}

fn timeline_kinds(inquiry: &Value) -> Vec<String> {
    inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str().map(str::to_owned)).collect()
}

/// Waits until no queue of the pipeline holds a message (delayed ones aside).
async fn quiet(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut busy = 0;
        for service in [Service::Classifier, Service::Responder, Service::Notifier] {
            let stats = app.ports.queue(service).unwrap().stats().await.unwrap();
            busy += stats.visible + stats.in_flight;
        }
        if busy == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the pipeline never went quiet");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn thanks_after_an_answer_resolve_the_inquiry_with_a_closing_notice() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    app.follow_up(&id, "thanks-1", "Thanks, that solved it!").await;

    let inquiry = app.wait_for(&id, |s| s == "resolved").await;
    assert_eq!(inquiry["status_reason"], "customer_closed");
    let messages = wait_conversation(&app, &id, |m| by(m, "system") == 1).await;
    assert_eq!(messages.last().map(|(a, _)| a.as_str()), Some("system"), "{messages:?}");
    app.wait_for_timeline(&id, "notification.customer.inquiry.resolved").await;
    let sent: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == CUSTOMER).collect();
    assert_eq!(sent.len(), 2, "the answer and the closing notice: {sent:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_new_question_after_an_answer_is_answered_from_the_faq_and_the_conversation_shows_both_answers() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    app.follow_up(&id, "parking-1", PARKING).await;

    let messages = wait_conversation(&app, &id, |m| by(m, "ai") == 2).await;
    let authors: Vec<&str> = messages.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(authors, ["customer", "ai", "customer", "ai"]);
    assert!(messages[3].1.contains("car park"), "the second answer is the parking FAQ's: {}", messages[3].1);
    let inquiry = app.wait_for(&id, |s| s == "answered").await;
    let kinds = timeline_kinds(&inquiry);
    for kind in ["status.reopened", "status.classified", "status.answered"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app.outbox(&id).await.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the second answer was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = app.outbox(&id).await;
    assert_eq!(sent.len(), 2, "each answer sent once: {sent:?}");
    assert!(sent.iter().any(|m| m.body.contains("car park")));
    app.stop().await;
}

#[tokio::test]
async fn an_angry_follow_up_escalates_with_its_reason_and_the_operators_are_told() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    app.follow_up(&id, "angry-1", ANGRY).await;

    let inquiry = app.wait_for(&id, |s| s == "escalated").await;
    assert_eq!(inquiry["escalation"]["reason"], "worsening_sentiment");
    app.wait_for_timeline(&id, "notification.operators").await;
    let operators: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == app.config.operator_email).collect();
    assert_eq!(operators.len(), 1, "{operators:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_follow_up_on_an_escalated_inquiry_notifies_the_operators_and_leaves_it_escalated() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body(ANGRY, CUSTOMER)).await;
    app.wait_for(&id, |s| s == "escalated").await;
    app.wait_for_timeline(&id, "notification.operators").await;
    app.follow_up(&id, "news-1", "Any news about my complaint? Please call me.").await;

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let operators = loop {
        let operators: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == app.config.operator_email).collect();
        if operators.len() >= 2 {
            break operators;
        }
        assert!(tokio::time::Instant::now() < deadline, "the operators never heard of the follow-up: {operators:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(operators[1].body.contains("Any news about my complaint?"), "{}", operators[1].body);
    assert!(operators[1].subject.as_deref().unwrap_or_default().contains("Follow-up"));
    quiet(&app).await;
    assert_eq!(app.inquiry(&id).await["status"], "escalated");
    let customer: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == CUSTOMER).collect();
    assert_eq!(customer.len(), 1, "the customer is not told twice that a person will reply: {customer:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_message_received_changes_nothing_twice() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    let message = app.follow_up(&id, "parking-2", PARKING).await;
    wait_conversation(&app, &id, |m| by(m, "ai") == 2).await;
    quiet(&app).await;
    let before = app.inquiry(&id).await;
    let sent_before = app.outbox(&id).await.len();

    // The gateway's announcement again, as a redelivery would bring it.
    let inquiry_id = InquiryId::parse(&id).unwrap();
    let tenant = TenantId::parse(before["tenant_id"].as_str().unwrap()).unwrap();
    let key = format!("customer#{}", "parking-2");
    let data = json!({ "inquiry_id": id, "message_id": message["id"] });
    let event =
        CloudEvent::for_inquiry(EventType::MessageReceived, inquiry_id, &tenant, &key, "switchboard/gateway", jiff::Timestamp::now(), data);
    for _ in 0..2 {
        events::send(app.ports.queue(Service::Classifier).unwrap().as_ref(), &event, Duration::ZERO).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    quiet(&app).await;

    let after = app.inquiry(&id).await;
    assert_eq!(after["status"], "answered");
    assert_eq!(after["version"], before["version"], "nothing was written");
    assert_eq!(timeline_kinds(&after), timeline_kinds(&before));
    assert_eq!(by(&app.conversation(&id).await, "ai"), 2);
    assert_eq!(app.outbox(&id).await.len(), sent_before, "nobody was told twice");
    app.stop().await;
}

#[tokio::test]
async fn an_answered_inquiry_with_no_reply_closes_itself_after_the_configured_time() {
    let app = TestApp::spawn_configured(Options::default(), |c| c.auto_close_secs = 2, |_| {}).await;
    let id = answered(&app).await;

    let inquiry = app.wait_for(&id, |s| s == "resolved").await;
    assert_eq!(inquiry["status_reason"], "no_reply");
    let messages = wait_conversation(&app, &id, |m| by(m, "system") == 1).await;
    assert_eq!(messages.last().map(|(a, _)| a.as_str()), Some("system"));
    app.stop().await;
}
