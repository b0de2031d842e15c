//! The single table in SQLite: `items(pk, sk, gsi1*, gsi2*)` with JSON
//! bodies, holding the same items under the same keys ([`crate::keys`]) as
//! the DynamoDB table.

use crate::keys::{self, Key};
use crate::partner_link::closes_partner_link;
use crate::timeline_order::{self, StoredEvent};
use crate::{
    AiResponseRecord, Appended, AttachmentRecord, CorrectionStore, Created, IDEMPOTENCY_WINDOW_SECS, InquiryStore, OutboxEntry, Page,
    PageRequest, ReservationMigration, ReservationStore, StoreError, TenantStore, TokenPointer, TokenRecord, TokenStore, WebhookStore,
};
use crate::{ConsoleSession, SessionStore};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_domain::webhook::{DeliveryAttempt, WebhookEndpoint, WebhookEndpointId, WebhookMessage};
use switchboard_domain::{
    CloudEvent, Correction, Inquiry, InquiryId, InquiryStatus, Message, PartnerOutcome, PhoneNumber, Reservation, ReservationNumber,
    Tenant, TenantId, TimelineEvent,
};
use switchboard_sqlite::rusqlite::{OptionalExtension, Transaction, params};
use switchboard_sqlite::{Database, DbError, ReadPool, rusqlite};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    -- Unique per partition when set: makes appends idempotent.
    dedupe TEXT,
    expires_at INTEGER,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk) WHERE gsi2pk IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS items_dedupe ON items (pk, dedupe) WHERE dedupe IS NOT NULL;
-- Retention finds expired items oldest first without reading the others
-- (built once over an existing table when a file from before it is opened).
CREATE INDEX IF NOT EXISTS items_expires ON items (expires_at) WHERE expires_at IS NOT NULL;
";

/// The single table, in the embedded database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: Database,
}

impl SqliteStore {
    /// The table in `db`, created if it is missing.
    /// Moves reservations stored before they were keyed by tenant (see
    /// [`ReservationStore::migrate_legacy_reservations`]): every process
    /// opening the file runs it, in one transaction, and once they are
    /// moved it finds nothing (one index probe).
    pub async fn open(db: Database) -> Result<Self, StoreError> {
        db.migrate(SCHEMA).await?;
        let store = Self { db };
        let migrated = store.migrate_legacy_reservations().await?;
        if migrated.moved + migrated.superseded > 0 {
            tracing::info!(moved = migrated.moved, superseded = migrated.superseded, "reservations moved to their tenants' keys");
        }
        Ok(store)
    }

    /// The database the table lives in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The same table, read through `pool`'s connections (writes still go
    /// to the database's one writer).
    pub fn reading_from(&self, pool: ReadPool) -> Self {
        Self { db: self.db.reading_from(pool) }
    }

    /// Deletes at most `limit` items whose `expires_at` (DynamoDB's TTL
    /// attribute) is at or before `cutoff`, oldest first, in one write;
    /// returns how many. The embedded table has no TTL of its own: this is
    /// it. Only items with a TTL are ever candidates (idempotency keys,
    /// partner tokens, console sessions, webhook messages and attempts);
    /// inquiries, their timelines and every other record have none.
    pub async fn remove_expired(&self, cutoff: Timestamp, limit: u32) -> Result<usize, StoreError> {
        let (cutoff, limit) = (cutoff.as_second(), i64::from(limit.max(1)));
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "DELETE FROM items WHERE (pk, sk) IN
                     (SELECT pk, sk FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
                    params![cutoff, limit],
                )
                .map_err(db)
            })
            .await
    }
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::malformed(what, e))
}

fn decode<T: DeserializeOwned>(key: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::malformed(key, e))
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::from(DbError::from(e))
}

