//! The embedded broker: queues and the events topic in the shared SQLite file.
//!
//! SQS semantics are kept exactly where services rely on them: a received
//! message is hidden for its visibility timeout and comes back unless
//! deleted with its latest receipt; every receive counts; a message
//! received more than `max_receives` times moves to the dead-letter queue;
//! delays hide a message until they pass. Publishing inserts one copy into
//! every matching subscribed queue in the same transaction, so fan-out is
//! all or nothing. Because all of it lives in the file, a killed process
//! loses nothing: its in-flight messages reappear when their visibility
//! timeout runs out.

use crate::{
    Attributes, BatchFailure, FAILURE_REASON_ATTRIBUTE, MAX_BATCH, MAX_DELAY, MAX_WAIT, MessagingError, OutgoingMessage, Publication,
    Queue, QueueStats, ReceiveOptions, ReceivedMessage, Topic,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::FilterPolicy;
use switchboard_sqlite::rusqlite::{OptionalExtension, Transaction, params};
use switchboard_sqlite::{Database, DbError};
use tokio::sync::Notify;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    dead_letter_queue TEXT,
    max_receives INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, visible_at);
";

/// Longest a long poll sleeps between looks at the table. Senders in this
/// process wake pollers at once; this bounds the delay for senders in
/// other processes sharing the file, and for delays and visibility timeouts
/// running out.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Queues and topic on one embedded database.
#[derive(Clone)]
pub struct SqliteBroker {
    db: Database,
    wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
}

impl SqliteBroker {
    /// Opens the broker's tables in `db`.
    pub async fn open(db: Database) -> Result<Self, MessagingError> {
        db.migrate(SCHEMA).await?;
        Ok(Self { db, wakers: Arc::default() })
    }

    fn waker(&self, queue: &str) -> Arc<Notify> {
        let mut wakers = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        wakers.entry(queue.to_owned()).or_default().clone()
    }

    /// Creates `name` (idempotently), with `dead_letter_queue` receiving
    /// messages received more than `max_receives` times.
    pub async fn create_queue(
        &self,
        name: &str,
        dead_letter_queue: Option<&str>,
        max_receives: u32,
    ) -> Result<SqliteQueue, MessagingError> {
        if max_receives == 0 {
            return Err(MessagingError::Invalid("max_receives must be at least 1".into()));
        }
        let (n, dlq) = (name.to_owned(), dead_letter_queue.map(str::to_owned));
        self.db
            .write(move |tx| {
                if let Some(dlq) = &dlq {
                    tx.execute(
                        "INSERT INTO queues (name, dead_letter_queue, max_receives) VALUES (?1, NULL, ?2)
                         ON CONFLICT(name) DO NOTHING",
                        params![dlq, u32::MAX],
                    )?;
                }
                tx.execute(
                    "INSERT INTO queues (name, dead_letter_queue, max_receives) VALUES (?1, ?2, ?3)
                     ON CONFLICT(name) DO UPDATE SET dead_letter_queue = excluded.dead_letter_queue,
                                                     max_receives = excluded.max_receives",
                    params![n, dlq, max_receives],
                )?;
                Ok::<_, DbError>(())
            })
            .await?;
        Ok(self.queue(name, dead_letter_queue))
    }

