//! The notifier's SLA clocks, on the embedded backends with a manual clock.

use super::*;
use jiff::{SignedDuration, Timestamp};
use switchboard_domain::customer_link::DEFAULT_CUSTOMER_LINK_VALIDITY;
use switchboard_domain::fixtures::{self, InquiryBuilder};
use switchboard_domain::token::TokenKeys;
use switchboard_domain::{Classification, Escalation, InquiryStatus, Intent, Service, SlaPolicyInput, SlaState, Tenant, Urgency};
use switchboard_pipeline::testing::{RecordingQueue, START, TestPipeline, delivery, tenant};
use switchboard_store::{InquiryStore, TenantStore};

const OPERATORS: &str = "ops@example.com";

struct Fixture {
    pipeline: TestPipeline,
    notifier: Notifier,
    own_queue: Arc<RecordingQueue>,
}

impl Fixture {
    /// A notifier keeping SLA clocks, its tenant held to `policy` (`None`: the default).
    async fn new(policy: Option<serde_json::Value>) -> Self {
        let pipeline = TestPipeline::new().await;
        if let Some(policy) = policy {
            let input: SlaPolicyInput = serde_json::from_value(policy).unwrap();
            pipeline.store.put_tenant(&Tenant { sla: Some(input.parse().unwrap()), ..tenant() }).await.unwrap();
        }
        let own_queue = RecordingQueue::new(pipeline.queue(Service::Notifier));
        let links = CustomerLinks::new(TokenKeys::new(vec![vec![3; 32]]).unwrap(), "https://sb.example/", DEFAULT_CUSTOMER_LINK_VALIDITY);
        let notifier = Notifier::new(
            pipeline.stage(Service::Notifier),
            pipeline.outbox.clone(),
            pipeline.outbox.clone(),
            EmailAddress::parse(OPERATORS).unwrap(),
            links,
        )
        .with_sla(SlaTimer { queue: own_queue.clone(), tenants: pipeline.store.clone() });
        Self { pipeline, notifier, own_queue }
    }

    fn at(&self, t: Timestamp) {
        self.pipeline.clock.set(t);
    }

    /// Stores an inquiry of `urgency` escalated at `escalated_at` and hands the notifier its `inquiry.escalated`.
    async fn escalate(&self, urgency: Urgency, escalated_at: Timestamp) -> Inquiry {
        let classification = Classification { urgency, ..fixtures::classification(Language::En, Intent::Complaint) };
        let mut inquiry = InquiryBuilder::new()
            .created_at(escalated_at, 7)
            .language(Language::En)
            .classification(classification)
            .status(InquiryStatus::Escalated)
            .build();
        inquiry.escalation = Some(Escalation { reason: "complaint".into(), customer_message: "A person will reply.".into() });
        self.pipeline.store_inquiry(&inquiry).await;
        self.at(escalated_at);
        let event = self.pipeline.stage(Service::Responder).event(EventType::InquiryEscalated, &inquiry, "1", json!({}));
        self.notifier.try_handle(&delivery(&event, 1)).await.unwrap();
        inquiry
    }

    /// Delivers the `n`-th message sent to the notifier's own queue.
    async fn deliver_sent(&self, n: usize) -> Result<(), Outcome> {
        let event: CloudEvent = serde_json::from_str(&self.own_queue.sent()[n].body).unwrap();
        self.notifier.try_handle(&delivery(&event, 1)).await
    }

    fn delays(&self) -> Vec<u64> {
        self.own_queue.sent().iter().map(|m| m.delay.as_secs()).collect()
    }

    async fn breach_mails(&self, inquiry: &Inquiry) -> usize {
        self.pipeline.outbox(inquiry.id).await.iter().filter(|m| m.to == OPERATORS && m.body.contains("first-response deadline")).count()
    }
}

