//! Setting a database file up when several processes may open it for the
//! first time at once (`switchboard serve` processes started together on a
//! new data directory).
//!
//! A busy handler does not cover this: SQLite skips it, answering
//! `SQLITE_BUSY` at once, when waiting could deadlock — a connection that
//! read the schema and now wants the write lock another holds, or a switch
//! to WAL while others hold the file. So the first-open steps are retried
//! whole, with the busy handler's own schedule.

use crate::wait_while_busy;
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

/// Puts the file in WAL mode (a no-op once it is).
pub fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    retry_while_busy(|| conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map(|_| ()))
}

/// Runs idempotent schema statements (`CREATE … IF NOT EXISTS`) in one
/// transaction that takes the write lock before it reads anything, so two
/// connections creating the same schema take turns instead of one failing.
pub fn create_schema(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    retry_while_busy(|| {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.commit()
    })
}

/// Runs `step` again while SQLite answers busy or locked, for as long as
/// the busy handler would wait.
fn retry_while_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut attempt = 0;
    loop {
        match step() {
            Err(e) if is_busy(&e) && wait_while_busy(attempt) => attempt += 1,
            done => return done,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Database, Durability};

    const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS a (v INTEGER); CREATE INDEX IF NOT EXISTS a_v ON a (v);";
    /// New files raced on per test: one race on one file loses only now and then.
    const ROUNDS: usize = 20;
    const OPENERS: usize = 16;

    #[test]
    fn many_connections_setting_up_a_new_file_at_once_all_succeed() {
        for _ in 0..ROUNDS {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.db");
            let start = std::sync::Barrier::new(OPENERS);
            std::thread::scope(|s| {
                let openers: Vec<_> = (0..OPENERS)
                    .map(|_| {
                        s.spawn(|| {
                            let conn = Connection::open(&path).unwrap();
                            conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                            start.wait();
                            use_wal(&conn).and_then(|()| create_schema(&conn, SCHEMA))
                        })
                    })
                    .collect();
                for opener in openers {
                    opener.join().unwrap().expect("every connection sets the file up");
                }
            });
            let mode: String = Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
            assert_eq!(mode, "wal");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_databases_opened_at_once_on_a_new_file_all_open_and_migrate() {
        for _ in 0..ROUNDS {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.db");
            let start = std::sync::Arc::new(std::sync::Barrier::new(OPENERS));
            let openers: Vec<_> = (0..OPENERS)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        Database::open(&path, Durability::Normal)
                    })
                })
                .collect();
            let mut migrations = Vec::new();
            for opener in openers {
                let db = opener.join().unwrap().expect("every handle opens the new file");
                migrations.push(async move { db.migrate(SCHEMA).await });
            }
            for migrated in futures::future::join_all(migrations).await {
                migrated.expect("and creates the schema");
            }
        }
    }
}