    /// Deletes at most `limit` dead letters (messages in a queue that is
    /// another queue's dead-letter queue) that entered it before `cutoff`
    /// and are not being received, oldest first, in one write; returns how
    /// many. SQS drops a message once its queue's retention period passes
    /// (14 days on the dead-letter queues `provision` makes); this is that,
    /// for the embedded queues. Messages in the services' own queues are
    /// never touched: one waiting there is work not done yet, and one that
    /// was handled is already gone (deleting it is what `delete_batch` does).
    pub async fn remove_dead_letters(&self, cutoff: jiff::Timestamp, limit: u32) -> Result<usize, MessagingError> {
        let (cutoff, limit) = (cutoff.as_millisecond(), i64::from(limit.max(1)));
        let removed = self
            .db
            .write(move |tx| {
                // `sent_at` is when the message entered the dead-letter queue
                // (both ways in set it); in flight: an operator redriving it.
                tx.prepare_cached(
                    "DELETE FROM queue_messages WHERE seq IN (
                        SELECT seq FROM queue_messages
                        WHERE queue IN (SELECT dead_letter_queue FROM queues WHERE dead_letter_queue IS NOT NULL)
                          AND sent_at < ?1 AND visible_at <= ?3 LIMIT ?2)",
                )?
                .execute(params![cutoff, limit, now_ms()])
                .map_err(DbError::from)
            })
            .await?;
        Ok(removed)
    }

    /// A handle on a queue made by [`Self::create_queue`].
    pub fn queue(&self, name: &str, dead_letter_queue: Option<&str>) -> SqliteQueue {
        SqliteQueue { broker: self.clone(), name: name.to_owned(), dead_letter_queue: dead_letter_queue.map(str::to_owned) }
    }

    /// The events topic, delivering to `subscriptions` (queue name, filter policy).
    pub fn topic(&self, subscriptions: Vec<(String, FilterPolicy)>) -> SqliteTopic {
        SqliteTopic { broker: self.clone(), subscriptions }
    }
}

