//! The durable-write floor of the embedded store on this machine
//! (`switchboard bench sqlite`): how many commits per second SQLite makes
//! with the same file settings the store uses, one row per transaction and
//! many rows per transaction, and how many writes per second callers get
//! through [`Database::write`].
//!
//! With `synchronous=FULL` every commit waits for an fsync, so one-row
//! commits measure the disk's flush latency; batched rows show what one
//! fsync can carry. The pipeline cannot beat these numbers: they are the
//! floor its per-inquiry write count is measured against.

use crate::{Database, DbError, Durability, open_connection};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to measure, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorSettings {
    /// Time per measurement.
    pub time: Duration,
    /// Payload bytes per row.
    pub row_bytes: usize,
    /// Rows per transaction in the batched measurement.
    pub batch: usize,
    /// Concurrent callers of [`Database::write`].
    pub callers: usize,
}

/// Results at one durability level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorReport {
    pub durability: Durability,
    pub row_bytes: usize,
    /// One-row `BEGIN IMMEDIATE; INSERT; COMMIT` transactions per second, one connection.
    pub one_row_commits_per_sec: f64,
    /// Rows per second in transactions of `batch` rows.
    pub batched_rows_per_sec: f64,
    pub batch: usize,
    /// One-row writes per second through [`Database::write`] with `callers` concurrent callers.
    pub writer_writes_per_sec: f64,
    pub callers: usize,
}

impl FloorReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        format!(
            "synchronous={:<6} one-row commits/s {:>9.0} · rows/s in {}-row commits {:>9.0} · writes/s through the store's writer ({} callers) {:>9.0}",
            self.durability.pragma(),
            self.one_row_commits_per_sec,
            self.batch,
            self.batched_rows_per_sec,
            self.callers,
            self.writer_writes_per_sec
        )
    }
}

const TABLE: &str = "CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, body BLOB NOT NULL)";

/// A fresh database file in `dir` for one measurement.
fn scratch(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("floor-{name}.db"));
    remove(&path);
    path
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Rows per second inserting `rows_per_tx` rows per transaction for `time`, on one connection.
fn raw(path: &Path, durability: Durability, time: Duration, row_bytes: usize, rows_per_tx: usize) -> Result<f64, DbError> {
    let conn = open_connection(path, durability)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(TABLE)?;
    let body = vec![0x5Au8; row_bytes];
    let mut insert = conn.prepare("INSERT INTO floor (body) VALUES (?1)")?;
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < time {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for _ in 0..rows_per_tx {
            insert.execute([&body])?;
        }
        conn.execute_batch("COMMIT")?;
        rows += rows_per_tx as u64;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

/// One-row writes per second through [`Database::write`] with `callers` concurrent callers.
async fn through_writer(path: &Path, durability: Durability, time: Duration, row_bytes: usize, callers: usize) -> Result<f64, DbError> {
    let db = Database::open(path, durability)?;
    db.migrate(TABLE).await?;
    let done = Arc::new(AtomicU64::new(0));
    let body = Arc::new(vec![0x5Au8; row_bytes]);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers.max(1) {
        let (db, done, body) = (db.clone(), done.clone(), body.clone());
        tasks.spawn(async move {
            while started.elapsed() < time {
                let body = body.clone();
                db.write(move |tx| tx.execute("INSERT INTO floor (body) VALUES (?1)", [&*body]).map_err(DbError::from)).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, DbError>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| DbError::Worker(e.to_string()))??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Measures the floor at one durability level, on scratch files in `dir` (removed afterwards).
pub async fn measure(dir: &Path, durability: Durability, settings: &FloorSettings) -> Result<FloorReport, DbError> {
    let s = *settings;
    let level = durability.pragma().to_ascii_lowercase();
    let blocking = |name: &'static str, rows_per_tx: usize| {
        let path = scratch(dir, &format!("{level}-{name}"));
        async move {
            let p = path.clone();
            let result = tokio::task::spawn_blocking(move || raw(&p, durability, s.time, s.row_bytes, rows_per_tx))
                .await
                .map_err(|e| DbError::Worker(e.to_string()))?;
            remove(&path);
            result
        }
    };
    let one_row = blocking("one-row", 1).await?;
    let batched = blocking("batched", s.batch.max(1)).await?;
    let path = scratch(dir, &format!("{level}-writer"));
    let writer = through_writer(&path, durability, s.time, s.row_bytes, s.callers).await;
    remove(&path);
    Ok(FloorReport {
        durability,
        row_bytes: s.row_bytes,
        one_row_commits_per_sec: one_row,
        batched_rows_per_sec: batched,
        batch: s.batch.max(1),
        writer_writes_per_sec: writer?,
        callers: s.callers.max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_figure_is_measured_and_the_scratch_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let settings = FloorSettings { time: Duration::from_millis(100), row_bytes: 100, batch: 10, callers: 4 };
        let report = measure(dir.path(), Durability::Normal, &settings).await.unwrap();
        assert!(report.one_row_commits_per_sec > 0.0);
        assert!(report.batched_rows_per_sec > 0.0);
        assert!(report.writer_writes_per_sec > 0.0);
        assert!(report.summary().contains("NORMAL"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
