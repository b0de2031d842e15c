//! Load shedding: with the classifier stopped, its queue grows past a small
//! bound and new submissions are shed (REST 503 with `Retry-After`, gRPC
//! UNAVAILABLE with `RetryInfo`), while reads, operator actions and partner
//! answers are still served; once the queue is worked off, submissions are
//! accepted again. In embedded mode and on the AWS emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use prost::Message;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard::aws::{Clients, ports_with};
use switchboard::{App, Config, Selection};
use switchboard_domain::Service;
use switchboard_messaging::{Queue, ReceiveOptions};
use switchboard_proto::google::rpc::{ErrorInfo, RetryInfo};
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::inquiry_service_client::InquiryServiceClient;
use switchboard_tests::emulator::{emulator, unique_prefix};
use switchboard_tests::grpc::keyed;
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, PATIENCE, TestApp, inquiry_body, test_config};
use tokio_util::sync::CancellationToken;
use tonic::Code;

/// Every service but the classifier, so its queue only grows.
fn without_classifier() -> Selection {
    Selection { services: Service::ALL.into_iter().filter(|s| *s != Service::Classifier).collect(), ..Selection::all() }
}

/// Shed once more than two messages wait in a queue; sample often.
fn small_bound(config: &mut Config) {
    config.shed_queue_depth = 2;
    config.shed_queue_age_ms = 0;
    config.shed_sample_ms = Some(20);
}

/// A running gateway whose classifier does not consume.
struct Stalled {
    base_url: String,
    grpc_url: String,
    classifier: Arc<dyn Queue>,
    http: reqwest::Client,
}

impl Stalled {
    async fn submit(&self, content: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/inquiries", self.base_url))
            .header("x-api-key", API_KEY)
            .json(&inquiry_body(content, "010-1234-5678"))
            .send()
            .await
            .unwrap()
    }

    /// Takes every message off the classifier's queue, as a classifier would.
    async fn drain(&self) {
        let options = ReceiveOptions { max_messages: 10, wait: Duration::ZERO, visibility: Duration::from_secs(30) };
        loop {
            let received = self.classifier.receive(options).await.unwrap();
            if received.is_empty() {
                return;
            }
            let receipts: Vec<String> = received.into_iter().map(|m| m.receipt).collect();
            assert!(self.classifier.delete_batch(&receipts).await.unwrap().is_empty());
        }
    }
}