/// Where a message's trace header is kept (SQS's system attribute name).
const TRACE_HEADER_KEY: &str = "AWSTraceHeader";

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn insert_message(tx: &Transaction<'_>, queue: &str, message: &OutgoingMessage, now: i64) -> Result<String, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    // The trace header is SQS's system attribute, not a message attribute:
    // it rides in the same column under a name no routing attribute uses,
    // and is taken out again on receive.
    let attributes = match &message.trace_header {
        Some(header) => {
            let mut with_trace = message.attributes.clone();
            with_trace.insert(TRACE_HEADER_KEY.to_owned(), header.clone());
            serde_json::to_string(&with_trace)
        }
        None => serde_json::to_string(&message.attributes),
    }
    .unwrap_or_else(|_| "{}".into());
    // Cached: the hottest statement of the broker (parsing it each time cost more than running it).
    tx.prepare_cached("INSERT INTO queue_messages (id, queue, body, attributes, sent_at, visible_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![id, queue, message.body, attributes, now, now + message.delay.as_millis() as i64])?;
    Ok(id)
}

fn check_delay(message: &OutgoingMessage) -> Result<(), MessagingError> {
    if message.delay > MAX_DELAY {
        return Err(MessagingError::Invalid(format!("delay {:?} exceeds the 15-minute maximum", message.delay)));
    }
    Ok(())
}

/// One embedded queue.
#[derive(Clone)]
pub struct SqliteQueue {
    broker: SqliteBroker,
    name: String,
    dead_letter_queue: Option<String>,
}

impl SqliteQueue {
    /// One receive attempt without waiting.
    async fn try_receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        let name = self.name.clone();
        let visibility = options.visibility.as_millis() as i64;
        let limit = options.max_messages as i64;
        let (received, moved_to) = self
            .broker
            .db
            .write(move |tx| {
                let now = now_ms();
                let (dlq, max_receives): (Option<String>, u32) = tx
                    .prepare_cached("SELECT dead_letter_queue, max_receives FROM queues WHERE name = ?1")?
                    .query_row([&name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
                    .unwrap_or((None, u32::MAX));
                let mut select = tx.prepare_cached(
                    "SELECT seq, id, body, attributes, receive_count FROM queue_messages
                     WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, seq LIMIT ?3",
                )?;
                let rows = select
                    .query_map(params![name, now, limit], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, u32>(4)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut received = Vec::new();
                let mut moved_to = None;
                for (seq, id, body, attributes, count) in rows {
                    let mut attributes: Attributes = serde_json::from_str(&attributes).unwrap_or_default();
                    if count >= max_receives
                        && let Some(dlq) = &dlq
                    {
                        // The redrive policy: too many receives without a delete.
                        attributes.insert(FAILURE_REASON_ATTRIBUTE.into(), format!("received {count} times without being deleted"));
                        let attrs = serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into());
                        tx.execute(
                            "UPDATE queue_messages SET queue = ?2, attributes = ?3, sent_at = ?4, visible_at = ?4, receive_count = 0,
                             receipt = NULL WHERE seq = ?1",
                            params![seq, dlq, attrs, now],
                        )?;
                        moved_to = Some(dlq.clone());
                        continue;
                    }
                    let receipt = uuid::Uuid::new_v4().to_string();
                    tx.prepare_cached(
                        "UPDATE queue_messages SET receive_count = receive_count + 1, visible_at = ?2, receipt = ?3 WHERE seq = ?1",
                    )?
                    .execute(params![seq, now + visibility, receipt])?;
                    let trace_header = attributes.remove(TRACE_HEADER_KEY);
                    received.push(ReceivedMessage { message_id: id, receipt, body, attributes, receive_count: count + 1, trace_header });
                }
                Ok::<_, DbError>((received, moved_to))
            })
            .await?;
        if let Some(dlq) = moved_to {
            self.broker.waker(&dlq).notify_waiters();
        }
        Ok(received)
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: OutgoingMessage) -> Result<String, MessagingError> {
        check_delay(&message)?;
        let name = self.name.clone();
        let id = self.broker.db.write(move |tx| insert_message(tx, &name, &message, now_ms())).await?;
        self.broker.waker(&self.name).notify_waiters();
        Ok(id)
    }

    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        if options.max_messages == 0 || options.max_messages > MAX_BATCH {
            return Err(MessagingError::Invalid(format!("max_messages must be 1 to {MAX_BATCH}")));
        }
        if options.wait > MAX_WAIT {
            return Err(MessagingError::Invalid("wait must be at most 20 s".into()));
        }
        let deadline = tokio::time::Instant::now() + options.wait;
        let waker = self.broker.waker(&self.name);
        loop {
            // Register interest before looking, so a send between the look
            // and the wait still wakes us.
            let notified = waker.notified();
            let received = self.try_receive(options).await?;
            let now = tokio::time::Instant::now();
            if !received.is_empty() || now >= deadline {
                return Ok(received);
            }
            let nap = POLL_INTERVAL.min(deadline - now);
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError> {
        if receipts.len() > MAX_BATCH {
            return Err(MessagingError::Invalid(format!("at most {MAX_BATCH} receipts a batch")));
        }
        let (name, receipts) = (self.name.clone(), receipts.to_vec());
        let failures = self
            .broker
            .db
            .write(move |tx| {
                let mut failures = Vec::new();
                let mut delete = tx.prepare_cached("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2")?;
                for receipt in receipts {
                    let deleted = delete.execute(params![name, receipt])?;
                    if deleted == 0 {
                        failures.push(BatchFailure { receipt, reason: "receipt handle is stale or unknown".into() });
                    }
                }
                Ok::<_, DbError>(failures)
            })
            .await?;
        Ok(failures)
    }

    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), MessagingError> {
        if timeout > Duration::from_secs(12 * 3600) {
            return Err(MessagingError::Invalid("visibility timeout must be at most 12 hours".into()));
        }
        let (name, receipt) = (self.name.clone(), receipt.to_owned());
        let changed = self
            .broker
            .db
            .write(move |tx| {
                tx.prepare_cached("UPDATE queue_messages SET visible_at = ?3 WHERE queue = ?1 AND receipt = ?2")
                    .and_then(|mut update| update.execute(params![name, receipt, now_ms() + timeout.as_millis() as i64]))
                    .map_err(DbError::from)
            })
            .await?;
        if changed == 0 {
            return Err(MessagingError::StaleReceipt);
        }
        if timeout.is_zero() {
            self.broker.waker(&self.name).notify_waiters();
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), MessagingError> {
        let Some(dlq) = self.dead_letter_queue.clone() else {
            return Err(MessagingError::Invalid(format!("queue {} has no dead-letter queue", self.name)));
        };
        let mut attributes = message.attributes.clone();
        attributes.insert(FAILURE_REASON_ATTRIBUTE.into(), reason.to_owned());
        let copy = OutgoingMessage::new(message.body.clone(), attributes).with_trace_header(message.trace_header.clone());
        let (name, receipt, target) = (self.name.clone(), message.receipt.clone(), dlq.clone());
        // Move and delete in one transaction: the message is in exactly one place.
        self.broker
            .db
            .write(move |tx| {
                let deleted = tx
                    .execute("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2", params![name, receipt])
                    .map_err(DbError::from)?;
                if deleted == 0 {
                    return Err(MessagingError::StaleReceipt);
                }
                insert_message(tx, &target, &copy, now_ms())?;
                Ok(())
            })
            .await?;
        self.broker.waker(&dlq).notify_waiters();
        Ok(())
    }

    async fn stats(&self) -> Result<QueueStats, MessagingError> {
        let (name, dlq) = (self.name.clone(), self.dead_letter_queue.clone());
        let stats = self
            .broker
            .db
            .read(move |conn| {
                let now = now_ms();
                let (visible, in_flight, delayed, oldest): (u64, u64, u64, Option<i64>) = conn.query_row(
                    "SELECT
                        COALESCE(SUM(visible_at <= ?2), 0),
                        COALESCE(SUM(visible_at > ?2 AND receive_count > 0), 0),
                        COALESCE(SUM(visible_at > ?2 AND receive_count = 0), 0),
                        MIN(CASE WHEN visible_at <= ?2 THEN visible_at END)
                     FROM queue_messages WHERE queue = ?1",
                    params![name, now],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?;
                let dead_lettered: u64 = match dlq {
                    Some(dlq) => conn.query_row("SELECT COUNT(*) FROM queue_messages WHERE queue = ?1", [dlq], |r| r.get(0))?,
                    None => 0,
                };
                // Waiting since it became receivable: a delayed message (a partner
                // deadline) or a redelivery is not old because it was sent long ago.
                let oldest_age = oldest.map(|since| Duration::from_millis((now - since).max(0) as u64));
                Ok::<_, DbError>(QueueStats { visible, in_flight, delayed, dead_lettered, oldest_age })
            })
            .await?;
        Ok(stats)
    }
}

/// The events topic of the embedded broker.
#[derive(Clone)]
pub struct SqliteTopic {
    broker: SqliteBroker,
    subscriptions: Vec<(String, FilterPolicy)>,
}

#[async_trait]
impl Topic for SqliteTopic {
    async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError> {
        let deliveries: Vec<(String, OutgoingMessage)> = publications
            .iter()
            .flat_map(|p| {
                self.subscriptions
                    .iter()
                    .filter(|(_, policy)| policy.matches(&p.attributes))
                    .map(|(queue, _)| (queue.clone(), OutgoingMessage::new(p.body.clone(), p.attributes.clone())))
            })
            .collect();
        if deliveries.is_empty() {
            return Ok(());
        }
        let queues: Vec<String> = deliveries.iter().map(|(q, _)| q.clone()).collect();
        self.broker
            .db
            .write(move |tx| {
                let now = now_ms();
                for (queue, message) in &deliveries {
                    insert_message(tx, queue, message, now)?;
                }
                Ok::<_, DbError>(())
            })
            .await?;
        for queue in queues {
            self.broker.waker(&queue).notify_waiters();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sqlite::Durability;

    struct Fixture {
        _dir: tempfile::TempDir,
        broker: SqliteBroker,
        path: std::path::PathBuf,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sb.db");
        let broker = SqliteBroker::open(Database::open(&path, Durability::Normal).unwrap()).await.unwrap();
        Fixture { _dir: dir, broker, path }
    }

    fn opts(visibility_ms: u64) -> ReceiveOptions {
        ReceiveOptions { max_messages: 10, wait: Duration::ZERO, visibility: Duration::from_millis(visibility_ms) }
    }

    /// A long poll that returns as soon as a message is visible (or after 10 s).
    fn until_visible(visibility_ms: u64) -> ReceiveOptions {
        ReceiveOptions { max_messages: 10, wait: Duration::from_secs(10), visibility: Duration::from_millis(visibility_ms) }
    }

    fn msg(body: &str) -> OutgoingMessage {
        OutgoingMessage::new(body, Attributes::new())
    }

    #[tokio::test]
    async fn a_received_message_is_hidden_until_its_visibility_timeout_runs_out() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", Some("q-dlq"), 5).await.unwrap();
        q.send(msg("hello")).await.unwrap();
        let first = q.receive(opts(2000)).await.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].receive_count, 1);
        assert!(q.receive(opts(2000)).await.unwrap().is_empty(), "hidden while its visibility timeout runs");
        // Comes back by itself once the timeout has run out.
        let again = q.receive(until_visible(2000)).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].body, "hello");
        assert_eq!(again[0].receive_count, 2);
        assert_ne!(again[0].receipt, first[0].receipt);
    }

    #[tokio::test]
    async fn only_the_latest_receipt_deletes() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", None, 5).await.unwrap();
        q.send(msg("x")).await.unwrap();
        let first = q.receive(opts(0)).await.unwrap();
        let second = q.receive(opts(1000)).await.unwrap();
        let failures = q.delete_batch(&[first[0].receipt.clone()]).await.unwrap();
        assert_eq!(failures.len(), 1);
        assert!(q.delete_batch(&[second[0].receipt.clone()]).await.unwrap().is_empty());
        assert_eq!(q.stats().await.unwrap(), QueueStats::default());
    }

    #[tokio::test]
    async fn a_message_received_too_often_moves_to_the_dead_letter_queue() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", Some("q-dlq"), 2).await.unwrap();
        q.send(msg("poison")).await.unwrap();
        assert_eq!(q.receive(opts(0)).await.unwrap().len(), 1);
        assert_eq!(q.receive(opts(0)).await.unwrap().len(), 1);
        assert!(q.receive(opts(0)).await.unwrap().is_empty());
        let dlq = f.broker.queue("q-dlq", None);
        let dead = dlq.receive(opts(1000)).await.unwrap();
        assert_eq!(dead[0].body, "poison");
        assert!(dead[0].attributes[FAILURE_REASON_ATTRIBUTE].contains("2 times"));
        assert_eq!(q.stats().await.unwrap().dead_lettered, 1);
    }

    #[tokio::test]
    async fn retention_removes_dead_letters_past_their_age_and_never_a_message_still_to_be_handled() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", Some("q-dlq"), 5).await.unwrap();
        for body in ["redriving", "dead", "in flight", "waiting"] {
            q.send(msg(body)).await.unwrap();
        }
        let received = q.receive(ReceiveOptions { max_messages: 3, ..opts(600_000) }).await.unwrap();
        q.dead_letter(&received[0], "bad").await.unwrap();
        q.dead_letter(&received[1], "bad").await.unwrap();
        let dlq = f.broker.queue("q-dlq", None);
        // An operator is redriving one dead letter: it is in flight.
        let redriving = dlq.receive(ReceiveOptions { max_messages: 1, ..opts(600_000) }).await.unwrap();
        assert_eq!(redriving[0].body, "redriving");
        let now = jiff::Timestamp::now();
        let hour = jiff::SignedDuration::from_hours(1);

        assert_eq!(f.broker.remove_dead_letters(now - hour, 500).await.unwrap(), 0, "younger than the age");
        // An hour on, everything is older than the cutoff: only the idle dead letter goes.
        assert_eq!(f.broker.remove_dead_letters(now + hour, 500).await.unwrap(), 1);
        assert_eq!(f.broker.remove_dead_letters(now + hour, 500).await.unwrap(), 0);
        let stats = q.stats().await.unwrap();
        assert_eq!((stats.visible, stats.in_flight, stats.dead_lettered), (1, 1, 1), "the waiting and in-flight messages stay");
        assert!(dlq.delete_batch(&[redriving[0].receipt.clone()]).await.unwrap().is_empty(), "the redriven one is still there");
    }

    #[tokio::test]
    async fn dead_lettering_records_the_reason_and_removes_the_original() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", Some("q-dlq"), 5).await.unwrap();
        q.send(msg("bad")).await.unwrap();
        let got = q.receive(opts(1000)).await.unwrap();
        q.dead_letter(&got[0], "not a CloudEvent").await.unwrap();
        let dead = f.broker.queue("q-dlq", None).receive(opts(1000)).await.unwrap();
        assert_eq!(dead[0].attributes[FAILURE_REASON_ATTRIBUTE], "not a CloudEvent");
        let stats = q.stats().await.unwrap();
        assert_eq!((stats.visible, stats.in_flight, stats.dead_lettered), (0, 0, 1));
    }

    #[tokio::test]
    async fn a_delayed_message_stays_hidden_for_its_delay() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", None, 5).await.unwrap();
        q.send(msg("later").delayed(Duration::from_secs(2))).await.unwrap();
        assert!(q.receive(opts(1000)).await.unwrap().is_empty());
        assert_eq!(q.stats().await.unwrap().delayed, 1);
        let waited = q.receive(until_visible(1000)).await.unwrap();
        assert_eq!(waited.len(), 1);
        assert_eq!(waited[0].body, "later");
        assert!(q.send(msg("x").delayed(Duration::from_secs(901))).await.is_err());
    }

    #[tokio::test]
    async fn a_long_poll_delivers_a_message_sent_while_it_waits() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", None, 5).await.unwrap();
        let poller = {
            let q = q.clone();
            tokio::spawn(async move {
                q.receive(ReceiveOptions { max_messages: 1, wait: Duration::from_secs(10), visibility: Duration::from_secs(5) }).await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        q.send(msg("ping")).await.unwrap();
        let got = poller.await.unwrap().unwrap();
        assert_eq!(got[0].body, "ping");
    }

    #[tokio::test]
    async fn a_trace_header_travels_beside_the_attributes_not_among_them() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", Some("q-dlq"), 5).await.unwrap();
        let header = "Root=1-6761a2b3-aabbccddeeff001122334455;Parent=0102030405060708;Sampled=1";
        q.send(msg("traced").with_trace_header(Some(header.into()))).await.unwrap();
        let got = q.receive(opts(1000)).await.unwrap();
        assert_eq!(got[0].trace_header.as_deref(), Some(header));
        assert!(got[0].attributes.is_empty());
        q.dead_letter(&got[0], "why").await.unwrap();
        let dead = f.broker.queue("q-dlq", None).receive(opts(1000)).await.unwrap();
        assert_eq!(dead[0].trace_header.as_deref(), Some(header));
    }

    #[tokio::test]
    async fn releasing_a_message_makes_it_visible_at_once() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", None, 5).await.unwrap();
        q.send(msg("x")).await.unwrap();
        let got = q.receive(opts(60_000)).await.unwrap();
        q.change_visibility(&got[0].receipt, Duration::ZERO).await.unwrap();
        assert_eq!(q.receive(opts(60_000)).await.unwrap().len(), 1);
        assert!(matches!(q.change_visibility(&got[0].receipt, Duration::ZERO).await, Err(MessagingError::StaleReceipt)));
    }

    #[tokio::test]
    async fn publishing_fans_out_to_every_matching_subscription_and_no_other() {
        let f = fixture().await;
        let a = f.broker.create_queue("a", None, 5).await.unwrap();
        let b = f.broker.create_queue("b", None, 5).await.unwrap();
        let topic = f.broker.topic(vec![
            ("a".into(), FilterPolicy::new().or(&[("event_type", &["x", "y"])])),
            ("b".into(), FilterPolicy::new().or(&[("event_type", &["y"])])),
        ]);
        let publish = |t: &str| Publication { body: t.into(), attributes: [("event_type".to_string(), t.to_string())].into() };
        topic.publish(&[publish("x"), publish("y"), publish("z")]).await.unwrap();
        let bodies = |v: Vec<ReceivedMessage>| v.into_iter().map(|m| m.body).collect::<Vec<_>>();
        assert_eq!(bodies(a.receive(opts(1000)).await.unwrap()), ["x", "y"]);
        assert_eq!(bodies(b.receive(opts(1000)).await.unwrap()), ["y"]);
    }

    #[tokio::test]
    async fn in_flight_messages_survive_a_restart_and_reappear() {
        let f = fixture().await;
        let q = f.broker.create_queue("q", None, 5).await.unwrap();
        q.send(msg("durable")).await.unwrap();
        assert_eq!(q.receive(opts(200)).await.unwrap().len(), 1);
        drop(q);
        // A new broker on the same file stands for the restarted process.
        let reopened = SqliteBroker::open(Database::open(&f.path, Durability::Normal).unwrap()).await.unwrap();
        let q = reopened.queue("q", None);
        let got = q.receive(until_visible(1000)).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "durable");
        assert_eq!(got[0].receive_count, 2);
    }
}
