//! The single table's key layout. Every key both adapters write (the
//! SQLite table of [`crate::sqlite`], the DynamoDB table of
//! [`crate::dynamodb`]) and the sent-message ledger of
//! `switchboard-channels` is built here, so the two backends hold the same
//! items under the same keys:
//!
//! | item | `pk` | `sk` | index keys and other attributes |
//! |---|---|---|---|
//! | tenant | `TENANT#{id}` | `METADATA` | GSI1 `APIKEY#{hash}` / `TENANT` |
//! | operator's correction | `TENANT#{id}` | `CORRECTION#{inquiry id}` | one per inquiry |
//! | reservation | `TENANT#{tenant}` | `RES#{number}` | in its tenant's partition: the same number in two tenants is two items |
//! | inquiry | `INQUIRY#{id}` | `METADATA` | GSI1 `TENANT#{tenant}` / `INQUIRY#{created}#{id}`; GSI2 `STATUS#{status}` / `{created}#{id}` |
//! | timeline event | `INQUIRY#{id}` | `EVENT#{event key}` | the key is the event's dedupe key, so one conditional put appends it once; body: the event and its `written` stamp (order of writing); SQLite's `dedupe` column holds the same `EVENT#{event key}` |
//! | timeline event (legacy) | `INQUIRY#{id}` | `EVENT#{at}#{seq, 6 digits}` | written before events were keyed by their key; read as before, never written |
//! | event key marker (DynamoDB, legacy) | `INQUIRY#{id}` | `EVENTKEY#{event key}` | `event_sk`: the legacy event's sort key; no longer written |
//! | AI response | `INQUIRY#{id}` | `AI_RESPONSE#{at}` | |
//! | message | `INQUIRY#{id}` | `MSG#{sequence, 6 digits}` | one of the inquiry's conversation, from 2 (message 1 is the inquiry's text, never stored); deduplicated by the message's key: SQLite's `dedupe` column holds `MSG#{message key}`, DynamoDB writes a marker item (next row) |
//! | message key marker (DynamoDB) | `INQUIRY#{id}` | `MSGKEY#{message key}` | `message_sk`: the message's sort key |
//! | attachment | `INQUIRY#{id}` | `ATTACHMENT#{n, 2 digits}` | |
//! | reservation before tenant keys (legacy) | `RES#{number}` | `METADATA` | read by nothing; moved by [`crate::ReservationStore::migrate_legacy_reservations`] |
//! | token | `TOKEN#{hash}` | `METADATA` | `expires_at` (TTL) |
//! | an inquiry's token | `INQUIRY#{id}` | `PARTNER_TOKEN` | body `{token_hash}`: the one link issued for the inquiry |
//! | outbox entry | `INQUIRY#{id}` | `OUTBOX#{event id}` | GSI2 `OUTBOX` / `{stored}#{id}#{event id}`: an event written with a state change, until it is published |
//! | an inquiry by its customer's phone | `PHONE#{tenant}#{sha256 of the E.164 phone}` | `INQUIRY#{created}#{id}` | body `{inquiry_id}`: written with each inquiry that has a phone, in its creation's transaction; read newest first |
//! | console session | `SESSION#{sha256 of the cookie's id}` | `METADATA` | `expires_at` (TTL) |
//! | an escalated inquiry in the SLA queue | `INQUIRY#{id}` | `SLA_QUEUE` | GSI1 `SLA#{tenant}` / `{due}#{id}`; GSI2 `SLA` / `{due}#{id}`; body: the inquiry. Written with every change of an escalated inquiry that has an SLA clock, deleted by the change that moves it on |
//! | idempotency key | `IDEM#{tenant}#{key}` | `METADATA` | `expires_at` (TTL), body `{inquiry_id}` |
//! | sent message | `SENT#{message id}` | `METADATA` | written by the SNS/SES senders of `switchboard-channels`; `expires_at` (TTL) |
//! | webhook endpoint | `TENANT#{id}` | `WEBHOOK#{endpoint id}` | in its tenant's partition; `version` in the body (conditional updates) |
//! | webhook message | `WEBHOOK#{endpoint id}` | `MSG#{message id}` | the body sent, its round and attempts; `expires_at` (TTL) |
//! | webhook delivery attempt | `WEBHOOK#{endpoint id}` | `ATTEMPT#{at}#{message id}#{round, 4 digits}#{attempt, 3 digits}` | the delivery log, read newest first; `expires_at` (TTL) |
//!
//! Times in keys (`{created}`, `{at}`) are [`sort_time`].
//!
//! A timeline event is keyed by its dedupe key alone (`EVENT#{event key}`),
//! so appending it is one conditional put (`attribute_not_exists`) with no
//! read first and no second item: a redelivered handler's append, whenever
//! it comes, lands on the same key and is refused. The key says nothing of
//! time, so the timeline is put in order when it is read (it is always read
//! whole): by the event's time, then by its `written` stamp, which keeps
//! events of the same millisecond in the order they were written
//! (`timeline_order.rs`). Events used to be keyed by time and a
//! sequence number (`EVENT#{at}#{seq}`), which cost a count query before
//! every append and, on DynamoDB, a marker item `EVENTKEY#{event key}`
//! claiming the key in the same transaction; such items are still read
//! (they sort among the new ones by their time) and never written again.
//! A key beginning with `EVENT#` and fifteen digits is a legacy one; event
//! keys are words (`status.received`, `partner.sms_sent#1`), never digits.
//!
//! A reservation belongs to a tenant, and its number is unique only
//! within that tenant (two businesses can import the same upstream
//! number). It used to be keyed `RES#{number}` alone, so a second tenant's
//! import replaced the first tenant's booking. It now lives in its
//! tenant's partition, sort key `RES#{number}`. Either that or
//! `RES#{tenant}#{number}` makes every read name the tenant (the key cannot
//! be built without it); the tenant's partition was chosen because no
//! `RES#…` partition key is ever written again, so the migration finds
//! exactly the legacy items by their prefix (and finds none, cheaply, once
//! they are moved, which lets every embedded open run it), and a tenant's
//! data stays together with its record and corrections. Reservations are
//! imported at a few per second and read one at a time, far below what one
//! DynamoDB partition serves, so sharing the tenant's partition costs no
//! throughput that matters.
//!
//! A message's sort key is its sequence number alone, zero-padded so it
//! sorts as text: the conversation's order is the order messages were
//! appended, which is what a reader expects to see, and a page of it starts
//! after the last sequence number read without a time in the token. Time
//! first (as events are keyed) would let two clocks (a gateway's and a
//! worker's) reorder a reply and the message it answers. The store gives
//! the number in the append's transaction (one more than the messages
//! stored; a concurrent append that took it is retried), so the sequence
//! has no gaps. Six digits hold 999,999 messages per inquiry.
//!
//! An inbound text message names only the sender's phone (and the number
//! it was sent to, which names the tenant): the `PHONE#` partition finds
//! that customer's inquiries with one `Query`, newest first, not a scan.
//! The number is hashed ([`PhoneNumber::lookup_hash`]) so it is not a key
//! anyone listing keys reads, and the tenant is in the partition key, so a
//! lookup cannot reach another tenant's inquiry (the same customer writing
//! to two businesses is two partitions). The item holds only the id: the
//! inquiry's status changes, and the reader checks it on the inquiry itself.
//! Inquiries stored before this item existed have none and are not found.
//!
//! The SLA queue is what operators work through: escalated inquiries,
//! earliest first-response deadline first, for one tenant (GSI1) or all
//! (GSI2). An item cannot sit in two partitions of one index, and the
//! inquiry's own index keys list it by tenant and status, so the queue is
//! an item of its own in the inquiry's partition, copying the inquiry: the
//! store writes it in the transaction of every change of an escalated
//! inquiry with a clock (its deadline or state may have changed), and
//! deletes it in the change that moves the inquiry out of `escalated`
//! (only an inquiry that has a clock can have the item, so other writes
//! pay nothing). Its sort key starts with the deadline, so a range read
//! in key order is the queue in deadline order.
//!
//! GSI1 lists a tenant's inquiries newest first and finds a tenant by the
//! hash of its API key; GSI2 lists inquiries in one status newest first,
//! and the outbox's unpublished events oldest first. Both project the
//! whole item.

