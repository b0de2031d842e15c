//! One conformance suite for both messaging backends: the same property
//! functions run against the embedded broker (SQLite) and against SQS/SNS
//! (the local emulator, moto), so services can rely on the same semantics
//! whichever backend the composition root picks.
//!
//! Each property is one `async fn` taking a freshly provisioned [`Fixture`];
//! the `conformance!` macro turns each into `on_embedded::<property>` and
//! `on_aws::<property>` tests. Timings are short (SQS counts whole seconds)
//! and nothing asserts on elapsed time: waits are bounded polls, and a
//! check that something is still hidden counts only when it came back
//! while its delay or visibility timeout had surely not run out; the
//! property fails if no check did.
//!
//! Where moto differs from AWS the property says so; the adapters follow
//! AWS's documented behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::{CloudEvent, EventType, InquiryId, Service, TenantId};
use switchboard_messaging::sns::{SnsTopic, ensure_subscription, ensure_topic};
use switchboard_messaging::sqlite::SqliteBroker;
use switchboard_messaging::sqs::{SqsQueue, ensure_queue};
use switchboard_messaging::{
    Attributes, FAILURE_REASON_ATTRIBUTE, MessagingError, OutgoingMessage, Queue, QueueStats, ReceiveOptions, ReceivedMessage, Topic,
    events,
};
use switchboard_sqlite::{Database, Durability};
use switchboard_tests::emulator::{emulator, unique_prefix};
use tokio::time::Instant;

/// A message is dead-lettered on the receive after this many.
const MAX_RECEIVES: u32 = 3;
/// The queues' default visibility timeout.
const DEFAULT_VISIBILITY: Duration = Duration::from_secs(2);
/// Long enough that a message received with it cannot come back by
/// itself within [`PATIENCE`]: only an explicit release brings it back.
const HOLD: Duration = Duration::from_secs(60);
/// How long a test waits for something before it gives up (a bound on
/// waiting, not a speed claim).
const PATIENCE: Duration = Duration::from_secs(20);

/// Which backend a fixture stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Embedded,
    Aws,
}

/// One provisioned set of messaging resources under a unique prefix: a
/// queue and dead-letter queue per service, and the events topic with the
/// real routing table's subscriptions.
struct Fixture {
    backend: Backend,
    /// The queue most properties exercise: intake's, which the topic never
    /// delivers to, so publications of other tests cannot disturb it.
    queue: Arc<dyn Queue>,
    /// `queue`'s dead-letter queue.
    dead_letters: Arc<dyn Queue>,
    /// Every service's queue.
    services: BTreeMap<Service, Arc<dyn Queue>>,
    topic: Arc<dyn Topic>,
    /// Keeps the embedded database's directory alive.
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    async fn provision(self, test: &str) -> Fixture {
        let prefix = unique_prefix(test);
        let mut services = BTreeMap::new();
        let mut dead_letter_queues = BTreeMap::new();
        let (topic, dir): (Arc<dyn Topic>, _) = match self {
            Backend::Embedded => {
                let dir = tempfile::tempdir().expect("temp dir");
                let db = Database::open(&dir.path().join("broker.db"), Durability::Normal).expect("database opens");
                let broker = SqliteBroker::open(db).await.expect("broker opens");
                let mut subscriptions = Vec::new();
                for service in Service::ALL {
                    let (name, dlq) = (service.queue_name(&prefix), service.dead_letter_queue_name(&prefix));
                    let queue = broker.create_queue(&name, Some(&dlq), MAX_RECEIVES).await.expect("queue created");
                    services.insert(service, Arc::new(queue) as Arc<dyn Queue>);
                    dead_letter_queues.insert(service, Arc::new(broker.queue(&dlq, None)) as Arc<dyn Queue>);
                    if let Some(policy) = service.subscription() {
                        subscriptions.push((name, policy));
                    }
                }
                (Arc::new(broker.topic(subscriptions)), Some(dir))
            }
            Backend::Aws => {
                let config = emulator().sdk_config().await;
                let (sqs, sns) = (aws_sdk_sqs::Client::new(&config), aws_sdk_sns::Client::new(&config));
                let (topic_arn, _) = ensure_topic(&sns, &format!("{prefix}-events")).await.expect("topic ensured");
                for service in Service::ALL {
                    let dlq_name = service.dead_letter_queue_name(&prefix);
                    let ensured = ensure_queue(&sqs, &service.queue_name(&prefix), Some((&dlq_name, MAX_RECEIVES)), DEFAULT_VISIBILITY)
                        .await
                        .expect("queue ensured");
                    if let Some(policy) = service.subscription() {
                        ensure_subscription(&sns, &sqs, &topic_arn, &ensured, &policy).await.expect("subscription ensured");
                    }
                    let dlq_url = ensured.dead_letter_url.clone().expect("a dead-letter queue");
                    dead_letter_queues.insert(service, Arc::new(SqsQueue::new(sqs.clone(), dlq_name, dlq_url, None)) as Arc<dyn Queue>);
                    services.insert(service, Arc::new(ensured.queue(sqs.clone())) as Arc<dyn Queue>);
                }
                (Arc::new(SnsTopic::new(sns, topic_arn)), None)
            }
        };
        Fixture {
            backend: self,
            queue: services[&Service::Intake].clone(),
            dead_letters: dead_letter_queues[&Service::Intake].clone(),
            services,
            topic,
            _dir: dir,
        }
    }
}

