//! The single table of DESIGN.md in SQLite: `items(pk, sk, gsi1*, gsi2*)`
//! with JSON bodies, mirroring the DynamoDB layout item for item.

use crate::{
    AiResponseRecord, AttachmentRecord, Created, InquiryStore, Page, PageRequest, ReservationStore, StoreError, TenantStore, TokenRecord,
    TokenStore,
};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_domain::{
    Inquiry, InquiryId, InquiryStatus, PartnerOutcome, Reservation, ReservationNumber, Tenant, TenantId, TimelineEvent,
};
use switchboard_sqlite::rusqlite::{OptionalExtension, Transaction, params};
use switchboard_sqlite::{Database, DbError, rusqlite};

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
";

/// The single table, in the embedded database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: Database,
}

impl SqliteStore {
    pub async fn open(db: Database) -> Result<Self, StoreError> {
        db.migrate(SCHEMA).await?;
        Ok(Self { db })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }
}

pub(crate) fn inquiry_pk(id: InquiryId) -> String {
    format!("INQUIRY#{id}")
}

/// Zero-padded milliseconds: sorts as text in time order.
pub(crate) fn sort_time(t: Timestamp) -> String {
    format!("{:015}", t.as_millisecond().max(0))
}

fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<T: DeserializeOwned>(key: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::from(DbError::from(e))
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

fn write_inquiry(tx: &Transaction<'_>, inquiry: &Inquiry, insert: bool) -> Result<usize, StoreError> {
    let body = encode(inquiry)?;
    let (gsi1pk, gsi1sk) = (format!("TENANT#{}", inquiry.tenant_id), format!("INQUIRY#{}#{}", sort_time(inquiry.created_at), inquiry.id));
    let (gsi2pk, gsi2sk) = (format!("STATUS#{}", inquiry.status.as_str()), format!("{}#{}", sort_time(inquiry.created_at), inquiry.id));
    let sql = if insert {
        "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, body) VALUES (?1, 'METADATA', ?2, ?3, ?4, ?5, ?6)"
    } else {
        "UPDATE items SET gsi1pk = ?2, gsi1sk = ?3, gsi2pk = ?4, gsi2sk = ?5, body = ?6
         WHERE pk = ?1 AND sk = 'METADATA' AND json_extract(body, '$.version') = ?7"
    };
    let pk = inquiry_pk(inquiry.id);
    let changed = if insert {
        exec(tx, sql, params![pk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, body])
    } else {
        exec(tx, sql, params![pk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, body, inquiry.version as i64 - 1])
    };
    changed.map_err(db)
}

fn insert_event(tx: &Transaction<'_>, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError> {
    let seq: i64 = row(tx, "SELECT COUNT(*) FROM items WHERE pk = ?1 AND sk LIKE 'EVENT#%'", [inquiry_pk(id)], |r| r.get(0)).map_err(db)?;
    let sk = format!("EVENT#{}#{:06}", sort_time(event.at), seq);
    let changed = exec(
        tx,
        "INSERT INTO items (pk, sk, dedupe, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        params![inquiry_pk(id), sk, format!("EVENT#{}", event.key), encode(event)?],
    )
    .map_err(db)?;
    Ok(changed == 1)
}

fn get_body(conn: &rusqlite::Connection, pk: &str, sk: &str) -> Result<Option<String>, StoreError> {
    row(conn, "SELECT body FROM items WHERE pk = ?1 AND sk = ?2", params![pk, sk], |r| r.get(0)).optional().map_err(db)
}

fn get_item<T: DeserializeOwned>(conn: &rusqlite::Connection, pk: &str, sk: &str) -> Result<Option<T>, StoreError> {
    get_body(conn, pk, sk)?.map(|b| decode(pk, &b)).transpose()
}

/// Items of one partition whose sort key starts with `prefix`, in key order.
fn partition<T: DeserializeOwned>(conn: &rusqlite::Connection, pk: &str, prefix: &str) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 ORDER BY sk").map_err(db)?;
    let end = format!("{prefix}\u{10FFFF}");
    let bodies =
        stmt.query_map(params![pk, prefix, end], |r| r.get::<_, String>(0)).map_err(db)?.collect::<Result<Vec<_>, _>>().map_err(db)?;
    bodies.iter().map(|b| decode(pk, b)).collect()
}

