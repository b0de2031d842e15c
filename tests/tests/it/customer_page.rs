//! The customer's way back (issue 17): the link in every notification
//! opens a page with the conversation, the status and a reply box; a reply
//! joins the conversation like an API follow-up; the link is the
//! customer's alone (a partner's link does not open it, nor it the
//! partner's page); staff-only data never shows. And the page in a real
//! browser, replying without JavaScript (screenshots in `target/screenshots/`,
//! `tests/screenshots/customer-page.png` is a copy of `customer-02-replied.png`).

use crate::partner::{PARTNER_PHONE, change_request, partner_sms};
use crate::partner_browser::Browser;
use fantoccini::Locator;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use switchboard_domain::customer_link::{CUSTOMER_SCOPE, DEFAULT_CUSTOMER_LINK_VALIDITY};
use switchboard_domain::token::TokenKeys;
use switchboard_domain::{CustomerClaims, InquiryId, TenantId};
use switchboard_tests::published::RecordingTopic;
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, TestApp, inquiry_body, token_in};

const CUSTOMER: &str = "+12135550149";
const QUESTION: &str = "What time is check-in?";

/// The customer link in a notification: its last word with `/c/` in it.
fn customer_link_in(body: &str) -> String {
    body.split_whitespace().rev().find(|w| w.contains("/c/")).unwrap_or_else(|| panic!("no customer link in {body:?}")).to_owned()
}

fn token_of(link: &str) -> String {
    link.rsplit_once("/c/").unwrap().1.to_owned()
}

/// The customer link of the (first) notification the customer got.
async fn link_sent_to(app: &TestApp, id: &str, to: &str) -> String {
    let sent = app.notified(id).await;
    let told = sent.iter().find(|m| m.to == to).unwrap_or_else(|| panic!("nothing sent to {to}: {sent:?}"));
    customer_link_in(&told.body)
}

/// A client that does not follow redirects: a reply's 303 is asserted.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// `text` as the page writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The form key of a rendered page.
fn form_key(html: &str) -> String {
    let start = html.find(r#"name="form_key" value=""#).expect("a reply form") + r#"name="form_key" value=""#.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn reply(app: &TestApp, token: &str, key: &str, text: &str) -> reqwest::Response {
    no_redirects().post(app.url(&format!("/c/{token}/reply"))).form(&[("text", text), ("form_key", key)]).send().await.unwrap()
}

/// A customer token for inquiry `id` of `tenant`, signed with the app's keys.
fn customer_token(keys: &TokenKeys, id: &str, tenant: &str, expires_at: i64) -> String {
    keys.sign(&CustomerClaims {
        scope: CUSTOMER_SCOPE.into(),
        inquiry_id: InquiryId::parse(id).unwrap(),
        tenant_id: TenantId::parse(tenant).unwrap(),
        expires_at,
    })
}

fn in_a_month() -> i64 {
    jiff::Timestamp::now().as_second() + DEFAULT_CUSTOMER_LINK_VALIDITY.as_secs() as i64
}

async fn api_messages(app: &TestApp, id: &str) -> Vec<Value> {
    let response = app.http.get(app.url(&format!("/api/inquiries/{id}/messages"))).header("x-api-key", API_KEY).send().await.unwrap();
    let page: Value = response.json().await.unwrap();
    page["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_link_in_a_notification_opens_the_conversation_and_a_double_submitted_reply_joins_it_once() {
    let mut published = None;
    let app = TestApp::spawn_with_ports(Options::default(), |ports| {
        let (topic, recorded) = RecordingTopic::wrap(ports.topic.clone());
        ports.topic = topic;
        published = Some(recorded);
    })
    .await;
    let published = published.expect("the topic is wrapped");
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    let link = link_sent_to(&app, &id, CUSTOMER).await;
    assert!(link.starts_with(&app.url("/c/")), "the public base URL and the token path: {link}");
    let answer = app.inquiry(&id).await["answer"].as_str().unwrap().to_owned();

    let response = app.http.get(&link).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{headers:?}");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en">"#) && html.contains("Your inquiry"), "{html}");
    assert!(html.contains(QUESTION) && html.contains(&escaped(&answer)), "the question and the answer: {html}");
    assert!(html.contains("We have answered your inquiry."), "the status in plain words: {html}");
    assert!(!html.contains("<script"), "no JavaScript");

    // The form, posted twice (a double click): one message, announced once.
    let token = token_of(&link);
    let key = form_key(&html);
    for _ in 0..2 {
        let posted = reply(&app, &token, &key, "Can I check in early, around noon?").await;
        assert_eq!(posted.status(), 303);
        assert_eq!(posted.headers()["location"], format!("/c/{token}"));
    }
    let messages = api_messages(&app, &id).await;
    let follow_ups: Vec<_> = messages.iter().filter(|m| m["sequence"].as_u64() > Some(1) && m["author"] == "customer").collect();
    assert_eq!(follow_ups.len(), 1, "{messages:?}");
    assert_eq!(
        (follow_ups[0]["text"].as_str(), follow_ups[0]["channel"].as_str()),
        (Some("Can I check in early, around noon?"), Some("web"))
    );
    let (_, again) = page(&app, &format!("/c/{token}")).await;
    assert!(again.contains("Can I check in early, around noon?"), "{again}");
    assert_ne!(form_key(&again), key, "each rendering has its own form key");

    published.assert_announced_once(&id, "inquiry.message_received").await;
    app.stop().await;
}

#[tokio::test]
async fn a_partner_link_never_opens_the_customer_page_nor_a_customer_link_the_partners() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    let partner_token = token_in(&partner_sms(&app, &id).await);

    let (status, html) = page(&app, &format!("/c/{partner_token}")).await;
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("This link is not valid."), "{html}");
    let refused = reply(&app, &partner_token, "x.y", "let me in").await;
    assert_eq!(refused.status(), 401);

    let customer = customer_token(&app.token_keys(), &id, "demo", in_a_month());
    let (status, html) = page(&app, &format!("/c/{customer}")).await;
    assert_eq!(status, 200, "the customer token opens its own page");
    assert!(
        html.contains("제휴사의 확인을 기다리고 있습니다.") && html.contains("예상 완료: 약 "),
        "status and ETA while it waits: {html}"
    );
    let (status, html) = page(&app, &format!("/r/{customer}")).await;
    assert_eq!(status, 401, "{html}");
    assert_eq!(app.http.get(app.url(&format!("/confirm/{customer}"))).send().await.unwrap().status(), 401);
    let respond = app.http.post(app.url("/respond")).json(&json!({ "token": customer, "answer": "accept" })).send().await.unwrap();
    assert_eq!(respond.status(), 401);
    assert_eq!(app.inquiry(&id).await["status"], "awaiting_partner", "nothing was answered");
    app.stop().await;
}

