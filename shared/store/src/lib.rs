//! Storage ports for the single table (its key layout is in [`keys`]), and
//! their adapters.
//!
//! Small traits, one per entity ([`InquiryStore`], [`TenantStore`],
//! [`ReservationStore`], [`TokenStore`], [`WebhookStore`]), so a service names only what it
//! uses; [`Store`] bundles them for the composition root. Every state
//! change is conditional: a write that expects version `n` fails with
//! [`StoreError::Conflict`] when someone else wrote first.

pub mod blob;
pub mod console_session;
pub mod conversation;
/// The single table in DynamoDB (AWS mode), and its provisioning.
pub mod dynamodb;
pub mod keys;
mod partner_link;
mod phone_lookup;
pub mod records;
/// Attachment bodies in S3 (AWS mode), and their bucket's provisioning.
pub mod s3;
pub mod sqlite;
mod tenant_edit;
mod timeline_order;
mod transition;
mod webhook_edit;

use async_trait::async_trait;
pub use console_session::{ConsoleSession, SessionStore};
pub use conversation::{Appended, conversation_page, message_event, whole_conversation};
pub use phone_lookup::{PHONE_LOOKUP_DEPTH, newest_open_inquiry_by_phone};
pub use records::{AiResponseRecord, AttachmentRecord, OutboxEntry, TokenPointer, TokenRecord};
use switchboard_domain::webhook::{DeliveryAttempt, WebhookEndpoint, WebhookEndpointId, WebhookMessage};
use switchboard_domain::{
    CloudEvent, Correction, Inquiry, InquiryId, InquiryStatus, Message, PartnerOutcome, PhoneNumber, Reservation, ReservationNumber,
    Tenant, TenantId, TimelineEvent,
};
pub use tenant_edit::{EDIT_ATTEMPTS, edit_tenant};
pub use transition::{TransitionError, TransitionOutcome, transition, transition_announced, transition_from, transition_from_read};
pub use webhook_edit::edit_endpoint;

/// The error a failed call into a backend library carries as its source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the item changed since it was read, or a
    /// single-use item was already used.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The item to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A page token this listing did not issue.
    #[error("invalid page token")]
    InvalidPageToken,
    /// The backend is down; worth retrying later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The embedded database failed; worth retrying later.
    #[error("store unavailable: {0}")]
    Database(#[from] switchboard_sqlite::DbError),
    /// A call to DynamoDB or S3 failed after the SDK's own retries
    /// (throttling, 5xx, timeouts, dispatch failures); worth retrying later.
    /// The message shows the whole chain of the SDK's error, whose own
    /// `Display` names only its kind.
    #[error("store unavailable: {call}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(.source.as_ref()))]
    Aws {
        /// The service and operation, e.g. `DynamoDB PutItem`.
        call: String,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },
    /// Reading or writing a blob file failed; worth retrying later.
    #[error("store unavailable: {0}")]
    Io(#[from] std::io::Error),
    /// An item is not what the layout says it should be.
    #[error("corrupt item {0}")]
    Corrupt(String),
    /// An item (or a request for one) could not be encoded or decoded.
    #[error("corrupt item {what}: {source}")]
    Malformed {
        /// The item (its partition key) or request.
        what: String,
        /// The encoder's or decoder's error.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// A [`StoreError::Malformed`] of `what`.
    pub(crate) fn malformed(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Malformed { what: what.into(), source: source.into() }
    }
}

/// Which page of a listing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Most items wanted; see [`PageRequest::size`].
    pub limit: u32,
    /// The `next` token of the previous page.
    pub after: Option<String>,
}

impl PageRequest {
    /// Largest page a listing returns, whatever the request asks for.
    pub const MAX_SIZE: u32 = 1000;

    /// The first page, of at most `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The number of items the page holds unless the listing ends first:
    /// `limit`, but at least 1 and at most [`PageRequest::MAX_SIZE`].
    pub fn size(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_SIZE)
    }
}

/// One page of a listing, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Opaque token for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// What creating an inquiry did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// The inquiry was stored.
    New(Inquiry),
    /// The idempotency key was used before: this is the inquiry it created.
    Existing(Inquiry),
}

/// How long an idempotency key is honoured after the inquiry it created
/// (its item's `expires_at`; DynamoDB's TTL then deletes it).
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 3600;