use jiff::Timestamp;
use switchboard_domain::webhook::{DeliveryAttempt, WebhookEndpointId};
use switchboard_domain::{Inquiry, InquiryId, InquiryStatus, PhoneNumber, ReservationNumber, TenantId};

/// The sort key of every item that is alone in its partition.
pub const METADATA: &str = "METADATA";
/// Sort-key prefix of an inquiry's timeline events.
pub const EVENT_PREFIX: &str = "EVENT#";
/// Sort-key prefix of an inquiry's attachments.
pub const ATTACHMENT_PREFIX: &str = "ATTACHMENT#";
/// Sort-key prefix of an inquiry's AI responses.
pub const AI_RESPONSE_PREFIX: &str = "AI_RESPONSE#";
/// Sort-key prefix of an inquiry's messages.
pub const MESSAGE_PREFIX: &str = "MSG#";
/// Partition-key prefix of tenants.
pub const TENANT_PREFIX: &str = "TENANT#";
/// Sort-key prefix of a tenant's corrections (in the tenant's partition).
pub const CORRECTION_PREFIX: &str = "CORRECTION#";
/// Partition-key prefix of the sent-message ledger.
pub const SENT_PREFIX: &str = "SENT#";
/// Sort-key prefix of a tenant's webhook endpoints (in the tenant's partition).
pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
/// Sort-key prefix of an endpoint's messages (in the endpoint's log partition).
pub const WEBHOOK_MESSAGE_PREFIX: &str = "MSG#";
/// Sort-key prefix of an endpoint's delivery attempts (in the endpoint's log partition).
pub const WEBHOOK_ATTEMPT_PREFIX: &str = "ATTEMPT#";

