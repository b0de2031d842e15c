#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_domain::{Service, TenantId};
use switchboard_messaging::{Attributes, FAILURE_REASON_ATTRIBUTE, OutgoingMessage, ReceiveOptions};
use switchboard_store::PageRequest;
use switchboard_tests::{PATIENCE, TestApp};

fn submitted(id: &str, content: &str) -> Value {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": "upstream/crm",
        "type": "inquiry.submitted",
        "time": "2026-11-22T00:00:00Z",
        "datacontenttype": "application/json",
        "data": { "tenant_id": "demo", "content": content, "customer_phone": "+12135550149" },
    })
}

async fn put_on_intake_queue(app: &TestApp, body: String) {
    let queue = app.ports.queue(Service::Intake).unwrap();
    queue.send(OutgoingMessage::new(body, Attributes::new())).await.unwrap();
}

async fn demo_inquiries(app: &TestApp) -> Vec<switchboard_domain::Inquiry> {
    let tenant = TenantId::parse("demo").unwrap();
    app.ports.store.list_by_tenant(&tenant, &PageRequest::first(100)).await.unwrap().items
}

/// Waits until the tenant has `n` inquiries, all terminal.
async fn wait_for_inquiries(app: &TestApp, n: usize) -> Vec<switchboard_domain::Inquiry> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let items = demo_inquiries(app).await;
        if items.len() >= n && items.iter().all(|i| i.status.is_terminal()) {
            return items;
        }
        assert!(tokio::time::Instant::now() < deadline, "upstream inquiries not processed: {}", items.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_upstream_event_is_processed_like_an_api_submission_and_only_once() {
    let app = TestApp::spawn().await;
    let event = submitted("crm-7781", "What time is check-out?").to_string();
    put_on_intake_queue(&app, event.clone()).await;
    put_on_intake_queue(&app, event).await;
    let items = wait_for_inquiries(&app, 1).await;
    // Let the second copy be handled too before counting.
    let queue = app.ports.queue(Service::Intake).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while queue.stats().await.unwrap().visible + queue.stats().await.unwrap().in_flight > 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let items_after = demo_inquiries(&app).await;
    assert_eq!(items_after.len(), 1, "the same event twice makes one inquiry");
    assert_eq!(items[0].status.as_str(), "answered");
    assert_eq!(items[0].channel.as_str(), "event");
    assert!(items[0].answer.as_deref().unwrap().contains("11 am"));
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_event_goes_to_the_dead_letter_queue_with_its_reason_and_the_queue_keeps_flowing() {
    let app = TestApp::spawn().await;
    put_on_intake_queue(&app, "this is not json".into()).await;
    let missing_content = json!({
        "specversion": "1.0", "id": "crm-1", "source": "upstream/crm", "type": "inquiry.submitted",
        "data": { "tenant_id": "demo", "customer_phone": "+12135550149" },
    });
    put_on_intake_queue(&app, missing_content.to_string()).await;
    put_on_intake_queue(&app, submitted("crm-2", "Is there Wi-Fi in the rooms?").to_string()).await;

    let items = wait_for_inquiries(&app, 1).await;
    assert_eq!(items.len(), 1, "the valid event behind the bad ones is processed");

    let dlq = app.ports.dead_letter_queue(Service::Intake).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut dead = Vec::new();
    while dead.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "dead letters missing: {dead:?}");
        let options = ReceiveOptions { max_messages: 10, wait: Duration::from_millis(100), visibility: Duration::from_secs(60) };
        dead.extend(dlq.receive(options).await.unwrap());
    }
    let reasons: Vec<&str> = dead.iter().map(|m| m.attributes[FAILURE_REASON_ATTRIBUTE].as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("not a CloudEvents")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("content")), "{reasons:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_upstream_event_with_a_bad_phone_is_dead_lettered_naming_the_field_not_the_value() {
    let app = TestApp::spawn().await;
    // A CRM that sends the number as a JSON number, without its `+`.
    let bad_phone = json!({
        "specversion": "1.0", "id": "crm-phone", "source": "upstream/crm", "type": "inquiry.submitted",
        "data": { "tenant_id": "demo", "content": "Is there parking?", "customer_phone": 821012345678_u64 },
    });
    put_on_intake_queue(&app, bad_phone.to_string()).await;

    let dlq = app.ports.dead_letter_queue(Service::Intake).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let dead = loop {
        let options = ReceiveOptions { max_messages: 10, wait: Duration::from_millis(100), visibility: Duration::from_secs(60) };
        let received = dlq.receive(options).await.unwrap();
        if !received.is_empty() {
            break received;
        }
        assert!(tokio::time::Instant::now() < deadline, "the event was not dead-lettered");
    };
    let reason = dead[0].attributes[FAILURE_REASON_ATTRIBUTE].as_str();
    assert_eq!(reason, "data is not an inquiry submission: data.customer_phone: invalid type, expected a string");
    assert!(demo_inquiries(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_upstream_follow_up_joins_the_conversation_once_and_shows_on_the_customers_page() {
    let app = TestApp::spawn().await;
    put_on_intake_queue(&app, submitted("crm-9001", "What time is check-out?").to_string()).await;
    let inquiry = wait_for_inquiries(&app, 1).await.remove(0);
    let follow_up = json!({
        "specversion": "1.0",
        "id": "crm-9002",
        "source": "upstream/crm",
        "type": "inquiry.message_received",
        "data": { "tenant_id": "demo", "inquiry_id": inquiry.id, "text": "Could I stay until 1 pm?" },
    })
    .to_string();
    put_on_intake_queue(&app, follow_up.clone()).await;
    put_on_intake_queue(&app, follow_up).await;

    let queue = app.ports.queue(Service::Intake).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stats = queue.stats().await.unwrap();
        let messages = switchboard_store::whole_conversation(app.ports.store.as_ref(), &inquiry).await.unwrap();
        let from_upstream: Vec<_> = messages.iter().filter(|m| m.text == "Could I stay until 1 pm?").collect();
        if stats.visible + stats.in_flight == 0 && !from_upstream.is_empty() {
            assert_eq!(from_upstream.len(), 1, "the same event twice is one message");
            assert_eq!(from_upstream[0].channel, switchboard_domain::MessageChannel::Upstream);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the upstream follow-up never joined the conversation");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let link = app.notified(&inquiry.id.to_string()).await[0].body.split_whitespace().last().unwrap().to_owned();
    let page = app.http.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Could I stay until 1 pm?"), "{page}");
    app.stop().await;
}
