//! Backends that fail or hang on cue, for the paths a healthy embedded
//! backend never takes: the store, the queues and the topic wrapped behind a
//! [`Switch`] the test flips. A switch also counts the calls it is holding,
//! so a test can see the server give up work (a timed-out request, a
//! cancelled stream) instead of guessing with a sleep, and the inquiry reads
//! the API makes are counted, so a test can see a read that did not happen.

use crate::{Options, TestApp};
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use switchboard::{Config, Ports};
use switchboard_domain::webhook::{DeliveryAttempt, WebhookEndpoint, WebhookEndpointId, WebhookMessage};
use switchboard_domain::{
    CloudEvent, Correction, Inquiry, InquiryId, InquiryStatus, Message, PartnerOutcome, Reservation, ReservationNumber, Tenant, TenantId,
    TimelineEvent,
};
use switchboard_messaging::{
    BatchFailure, MessagingError, OutgoingMessage, Publication, Queue, QueueStats, ReceiveOptions, ReceivedMessage, Topic,
};
use switchboard_store::{
    AiResponseRecord, Appended, AttachmentRecord, CorrectionStore, Created, InquiryStore, OutboxEntry, Page, PageRequest,
    ReservationMigration, ReservationStore, Store, StoreError, TenantStore, TokenRecord, TokenStore, WebhookStore,
};
use tokio::sync::watch;

/// What the calls behind a switch do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Pass through.
    Healthy,
    /// Fail at once, as an unreachable backend does.
    Down,
    /// Wait until the switch is flipped again (then do what it says).
    Hanging,
}

/// A fault setting shared by the test and the wrapped backends.
#[derive(Clone)]
pub struct Switch {
    fault: Arc<watch::Sender<Fault>>,
    held: Arc<AtomicUsize>,
}

impl Default for Switch {
    fn default() -> Self {
        Self { fault: Arc::new(watch::Sender::new(Fault::Healthy)), held: Arc::new(AtomicUsize::new(0)) }
    }
}

/// Counts a call while it hangs; dropping the call (a cancelled request) uncounts it.
struct Held(Arc<AtomicUsize>);

impl Held {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Switch {
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    pub fn down(&self) {
        self.set(Fault::Down);
    }

    pub fn hang(&self) {
        self.set(Fault::Hanging);
    }

    /// Back to normal; hanging calls go on.
    pub fn heal(&self) {
        self.set(Fault::Healthy);
    }

