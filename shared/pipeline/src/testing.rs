//! A pipeline on the embedded backends and a [`ManualClock`], for
//! handler-level tests of the services (feature `testing`): the store,
//! broker and outbox the embedded mode runs on, in a temporary directory,
//! with a queue per service subscribed to the topic by the routing table,
//! so a test can see where a stage's events go.
#![allow(clippy::expect_used, reason = "test support: a harness that cannot be set up fails the test")]

use crate::{ManualClock, Relay, Stage};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::sqlite::{OutboxEntry, SqliteOutbox};
use switchboard_domain::{CloudEvent, Inquiry, InquiryId, Service, Tenant, TenantId, TimelineEvent};
use switchboard_messaging::sqlite::{SqliteBroker, SqliteQueue};
use switchboard_messaging::{Attributes, Queue, ReceiveOptions, ReceivedMessage, Topic};
use switchboard_sqlite::{Database, Durability};
use switchboard_store::blob::FilesystemBlobs;
use switchboard_store::sqlite::SqliteStore;
use switchboard_store::{InquiryStore, TenantStore};

/// Where the tests' clock starts: 2026-01-05T09:00:00Z.
pub const START: Timestamp = Timestamp::constant(1_767_603_600, 0);

/// The tenant [`TestPipeline::new`] stores: the one inquiries of
/// `switchboard_domain::fixtures::InquiryBuilder` belong to.
pub const TENANT: &str = "demo";

/// The embedded backends of one test.
pub struct TestPipeline {
    pub store: Arc<SqliteStore>,
    pub outbox: Arc<SqliteOutbox>,
    pub blobs: Arc<FilesystemBlobs>,
    pub topic: Arc<dyn Topic>,
    /// Starts at [`START`]; the stages of [`Self::stage`] act by it.
    pub clock: Arc<ManualClock>,
    queues: BTreeMap<Service, SqliteQueue>,
    _dir: tempfile::TempDir,
}

impl TestPipeline {
    /// Fresh backends with the tenant [`TENANT`] stored.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = Database::open(&dir.path().join("test.db"), Durability::Normal).expect("database opens");
        let store = Arc::new(SqliteStore::open(db.clone()).await.expect("store opens"));
        let outbox = Arc::new(SqliteOutbox::open(db.clone()).await.expect("outbox opens"));
        let broker = SqliteBroker::open(db).await.expect("broker opens");
        let mut queues = BTreeMap::new();
        let mut subscriptions = Vec::new();
        for service in Service::ALL {
            let name = service.queue_name("test");
            let queue = broker.create_queue(&name, Some(&service.dead_letter_queue_name("test")), 10).await.expect("queue created");
            queues.insert(service, queue);
            if let Some(policy) = service.subscription() {
                subscriptions.push((name, policy));
            }
        }
        let topic = Arc::new(broker.topic(subscriptions));
        let blobs = Arc::new(FilesystemBlobs::new(&dir.path().join("blobs")));
        let pipeline = Self { store, outbox, blobs, topic, clock: Arc::new(ManualClock::new(START)), queues, _dir: dir };
        pipeline.store.put_tenant(&tenant()).await.expect("tenant stored");
        pipeline
    }

    /// The stage of `service`, on these backends and this clock.
    pub fn stage(&self, service: Service) -> Stage {
        Stage::new(service, self.store.clone(), self.topic.clone()).with_clock(self.clock.clone())
    }

    /// A relay from this store's outbox to the topic.
    pub fn relay(&self) -> Relay {
        Relay::new(self.store.clone(), self.topic.clone())
    }

    /// The queue of `service`.
    pub fn queue(&self, service: Service) -> Arc<dyn Queue> {
        Arc::new(self.queues[&service].clone())
    }

    /// Stores `inquiry` as it is, with a first timeline event.
    pub async fn store_inquiry(&self, inquiry: &Inquiry) {
        let event = TimelineEvent::once("status.received", "test", inquiry.created_at, serde_json::json!({}));
        self.store.create_inquiry(inquiry, None, &event, &[]).await.expect("inquiry stored");
    }

    /// The inquiry as stored now.
    pub async fn inquiry(&self, id: InquiryId) -> Inquiry {
        self.store.get_inquiry(id).await.expect("store answers").expect("inquiry exists")
    }

    /// The kinds of the inquiry's timeline events, oldest first.
    pub async fn timeline(&self, id: InquiryId) -> Vec<String> {
        self.store.timeline(id).await.expect("store answers").into_iter().map(|e| e.kind).collect()
    }

    /// The messages recorded in the outbox for the inquiry.
    pub async fn outbox(&self, id: InquiryId) -> Vec<OutboxEntry> {
        self.outbox.entries(Some(id.to_string())).await.expect("outbox answers")
    }

    /// Takes the events waiting on `service`'s queue (what the topic routed
    /// there), oldest first.
    pub async fn take(&self, service: Service) -> Vec<CloudEvent> {
        let queue = &self.queues[&service];
        let options = ReceiveOptions { max_messages: 10, wait: Duration::ZERO, visibility: Duration::from_secs(60) };
        let mut events = Vec::new();
        loop {
            let received = queue.receive(options).await.expect("queue answers");
            if received.is_empty() {
                return events;
            }
            let receipts: Vec<String> = received.iter().map(|m| m.receipt.clone()).collect();
            queue.delete_batch(&receipts).await.expect("messages deleted");
            events.extend(received.iter().map(|m| serde_json::from_str(&m.body).expect("a CloudEvent")));
        }
    }
}