/// A partition key and a sort key: an item's primary key, or its key in one index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    fn metadata(pk: String) -> Self {
        Self { pk, sk: METADATA.to_owned() }
    }
}

/// Zero-padded milliseconds since the epoch (15 digits): sorts as text in time order.
pub fn sort_time(t: Timestamp) -> String {
    format!("{:015}", t.as_millisecond().max(0))
}

/// A tenant.
pub fn tenant(id: &TenantId) -> Key {
    Key::metadata(tenant_partition(id))
}

/// The partition of a tenant: its record and its corrections.
pub fn tenant_partition(id: &TenantId) -> String {
    format!("{TENANT_PREFIX}{id}")
}

/// The operators' correction of inquiry `inquiry`, in its tenant's partition.
pub fn correction(tenant: &TenantId, inquiry: InquiryId) -> Key {
    Key { pk: tenant_partition(tenant), sk: format!("{CORRECTION_PREFIX}{inquiry}") }
}

/// A tenant's GSI1 key: found by the hash of its API key.
pub fn tenant_by_api_key(hash: &str) -> Key {
    Key { pk: format!("APIKEY#{hash}"), sk: "TENANT".to_owned() }
}

/// The partition of an inquiry: its record, timeline, messages, attachments and AI responses.
pub fn inquiry_partition(id: InquiryId) -> String {
    format!("INQUIRY#{id}")
}

/// An inquiry's record.
pub fn inquiry(id: InquiryId) -> Key {
    Key::metadata(inquiry_partition(id))
}

/// The GSI1 partition listing a tenant's inquiries.
pub fn tenant_inquiries(tenant: &TenantId) -> String {
    format!("{TENANT_PREFIX}{tenant}")
}

/// An inquiry's GSI1 key: in its tenant's listing, by creation time.
pub fn inquiry_by_tenant(inquiry: &Inquiry) -> Key {
    Key { pk: tenant_inquiries(&inquiry.tenant_id), sk: format!("INQUIRY#{}#{}", sort_time(inquiry.created_at), inquiry.id) }
}

/// The GSI2 partition listing the inquiries in `status`.
pub fn status_inquiries(status: InquiryStatus) -> String {
    format!("STATUS#{}", status.as_str())
}

/// An inquiry's GSI2 key: in its status's listing, by creation time.
pub fn inquiry_by_status(inquiry: &Inquiry) -> Key {
    Key { pk: status_inquiries(inquiry.status), sk: format!("{}#{}", sort_time(inquiry.created_at), inquiry.id) }
}

/// The timeline event with key `event_key` of inquiry `id`.
pub fn event(id: InquiryId, event_key: &str) -> Key {
    Key { pk: inquiry_partition(id), sk: event_dedupe(event_key) }
}

/// What makes an event with key `event_key` unique in its inquiry's
/// partition: its sort key, and SQLite's `dedupe` column (which also
/// catches a legacy event of the same key).
pub fn event_dedupe(event_key: &str) -> String {
    format!("{EVENT_PREFIX}{event_key}")
}

/// Attachment number `index` of inquiry `id`.
pub fn attachment(id: InquiryId, index: u32) -> Key {
    Key { pk: inquiry_partition(id), sk: format!("{ATTACHMENT_PREFIX}{index:02}") }
}