fn office_week(high_secs: u32) -> serde_json::Value {
    json!({
        "first_response_secs": { "high": high_secs, "medium": 7200, "low": 86400 },
        "time_zone": "UTC",
        "business_hours": [{ "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "18:00" }]
    })
}

#[tokio::test]
async fn an_escalation_starts_its_clock_and_schedules_its_check() {
    let f = Fixture::new(None).await;
    let inquiry = f.escalate(Urgency::High, START).await;
    let sla = f.pipeline.inquiry(inquiry.id).await.sla.unwrap();
    assert_eq!((sla.state, sla.urgency, sla.started_at), (SlaState::Pending, Urgency::High, START));
    assert_eq!(sla.due_at, START + SignedDuration::from_hours(1), "the default: an hour for a high-urgency inquiry");
    assert_eq!(f.delays(), [15 * 60], "the first hop is the longest delay a queue allows");
    assert!(f.pipeline.timeline(inquiry.id).await.contains(&"sla.started".to_owned()));

    // A redelivered escalation keeps the clock it started.
    f.at(START + SignedDuration::from_mins(5));
    let event = f.pipeline.stage(Service::Responder).event(EventType::InquiryEscalated, &inquiry, "1", json!({}));
    f.notifier.try_handle(&delivery(&event, 2)).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.sla.unwrap(), sla);
}

#[tokio::test]
async fn a_long_target_is_re_delayed_in_hops_and_breached_once_due() {
    let f = Fixture::new(None).await;
    let inquiry = f.escalate(Urgency::High, START).await;
    for (n, minutes) in [(0, 15), (1, 30), (2, 45), (3, 60)] {
        f.at(START + SignedDuration::from_mins(minutes));
        f.deliver_sent(n).await.unwrap();
        assert_eq!(f.pipeline.inquiry(inquiry.id).await.sla.unwrap().state, SlaState::Pending, "not due at {minutes} minutes");
    }
    assert_eq!(f.delays(), [900, 900, 900, 900, 1], "each early delivery hops on; at the deadline it waits to be past it");
    f.at(START + SignedDuration::from_secs(3601));
    f.deliver_sent(4).await.unwrap();
    assert_eq!(f.own_queue.sent().len(), 5, "a check past its deadline does not hop again");
    let sla = f.pipeline.inquiry(inquiry.id).await.sla.unwrap();
    assert_eq!((sla.state, sla.breached_at), (SlaState::Breached, Some(START + SignedDuration::from_secs(3601))));
}

#[tokio::test]
async fn a_breached_inquiry_is_renotified_once_however_often_its_check_is_delivered() {
    let f = Fixture::new(Some(office_week(5))).await;
    let inquiry = f.escalate(Urgency::High, START).await;
    assert_eq!(f.breach_mails(&inquiry).await, 0);
    f.at(START + SignedDuration::from_secs(6));
    f.deliver_sent(0).await.unwrap();
    f.deliver_sent(0).await.unwrap();
    f.at(START + SignedDuration::from_secs(60));
    f.deliver_sent(0).await.unwrap();

    let stored = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(stored.sla.as_ref().map(|s| s.state), Some(SlaState::Breached));
    assert_eq!(stored.status, InquiryStatus::Escalated, "still with the operators");
    assert_eq!(f.breach_mails(&inquiry).await, 1, "re-notified exactly once");
    let timeline = f.pipeline.timeline(inquiry.id).await;
    assert_eq!(timeline.iter().filter(|k| *k == "sla.breached").count(), 1, "{timeline:?}");
    assert_eq!(timeline.iter().filter(|k| *k == "notification.operators.sla_breached").count(), 1, "{timeline:?}");
}

#[tokio::test]
async fn an_inquiry_a_person_answered_ends_its_check_quietly() {
    let f = Fixture::new(Some(office_week(5))).await;
    let inquiry = f.escalate(Urgency::High, START).await;
    let mut answered = f.pipeline.inquiry(inquiry.id).await;
    answered.status = InquiryStatus::Resolved;
    if let Some(sla) = answered.sla.as_mut() {
        sla.respond(START + SignedDuration::from_secs(2));
    }
    f.pipeline.store.update_inquiry(&answered, answered.version, None, &[]).await.unwrap();
    f.at(START + SignedDuration::from_secs(6));
    f.deliver_sent(0).await.unwrap();
    let sla = f.pipeline.inquiry(inquiry.id).await.sla.unwrap();
    assert_eq!(sla.state, SlaState::Met);
    assert_eq!(f.breach_mails(&inquiry).await, 0);
    assert!(!f.pipeline.timeline(inquiry.id).await.contains(&"sla.breached".to_owned()));
}

#[tokio::test]
async fn business_hours_are_respected() {
    let f = Fixture::new(Some(office_week(3600))).await;
    // START is Monday 2026-01-05 09:00 UTC; Friday 17:30 with an hour's target is due Monday 09:30.
    let friday = START + SignedDuration::from_hours(4 * 24 + 8) + SignedDuration::from_mins(30);
    let inquiry = f.escalate(Urgency::High, friday).await;
    let sla = f.pipeline.inquiry(inquiry.id).await.sla.unwrap();
    assert_eq!(sla.due_at, START + SignedDuration::from_hours(7 * 24) + SignedDuration::from_mins(30));

    // Saturday, an hour and more after the escalation: not breached, the check hops on.
    f.at(friday + SignedDuration::from_hours(20));
    f.deliver_sent(0).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.sla.unwrap().state, SlaState::Pending);
    assert_eq!(f.own_queue.sent().len(), 2, "hopped on");
    assert_eq!(f.breach_mails(&inquiry).await, 0);
}

#[tokio::test]
async fn a_follow_up_for_the_operators_starts_no_new_clock() {
    let f = Fixture::new(None).await;
    let inquiry = f.escalate(Urgency::Low, START).await;
    let first = f.pipeline.inquiry(inquiry.id).await.sla.unwrap();
    f.at(START + SignedDuration::from_mins(10));
    let data = json!({ "follow_up": 2, "operators_only": true });
    let event = f.pipeline.stage(Service::Classifier).event(EventType::InquiryEscalated, &inquiry, "follow-up-2", data);
    f.notifier.try_handle(&delivery(&event, 1)).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.sla.unwrap(), first);
    assert_eq!(f.own_queue.sent().len(), 1);
}

#[tokio::test]
async fn two_workers_delivered_the_same_due_check_at_once_breach_and_tell_once() {
    let f = Fixture::new(Some(office_week(5))).await;
    let inquiry = f.escalate(Urgency::High, START).await;
    f.at(START + SignedDuration::from_secs(6));
    let (a, b) = tokio::join!(f.deliver_sent(0), f.deliver_sent(0));
    a.unwrap();
    b.unwrap();
    assert_eq!(f.breach_mails(&inquiry).await, 1);
    let timeline = f.pipeline.timeline(inquiry.id).await;
    assert_eq!(timeline.iter().filter(|k| *k == "sla.breached").count(), 1, "{timeline:?}");
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.sla.unwrap().state, SlaState::Breached);
}
