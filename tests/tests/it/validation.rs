use base64::Engine;
use serde_json::{Value, json};
use switchboard_domain::{Service, TenantId};
use switchboard_store::PageRequest;
use switchboard_tests::{API_KEY, TestApp, inquiry_body};

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    response.json().await.unwrap()
}

async fn nothing_stored_or_published(app: &TestApp) {
    let tenant = TenantId::parse("demo").unwrap();
    let page = app.ports.store.list_by_tenant(&tenant, &PageRequest::first(10)).await.unwrap();
    assert!(page.items.is_empty(), "nothing stored");
    for service in Service::ALL {
        let stats = app.ports.queue(service).unwrap().stats().await.unwrap();
        assert_eq!(stats.visible + stats.in_flight + stats.delayed, 0, "nothing published to {}", service.name());
    }
}

#[tokio::test]
async fn a_bad_phone_number_is_rejected_naming_the_field() {
    let app = TestApp::spawn().await;
    let p = problem(app.submit(&inquiry_body("When is breakfast?", "call me maybe")).await, 400).await;
    assert_eq!(p["errors"][0]["field"], "customer_phone");
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("E.164"));
    nothing_stored_or_published(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn empty_content_is_rejected_naming_the_field() {
    let app = TestApp::spawn().await;
    let p = problem(app.submit(&inquiry_body("   ", "+821012345678")).await, 400).await;
    assert_eq!(p["errors"][0]["field"], "content");
    nothing_stored_or_published(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_or_missing_api_key_is_rejected_with_401() {
    let app = TestApp::spawn().await;
    let body = inquiry_body("When is breakfast?", "+821012345678");
    let wrong = app.http.post(app.url("/api/inquiries")).header("x-api-key", "not-a-key").json(&body).send().await.unwrap();
    assert!(problem(wrong, 401).await["detail"].as_str().unwrap().contains("not valid"));
    let missing = app.http.post(app.url("/api/inquiries")).json(&body).send().await.unwrap();
    assert!(problem(missing, 401).await["detail"].as_str().unwrap().contains("x-api-key"));
    nothing_stored_or_published(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_six_megabyte_attachment_is_rejected_naming_the_field() {
    let app = TestApp::spawn().await;
    let mut big = vec![0u8; 6 * 1024 * 1024];
    big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let body = json!({
        "content": "Photo of the damage attached.",
        "customer_phone": "+821012345678",
        "attachments": [{ "filename": "damage.jpg", "content_base64": base64::engine::general_purpose::STANDARD.encode(big) }],
    });
    let p = problem(app.submit(&body).await, 400).await;
    assert_eq!(p["errors"][0]["field"], "attachments[0].content_base64");
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("5 MB"));
    nothing_stored_or_published(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_gets_a_problem_not_a_bare_error() {
    let app = TestApp::spawn().await;
    let r = app
        .http
        .post(app.url("/api/inquiries"))
        .header("x-api-key", API_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r, 400).await["type"], "/problems/invalid-json");
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_inquiry_is_not_found() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("When is breakfast?", "+821012345678")).await;
    let other = switchboard_domain::Tenant {
        id: TenantId::parse("other").unwrap(),
        name: "Other".into(),
        api_key_hash: switchboard_domain::tenant::hash_api_key("other-key"),
        domain_context: String::new(),
        faq: vec![],
        tier: "standard".into(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    };
    switchboard_store::TenantStore::put_tenant(app.ports.store.as_ref(), &other).await.unwrap();
    let r = app.http.get(app.url(&format!("/api/inquiries/{id}"))).header("x-api-key", "other-key").send().await.unwrap();
    problem(r, 404).await;
    app.stop().await;
}