/// The AI response to inquiry `id` made at `at`.
pub fn ai_response(id: InquiryId, at: Timestamp) -> Key {
    Key { pk: inquiry_partition(id), sk: format!("{AI_RESPONSE_PREFIX}{}", sort_time(at)) }
}

/// Message `sequence` of inquiry `id`'s conversation.
pub fn message(id: InquiryId, sequence: u32) -> Key {
    Key { pk: inquiry_partition(id), sk: format!("{MESSAGE_PREFIX}{sequence:06}") }
}

/// The sort key past every message of a conversation (the end of a range read).
pub fn messages_end() -> String {
    format!("{MESSAGE_PREFIX}\u{10FFFF}")
}

/// What makes a message with key `message_key` unique in its inquiry's
/// partition (SQLite's `dedupe` column).
pub fn message_dedupe(message_key: &str) -> String {
    format!("{MESSAGE_PREFIX}{message_key}")
}

/// The DynamoDB marker item claiming `message_key` in inquiry `id`'s conversation.
pub fn message_marker(id: InquiryId, message_key: &str) -> Key {
    Key { pk: inquiry_partition(id), sk: format!("MSGKEY#{message_key}") }
}

/// Sort-key prefix of a tenant's reservations (in the tenant's
/// partition), and partition-key prefix of the legacy reservation items.
pub const RESERVATION_PREFIX: &str = "RES#";

/// Reservation `number` of `tenant`, in the tenant's partition.
pub fn reservation(tenant: &TenantId, number: &ReservationNumber) -> Key {
    Key { pk: tenant_partition(tenant), sk: format!("{RESERVATION_PREFIX}{number}") }
}

/// Where a reservation was stored before reservations were keyed by
/// tenant: a number shared by every tenant. Only the migration reads it.
pub fn legacy_reservation(number: &ReservationNumber) -> Key {
    Key::metadata(format!("{RESERVATION_PREFIX}{number}"))
}

/// An operators' console session, by the hash of its id.
pub fn console_session(hash: &str) -> Key {
    Key::metadata(format!("SESSION#{hash}"))
}

/// A partner confirmation token, by the hash of the token.
pub fn token(hash: &str) -> Key {
    Key::metadata(format!("TOKEN#{hash}"))
}

/// The pointer to the one partner link issued for inquiry `id`.
pub fn partner_token(id: InquiryId) -> Key {
    Key { pk: inquiry_partition(id), sk: "PARTNER_TOKEN".to_owned() }
}

/// The GSI2 partition of the outbox's unpublished events.
pub const OUTBOX_INDEX: &str = "OUTBOX";

/// Outbox entry `event_id` of inquiry `id`: an event written in the same
/// transaction as the state change it announces.
pub fn outbox_entry(id: InquiryId, event_id: &str) -> Key {
    Key { pk: inquiry_partition(id), sk: format!("OUTBOX#{event_id}") }
}

/// An outbox entry's GSI2 key: in the outbox's listing, by the time it was stored.
pub fn outbox_by_age(id: InquiryId, event_id: &str, stored: Timestamp) -> Key {
    Key { pk: OUTBOX_INDEX.to_owned(), sk: format!("{}#{id}#{event_id}", sort_time(stored)) }
}

/// Sort-key prefix of the inquiries in a customer's phone partition.
pub const PHONE_INQUIRY_PREFIX: &str = "INQUIRY#";

/// The partition of `tenant`'s inquiries whose customer's phone is `phone`.
pub fn phone_inquiries(tenant: &TenantId, phone: &PhoneNumber) -> String {
    format!("PHONE#{tenant}#{}", phone.lookup_hash())
}

/// The item finding `inquiry` by its customer's phone, by creation time;
/// `None` for an inquiry without a phone.
pub fn inquiry_by_phone(inquiry: &Inquiry) -> Option<Key> {
    let phone = inquiry.customer.phone.as_ref()?;
    Some(Key {
        pk: phone_inquiries(&inquiry.tenant_id, phone),
        sk: format!("{PHONE_INQUIRY_PREFIX}{}#{}", sort_time(inquiry.created_at), inquiry.id),
    })
}

/// Sort key of an inquiry's entry in the SLA queue (in its partition).
pub const SLA_QUEUE: &str = "SLA_QUEUE";

