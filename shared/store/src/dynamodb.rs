//! The single table in DynamoDB.
//!
//! Keys and index values are those of [`crate::keys`], exactly as the
//! SQLite adapter writes them; the entity itself is the `body` attribute, a
//! map written with serde_dynamo (native attributes, readable in the
//! console). GSI1 (`gsi1pk`/`gsi1sk`) and GSI2 (`gsi2pk`/`gsi2sk`) project
//! everything.
//!
//! Differences from the SQLite adapter, all forced by DynamoDB:
//! - Index reads (`list_by_tenant`, `list_by_status`,
//!   `tenant_by_api_key_hash`) are eventually consistent: a write may take
//!   a moment to show there. Reads by key and timelines are consistent.
//! - A timeline event's sequence number is counted with a query before the
//!   transaction; two concurrent appends that pick the same sort key are
//!   retried, so the result is the same, at the price of one read. A
//!   message's sequence number is counted the same way.
//! - Numbers inside free-form JSON (`details`, `analysis`) come back by
//!   value: DynamoDB has one number type, so `1.0` reads back as `1`.
//! - DynamoDB's TTL deletes expired tokens and idempotency keys (within
//!   days of `expires_at`); SQLite keeps them. Webhook delivery logs
//!   expire the same way; reads skip what expired before TTL removed it.

use crate::keys::{self, Key, METADATA};
use crate::partner_link::closes_partner_link;
use crate::timeline_order::{self, StoredEvent};
use crate::{
    AiResponseRecord, Appended, AttachmentRecord, CorrectionStore, Created, IDEMPOTENCY_WINDOW_SECS, InquiryStore, OutboxEntry, Page,
    PageRequest, ReservationMigration, ReservationStore, StoreError, TenantStore, TokenPointer, TokenRecord, TokenStore, WebhookStore,
};
use crate::{ConsoleSession, SessionStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType, Select, SseSpecification, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus, TransactWriteItem, Update,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use switchboard_domain::webhook::{DeliveryAttempt, WebhookEndpoint, WebhookEndpointId, WebhookMessage};
use switchboard_domain::{
    CloudEvent, Correction, Inquiry, InquiryId, InquiryStatus, Message, PartnerOutcome, PhoneNumber, Reservation, ReservationNumber,
    Tenant, TenantId, TimelineEvent,
};

/// Name of the tenant-listing index (`gsi1pk`, `gsi1sk`).
pub const GSI1: &str = "GSI1";
/// Name of the status-listing index (`gsi2pk`, `gsi2sk`).
pub const GSI2: &str = "GSI2";
/// The TTL attribute (epoch seconds) of tokens and idempotency keys.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Sort-key races between concurrent appends are retried this often.
const APPEND_ATTEMPTS: usize = 5;
/// How long `ensure_table` waits for a new table and its indexes.
const ACTIVE_PATIENCE: Duration = Duration::from_secs(600);

type Item = HashMap<String, AttributeValue>;

/// The single table in DynamoDB (AWS mode).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// Every `METADATA` item whose partition key starts with `prefix`, all
    /// pages (a scan: for start-up and admin commands, not hot paths).
    async fn scan_metadata(&self, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix) AND sk = :meta")
                .expression_attribute_values(":prefix", s(prefix))
                .expression_attribute_values(":meta", s(METADATA))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Scan", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// A store on `table`, which must exist with the layout [`ensure_table`] creates.
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// The table this store writes.
    pub fn table(&self) -> &str {
        &self.table
    }
}

// ---------------------------------------------------------------------------
// Errors

fn failed<E, R>(op: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    // Throttling, 5xx, timeouts and dispatch failures all land here: the
    // SDK has already retried them, so the caller should back off.
    StoreError::Aws { call: format!("DynamoDB {op}"), source: Box::new(e) }
}

fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

fn request(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    // Only a missing required field makes an SDK builder fail: a bug here.
    StoreError::malformed("malformed DynamoDB request", e)
}

/// What a transaction did, with each item's cancellation code when it did not.
enum Tx {
    Done,
    Cancelled(Vec<String>),
}

impl Tx {
    fn failed_at(codes: &[String], index: usize) -> bool {
        codes.get(index).is_some_and(|c| c == "ConditionalCheckFailed")
    }
}

/// A cancellation that no condition explains.
fn cancelled(codes: &[String]) -> StoreError {
    if codes.iter().any(|c| c == "TransactionConflict") {
        // Another transaction held one of the items: a lost race, like a stale version.
        StoreError::Conflict("a concurrent transaction touched the same items".into())
    } else {
        StoreError::Unavailable(format!("DynamoDB transaction cancelled: {}", codes.join(", ")))
    }
}

// ---------------------------------------------------------------------------
// Items

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn to_av<T: Serialize>(what: &str, value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value).map_err(|e| StoreError::malformed(what, e))
}

