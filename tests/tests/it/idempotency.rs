use switchboard_domain::TenantId;
use switchboard_store::PageRequest;
use switchboard_tests::{API_KEY, TestApp, inquiry_body};

#[tokio::test]
async fn the_same_idempotency_key_twice_makes_one_inquiry_and_one_pipeline_run() {
    let app = TestApp::spawn().await;
    let body = inquiry_body("What time is check-in?", "+12135550149");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .http
            .post(app.url("/api/inquiries"))
            .header("x-api-key", API_KEY)
            .header("idempotency-key", "order-42")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let v: serde_json::Value = r.json().await.unwrap();
        ids.push(v["inquiry_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids[0], ids[1]);
    app.wait_terminal(&ids[0]).await;
    // A third try after the pipeline finished changes nothing either.
    let r = app
        .http
        .post(app.url("/api/inquiries"))
        .header("x-api-key", API_KEY)
        .header("idempotency-key", "order-42")
        .json(&body)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["inquiry_id"], ids[0].as_str());
    assert_eq!(v["duplicate"], true);

    let tenant = TenantId::parse("demo").unwrap();
    assert_eq!(app.ports.store.list_by_tenant(&tenant, &PageRequest::first(10)).await.unwrap().items.len(), 1);
    let inquiry = app.inquiry(&ids[0]).await;
    let answered = inquiry["timeline"].as_array().unwrap().iter().filter(|e| e["kind"] == "status.answered").count();
    assert_eq!(answered, 1);
    assert_eq!(app.notified(&ids[0]).await.len(), 1, "one notification");
    app.stop().await;
}
