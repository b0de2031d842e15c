//! The 503 paths: a store or queue outage, a request that outlasts the
//! request timeout, and readiness (and gRPC health) while a dependency is down. Each answers
//! with a problem (REST) or UNAVAILABLE (gRPC) the client may retry, and
//! the same calls are served again once the dependency is back.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use serde_json::Value;
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{expect_code, inquiries, keyed};
use switchboard_tests::outage::Outage;
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, PATIENCE, TestApp, inquiry_body};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const FAQ_QUESTION: &str = "What time is check-in?";
const CUSTOMER: &str = "+12135550149";

/// Asserts a problem+json response with `status`; returns its body.
async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    body
}

/// Asserts a 503 problem that tells the client when to retry; returns its body.
async fn retryable(response: reqwest::Response) -> Value {
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    assert!(retry_after.is_some_and(|s| s >= 1), "Retry-After: {retry_after:?}");
    problem(response, 503).await
}

async fn get(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.http.get(app.url(path)).header("x-api-key", key).send().await.unwrap()
}

/// Polls `/readyz` until it answers `status` (its checks are cached for
/// a couple of seconds, so it follows an outage with that delay).
async fn readyz(app: &TestApp, status: u16) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let response = app.http.get(app.url("/readyz")).send().await.unwrap();
        if response.status() == status {
            return response;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz still answers {}", response.status());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Polls the standard gRPC health service until it reports `want` for the whole server.
async fn wait_health(app: &TestApp, want: ServingStatus) {
    let mut health = HealthClient::new(switchboard_tests::grpc::channel(app).await);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = health.check(HealthCheckRequest { service: String::new() }).await.map(|r| r.into_inner().status());
        if status.as_ref().is_ok_and(|s| *s == want) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "health never became {want:?}: {status:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn submission() -> pb::SubmitInquiryRequest {
    pb::SubmitInquiryRequest { content: FAQ_QUESTION.into(), customer_phone: CUSTOMER.into(), ..Default::default() }
}

fn get_request(id: &str) -> pb::GetInquiryRequest {
    pb::GetInquiryRequest { inquiry_id: id.into() }
}

#[tokio::test]
async fn while_the_store_is_down_calls_get_503_or_unavailable_and_are_served_again_once_it_is_back() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |_| {}).await;
    let id = app.submit_ok(&inquiry_body(FAQ_QUESTION, CUSTOMER)).await;
    app.wait_terminal(&id).await;
    readyz(&app, 200).await;

    outage.store.down();
    // A tenant's key cannot be looked up; an operator's key gets as far as reading the inquiry.
    for key in [API_KEY, OPERATOR_KEY] {
        let p = retryable(get(&app, &format!("/api/inquiries/{id}"), key).await).await;
        assert_eq!(p["type"], "/problems/unavailable", "{p}");
        assert_eq!(p["detail"], "a dependency of Switchboard is unavailable; retry shortly", "the cause stays in the log: {p}");
    }
    let p = retryable(app.submit(&inquiry_body(FAQ_QUESTION, CUSTOMER)).await).await;
    assert_eq!(p["type"], "/problems/unavailable", "{p}");
    let not_ready = problem(readyz(&app, 503).await, 503).await;
    // Which dependency, never its error text: the probe is public.
    assert_eq!(not_ready["detail"], "store is not ready", "{not_ready}");

    let mut client = inquiries(&app).await;
    let status = expect_code(client.get_inquiry(keyed(OPERATOR_KEY, get_request(&id))).await, Code::Unavailable);
    assert!(status.metadata().get("retry-after").is_some(), "{status:?}");
    expect_code(client.submit_inquiry(keyed(API_KEY, submission())).await, Code::Unavailable);

    outage.store.heal();
    let inquiry: Value = get(&app, &format!("/api/inquiries/{id}"), API_KEY).await.json().await.unwrap();
    assert_eq!(inquiry["status"], "answered");
    assert_eq!(client.get_inquiry(keyed(OPERATOR_KEY, get_request(&id))).await.unwrap().into_inner().inquiry_id, id);
    readyz(&app, 200).await;
    app.stop().await;
}