fn key(key: &Key) -> Item {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn item<T: Serialize>(at: &Key, body: &T) -> Result<Item, StoreError> {
    let mut item = key(at);
    item.insert("body".into(), to_av(&at.pk, body)?);
    Ok(item)
}

fn decode<T: DeserializeOwned>(mut item: Item) -> Result<T, StoreError> {
    let what = match item.get("pk") {
        Some(AttributeValue::S(pk)) => pk.clone(),
        _ => "an item".into(),
    };
    let body = item.remove("body").ok_or_else(|| StoreError::Corrupt(format!("{what} has no body")))?;
    serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(body).map_err(|e| StoreError::malformed(what, e))
}

fn inquiry_item(inquiry: &Inquiry) -> Result<Item, StoreError> {
    let mut item = item(&keys::inquiry(inquiry.id), inquiry)?;
    let (by_tenant, by_status) = (keys::inquiry_by_tenant(inquiry), keys::inquiry_by_status(inquiry));
    item.insert("gsi1pk".into(), s(by_tenant.pk));
    item.insert("gsi1sk".into(), s(by_tenant.sk));
    item.insert("gsi2pk".into(), s(by_status.pk));
    item.insert("gsi2sk".into(), s(by_status.sk));
    Ok(item)
}

/// The inquiry's SLA-queue entry as a write of its change's transaction
/// (see [`keys::sla_queue_entry`]): put while it is escalated with a clock,
/// deleted once it is not; nothing for an inquiry that never had a clock.
fn sla_queue_write(table: &str, inquiry: &Inquiry) -> Result<Option<TransactWriteItem>, StoreError> {
    match keys::sla_queue_entry(inquiry) {
        Some((at, by_tenant, everyone)) => {
            let mut entry = item(&at, inquiry)?;
            entry.insert("gsi1pk".into(), s(by_tenant.pk));
            entry.insert("gsi1sk".into(), s(by_tenant.sk));
            entry.insert("gsi2pk".into(), s(everyone.pk));
            entry.insert("gsi2sk".into(), s(everyone.sk));
            let put = Put::builder().table_name(table).set_item(Some(entry)).build().map_err(request)?;
            Ok(Some(TransactWriteItem::builder().put(put).build()))
        }
        None if inquiry.sla.is_some() => {
            let delete =
                Delete::builder().table_name(table).set_key(Some(key(&keys::sla_queue_item(inquiry.id)))).build().map_err(request)?;
            Ok(Some(TransactWriteItem::builder().delete(delete).build()))
        }
        None => Ok(None),
    }
}

/// The outbox items of the events announcing a change of inquiry `id`
/// made at `stored`: written in the change's transaction, listed oldest
/// first by GSI2 until the relay deletes them.
fn outbox_items(id: InquiryId, stored: Timestamp, events: &[CloudEvent]) -> Result<Vec<Item>, StoreError> {
    events
        .iter()
        .map(|event| {
            let entry = OutboxEntry { inquiry_id: id, stored_at: stored, event: event.clone() };
            let mut item = item(&keys::outbox_entry(id, &event.id), &entry)?;
            let by_age = keys::outbox_by_age(id, &event.id, stored);
            item.insert("gsi2pk".into(), s(by_age.pk));
            item.insert("gsi2sk".into(), s(by_age.sk));
            Ok(item)
        })
        .collect()
}

/// The item of `event` on inquiry `id`'s timeline, keyed by the event's
/// key: written with [`Condition::New`], it is appended once.
fn event_item(id: InquiryId, event: &TimelineEvent) -> Result<Item, StoreError> {
    item(&keys::event(id, &event.key), &StoredEvent::new(event))
}

/// The body of an `IDEM#` item.
#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyBody {
    inquiry_id: InquiryId,
}

/// The body of a `PHONE#` item: the inquiry it finds.
#[derive(Debug, Serialize, Deserialize)]
struct PhoneBody {
    inquiry_id: InquiryId,
}

/// Conditions a write can carry.
enum Condition {
    /// The item must not exist yet.
    New,
    /// Written whatever is there (an outbox entry written again by a retry).
    Any,
    /// The inquiry must still be at this version.
    Version(u64),
}

impl Condition {
    fn apply(self, put: aws_sdk_dynamodb::types::builders::PutBuilder) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        match self {
            Self::New => put.condition_expression("attribute_not_exists(pk)"),
            Self::Any => put,
            Self::Version(v) => put
                .condition_expression("#body.#version = :expected")
                .expression_attribute_names("#body", "body")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(v)),
        }
    }
}

// ---------------------------------------------------------------------------
// Page tokens

#[derive(Debug, Clone, Copy)]
enum Index {
    Gsi1,
    Gsi2,
}

impl Index {
    fn name(self) -> &'static str {
        match self {
            Self::Gsi1 => GSI1,
            Self::Gsi2 => GSI2,
        }
    }

    fn keys(self) -> [&'static str; 2] {
        match self {
            Self::Gsi1 => ["gsi1pk", "gsi1sk"],
            Self::Gsi2 => ["gsi2pk", "gsi2sk"],
        }
    }

    /// The attributes of an index query's `LastEvaluatedKey`.
    fn start_key_attributes(self) -> [&'static str; 4] {
        let [p, s] = self.keys();
        ["pk", "sk", p, s]
    }
}