/// Inquiries, their timelines, attachments, AI responses and outbox.
///
/// The outbox makes a state change and its announcement one unit: the
/// events passed as `announce` to [`InquiryStore::create_inquiry`] and
/// [`InquiryStore::update_inquiry`] are stored in the same transaction as
/// the change, and stay until [`InquiryStore::clear_event`] says they were
/// published; a relay publishes whatever [`InquiryStore::pending_events`]
/// still holds (a crash between the commit and the publish).
#[async_trait]
pub trait InquiryStore: Send + Sync {
    /// Stores a new inquiry with its first timeline event and the events
    /// announcing it, claiming `idempotency_key` (scoped to the tenant) and,
    /// when the customer gave a phone, writing the item that finds it by
    /// that phone ([`keys::inquiry_by_phone`]) in the same transaction. A repeat ([`Created::Existing`]) writes nothing.
    async fn create_inquiry(
        &self,
        inquiry: &Inquiry,
        idempotency_key: Option<&str>,
        event: &TimelineEvent,
        announce: &[CloudEvent],
    ) -> Result<Created, StoreError>;

    /// The inquiry `idempotency_key` (scoped to the tenant) already
    /// created, if any: what [`InquiryStore::create_inquiry`] would return
    /// as [`Created::Existing`]. Lets a caller skip work (storing
    /// attachments) for a submission that is a repeat.
    async fn claimed_inquiry(&self, tenant: &TenantId, idempotency_key: &str) -> Result<Option<Inquiry>, StoreError>;

    /// Ids of `tenant`'s inquiries whose customer's phone is `phone`, newest
    /// first, at most `limit` (capped at [`PageRequest::MAX_SIZE`]): one
    /// consistent query of the phone's partition
    /// ([`keys::phone_inquiries`]), whose items
    /// [`InquiryStore::create_inquiry`] writes with each inquiry that has a
    /// phone. Inquiries stored before those items existed are not found.
    /// See [`newest_open_inquiry_by_phone`] for the one a reply joins.
    async fn inquiries_by_phone(&self, tenant: &TenantId, phone: &PhoneNumber, limit: u32) -> Result<Vec<InquiryId>, StoreError>;