/// Newest-first page over one GSI partition.
fn gsi_page(conn: &rusqlite::Connection, index: u8, partition_key: &str, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
    let after = match &page.after {
        None => None,
        Some(token) => {
            Some(URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or(StoreError::InvalidPageToken)?)
        }
    };
    let limit = page.limit.clamp(1, 1000) as i64;
    let sql = format!(
        "SELECT gsi{index}sk, body FROM items WHERE gsi{index}pk = ?1 AND (?2 IS NULL OR gsi{index}sk < ?2)
         ORDER BY gsi{index}sk DESC LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = stmt
        .query_map(params![partition_key, after, limit + 1], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
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
    async fn create_inquiry(&self, inquiry: &Inquiry, idempotency_key: Option<&str>, event: &TimelineEvent) -> Result<Created, StoreError> {
        let (inquiry, event) = (inquiry.clone(), event.clone());
        let idem_pk = idempotency_key.map(|k| format!("IDEM#{}#{k}", inquiry.tenant_id));
        self.db
            .write(move |tx| {
                if let Some(pk) = &idem_pk {
                    let existing: Option<String> =
                        row(tx, "SELECT json_extract(body, '$.inquiry_id') FROM items WHERE pk = ?1 AND sk = 'METADATA'", [pk], |r| {
                            r.get(0)
                        })
                        .optional()
                        .map_err(db)?;
                    if let Some(existing) = existing {
                        let body = get_body(tx, &format!("INQUIRY#{existing}"), "METADATA")?
                            .ok_or_else(|| StoreError::Corrupt(format!("{pk} points at a missing inquiry")))?;
                        return Ok(Created::Existing(decode(pk, &body)?));
                    }
                    let expires = inquiry.created_at.as_second() + 24 * 3600;
                    exec(
                        tx,
                        "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, 'METADATA', ?2, ?3)",
                        params![pk, expires, serde_json::json!({ "inquiry_id": inquiry.id }).to_string()],
                    )
                    .map_err(db)?;
                }
                write_inquiry(tx, &inquiry, true).map_err(|e| match e {
                    StoreError::Unavailable(m) if m.contains("UNIQUE") => StoreError::Conflict(format!("inquiry {} exists", inquiry.id)),
                    other => other,
                })?;
                insert_event(tx, inquiry.id, &event)?;
                Ok(Created::New(inquiry))
            })
            .await
    }

    async fn get_inquiry(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        self.db.read(move |c| get_item(c, &inquiry_pk(id), "METADATA")).await
    }

    async fn update_inquiry(&self, next: &Inquiry, expected_version: u64, event: Option<&TimelineEvent>) -> Result<Inquiry, StoreError> {
        let mut next = next.clone();
        next.version = expected_version + 1;
        let event = event.cloned();
        self.db
            .write(move |tx| {
                if write_inquiry(tx, &next, false)? == 0 {
                    return Err(StoreError::Conflict(format!("inquiry {} is no longer at version {expected_version}", next.id)));
                }
                if let Some(event) = &event {
                    insert_event(tx, next.id, event)?;
                }
                Ok(next)
            })
            .await
    }

    async fn append_event(&self, id: InquiryId, event: &TimelineEvent) -> Result<bool, StoreError> {
        let event = event.clone();
        self.db.write(move |tx| insert_event(tx, id, &event)).await
    }

    async fn timeline(&self, id: InquiryId) -> Result<Vec<TimelineEvent>, StoreError> {
        self.db.read(move |c| partition(c, &inquiry_pk(id), "EVENT#")).await
    }

    async fn list_by_tenant(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        let (pk, page) = (format!("TENANT#{tenant}"), page.clone());
        self.db.read(move |c| gsi_page(c, 1, &pk, &page)).await
    }

    async fn list_by_status(&self, status: InquiryStatus, page: &PageRequest) -> Result<Page<Inquiry>, StoreError> {
        let (pk, page) = (format!("STATUS#{}", status.as_str()), page.clone());
        self.db.read(move |c| gsi_page(c, 2, &pk, &page)).await
    }

    async fn put_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError> {
        let (pk, sk, body) = (inquiry_pk(record.inquiry_id), format!("ATTACHMENT#{:02}", record.index), encode(record)?);
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT(pk, sk) DO UPDATE SET body = excluded.body",
                    params![pk, sk, body],
                )
                .map(|_| ())
                .map_err(db)
            })
            .await
    }

    async fn attachments(&self, id: InquiryId) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.db.read(move |c| partition(c, &inquiry_pk(id), "ATTACHMENT#")).await
    }

    async fn put_ai_response(&self, record: &AiResponseRecord) -> Result<(), StoreError> {
        let (pk, sk, body) = (inquiry_pk(record.inquiry_id), format!("AI_RESPONSE#{}", sort_time(record.at)), encode(record)?);
        self.db
            .write(move |tx| {
                exec(tx, "INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![pk, sk, body])
                    .map(|_| ())
                    .map_err(db)
            })
            .await
    }

    async fn ai_responses(&self, id: InquiryId) -> Result<Vec<AiResponseRecord>, StoreError> {
        self.db.read(move |c| partition(c, &inquiry_pk(id), "AI_RESPONSE#")).await
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let (pk, key, body) = (format!("TENANT#{}", tenant.id), format!("APIKEY#{}", tenant.api_key_hash), encode(tenant)?);
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, body) VALUES (?1, 'METADATA', ?2, 'TENANT', ?3)
                     ON CONFLICT(pk, sk) DO UPDATE SET gsi1pk = excluded.gsi1pk, body = excluded.body",
                    params![pk, key, body],
                )
                .map(|_| ())
                .map_err(db)
            })
            .await
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let pk = format!("TENANT#{id}");
        self.db.read(move |c| get_item(c, &pk, "METADATA")).await
    }

    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>, StoreError> {
        let key = format!("APIKEY#{hash}");
        self.db
            .read(move |c| {
                let body: Option<String> = row(c, "SELECT body FROM items WHERE gsi1pk = ?1 AND gsi1sk = 'TENANT'", [&key], |r| r.get(0))
                    .optional()
                    .map_err(db)?;
                body.map(|b| decode(&key, &b)).transpose()
            })
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.db
            .read(|c| {
                let mut stmt =
                    c.prepare_cached("SELECT pk, body FROM items WHERE pk LIKE 'TENANT#%' AND sk = 'METADATA' ORDER BY pk").map_err(db)?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                    .map_err(db)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                rows.iter().map(|(pk, b)| decode(pk, b)).collect()
            })
            .await
    }
}