/// base64url of the next page's `ExclusiveStartKey` as a JSON object of strings.
fn page_token(item: &Item, index: Index) -> Result<String, StoreError> {
    let mut key = BTreeMap::new();
    for name in index.start_key_attributes() {
        match item.get(name) {
            Some(AttributeValue::S(v)) => key.insert(name, v.as_str()),
            _ => return Err(StoreError::Corrupt(format!("an indexed item lacks {name}"))),
        };
    }
    let json = serde_json::to_vec(&key).map_err(|e| StoreError::malformed("a page token", e))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// The start key in `token`, if it is one this listing could have issued.
fn start_key(token: &str, index: Index, partition: &str) -> Result<Item, StoreError> {
    let json = URL_SAFE_NO_PAD.decode(token).map_err(|_| StoreError::InvalidPageToken)?;
    let key: BTreeMap<String, String> = serde_json::from_slice(&json).map_err(|_| StoreError::InvalidPageToken)?;
    let expected = index.start_key_attributes();
    let shaped = key.len() == expected.len() && expected.iter().all(|k| key.contains_key(*k));
    // A token from another tenant's (or status's) listing would start a
    // query in the wrong place; refuse it instead.
    if !shaped || key.get(index.keys()[0]).map(String::as_str) != Some(partition) {
        return Err(StoreError::InvalidPageToken);
    }
    Ok(key.into_iter().map(|(k, v)| (k, s(v))).collect())
}

// ---------------------------------------------------------------------------
// Shared operations

impl DynamoStore {
    fn put(&self, item: Item, condition: Condition) -> Result<TransactWriteItem, StoreError> {
        let put = condition.apply(Put::builder().table_name(&self.table).set_item(Some(item))).build().map_err(request)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs one transaction. The SDK gives each call a fresh
    /// `ClientRequestToken` and keeps it across its retries, so a retry of
    /// a transaction that did apply succeeds instead of failing its conditions.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Tx, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Tx::Done),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    Ok(Tx::Cancelled(c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect()))
                }
                _ => Err(failed("TransactWriteItems", e)),
            },
        }
    }

    async fn get(&self, at: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(at)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", e))?;
        Ok(out.item)
    }

    async fn get_body<T: DeserializeOwned>(&self, at: &Key) -> Result<Option<T>, StoreError> {
        self.get(at).await?.map(decode).transpose()
    }

    /// Writes `item` unconditionally (an upsert).
    async fn upsert(&self, item: Item) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(|e| failed("PutItem", e))?;
        Ok(())
    }

    /// Items of one partition whose sort key starts with `prefix`, in key order.
    async fn partition<T: DeserializeOwned>(&self, pk: &str, prefix: &str) -> Result<Vec<T>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            for item in out.items.unwrap_or_default() {
                found.push(decode(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }

    /// How many items of partition `pk` have a sort key starting with
    /// `prefix` (a consistent count query, all pages).
    async fn count(&self, pk: &str, prefix: &str) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            count += u64::try_from(out.count).unwrap_or(0);
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(count),
            }
        }
    }

    /// The message a marker item claims for `message_key`, if one does.
    async fn claimed_message(&self, id: InquiryId, message_key: &str) -> Result<Option<Message>, StoreError> {
        let Some(marker) = self.get(&keys::message_marker(id, message_key)).await? else { return Ok(None) };
        let Some(AttributeValue::S(sk)) = marker.get("message_sk") else {
            return Err(StoreError::Corrupt(format!("{} marker {message_key} has no message_sk", keys::inquiry_partition(id))));
        };
        let at = Key { pk: keys::inquiry_partition(id), sk: sk.clone() };
        let message = self.get_body(&at).await?.ok_or_else(|| StoreError::Corrupt(format!("{} {sk} is missing", at.pk)))?;
        Ok(Some(message))
    }

    /// The inquiry an idempotency key already points at.
    async fn claimed_by(&self, idem: &Key) -> Result<Option<Inquiry>, StoreError> {
        let Some(claim) = self.get_body::<IdempotencyBody>(idem).await? else {
            return Ok(None);
        };
        let inquiry = self
            .get_inquiry(claim.inquiry_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("{} points at a missing inquiry", idem.pk)))?;
        Ok(Some(inquiry))
    }

    /// Replaces an inquiry if it is still at `expected` (no event).
    async fn put_inquiry_at(&self, item: Item, id: InquiryId, expected: u64) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#body.#version = :expected")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected));
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(stale(id, expected)),
            Err(e) => Err(failed("PutItem", e)),
        }
    }

    /// [`Self::put_inquiry_at`], voiding the inquiry's partner link (when
    /// `void` is given) and storing its outbox items in the same transaction.
    async fn put_inquiry_voiding(
        &self,
        item: Item,
        id: InquiryId,
        expected: u64,
        void: Option<Update>,
        outbox: Vec<Item>,
        queue: Option<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        if void.is_none() && outbox.is_empty() && queue.is_none() {
            return self.put_inquiry_at(item, id, expected).await;
        }
        let voids = void.is_some();
        let mut writes = vec![self.put(item, Condition::Version(expected))?];
        writes.extend(void.map(|u| TransactWriteItem::builder().update(u).build()));
        for entry in outbox {
            writes.push(self.put(entry, Condition::Any)?);
        }
        writes.extend(queue);
        match self.transact(writes).await? {
            Tx::Done => Ok(()),
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 0) => Err(stale(id, expected)),
            Tx::Cancelled(codes) if voids && Tx::failed_at(&codes, 1) => Err(link_used_meanwhile(id)),
            Tx::Cancelled(codes) => Err(cancelled(&codes)),
        }
    }

    /// The update voiding inquiry `id`'s partner link, if it has one still
    /// unused; conditional on it staying unused until the write.
    async fn void_update(&self, id: InquiryId, at: Timestamp) -> Result<Option<Update>, StoreError> {
        let Some(issued): Option<TokenPointer> = self.get_body(&keys::partner_token(id)).await? else { return Ok(None) };
        let token = keys::token(&issued.token_hash);
        let Some(record): Option<TokenRecord> = self.get_body(&token).await? else { return Ok(None) };
        if record.used {
            return Ok(None);
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&token)))
            .update_expression("SET #body.#used = :true, #body.#voided = :at")
            .condition_expression("#body.#used = :false")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#used", "used")
            .expression_attribute_names("#voided", "voided_at")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":at", to_av(&token.pk, &at)?)
            .build()
            .map_err(request)?;
        Ok(Some(update))
    }

    /// Newest-first page over one index partition. Reads one item past the
    /// page so the last page says so (no empty trailing page), as in SQLite.
    /// One page of an index partition: newest (greatest sort key) first,
    /// or earliest first when `forward`.
    async fn index_page(&self, index: Index, partition: String, page: &PageRequest, forward: bool) -> Result<Page<Inquiry>, StoreError> {
        let mut start = page.after.as_deref().map(|t| start_key(t, index, &partition)).transpose()?;
        let limit = page.size() as usize;
        let mut items: Vec<Item> = Vec::new();
        loop {
            let want = i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index.name())
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", index.keys()[0])
                .expression_attribute_values(":p", s(&partition))
                .scan_index_forward(forward)
                .limit(want)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                // A 1 MB response can stop short of `want`: keep reading.
                Some(k) if !k.is_empty() && items.len() <= limit => start = Some(k),
                _ => break,
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|i| page_token(i, index)).transpose()?
        } else {
            None
        };
        let items = items.into_iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next })
    }
}

/// The inquiry's partner link was used while it was being closed: read again.
fn link_used_meanwhile(id: InquiryId) -> StoreError {
    StoreError::Conflict(format!("inquiry {id}: its partner link was used meanwhile"))
}

fn stale(id: InquiryId, expected: u64) -> StoreError {
    StoreError::Conflict(format!("inquiry {id} is no longer at version {expected}"))
}

// ---------------------------------------------------------------------------
// Ports