    /// The inquiry, if it exists (a consistent read).
    async fn get_inquiry(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError>;

    /// Replaces the inquiry if its stored version is still
    /// `expected_version`, bumping the version, appending `event` and
    /// storing the `announce` events in the outbox atomically. Returns the
    /// stored inquiry. An inquiry written in a status that refuses partner
    /// answers (escalated, resolved, failed) has its open partner link
    /// voided in the same write (see [`TokenStore::void_tokens`]).
    async fn update_inquiry(
        &self,
        next: &Inquiry,
        expected_version: u64,
        event: Option<&TimelineEvent>,
        announce: &[CloudEvent],
    ) -> Result<Inquiry, StoreError>;

    /// Outbox entries stored before `before` and not yet cleared, oldest
    /// first, at most `limit` (capped at [`PageRequest::MAX_SIZE`]).
    async fn pending_events(&self, before: jiff::Timestamp, limit: u32) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Removes a published event from the outbox. Idempotent: clearing an
    /// entry that is gone (cleared by another relay) succeeds.
    async fn clear_event(&self, inquiry: InquiryId, event_id: &str) -> Result<(), StoreError>;

    /// Appends an event unless one with the same key exists; `true` if appended.
    async fn append_event(&self, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError>;

    /// The inquiry's events, oldest first.
    async fn timeline(&self, id: InquiryId) -> Result<Vec<TimelineEvent>, StoreError>;

    /// A tenant's inquiries, newest first.
    async fn list_by_tenant(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Inquiry>, StoreError>;

    /// Inquiries in one status, newest first.
    async fn list_by_status(&self, status: InquiryStatus, page: &PageRequest) -> Result<Page<Inquiry>, StoreError>;

    /// Escalated inquiries with a first-response clock ([`Inquiry::sla`]),
    /// earliest deadline first: `tenant`'s, or every tenant's (the
    /// operators' queue). One range read of the SLA queue
    /// ([`keys::sla_queue_entry`]), which the store keeps in step with
    /// every change of the inquiries in it.
    async fn sla_queue(&self, tenant: Option<&TenantId>, page: &PageRequest) -> Result<Page<Inquiry>, StoreError>;

    /// Stores (or replaces) an attachment record.
    async fn put_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError>;

    /// The inquiry's attachment records, by index.
    async fn attachments(&self, id: InquiryId) -> Result<Vec<AttachmentRecord>, StoreError>;

    /// Deletes the attachment records of inquiry `id` if the inquiry does
    /// not exist (a submission stored them, then died before creating it),
    /// in one conditional write; deletes nothing while it exists. Returns
    /// how many were deleted.
    async fn delete_orphan_attachments(&self, id: InquiryId) -> Result<usize, StoreError>;

    /// Stores an AI response record; the first record at an instant wins.
    async fn put_ai_response(&self, record: &AiResponseRecord) -> Result<(), StoreError>;

    /// The inquiry's AI response records, oldest first.
    async fn ai_responses(&self, id: InquiryId) -> Result<Vec<AiResponseRecord>, StoreError>;

    /// Appends `message` to its inquiry's conversation, numbered one after
    /// the last stored message (the first stored is 2: 1 is the inquiry's
    /// own text), with its timeline event ([`message_event`]) and the
    /// `announce` events in the outbox, in one transaction. A message whose
    /// key the conversation holds already (a retried call, a redelivered
    /// handler) writes nothing and returns that message as
    /// [`Appended::Existing`]. The caller checks that the inquiry exists.
    async fn append_message(&self, message: &Message, announce: &[CloudEvent]) -> Result<Appended, StoreError>;

    /// Stored messages of inquiry `id` numbered after `after`, in order, at
    /// most `limit` (capped at [`PageRequest::MAX_SIZE`]). A range read of
    /// the inquiry's partition; see [`conversation_page`] for the listing
    /// with message 1.
    async fn messages(&self, id: InquiryId, after: u32, limit: u32) -> Result<Vec<Message>, StoreError>;
}

/// Tenants and their API keys.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Stores (or replaces) a tenant.
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// Replaces a tenant still at `expected_version` (FAQ edits, learning
    /// from operators) and returns it as stored, at the next version.
    /// `Conflict` when another update came first, `NotFound` when there is
    /// no such tenant. Use [`edit_tenant`] to read, change and retry.
    async fn update_tenant(&self, next: &Tenant, expected_version: u64) -> Result<Tenant, StoreError>;
    /// The tenant, if it exists.
    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    /// The tenant whose API key hashes to `hash`.
    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>, StoreError>;
    /// Every tenant, by id.
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError>;
}

/// Reservations, by tenant and number: a number is unique only within
/// its tenant, and no read can reach another tenant's booking.
#[async_trait]
pub trait ReservationStore: Send + Sync {
    /// Stores (or replaces) a reservation, under its own tenant: the same
    /// number imported by another tenant is another reservation.
    async fn put_reservation(&self, reservation: &Reservation) -> Result<(), StoreError>;
    /// `tenant`'s reservation `number`, if that tenant has one.
    async fn get_reservation(&self, tenant: &TenantId, number: &ReservationNumber) -> Result<Option<Reservation>, StoreError>;
    /// Every reservation of `tenant`, by number (one `Query` of the
    /// tenant's partition; the console lists and searches them).
    async fn reservations(&self, tenant: &TenantId) -> Result<Vec<Reservation>, StoreError>;
    /// Moves every reservation still stored under its legacy key
    /// (`RES#{number}`, shared by all tenants) to its tenant's key, using
    /// the tenant recorded on the reservation. Idempotent and safe to run
    /// twice or concurrently: a reservation already at its tenant's key
    /// (moved by an earlier run, or imported again since) is kept, and the
    /// legacy item is removed. An item that does not read as a reservation
    /// names no tenant to move it to: it stays where it is, where no read
    /// finds it, and is reported.
    async fn migrate_legacy_reservations(&self) -> Result<ReservationMigration, StoreError>;
}

/// What [`ReservationStore::migrate_legacy_reservations`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationMigration {
    /// Legacy items moved to their tenant's key.
    pub moved: usize,
    /// Legacy items removed because their tenant's key already held the
    /// reservation (a newer import, or an interrupted earlier run).
    pub superseded: usize,
    /// Partition keys of legacy items left in place: they do not read as a
    /// reservation, so they name no tenant. No read returns them.
    pub unreadable: Vec<String>,
}

/// Partner confirmation tokens, stored under their hash.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Issues the inquiry's link: stores the record unless a link was
    /// already issued for its inquiry (or one with the same hash exists);
    /// returns the stored record, so a redelivered dispatcher reuses the
    /// first link, its deadline and its expiry.
    async fn put_token(&self, record: &TokenRecord) -> Result<TokenRecord, StoreError>;
    /// The record of the token hashing to `hash`.
    async fn get_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Records the first opening of the link; `true` if this was it.
    async fn mark_token_opened(&self, hash: &str, at: jiff::Timestamp) -> Result<bool, StoreError>;
    /// Uses the token once: succeeds only if it is unused, else [`StoreError::Conflict`].
    async fn consume_token(&self, hash: &str, outcome: &PartnerOutcome, at: jiff::Timestamp) -> Result<TokenRecord, StoreError>;
    /// Voids the inquiry's link if it is still unused (a conditional
    /// update: an answer that came first is kept); `true` if this call
    /// voided it. Idempotent: a voided, used or missing link is left alone.
    async fn void_tokens(&self, inquiry: InquiryId, at: jiff::Timestamp) -> Result<bool, StoreError>;
}

