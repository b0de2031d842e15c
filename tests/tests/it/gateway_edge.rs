//! The gateway's edge (issue 16, items 1 and 2): behind a trusted proxy the
//! client is the address it forwards, so one abuser cannot use up everybody's
//! partner limit; a link is limited across addresses; the partner routes
//! take small bodies within a deadline; a key is checked before a body is
//! read; and a cap on requests at once turns the excess away at once.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::{Value, json};
use std::time::Duration;
use switchboard::Config;
use switchboard_tests::{API_KEY, Options, PATIENCE, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The test clients connect from loopback: that is "the load balancer".
fn behind_the_balancer(config: &mut Config) {
    config.trusted_proxies = "127.0.0.0/8, ::1".into();
}

async fn open_link(app: &TestApp, token: &str, forwarded_for: &str) -> u16 {
    let r = app.http.get(app.url(&format!("/r/{token}"))).header("x-forwarded-for", forwarded_for).send().await.unwrap();
    r.status().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_client_over_its_partner_limit_leaves_other_clients_served() {
    let options = Options { partner_rate_per_minute: 2, ..Options::default() };
    let app = TestApp::spawn_configured(options, behind_the_balancer, |_| {}).await;
    // A fake entry on the left is the client's own writing; the right-most is the balancer's.
    let abuser = "10.9.9.9, 198.51.100.1";
    assert_eq!(open_link(&app, "guess-1", abuser).await, 401);
    assert_eq!(open_link(&app, "guess-2", abuser).await, 401);
    assert_eq!(open_link(&app, "guess-3", abuser).await, 429, "the abuser is limited");
    assert_eq!(open_link(&app, "guess-4", "10.9.9.9, 198.51.100.2").await, 401, "another client is still served");
    app.stop().await;
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_changes_nothing() {
    let app = TestApp::spawn_with(Options { partner_rate_per_minute: 2, ..Options::default() }).await;
    assert_eq!(open_link(&app, "guess-1", "198.51.100.1").await, 401);
    assert_eq!(open_link(&app, "guess-2", "198.51.100.2").await, 401);
    assert_eq!(open_link(&app, "guess-3", "198.51.100.3").await, 429, "a forged header does not buy a new bucket");
    app.stop().await;
}

#[tokio::test]
async fn one_link_is_limited_from_every_address_on_the_page_and_the_json_route() {
    let options = Options { partner_rate_per_minute: 10_000, ..Options::default() };
    let app = TestApp::spawn_configured(
        options,
        |c| {
            behind_the_balancer(c);
            c.partner_rate_per_link_per_minute = 2;
        },
        |_| {},
    )
    .await;
    assert_eq!(open_link(&app, "same-link", "198.51.100.1").await, 401);
    assert_eq!(open_link(&app, "same-link", "198.51.100.2").await, 401);
    assert_eq!(open_link(&app, "same-link", "198.51.100.3").await, 429);
    let r = app
        .http
        .post(app.url("/respond"))
        .header("x-forwarded-for", "198.51.100.4")
        .json(&json!({ "token": "same-link", "answer": "accept" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let problem: Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("this link"), "{problem}");
    assert_eq!(open_link(&app, "other-link", "198.51.100.1").await, 401, "other links are not limited");
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_api_limits_each_forwarded_client_separately() {
    let options = Options { api_rate_per_ip: 1, ..Options::default() };
    let app = TestApp::spawn_configured(options, behind_the_balancer, |_| {}).await;
    let get = |client: &'static str| {
        app.http.get(app.url("/api/inquiries")).header("x-api-key", API_KEY).header("x-forwarded-for", client).send()
    };
    assert_eq!(get("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(get("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(get("198.51.100.2").await.unwrap().status(), 200, "another client behind the same balancer");
    app.stop().await;
}

#[tokio::test]
async fn a_partner_body_over_16_kib_gets_413_on_the_json_route_and_the_page() {
    let app = TestApp::spawn_with(Options { partner_rate_per_minute: 10_000, ..Options::default() }).await;
    let reason = "x".repeat(17 * 1024);
    let r = app.http.post(app.url("/respond")).json(&json!({ "token": "a.b", "answer": "reject", "reason": reason })).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let r = app.http.post(app.url("/r/a.b")).form(&[("answer", "reject"), ("reason", reason.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    app.stop().await;
}

/// Sends `head` (request line and headers, announcing a body it never
/// finishes) and a few bytes of body, and returns the status line of the
/// response, holding the connection open meanwhile.
async fn trickle(app: &TestApp, head: &str) -> (TcpStream, String) {
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"content\": \"").await.unwrap();
    let mut response = vec![0; 1024];
    let read = tokio::time::timeout(PATIENCE, stream.read(&mut response)).await.expect("an answer before the body ends").unwrap();
    let status = String::from_utf8_lossy(&response[..read]).lines().next().unwrap_or_default().to_owned();
    (stream, status)
}

fn submission_head(key: &str) -> String {
    format!(
        "POST /api/inquiries HTTP/1.1\r\nhost: switchboard\r\nx-api-key: {key}\r\ncontent-type: application/json\r\ncontent-length: 30000000\r\n\r\n"
    )
}

#[tokio::test]
async fn a_submission_with_a_wrong_key_is_refused_before_its_body_is_read() {
    let app = TestApp::spawn_with(Options::default()).await;
    let (_stream, status) = trickle(&app, &submission_head("not-a-key")).await;
    assert!(status.contains(" 401 "), "{status}");
    app.stop().await;
}

#[tokio::test]
async fn a_partner_answer_whose_body_never_ends_is_ended_by_the_deadline() {
    let options = Options { partner_rate_per_minute: 10_000, ..Options::default() };
    let app = TestApp::spawn_configured(options, |c| c.request_timeout_secs = 1, |_| {}).await;
    let head = "POST /respond HTTP/1.1\r\nhost: switchboard\r\ncontent-type: application/json\r\ncontent-length: 9000\r\n\r\n";
    let (_stream, status) = trickle(&app, head).await;
    assert!(status.contains(" 503 "), "{status}");
    app.stop().await;
}

#[tokio::test]
async fn past_the_cap_on_requests_at_once_a_rest_or_grpc_request_is_refused_at_once_and_served_when_a_slot_frees() {
    let app = TestApp::spawn_configured(Options::default(), |c| c.max_concurrent_requests = 1, |_| {}).await;
    // The one slot is held by a submission whose body is still coming.
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut held = TcpStream::connect(address).await.unwrap();
    held.write_all(submission_head(API_KEY).as_bytes()).await.unwrap();
    held.write_all(b"{\"content\": \"").await.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let turned_away = loop {
        let r = app.http.get(app.url("/api/inquiries")).header("x-api-key", API_KEY).send().await.unwrap();
        if r.status() == 503 {
            break r;
        }
        assert!(tokio::time::Instant::now() < deadline, "never turned away: {}", r.status());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(turned_away.headers()["retry-after"], "1");
    let problem: Value = turned_away.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/overloaded", "{problem}");
    // gRPC shares the cap.
    let mut grpc = switchboard_tests::grpc::inquiries(&app).await;
    let request = switchboard_proto::v1::GetInquiryStatusRequest { inquiry_id: "00000000-0000-0000-0000-000000000000".into() };
    let status = grpc.get_inquiry_status(switchboard_tests::grpc::keyed(API_KEY, request)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    // Health is never capped; and once the slot frees, requests are served.
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    drop(held);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let r = app.http.get(app.url("/api/inquiries")).header("x-api-key", API_KEY).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still turned away: {}", r.status());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn with_an_internal_metrics_address_the_public_one_no_longer_serves_metrics() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let internal = free.local_addr().unwrap();
    drop(free);
    let app = TestApp::spawn_configured(Options::default(), |c| c.metrics_addr = Some(internal), |_| {}).await;
    assert_eq!(app.http.get(app.url("/metrics")).send().await.unwrap().status(), 404);
    let scraped = app.http.get(format!("http://{internal}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("switchboard_http_requests"));
    app.stop().await;
}