#[async_trait]
impl ReservationStore for SqliteStore {
    async fn put_reservation(&self, reservation: &Reservation) -> Result<(), StoreError> {
        let (pk, body) = (format!("RES#{}", reservation.reservation_number), encode(reservation)?);
        self.db
            .write(move |tx| {
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, body) VALUES (?1, 'METADATA', ?2) ON CONFLICT(pk, sk) DO UPDATE SET body = excluded.body",
                    params![pk, body],
                )
                .map(|_| ())
                .map_err(db)
            })
            .await
    }

    async fn get_reservation(&self, number: &ReservationNumber) -> Result<Option<Reservation>, StoreError> {
        let pk = format!("RES#{number}");
        self.db.read(move |c| get_item(c, &pk, "METADATA")).await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn put_token(&self, record: &TokenRecord) -> Result<TokenRecord, StoreError> {
        let record = record.clone();
        self.db
            .write(move |tx| {
                let pk = format!("TOKEN#{}", record.token_hash);
                exec(
                    tx,
                    "INSERT INTO items (pk, sk, expires_at, body) VALUES (?1, 'METADATA', ?2, ?3) ON CONFLICT DO NOTHING",
                    params![pk, record.expires_at.as_second(), encode(&record)?],
                )
                .map_err(db)?;
                get_item(tx, &pk, "METADATA")?.ok_or_else(|| StoreError::Corrupt(pk))
            })
            .await
    }

    async fn get_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let pk = format!("TOKEN#{hash}");
        self.db.read(move |c| get_item(c, &pk, "METADATA")).await
    }

    async fn mark_token_opened(&self, hash: &str, at: Timestamp) -> Result<bool, StoreError> {
        let pk = format!("TOKEN#{hash}");
        self.db
            .write(move |tx| {
                let Some(mut record): Option<TokenRecord> = get_item(tx, &pk, "METADATA")? else {
                    return Err(StoreError::NotFound(pk));
                };
                if record.opened_at.is_some() {
                    return Ok(false);
                }
                record.opened_at = Some(at);
                exec(tx, "UPDATE items SET body = ?2 WHERE pk = ?1 AND sk = 'METADATA'", params![pk, encode(&record)?]).map_err(db)?;
                Ok(true)
            })
            .await
    }

    async fn consume_token(&self, hash: &str, outcome: &PartnerOutcome, at: Timestamp) -> Result<TokenRecord, StoreError> {
        let (pk, outcome) = (format!("TOKEN#{hash}"), outcome.clone());
        self.db
            .write(move |tx| {
                let Some(mut record): Option<TokenRecord> = get_item(tx, &pk, "METADATA")? else {
                    return Err(StoreError::NotFound(pk));
                };
                record.used = true;
                record.outcome = Some(outcome);
                record.used_at = Some(at);
                // The condition is the single-use guarantee.
                let changed = exec(
                    tx,
                    "UPDATE items SET body = ?2 WHERE pk = ?1 AND sk = 'METADATA' AND json_extract(body, '$.used') = 0",
                    params![pk, encode(&record)?],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TransitionError, TransitionOutcome, transition};
    use switchboard_domain::{Channel, CustomerContact, PhoneNumber};
    use switchboard_sqlite::Durability;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("sb.db"), Durability::Normal).unwrap();
        (dir, SqliteStore::open(db).await.unwrap())
    }

    fn inquiry(tenant: &str, second: i64) -> Inquiry {
        let now = Timestamp::from_second(1_700_000_000 + second).unwrap();
        Inquiry {
            id: InquiryId::new(now, [second as u8; 10]),
            tenant_id: TenantId::parse(tenant).unwrap(),
            customer: CustomerContact { phone: PhoneNumber::parse("+821012345678").ok(), email: None },
            channel: Channel::Api,
            title: None,
            content: "hello".into(),
            language: None,
            reservation_number: None,
            attachment_count: 0,
            classification: None,
            status: InquiryStatus::Received,
            status_reason: None,
            version: 1,
            partner: None,
            answer: None,
            escalation: None,
            human_answer: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn received_event(i: &Inquiry) -> TimelineEvent {
        TimelineEvent::once("status.received", "intake", i.created_at, serde_json::Value::Null)
    }

    #[tokio::test]
    async fn the_same_idempotency_key_returns_the_first_inquiry() {
        let (_d, s) = store().await;
        let first = inquiry("t", 1);
        let second = inquiry("t", 2);
        assert!(matches!(s.create_inquiry(&first, Some("k"), &received_event(&first)).await.unwrap(), Created::New(_)));
        match s.create_inquiry(&second, Some("k"), &received_event(&second)).await.unwrap() {
            Created::Existing(i) => assert_eq!(i.id, first.id),
            other => panic!("expected Existing, got {other:?}"),
        }
        assert!(s.get_inquiry(second.id).await.unwrap().is_none());
        // Keys are per tenant.
        let other = inquiry("u", 3);
        assert!(matches!(s.create_inquiry(&other, Some("k"), &received_event(&other)).await.unwrap(), Created::New(_)));
    }

    #[tokio::test]
    async fn a_write_with_a_stale_version_is_a_conflict() {
        let (_d, s) = store().await;
        let i = inquiry("t", 1);
        s.create_inquiry(&i, None, &received_event(&i)).await.unwrap();
        let mut next = i.clone();
        next.status = InquiryStatus::Classified;
        let stored = s.update_inquiry(&next, 1, None).await.unwrap();
        assert_eq!(stored.version, 2);
        assert!(matches!(s.update_inquiry(&next, 1, None).await, Err(StoreError::Conflict(_))));
    }

    #[tokio::test]
    async fn a_transition_writes_status_and_timeline_together_and_only_once() {
        let (_d, s) = store().await;
        let i = inquiry("t", 1);
        s.create_inquiry(&i, None, &received_event(&i)).await.unwrap();
        let now = Timestamp::from_second(1_700_000_100).unwrap();
        let out = transition(&s, i.id, InquiryStatus::Classified, "classifier", now, serde_json::Value::Null, |_| {}).await.unwrap();
        assert!(matches!(out, TransitionOutcome::Applied(_)));
        let again = transition(&s, i.id, InquiryStatus::Classified, "classifier", now, serde_json::Value::Null, |_| {}).await.unwrap();
        assert!(matches!(again, TransitionOutcome::AlreadyDone(_)));
        let kinds: Vec<_> = s.timeline(i.id).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["status.received", "status.classified"]);
        let back = transition(&s, i.id, InquiryStatus::Received, "x", now, serde_json::Value::Null, |_| {}).await;
        assert!(matches!(back, Err(TransitionError::Invalid { current: InquiryStatus::Classified, .. })));
    }

    #[tokio::test]
    async fn tenant_listings_are_newest_first_and_paged() {
        let (_d, s) = store().await;
        for n in 0..5 {
            let i = inquiry("t", n);
            s.create_inquiry(&i, None, &received_event(&i)).await.unwrap();
        }
        let other = inquiry("u", 9);
        s.create_inquiry(&other, None, &received_event(&other)).await.unwrap();
        let tenant = TenantId::parse("t").unwrap();
        let first = s.list_by_tenant(&tenant, &PageRequest::first(2)).await.unwrap();
        let second = s.list_by_tenant(&tenant, &PageRequest { limit: 2, after: first.next.clone() }).await.unwrap();
        let third = s.list_by_tenant(&tenant, &PageRequest { limit: 2, after: second.next.clone() }).await.unwrap();
        let secs = |p: &Page<Inquiry>| p.items.iter().map(|i| i.created_at.as_second() - 1_700_000_000).collect::<Vec<_>>();
        assert_eq!((secs(&first), secs(&second), secs(&third)), (vec![4, 3], vec![2, 1], vec![0]));
        assert!(third.next.is_none());
        let bad = PageRequest { limit: 2, after: Some("!!".into()) };
        assert!(matches!(s.list_by_tenant(&tenant, &bad).await, Err(StoreError::InvalidPageToken)));
    }

    #[tokio::test]
    async fn status_listing_follows_transitions() {
        let (_d, s) = store().await;
        let i = inquiry("t", 1);
        s.create_inquiry(&i, None, &received_event(&i)).await.unwrap();
        let now = Timestamp::from_second(1_700_000_100).unwrap();
        transition(&s, i.id, InquiryStatus::Escalated, "responder", now, serde_json::Value::Null, |_| {}).await.unwrap();
        assert!(s.list_by_status(InquiryStatus::Received, &PageRequest::first(10)).await.unwrap().items.is_empty());
        assert_eq!(s.list_by_status(InquiryStatus::Escalated, &PageRequest::first(10)).await.unwrap().items[0].id, i.id);
    }

    #[tokio::test]
    async fn a_token_can_be_consumed_once() {
        let (_d, s) = store().await;
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let record = TokenRecord {
            token_hash: "h".into(),
            inquiry_id: inquiry("t", 1).id,
            partner_id: "p".into(),
            expires_at: now,
            deadline_at: now,
            used: false,
            outcome: None,
            used_at: None,
            opened_at: None,
        };
        s.put_token(&record).await.unwrap();
        assert!(s.mark_token_opened("h", now).await.unwrap());
        assert!(!s.mark_token_opened("h", now).await.unwrap());
        let used = s.consume_token("h", &PartnerOutcome::Accepted, now).await.unwrap();
        assert_eq!(used.outcome, Some(PartnerOutcome::Accepted));
        assert!(matches!(s.consume_token("h", &PartnerOutcome::TimedOut, now).await, Err(StoreError::Conflict(_))));
        // Storing again (a redelivered dispatcher) keeps the used record.
        assert!(s.put_token(&record).await.unwrap().used);
    }

    #[tokio::test]
    async fn tenants_are_found_by_api_key_hash() {
        let (_d, s) = store().await;
        let tenant = Tenant {
            id: TenantId::parse("t").unwrap(),
            name: "T".into(),
            api_key_hash: "abc".into(),
            domain_context: String::new(),
            faq: vec![],
            tier: "standard".into(),
        };
        s.put_tenant(&tenant).await.unwrap();
        assert_eq!(s.tenant_by_api_key_hash("abc").await.unwrap(), Some(tenant.clone()));
        assert_eq!(s.tenant_by_api_key_hash("nope").await.unwrap(), None);
        assert_eq!(s.list_tenants().await.unwrap(), vec![tenant]);
    }
}
