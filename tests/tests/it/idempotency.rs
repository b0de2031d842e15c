//! Idempotent submission: a repeated `Idempotency-Key` returns the first
//! inquiry and starts nothing new.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use switchboard_domain::TenantId;
use switchboard_store::PageRequest;
use switchboard_tests::{API_KEY, Options, PATIENCE, TestApp, inquiry_body};

#[tokio::test]
async fn the_same_idempotency_key_twice_makes_one_inquiry_and_one_pipeline_run() {
    let (app, published) = TestApp::spawn_recording_events(Options::default()).await;
    let body = inquiry_body("What time is check-in?", "+12135550149");
    let submit = || app.http.post(app.url("/api/inquiries")).header("x-api-key", API_KEY).header("idempotency-key", "order-42").json(&body);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = submit().send().await.unwrap();
        assert_eq!(r.status(), 202);
        let v: serde_json::Value = r.json().await.unwrap();
        ids.push(v["inquiry_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids[0], ids[1]);
    app.wait_terminal(&ids[0]).await;
    assert_eq!(app.notified(&ids[0]).await.len(), 1, "one notification");
    // A third try after the pipeline finished changes nothing either.
    let r = submit().send().await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["inquiry_id"], ids[0].as_str());
    assert_eq!(v["duplicate"], true);

    let tenant = TenantId::parse("demo").unwrap();
    assert_eq!(app.ports.store.list_by_tenant(&tenant, &PageRequest::first(10)).await.unwrap().items.len(), 1);
    // One run: each step published one event. A repeated submission that
    // arrives while the inquiry is still `received` re-announces it under
    // the same event id (recovery from a crash between write and publish),
    // and the steps after it see a redelivery and re-announce theirs, also
    // under the same ids: that is at-least-once delivery, not a second run.
    // A second run would publish some step under another event id.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let events = loop {
        let events = published.event_types_for(&ids[0]);
        if events.iter().any(|e| e == "notification.sent") {
            break events;
        }
        assert!(tokio::time::Instant::now() < deadline, "the notifier never published: {events:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(!events.is_empty(), "{events:?}");
    let distinct = published.distinct_events_for(&ids[0]);
    let types: Vec<&str> = distinct.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        types,
        ["inquiry.received", "inquiry.classified", "inquiry.answered", "notification.sent"],
        "one event id per step: {distinct:?}"
    );
    let inquiry = app.inquiry(&ids[0]).await;
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in &kinds {
        assert_eq!(kinds.iter().filter(|k| *k == kind).count(), 1, "{kind} recorded more than once: {kinds:?}");
    }
    assert!(kinds.contains(&"status.answered"), "{kinds:?}");
    app.stop().await;
}