    /// Calls hanging right now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// Waits until exactly `n` calls hang; panics after [`crate::PATIENCE`].
    pub async fn wait_held(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + crate::PATIENCE;
        while self.held() != n {
            assert!(tokio::time::Instant::now() < deadline, "{} calls hang, expected {n}", self.held());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Whether a call may go on (`false`: the backend is down).
    async fn pass(&self) -> bool {
        let mut fault = self.fault.subscribe();
        let mut held = None;
        loop {
            match *fault.borrow_and_update() {
                Fault::Healthy => return true,
                Fault::Down => return false,
                Fault::Hanging => {}
            }
            held.get_or_insert_with(|| Held::new(&self.held));
            // The sender lives in `self`, so this only returns on a change.
            let _ = fault.changed().await;
        }
    }
}

/// The switches of one application's backends.
#[derive(Clone, Default)]
pub struct Outage {
    /// Every store call.
    pub store: Switch,
    /// Timeline reads only (what `GET /api/inquiries/{id}` and the watch streams read).
    pub timelines: Switch,
    /// Every queue and topic call.
    pub messaging: Switch,
    /// `get_inquiry` calls through the API's store (the pipeline's are not counted).
    pub api_inquiry_reads: Arc<AtomicUsize>,
}

impl Outage {
    /// Puts the store, the service queues and the topic behind the switches.
    pub fn install(&self, ports: &mut Ports) {
        ports.store = Arc::new(SwitchedStore { inner: ports.store.clone(), outage: self.clone(), inquiry_reads: None });
        let api_reads = Some(self.api_inquiry_reads.clone());
        ports.api_store = Arc::new(SwitchedStore { inner: ports.api_store.clone(), outage: self.clone(), inquiry_reads: api_reads });
        for queue in ports.queues.values_mut() {
            *queue = Arc::new(SwitchedQueue { inner: queue.clone(), switch: self.messaging.clone() });
        }
        ports.topic = Arc::new(SwitchedTopic { inner: ports.topic.clone(), switch: self.messaging.clone() });
    }

    /// An application on switched backends, configured by `configure`
    /// first (e.g. a short request timeout), with the demo tenant seeded.
    pub async fn spawn(&self, options: Options, configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_configured(options, configure, |ports| self.install(ports)).await
    }
}

fn store_down() -> StoreError {
    StoreError::Unavailable("the test took the store down".into())
}

fn messaging_down() -> MessagingError {
    MessagingError::Unavailable("the test took the queues down".into())
}

struct SwitchedStore {
    inner: Arc<dyn Store>,
    outage: Outage,
    /// Counts `get_inquiry` calls, when set.
    inquiry_reads: Option<Arc<AtomicUsize>>,
}

impl SwitchedStore {
    async fn gate(&self) -> Result<(), StoreError> {
        if self.outage.store.pass().await { Ok(()) } else { Err(store_down()) }
    }
}

#[async_trait]
impl InquiryStore for SwitchedStore {
    async fn create_inquiry(
        &self,
        inquiry: &Inquiry,
        idempotency_key: Option<&str>,
        event: &TimelineEvent,
        announce: &[CloudEvent],
    ) -> Result<Created, StoreError> {
        self.gate().await?;
        self.inner.create_inquiry(inquiry, idempotency_key, event, announce).await
    }

    async fn get_inquiry(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        if let Some(reads) = &self.inquiry_reads {
            reads.fetch_add(1, Ordering::SeqCst);
        }
        self.gate().await?;
        self.inner.get_inquiry(id).await
    }

    async fn claimed_inquiry(&self, tenant: &TenantId, idempotency_key: &str) -> Result<Option<Inquiry>, StoreError> {
        self.gate().await?;
        self.inner.claimed_inquiry(tenant, idempotency_key).await
    }

    async fn inquiries_by_phone(
        &self,
        tenant: &TenantId,
        phone: &switchboard_domain::PhoneNumber,
        limit: u32,
    ) -> Result<Vec<InquiryId>, StoreError> {
        self.gate().await?;
        self.inner.inquiries_by_phone(tenant, phone, limit).await
    }

    async fn update_inquiry(
        &self,
        next: &Inquiry,
        expected_version: u64,
        event: Option<&TimelineEvent>,
        announce: &[CloudEvent],
    ) -> Result<Inquiry, StoreError> {
        self.gate().await?;
        self.inner.update_inquiry(next, expected_version, event, announce).await
    }

    async fn pending_events(&self, before: jiff::Timestamp, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        self.gate().await?;
        self.inner.pending_events(before, limit).await
    }

    async fn clear_event(&self, inquiry: InquiryId, event_id: &str) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.clear_event(inquiry, event_id).await
    }

    async fn append_event(&self, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError> {
        self.gate().await?;
        self.inner.append_event(id, event).await
    }

    async fn timeline(&self, id: InquiryId) -> Result<Vec<TimelineEvent>, StoreError> {
        self.gate().await?;
        if !self.outage.timelines.pass().await {
            return Err(store_down());
        }
        self.inner.timeline(id).await
    }

    async fn list_by_tenant(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        self.gate().await?;
        self.inner.list_by_tenant(tenant, page).await
    }

    async fn list_by_status(&self, status: InquiryStatus, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        self.gate().await?;
        self.inner.list_by_status(status, page).await
    }

    async fn sla_queue(&self, tenant: Option<&TenantId>, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        self.gate().await?;
        self.inner.sla_queue(tenant, page).await
    }

    async fn delete_orphan_attachments(&self, id: InquiryId) -> Result<usize, StoreError> {
        self.gate().await?;
        self.inner.delete_orphan_attachments(id).await
    }

    async fn put_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.put_attachment(record).await
    }

    async fn attachments(&self, id: InquiryId) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.gate().await?;
        self.inner.attachments(id).await
    }

    async fn put_ai_response(&self, record: &AiResponseRecord) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.put_ai_response(record).await
    }

    async fn ai_responses(&self, id: InquiryId) -> Result<Vec<AiResponseRecord>, StoreError> {
        self.gate().await?;
        self.inner.ai_responses(id).await
    }

    async fn append_message(&self, message: &Message, announce: &[CloudEvent]) -> Result<Appended, StoreError> {
        self.gate().await?;
        self.inner.append_message(message, announce).await
    }

    async fn messages(&self, id: InquiryId, after: u32, limit: u32) -> Result<Vec<Message>, StoreError> {
        self.gate().await?;
        self.inner.messages(id, after, limit).await
    }
}

#[async_trait]
impl TenantStore for SwitchedStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.put_tenant(tenant).await
    }

    async fn update_tenant(&self, next: &Tenant, expected_version: u64) -> Result<Tenant, StoreError> {
        self.gate().await?;
        self.inner.update_tenant(next, expected_version).await
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.gate().await?;
        self.inner.get_tenant(id).await
    }

    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>, StoreError> {
        self.gate().await?;
        self.inner.tenant_by_api_key_hash(hash).await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.gate().await?;
        self.inner.list_tenants().await
    }
}

#[async_trait]
impl CorrectionStore for SwitchedStore {
    async fn put_correction(&self, correction: &Correction) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.put_correction(correction).await
    }

    async fn corrections(&self, tenant: &TenantId) -> Result<Vec<Correction>, StoreError> {
        self.gate().await?;
        self.inner.corrections(tenant).await
    }
}