#[async_trait]
impl InquiryStore for DynamoStore {
    async fn create_inquiry(
        &self,
        inquiry: &Inquiry,
        idempotency_key: Option<&str>,
        event: &TimelineEvent,
        announce: &[CloudEvent],
    ) -> Result<Created, StoreError> {
        let idem = idempotency_key.map(|k| keys::idempotency(&inquiry.tenant_id, k));
        // No read of the claim first: callers ask `claimed_inquiry` before
        // doing the work a new inquiry needs (intake: storing attachments),
        // and the transaction's condition settles a race either way.
        let mut writes = Vec::with_capacity(5);
        if let Some(idem) = &idem {
            let mut claim = item(idem, &IdempotencyBody { inquiry_id: inquiry.id })?;
            claim.insert(TTL_ATTRIBUTE.into(), n(inquiry.created_at.as_second() + IDEMPOTENCY_WINDOW_SECS));
            writes.push(self.put(claim, Condition::New)?);
        }
        let offset = writes.len();
        writes.push(self.put(inquiry_item(inquiry)?, Condition::New)?);
        writes.push(self.put(event_item(inquiry.id, event)?, Condition::New)?);
        for entry in outbox_items(inquiry.id, inquiry.created_at, announce)? {
            writes.push(self.put(entry, Condition::Any)?);
        }
        // Last, so the positions the cancellation codes are read at stay
        // put. Its key names the new inquiry, so nothing else is there.
        if let Some(by_phone) = keys::inquiry_by_phone(inquiry) {
            writes.push(self.put(item(&by_phone, &PhoneBody { inquiry_id: inquiry.id })?, Condition::Any)?);
        }
        match self.transact(writes).await? {
            Tx::Done => Ok(Created::New(inquiry.clone())),
            Tx::Cancelled(codes) => {
                if let Some(idem) = &idem
                    && Tx::failed_at(&codes, 0)
                {
                    // A concurrent submission with the same key won the race.
                    return match self.claimed_by(idem).await? {
                        Some(existing) => Ok(Created::Existing(existing)),
                        None => Err(StoreError::Conflict(format!("{} changed while it was claimed", idem.pk))),
                    };
                }
                if Tx::failed_at(&codes, offset) {
                    return Err(StoreError::Conflict(format!("inquiry {} exists", inquiry.id)));
                }
                if Tx::failed_at(&codes, offset + 1) {
                    return Err(StoreError::Conflict(format!("inquiry {} already has timeline events", inquiry.id)));
                }
                Err(cancelled(&codes))
            }
        }
    }

    async fn get_inquiry(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        self.get_body(&keys::inquiry(id)).await
    }

    async fn claimed_inquiry(&self, tenant: &TenantId, idempotency_key: &str) -> Result<Option<Inquiry>, StoreError> {
        self.claimed_by(&keys::idempotency(tenant, idempotency_key)).await
    }

    async fn inquiries_by_phone(&self, tenant: &TenantId, phone: &PhoneNumber, limit: u32) -> Result<Vec<InquiryId>, StoreError> {
        let pk = keys::phone_inquiries(tenant, phone);
        // One page, newest first: `Limit` bounds what is read, and a
        // customer rarely has more inquiries than that.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":prefix", s(keys::PHONE_INQUIRY_PREFIX))
            .scan_index_forward(false)
            .limit(limit.clamp(1, PageRequest::MAX_SIZE) as i32)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        out.items.unwrap_or_default().into_iter().map(|item| decode::<PhoneBody>(item).map(|b| b.inquiry_id)).collect()
    }