/// The end of the key range holding every key that starts with `prefix`.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Runs one statement through the connection's statement cache: the
/// pipeline runs the same few statements thousands of times a second, and
/// parsing each one every time cost more than running it.
fn exec(conn: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// [`exec`] for a statement that returns one row.
fn row<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

/// The inquiry the idempotency claim `claim` points at, if it was made.
fn claimed_by(conn: &rusqlite::Connection, claim: &Key) -> Result<Option<Inquiry>, StoreError> {
    let existing: Option<String> =
        row(conn, "SELECT json_extract(body, '$.inquiry_id') FROM items WHERE pk = ?1 AND sk = ?2", params![claim.pk, claim.sk], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db)?;
    let Some(existing) = existing else { return Ok(None) };
    let missing = || StoreError::Corrupt(format!("{} points at a missing inquiry", claim.pk));
    let existing = InquiryId::parse(&existing).map_err(|_| missing())?;
    let body = get_body(conn, &keys::inquiry(existing))?.ok_or_else(missing)?;
    Ok(Some(decode(&claim.pk, &body)?))
}

/// Inserts a new inquiry record; a unique violation means it exists.
fn insert_inquiry(tx: &Transaction<'_>, inquiry: &Inquiry) -> Result<(), StoreError> {
    let (key, by_tenant, by_status) = (keys::inquiry(inquiry.id), keys::inquiry_by_tenant(inquiry), keys::inquiry_by_status(inquiry));
    let body = encode(&key.pk, inquiry)?;
    exec(
        tx,
        "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![key.pk, key.sk, by_tenant.pk, by_tenant.sk, by_status.pk, by_status.sk, body],
    )
    .map_err(|e| {
        if switchboard_sqlite::is_unique_violation(&e) { StoreError::Conflict(format!("inquiry {} exists", inquiry.id)) } else { db(e) }
    })?;
    Ok(())
}

/// The item finding a new inquiry by its customer's phone, if it has one
/// (in the inquiry's creation transaction).
fn insert_phone_item(tx: &Transaction<'_>, inquiry: &Inquiry) -> Result<(), StoreError> {
    let Some(key) = keys::inquiry_by_phone(inquiry) else { return Ok(()) };
    let body = encode(&key.pk, &serde_json::json!({ "inquiry_id": inquiry.id }))?;
    exec(tx, "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![key.pk, key.sk, body]).map_err(db)?;
    Ok(())
}

/// Replaces an inquiry record still at the version before `inquiry`'s;
/// `false` if it is not (or does not exist).
fn replace_inquiry(tx: &Transaction<'_>, inquiry: &Inquiry) -> Result<bool, StoreError> {
    let (key, by_tenant, by_status) = (keys::inquiry(inquiry.id), keys::inquiry_by_tenant(inquiry), keys::inquiry_by_status(inquiry));
    let body = encode(&key.pk, inquiry)?;
    let changed = exec(
        tx,
        "UPDATE items SET gsi1pk = ?3, gsi1sk = ?4, gsi2pk = ?5, gsi2sk = ?6, body = ?7
         WHERE pk = ?1 AND sk = ?2 AND json_extract(body, '$.version') = ?8",
        params![key.pk, key.sk, by_tenant.pk, by_tenant.sk, by_status.pk, by_status.sk, body, inquiry.version as i64 - 1],
    )
    .map_err(db)?;
    Ok(changed == 1)
}

/// Keeps the inquiry's SLA-queue entry in step with the inquiry (see
/// [`keys::sla_queue_entry`]): written while it is escalated with a clock,
/// deleted once it is not. An inquiry without a clock never had one.
fn sync_sla_queue(tx: &Transaction<'_>, inquiry: &Inquiry) -> Result<(), StoreError> {
    match keys::sla_queue_entry(inquiry) {
        Some((key, by_tenant, everyone)) => {
            let body = encode(&key.pk, inquiry)?;
            exec(
                tx,
                "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(pk, sk) DO UPDATE SET gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk,
                 gsi2pk = excluded.gsi2pk, gsi2sk = excluded.gsi2sk, body = excluded.body",
                params![key.pk, key.sk, by_tenant.pk, by_tenant.sk, everyone.pk, everyone.sk, body],
            )
            .map_err(db)?;
        }
        None if inquiry.sla.is_some() => {
            let key = keys::sla_queue_item(inquiry.id);
            exec(tx, "DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk]).map_err(db)?;
        }
        None => {}
    }
    Ok(())
}

/// Appends `event` to inquiry `id`'s timeline unless its key is there
/// already (under its own sort key, or a legacy event's `dedupe` column).
fn insert_event(tx: &Transaction<'_>, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError> {
    let key = keys::event(id, &event.key);
    let changed = exec(
        tx,
        "INSERT INTO items (pk, sk, dedupe, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        params![key.pk, key.sk, keys::event_dedupe(&event.key), encode(&key.pk, &StoredEvent::new(event))?],
    )
    .map_err(db)?;
    Ok(changed == 1)
}

/// Stores the events announcing a change of inquiry `id` made at `stored`
/// in the outbox, in the transaction of the change. An entry already there
/// (a retried write) is kept as it is.
fn insert_outbox(tx: &Transaction<'_>, id: InquiryId, stored: Timestamp, events: &[CloudEvent]) -> Result<(), StoreError> {
    for event in events {
        let (key, by_age) = (keys::outbox_entry(id, &event.id), keys::outbox_by_age(id, &event.id, stored));
        let body = encode(&key.pk, &OutboxEntry { inquiry_id: id, stored_at: stored, event: event.clone() })?;
        exec(
            tx,
            "INSERT INTO items (pk, sk, gsi2pk, gsi2sk, body) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![key.pk, key.sk, by_age.pk, by_age.sk, body],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn get_body(conn: &rusqlite::Connection, key: &Key) -> Result<Option<String>, StoreError> {
    row(conn, "SELECT body FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk], |r| r.get(0)).optional().map_err(db)
}

fn get_item<T: DeserializeOwned>(conn: &rusqlite::Connection, key: &Key) -> Result<Option<T>, StoreError> {
    get_body(conn, key)?.map(|b| decode(&key.pk, &b)).transpose()
}

/// Writes the item at `key`, replacing its body if it exists.
fn upsert(tx: &Transaction<'_>, key: &Key, body: &str) -> Result<(), StoreError> {
    exec(
        tx,
        "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT(pk, sk) DO UPDATE SET body = excluded.body",
        params![key.pk, key.sk, body],
    )
    .map(|_| ())
    .map_err(db)
}

/// Items of one partition whose sort key starts with `prefix`, in key order.
fn partition<T: DeserializeOwned>(conn: &rusqlite::Connection, pk: &str, prefix: &str) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 ORDER BY sk").map_err(db)?;
    let bodies = stmt
        .query_map(params![pk, prefix, prefix_end(prefix)], |r| r.get::<_, String>(0))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    bodies.iter().map(|b| decode(pk, b)).collect()
}

/// Which way a GSI page reads its partition's sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Newest (greatest) first: the listings by tenant and status.
    Descending,
    /// Earliest first: the SLA queue.
    Ascending,
}

/// One page over one GSI partition, in `order`.
fn gsi_page(
    conn: &rusqlite::Connection,
    index: u8,
    partition_key: &str,
    page: &PageRequest,
    order: Order,
) -> Result<Page<Inquiry>, StoreError> {
    let after = match &page.after {
        None => None,
        Some(token) => {
            Some(URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or(StoreError::InvalidPageToken)?)
        }
    };
    let limit = i64::from(page.size());
    let (after_op, direction) = match order {
        Order::Descending => ("<", "DESC"),
        Order::Ascending => (">", "ASC"),
    };
    // Two statements, not `?2 IS NULL OR sk < ?2`: with the OR, SQLite
    // cannot seek the index to the cursor and walks every item before it,
    // so page n cost n pages (an OFFSET in disguise; measured by
    // `switchboard bench store`).
    let sql = match after {
        None => format!("SELECT gsi{index}sk, body FROM items WHERE gsi{index}pk = ?1 ORDER BY gsi{index}sk {direction} LIMIT ?2"),
        Some(_) => format!(
            "SELECT gsi{index}sk, body FROM items WHERE gsi{index}pk = ?1 AND gsi{index}sk {after_op} ?3
             ORDER BY gsi{index}sk {direction} LIMIT ?2"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let read = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?));
    let rows = match &after {
        None => stmt.query_map(params![partition_key, limit + 1], read),
        Some(after) => stmt.query_map(params![partition_key, limit + 1, after], read),
    };
    let mut rows = rows.map_err(db)?.collect::<Result<Vec<_>, _>>().map_err(db)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(sk, _)| URL_SAFE_NO_PAD.encode(sk))
    } else {
        None
    };
    let items = rows.iter().map(|(sk, body)| decode(sk, body)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next })
}

#[async_trait]
impl InquiryStore for SqliteStore {
    async fn create_inquiry(
        &self,
        inquiry: &Inquiry,
        idempotency_key: Option<&str>,
        event: &TimelineEvent,
        announce: &[CloudEvent],
    ) -> Result<Created, StoreError> {
        let (inquiry, event, announce) = (inquiry.clone(), event.clone(), announce.to_vec());
        let claim = idempotency_key.map(|k| keys::idempotency(&inquiry.tenant_id, k));
        self.db
            .write(move |tx| {
                if let Some(claim) = &claim {
                    if let Some(existing) = claimed_by(tx, claim)? {
                        return Ok(Created::Existing(existing));
                    }
                    let expires = inquiry.created_at.as_second() + IDEMPOTENCY_WINDOW_SECS;
                    exec(
                        tx,
                        "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, ?2, ?3, ?4)",
                        params![claim.pk, claim.sk, expires, serde_json::json!({ "inquiry_id": inquiry.id }).to_string()],
                    )
                    .map_err(db)?;
                }
                insert_inquiry(tx, &inquiry)?;
                insert_phone_item(tx, &inquiry)?;
                insert_event(tx, inquiry.id, &event)?;
                insert_outbox(tx, inquiry.id, inquiry.created_at, &announce)?;
                Ok(Created::New(inquiry))
            })
            .await
    }

    async fn get_inquiry(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        self.db.read(move |c| get_item(c, &keys::inquiry(id))).await
    }

    async fn inquiries_by_phone(&self, tenant: &TenantId, phone: &PhoneNumber, limit: u32) -> Result<Vec<InquiryId>, StoreError> {
        let pk = keys::phone_inquiries(tenant, phone);
        let limit = i64::from(limit.clamp(1, PageRequest::MAX_SIZE));
        self.db
            .read(move |c| {
                // The primary key's index: newest first within the partition.
                let mut stmt = c
                    .prepare_cached(
                        "SELECT json_extract(body, '$.inquiry_id') FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 ORDER BY sk DESC LIMIT ?4",
                    )
                    .map_err(db)?;
                let ids = stmt
                    .query_map(params![pk, keys::PHONE_INQUIRY_PREFIX, prefix_end(keys::PHONE_INQUIRY_PREFIX), limit], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                ids.iter().map(|id| InquiryId::parse(id).map_err(|_| StoreError::Corrupt(format!("{pk} names no inquiry id")))).collect()
            })
            .await
    }

    async fn claimed_inquiry(&self, tenant: &TenantId, idempotency_key: &str) -> Result<Option<Inquiry>, StoreError> {
        let claim = keys::idempotency(tenant, idempotency_key);
        self.db.read(move |c| claimed_by(c, &claim)).await
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
        let (event, announce) = (event.cloned(), announce.to_vec());
        self.db
            .write(move |tx| {
                if !replace_inquiry(tx, &next)? {
                    return Err(StoreError::Conflict(format!("inquiry {} is no longer at version {expected_version}", next.id)));
                }
                if closes_partner_link(&next) {
                    void_open_token(tx, next.id, next.updated_at)?;
                }
                sync_sla_queue(tx, &next)?;
                if let Some(event) = &event {
                    insert_event(tx, next.id, event)?;
                }
                insert_outbox(tx, next.id, next.updated_at, &announce)?;
                Ok(next)
            })
            .await
    }

    async fn pending_events(&self, before: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let cutoff = keys::sort_time(before);
        let limit = i64::from(limit.clamp(1, PageRequest::MAX_SIZE));
        self.db
            .read(move |c| {
                let mut stmt =
                    c.prepare_cached("SELECT body FROM items WHERE gsi2pk = ?1 AND gsi2sk < ?2 ORDER BY gsi2sk LIMIT ?3").map_err(db)?;
                let bodies = stmt
                    .query_map(params![keys::OUTBOX_INDEX, cutoff, limit], |r| r.get::<_, String>(0))
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                bodies.iter().map(|b| decode(keys::OUTBOX_INDEX, b)).collect()
            })
            .await
    }

    async fn clear_event(&self, inquiry: InquiryId, event_id: &str) -> Result<(), StoreError> {
        let key = keys::outbox_entry(inquiry, event_id);
        self.db
            .write(move |tx| exec(tx, "DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk]).map(|_| ()).map_err(db))
            .await
    }

    async fn append_event(&self, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError> {
        let event = event.clone();
        self.db.write(move |tx| insert_event(tx, id, &event)).await
    }

    async fn timeline(&self, id: InquiryId) -> Result<Vec<TimelineEvent>, StoreError> {
        let stored = self.db.read(move |c| partition(c, &keys::inquiry_partition(id), keys::EVENT_PREFIX)).await?;
        Ok(timeline_order::in_order(stored))
    }

    async fn list_by_tenant(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        let (pk, page) = (keys::tenant_inquiries(tenant), page.clone());
        self.db.read(move |c| gsi_page(c, 1, &pk, &page, Order::Descending)).await
    }

    async fn list_by_status(&self, status: InquiryStatus, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        let (pk, page) = (keys::status_inquiries(status), page.clone());
        self.db.read(move |c| gsi_page(c, 2, &pk, &page, Order::Descending)).await
    }

    async fn sla_queue(&self, tenant: Option<&TenantId>, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        let page = page.clone();
        match tenant {
            Some(tenant) => {
                let pk = keys::tenant_sla_queue(tenant);
                self.db.read(move |c| gsi_page(c, 1, &pk, &page, Order::Ascending)).await
            }
            None => self.db.read(move |c| gsi_page(c, 2, keys::SLA_QUEUE_INDEX, &page, Order::Ascending)).await,
        }
    }

    async fn put_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError> {
        let key = keys::attachment(record.inquiry_id, record.index);
        let body = encode(&key.pk, record)?;
        self.db.write(move |tx| upsert(tx, &key, &body)).await
    }

    async fn attachments(&self, id: InquiryId) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.db.read(move |c| partition(c, &keys::inquiry_partition(id), keys::ATTACHMENT_PREFIX)).await
    }

    async fn delete_orphan_attachments(&self, id: InquiryId) -> Result<usize, StoreError> {
        let inquiry = keys::inquiry(id);
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "DELETE FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3
                     AND NOT EXISTS (SELECT 1 FROM items WHERE pk = ?1 AND sk = ?4)",
                    params![inquiry.pk, keys::ATTACHMENT_PREFIX, prefix_end(keys::ATTACHMENT_PREFIX), inquiry.sk],
                )
                .map_err(db)
            })
            .await
    }

    async fn put_ai_response(&self, record: &AiResponseRecord) -> Result<(), StoreError> {
        let key = keys::ai_response(record.inquiry_id, record.at);
        let body = encode(&key.pk, record)?;
        self.db
            .write(move |tx| {
                exec(tx, "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![key.pk, key.sk, body])
                    .map(|_| ())
                    .map_err(db)
            })
            .await
    }

    async fn ai_responses(&self, id: InquiryId) -> Result<Vec<AiResponseRecord>, StoreError> {
        self.db.read(move |c| partition(c, &keys::inquiry_partition(id), keys::AI_RESPONSE_PREFIX)).await
    }

    async fn append_message(&self, message: &Message, announce: &[CloudEvent]) -> Result<Appended, StoreError> {
        let (message, announce) = (message.clone(), announce.to_vec());
        self.db
            .write(move |tx| {
                let (id, pk, dedupe) =
                    (message.inquiry_id, keys::inquiry_partition(message.inquiry_id), keys::message_dedupe(&message.key));
                let existing: Option<String> =
                    row(tx, "SELECT body FROM items WHERE pk = ?1 AND dedupe = ?2", params![pk, dedupe], |r| r.get(0))
                        .optional()
                        .map_err(db)?;
                if let Some(body) = existing {
                    return Ok(Appended::Existing(decode(&pk, &body)?));
                }
                // The writer is alone in its transaction: the count is the
                // last number given, and nobody takes the next one meanwhile.
                let stored: u32 = row(
                    tx,
                    "SELECT COUNT(*) FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3",
                    params![pk, keys::MESSAGE_PREFIX, keys::messages_end()],
                    |r| r.get(0),
                )
                .map_err(db)?;
                let mut message = message;
                message.sequence = switchboard_domain::message::ORIGINAL_SEQUENCE + 1 + stored;
                let key = keys::message(id, message.sequence);
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, dedupe, body) VALUES (?1, ?2, ?3, ?4)",
                    params![key.pk, key.sk, dedupe, encode(&key.pk, &message)?],
                )
                .map_err(db)?;
                insert_event(tx, id, &crate::message_event(&message))?;
                insert_outbox(tx, id, message.created_at, &announce)?;
                Ok(Appended::New(message))
            })
            .await
    }

    async fn messages(&self, id: InquiryId, after: u32, limit: u32) -> Result<Vec<Message>, StoreError> {
        let (from, limit) = (keys::message(id, after), i64::from(limit.clamp(1, PageRequest::MAX_SIZE)));
        self.db
            .read(move |c| {
                let mut stmt =
                    c.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk > ?2 AND sk < ?3 ORDER BY sk LIMIT ?4").map_err(db)?;
                let bodies = stmt
                    .query_map(params![from.pk, from.sk, keys::messages_end(), limit], |r| r.get::<_, String>(0))
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                bodies.iter().map(|b| decode(&from.pk, b)).collect()
            })
            .await
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let (key, by_api_key) = (keys::tenant(&tenant.id), keys::tenant_by_api_key(&tenant.api_key_hash));
        let body = encode(&key.pk, tenant)?;
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, body) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(pk, sk) DO UPDATE SET gsi1pk = excluded.gsi1pk, body = excluded.body",
                    params![key.pk, key.sk, by_api_key.pk, by_api_key.sk, body],
                )
                .map(|_| ())
                .map_err(db)
            })
            .await
    }

    async fn update_tenant(&self, next: &Tenant, expected_version: u64) -> Result<Tenant, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let (key, by_api_key) = (keys::tenant(&next.id), keys::tenant_by_api_key(&next.api_key_hash));
        let body = encode(&key.pk, &next)?;
        let what = format!("tenant {}", next.id);
        self.db
            .write(move |tx| {
                // Tenants stored before versions existed have none: version 0.
                let changed = exec(
                    tx,
                    "UPDATE items SET gsi1pk = ?3, gsi1sk = ?4, body = ?5
                     WHERE pk = ?1 AND sk = ?2 AND COALESCE(json_extract(body, '$.version'), 0) = ?6",
                    params![key.pk, key.sk, by_api_key.pk, by_api_key.sk, body, expected_version as i64],
                )
                .map_err(db)?;
                if changed == 1 {
                    return Ok(());
                }
                let exists =
                    row(tx, "SELECT 1 FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk], |_| Ok(())).optional().map_err(db)?;
                Err(match exists {
                    Some(()) => StoreError::Conflict(format!("{what} is no longer at version {expected_version}")),
                    None => StoreError::NotFound(what),
                })
            })
            .await?;
        Ok(next)
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let key = keys::tenant(id);
        self.db.read(move |c| get_item(c, &key)).await
    }

    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>, StoreError> {
        let key = keys::tenant_by_api_key(hash);
        self.db
            .read(move |c| {
                let body: Option<String> =
                    row(c, "SELECT body FROM items WHERE gsi1pk = ?1 AND gsi1sk = ?2", params![key.pk, key.sk], |r| r.get(0))
                        .optional()
                        .map_err(db)?;
                body.map(|b| decode(&key.pk, &b)).transpose()
            })
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.db
            .read(|c| {
                let mut stmt =
                    c.prepare_cached("SELECT pk, body FROM items WHERE pk >= ?1 AND pk < ?2 AND sk = ?3 ORDER BY pk").map_err(db)?;
                let rows = stmt
                    .query_map(params![keys::TENANT_PREFIX, prefix_end(keys::TENANT_PREFIX), keys::METADATA], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                rows.iter().map(|(pk, b)| decode(pk, b)).collect()
            })
            .await
    }
}