#[async_trait]
impl WebhookStore for SwitchedStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.create_endpoint(endpoint).await
    }

    async fn get_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.gate().await?;
        self.inner.get_endpoint(tenant, id).await
    }

    async fn endpoints(&self, tenant: &TenantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.gate().await?;
        self.inner.endpoints(tenant).await
    }

    async fn update_endpoint(&self, next: &WebhookEndpoint, expected_version: u64) -> Result<WebhookEndpoint, StoreError> {
        self.gate().await?;
        self.inner.update_endpoint(next, expected_version).await
    }

    async fn delete_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<bool, StoreError> {
        self.gate().await?;
        self.inner.delete_endpoint(tenant, id).await
    }

    async fn create_message(&self, message: &WebhookMessage) -> Result<WebhookMessage, StoreError> {
        self.gate().await?;
        self.inner.create_message(message).await
    }

    async fn get_message(
        &self,
        endpoint: &WebhookEndpointId,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<Option<WebhookMessage>, StoreError> {
        self.gate().await?;
        self.inner.get_message(endpoint, id, now).await
    }

    async fn update_message(&self, next: &WebhookMessage, expected_version: u64) -> Result<WebhookMessage, StoreError> {
        self.gate().await?;
        self.inner.update_message(next, expected_version).await
    }

    async fn log_attempt(&self, attempt: &DeliveryAttempt, now: jiff::Timestamp) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.log_attempt(attempt, now).await
    }

    async fn attempts(&self, endpoint: &WebhookEndpointId, limit: u32, now: jiff::Timestamp) -> Result<Vec<DeliveryAttempt>, StoreError> {
        self.gate().await?;
        self.inner.attempts(endpoint, limit, now).await
    }
}

#[async_trait]
impl ReservationStore for SwitchedStore {
    async fn put_reservation(&self, reservation: &Reservation) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.put_reservation(reservation).await
    }

    async fn get_reservation(&self, tenant: &TenantId, number: &ReservationNumber) -> Result<Option<Reservation>, StoreError> {
        self.gate().await?;
        self.inner.get_reservation(tenant, number).await
    }

    async fn reservations(&self, tenant: &TenantId) -> Result<Vec<Reservation>, StoreError> {
        self.gate().await?;
        self.inner.reservations(tenant).await
    }

    async fn migrate_legacy_reservations(&self) -> Result<ReservationMigration, StoreError> {
        self.gate().await?;
        self.inner.migrate_legacy_reservations().await
    }
}

#[async_trait]
impl switchboard_store::SessionStore for SwitchedStore {
    async fn put_session(&self, hash: &str, session: &switchboard_store::ConsoleSession) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.put_session(hash, session).await
    }

    async fn get_session(&self, hash: &str, now: jiff::Timestamp) -> Result<Option<switchboard_store::ConsoleSession>, StoreError> {
        self.gate().await?;
        self.inner.get_session(hash, now).await
    }

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.delete_session(hash).await
    }
}

#[async_trait]
impl TokenStore for SwitchedStore {
    async fn put_token(&self, record: &TokenRecord) -> Result<TokenRecord, StoreError> {
        self.gate().await?;
        self.inner.put_token(record).await
    }

    async fn get_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.gate().await?;
        self.inner.get_token(hash).await
    }

    async fn mark_token_opened(&self, hash: &str, at: jiff::Timestamp) -> Result<bool, StoreError> {
        self.gate().await?;
        self.inner.mark_token_opened(hash, at).await
    }

    async fn consume_token(&self, hash: &str, outcome: &PartnerOutcome, at: jiff::Timestamp) -> Result<TokenRecord, StoreError> {
        self.gate().await?;
        self.inner.consume_token(hash, outcome, at).await
    }

    async fn void_tokens(&self, inquiry: InquiryId, at: jiff::Timestamp) -> Result<bool, StoreError> {
        self.gate().await?;
        self.inner.void_tokens(inquiry, at).await
    }
}

struct SwitchedQueue {
    inner: Arc<dyn Queue>,
    switch: Switch,
}

impl SwitchedQueue {
    async fn gate(&self) -> Result<(), MessagingError> {
        if self.switch.pass().await { Ok(()) } else { Err(messaging_down()) }
    }
}

#[async_trait]
impl Queue for SwitchedQueue {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    async fn send(&self, message: OutgoingMessage) -> Result<String, MessagingError> {
        self.gate().await?;
        self.inner.send(message).await
    }

    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        self.gate().await?;
        self.inner.receive(options).await
    }

    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError> {
        self.gate().await?;
        self.inner.delete_batch(receipts).await
    }

    async fn change_visibility(&self, receipt: &str, timeout: std::time::Duration) -> Result<(), MessagingError> {
        self.gate().await?;
        self.inner.change_visibility(receipt, timeout).await
    }

    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), MessagingError> {
        self.gate().await?;
        self.inner.dead_letter(message, reason).await
    }

    async fn stats(&self) -> Result<QueueStats, MessagingError> {
        self.gate().await?;
        self.inner.stats().await
    }
}

struct SwitchedTopic {
    inner: Arc<dyn Topic>,
    switch: Switch,
}

#[async_trait]
impl Topic for SwitchedTopic {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError> {
        if !self.switch.pass().await {
            return Err(messaging_down());
        }
        self.inner.publish(publications).await
    }
}