    async fn update_inquiry(
        &self,
        next: &Inquiry,
        expected_version: u64,
        event: Option<&TimelineEvent>,
        announce: &[CloudEvent],
    ) -> Result<Inquiry, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let item = inquiry_item(&next)?;
        let outbox = outbox_items(next.id, next.updated_at, announce)?;
        // Closing the inquiry voids its open partner link in the same transaction.
        let void = if closes_partner_link(&next) { self.void_update(next.id, next.updated_at).await? } else { None };
        // Last in every transaction, so the positions of the writes before it stay as they are.
        let queue = sla_queue_write(&self.table, &next)?;
        let Some(event) = event else {
            self.put_inquiry_voiding(item, next.id, expected_version, void, outbox, queue).await?;
            return Ok(next);
        };
        let mut writes =
            vec![self.put(item.clone(), Condition::Version(expected_version))?, self.put(event_item(next.id, event)?, Condition::New)?];
        writes.extend(void.clone().map(|u| TransactWriteItem::builder().update(u).build()));
        for entry in &outbox {
            writes.push(self.put(entry.clone(), Condition::Any)?);
        }
        writes.extend(queue.clone());
        match self.transact(writes).await? {
            Tx::Done => Ok(next),
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 0) => Err(stale(next.id, expected_version)),
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 1) => {
                // The event's key is already on the timeline. SQLite keeps
                // the update and drops the duplicate event: do the same.
                self.put_inquiry_voiding(item, next.id, expected_version, void, outbox, queue).await?;
                Ok(next)
            }
            Tx::Cancelled(codes) if void.is_some() && Tx::failed_at(&codes, 2) => Err(link_used_meanwhile(next.id)),
            Tx::Cancelled(codes) => Err(cancelled(&codes)),
        }
    }

    async fn pending_events(&self, before: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :p AND gsi2sk < :before")
            .expression_attribute_values(":p", s(keys::OUTBOX_INDEX))
            .expression_attribute_values(":before", s(keys::sort_time(before)))
            .scan_index_forward(true)
            .limit(i32::try_from(limit.clamp(1, PageRequest::MAX_SIZE)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        out.items.unwrap_or_default().into_iter().map(decode).collect()
    }

    async fn clear_event(&self, inquiry: InquiryId, event_id: &str) -> Result<(), StoreError> {
        let at = keys::outbox_entry(inquiry, event_id);
        self.client.delete_item().table_name(&self.table).set_key(Some(key(&at))).send().await.map_err(|e| failed("DeleteItem", e))?;
        Ok(())
    }

    /// One conditional put: the event's key is its sort key, so no read
    /// and no transaction is needed to append it once.
    async fn append_event(&self, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError> {
        self.put_new(event_item(id, event)?).await
    }

    async fn timeline(&self, id: InquiryId) -> Result<Vec<TimelineEvent>, StoreError> {
        let stored = self.partition(&keys::inquiry_partition(id), keys::EVENT_PREFIX).await?;
        Ok(timeline_order::in_order(stored))
    }

    async fn list_by_tenant(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        self.index_page(Index::Gsi1, keys::tenant_inquiries(tenant), page, false).await
    }

    async fn list_by_status(&self, status: InquiryStatus, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        self.index_page(Index::Gsi2, keys::status_inquiries(status), page, false).await
    }

    async fn sla_queue(&self, tenant: Option<&TenantId>, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        match tenant {
            Some(tenant) => self.index_page(Index::Gsi1, keys::tenant_sla_queue(tenant), page, true).await,
            None => self.index_page(Index::Gsi2, keys::SLA_QUEUE_INDEX.to_owned(), page, true).await,
        }
    }

    async fn put_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError> {
        self.upsert(item(&keys::attachment(record.inquiry_id, record.index), record)?).await
    }

    async fn attachments(&self, id: InquiryId) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.partition(&keys::inquiry_partition(id), keys::ATTACHMENT_PREFIX).await
    }

    async fn delete_orphan_attachments(&self, id: InquiryId) -> Result<usize, StoreError> {
        let records: Vec<AttachmentRecord> = self.attachments(id).await?;
        if records.is_empty() {
            return Ok(0);
        }
        // The inquiry's absence is checked in the same transaction as the deletes.
        let absent = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::inquiry(id))))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(request)?;
        let mut writes = vec![TransactWriteItem::builder().condition_check(absent).build()];
        for record in &records {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(&keys::attachment(id, record.index))))
                .build()
                .map_err(request)?;
            writes.push(TransactWriteItem::builder().delete(delete).build());
        }
        match self.transact(writes).await? {
            Tx::Done => Ok(records.len()),
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 0) => Ok(0),
            Tx::Cancelled(codes) => Err(cancelled(&codes)),
        }
    }

    async fn put_ai_response(&self, record: &AiResponseRecord) -> Result<(), StoreError> {
        let item = item(&keys::ai_response(record.inquiry_id, record.at), record)?;
        // First write wins, like SQLite's ON CONFLICT DO NOTHING.
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)");
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(failed("PutItem", e)),
        }
    }

    async fn ai_responses(&self, id: InquiryId) -> Result<Vec<AiResponseRecord>, StoreError> {
        self.partition(&keys::inquiry_partition(id), keys::AI_RESPONSE_PREFIX).await
    }

    async fn append_message(&self, message: &Message, announce: &[CloudEvent]) -> Result<Appended, StoreError> {
        let id = message.inquiry_id;
        // No read of the marker first: repeats (a retried call, a
        // redelivery) are rare, and the transaction's condition finds them,
        // so a first append costs one count and one transaction.
        let outbox = outbox_items(id, message.created_at, announce)?;
        for _ in 0..APPEND_ATTEMPTS {
            let stored = self.count(&keys::inquiry_partition(id), keys::MESSAGE_PREFIX).await?;
            let mut next = message.clone();
            next.sequence = switchboard_domain::message::ORIGINAL_SEQUENCE + 1 + u32::try_from(stored).unwrap_or(u32::MAX - 1);
            let at = keys::message(id, next.sequence);
            let mut marker = key(&keys::message_marker(id, &next.key));
            marker.insert("message_sk".into(), s(&at.sk));
            let event = crate::message_event(&next);
            let mut writes = vec![
                self.put(marker, Condition::New)?,
                self.put(item(&at, &next)?, Condition::New)?,
                self.put(event_item(id, &event)?, Condition::New)?,
            ];
            for entry in &outbox {
                writes.push(self.put(entry.clone(), Condition::Any)?);
            }
            match self.transact(writes).await? {
                Tx::Done => return Ok(Appended::New(next)),
                // The message was appended before (or concurrently).
                Tx::Cancelled(codes) if Tx::failed_at(&codes, 0) => {
                    return match self.claimed_message(id, &message.key).await? {
                        Some(existing) => Ok(Appended::Existing(existing)),
                        None => Err(StoreError::Conflict(format!("message {} changed while it was claimed", message.key))),
                    };
                }
                // Another message took this number: count again.
                Tx::Cancelled(codes) if Tx::failed_at(&codes, 1) => continue,
                Tx::Cancelled(codes) if Tx::failed_at(&codes, 2) => {
                    return Err(StoreError::Corrupt(format!("inquiry {id}: message {} has an event but no marker", message.key)));
                }
                Tx::Cancelled(codes) => return Err(cancelled(&codes)),
            }
        }
        Err(StoreError::Conflict(format!("inquiry {id}: concurrent message appends kept winning")))
    }

    async fn messages(&self, id: InquiryId, after: u32, limit: u32) -> Result<Vec<Message>, StoreError> {
        let from = keys::message(id, after);
        let limit = limit.clamp(1, PageRequest::MAX_SIZE) as usize;
        let mut found: Vec<Message> = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(&from.pk))
                .expression_attribute_values(":from", s(&from.sk))
                .expression_attribute_values(":to", s(keys::messages_end()))
                .consistent_read(true)
                .limit(i32::try_from(limit + 1 - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let message: Message = decode(item)?;
                // BETWEEN includes its lower end: the message the page starts after.
                if message.sequence > after {
                    found.push(message);
                }
            }
            match out.last_evaluated_key {
                // A 1 MB response can stop short: keep reading.
                Some(k) if !k.is_empty() && found.len() < limit => start = Some(k),
                _ => break,
            }
        }
        found.truncate(limit);
        Ok(found)
    }
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let mut item = item(&keys::tenant(&tenant.id), tenant)?;
        let by_api_key = keys::tenant_by_api_key(&tenant.api_key_hash);
        item.insert("gsi1pk".into(), s(by_api_key.pk));
        item.insert("gsi1sk".into(), s(by_api_key.sk));
        self.upsert(item).await
    }

    async fn update_tenant(&self, next: &Tenant, expected_version: u64) -> Result<Tenant, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let mut item = item(&keys::tenant(&next.id), &next)?;
        let by_api_key = keys::tenant_by_api_key(&next.api_key_hash);
        item.insert("gsi1pk".into(), s(by_api_key.pk));
        item.insert("gsi1sk".into(), s(by_api_key.sk));
        // Tenants stored before versions existed have none: version 0 (`put_versioned` allows that).
        self.put_versioned(&keys::tenant(&next.id), item, expected_version, &format!("tenant {}", next.id)).await?;
        Ok(next)
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.get_body(&keys::tenant(id)).await
    }

    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>, StoreError> {
        let by_api_key = keys::tenant_by_api_key(hash);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p AND gsi1sk = :s")
            .expression_attribute_values(":p", s(by_api_key.pk))
            .expression_attribute_values(":s", s(by_api_key.sk))
            .limit(1)
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        out.items.unwrap_or_default().into_iter().next().map(decode).transpose()
    }

    /// Scans the whole table with a filter: every item is read (and paid
    /// for) to find the tenants. Fine for start-up and admin commands on a
    /// table of this size; a hot path would need its own index partition.
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let mut tenants: Vec<Tenant> = self.scan_metadata(keys::TENANT_PREFIX).await?.into_iter().map(decode).collect::<Result<_, _>>()?;
        // The SQLite adapter orders by pk (`TENANT#{id}`, see `keys::tenant`): the same as by id.
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(tenants)
    }
}

