//! Write and announce together: a state change that no queue message will
//! repeat is stored with its event in one transaction, published at once,
//! and published by the outbox relay when the process died between the
//! two. First on the embedded backends with a manual clock, then as the
//! spawned binary made to crash between the commit and the publish.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use switchboard_domain::event::deterministic_id;
use switchboard_domain::{Channel, EventType, InquiryId, InquiryStatus, Service, SubmitInquiry, TenantId};
use switchboard_intake::Intake;
use switchboard_pipeline::testing::{TENANT, TestPipeline};
use switchboard_pipeline::{Clock, crash_point};
use switchboard_store::{InquiryStore, PageRequest};
use switchboard_tests::process::{Process, free_port, sent_messages};
use switchboard_tests::{API_KEY, PATIENCE, inquiry_body};

fn question() -> SubmitInquiry {
    serde_json::from_value(serde_json::json!({ "content": "Is there parking?", "customer_phone": "+821012345678" })).unwrap()
}

fn intake(p: &TestPipeline) -> Intake {
    Intake::new(p.store.clone(), p.store.clone(), p.blobs.clone(), p.relay()).with_clock(p.clock.clone())
}

/// Everything in the outbox, whatever its age.
async fn pending(store: &dyn InquiryStore) -> Vec<(InquiryId, String)> {
    let later = Timestamp::now() + SignedDuration::from_hours(24 * 365 * 10);
    store.pending_events(later, 1000).await.unwrap().into_iter().map(|e| (e.inquiry_id, e.event.event_type)).collect()
}

#[tokio::test]
async fn a_submission_is_announced_at_once_and_leaves_nothing_in_the_outbox() {
    let p = TestPipeline::new().await;
    let accepted = intake(&p).submit(&TenantId::parse(TENANT).unwrap(), question(), None, Channel::Api).await.unwrap();
    let announced = p.take(Service::Classifier).await;
    assert_eq!(
        announced.iter().map(|e| (e.kind(), e.inquiry_id())).collect::<Vec<_>>(),
        [(Some(EventType::InquiryReceived), Some(accepted.inquiry.id))]
    );
    assert!(pending(p.store.as_ref()).await.is_empty(), "published and cleared");
}

#[tokio::test]
async fn an_announcement_a_crash_left_in_the_outbox_is_published_once_by_the_relay() {
    let p = TestPipeline::new().await;
    // What a crash between the commit and the publish leaves: the inquiry
    // stored with its announcement, nothing on any queue.
    let inquiry = switchboard_domain::fixtures::InquiryBuilder::new().created_at(p.clock.now(), 7).build();
    let event = switchboard_domain::TimelineEvent::once("status.received", "intake", inquiry.created_at, Value::Null);
    let received = switchboard_pipeline::received_event(&inquiry);
    p.store.create_inquiry(&inquiry, None, &event, std::slice::from_ref(&received)).await.unwrap();
    assert!(p.take(Service::Classifier).await.is_empty());

    let relay = p.relay();
    assert_eq!(relay.deliver_pending(inquiry.created_at).await.unwrap(), 0, "not older than the cutoff: its own call may still publish it");
    let later = inquiry.created_at + SignedDuration::from_secs(10);
    assert_eq!(relay.deliver_pending(later).await.unwrap(), 1);
    let announced = p.take(Service::Classifier).await;
    assert_eq!(announced.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [received.id.as_str()], "the intake's own event id");
    assert_eq!(relay.deliver_pending(later).await.unwrap(), 0, "cleared once published: never published twice");
    assert!(p.take(Service::Classifier).await.is_empty());
}

// ---------------------------------------------------------------------------
// The binary, killed between commit and publish

/// What the process was told to do on its first run: crash at the outbox
/// point; the sweeper kept out of the way, so only the outbox can save the
/// inquiry.
fn crashing() -> [(&'static str, &'static str); 2] {
    [(crash_point::VARIABLE, crash_point::BEFORE_PUBLISH), ("SWITCHBOARD_STUCK_AFTER_SECS", "86400")]
}

const NO_SWEEPER: [(&str, &str); 1] = [("SWITCHBOARD_STUCK_AFTER_SECS", "86400")];

const CUSTOMER: &str = "+12135550149";

