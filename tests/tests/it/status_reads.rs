//! Status polls are cheap reads: the status of an inquiry the pipeline is
//! done with is answered from the gateway's cache without reading the
//! store, a person's later change still shows once the staleness bound
//! passes, and the cache never shows one tenant's inquiry to another.
//! (That the API's reads cannot take the workers' read connections is
//! specified in `shared/sqlite/src/tests.rs`.)

use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use switchboard_tests::grpc::add_tenant;
use switchboard_tests::outage::Outage;
use switchboard_tests::{API_KEY, Options, PATIENCE, TestApp, inquiry_body};

const OTHER_KEY: &str = "other-tenant-key-0123";

async fn status(app: &TestApp, id: &str, key: &str) -> (u16, Value) {
    let r = app.http.get(app.url(&format!("/api/inquiries/{id}/status"))).header("x-api-key", key).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_finished_inquirys_status_is_polled_without_a_store_read_and_a_later_escalation_is_seen() {
    let outage = Outage::default();
    // A short bound, so the test does not wait the default two seconds for the change.
    let app = outage.spawn(Options::default(), |c| c.status_cache_ms = 200).await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
    assert_eq!(app.wait_terminal(&id).await["status"], "answered");

    let (code, first) = status(&app, &id, API_KEY).await;
    assert_eq!((code, first["status"].as_str()), (200, Some("answered")), "{first}");
    let reads = outage.api_inquiry_reads.load(Ordering::SeqCst);
    for _ in 0..5 {
        let (code, again) = status(&app, &id, API_KEY).await;
        assert_eq!((code, &again), (200, &first));
    }
    assert_eq!(outage.api_inquiry_reads.load(Ordering::SeqCst), reads, "the polls were answered without reading the inquiry");
    let (code, theirs) = status(&app, &id, OTHER_KEY).await;
    assert_eq!((code, theirs["type"].as_str()), (404, Some("/problems/not-found")), "a cached status is still only its tenant's");

    let escalated = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/escalate")))
        .header("x-api-key", API_KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(escalated.status(), 200);
    // Within the bound the poll may still show the answer; past it, the escalation.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (code, view) = status(&app, &id, API_KEY).await;
        assert_eq!(code, 200, "{view}");
        if view["status"] == "escalated" {
            break;
        }
        assert_eq!(view["status"], "answered", "{view}");
        assert!(tokio::time::Instant::now() < deadline, "the escalation never showed: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(outage.api_inquiry_reads.load(Ordering::SeqCst) > reads, "the change was read from the store");
    app.stop().await;
}