#[async_trait]
impl CorrectionStore for DynamoStore {
    async fn put_correction(&self, correction: &Correction) -> Result<(), StoreError> {
        self.upsert(item(&keys::correction(&correction.tenant_id, correction.inquiry_id), correction)?).await
    }

    async fn corrections(&self, tenant: &TenantId) -> Result<Vec<Correction>, StoreError> {
        self.partition(&keys::tenant_partition(tenant), keys::CORRECTION_PREFIX).await.map(crate::in_time_order)
    }
}

impl DynamoStore {
    /// Puts `item` only if its key is free; `false` if it was taken.
    async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)");
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(failed("PutItem", e)),
        }
    }

    /// Replaces the item at `at` if its body's `version` is still `expected`
    /// (0 also matches an item stored before it had a version).
    async fn put_versioned(&self, at: &Key, item: Item, expected: u64, what: &str) -> Result<(), StoreError> {
        let condition = if expected == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(#body.#version) OR #body.#version = :expected)"
        } else {
            "#body.#version = :expected"
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected));
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => match self.get(at).await? {
                Some(_) => Err(StoreError::Conflict(format!("{what} is no longer at version {expected}"))),
                None => Err(StoreError::NotFound(what.to_owned())),
            },
            Err(e) => Err(failed("PutItem", e)),
        }
    }
}

/// An item that expires (DynamoDB's TTL) at `expires_at`.
fn expiring<T: Serialize>(at: &Key, body: &T, expires_at: Timestamp) -> Result<Item, StoreError> {
    let mut item = item(at, body)?;
    item.insert(TTL_ATTRIBUTE.into(), n(expires_at.as_second()));
    Ok(item)
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let item = item(&keys::webhook_endpoint(&endpoint.tenant_id, &endpoint.id), endpoint)?;
        if self.put_new(item).await? { Ok(()) } else { Err(StoreError::Conflict(format!("webhook endpoint {} exists", endpoint.id))) }
    }

    async fn get_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.get_body(&keys::webhook_endpoint(tenant, id)).await
    }

    async fn endpoints(&self, tenant: &TenantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.partition(&keys::tenant_partition(tenant), keys::WEBHOOK_PREFIX).await
    }

    async fn update_endpoint(&self, next: &WebhookEndpoint, expected_version: u64) -> Result<WebhookEndpoint, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let at = keys::webhook_endpoint(&next.tenant_id, &next.id);
        self.put_versioned(&at, item(&at, &next)?, expected_version, &format!("webhook endpoint {}", next.id)).await?;
        Ok(next)
    }

    async fn delete_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::webhook_endpoint(tenant, id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| failed("DeleteItem", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn create_message(&self, message: &WebhookMessage) -> Result<WebhookMessage, StoreError> {
        let at = keys::webhook_message(&message.endpoint_id, &message.id);
        if self.put_new(expiring(&at, message, message.expires_at)?).await? {
            return Ok(message.clone());
        }
        self.get_body(&at).await?.ok_or(StoreError::Corrupt(at.pk))
    }

    async fn get_message(&self, endpoint: &WebhookEndpointId, id: &str, now: Timestamp) -> Result<Option<WebhookMessage>, StoreError> {
        let found: Option<WebhookMessage> = self.get_body(&keys::webhook_message(endpoint, id)).await?;
        Ok(found.filter(|m| m.expires_at > now))
    }

    async fn update_message(&self, next: &WebhookMessage, expected_version: u64) -> Result<WebhookMessage, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let at = keys::webhook_message(&next.endpoint_id, &next.id);
        self.put_versioned(&at, expiring(&at, &next, next.expires_at)?, expected_version, &format!("webhook message {}", next.id)).await?;
        Ok(next)
    }

    async fn log_attempt(&self, attempt: &DeliveryAttempt, _now: Timestamp) -> Result<(), StoreError> {
        let at = keys::webhook_attempt(attempt);
        // Logged before (a retried call): the first stays.
        self.put_new(expiring(&at, attempt, attempt.expires_at)?).await.map(drop)
    }

    async fn attempts(&self, endpoint: &WebhookEndpointId, limit: u32, now: Timestamp) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let limit = usize::try_from(limit.clamp(1, PageRequest::MAX_SIZE)).unwrap_or(1);
        let pk = keys::webhook_log(endpoint);
        let mut found = Vec::new();
        let mut start = None;
        // Newest first; items TTL has not removed yet are skipped, so a page may take more than one query.
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(keys::WEBHOOK_ATTEMPT_PREFIX))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let attempt: DeliveryAttempt = decode(item)?;
                if attempt.expires_at > now {
                    found.push(attempt);
                }
                if found.len() == limit {
                    return Ok(found);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }
}