/// Generates `on_embedded::<property>` and `on_aws::<property>` for each property.
macro_rules! conformance {
    ($($property:ident),* $(,)?) => {
        mod on_embedded {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::Backend::Embedded.provision(stringify!($property)).await).await;
                }
            )*
        }
        mod on_aws {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::Backend::Aws.provision(stringify!($property)).await).await;
                }
            )*
        }
    };
}

conformance!(
    a_received_message_is_hidden_for_its_visibility_timeout_then_redelivered,
    only_the_newest_receipt_deletes,
    a_message_received_max_receives_times_moves_to_the_dead_letter_queue,
    dead_lettering_moves_the_message_with_its_reason,
    a_delayed_message_stays_hidden_for_its_delay,
    a_delayed_message_has_waited_only_since_its_delay_ended,
    a_batch_delete_reports_exactly_the_entries_that_failed,
    publications_reach_exactly_the_queues_whose_filter_policy_matches,
    releasing_a_message_makes_it_visible_at_once,
    stats_count_visible_in_flight_delayed_and_dead_lettered,
);

fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn options(max_messages: usize, wait: Duration, visibility: Duration) -> ReceiveOptions {
    ReceiveOptions { max_messages, wait, visibility }
}

/// Receives one message, polling until one arrives; panics after [`PATIENCE`].
async fn receive_one(queue: &dyn Queue, visibility: Duration) -> ReceivedMessage {
    receive_n(queue, 1, visibility).await.remove(0)
}

/// Receives exactly `n` messages, polling until they are all in hand;
/// panics after [`PATIENCE`]. (SQS may return fewer than asked per call.)
async fn receive_n(queue: &dyn Queue, n: usize, visibility: Duration) -> Vec<ReceivedMessage> {
    let deadline = Instant::now() + PATIENCE;
    let mut got = Vec::new();
    while got.len() < n {
        assert!(Instant::now() < deadline, "{}: only {} of {n} messages arrived", queue.name(), got.len());
        let batch = queue.receive(options(n - got.len(), Duration::from_secs(1), visibility)).await.expect("receive");
        got.extend(batch);
    }
    got
}

