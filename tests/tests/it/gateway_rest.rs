//! The REST twin: listing, escalation, resolution, server-sent events,
//! `/chat`, reservations, limits and CORS, all with problem+json errors.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, PATIENCE, TestApp, inquiry_body};

const CUSTOMER: &str = "+12135550149";
const COMPLAINT: &str =
    "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!";

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    response.json().await.unwrap()
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().map(|e| e.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

async fn get(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.http.get(app.url(path)).header("x-api-key", key).send().await.unwrap()
}

async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> reqwest::Response {
    app.http.post(app.url(path)).header("x-api-key", key).json(body).send().await.unwrap()
}

#[tokio::test]
async fn get_api_inquiries_lists_newest_first_with_filters_and_page_tokens() {
    let app = TestApp::spawn().await;
    let faq = app.submit_ok(&inquiry_body("What time is check-in?", CUSTOMER)).await;
    let complaint = app.submit_ok(&inquiry_body(COMPLAINT, CUSTOMER)).await;
    app.wait_terminal(&faq).await;
    app.wait_terminal(&complaint).await;

    let page: Value = get(&app, "/api/inquiries?page_size=1", API_KEY).await.json().await.unwrap();
    assert_eq!(page["inquiries"][0]["inquiry_id"], complaint.as_str());
    assert!(page["inquiries"][0].get("timeline").is_none(), "listings carry no timelines");
    let token = page["next_page_token"].as_str().expect("a next page");
    let next: Value = get(&app, &format!("/api/inquiries?page_size=1&page_token={token}"), API_KEY).await.json().await.unwrap();
    assert_eq!(next["inquiries"][0]["inquiry_id"], faq.as_str());
    assert!(next.get("next_page_token").is_none());

    let high: Value = get(&app, "/api/inquiries?urgency=high&status=escalated", API_KEY).await.json().await.unwrap();
    assert_eq!(high["inquiries"].as_array().unwrap().len(), 1);
    let after = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let empty: Value = get(&app, &format!("/api/inquiries?created_after={after}"), API_KEY).await.json().await.unwrap();
    assert!(empty["inquiries"].as_array().unwrap().is_empty());

    let bad =
        problem(get(&app, "/api/inquiries?status=done&urgency=urgent&page_size=0&created_before=yesterday", API_KEY).await, 400).await;
    assert_eq!(fields(&bad), ["status", "created_before", "urgency", "page_size"]);
    let bad = problem(get(&app, &format!("/api/inquiries?status=answered&page_token={token}"), API_KEY).await, 400).await;
    assert_eq!(fields(&bad), ["page_token"]);
    problem(get(&app, "/api/inquiries?tenant_id=other", API_KEY).await, 403).await;
    problem(app.http.get(app.url("/api/inquiries")).send().await.unwrap(), 401).await;

    // The operator's escalation queue.
    let queue: Value = get(&app, "/api/inquiries?status=escalated", OPERATOR_KEY).await.json().await.unwrap();
    assert_eq!(queue["inquiries"][0]["inquiry_id"], complaint.as_str());
    assert_eq!(fields(&problem(get(&app, "/api/inquiries", OPERATOR_KEY).await, 400).await), ["status"]);
    app.stop().await;
}

#[tokio::test]
async fn escalate_and_resolve_over_rest_move_the_inquiry_and_the_customer_gets_the_human_answer() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", CUSTOMER)).await;
    app.wait_terminal(&id).await;
    let escalated = post(&app, &format!("/api/inquiries/{id}/escalate"), API_KEY, &json!({ "reason": "wants a person" })).await;
    assert_eq!(escalated.status(), 200);
    let escalated: Value = escalated.json().await.unwrap();
    assert_eq!(escalated["status"], "escalated");
    // An empty body is a reason-less request.
    let again = app.http.post(app.url(&format!("/api/inquiries/{id}/escalate"))).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(again.status(), 200);

    let answer = json!({ "human_answer": "Check-in is from 3 pm; we can hold your bags from 10 am." });
    problem(post(&app, &format!("/api/inquiries/{id}/resolve"), API_KEY, &answer).await, 403).await;
    assert_eq!(
        fields(&problem(post(&app, &format!("/api/inquiries/{id}/resolve"), OPERATOR_KEY, &json!({})).await, 400).await),
        ["human_answer"]
    );
    let resolved = post(&app, &format!("/api/inquiries/{id}/resolve"), OPERATOR_KEY, &answer).await;
    assert_eq!(resolved.status(), 200);
    assert_eq!(resolved.json::<Value>().await.unwrap()["human_answer"], answer["human_answer"]);
    let conflict =
        problem(post(&app, &format!("/api/inquiries/{id}/resolve"), OPERATOR_KEY, &json!({ "human_answer": "other" })).await, 409).await;
    assert_eq!(conflict["type"], "/problems/invalid-transition");
    problem(post(&app, &format!("/api/inquiries/{id}/escalate"), API_KEY, &json!({})).await, 409).await;

    let inquiry = app.wait_for_timeline(&id, "notification.customer.inquiry.resolved").await;
    assert_eq!(inquiry["status"], "resolved");
    let actors: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["actor"].as_str()).collect();
    assert!(actors.contains(&"tenant:demo") && actors.contains(&"operator:demo-operator"), "{actors:?}");
    let sent = app.outbox(&id).await;
    assert_eq!(sent.iter().filter(|m| m.to == CUSTOMER && m.body.starts_with(answer["human_answer"].as_str().unwrap())).count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_events_endpoint_streams_the_timeline_as_server_sent_events_until_the_terminal_status() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", CUSTOMER)).await;
    let response = get(&app, &format!("/api/inquiries/{id}/events"), API_KEY).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let body = tokio::time::timeout(PATIENCE, response.text()).await.expect("the stream ends").unwrap();
    let events: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(events.last(), Some(&"end"), "{body}");
    let data: Vec<Value> = body.lines().filter_map(|l| l.strip_prefix("data: ")).filter_map(|d| serde_json::from_str(d).ok()).collect();
    let kinds: Vec<&str> = data.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"status.received"));
    assert_eq!(kinds.last(), Some(&"status.answered"), "{kinds:?}");
    assert_eq!(data.iter().filter(|d| d["terminal"] == true).count(), 1);
    problem(get(&app, "/api/inquiries/0190f5e2-7c3a-7b1e-8a4d-0123456789ab/events", API_KEY).await, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn chat_takes_seed_002s_shape_and_names_its_fields() {
    let app = TestApp::spawn().await;
    let body = json!({ "customerId": "c-1", "customerPhone": "010-1234-5678", "message": "조식은 몇 시에 제공되나요?" });
    let r = post(&app, "/chat", API_KEY, &body).await;
    assert_eq!(r.status(), 202);
    let r: Value = r.json().await.unwrap();
    assert_eq!((r["status"].as_str(), r["message"].as_str()), (Some("Created"), Some("요청이 접수되었습니다")));
    let id = r["requestId"].as_str().unwrap();
    let inquiry = app.wait_terminal(id).await;
    assert_eq!((inquiry["channel"].as_str(), inquiry["status"].as_str()), (Some("chat"), Some("answered")));
    let bad = problem(post(&app, "/chat", API_KEY, &json!({ "customerPhone": "nope" })).await, 400).await;
    assert_eq!(fields(&bad), ["message", "customerPhone"]);
    app.stop().await;
}

#[tokio::test]
async fn operators_add_reservations_over_rest_and_tenants_may_not() {
    let app = TestApp::spawn().await;
    let body = json!({
        "reservation_number": "CR-55500001", "tenant_id": "demo", "customer_name": "Park", "customer_phone": "010-2222-3333",
        "partner_id": "hanbit-rent", "partner_name": "한빛렌터카", "partner_phone": "+821033334444", "service_type": "car_rental",
        "reservation_date": "2026-12-30",
    });
    problem(post(&app, "/api/reservations", API_KEY, &body).await, 403).await;
    let stored = post(&app, "/api/reservations", OPERATOR_KEY, &body).await;
    assert_eq!(stored.status(), 201);
    assert_eq!(stored.json::<Value>().await.unwrap()["partner_locale"], "ko");
    let bad = problem(post(&app, "/api/reservations", OPERATOR_KEY, &json!({ "tenant_id": "Not A Slug" })).await, 400).await;
    assert!(fields(&bad).contains(&"reservation_number".to_owned()) && fields(&bad).contains(&"tenant_id".to_owned()), "{bad}");
    app.stop().await;
}

#[tokio::test]
async fn a_key_or_an_address_over_its_rate_gets_429_with_retry_after() {
    // Sent at once, so they land within the limiter's second however slow the machine is.
    let app = TestApp::spawn_with(Options { api_rate_per_key: 2, ..Options::default() }).await;
    let responses = futures::future::join_all((0..10).map(|_| get(&app, "/api/inquiries", API_KEY))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.contains(&200), "the first requests pass: {statuses:?}");
    let r = responses.into_iter().find(|r| r.status() == 429).unwrap_or_else(|| panic!("never limited: {statuses:?}"));
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(problem(r, 429).await["type"], "/problems/rate-limited");
    app.stop().await;

    let app = TestApp::spawn_with(Options { api_rate_per_ip: 2, ..Options::default() }).await;
    // Different (unknown) keys: only the address limit can stop them.
    let responses = futures::future::join_all(["a", "b", "c", "d", "e"].map(|key| get(&app, "/api/inquiries", key))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.contains(&401) && statuses.contains(&429), "the address limit applies whatever the key: {statuses:?}");
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_cors_answers_configured_origins_only() {
    let app = TestApp::spawn_with(Options { cors_origins: "https://console.example".into(), ..Options::default() }).await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", CUSTOMER)).await;
    let huge = json!({ "reason": "x".repeat(100_000) });
    let p = problem(post(&app, &format!("/api/inquiries/{id}/escalate"), API_KEY, &huge).await, 413).await;
    assert_eq!(p["status"], 413);

    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/inquiries"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-api-key")
            .send()
    };
    let allowed = preflight("https://console.example").await.unwrap();
    assert_eq!(allowed.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("https://console.example"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}
