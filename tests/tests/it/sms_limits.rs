//! Texts have limits (issue 16, item 7): Switchboard texts only the
//! countries it is configured for, and a tenant's submissions that text are
//! bounded an hour, so a leaked key cannot be used to pump texts abroad.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::{Value, json};
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, TestApp, inquiry_body};

async fn submit(app: &TestApp, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut request = app.http.post(app.url("/api/inquiries")).header("x-api-key", API_KEY).json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_customer_or_partner_number_outside_the_texted_countries_is_refused_naming_the_field() {
    let app = TestApp::spawn_configured(Options::default(), |c| c.sms_countries = "82".into(), |_| {}).await;
    let refused = submit(&app, &inquiry_body("What time is check-in?", "+447700900123"), None).await;
    assert_eq!(refused.status(), 400);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "customer_phone", "{problem}");
    assert!(problem["errors"][0]["reason"].as_str().unwrap().contains("+82"), "{problem}");
    assert_eq!(submit(&app, &inquiry_body("What time is check-in?", "010-1234-5678"), None).await.status(), 202);

    let reservation = json!({
        "reservation_number": "CR-55500009", "tenant_id": "demo", "customer_name": "Park", "customer_phone": "010-2222-3333",
        "partner_id": "abroad-rent", "partner_name": "Abroad Rent", "partner_phone": "+447700900999", "service_type": "car_rental",
        "reservation_date": "2026-12-30",
    });
    let refused = app.http.post(app.url("/api/reservations")).header("x-api-key", OPERATOR_KEY).json(&reservation).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "partner_phone", "{problem}");
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_past_its_hourly_quota_of_texted_submissions_gets_429_and_a_repeat_costs_nothing() {
    let app = TestApp::spawn_configured(Options::default(), |c| c.sms_per_tenant_per_hour = 2, |_| {}).await;
    let body = inquiry_body("What time is check-in?", "+12135550149");
    assert_eq!(submit(&app, &body, Some("first")).await.status(), 202);
    assert_eq!(submit(&app, &body, Some("second")).await.status(), 202);
    let limited = submit(&app, &body, Some("third")).await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait >= 60, "the next text is minutes away: {wait}");
    let problem: Value = limited.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("2 submissions an hour"), "{problem}");
    // A retry of an accepted submission is answered from the first, texting nobody new.
    let repeat = submit(&app, &body, Some("first")).await;
    assert!(repeat.status().is_success(), "{}", repeat.status());
    app.stop().await;
}