impl DynamoStore {
    /// Moves one legacy reservation item (see `migrate_legacy_reservations`).
    async fn migrate_legacy_reservation(&self, legacy: Item, migration: &mut ReservationMigration) -> Result<(), StoreError> {
        let Some(AttributeValue::S(pk)) = legacy.get("pk").cloned() else { return Ok(()) };
        let body = legacy.get("body").cloned();
        // The tenant is read from the record: it has been a required field
        // since reservations were first stored, so only a damaged item lacks it.
        let Ok(reservation) = decode::<Reservation>(legacy) else {
            migration.unreadable.push(pk);
            return Ok(());
        };
        let mut moved = key(&keys::reservation(&reservation.tenant_id, &reservation.reservation_number));
        // The body as stored, not re-encoded: the move changes the key only.
        moved.insert("body".into(), body.ok_or_else(|| StoreError::Corrupt(format!("{pk} has no body")))?);
        let put = self.client.put_item().table_name(&self.table).set_item(Some(moved)).condition_expression("attribute_not_exists(pk)");
        match put.send().await {
            Ok(_) => migration.moved += 1,
            Err(e) if condition_failed(&e) => migration.superseded += 1,
            Err(e) => return Err(failed("PutItem", e)),
        }
        let old = Key { pk, sk: METADATA.to_owned() };
        self.client.delete_item().table_name(&self.table).set_key(Some(key(&old))).send().await.map_err(|e| failed("DeleteItem", e))?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn put_session(&self, hash: &str, session: &ConsoleSession) -> Result<(), StoreError> {
        let at = keys::console_session(hash);
        match self.put_new(expiring(&at, session, session.expires_at)?).await? {
            true => Ok(()),
            false => Err(StoreError::Conflict("a session with this id exists".into())),
        }
    }

    async fn get_session(&self, hash: &str, now: Timestamp) -> Result<Option<ConsoleSession>, StoreError> {
        // TTL deletes expired items only eventually (up to days later).
        let session: Option<ConsoleSession> = self.get_body(&keys::console_session(hash)).await?;
        Ok(session.filter(|s| s.expires_at > now))
    }

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        let at = keys::console_session(hash);
        self.client.delete_item().table_name(&self.table).set_key(Some(key(&at))).send().await.map_err(|e| failed("DeleteItem", e))?;
        Ok(())
    }
}

#[async_trait]
impl ReservationStore for DynamoStore {
    async fn put_reservation(&self, reservation: &Reservation) -> Result<(), StoreError> {
        self.upsert(item(&keys::reservation(&reservation.tenant_id, &reservation.reservation_number), reservation)?).await
    }

    async fn get_reservation(&self, tenant: &TenantId, number: &ReservationNumber) -> Result<Option<Reservation>, StoreError> {
        self.get_body(&keys::reservation(tenant, number)).await
    }

    async fn reservations(&self, tenant: &TenantId) -> Result<Vec<Reservation>, StoreError> {
        self.partition(&keys::tenant_partition(tenant), keys::RESERVATION_PREFIX).await
    }

    /// Scans the table for the legacy `RES#` partitions (every item is
    /// read to find them: an admin command's cost, run by `switchboard
    /// reservations migrate`, never on a request path) and moves each item
    /// by itself: a conditional put of the tenant's key (a reservation
    /// already there is newer and is kept), then the delete of the legacy
    /// item. A run stopped between the two leaves the legacy item, which
    /// the next run deletes, finding the put already done.
    async fn migrate_legacy_reservations(&self) -> Result<ReservationMigration, StoreError> {
        let mut migration = ReservationMigration::default();
        for legacy in self.scan_metadata(keys::RESERVATION_PREFIX).await? {
            self.migrate_legacy_reservation(legacy, &mut migration).await?;
        }
        for pk in &migration.unreadable {
            tracing::warn!(pk = %pk, "a legacy reservation item names no tenant: left in place, read by nothing");
        }
        Ok(migration)
    }
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn put_token(&self, record: &TokenRecord) -> Result<TokenRecord, StoreError> {
        let (token, pointer) = (keys::token(&record.token_hash), keys::partner_token(record.inquiry_id));
        let mut token_item = item(&token, record)?;
        token_item.insert(TTL_ATTRIBUTE.into(), n(record.expires_at.as_second()));
        let pointer_item = item(&pointer, &TokenPointer { token_hash: record.token_hash.clone() })?;
        match self.transact(vec![self.put(pointer_item, Condition::New)?, self.put(token_item, Condition::New)?]).await? {
            Tx::Done => Ok(record.clone()),
            // A redelivered dispatcher: the inquiry's first link (maybe used) wins.
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 0) => {
                let issued: TokenPointer = self.get_body(&pointer).await?.ok_or_else(|| StoreError::Corrupt(pointer.pk.clone()))?;
                let token = keys::token(&issued.token_hash);
                self.get_body(&token).await?.ok_or(StoreError::Corrupt(token.pk))
            }
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 1) => self.get_body(&token).await?.ok_or(StoreError::Corrupt(token.pk)),
            Tx::Cancelled(codes) => Err(cancelled(&codes)),
        }
    }

    async fn get_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.get_body(&keys::token(hash)).await
    }

    async fn mark_token_opened(&self, hash: &str, at: Timestamp) -> Result<bool, StoreError> {
        let token = keys::token(hash);
        // Only this field changes, so a concurrent consume is never overwritten.
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&token)))
            .update_expression("SET #body.#opened = :at")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(#body.#opened) OR attribute_type(#body.#opened, :null))")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#opened", "opened_at")
            .expression_attribute_values(":at", to_av(&token.pk, &at)?)
            .expression_attribute_values(":null", s("NULL"));
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => match self.get(&token).await? {
                Some(_) => Ok(false),
                None => Err(StoreError::NotFound(token.pk)),
            },
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }

    async fn void_tokens(&self, inquiry: InquiryId, at: Timestamp) -> Result<bool, StoreError> {
        let Some(void) = self.void_update(inquiry, at).await? else { return Ok(false) };
        match self.transact(vec![TransactWriteItem::builder().update(void).build()]).await? {
            Tx::Done => Ok(true),
            // Answered or timed out meanwhile: that use stands.
            Tx::Cancelled(codes) if Tx::failed_at(&codes, 0) => Ok(false),
            Tx::Cancelled(codes) => Err(cancelled(&codes)),
        }
    }

    async fn consume_token(&self, hash: &str, outcome: &PartnerOutcome, at: Timestamp) -> Result<TokenRecord, StoreError> {
        let token = keys::token(hash);
        let pk = &token.pk;
        // The condition is the single-use guarantee.
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&token)))
            .update_expression("SET #body.#used = :true, #body.#outcome = :outcome, #body.#used_at = :at")
            .condition_expression("#body.#used = :false")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#used", "used")
            .expression_attribute_names("#outcome", "outcome")
            .expression_attribute_names("#used_at", "used_at")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":outcome", to_av(pk, outcome)?)
            .expression_attribute_values(":at", to_av(pk, &at)?)
            .return_values(ReturnValue::AllNew);
        match update.send().await {
            Ok(out) => decode(out.attributes.ok_or_else(|| StoreError::Corrupt(format!("{pk}: no attributes returned")))?),
            Err(e) if condition_failed(&e) => match self.get(&token).await? {
                Some(_) => Err(StoreError::Conflict("the token was already used".into())),
                None => Err(StoreError::NotFound(token.pk)),
            },
            Err(e) => Err(failed("UpdateItem", e)),
        }
    }
}

