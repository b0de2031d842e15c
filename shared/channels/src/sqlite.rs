//! The embedded outbox: in embedded mode "sending" an SMS or e-mail means
//! recording it, exactly once per message id, so a newcomer can read it
//! (`switchboard outbox`) and tests can count it.

use crate::{ChannelError, Delivery, EmailMessage, EmailSender, SmsMessage, SmsSender};
use async_trait::async_trait;
use serde::Serialize;
use switchboard_sqlite::rusqlite::params;
use switchboard_sqlite::{Database, DbError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    inquiry_id TEXT,
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_inquiry ON outbox (inquiry_id);
";

/// One recorded message, as `switchboard outbox` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub id: String,
    pub channel: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
    pub inquiry_id: Option<String>,
    pub sent_at: String,
}

/// SMS and e-mail recorded in the embedded database.
#[derive(Debug, Clone)]
pub struct SqliteOutbox {
    db: Database,
}

impl SqliteOutbox {
    pub async fn open(db: Database) -> Result<Self, ChannelError> {
        db.migrate(SCHEMA).await?;
        Ok(Self { db })
    }

    async fn record(&self, entry: OutboxEntry) -> Result<Delivery, ChannelError> {
        let inserted = self
            .db
            .write(move |tx| {
                tx.prepare_cached(
                    "INSERT INTO outbox (id, channel, recipient, subject, body, inquiry_id, sent_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
                )
                .and_then(|mut insert| {
                    insert.execute(params![entry.id, entry.channel, entry.to, entry.subject, entry.body, entry.inquiry_id, entry.sent_at])
                })
                .map_err(DbError::from)
            })
            .await?;
        Ok(if inserted == 1 { Delivery::Sent } else { Delivery::AlreadySent })
    }

    /// Deletes at most `limit` of the oldest recorded messages sent before
    /// `cutoff`, in one write; returns how many. The outbox is also the
    /// embedded mode's sent-message ledger: a message id on record is not
    /// sent again, so a row must outlive every redelivery of the event
    /// that sent it (the caller's age says how long that is). Only the
    /// `limit` oldest rows are looked at, so a pass costs the same however
    /// large the table is; a row sent out of order behind a newer one goes
    /// in a later pass. (`sent_at` is RFC 3339 in UTC, so text order is
    /// time order to the second.)
    pub async fn remove_sent_before(&self, cutoff: jiff::Timestamp, limit: u32) -> Result<usize, ChannelError> {
        let (cutoff, limit) = (cutoff.to_string(), i64::from(limit.max(1)));
        let removed = self
            .db
            .write(move |tx| {
                tx.prepare_cached(
                    "DELETE FROM outbox WHERE seq IN (
                        SELECT seq FROM (SELECT seq, sent_at FROM outbox ORDER BY seq LIMIT ?2) WHERE sent_at < ?1)",
                )?
                .execute(params![cutoff, limit])
                .map_err(DbError::from)
            })
            .await?;
        Ok(removed)
    }

    /// Recorded messages in sending order, optionally for one inquiry.
    pub async fn entries(&self, inquiry_id: Option<String>) -> Result<Vec<OutboxEntry>, ChannelError> {
        let entries = self
            .db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, channel, recipient, subject, body, inquiry_id, sent_at FROM outbox
                     WHERE ?1 IS NULL OR inquiry_id = ?1 ORDER BY seq",
                )?;
                let rows = stmt.query_map([inquiry_id], |r| {
                    Ok(OutboxEntry {
                        id: r.get(0)?,
                        channel: r.get(1)?,
                        to: r.get(2)?,
                        subject: r.get(3)?,
                        body: r.get(4)?,
                        inquiry_id: r.get(5)?,
                        sent_at: r.get(6)?,
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>().map_err(DbError::from)
            })
            .await?;
        Ok(entries)
    }
}

#[async_trait]
impl SmsSender for SqliteOutbox {
    async fn send_sms(&self, message: &SmsMessage) -> Result<Delivery, ChannelError> {
        self.record(OutboxEntry {
            id: message.id.clone(),
            channel: "sms".into(),
            to: message.to.to_string(),
            subject: None,
            body: message.body.clone(),
            inquiry_id: message.inquiry_id.map(|i| i.to_string()),
            sent_at: jiff::Timestamp::now().to_string(),
        })
        .await
    }
}

#[async_trait]
impl EmailSender for SqliteOutbox {
    async fn send_email(&self, message: &EmailMessage) -> Result<Delivery, ChannelError> {
        self.record(OutboxEntry {
            id: message.id.clone(),
            channel: "email".into(),
            to: message.to.to_string(),
            subject: Some(message.subject.clone()),
            body: message.body.clone(),
            inquiry_id: message.inquiry_id.map(|i| i.to_string()),
            sent_at: jiff::Timestamp::now().to_string(),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::PhoneNumber;
    use switchboard_sqlite::Durability;

    #[tokio::test]
    async fn retention_forgets_messages_sent_before_the_cutoff_and_keeps_the_rest_on_record() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = SqliteOutbox::open(Database::open(&dir.path().join("sb.db"), Durability::Normal).unwrap()).await.unwrap();
        let sms =
            |id: &str| SmsMessage { id: id.into(), to: PhoneNumber::parse("+821012345678").unwrap(), body: "hi".into(), inquiry_id: None };
        for id in ["m1", "m2", "m3"] {
            outbox.send_sms(&sms(id)).await.unwrap();
        }
        let hour = jiff::SignedDuration::from_hours(1);
        assert_eq!(outbox.remove_sent_before(jiff::Timestamp::now() - hour, 500).await.unwrap(), 0);
        assert_eq!(outbox.send_sms(&sms("m1")).await.unwrap(), Delivery::AlreadySent, "still on record");
        // Later, at most two a pass, oldest first.
        assert_eq!(outbox.remove_sent_before(jiff::Timestamp::now() + hour, 2).await.unwrap(), 2);
        let left: Vec<String> = outbox.entries(None).await.unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(left, ["m3"]);
    }

    #[tokio::test]
    async fn a_message_id_is_sent_once_however_often_it_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = SqliteOutbox::open(Database::open(&dir.path().join("sb.db"), Durability::Normal).unwrap()).await.unwrap();
        let sms = SmsMessage { id: "m1".into(), to: PhoneNumber::parse("+821012345678").unwrap(), body: "hi".into(), inquiry_id: None };
        assert_eq!(outbox.send_sms(&sms).await.unwrap(), Delivery::Sent);
        assert_eq!(outbox.send_sms(&sms).await.unwrap(), Delivery::AlreadySent);
        let entries = outbox.entries(None).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].to.as_str(), entries[0].body.as_str()), ("+821012345678", "hi"));
    }
}