/// The messages the embedded channels recorded for inquiry `id` to `to`, as ids.
fn sent_to(data_dir: &Path, id: &str, to: &str) -> Vec<String> {
    sent_messages(data_dir)
        .into_iter()
        .filter(|m| m["inquiry_id"] == id && m["to"] == to)
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `id`'s customer has been sent `n` messages; returns their ids.
async fn wait_sent(data_dir: &Path, id: &str, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let sent = sent_to(data_dir, id, CUSTOMER);
        if sent.len() >= n {
            // Give a duplicate the chance to show up before counting.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return sent_to(data_dir, id, CUSTOMER);
        }
        assert!(tokio::time::Instant::now() < deadline, "{id}: {} of {n} messages sent", sent.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The inquiries of the demo tenant and the outbox, read as another process would.
async fn stored(data_dir: &Path) -> (Vec<(String, InquiryStatus)>, Vec<(InquiryId, String)>) {
    let config = switchboard::Config { data_dir: data_dir.to_owned(), ..switchboard::Config::default() };
    let ports = switchboard::Ports::embedded(&config).await.unwrap();
    let inquiries = ports.store.list_by_tenant(&TenantId::parse("demo").unwrap(), &PageRequest::first(10)).await.unwrap().items;
    (inquiries.into_iter().map(|i| (i.id.to_string(), i.status)).collect(), pending(ports.store.as_ref()).await)
}

/// Submits the customer's FAQ question to the process at `base_url`.
async fn submit_question(http: &reqwest::Client, base_url: &str) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base_url}/api/inquiries"))
        .header("x-api-key", API_KEY)
        .json(&inquiry_body("What time is check-in?", CUSTOMER))
        .send()
        .await
}

fn notification(id: &str, status: InquiryStatus) -> String {
    deterministic_id(&format!("{id}/inquiry.{}/customer", status.as_str()))
}

#[tokio::test]
async fn a_submission_stored_by_a_process_killed_before_announcing_it_is_finished_after_the_restart_and_its_customer_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut first = Process::start(dir.path(), port, &crashing()).await;
    let http = reqwest::Client::new();
    let sent = submit_question(&http, &first.base_url).await;
    assert!(sent.is_err(), "the process died before answering: {sent:?}");
    let exit = first.wait_exit(PATIENCE).await.expect("the process crashed at the point");
    assert!(!exit.success(), "{exit:?}");

    let (inquiries, outbox) = stored(dir.path()).await;
    assert_eq!(inquiries.len(), 1, "the submission was stored before the crash");
    let (id, status) = inquiries[0].clone();
    assert_eq!(status, InquiryStatus::Received);
    assert_eq!(outbox, [(InquiryId::parse(&id).unwrap(), EventType::InquiryReceived.as_str().to_owned())], "with its announcement");

    // No client retries: the restarted process's relay announces it.
    let second = Process::start(dir.path(), port, &NO_SWEEPER).await;
    let sent = wait_sent(dir.path(), &id, 1).await;
    assert_eq!(sent, [notification(&id, InquiryStatus::Answered)], "answered, and told once");
    assert!(stored(dir.path()).await.1.is_empty(), "the outbox is empty once published");
    drop(second);
}

#[tokio::test]
async fn an_escalation_stored_by_a_process_killed_before_announcing_it_reaches_the_customer_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let http = reqwest::Client::new();
    let mut first = Process::start(dir.path(), port, &NO_SWEEPER).await;
    let accepted: Value = submit_question(&http, &first.base_url).await.unwrap().json().await.unwrap();
    let id = accepted["inquiry_id"].as_str().unwrap().to_owned();
    assert_eq!(wait_sent(dir.path(), &id, 1).await, [notification(&id, InquiryStatus::Answered)]);
    first.kill();

    let mut crashing_run = Process::start(dir.path(), port, &crashing()).await;
    let escalated = http
        .post(format!("{}/api/inquiries/{id}/escalate", crashing_run.base_url))
        .header("x-api-key", API_KEY)
        .json(&serde_json::json!({ "reason": "the customer asked for a person" }))
        .send()
        .await;
    assert!(escalated.is_err(), "the process died before answering: {escalated:?}");
    assert!(!crashing_run.wait_exit(PATIENCE).await.expect("the process crashed at the point").success());
    let (inquiries, outbox) = stored(dir.path()).await;
    assert_eq!(inquiries, [(id.clone(), InquiryStatus::Escalated)]);
    assert_eq!(outbox, [(InquiryId::parse(&id).unwrap(), EventType::InquiryEscalated.as_str().to_owned())]);

    let second = Process::start(dir.path(), port, &NO_SWEEPER).await;
    let sent = wait_sent(dir.path(), &id, 2).await;
    assert_eq!(sent, [notification(&id, InquiryStatus::Answered), notification(&id, InquiryStatus::Escalated)], "each told once");
    drop(second);
}
