#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::json;
use switchboard_domain::token::token_hash;
use switchboard_tests::grpc::add_tenant;
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, PATIENCE, TestApp, token_in};

pub(crate) const PARTNER_PHONE: &str = "+821098765432";
pub(crate) const CUSTOMER_PHONE: &str = "+821012345678";

pub(crate) fn change_request() -> serde_json::Value {
    json!({
        "content": "예약 날짜를 12월 25일로 변경하고 싶습니다. 예약번호 HT-20481123 입니다.",
        "customer_phone": "010-1234-5678",
    })
}

/// Waits for the dispatcher and returns the one SMS it sent the partner.
pub(crate) async fn partner_sms(app: &TestApp, id: &str) -> String {
    sms_to(app, id, PARTNER_PHONE).await
}

/// Waits for the dispatcher and returns the one SMS it sent to `partner_phone`.
pub(crate) async fn sms_to(app: &TestApp, id: &str, partner_phone: &str) -> String {
    app.wait_for(id, |s| s != "received" && s != "analyzing" && s != "classified").await;
    let sent = app.outbox(id).await;
    let to_partner: Vec<_> = sent.iter().filter(|m| m.to == partner_phone).collect();
    assert_eq!(to_partner.len(), 1, "exactly one SMS to the partner: {sent:?}");
    to_partner[0].body.clone()
}

#[tokio::test]
async fn a_reservation_change_is_confirmed_by_the_partner_and_the_customer_is_told_once() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    let inquiry = app.wait_for(&id, |s| s == "awaiting_partner").await;
    assert_eq!(inquiry["classification"]["intent"], "reservation_change");

    let sms = partner_sms(&app, &id).await;
    assert!(sms.contains("HT-20481123"));
    let token = token_in(&sms);
    // The link in the SMS opens the partner's page.
    let page = app.http.get(app.url(&format!("/r/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("HT-20481123") && html.contains("12월 25일"));
    assert!(!html.contains("1234-5678") && !html.contains(CUSTOMER_PHONE), "the page must not show the customer's phone");

    let answered = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(answered.status(), 200);
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered");
    assert_eq!(inquiry["partner"]["outcome"]["outcome"], "accepted");

    let to_customer: Vec<_> = app.notified(&id).await.into_iter().filter(|m| m.to == CUSTOMER_PHONE).collect();
    assert_eq!(to_customer.len(), 1, "customer notified exactly once");
    assert!(to_customer[0].body.contains("HT-20481123"));

    let kinds: Vec<String> = inquiry["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
    for expected in ["partner.sms_sent", "partner.opened", "partner.responded", "status.answered"] {
        assert!(kinds.iter().any(|k| k == expected), "timeline lacks {expected}: {kinds:?}");
    }
    assert_eq!(partner_steps(&inquiry), ["Created", "SMSSent", "Opened", "Responded"]);

    let again = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "reject" })).send().await.unwrap();
    assert_eq!(again.status(), 409, "a used token is rejected");
    app.stop().await;
}

#[tokio::test]
async fn a_partner_who_never_answers_times_out_and_the_customer_is_told() {
    let app = TestApp::spawn_with(Options { partner_deadline_secs: 2, ..Options::default() }).await;
    let id = app.submit_ok(&change_request()).await;
    assert!(partner_sms(&app, &id).await.contains("/r/"));
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated");
    assert_eq!(inquiry["partner"]["outcome"]["outcome"], "timed_out");
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"partner.timed_out"));

    let to_customer: Vec<_> = app.notified(&id).await.into_iter().filter(|m| m.to == CUSTOMER_PHONE).collect();
    assert_eq!(to_customer.len(), 1);
    assert!(
        to_customer[0].body.contains("파트너") && to_customer[0].body.contains("HT-20481123"),
        "customer told of the timeout: {}",
        to_customer[0].body
    );

    assert_eq!(partner_steps(&inquiry), ["Created", "SMSSent", "Timeout"]);
    app.stop().await;
}