/// `event` as its `receive_count`-th delivery to a handler.
pub fn delivery(event: &CloudEvent, receive_count: u32) -> ReceivedMessage {
    ReceivedMessage {
        message_id: format!("message-{}", event.id),
        receipt: format!("receipt-{}-{receive_count}", event.id),
        body: serde_json::to_string(event).expect("a CloudEvent serializes"),
        attributes: Attributes::new(),
        receive_count,
        trace_header: None,
    }
}

/// The tenant of the tests: no FAQ, no API key anyone knows.
pub fn tenant() -> Tenant {
    Tenant {
        id: TenantId::parse(TENANT).expect("a valid tenant id"),
        name: "Test Stay".into(),
        api_key_hash: String::new(),
        domain_context: String::new(),
        faq: Vec::new(),
        tier: "standard".into(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    }
}

/// A service's own queue that keeps a copy of every message sent to it
/// (the delayed timers — partner deadlines, SLA checks — which the broker
/// holds back until they are due), so a test can see what was scheduled.
pub struct RecordingQueue {
    inner: Arc<dyn Queue>,
    sent: std::sync::Mutex<Vec<switchboard_messaging::OutgoingMessage>>,
}

impl RecordingQueue {
    /// Records what is sent to `inner`, and passes everything on.
    pub fn new(inner: Arc<dyn Queue>) -> Arc<Self> {
        Arc::new(Self { inner, sent: std::sync::Mutex::default() })
    }

    /// Every message sent so far, in order.
    pub fn sent(&self) -> Vec<switchboard_messaging::OutgoingMessage> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Queue for RecordingQueue {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, message: switchboard_messaging::OutgoingMessage) -> Result<String, switchboard_messaging::MessagingError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(message.clone());
        }
        self.inner.send(message).await
    }
    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, switchboard_messaging::MessagingError> {
        self.inner.receive(options).await
    }
    async fn delete_batch(
        &self,
        receipts: &[String],
    ) -> Result<Vec<switchboard_messaging::BatchFailure>, switchboard_messaging::MessagingError> {
        self.inner.delete_batch(receipts).await
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), switchboard_messaging::MessagingError> {
        self.inner.change_visibility(receipt, timeout).await
    }
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), switchboard_messaging::MessagingError> {
        self.inner.dead_letter(message, reason).await
    }
    async fn stats(&self) -> Result<switchboard_messaging::QueueStats, switchboard_messaging::MessagingError> {
        self.inner.stats().await
    }
}
