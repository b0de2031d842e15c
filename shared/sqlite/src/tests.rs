//! The writer's contract: each caller's write is all or nothing, whatever
//! the other writes committed in the same transaction do.

use super::*;
use std::sync::mpsc as std_mpsc;

async fn database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("t.db"), Durability::Normal).unwrap();
    db.migrate("CREATE TABLE IF NOT EXISTS t (v INTEGER)").await.unwrap();
    (dir, db)
}

async fn values(db: &Database) -> Vec<i64> {
    db.read(|c| {
        let mut stmt = c.prepare("SELECT v FROM t ORDER BY v")?;
        let rows = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
        Ok::<_, DbError>(rows)
    })
    .await
    .unwrap()
}

/// Occupies the writer thread until the returned sender is used (or
/// dropped), so that writes made meanwhile queue up and share one batch.
async fn hold_writer(db: &Database) -> (std_mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, wait) = std_mpsc::channel::<()>();
    let (started, is_started) = tokio::sync::oneshot::channel();
    let db = db.clone();
    let holder = tokio::spawn(async move {
        db.write(move |_| {
            let _ = started.send(());
            let _ = wait.recv();
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    });
    is_started.await.unwrap();
    (release, holder)
}

fn insert(v: i64) -> impl FnOnce(&Transaction<'_>) -> Result<(), DbError> + Send + 'static {
    move |tx| tx.execute("INSERT INTO t VALUES (?1)", [v]).map(|_| ()).map_err(DbError::from)
}

#[tokio::test]
async fn a_failed_write_rolls_back() {
    let (_dir, db) = database().await;
    let failed: Result<(), DbError> = db
        .write(|tx| {
            tx.execute("INSERT INTO t VALUES (1)", [])?;
            Err(DbError::Worker("boom".into()))
        })
        .await;
    assert!(failed.is_err());
    assert!(values(&db).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_together_share_one_commit_and_fail_only_alone() {
    let (_dir, db) = database().await;
    let (release, holder) = hold_writer(&db).await;
    let before = db.writer_stats();
    let writes = (0..40i64).map(|v| {
        let db = db.clone();
        async move {
            db.write(move |tx| {
                insert(v)(tx)?;
                // Odd writes fail after writing: only their own row may go.
                if v % 2 == 1 { Err(DbError::Worker(format!("write {v} refuses"))) } else { Ok(v) }
            })
            .await
        }
    });
    let mut all = Box::pin(futures::future::join_all(writes));
    // One poll sends every write to the (busy) writer.
    assert!(futures::poll!(all.as_mut()).is_pending());
    release.send(()).unwrap();
    holder.await.unwrap();
    let results = all.await;
    for (v, result) in results.iter().enumerate() {
        assert_eq!(result.is_ok(), v % 2 == 0, "write {v}: {result:?}");
    }
    assert_eq!(values(&db).await, (0..40).filter(|v| v % 2 == 0).collect::<Vec<_>>());
    let after = db.writer_stats();
    assert_eq!(after.writes - before.writes, 40, "the held write was taken before `before`");
    assert_eq!(after.commits - before.commits, 2, "the held write's commit, then the 40 queued behind it in one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_fails_alone_and_the_writer_keeps_working() {
    let (_dir, db) = database().await;
    let (release, holder) = hold_writer(&db).await;
    let first = db.write(insert(1));
    let panicking = db.write(|tx| -> Result<(), DbError> {
        insert(2)(tx)?;
        panic!("a bug in a caller");
    });
    let third = db.write(insert(3));
    let mut all = Box::pin(async { tokio::join!(first, panicking, third) });
    assert!(futures::poll!(all.as_mut()).is_pending());
    release.send(()).unwrap();
    holder.await.unwrap();
    let (a, b, c) = all.await;
    assert!(a.is_ok() && c.is_ok());
    assert!(matches!(b, Err(DbError::Worker(_))), "{b:?}");
    db.write(insert(4)).await.unwrap();
    assert_eq!(values(&db).await, [1, 3, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_sqlite_aborts_the_transaction_the_writes_before_fail_and_the_rest_commit() {
    let (_dir, db) = database().await;
    let (release, holder) = hold_writer(&db).await;
    let before = db.write(insert(1));
    // Stands for a statement after which SQLite rolls the whole transaction back (I/O error, full disk).
    let aborting = db.write(|tx| tx.execute_batch("ROLLBACK").map_err(DbError::from));
    let after = db.write(insert(3));
    let mut all = Box::pin(async { tokio::join!(before, aborting, after) });
    assert!(futures::poll!(all.as_mut()).is_pending());
    release.send(()).unwrap();
    holder.await.unwrap();
    let (a, b, c) = all.await;
    assert!(matches!(a, Err(DbError::Batch(_))), "{a:?}");
    assert!(matches!(b, Err(DbError::Batch(_))), "{b:?}");
    assert!(c.is_ok(), "{c:?}");
    assert_eq!(values(&db).await, [3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_commit_fails_every_write_in_the_batch_is_told_unavailable_even_one_that_saw_a_conflict() {
    let (_dir, db) = database().await;
    db.migrate("CREATE UNIQUE INDEX IF NOT EXISTS t_v ON t (v)").await.unwrap();
    let (release, holder) = hold_writer(&db).await;
    let first = db.write(insert(1));
    // Runs after `first` in the same batch, so it sees that row and breaks the unique index.
    let conflicting = db.write(insert(1));
    // SQLite turns a COMMIT whose commit hook answers `true` into a rollback: the injected fault.
    let refusing_the_commit = db.write(|tx| {
        let mut refuse = true;
        tx.commit_hook(Some(move || std::mem::take(&mut refuse)));
        Ok::<_, DbError>(())
    });
    let mut all = Box::pin(async { tokio::join!(first, conflicting, refusing_the_commit) });
    assert!(futures::poll!(all.as_mut()).is_pending());
    release.send(()).unwrap();
    holder.await.unwrap();
    let (a, b, c) = all.await;
    assert!(matches!(a, Err(DbError::Batch(_))), "{a:?}");
    assert!(matches!(b, Err(DbError::Batch(_))), "the conflict was with a row that was never committed: {b:?}");
    assert!(matches!(c, Err(DbError::Batch(_))), "{c:?}");
    assert!(values(&db).await.is_empty(), "nothing of the failed batch was kept");
    db.write(insert(1)).await.expect("a retry of the write that was told conflict now goes through");
    assert_eq!(values(&db).await, [1]);
}

#[tokio::test]
async fn a_write_is_visible_to_readers_once_it_returns() {
    let (_dir, db) = database().await;
    for v in 0..20 {
        db.write(insert(v)).await.unwrap();
        assert_eq!(values(&db).await.len() as i64, v + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_beyond_the_pool_wait_for_a_connection_instead_of_opening_more() {
    let (_dir, db) = database().await;
    // Fill the pool with reads that hold their connection until released.
    let (releases, holders) = hold_reads(&db, READERS, READERS).await;
    assert_eq!(db.read_connections_opened(), READERS as u64, "every held read has a connection of its own");
    let mut extra = Box::pin(db.read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)).map_err(DbError::from)));
    assert!(futures::poll!(extra.as_mut()).is_pending(), "a read beyond the pool waits");
    for release in releases {
        release.send(()).unwrap();
    }
    for holder in holders {
        assert_eq!(holder.await.unwrap().unwrap(), 0);
    }
    assert_eq!(extra.await.unwrap(), 0);
    assert_eq!(db.read_connections_opened(), READERS as u64, "the waiting read reused a pooled connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_while_another_connection_holds_the_file_then_goes_through() {
    let (dir, db) = database().await;
    // A second handle on the same file stands for another process.
    let other = Database::open(&dir.path().join("t.db"), Durability::Normal).unwrap();
    let (release, holder) = hold_writer(&db).await;
    let busy_before = BUSY_WAITS.load(Ordering::Relaxed);
    let waiting = tokio::spawn({
        let other = other.clone();
        async move { other.write(insert(7)).await }
    });
    // The other writer reaching the lock shows in the busy handler's count.
    // (Other tests may add to that count too; it only ends this wait early,
    // and the write cannot finish while the lock is held either way.)
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while BUSY_WAITS.load(Ordering::Relaxed) == busy_before {
        assert!(tokio::time::Instant::now() < deadline, "the other writer never waited for the lock");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert!(!waiting.is_finished(), "the file is locked by the other writer");
    release.send(()).unwrap();
    holder.await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(values(&db).await, [7]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_writes_counts_the_writes_queued_behind_the_writer_until_they_commit() {
    let (_dir, db) = database().await;
    assert_eq!(db.pending_writes(), 0);
    let (release, holder) = hold_writer(&db).await;
    let queued: Vec<_> = (0..3)
        .map(|v| {
            let db = db.clone();
            tokio::spawn(async move { db.write(insert(v)).await })
        })
        .collect();
    // The holder runs; the three others wait behind it.
    while db.pending_writes() < 4 {
        tokio::task::yield_now().await;
    }
    assert_eq!(db.pending_writes(), 4);
    release.send(()).unwrap();
    holder.await.unwrap();
    for write in queued {
        write.await.unwrap().unwrap();
    }
    // A slot is freed just after its caller is answered.
    while db.pending_writes() > 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(values(&db).await, [0, 1, 2]);
}

/// Starts `n` reads through `db` that each hold their connection until
/// their sender is used (or dropped); returns once `running` of them run
/// (the others wait for a connection).
async fn hold_reads(
    db: &Database,
    n: usize,
    running: usize,
) -> (Vec<tokio::sync::oneshot::Sender<()>>, Vec<tokio::task::JoinHandle<Result<i64, DbError>>>) {
    let (started, mut all_started) = tokio::sync::mpsc::unbounded_channel();
    let mut releases = Vec::new();
    let mut holders = Vec::new();
    for _ in 0..n {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        releases.push(release);
        let (db, started) = (db.clone(), started.clone());
        holders.push(tokio::spawn(async move {
            db.read(move |c| {
                let _ = started.send(());
                let _ = released.blocking_recv();
                c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)).map_err(DbError::from)
            })
            .await
        }));
    }
    for _ in 0..running {
        all_started.recv().await.unwrap();
    }
    (releases, holders)
}

/// Bounds a wait that must end, so a broken pool fails the test instead of
/// hanging it (not a measure of speed: it is many orders too long for that).
const HANG: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_reads_holding_every_api_connection_do_not_delay_a_pipeline_read() {
    let (_dir, pipeline) = database().await;
    pipeline.write(insert(1)).await.unwrap();
    let api = pipeline.reading_from(ReadPool::Api);
    // More held API reads than either pool has connections: the API's pool
    // runs its share and queues the rest.
    let (releases, holders) = hold_reads(&api, READERS + API_READERS, API_READERS).await;
    assert_eq!(api.read_connections_opened(), API_READERS as u64, "the API's reads are bounded by its own pool");

    let read = tokio::time::timeout(HANG, values(&pipeline)).await;
    assert_eq!(read.expect("a pipeline read is served while API reads hold and queue for every API connection"), [1]);
    assert_eq!(pipeline.read_connections_opened(), 1);

    for release in releases {
        release.send(()).unwrap();
    }
    for holder in holders {
        assert_eq!(holder.await.unwrap().unwrap(), 1);
    }
    assert_eq!(api.read_connections_opened(), API_READERS as u64, "the queued API reads reused the API's connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_reads_holding_every_pipeline_connection_do_not_delay_an_api_read() {
    let (_dir, pipeline) = database().await;
    let (releases, holders) = hold_reads(&pipeline, READERS + 1, READERS).await;
    let api = pipeline.reading_from(ReadPool::Api);
    assert_eq!(api.read_pool(), ReadPool::Api);
    let read = tokio::time::timeout(HANG, values(&api)).await;
    assert!(read.expect("an API read is served while the pipeline's pool is held").is_empty());
    drop(releases);
    for holder in holders {
        holder.await.unwrap().unwrap();
    }
}