#[async_trait]
impl CorrectionStore for SqliteStore {
    async fn put_correction(&self, correction: &Correction) -> Result<(), StoreError> {
        let key = keys::correction(&correction.tenant_id, correction.inquiry_id);
        let body = encode(&key.pk, correction)?;
        self.db.write(move |tx| upsert(tx, &key, &body)).await
    }

    async fn corrections(&self, tenant: &TenantId) -> Result<Vec<Correction>, StoreError> {
        let pk = keys::tenant_partition(tenant);
        self.db.read(move |c| partition(c, &pk, keys::CORRECTION_PREFIX)).await.map(crate::in_time_order)
    }
}

/// Replaces the body at `key` if its `version` is still `expected`:
/// `Conflict` when it moved on, `NotFound` when it is gone.
fn replace_versioned(tx: &Transaction<'_>, key: &Key, body: &str, expected: u64, what: &str) -> Result<(), StoreError> {
    let changed = exec(
        tx,
        "UPDATE items SET body = ?3 WHERE pk = ?1 AND sk = ?2 AND COALESCE(json_extract(body, '$.version'), 0) = ?4",
        params![key.pk, key.sk, body, expected as i64],
    )
    .map_err(db)?;
    if changed == 1 {
        return Ok(());
    }
    match get_body(tx, key)? {
        Some(_) => Err(StoreError::Conflict(format!("{what} is no longer at version {expected}"))),
        None => Err(StoreError::NotFound(what.to_owned())),
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let key = keys::webhook_endpoint(&endpoint.tenant_id, &endpoint.id);
        let body = encode(&key.pk, endpoint)?;
        let id = endpoint.id.clone();
        self.db
            .write(move |tx| {
                let inserted =
                    exec(tx, "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![key.pk, key.sk, body])
                        .map_err(db)?;
                if inserted == 1 { Ok(()) } else { Err(StoreError::Conflict(format!("webhook endpoint {id} exists"))) }
            })
            .await
    }

    async fn get_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<Option<WebhookEndpoint>, StoreError> {
        let key = keys::webhook_endpoint(tenant, id);
        self.db.read(move |c| get_item(c, &key)).await
    }

    async fn endpoints(&self, tenant: &TenantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let pk = keys::tenant_partition(tenant);
        self.db.read(move |c| partition(c, &pk, keys::WEBHOOK_PREFIX)).await
    }

    async fn update_endpoint(&self, next: &WebhookEndpoint, expected_version: u64) -> Result<WebhookEndpoint, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let key = keys::webhook_endpoint(&next.tenant_id, &next.id);
        let body = encode(&key.pk, &next)?;
        let what = format!("webhook endpoint {}", next.id);
        self.db.write(move |tx| replace_versioned(tx, &key, &body, expected_version, &what)).await?;
        Ok(next)
    }

    async fn delete_endpoint(&self, tenant: &TenantId, id: &WebhookEndpointId) -> Result<bool, StoreError> {
        let key = keys::webhook_endpoint(tenant, id);
        self.db
            .write(move |tx| exec(tx, "DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk]).map(|n| n == 1).map_err(db))
            .await
    }

    async fn create_message(&self, message: &WebhookMessage) -> Result<WebhookMessage, StoreError> {
        let key = keys::webhook_message(&message.endpoint_id, &message.id);
        let (expires, body) = (message.expires_at.as_second(), encode(&key.pk, message)?);
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![key.pk, key.sk, expires, body],
                )
                .map_err(db)?;
                get_item(tx, &key)?.ok_or_else(|| StoreError::Corrupt(key.pk.clone()))
            })
            .await
    }

    async fn get_message(&self, endpoint: &WebhookEndpointId, id: &str, now: Timestamp) -> Result<Option<WebhookMessage>, StoreError> {
        let key = keys::webhook_message(endpoint, id);
        let found: Option<WebhookMessage> = self.db.read(move |c| get_item(c, &key)).await?;
        Ok(found.filter(|m| m.expires_at > now))
    }

    async fn update_message(&self, next: &WebhookMessage, expected_version: u64) -> Result<WebhookMessage, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let key = keys::webhook_message(&next.endpoint_id, &next.id);
        let (expires, body) = (next.expires_at.as_second(), encode(&key.pk, &next)?);
        let what = format!("webhook message {}", next.id);
        self.db
            .write(move |tx| {
                replace_versioned(tx, &key, &body, expected_version, &what)?;
                exec(tx, "UPDATE items SET expires_at = ?3 WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk, expires]).map_err(db)?;
                Ok::<_, StoreError>(())
            })
            .await?;
        Ok(next)
    }

    async fn log_attempt(&self, attempt: &DeliveryAttempt, now: Timestamp) -> Result<(), StoreError> {
        let key = keys::webhook_attempt(attempt);
        let (expires, body) = (attempt.expires_at.as_second(), encode(&key.pk, attempt)?);
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![key.pk, key.sk, expires, body],
                )
                .map_err(db)?;
                // The embedded store has no TTL of its own: the log forgets
                // what expired whenever it grows.
                exec(tx, "DELETE FROM items WHERE pk = ?1 AND expires_at <= ?2", params![key.pk, now.as_second()]).map_err(db)?;
                Ok(())
            })
            .await
    }

    async fn attempts(&self, endpoint: &WebhookEndpointId, limit: u32, now: Timestamp) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let pk = keys::webhook_log(endpoint);
        let limit = i64::from(limit.clamp(1, PageRequest::MAX_SIZE));
        self.db
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT body FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 AND (expires_at IS NULL OR expires_at > ?4)
                         ORDER BY sk DESC LIMIT ?5",
                    )
                    .map_err(db)?;
                let prefix = keys::WEBHOOK_ATTEMPT_PREFIX;
                let bodies = stmt
                    .query_map(params![pk, prefix, prefix_end(prefix), now.as_second(), limit], |r| r.get::<_, String>(0))
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                bodies.iter().map(|b| decode(&pk, b)).collect()
            })
            .await
    }
}