#[tokio::test]
async fn an_expired_forged_or_foreign_customer_link_is_refused_with_a_clear_page() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    let keys = app.token_keys();

    let expired = customer_token(&keys, &id, "demo", jiff::Timestamp::now().as_second() - 1);
    let (status, html) = page(&app, &format!("/c/{expired}")).await;
    assert_eq!(status, 401);
    assert!(html.contains("This link has expired") && html.contains("기간이 지난 링크입니다"), "{html}");

    let stranger = TokenKeys::new(vec![vec![7; 32]]).unwrap();
    let other_tenant = customer_token(&keys, &id, "another-tenant", in_a_month());
    for token in [customer_token(&stranger, &id, "demo", in_a_month()), other_tenant, "garbage".into()] {
        let (status, html) = page(&app, &format!("/c/{token}")).await;
        assert_eq!(status, 401, "{token}: {html}");
        assert!(html.contains("This link is not valid."), "{html}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_bad_reply_shows_the_page_again_with_why_and_a_form_not_from_the_page_is_refused() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    let token = token_of(&link_sent_to(&app, &id, CUSTOMER).await);
    let (_, html) = page(&app, &format!("/c/{token}")).await;
    let key = form_key(&html);

    let blank = reply(&app, &token, &key, " \u{200B} ").await;
    assert_eq!(blank.status(), 400);
    let shown = blank.text().await.unwrap();
    assert!(shown.contains("Please write a message") && shown.contains(QUESTION), "the page with why: {shown}");

    let other_link = customer_token(&app.token_keys(), &id, "demo", in_a_month() - 100);
    let foreign = reply(&app, &other_link, &key, "a form of another link").await;
    assert_eq!(foreign.status(), 403, "a form key is its link's");
    let forged = reply(&app, &token, "my-own-key", "no form at all").await;
    assert_eq!(forged.status(), 403);
    let cross_site = no_redirects()
        .post(app.url(&format!("/c/{token}/reply")))
        .header("sec-fetch-site", "cross-site")
        .form(&[("text", "from another site"), ("form_key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let customer_messages = api_messages(&app, &id).await.into_iter().filter(|m| m["author"] == "customer").count();
    assert_eq!(customer_messages, 1, "only the inquiry's own text");
    app.stop().await;
}

#[tokio::test]
async fn a_korean_customer_sees_the_conversation_in_korean_without_any_staff_only_data() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    partner_sms(&app, &id).await;
    let reason = "내부 메모: 환불 악용 의심 고객, VIP 아님";
    let escalate = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/escalate")))
        .header("x-api-key", OPERATOR_KEY)
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .unwrap();
    assert_eq!(escalate.status(), 200, "{}", escalate.text().await.unwrap_or_default());
    let human_answer = "12월 25일로 예약을 변경해 드렸습니다.";
    let resolve = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/resolve")))
        .header("x-api-key", OPERATOR_KEY)
        .json(&json!({ "human_answer": human_answer }))
        .send()
        .await
        .unwrap();
    assert_eq!(resolve.status(), 200, "{}", resolve.text().await.unwrap_or_default());
    app.wait_for_timeline(&id, "notification.customer.inquiry.resolved").await;
    let inquiry = app.inquiry(&id).await;
    let resolved = app.outbox(&id).await.into_iter().rev().find(|m| m.to == "+821012345678").expect("the customer was told");
    assert!(resolved.body.contains("문의 내역·답장: "), "a Korean label: {}", resolved.body);

    let (status, html) = page(&app, &format!("/c/{}", token_of(&customer_link_in(&resolved.body)))).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="ko">"#) && html.contains("문의 내역") && html.contains("처리가 완료되었습니다."), "{html}");
    assert!(html.contains(human_answer) && html.contains("상담팀"), "the operator's answer, as our team's: {html}");
    let partner = &inquiry["partner"];
    let mut staff_only = vec![
        reason.to_owned(),
        "환불 악용".to_owned(),
        PARTNER_PHONE.to_owned(),
        "9876-5432".to_owned(),
        "demo-operator".to_owned(),
        "operator:".to_owned(),
        "confidence".to_owned(),
        "certainty".to_owned(),
        "reservation_change".to_owned(),
        "sentiment".to_owned(),
    ];
    staff_only.extend(partner["partner_id"].as_str().map(str::to_owned));
    for secret in staff_only {
        assert!(!html.contains(&secret), "{secret:?} shows on the customer page: {html}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_customer_replies_in_a_real_browser_without_javascript() {
    let app = TestApp::spawn().await;
    let browser = Browser::start().await;
    let id = app.submit_ok(&inquiry_body("조식은 몇 시부터 먹을 수 있나요?", "010-2222-3333")).await;
    let link = link_sent_to(&app, &id, "+821022223333").await;

    let shown = browser.open(&link).await;
    assert!(shown.contains("문의 내역") && shown.contains("조식은 몇 시부터 먹을 수 있나요?"), "{shown}");
    assert!(shown.contains("오전 7시부터 10시까지"), "the answer shows: {shown}");
    browser.screenshot("customer-01-conversation.png").await;

    let text = "감사합니다. 아이 조식도 포함인가요?";
    let textarea = browser.client().find(Locator::Css("form.reply textarea[name=text]")).await.expect("the reply box");
    textarea.send_keys(text).await.expect("typed");
    let after = browser.submit("reply").await;
    assert!(after.contains(text), "the reply joins the conversation: {after}");
    browser.screenshot("customer-02-replied.png").await;
    let replies = api_messages(&app, &id).await.into_iter().filter(|m| m["author"] == "customer" && m["text"] == text).count();
    assert_eq!(replies, 1);

    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_flood_of_requests_to_the_customer_page_gets_a_429_page_shared_with_the_partner_routes() {
    let app = TestApp::spawn_with(Options { partner_rate_per_minute: 5, ..Options::default() }).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.http.get(app.url("/c/not-a-token")).send().await.unwrap().status().as_u16());
    }
    assert_eq!(&statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(&statuses[5..], [429; 2], "{statuses:?}");
    let limited = app.http.get(app.url("/c/not-a-token")).send().await.unwrap();
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "a page, not JSON");
    let partner = app.http.get(app.url("/r/not-a-token")).send().await.unwrap();
    assert_eq!(partner.status(), 429, "one budget per address for every link route");
    assert_eq!(partner.headers()["referrer-policy"], "no-referrer", "the partner page has the page headers too");
    app.stop().await;
}