/// The scenario, on either backend.
async fn shed_while_backlogged_and_admitted_once_drained(app: &Stalled) {
    // Submissions are accepted until the sampler sees the queue past its bound.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut accepted = Vec::new();
    let shed = loop {
        let response = app.submit(&format!("What time is check-in? ({})", accepted.len())).await;
        if response.status() == 503 {
            break response;
        }
        assert_eq!(response.status(), 202);
        accepted.push(response.json::<Value>().await.unwrap()["inquiry_id"].as_str().unwrap().to_owned());
        assert!(tokio::time::Instant::now() < deadline, "never shed with {} inquiries queued", accepted.len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(accepted.len() > 2, "shed with only {} queued", accepted.len());
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(shed.headers()["content-type"], "application/problem+json");
    let problem: Value = shed.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/overloaded");
    assert!(problem["detail"].as_str().unwrap().contains("classifier queue"), "{problem}");
    // Shed at the edge, so counted on its own rather than as an HTTP request.
    let metrics = app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("switchboard_submissions_shed_total{protocol=\"rest\"}"), "{metrics}");

    // The same over gRPC: UNAVAILABLE, saying why and when to retry.
    let channel = tonic::transport::Channel::from_shared(app.grpc_url.clone()).unwrap().connect().await.unwrap();
    let mut grpc = InquiryServiceClient::new(channel);
    let request =
        pb::SubmitInquiryRequest { content: "What time is check-in?".into(), customer_phone: "010-1234-5678".into(), ..Default::default() };
    let status = grpc.submit_inquiry(keyed(API_KEY, request)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let details = switchboard_gateway::grpc::status::details(&status).unwrap().details;
    let info = details.iter().find(|d| d.type_url.ends_with("ErrorInfo")).map(|d| ErrorInfo::decode(d.value.as_slice()).unwrap());
    assert_eq!(info.unwrap().reason, "OVERLOADED");
    let retry = details.iter().find(|d| d.type_url.ends_with("RetryInfo")).map(|d| RetryInfo::decode(d.value.as_slice()).unwrap());
    assert_eq!(retry.unwrap().retry_delay.unwrap().seconds, 1);

    // Reads, operator actions and partner answers are still served.
    let id = &accepted[0];
    let read = app.http.get(format!("{}/api/inquiries/{id}/status", app.base_url)).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let read = grpc.get_inquiry_status(keyed(API_KEY, pb::GetInquiryStatusRequest { inquiry_id: id.clone() })).await;
    assert!(read.is_ok(), "{read:?}");
    let escalated = app
        .http
        .post(format!("{}/api/inquiries/{id}/escalate", app.base_url))
        .header("x-api-key", OPERATOR_KEY)
        .json(&json!({ "reason": "the customer asked for a person" }))
        .send()
        .await
        .unwrap();
    assert_eq!(escalated.status(), 200, "{}", escalated.text().await.unwrap());
    let answer =
        app.http.post(format!("{}/respond", app.base_url)).json(&json!({ "token": "not-a-token", "answer": "accept" })).send().await;
    assert_eq!(answer.unwrap().status(), 401, "a partner's answer is judged, not shed");

    // Once the queue is worked off, submissions are taken again.
    app.drain().await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let response = app.submit("What time is breakfast?").await;
        if response.status() == 202 {
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(tokio::time::Instant::now() < deadline, "still shed after the queue drained");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_submission_over_the_backlog_bound_is_shed_with_503_and_retry_after_while_reads_go_on_embedded() {
    let options = Options { selection: without_classifier(), ..Options::default() };
    let app = TestApp::spawn_configured(options, small_bound, |_| {}).await;
    let stalled = Stalled {
        base_url: app.base_url.clone(),
        grpc_url: app.grpc_url.clone(),
        classifier: app.ports.queue(Service::Classifier).unwrap(),
        http: app.http.clone(),
    };
    shed_while_backlogged_and_admitted_once_drained(&stalled).await;
    app.stop().await;
}

#[tokio::test]
async fn a_submission_over_the_backlog_bound_is_shed_with_503_and_retry_after_while_reads_go_on_aws() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), &Options::default());
    config.backend = switchboard::config::Backend::Aws;
    config.resource_prefix = unique_prefix("shed");
    config.token_keys = Some("73686564207465737420686d6163206b6579206f662033322062797465732e2e2e".into());
    small_bound(&mut config);
    let clients = Clients::new(&emulator().aws_options(), None).await;
    let ports = ports_with(&clients, &config, true).await.unwrap();
    let classifier = ports.queue(Service::Classifier).unwrap();
    let app = App::build_with(config, &without_classifier(), ports).await.unwrap();
    switchboard::demo::seed(app.ports.store.as_ref(), app.ports.store.as_ref(), API_KEY).await.unwrap();
    let stalled = Stalled {
        base_url: format!("http://{}", app.http_addr()),
        grpc_url: format!("http://{}", app.grpc_addr()),
        classifier,
        http: reqwest::Client::new(),
    };
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.run(stop.clone()));
    shed_while_backlogged_and_admitted_once_drained(&stalled).await;
    stop.cancel();
    running.await.unwrap().unwrap();
}

/// No bound but the work in the pipeline, and samples too rare to help:
/// only the gateway's own count of what it admitted since the last sample
/// can stop a burst.
fn small_pipeline_cap(config: &mut Config) {
    config.shed_queue_depth = 0;
    config.shed_queue_age_ms = 0;
    config.shed_pending_writes = 0;
    config.shed_in_pipeline = Some(3);
    config.shed_sample_ms = Some(600_000);
}

#[tokio::test]
async fn a_burst_between_two_samples_is_admitted_only_up_to_the_pipelines_cap() {
    let options = Options { selection: without_classifier(), ..Options::default() };
    let app = TestApp::spawn_configured(options, small_pipeline_cap, |_| {}).await;
    let submit = |n: usize| {
        app.http
            .post(app.url("/api/inquiries"))
            .header("x-api-key", API_KEY)
            .json(&inquiry_body(&format!("What time is check-in? ({n})"), "010-1234-5678"))
            .send()
    };
    let mut statuses = Vec::new();
    for n in 0..6 {
        statuses.push(submit(n).await.unwrap());
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(codes, [202, 202, 202, 503, 503, 503]);
    let shed = statuses.pop().unwrap();
    assert_eq!(shed.headers()["retry-after"], "1");
    let problem: Value = shed.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("3 messages are in the pipeline (bound 3)"), "{problem}");
    app.stop().await;
}