/// Polls `queue`'s stats until `done` holds; panics after [`PATIENCE`]
/// (SQS's counts are approximate and may lag).
async fn stats_until(queue: &dyn Queue, what: &str, done: impl Fn(&QueueStats) -> bool) -> QueueStats {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stats = queue.stats().await.expect("stats");
        if done(&stats) {
            return stats;
        }
        assert!(Instant::now() < deadline, "{}: never {what}; last stats {stats:?}", queue.name());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts that a message hidden at `since` (taken just before the call
/// that hid it, so the message is hidden at least until `since + window`)
/// stays hidden: receives and stats are checked again and again during the
/// first half of `window`, and each check that came back within `window`
/// must find nothing visible and the counts `counted` picks from the
/// stats equal to `expected`.
/// Fails when not one check came back in time, so the property is never
/// skipped on a slow machine. A late receive that took the message
/// releases it; returns how many did (each counts as a receive).
async fn assert_stays_hidden(
    queue: &dyn Queue,
    since: Instant,
    window: Duration,
    counted: fn(&QueueStats) -> (u64, u64),
    expected: (u64, u64),
) -> u32 {
    let (mut checks, mut late_receives) = (0, 0);
    while since.elapsed() < window / 2 {
        let got = queue.receive(options(10, Duration::ZERO, HOLD)).await.expect("receive");
        let stats = queue.stats().await.expect("stats");
        if since.elapsed() < window {
            assert!(got.is_empty(), "visible {:?} into a {window:?} hiding: {got:?}", since.elapsed());
            assert_eq!(counted(&stats), expected, "{stats:?}");
            checks += 1;
        } else {
            for m in &got {
                queue.change_visibility(&m.receipt, Duration::ZERO).await.expect("release");
                late_receives += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(checks > 0, "no check came back within {window:?}, so the hiding was never checked");
    late_receives
}

async fn a_received_message_is_hidden_for_its_visibility_timeout_then_redelivered(f: Fixture) {
    let sent = attributes(&[("event_type", "inquiry.submitted"), ("tenant_id", "demo")]);
    f.queue.send(OutgoingMessage::new("hello", sent.clone())).await.expect("send");
    let visibility = Duration::from_secs(4);
    let before_receive = Instant::now();
    let first = receive_one(f.queue.as_ref(), visibility).await;
    assert_eq!((first.body.as_str(), &first.attributes, first.receive_count), ("hello", &sent, 1));

    let late_receives = assert_stays_hidden(f.queue.as_ref(), before_receive, visibility, |s| (s.visible, s.in_flight), (0, 1)).await;

    let again = receive_one(f.queue.as_ref(), HOLD).await;
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.body, "hello");
    assert_eq!(again.receive_count, 2 + late_receives);
    assert_ne!(again.receipt, first.receipt, "every receive hands out a new receipt");
    assert!(f.queue.delete_batch(&[again.receipt]).await.expect("delete").is_empty());
}

async fn only_the_newest_receipt_deletes(f: Fixture) {
    f.queue.send(OutgoingMessage::new("x", Attributes::new())).await.expect("send");
    let first = receive_one(f.queue.as_ref(), HOLD).await;
    f.queue.change_visibility(&first.receipt, Duration::ZERO).await.expect("release");
    let second = receive_one(f.queue.as_ref(), HOLD).await;
    assert_ne!(first.receipt, second.receipt);

    let stale = f.queue.delete_batch(std::slice::from_ref(&first.receipt)).await.expect("delete");
    match f.backend {
        Backend::Embedded => {
            assert_eq!(stale.iter().map(|b| &b.receipt).collect::<Vec<_>>(), [&first.receipt]);
            let stats = f.queue.stats().await.expect("stats");
            assert_eq!(stats.in_flight, 1, "a stale receipt deleted the message");
        }
        // SQS documents that a delete with an earlier receipt "succeeds, but
        // the message will not be deleted", and moto deletes the message
        // with any receipt it ever had; neither reports the stale receipt,
        // so the report is the embedded backend's guarantee only. The
        // adapter passes on whatever SQS lists as failed.
        Backend::Aws => {}
    }

    let newest = f.queue.delete_batch(std::slice::from_ref(&second.receipt)).await.expect("delete");
    assert!(newest.is_empty(), "the newest receipt must delete: {newest:?}");
    stats_until(f.queue.as_ref(), "empty", |s| s.visible == 0 && s.in_flight == 0).await;
}

async fn a_message_received_max_receives_times_moves_to_the_dead_letter_queue(f: Fixture) {
    f.queue.send(OutgoingMessage::new("poison", attributes(&[("event_type", "inquiry.submitted")]))).await.expect("send");
    for attempt in 1..=MAX_RECEIVES {
        let m = receive_one(f.queue.as_ref(), HOLD).await;
        assert_eq!(m.receive_count, attempt);
        // Released instead of waiting out the visibility timeout.
        f.queue.change_visibility(&m.receipt, Duration::ZERO).await.expect("release");
    }
    // The next receive finds the limit reached and moves the message.
    let after_limit = f.queue.receive(options(10, Duration::from_secs(1), HOLD)).await.expect("receive");
    assert!(after_limit.is_empty(), "received past the redrive limit: {after_limit:?}");

    let dead = receive_one(f.dead_letters.as_ref(), HOLD).await;
    assert_eq!(dead.body, "poison");
    assert_eq!(dead.attributes["event_type"], "inquiry.submitted");
    // Not asserted: the embedded broker adds a failure_reason on redrive,
    // SQS does not; AWS adds the DeadLetterQueueSourceArn system attribute,
    // which moto omits (and the port does not expose).
    stats_until(f.queue.as_ref(), "dead-lettered by redrive", |s| s.visible == 0 && s.dead_lettered == 1).await;
}

async fn dead_lettering_moves_the_message_with_its_reason(f: Fixture) {
    let sent = attributes(&[("event_type", "inquiry.submitted"), ("tenant_id", "demo")]);
    f.queue.send(OutgoingMessage::new("{not json", sent.clone())).await.expect("send");
    let m = receive_one(f.queue.as_ref(), HOLD).await;
    f.queue.dead_letter(&m, "not a CloudEvent").await.expect("dead-letter");

    let dead = receive_one(f.dead_letters.as_ref(), HOLD).await;
    assert_eq!(dead.body, "{not json");
    let mut expected = sent;
    expected.insert(FAILURE_REASON_ATTRIBUTE.into(), "not a CloudEvent".into());
    assert_eq!(dead.attributes, expected);
    stats_until(f.queue.as_ref(), "moved to the dead-letter queue", |s| s.visible == 0 && s.in_flight == 0 && s.dead_lettered == 1).await;
}

async fn a_delayed_message_stays_hidden_for_its_delay(f: Fixture) {
    let delay = Duration::from_secs(4);
    let before_send = Instant::now();
    f.queue.send(OutgoingMessage::new("later", Attributes::new()).delayed(delay)).await.expect("send");
    let late_receives = assert_stays_hidden(f.queue.as_ref(), before_send, delay, |s| (s.visible, s.delayed), (0, 1)).await;
    let m = receive_one(f.queue.as_ref(), HOLD).await;
    assert_eq!((m.body.as_str(), m.receive_count), ("later", 1 + late_receives));
}

/// The backlog's age (what load shedding reads) counts from when a message
/// could first be received: a partner's deadline message that has just come
/// due has not been waiting for the whole deadline.
async fn a_delayed_message_has_waited_only_since_its_delay_ended(f: Fixture) {
    let delay = Duration::from_secs(2);
    let before_send = Instant::now();
    f.queue.send(OutgoingMessage::new("due", Attributes::new()).delayed(delay)).await.expect("send");
    let stats = stats_until(f.queue.as_ref(), "due", |s| s.visible == 1).await;
    // SQS reports no age; where one is reported it is bounded by the time
    // since the delay ended (1 ms for the store's millisecond clock).
    if let Some(age) = stats.oldest_age {
        let since_due = before_send.elapsed().saturating_sub(delay) + Duration::from_millis(1);
        assert!(age <= since_due, "waited {age:?}, but it has been due for at most {since_due:?}");
    }
}

async fn a_batch_delete_reports_exactly_the_entries_that_failed(f: Fixture) {
    for body in ["a", "b"] {
        f.queue.send(OutgoingMessage::new(body, Attributes::new())).await.expect("send");
    }
    let got = receive_n(f.queue.as_ref(), 2, HOLD).await;
    let bogus = "not-a-receipt-handle".to_owned();
    let failures = f.queue.delete_batch(&[got[0].receipt.clone(), bogus.clone(), got[1].receipt.clone()]).await.expect("delete");
    assert_eq!(failures.iter().map(|b| &b.receipt).collect::<Vec<_>>(), [&bogus], "{failures:?}");
    assert!(!failures[0].reason.is_empty());
    stats_until(f.queue.as_ref(), "empty", |s| s.visible == 0 && s.in_flight == 0).await;
}

async fn publications_reach_exactly_the_queues_whose_filter_policy_matches(f: Fixture) {
    let tenant = TenantId::parse("demo").expect("tenant id");
    let inquiry = InquiryId::parse("0190f5e2-7c3a-7b1e-8a4d-0123456789ab").expect("inquiry id");
    let now = jiff::Timestamp::now();
    // Every event type with the routing attributes its producer sets:
    // intake says whether there are attachments, the classifier whether a
    // partner is needed.
    let mut published = Vec::new();
    for event_type in EventType::ALL {
        let event = |step: &str| CloudEvent::for_inquiry(event_type, inquiry, &tenant, step, "conformance", now, serde_json::Value::Null);
        match event_type {
            EventType::InquiryReceived => {
                published.push(event("with-attachments").with_has_attachments(true));
                published.push(event("without-attachments").with_has_attachments(false));
            }
            EventType::InquiryClassified => {
                published.push(event("partner").with_needs_partner(true));
                published.push(event("direct").with_needs_partner(false));
            }
            _ => published.push(event("1")),
        }
    }
    let mut expected: BTreeMap<Service, BTreeSet<String>> = Service::ALL.into_iter().map(|s| (s, BTreeSet::new())).collect();
    for event in &published {
        for service in Service::ALL {
            if service.subscription().is_some_and(|p| p.matches(&event.routing_attributes())) {
                expected.entry(service).or_default().insert(event.id.clone());
            }
        }
    }
    // The table routes something to every service but intake.
    assert!(Service::ALL.iter().all(|s| (*s == Service::Intake) == expected[s].is_empty()), "{expected:?}");

    let publications: Vec<_> = published.iter().map(events::publication).collect();
    f.topic.publish(&publications).await.expect("publish");

    let mut received: BTreeMap<Service, BTreeSet<String>> = BTreeMap::new();
    for (service, queue) in &f.services {
        let want = expected[service].len();
        let mut ids = BTreeSet::new();
        if want > 0 {
            for m in receive_n(queue.as_ref(), want, HOLD).await {
                let event = events::parse(&m).expect("a CloudEvent body");
                assert_eq!(m.attributes, event.routing_attributes(), "routing attributes travel as message attributes");
                ids.insert(event.id);
            }
        }
        // Anything beyond the expected would show up now: SNS delivers to
        // every matching queue when it accepts the publication on the
        // emulator, and within this wait on AWS.
        let extra = queue.receive(options(10, Duration::from_secs(1), HOLD)).await.expect("receive");
        ids.extend(extra.iter().map(|m| events::parse(m).map(|e| e.id).unwrap_or_else(|_| m.body.clone())));
        received.insert(*service, ids);
    }
    assert_eq!(received, expected);
}

async fn releasing_a_message_makes_it_visible_at_once(f: Fixture) {
    f.queue.send(OutgoingMessage::new("x", Attributes::new())).await.expect("send");
    let m = receive_one(f.queue.as_ref(), HOLD).await;
    f.queue.change_visibility(&m.receipt, Duration::ZERO).await.expect("release");
    // Received with HOLD, it could only be back within PATIENCE by the release.
    let again = receive_one(f.queue.as_ref(), HOLD).await;
    assert_eq!((again.message_id.as_str(), again.receive_count), (m.message_id.as_str(), 2));

    assert!(f.queue.delete_batch(std::slice::from_ref(&again.receipt)).await.expect("delete").is_empty());
    let after_delete = f.queue.change_visibility(&again.receipt, Duration::ZERO).await;
    assert!(matches!(after_delete, Err(MessagingError::StaleReceipt)), "{after_delete:?}");
}

async fn stats_count_visible_in_flight_delayed_and_dead_lettered(f: Fixture) {
    for body in ["s1", "s2", "s3"] {
        f.queue.send(OutgoingMessage::new(body, Attributes::new())).await.expect("send");
    }
    // Delayed far past the end of the test.
    f.queue.send(OutgoingMessage::new("s4", Attributes::new()).delayed(Duration::from_secs(600))).await.expect("send");
    let held = receive_n(f.queue.as_ref(), 2, HOLD).await;
    f.queue.dead_letter(&held[0], "counted").await.expect("dead-letter");
    let stats = stats_until(f.queue.as_ref(), "counting 1 visible, 1 in flight, 1 delayed, 1 dead-lettered", |s| {
        (s.visible, s.in_flight, s.delayed, s.dead_lettered) == (1, 1, 1, 1)
    })
    .await;
    // SQS exposes the oldest message's age only in CloudWatch.
    if f.backend == Backend::Aws {
        assert_eq!(stats.oldest_age, None);
    }
}

/// Provisioning is idempotent: a second run finds everything in place and
/// reports no change; a changed setting is reported and applied once.
#[tokio::test]
async fn provisioning_twice_reports_no_change_on_aws() {
    let config = emulator().sdk_config().await;
    let (sqs, sns) = (aws_sdk_sqs::Client::new(&config), aws_sdk_sns::Client::new(&config));
    let prefix = unique_prefix("provisioning");
    let (name, dlq) = (Service::Responder.queue_name(&prefix), Service::Responder.dead_letter_queue_name(&prefix));
    let policy = Service::Responder.subscription().expect("the responder subscribes");
    let topic_name = format!("{prefix}-events");

    let first = ensure_queue(&sqs, &name, Some((&dlq, 5)), Duration::from_secs(30)).await.expect("queue");
    let (topic_arn, topic_created) = ensure_topic(&sns, &topic_name).await.expect("topic");
    let subscribed = ensure_subscription(&sns, &sqs, &topic_arn, &first, &policy).await.expect("subscription");
    assert!(first.changed && topic_created && subscribed);

    let second = ensure_queue(&sqs, &name, Some((&dlq, 5)), Duration::from_secs(30)).await.expect("queue");
    assert!(!second.changed, "an unchanged queue was reported changed");
    assert_eq!((&second.url, &second.arn, &second.dead_letter_url), (&first.url, &first.arn, &first.dead_letter_url));
    assert_eq!(ensure_topic(&sns, &topic_name).await.expect("topic"), (topic_arn.clone(), false));
    assert!(!ensure_subscription(&sns, &sqs, &topic_arn, &second, &policy).await.expect("subscription"));

    // A new redrive limit and visibility timeout are applied once.
    assert!(ensure_queue(&sqs, &name, Some((&dlq, 7)), Duration::from_secs(45)).await.expect("queue").changed);
    let third = ensure_queue(&sqs, &name, Some((&dlq, 7)), Duration::from_secs(45)).await.expect("queue");
    assert!(!third.changed);
    // A new filter policy is applied to the existing subscription once.
    let notifier = Service::Notifier.subscription().expect("the notifier subscribes");
    // The queue policy is re-checked too: moto drops a queue's Policy on any
    // SetQueueAttributes call that does not repeat it (AWS keeps it), so after
    // the change above the emulator may need it granted again.
    assert!(ensure_subscription(&sns, &sqs, &topic_arn, &third, &notifier).await.expect("subscription"));
    assert!(!ensure_subscription(&sns, &sqs, &topic_arn, &third, &notifier).await.expect("subscription"));
}

/// SQS carries X-Ray's header as the `AWSTraceHeader` system attribute, not
/// as a message attribute: the adapter reads it from there, and a message
/// it dead-letters keeps it. (The port sends no trace header of its own;
/// the SDK's X-Ray integration sets it, so the test sends with the SDK.)
#[tokio::test]
async fn the_xray_trace_header_is_read_from_the_system_attribute_and_kept_when_dead_lettering_on_aws() {
    use aws_sdk_sqs::types::{MessageSystemAttributeNameForSends, MessageSystemAttributeValue};
    let f = Backend::Aws.provision("traceheader").await;
    let config = emulator().sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = sqs.get_queue_url().queue_name(f.queue.name()).send().await.expect("queue url").queue_url.expect("a url");
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let value = MessageSystemAttributeValue::builder().data_type("String").string_value(header).build().expect("value");
    sqs.send_message()
        .queue_url(url)
        .message_body("traced")
        .message_system_attributes(MessageSystemAttributeNameForSends::AwsTraceHeader, value)
        .send()
        .await
        .expect("send");

    let m = receive_one(f.queue.as_ref(), HOLD).await;
    assert_eq!(m.trace_header.as_deref(), Some(header));
    assert!(m.attributes.is_empty(), "the trace header is no message attribute: {:?}", m.attributes);
    f.queue.dead_letter(&m, "traced failure").await.expect("dead-letter");
    let dead = receive_one(f.dead_letters.as_ref(), HOLD).await;
    assert_eq!(dead.trace_header.as_deref(), Some(header));
}