#[tokio::test]
async fn while_the_queues_are_down_a_submission_is_accepted_into_the_outbox_and_finished_once_they_are_back() {
    let outage = Outage::default();
    // The relay publishes what the failed calls left as soon as it is a second old.
    let app = outage.spawn(Options::default(), |config| config.outbox_grace_ms = 1000).await;
    outage.messaging.down();
    let not_ready = problem(readyz(&app, 503).await, 503).await;
    assert!(not_ready["detail"].as_str().unwrap().starts_with("queue "), "{not_ready}");
    assert!(not_ready["detail"].as_str().unwrap().ends_with(" is not ready"), "{not_ready}");
    // Stored with its announcement in one transaction: accepted, whatever
    // the queues say; the announcement waits in the outbox.
    let accepted = app
        .http
        .post(app.url("/api/inquiries"))
        .header("x-api-key", API_KEY)
        .json(&inquiry_body(FAQ_QUESTION, CUSTOMER))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.unwrap();
    let id = accepted["inquiry_id"].as_str().unwrap().to_owned();
    let mut client = inquiries(&app).await;
    let over_grpc = client.submit_inquiry(keyed(API_KEY, submission())).await.unwrap().into_inner();
    assert_eq!(get(&app, &format!("/api/inquiries/{id}"), API_KEY).await.json::<Value>().await.unwrap()["status"], "received");
    // gRPC health follows readiness on its own schedule.
    wait_health(&app, ServingStatus::NotServing).await;

    outage.messaging.heal();
    readyz(&app, 200).await;
    wait_health(&app, ServingStatus::Serving).await;
    // The outbox relay publishes both; the pipeline finishes them.
    assert_eq!(app.wait_terminal(&id).await["status"], "answered");
    assert_eq!(app.wait_terminal(&over_grpc.inquiry_id).await["status"], "answered");
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_outlasts_the_request_timeout_gets_503_and_the_server_drops_its_work() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |config| config.request_timeout_secs = 1).await;
    let id = app.submit_ok(&inquiry_body(FAQ_QUESTION, CUSTOMER)).await;
    // Once the customer is told, nothing in the pipeline reads this timeline any more.
    app.wait_for_timeline(&id, "notification.customer.").await;

    outage.timelines.hang();
    let request = tokio::spawn(app.http.get(app.url(&format!("/api/inquiries/{id}"))).header("x-api-key", API_KEY).send());
    outage.timelines.wait_held(1).await;
    let p = retryable(tokio::time::timeout(PATIENCE, request).await.expect("the timeout answers").unwrap().unwrap()).await;
    assert_eq!(p["type"], "/problems/timeout", "{p}");
    assert_eq!(outage.timelines.held(), 0, "the timed-out request's store read was dropped with it");

    // gRPC: the client sets no deadline, so CANCELLED can only be the server's timeout.
    let mut client = inquiries(&app).await;
    let call = {
        let id = id.clone();
        tokio::spawn(async move { client.get_inquiry(keyed(API_KEY, get_request(&id))).await })
    };
    outage.timelines.wait_held(1).await;
    let status = expect_code(tokio::time::timeout(PATIENCE, call).await.expect("the timeout answers").unwrap(), Code::Cancelled);
    assert_eq!(status.message(), "Timeout expired");
    outage.timelines.wait_held(0).await;

    outage.timelines.heal();
    assert_eq!(get(&app, &format!("/api/inquiries/{id}"), API_KEY).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_watch_whose_timeline_cannot_be_read_ends_with_unavailable_over_grpc_and_an_error_event_over_sse() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |_| {}).await;
    let id = app.submit_ok(&inquiry_body(FAQ_QUESTION, CUSTOMER)).await;
    app.wait_for_timeline(&id, "notification.customer.").await;

    outage.timelines.down();
    let mut client = inquiries(&app).await;
    let stream = client.watch_inquiry(keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    let items: Vec<_> = tokio::time::timeout(PATIENCE, stream.collect::<Vec<_>>()).await.expect("the stream ends");
    match items.as_slice() {
        [Err(status)] => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        other => panic!("expected one UNAVAILABLE, got {other:?}"),
    }

    let response = get(&app, &format!("/api/inquiries/{id}/events"), API_KEY).await;
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(PATIENCE, response.text()).await.expect("the stream ends").unwrap();
    let events: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(events, ["error"], "{body}");
    let data: Value = serde_json::from_str(body.lines().find_map(|l| l.strip_prefix("data: ")).expect("a problem")).unwrap();
    assert_eq!((data["status"].as_u64(), data["type"].as_str()), (Some(503), Some("/problems/unavailable")), "{data}");
    app.stop().await;
}