/// The GSI2 partition of the SLA queue of every tenant.
pub const SLA_QUEUE_INDEX: &str = "SLA";

/// The GSI1 partition of `tenant`'s SLA queue.
pub fn tenant_sla_queue(tenant: &TenantId) -> String {
    format!("SLA#{tenant}")
}

/// The SLA-queue entry of `inquiry` and its keys in the tenant's (GSI1)
/// and everyone's (GSI2) queue, by deadline; `None` when it belongs in no
/// queue (not escalated, or no SLA clock).
pub fn sla_queue_entry(inquiry: &Inquiry) -> Option<(Key, Key, Key)> {
    let sla = inquiry.sla.as_ref().filter(|_| inquiry.status == InquiryStatus::Escalated)?;
    let sk = format!("{}#{}", sort_time(sla.due_at), inquiry.id);
    Some((
        sla_queue_item(inquiry.id),
        Key { pk: tenant_sla_queue(&inquiry.tenant_id), sk: sk.clone() },
        Key { pk: SLA_QUEUE_INDEX.to_owned(), sk },
    ))
}

/// Where inquiry `id`'s SLA-queue entry is stored.
pub fn sla_queue_item(id: InquiryId) -> Key {
    Key { pk: inquiry_partition(id), sk: SLA_QUEUE.to_owned() }
}

/// The claim of idempotency key `key`, scoped to `tenant`.
pub fn idempotency(tenant: &TenantId, key: &str) -> Key {
    Key::metadata(format!("IDEM#{tenant}#{key}"))
}

/// Webhook endpoint `id` of `tenant`, in the tenant's partition.
pub fn webhook_endpoint(tenant: &TenantId, id: &WebhookEndpointId) -> Key {
    Key { pk: tenant_partition(tenant), sk: format!("{WEBHOOK_PREFIX}{id}") }
}

/// The partition of endpoint `id`'s delivery log: its messages and attempts.
pub fn webhook_log(id: &WebhookEndpointId) -> String {
    format!("{WEBHOOK_PREFIX}{id}")
}

/// Message `message_id` to endpoint `endpoint`.
pub fn webhook_message(endpoint: &WebhookEndpointId, message_id: &str) -> Key {
    Key { pk: webhook_log(endpoint), sk: format!("{WEBHOOK_MESSAGE_PREFIX}{message_id}") }
}

/// A delivery attempt, in its endpoint's log by time (newest last).
pub fn webhook_attempt(attempt: &DeliveryAttempt) -> Key {
    Key {
        pk: webhook_log(&attempt.endpoint_id),
        sk: format!("{WEBHOOK_ATTEMPT_PREFIX}{}#{}#{:04}#{:03}", sort_time(attempt.at), attempt.message_id, attempt.round, attempt.attempt),
    }
}