/// Operators' corrections: each tenant's memory of resolved inquiries.
#[async_trait]
pub trait CorrectionStore: Send + Sync {
    /// Stores the correction of its inquiry, replacing an earlier one: a
    /// retried resolve writes the same record again, a later resolve's
    /// feedback wins.
    async fn put_correction(&self, correction: &Correction) -> Result<(), StoreError>;
    /// The tenant's corrections, oldest first (by `at`, then inquiry id).
    async fn corrections(&self, tenant: &TenantId) -> Result<Vec<Correction>, StoreError>;
}

/// Tenants' webhook endpoints and their delivery logs. Every change is
/// conditional: an endpoint or message is replaced only at the version it
/// was read at ([`StoreError::Conflict`] otherwise), and a new one only
/// if its key is free.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers a new endpoint; [`StoreError::Conflict`] if its id is taken.
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;
    /// `tenant`'s endpoint `id`, if it has one.
    async fn get_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<Option<WebhookEndpoint>, StoreError>;
    /// `tenant`'s endpoints, by id.
    async fn endpoints(&self, tenant: &TenantId) -> Result<Vec<WebhookEndpoint>, StoreError>;
    /// Replaces an endpoint still at `expected_version` and returns it at
    /// the next version; `Conflict` when another change came first,
    /// `NotFound` when it was deleted.
    async fn update_endpoint(&self, next: &WebhookEndpoint, expected_version: u64) -> Result<WebhookEndpoint, StoreError>;
    /// Deletes an endpoint (its log expires by itself); `true` if it existed.
    async fn delete_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<bool, StoreError>;
    /// Stores a message unless its endpoint's log holds one with its id;
    /// returns the message as stored (a redelivered event gets the first).
    async fn create_message(&self, message: &WebhookMessage) -> Result<WebhookMessage, StoreError>;
    /// Message `id` of `endpoint`'s log, unless it expired by `now`.
    async fn get_message(&self, endpoint: &WebhookEndpointId, id: &str, now: jiff::Timestamp)
    -> Result<Option<WebhookMessage>, StoreError>;
    /// Replaces a message still at `expected_version` and returns it at the next version.
    async fn update_message(&self, next: &WebhookMessage, expected_version: u64) -> Result<WebhookMessage, StoreError>;
    /// Logs an attempt (once: the same attempt logged again writes
    /// nothing), forgetting what expired by `now` in the same log.
    async fn log_attempt(&self, attempt: &DeliveryAttempt, now: jiff::Timestamp) -> Result<(), StoreError>;
    /// `endpoint`'s newest attempts unexpired at `now`, newest first, at
    /// most `limit` (capped at [`PageRequest::MAX_SIZE`]).
    async fn attempts(&self, endpoint: &WebhookEndpointId, limit: u32, now: jiff::Timestamp) -> Result<Vec<DeliveryAttempt>, StoreError>;
}

/// Orders corrections as [`CorrectionStore::corrections`] returns them
/// (stored by inquiry id, which is not the time they were made).
pub(crate) fn in_time_order(mut corrections: Vec<Correction>) -> Vec<Correction> {
    corrections.sort_by_key(|c| (c.at, c.inquiry_id));
    corrections
}

/// Everything the services store, as one handle.
pub trait Store: InquiryStore + TenantStore + ReservationStore + TokenStore + CorrectionStore + SessionStore + WebhookStore {}
impl<T: InquiryStore + TenantStore + ReservationStore + TokenStore + CorrectionStore + SessionStore + WebhookStore> Store for T {}
