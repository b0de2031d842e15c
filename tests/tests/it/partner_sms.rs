//! The partner's SMS: its retry policy (two retries, then `failed`,
//! and the customer is told) and exactly one text per dispatch however
//! often the work is redelivered.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::partner::{CUSTOMER_PHONE, PARTNER_PHONE, change_request, partner_sms, partner_steps};
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use switchboard_channels::{ChannelError, Delivery, SmsMessage, SmsSender};
use switchboard_domain::{CloudEvent, EventType, InquiryId, TenantId};
use switchboard_messaging::events;
use switchboard_tests::{Options, PATIENCE, TestApp, token_in};

/// How the SMS gateway misbehaves for the partner's number.
#[derive(Clone, Copy)]
enum Fault {
    /// Every send fails (the gateway is down).
    Down,
    /// The first send goes out but its success is lost (a timeout after delivery).
    LosesFirstAck,
}

/// Wraps the real sender; counts and misbehaves on texts to the partner only,
/// so the customer's notifications go through.
struct FaultySms {
    inner: Arc<dyn SmsSender>,
    fault: Fault,
    partner_calls: AtomicU32,
}

#[async_trait]
impl SmsSender for FaultySms {
    async fn send_sms(&self, message: &SmsMessage) -> Result<Delivery, ChannelError> {
        if message.to.as_str() != PARTNER_PHONE {
            return self.inner.send_sms(message).await;
        }
        let call = self.partner_calls.fetch_add(1, Ordering::SeqCst) + 1;
        match self.fault {
            Fault::Down => Err(ChannelError::Unavailable("test: the SMS gateway is down".into())),
            Fault::LosesFirstAck => {
                let delivery = self.inner.send_sms(message).await?;
                if call == 1 { Err(ChannelError::Unavailable("test: timed out waiting for the gateway".into())) } else { Ok(delivery) }
            }
        }
    }
}

async fn spawn_faulty(fault: Fault) -> (TestApp, Arc<FaultySms>) {
    let mut faulty = None;
    let app = TestApp::spawn_with_ports(Options { max_receives: 5, ..Options::default() }, |ports| {
        let sms = Arc::new(FaultySms { inner: ports.sms.clone(), fault, partner_calls: AtomicU32::new(0) });
        ports.sms = sms.clone();
        faulty = Some(sms);
    })
    .await;
    (app, faulty.expect("ports adapted"))
}

/// Polls until `calls` reaches `n`; panics after [`PATIENCE`].
async fn wait_for_calls(sms: &FaultySms, n: u32) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while sms.partner_calls.load(Ordering::SeqCst) < n {
        assert!(tokio::time::Instant::now() < deadline, "only {} sends", sms.partner_calls.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_sms_that_cannot_be_sent_is_tried_three_times_then_the_inquiry_fails_and_the_customer_is_told() {
    // Other services keep SWITCHBOARD_MAX_RECEIVES (5 here); the dispatcher stops at 3.
    let (app, sms) = spawn_faulty(Fault::Down).await;
    let id = app.submit_ok(&change_request()).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "failed");
    let reason = inquiry["status_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("after 3 attempts") && reason.contains("SMS could not be sent"), "{reason}");
    assert!(!reason.contains(PARTNER_PHONE), "the reason names no phone number: {reason}");
    assert_eq!(sms.partner_calls.load(Ordering::SeqCst), 3, "one try and two retries");

    let sent = app.notified(&id).await;
    assert!(sent.iter().all(|m| m.to != PARTNER_PHONE), "nothing reached the partner");
    let to_customer: Vec<_> = sent.iter().filter(|m| m.to == CUSTOMER_PHONE).collect();
    assert_eq!(to_customer.len(), 1, "the customer is told once: {sent:?}");
    assert!(to_customer[0].body.contains("죄송합니다"), "{}", to_customer[0].body);
    assert_eq!(partner_steps(&inquiry), ["Created", "Failed"]);
    app.stop().await;
}

#[tokio::test]
async fn an_sms_whose_success_was_lost_is_retried_but_reaches_the_partner_once() {
    let (app, sms) = spawn_faulty(Fault::LosesFirstAck).await;
    let id = app.submit_ok(&change_request()).await;
    app.wait_for(&id, |s| s == "awaiting_partner").await;
    assert_eq!(sms.partner_calls.load(Ordering::SeqCst), 2, "the dispatch was redelivered once");
    let token = token_in(&partner_sms(&app, &id).await);

    let inquiry = app.inquiry(&id).await;
    let sms_events = inquiry["timeline"].as_array().unwrap().iter().filter(|e| e["kind"] == "partner.sms_sent").count();
    assert_eq!(sms_events, 1);
    let answered =
        app.http.post(app.url("/respond")).json(&serde_json::json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(answered.status(), 200, "the one link sent is the one that works");
    app.stop().await;
}

#[tokio::test]
async fn a_duplicated_dispatch_message_sends_no_second_sms_and_one_answer_still_settles_it() {
    let (app, sms) = spawn_faulty(Fault::LosesFirstAck).await;
    let id = app.submit_ok(&change_request()).await;
    let first = app.wait_for(&id, |s| s == "awaiting_partner").await;
    wait_for_calls(&sms, 2).await;

    // At-least-once delivery: the classifier's event arrives again, as SNS
    // or SQS may deliver it (same deterministic event id).
    let inquiry_id = InquiryId::parse(&id).unwrap();
    let tenant = TenantId::parse("demo").unwrap();
    let classified = CloudEvent::for_inquiry(
        EventType::InquiryClassified,
        inquiry_id,
        &tenant,
        "1",
        "switchboard/classifier",
        jiff::Timestamp::now(),
        first["classification"].clone(),
    )
    .with_needs_partner(true);
    for _ in 0..2 {
        app.ports.topic.publish(&[events::publication(&classified)]).await.unwrap();
    }
    wait_for_calls(&sms, 4).await;

    let to_partner: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == PARTNER_PHONE).collect();
    assert_eq!(to_partner.len(), 1, "one text per dispatch: {to_partner:?}");
    let token = token_in(&to_partner[0].body);
    let answered =
        app.http.post(app.url("/respond")).json(&serde_json::json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(answered.status(), 200);
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered");
    let to_customer = app.notified(&id).await.into_iter().filter(|m| m.to == CUSTOMER_PHONE).count();
    assert_eq!(to_customer, 1);
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "partner.sms_sent").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "partner.responded").count(), 1, "{kinds:?}");
    app.stop().await;
}