// ---------------------------------------------------------------------------
// Provisioning

fn attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().map_err(request)
}

fn key_schema(partition: &str, sort: &str) -> Result<Vec<KeySchemaElement>, StoreError> {
    Ok(vec![
        KeySchemaElement::builder().attribute_name(partition).key_type(KeyType::Hash).build().map_err(request)?,
        KeySchemaElement::builder().attribute_name(sort).key_type(KeyType::Range).build().map_err(request)?,
    ])
}

fn index(index: Index) -> Result<GlobalSecondaryIndex, StoreError> {
    let [p, s] = index.keys();
    GlobalSecondaryIndex::builder()
        .index_name(index.name())
        .set_key_schema(Some(key_schema(p, s)?))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(request)
}

/// Creates the table if it is missing (on-demand billing, `pk`/`sk` keys,
/// GSI1 and GSI2 projecting everything, encryption at rest with the
/// AWS-managed key) and turns TTL on for `expires_at`. Waits until the
/// table and its indexes are active. Returns whether anything changed, so
/// a second call returns `false`.
///
/// An existing table without the two indexes is an error: adding indexes
/// to a live table is a migration, not something to do at start-up.
pub async fn ensure_table(client: &Client, table: &str) -> Result<bool, StoreError> {
    let mut changed = false;
    match client.describe_table().table_name(table).send().await {
        Ok(out) => {
            let names: Vec<&str> =
                out.table().map(|t| t.global_secondary_indexes().iter().filter_map(|i| i.index_name()).collect()).unwrap_or_default();
            if let Some(missing) = [GSI1, GSI2].into_iter().find(|i| !names.contains(i)) {
                return Err(StoreError::Unavailable(format!(
                    "table {table} exists without index {missing}: migrate it or pick another prefix"
                )));
            }
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            let created = client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .set_attribute_definitions(Some(
                    ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"].into_iter().map(attribute).collect::<Result<_, _>>()?,
                ))
                .set_key_schema(Some(key_schema("pk", "sk")?))
                .global_secondary_indexes(index(Index::Gsi1)?)
                .global_secondary_indexes(index(Index::Gsi2)?)
                .sse_specification(SseSpecification::builder().enabled(true).build())
                .send()
                .await;
            match created {
                Ok(_) => changed = true,
                // Another process created it a moment ago: wait for it like ours.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(failed("CreateTable", e)),
            }
        }
        Err(e) => return Err(failed("DescribeTable", e)),
    }
    wait_until_active(client, table).await?;
    if ensure_ttl(client, table).await? {
        changed = true;
    }
    Ok(changed)
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + ACTIVE_PATIENCE;
    loop {
        let out = client.describe_table().table_name(table).send().await.map_err(|e| failed("DescribeTable", e))?;
        let ready = out.table().is_some_and(|t| {
            t.table_status() == Some(&TableStatus::Active)
                && t.global_secondary_indexes().iter().all(|i| i.index_status() == Some(&IndexStatus::Active))
        });
        if ready {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!("table {table} did not become active within {ACTIVE_PATIENCE:?}")));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn ensure_ttl(client: &Client, table: &str) -> Result<bool, StoreError> {
    let out = client.describe_time_to_live().table_name(table).send().await.map_err(|e| failed("DescribeTimeToLive", e))?;
    let current = out.time_to_live_description();
    let status = current.and_then(|d| d.time_to_live_status());
    let attribute = current.and_then(|d| d.attribute_name());
    match status {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) if attribute == Some(TTL_ATTRIBUTE) => return Ok(false),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
            return Err(StoreError::Unavailable(format!(
                "table {table} expires items by {:?}, not {TTL_ATTRIBUTE}",
                attribute.unwrap_or_default()
            )));
        }
        Some(TimeToLiveStatus::Disabling) => {
            return Err(StoreError::Unavailable(format!("table {table} is still turning TTL off; try again later")));
        }
        _ => {}
    }
    let spec = TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL_ATTRIBUTE).build().map_err(request)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| failed("UpdateTimeToLive", e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexed_item() -> Item {
        HashMap::from([
            ("pk".to_owned(), s("INQUIRY#1")),
            ("sk".to_owned(), s("METADATA")),
            ("gsi1pk".to_owned(), s("TENANT#t")),
            ("gsi1sk".to_owned(), s("INQUIRY#000001700000000000#1")),
        ])
    }

    #[test]
    fn page_tokens_round_trip_into_the_start_key() {
        let token = page_token(&indexed_item(), Index::Gsi1).unwrap();
        let key = start_key(&token, Index::Gsi1, "TENANT#t").unwrap();
        assert_eq!(key, indexed_item());
    }

    #[test]
    fn page_tokens_of_another_listing_or_garbage_are_refused() {
        let token = page_token(&indexed_item(), Index::Gsi1).unwrap();
        for (token, index, partition) in [
            (token.as_str(), Index::Gsi1, "TENANT#u"),
            (token.as_str(), Index::Gsi2, "TENANT#t"),
            ("!!", Index::Gsi1, "TENANT#t"),
            ("e30", Index::Gsi1, "TENANT#t"),
        ] {
            assert!(matches!(start_key(token, index, partition), Err(StoreError::InvalidPageToken)), "{token}");
        }
    }

    #[test]
    fn inquiry_items_carry_the_index_keys_the_sqlite_adapter_writes() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let inquiry = switchboard_domain::fixtures::InquiryBuilder::new().tenant(TenantId::parse("t").unwrap()).created_at(now, 1).build();
        let item = inquiry_item(&inquiry).unwrap();
        let id = inquiry.id;
        assert_eq!(item["gsi1pk"], s("TENANT#t"));
        assert_eq!(item["gsi1sk"], s(format!("INQUIRY#001700000000000#{id}")));
        assert_eq!(item["gsi2pk"], s("STATUS#received"));
        assert_eq!(item["gsi2sk"], s(format!("001700000000000#{id}")));
        assert_eq!(decode::<Inquiry>(item).unwrap(), inquiry);
    }
}