/// The sent-message ledger's item for message `id`.
pub fn sent_message(id: &str) -> Key {
    Key::metadata(format!("{SENT_PREFIX}{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::fixtures::InquiryBuilder;

    /// The layout is stored data: changing a key strands every item written before.
    #[test]
    fn keys_keep_the_stored_layout() {
        let at = Timestamp::from_millisecond(1_700_000_000_123).unwrap();
        let tenant_id = TenantId::parse("t").unwrap();
        let i = InquiryBuilder::new().tenant(tenant_id.clone()).created_at(at, 1).status(InquiryStatus::Classified).build();
        let id = i.id;
        let key = |pk: &str, sk: &str| Key { pk: pk.to_owned(), sk: sk.to_owned() };
        assert_eq!(sort_time(at), "001700000000123");
        assert_eq!(sort_time(Timestamp::from_second(-1).unwrap()), "000000000000000", "times before the epoch sort first");
        assert_eq!(tenant(&tenant_id), key("TENANT#t", "METADATA"));
        assert_eq!(correction(&tenant_id, id), key("TENANT#t", &format!("CORRECTION#{id}")));
        assert_eq!(tenant_by_api_key("h"), key("APIKEY#h", "TENANT"));
        assert_eq!(inquiry(id), key(&format!("INQUIRY#{id}"), "METADATA"));
        assert_eq!(inquiry_by_tenant(&i), key("TENANT#t", &format!("INQUIRY#001700000000123#{id}")));
        assert_eq!(inquiry_by_status(&i), key("STATUS#classified", &format!("001700000000123#{id}")));
        assert_eq!(event(id, "status.received"), key(&format!("INQUIRY#{id}"), "EVENT#status.received"));
        assert_eq!(event_dedupe("status.received"), "EVENT#status.received");
        assert_eq!(attachment(id, 3), key(&format!("INQUIRY#{id}"), "ATTACHMENT#03"));
        assert_eq!(ai_response(id, at), key(&format!("INQUIRY#{id}"), "AI_RESPONSE#001700000000123"));
        assert_eq!(message(id, 2), key(&format!("INQUIRY#{id}"), "MSG#000002"));
        assert_eq!(message_dedupe("customer#k"), "MSG#customer#k");
        assert_eq!(message_marker(id, "customer#k"), key(&format!("INQUIRY#{id}"), "MSGKEY#customer#k"));
        assert!(message(id, 999_999).sk < messages_end() && !message_marker(id, "k").sk.starts_with(MESSAGE_PREFIX));
        let number = ReservationNumber::parse("HT-20481123").unwrap();
        assert_eq!(reservation(&tenant_id, &number), key("TENANT#t", "RES#HT-20481123"));
        assert_eq!(legacy_reservation(&number), key("RES#HT-20481123", "METADATA"));
        assert_eq!(token("h"), key("TOKEN#h", "METADATA"));
        assert_eq!(partner_token(id), key(&format!("INQUIRY#{id}"), "PARTNER_TOKEN"));
        assert_eq!(idempotency(&tenant_id, "k"), key("IDEM#t#k", "METADATA"));
        assert_eq!(outbox_entry(id, "e-1"), key(&format!("INQUIRY#{id}"), "OUTBOX#e-1"));
        assert_eq!(outbox_by_age(id, "e-1", at), key("OUTBOX", &format!("001700000000123#{id}#e-1")));
        assert_eq!(sent_message("m-1"), key("SENT#m-1", "METADATA"));
        let endpoint = WebhookEndpointId::parse("wh-0123456789abcdef").unwrap();
        assert_eq!(webhook_endpoint(&tenant_id, &endpoint), key("TENANT#t", "WEBHOOK#wh-0123456789abcdef"));
        assert_eq!(webhook_message(&endpoint, "msg_1"), key("WEBHOOK#wh-0123456789abcdef", "MSG#msg_1"));
        let attempt = DeliveryAttempt {
            message_id: "msg_1".into(),
            endpoint_id: endpoint.clone(),
            event_type: "inquiry.answered".into(),
            round: 2,
            attempt: 3,
            at,
            result: switchboard_domain::webhook::AttemptResult::Status(500),
            latency_ms: 1,
            expires_at: at,
        };
        assert_eq!(webhook_attempt(&attempt), key("WEBHOOK#wh-0123456789abcdef", "ATTEMPT#001700000000123#msg_1#0002#003"));
        let phone = PhoneNumber::parse("+821012345678").unwrap();
        let with_phone = InquiryBuilder::new().tenant(tenant_id.clone()).phone(Some(phone.clone())).created_at(at, 1).build();
        let hash = "2efdd01fdf56e3f07de56acd9d40beb256d5983aec5f6d597c2c48354f35f9e0";
        assert_eq!(phone_inquiries(&tenant_id, &phone), format!("PHONE#t#{hash}"));
        assert_eq!(
            inquiry_by_phone(&with_phone),
            Some(key(&format!("PHONE#t#{hash}"), &format!("INQUIRY#001700000000123#{}", with_phone.id)))
        );
        assert_eq!(inquiry_by_phone(&InquiryBuilder::new().phone(None).build()), None);
        assert_eq!(sla_queue_entry(&i), None, "not escalated: in no queue");
        let policy = switchboard_domain::SlaPolicy::default();
        let mut escalated = InquiryBuilder::new().tenant(tenant_id.clone()).created_at(at, 1).status(InquiryStatus::Escalated).build();
        assert_eq!(sla_queue_entry(&escalated), None, "no clock: in no queue");
        escalated.sla = Some(switchboard_domain::Sla::start(&policy, "sla".into(), switchboard_domain::Urgency::High, at));
        let eid = escalated.id;
        assert_eq!(
            sla_queue_entry(&escalated),
            Some((
                key(&format!("INQUIRY#{eid}"), "SLA_QUEUE"),
                key("SLA#t", &format!("001700003600123#{eid}")),
                key("SLA", &format!("001700003600123#{eid}"))
            ))
        );
    }
}
