//! Retention in embedded mode: the task that removes operational rows once
//! nothing can need them, so the file stops growing with the traffic.
//!
//! On AWS the services do this themselves: DynamoDB's TTL deletes items
//! past their `expires_at`, SQS drops messages past their queue's
//! retention period. The embedded file has neither, so this task does it,
//! in the gateway's process (with the outbox relay and the sweeper):
//!
//! | rows | removed | setting |
//! |---|---|---|
//! | items with a TTL: idempotency keys, partner tokens, console sessions, webhook messages and attempts | `expires_at` + grace | `SWITCHBOARD_RETENTION_EXPIRED_GRACE_SECS` (1 day) |
//! | dead letters not being redriven | entered the dead-letter queue that long ago | `SWITCHBOARD_RETENTION_DEAD_LETTER_DAYS` (14, SQS's maximum and what `provision` sets) |
//! | the outbox of sent SMS and e-mail (the embedded sent-message ledger) | sent that long ago | `SWITCHBOARD_RETENTION_SENT_DAYS` (30; more than the dead-letter age plus a day) |
//! | spans in `spans.db` | ended that long ago (by the span exporter, see `switchboard_telemetry::local`) | `SWITCHBOARD_SPAN_RETENTION_HOURS` (72) |
//!
//! Inquiries, their timelines, messages, attachments, AI responses,
//! corrections, tenants and reservations are business records and have no
//! expiry: nothing here can reach them. A message waiting in a service's
//! queue (or in flight) is work not done and is never removed; a handled
//! one was deleted by the worker when it finished (SQS's `DeleteMessage`),
//! so there are no processed queue rows left to remove, only their pages.
//!
//! Every delete is one write through the store's writer of at most
//! [`BATCH`] rows, with a [`PAUSE`] between writes, so the pipeline's
//! writes queued behind a batch wait for one short statement, never for a
//! long delete; a backlog (a file from before retention, or a process that
//! was stopped for weeks) is worked off over many small writes. The pages
//! freed are reused by new rows; those beyond a reserve are given back to
//! the file system with `PRAGMA incremental_vacuum`, a few hundred at a
//! time (files made before incremental vacuum keep them: see
//! `switchboard compact`).

use jiff::{SignedDuration, Timestamp};
use std::time::Duration;
use switchboard_channels::sqlite::SqliteOutbox;
use switchboard_messaging::sqlite::SqliteBroker;
use switchboard_sqlite::Database;
use switchboard_sqlite::vacuum::AutoVacuum;
use switchboard_store::sqlite::SqliteStore;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Most rows one retention write deletes.
pub const BATCH: u32 = 500;

/// The wait between two retention writes, leaving the writer to the pipeline.
pub const PAUSE: Duration = Duration::from_millis(20);

/// Free pages left in the file for new rows to reuse (4 MiB of 4 KiB
/// pages): returning them only for the file to grow again is churn.
pub const FREE_PAGE_RESERVE: u64 = 1024;

/// Most free pages one vacuum write cuts off the file.
const VACUUM_STEP: u64 = 256;

/// How long each kind of row is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How long an item stays past its `expires_at`.
    pub expired_grace: Duration,
    /// How long a dead letter stays in its dead-letter queue.
    pub dead_letters: Duration,
    /// How long a sent message stays on record.
    pub sent: Duration,
}

/// What one pass removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionReport {
    /// Items past their expiry and grace.
    pub expired_items: usize,
    /// Dead letters past their age.
    pub dead_letters: usize,
    /// Sent messages past their age.
    pub sent: usize,
    /// Pages given back to the file system.
    pub pages_freed: u64,
    /// Writes the pass made.
    pub writes: usize,
}

impl RetentionReport {
    /// Rows removed, of every kind.
    pub fn rows(&self) -> usize {
        self.expired_items + self.dead_letters + self.sent
    }
}

/// The retention task of one embedded database.
#[derive(Clone)]
pub struct Retention {
    db: Database,
    store: SqliteStore,
    broker: SqliteBroker,
    outbox: SqliteOutbox,
    policy: RetentionPolicy,
}

fn ago(now: Timestamp, age: Duration) -> Timestamp {
    now.checked_sub(SignedDuration::try_from(age).unwrap_or(SignedDuration::MAX)).unwrap_or(Timestamp::MIN)
}

/// Runs `remove` (one write of at most [`BATCH`] rows) until a write
/// removes fewer than that, pausing between writes.
async fn drain<E, F, Fut>(report_writes: &mut usize, mut remove: F) -> Result<usize, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, E>>,
{
    let mut total = 0;
    loop {
        let removed = remove().await?;
        *report_writes += 1;
        total += removed;
        if removed < BATCH as usize {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

impl Retention {
    /// Retention of the rows in `db`, through its tables' own handles.
    pub fn new(db: Database, store: SqliteStore, broker: SqliteBroker, outbox: SqliteOutbox, policy: RetentionPolicy) -> Self {
        Self { db, store, broker, outbox, policy }
    }

    /// Removes everything past its age at `now`, then gives free pages
    /// beyond [`FREE_PAGE_RESERVE`] back to the file system.
    pub async fn pass(&self, now: Timestamp) -> anyhow::Result<RetentionReport> {
        let mut report = RetentionReport::default();
        let mut writes = 0;
        let expired = ago(now, self.policy.expired_grace);
        report.expired_items = drain(&mut writes, || self.store.remove_expired(expired, BATCH)).await?;
        let dead = ago(now, self.policy.dead_letters);
        report.dead_letters = drain(&mut writes, || self.broker.remove_dead_letters(dead, BATCH)).await?;
        let sent = ago(now, self.policy.sent);
        report.sent = drain(&mut writes, || self.outbox.remove_sent_before(sent, BATCH)).await?;
        if self.db.auto_vacuum().await? == AutoVacuum::Incremental {
            loop {
                let free = self.db.page_counts().await?.free;
                if free <= FREE_PAGE_RESERVE {
                    break;
                }
                let step = (free - FREE_PAGE_RESERVE).min(VACUUM_STEP) as u32;
                let freed = self.db.incremental_vacuum(step).await?;
                writes += 1;
                report.pages_freed += freed;
                if freed == 0 {
                    break;
                }
                tokio::time::sleep(PAUSE).await;
            }
        }
        report.writes = writes;
        Ok(report)
    }

    /// Runs a pass every `every` until `shutdown`.
    pub async fn run(self, every: Duration, shutdown: CancellationToken) {
        match self.db.auto_vacuum().await {
            Ok(AutoVacuum::Incremental) => {}
            Ok(_) => info!(
                path = %self.db.path().display(),
                "this database file was made before incremental vacuum: rows past their age are removed and their space reused, \
                 but the file does not shrink until `switchboard compact` rebuilds it (with Switchboard stopped)"
            ),
            Err(e) => warn!(error = %e, "cannot read the database's auto_vacuum mode"),
        }
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let pass = tokio::select! {
                () = shutdown.cancelled() => return,
                pass = self.pass(Timestamp::now()) => pass,
            };
            match pass {
                Ok(report) if report.rows() > 0 || report.pages_freed > 0 => info!(
                    expired_items = report.expired_items,
                    dead_letters = report.dead_letters,
                    sent = report.sent,
                    pages_freed = report.pages_freed,
                    "retention"
                ),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "retention pass failed; trying again at the next one"),
            }
        }
    }
}
