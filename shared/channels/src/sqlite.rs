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