/// The partner part of the timeline, in the step names the API shows
/// (`Created`, `SMSSent`, `Opened`, `Responded` or `Timeout`); asserts each
/// step has a time and the times never go backwards.
pub(crate) fn partner_steps(inquiry: &serde_json::Value) -> Vec<String> {
    let steps = inquiry["partner_steps"].as_array().unwrap_or_else(|| panic!("no partner_steps: {inquiry}"));
    let times: Vec<jiff::Timestamp> =
        steps.iter().map(|s| s["at"].as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("step without a time: {s}"))).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "steps out of order: {steps:?}");
    steps.iter().map(|s| s["step"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_late_answer_after_the_deadline_gets_the_expired_page_and_401() {
    let app = TestApp::spawn_with(Options { partner_deadline_secs: 1, ..Options::default() }).await;
    let id = app.submit_ok(&change_request()).await;
    let token = token_in(&partner_sms(&app, &id).await);
    let inquiry = app.wait_for_timeline(&id, "partner.timed_out").await;
    assert_eq!(inquiry["partner"]["outcome"]["outcome"], "timed_out");

    let late = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(late.status(), 401, "a late answer is expired, not 'already answered'");
    assert_eq!(late.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = late.json().await.unwrap();
    assert_eq!(problem["detail"], "the link has expired");
    let confirm = app.http.get(app.url(&format!("/confirm/{token}"))).send().await.unwrap();
    assert_eq!(confirm.status(), 401);

    for page in [
        app.http.get(app.url(&format!("/r/{token}"))).send().await.unwrap(),
        app.http.post(app.url(&format!("/r/{token}"))).form(&[("answer", "accept")]).send().await.unwrap(),
    ] {
        assert_eq!(page.status(), 401);
        let html = page.text().await.unwrap();
        assert!(html.contains("응답 기한이 지난 링크입니다.") && html.contains("This link has expired."), "{html}");
    }
    let inquiry = app.inquiry(&id).await;
    assert_eq!(inquiry["partner"]["outcome"]["outcome"], "timed_out", "the late answer changed nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_partner_answer_after_escalation_is_refused_with_409_and_its_link_is_void() {
    let app = TestApp::spawn_with(Options { partner_deadline_secs: 600, ..Options::default() }).await;
    let id = app.submit_ok(&change_request()).await;
    let token = token_in(&partner_sms(&app, &id).await);
    app.wait_for(&id, |s| s == "awaiting_partner").await;
    let escalated = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/escalate")))
        .header("x-api-key", API_KEY)
        .json(&json!({ "reason": "the customer called" }))
        .send()
        .await
        .unwrap();
    assert_eq!(escalated.status(), 200);

    let record = app.ports.store.get_token(&token_hash(&token)).await.unwrap().unwrap();
    assert!(record.used && record.voided_at.is_some() && record.outcome.is_none(), "escalating voided the link: {record:?}");

    let late = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(late.status(), 409);
    let problem: serde_json::Value = late.json().await.unwrap();
    assert_eq!(problem["detail"], "this request is closed: the inquiry was escalated, so the partner's answer is no longer taken");
    let confirm = app.http.get(app.url(&format!("/confirm/{token}"))).send().await.unwrap();
    assert_eq!(confirm.status(), 409);
    for page in [
        app.http.get(app.url(&format!("/r/{token}"))).send().await.unwrap(),
        app.http.post(app.url(&format!("/r/{token}"))).form(&[("answer", "accept")]).send().await.unwrap(),
    ] {
        assert_eq!(page.status(), 409);
        let html = page.text().await.unwrap();
        assert!(html.contains("담당자가 직접 처리하고 있어") && html.contains("This request is now handled by our staff"), "{html}");
    }
    let inquiry = app.inquiry(&id).await;
    assert_eq!(inquiry["status"], "escalated");
    assert!(inquiry["partner"]["outcome"].is_null(), "the refused answer changed nothing: {}", inquiry["partner"]);
    app.stop().await;
}

#[tokio::test]
async fn a_reservation_that_is_not_the_customers_goes_to_a_person_without_revealing_it() {
    // The customer is asked to check the number first; nobody replies.
    let app = TestApp::spawn_with(Options { customer_reply_secs: 1, ..Options::default() }).await;
    let body = json!({ "content": "Please move my booking HT-20481123 to next week.", "customer_phone": "+12135550149" });
    let id = app.submit_ok(&body).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "escalated");
    assert_eq!(inquiry["escalation"]["reason"], "the customer's phone does not match the reservation");
    let sent = app.notified(&id).await;
    assert!(sent.iter().all(|m| m.to != PARTNER_PHONE), "no SMS to the partner");
    app.wait_for_timeline(&id, "notification.customer.inquiry.escalated").await;
    let sent = app.outbox(&id).await;
    assert_eq!(sent.iter().filter(|m| m.to == "+12135550149").count(), 2, "the customer is asked, then told");
    assert!(sent.iter().all(|m| !m.body.contains("김민지")));
    assert_eq!(partner_steps(&inquiry), ["Created"], "no partner was asked");
    app.stop().await;
}

/// The one SMS texted to `phone` about inquiry `id`, whichever tenant
/// it belongs to (read from the outbox, which needs no tenant's key).
async fn texted_to(app: &TestApp, id: &str, phone: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let sent: Vec<_> = app.outbox(id).await.into_iter().filter(|m| m.to == phone).collect();
        if let [only] = sent.as_slice() {
            return only.body.clone();
        }
        assert!(sent.is_empty(), "more than one SMS to {phone}: {sent:?}");
        assert!(tokio::time::Instant::now() < deadline, "no SMS to {phone} for inquiry {id}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reservation_number_imported_by_two_tenants_keeps_each_tenants_own_record() {
    const OTHER_KEY: &str = "other-tenant-key-0123";
    const OTHER_PARTNER: &str = "+821077770000";
    let app = TestApp::spawn().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    // The demo tenant's HT-20481123 (for 2026-12-24, a Korean partner) is
    // seeded first; another business then imports its own booking with the
    // same number, the same customer, and another partner, date and language.
    let other = json!({
        "reservation_number": "HT-20481123",
        "tenant_id": "other",
        "customer_name": "Kim Minji",
        "customer_phone": CUSTOMER_PHONE,
        "partner_id": "other-partner",
        "partner_name": "Other Stay",
        "partner_phone": OTHER_PARTNER,
        "partner_locale": "en",
        "service_type": "spa",
        "reservation_date": "2027-02-14",
    });
    let stored = app.http.post(app.url("/api/reservations")).header("x-api-key", OPERATOR_KEY).json(&other).send().await.unwrap();
    assert!(stored.status().is_success(), "{}", stored.text().await.unwrap());

    let demo_id = app.submit_ok(&change_request()).await;
    let submitted = app.http.post(app.url("/api/inquiries")).header("x-api-key", OTHER_KEY).json(&change_request()).send().await.unwrap();
    assert_eq!(submitted.status(), 202);
    let other_id = submitted.json::<serde_json::Value>().await.unwrap()["inquiry_id"].as_str().unwrap().to_owned();

    let page = |token: String| {
        let url = app.url(&format!("/r/{token}"));
        async { app.http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let demo_page = page(token_in(&partner_sms(&app, &demo_id).await)).await;
    assert!(demo_page.contains("2026-12-24") && demo_page.contains(r#"lang="ko""#), "the demo partner sees the demo booking: {demo_page}");
    assert!(!demo_page.contains("2027-02-14"), "and nothing of the other tenant's");
    let other_page = page(token_in(&texted_to(&app, &other_id, OTHER_PARTNER).await)).await;
    assert!(other_page.contains("2027-02-14") && other_page.contains(r#"lang="en""#), "the other partner sees its booking: {other_page}");
    assert!(!other_page.contains("2026-12-24"));
    assert!(app.outbox(&demo_id).await.iter().all(|m| m.to != OTHER_PARTNER), "each request goes to its own tenant's partner");
    assert!(app.outbox(&other_id).await.iter().all(|m| m.to != PARTNER_PHONE));
    app.stop().await;
}

#[tokio::test]
async fn a_forged_token_is_rejected_with_401() {
    let app = TestApp::spawn().await;
    let r = app.http.post(app.url("/respond")).json(&json!({ "token": "eyJ4IjoxfQ.AAAA", "answer": "accept" })).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app.http.post(app.url("/respond")).json(&json!({ "token": "eyJ4IjoxfQ.AAAA", "answer": "maybe" })).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "answer");
    app.stop().await;
}
