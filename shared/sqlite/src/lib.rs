//! The embedded mode's database: one SQLite file in WAL mode shared by the
//! queues, the topic, the table and the outbox.
//!
//! SQLite calls block, so every call runs on tokio's blocking pool. Writes
//! go through one connection (SQLite admits one writer at a time anyway,
//! and queueing in-process is cheaper than `SQLITE_BUSY` retries); reads use
//! a small pool of their own connections, which WAL lets run beside the writer.

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod floor;

pub use rusqlite;

/// How hard a commit tries to survive a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL with `synchronous=NORMAL`: survives a process crash; a power cut
    /// may lose the last commits.
    #[default]
    Normal,
    /// WAL with `synchronous=FULL`: every commit is fsync'd.
    Full,
}

impl Durability {
    /// The `synchronous` pragma value this level sets.
    pub fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database worker thread failed: {0}")]
    Worker(String),
    #[error("cannot open database at {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
}

const READERS: usize = 4;

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    durability: Durability,
}

/// A handle to the embedded database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("path", &self.inner.path).finish()
    }
}

impl Database {
    /// Opens (creating if needed) the database file.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, DbError> {
        let writer = open_connection(path, durability)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|source| DbError::Open { path: path.to_owned(), source })?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                durability,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer
    /// connection; commits when it returns `Ok`, rolls back otherwise.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(DbError::from)?;
            let value = f(&tx)?;
            tx.commit().map_err(DbError::from)?;
            Ok(value)
        })
        .await
        .map_err(|e| E::from(DbError::Worker(e.to_string())))?
    }

    /// Runs `f` on a read connection (a consistent snapshot for its duration
    /// if `f` opens a transaction; single statements are atomic anyway).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_connection(&inner.path, inner.durability)?,
            };
            let result = f(&conn);
            let mut pool = inner.readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < READERS {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| E::from(DbError::Worker(e.to_string())))?
    }

    /// Runs schema statements (idempotent `CREATE … IF NOT EXISTS`).
    pub async fn migrate(&self, sql: &'static str) -> Result<(), DbError> {
        self.write(move |tx| tx.execute_batch(sql).map_err(DbError::from)).await
    }
}

fn open_connection(path: &Path, durability: Durability) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let open_err = |source| DbError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    // Other processes (`switchboard serve …` on the same data dir) may hold the write lock briefly.
    conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
    conn.pragma_update(None, "synchronous", durability.pragma()).map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_write_rolls_back() {
        let dir = std::env::temp_dir().join(format!("sb-sqlite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::open(&dir.join("t.db"), Durability::Normal).unwrap();
        db.migrate("CREATE TABLE IF NOT EXISTS t (v INTEGER)").await.unwrap();
        let failed: Result<(), DbError> = db
            .write(|tx| {
                tx.execute("INSERT INTO t VALUES (1)", [])?;
                Err(DbError::Worker("boom".into()))
            })
            .await;
        assert!(failed.is_err());
        let count: i64 = db.read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).map_err(DbError::from)).await.unwrap();
        assert_eq!(count, 0);
        std::fs::remove_dir_all(&dir).ok();
    }
}