/// Moves the legacy `RES#{number}` items to their tenants' keys, in the
/// caller's transaction: all of them or, on an error, none.
fn migrate_legacy_reservations(tx: &Transaction<'_>) -> Result<ReservationMigration, StoreError> {
    let legacy: Vec<(String, String)> = {
        let mut stmt = tx.prepare_cached("SELECT pk, body FROM items WHERE pk >= ?1 AND pk < ?2 AND sk = ?3").map_err(db)?;
        let rows = stmt
            .query_map(params![keys::RESERVATION_PREFIX, prefix_end(keys::RESERVATION_PREFIX), keys::METADATA], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)?
    };
    let mut migration = ReservationMigration::default();
    for (pk, body) in legacy {
        // The tenant is read from the record: it has been a required field
        // since reservations were first stored, so only a damaged body lacks it.
        let Ok(reservation) = serde_json::from_str::<Reservation>(&body) else {
            migration.unreadable.push(pk);
            continue;
        };
        let key = keys::reservation(&reservation.tenant_id, &reservation.reservation_number);
        // A reservation already at its tenant's key was imported since the
        // upgrade: it is newer than the legacy copy and is kept.
        let inserted =
            exec(tx, "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![key.pk, key.sk, body])
                .map_err(db)?;
        exec(tx, "DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![pk, keys::METADATA]).map_err(db)?;
        if inserted == 1 {
            migration.moved += 1;
        } else {
            migration.superseded += 1;
        }
    }
    Ok(migration)
}

#[async_trait]
impl ReservationStore for SqliteStore {
    async fn put_reservation(&self, reservation: &Reservation) -> Result<(), StoreError> {
        let key = keys::reservation(&reservation.tenant_id, &reservation.reservation_number);
        let body = encode(&key.pk, reservation)?;
        self.db.write(move |tx| upsert(tx, &key, &body)).await
    }

    async fn get_reservation(&self, tenant: &TenantId, number: &ReservationNumber) -> Result<Option<Reservation>, StoreError> {
        let key = keys::reservation(tenant, number);
        self.db.read(move |c| get_item(c, &key)).await
    }

    async fn reservations(&self, tenant: &TenantId) -> Result<Vec<Reservation>, StoreError> {
        let pk = keys::tenant_partition(tenant);
        self.db.read(move |c| partition(c, &pk, keys::RESERVATION_PREFIX)).await
    }

    async fn migrate_legacy_reservations(&self) -> Result<ReservationMigration, StoreError> {
        let migration = self.db.write(migrate_legacy_reservations).await?;
        for pk in &migration.unreadable {
            tracing::warn!(pk = %pk, "a legacy reservation item names no tenant: left in place, read by nothing");
        }
        Ok(migration)
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn put_token(&self, record: &TokenRecord) -> Result<TokenRecord, StoreError> {
        let (key, pointer) = (keys::token(&record.token_hash), keys::partner_token(record.inquiry_id));
        let (expires, body) = (record.expires_at.as_second(), encode(&key.pk, record)?);
        let pointer_body = encode(&pointer.pk, &TokenPointer { token_hash: record.token_hash.clone() })?;
        self.db
            .write(move |tx| {
                // The inquiry's first link wins; a redelivery gets it back.
                let claimed = exec(
                    tx,
                    "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![pointer.pk, pointer.sk, pointer_body],
                )
                .map_err(db)?;
                let key = if claimed == 1 {
                    exec(
                        tx,
                        "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                        params![key.pk, key.sk, expires, body],
                    )
                    .map_err(db)?;
                    key
                } else {
                    let issued: TokenPointer = get_item(tx, &pointer)?.ok_or_else(|| StoreError::Corrupt(pointer.pk.clone()))?;
                    keys::token(&issued.token_hash)
                };
                get_item(tx, &key)?.ok_or_else(|| StoreError::Corrupt(key.pk.clone()))
            })
            .await
    }

    async fn void_tokens(&self, inquiry: InquiryId, at: Timestamp) -> Result<bool, StoreError> {
        self.db.write(move |tx| void_open_token(tx, inquiry, at)).await
    }

    async fn get_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let key = keys::token(hash);
        self.db.read(move |c| get_item(c, &key)).await
    }

    async fn mark_token_opened(&self, hash: &str, at: Timestamp) -> Result<bool, StoreError> {
        let key = keys::token(hash);
        self.db
            .write(move |tx| {
                let Some(mut record): Option<TokenRecord> = get_item(tx, &key)? else {
                    return Err(StoreError::NotFound(key.pk));
                };
                if record.opened_at.is_some() {
                    return Ok(false);
                }
                record.opened_at = Some(at);
                exec(tx, "UPDATE items SET body = ?3 WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk, encode(&key.pk, &record)?])
                    .map_err(db)?;
                Ok(true)
            })
            .await
    }

    async fn consume_token(&self, hash: &str, outcome: &PartnerOutcome, at: Timestamp) -> Result<TokenRecord, StoreError> {
        let (key, outcome) = (keys::token(hash), outcome.clone());
        self.db
            .write(move |tx| {
                let Some(mut record): Option<TokenRecord> = get_item(tx, &key)? else {
                    return Err(StoreError::NotFound(key.pk));
                };
                record.used = true;
                record.outcome = Some(outcome);
                record.used_at = Some(at);
                // The condition is the single-use guarantee.
                let changed = exec(
                    tx,
                    "UPDATE items SET body = ?3 WHERE pk = ?1 AND sk = ?2 AND json_extract(body, '$.used') = 0",
                    params![key.pk, key.sk, encode(&key.pk, &record)?],
                )
                .map_err(db)?;
                if changed == 0 {
                    return Err(StoreError::Conflict("the token was already used".into()));
                }
                Ok(record)
            })
            .await
    }
}

/// Voids inquiry `id`'s link if it is still unused; `true` if this did.
#[async_trait]
impl SessionStore for SqliteStore {
    async fn put_session(&self, hash: &str, session: &ConsoleSession) -> Result<(), StoreError> {
        let key = keys::console_session(hash);
        let (expires, body) = (session.expires_at.as_second(), encode(&key.pk, session)?);
        self.db
            .write(move |tx| {
                let sql = "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
                match exec(tx, sql, params![key.pk, key.sk, expires, body]).map_err(db)? {
                    0 => Err(StoreError::Conflict("a session with this id exists".into())),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn get_session(&self, hash: &str, now: Timestamp) -> Result<Option<ConsoleSession>, StoreError> {
        let key = keys::console_session(hash);
        let session: Option<ConsoleSession> = self.db.read(move |c| get_item(c, &key)).await?;
        // Expired rows are left to retention; an expired session is no session.
        Ok(session.filter(|s| s.expires_at > now))
    }

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        let key = keys::console_session(hash);
        self.db
            .write(move |tx| exec(tx, "DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk]).map(|_| ()).map_err(db))
            .await
    }
}

fn void_open_token(tx: &Transaction<'_>, id: InquiryId, at: Timestamp) -> Result<bool, StoreError> {
    let Some(issued): Option<TokenPointer> = get_item(tx, &keys::partner_token(id))? else { return Ok(false) };
    let key = keys::token(&issued.token_hash);
    let Some(mut record): Option<TokenRecord> = get_item(tx, &key)? else { return Ok(false) };
    if record.used {
        return Ok(false);
    }
    record.used = true;
    record.voided_at = Some(at);
    let changed = exec(
        tx,
        "UPDATE items SET body = ?3 WHERE pk = ?1 AND sk = ?2 AND json_extract(body, '$.used') = 0",
        params![key.pk, key.sk, encode(&key.pk, &record)?],
    )
    .map_err(db)?;
    Ok(changed == 1)
}

// The behaviour of the ports is specified once for both adapters, by the
// conformance suite (tests/tests/it/conformance_store.rs). What is checked
// here is what that suite cannot see: the rows the adapter writes.
#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::fixtures::InquiryBuilder;
    use switchboard_sqlite::Durability;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("sb.db"), Durability::Normal).unwrap();
        (dir, SqliteStore::open(db).await.unwrap())
    }

    /// `(pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, dedupe, expires_at)` of every row, in key order.
    type Row = (String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<i64>);

    async fn rows(s: &SqliteStore) -> Vec<Row> {
        s.database()
            .read(|c| {
                let mut stmt = c.prepare("SELECT pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, dedupe, expires_at FROM items ORDER BY pk, sk")?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))?
                    .collect::<Result<Vec<Row>, _>>()?;
                Ok::<_, DbError>(rows)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_inquiry_its_event_its_idempotency_claim_and_its_phone_item_are_stored_under_the_shared_keys() {
        let (_d, s) = store().await;
        let i = InquiryBuilder::new().tenant(TenantId::parse("t").unwrap()).build();
        let event = TimelineEvent::once("status.received", "intake", i.created_at, serde_json::Value::Null);
        s.create_inquiry(&i, Some("k"), &event, &[]).await.unwrap();
        let (record, by_tenant, by_status) = (keys::inquiry(i.id), keys::inquiry_by_tenant(&i), keys::inquiry_by_status(&i));
        let (claim, event_key) = (keys::idempotency(&i.tenant_id, "k"), keys::event(i.id, &event.key));
        let expires = i.created_at.as_second() + IDEMPOTENCY_WINDOW_SECS;
        let by_phone = keys::inquiry_by_phone(&i).unwrap();
        let mut expected: Vec<Row> = vec![
            (claim.pk, claim.sk, None, None, None, None, None, Some(expires)),
            (by_phone.pk, by_phone.sk, None, None, None, None, None, None),
            (event_key.pk, event_key.sk, None, None, None, None, Some(keys::event_dedupe(&event.key)), None),
            (record.pk, record.sk, Some(by_tenant.pk), Some(by_tenant.sk), Some(by_status.pk), Some(by_status.sk), None, None),
        ];
        expected.sort();
        assert_eq!(rows(&s).await, expected);
    }

    fn token(i: &Inquiry, hash: &str, expires_at: Timestamp) -> TokenRecord {
        TokenRecord {
            token_hash: hash.into(),
            inquiry_id: i.id,
            partner_id: "p".into(),
            expires_at,
            deadline_at: expires_at,
            issued_at: None,
            used: false,
            outcome: None,
            used_at: None,
            opened_at: None,
            voided_at: None,
        }
    }

    /// Sort keys and partition-key prefixes of what is left, to compare without ids.
    async fn kinds(s: &SqliteStore) -> Vec<String> {
        let mut kinds: Vec<String> = rows(s)
            .await
            .into_iter()
            .map(|(pk, sk, ..)| format!("{}/{}", pk.split('#').next().unwrap_or(""), sk.split('#').next().unwrap_or("")))
            .collect();
        kinds.sort();
        kinds
    }

    #[tokio::test]
    async fn retention_removes_only_items_past_their_expiry_and_never_an_inquiry_or_its_timeline() {
        let (_d, s) = store().await;
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let i = InquiryBuilder::new().tenant(TenantId::parse("t").unwrap()).created_at(t0, 1).build();
        let event = TimelineEvent::once("status.received", "intake", i.created_at, serde_json::Value::Null);
        s.create_inquiry(&i, Some("k"), &event, &[]).await.unwrap();
        let hour = jiff::SignedDuration::from_hours(1);
        s.put_token(&token(&i, "old", t0 + hour)).await.unwrap();
        let live = InquiryBuilder::new().tenant(TenantId::parse("t").unwrap()).created_at(t0, 2).build();
        s.put_token(&token(&live, "live", t0 + hour * 48)).await.unwrap();
        let session = ConsoleSession { operator: "o".into(), csrf_token: "c".into(), created_at: t0, expires_at: t0 + hour * 2 };
        s.put_session("h", &session).await.unwrap();
        let everything = kinds(&s).await;

        assert_eq!(s.remove_expired(t0, 500).await.unwrap(), 0, "nothing has expired yet");
        assert_eq!(kinds(&s).await, everything);

        // Half a day on: the old token and the session are past their
        // expiry; the idempotency key (24 h) is not yet, nor the live token.
        assert_eq!(s.remove_expired(t0 + hour * 12, 500).await.unwrap(), 2);
        assert!(s.get_token("old").await.unwrap().is_none());
        assert!(s.get_token("live").await.unwrap().is_some(), "a live token stays");
        assert!(s.get_session("h", t0).await.unwrap().is_none());
        assert!(s.claimed_inquiry(&i.tenant_id, "k").await.unwrap().is_some(), "an idempotency key within its window stays");

        // Past every expiry, one item at a time: the key, then the live token.
        assert_eq!(s.remove_expired(t0 + hour * 100, 1).await.unwrap(), 1);
        assert_eq!(s.remove_expired(t0 + hour * 100, 1).await.unwrap(), 1);
        assert_eq!(s.remove_expired(t0 + hour * 100, 1).await.unwrap(), 0);
        assert_eq!(
            kinds(&s).await,
            vec!["INQUIRY/EVENT", "INQUIRY/METADATA", "INQUIRY/PARTNER_TOKEN", "INQUIRY/PARTNER_TOKEN", "PHONE/INQUIRY"],
            "the inquiry, its timeline, its phone item and its link pointers are kept"
        );
        assert_eq!(s.get_inquiry(i.id).await.unwrap().unwrap().id, i.id);
        assert_eq!(s.timeline(i.id).await.unwrap().len(), 1);
    }
}
