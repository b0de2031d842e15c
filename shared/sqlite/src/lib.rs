//! The embedded mode's database: one SQLite file in WAL mode shared by the
//! queues, the topic, the table and the outbox.
//!
//! SQLite admits one writer at a time, and with `synchronous=FULL` every
//! commit waits for an fsync (about a millisecond on these machines), so
//! one transaction per write caps the whole pipeline at about a thousand
//! writes a second. Writes therefore go through **group commit**: one
//! writer thread owns the write connection, takes every write waiting in
//! its queue, runs each caller's closure inside its own `SAVEPOINT` of one
//! shared `BEGIN IMMEDIATE` transaction, and commits once. Each caller keeps
//! all-or-nothing semantics: a closure that fails (or panics) is rolled
//! back to its savepoint without touching the others, and no caller hears
//! "done" before the commit that holds its writes succeeded; when that
//! commit fails, every caller in it hears [`DbError::Batch`], even one whose
//! closure returned its own error. Reads use
//! small pools of their own connections on tokio's blocking pool, which WAL
//! lets run beside the writer: one for the pipeline's workers and one for
//! the API's reads ([`ReadPool`]), so a flood of status polls waits for the
//! API's connections and never for the ones the workers need.

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub mod first_open;
pub mod floor;
pub mod vacuum;

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
    /// A statement failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread or the read pool is gone, or a write panicked.
    #[error("the database worker thread failed: {0}")]
    Worker(String),
    /// The database file could not be opened or set up.
    #[error("cannot open database at {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The transaction this write ran in failed to commit (or SQLite rolled
    /// it back midway): nothing of it was kept, and what the write itself
    /// returned, success or its own error, is void. Worth retrying.
    #[error("the transaction holding this write failed: {0}")]
    Batch(String),
}

impl DbError {
    /// Whether a statement broke a UNIQUE or PRIMARY KEY constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Sqlite(e) if is_unique_violation(e))
    }
}

/// Whether `e` is SQLite refusing a row that breaks a UNIQUE or PRIMARY KEY
/// constraint, told by its extended result code (the message is for people).
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error(),
        Some(rusqlite::ffi::Error { code: rusqlite::ErrorCode::ConstraintViolation, extended_code })
            if matches!(*extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// Read connections of the pipeline's pool, and so pipeline reads running
/// at once. Reads wait for a free connection rather than open another:
/// opening one (and re-parsing every statement on it) costs far more than
/// waiting for a point query.
pub const READERS: usize = 4;

/// Read connections of the API's pool. Fewer than the pipeline's: API reads
/// are point lookups, and the bound is what keeps a poll flood from holding
/// more of the machine's threads than this.
pub const API_READERS: usize = 2;

/// Which read connections a handle's reads use. The pools are apart so
/// that no amount of reads through one delays a read through the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadPool {
    /// The workers' pool ([`READERS`] connections): the pipeline's reads.
    #[default]
    Pipeline,
    /// The API's pool ([`API_READERS`] connections): reads that serve API
    /// callers (status polls, listings, authentication).
    Api,
}

impl ReadPool {
    fn size(self) -> usize {
        match self {
            Self::Pipeline => READERS,
            Self::Api => API_READERS,
        }
    }
}

/// A pool of read connections, opened on first use.
struct Readers {
    size: usize,
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection.
    permits: Arc<tokio::sync::Semaphore>,
    /// Connections opened so far.
    opened: AtomicU64,
}

impl Readers {
    fn new(pool: ReadPool) -> Self {
        let size = pool.size();
        Self { size, idle: Mutex::new(Vec::new()), permits: Arc::new(tokio::sync::Semaphore::new(size)), opened: AtomicU64::new(0) }
    }
}

/// Most writes committed together by default. Bounds how long one batch
/// holds the writer (and so the latency of the writes queued behind it).
pub const DEFAULT_WRITE_BATCH: usize = 256;

/// Most writes queued for the writer (waiting or running) at once; a write
/// beyond it waits for a slot, so the queue is bounded and overload pushes
/// back on the callers instead of growing memory and latency.
pub const MAX_QUEUED_WRITES: usize = 4096;

/// Counters of the writer, for benchmarks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Writes that ran (committed, failed or rolled back).
    pub writes: u64,
    /// Transactions committed.
    pub commits: u64,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Box<dyn Job>>,
    /// One permit per write in the writer's queue ([`MAX_QUEUED_WRITES`]).
    queued: Arc<tokio::sync::Semaphore>,
    /// The pipeline's read pool and the API's.
    pipeline_reads: Readers,
    api_reads: Readers,
    durability: Durability,
    writes: Arc<AtomicU64>,
    commits: Arc<AtomicU64>,
}

impl Inner {
    fn readers(&self, pool: ReadPool) -> &Readers {
        match pool {
            ReadPool::Pipeline => &self.pipeline_reads,
            ReadPool::Api => &self.api_reads,
        }
    }
}

/// A handle to the embedded database; cheap to clone. Its reads go through
/// one [`ReadPool`] (the pipeline's unless [`Database::reading_from`] chose).
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
    reads: ReadPool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("path", &self.inner.path).field("reads", &self.reads).finish()
    }
}

impl Database {
    /// Opens (creating if needed) the database file and starts its writer
    /// thread, which commits up to [`DEFAULT_WRITE_BATCH`] writes together.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, DbError> {
        Self::open_with_batch(path, durability, DEFAULT_WRITE_BATCH)
    }

    /// [`Database::open`] with the most writes one transaction may hold:
    /// `1` commits every write on its own (no group commit), which is how
    /// the benchmarks measure what group commit buys.
    pub fn open_with_batch(path: &Path, durability: Durability, write_batch: usize) -> Result<Self, DbError> {
        let max_batch = write_batch.max(1);
        let writer = open_connection(path, durability)?;
        // Before the first table exists (a new file) this picks the mode
        // that lets retention give deleted rows' space back; see [`vacuum`].
        vacuum::prefer_incremental(&writer).map_err(|source| DbError::Open { path: path.to_owned(), source })?;
        first_open::use_wal(&writer).map_err(|source| DbError::Open { path: path.to_owned(), source })?;
        let (sender, jobs) = mpsc::channel::<Box<dyn Job>>();
        let (writes, commits) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let counters = Counters { writes: writes.clone(), commits: commits.clone() };
        // The thread ends when the last handle (and so the last sender) is
        // dropped, after finishing the writes already queued.
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(writer, jobs, counters, max_batch))
            .map_err(|e| DbError::Worker(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: sender,
                queued: Arc::new(tokio::sync::Semaphore::new(MAX_QUEUED_WRITES)),
                pipeline_reads: Readers::new(ReadPool::Pipeline),
                api_reads: Readers::new(ReadPool::Api),
                durability,
                writes,
                commits,
            }),
            reads: ReadPool::Pipeline,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How hard commits try to survive a crash.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Writes and commits so far.
    pub fn writer_stats(&self) -> WriterStats {
        WriterStats { writes: self.inner.writes.load(Ordering::Relaxed), commits: self.inner.commits.load(Ordering::Relaxed) }
    }

    /// Writes queued for the writer thread, waiting or running (load
    /// shedding reads it; at most [`MAX_QUEUED_WRITES`]).
    pub fn pending_writes(&self) -> usize {
        MAX_QUEUED_WRITES - self.inner.queued.available_permits()
    }

    /// Runs `f` atomically: its writes are all committed if it returns
    /// `Ok` (and then only once they are durable at the configured level),
    /// and none are if it returns `Err` or panics.
    ///
    /// `f` runs on the writer thread inside a savepoint of a transaction it
    /// may share with other callers' writes; it sees their uncommitted
    /// changes made before it in the same batch, and must not end the
    /// transaction itself (`COMMIT`, `ROLLBACK`, `RELEASE`). It should be
    /// short: every write queued behind it waits.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        // The slot is freed when the writer drops the job, answered or not.
        let slot =
            self.inner.queued.clone().acquire_owned().await.map_err(|_| E::from(DbError::Worker("the writer queue is closed".into())))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn Job> = Box::new(Call { f: Some(f), result: None, reply, _slot: slot });
        self.inner.writer.send(job).map_err(|_| E::from(DbError::Worker("the writer thread has stopped".into())))?;
        match answer.await {
            Ok(result) => result,
            // The writer dropped the job without answering: it died.
            Err(_) => Err(E::from(DbError::Worker("the writer thread stopped during this write".into()))),
        }
    }

    /// The same database, its reads going through `pool`; writes still go
    /// to the one writer. The composition root gives the API's stores a
    /// handle on [`ReadPool::Api`].
    pub fn reading_from(&self, pool: ReadPool) -> Self {
        Self { inner: self.inner.clone(), reads: pool }
    }

    /// The read pool this handle's reads use.
    pub fn read_pool(&self) -> ReadPool {
        self.reads
    }

    /// Connections this handle's read pool opened so far (at most its size
    /// at a time).
    pub fn read_connections_opened(&self) -> u64 {
        self.inner.readers(self.reads).opened.load(Ordering::Relaxed)
    }

    /// Runs `f` on a connection of this handle's read pool (a consistent
    /// snapshot for its duration if `f` opens a transaction; single
    /// statements are atomic anyway).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (inner, pool) = (self.inner.clone(), self.reads);
        let permits = inner.readers(pool).permits.clone();
        let permit = permits.acquire_owned().await.map_err(|_| E::from(DbError::Worker("the read pool is closed".into())))?;
        tokio::task::spawn_blocking(move || {
            // Holding a permit, this read finds a pooled connection unless
            // fewer than the pool's size have been opened so far.
            let _permit = permit;
            let readers = inner.readers(pool);
            let pooled = readers.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    readers.opened.fetch_add(1, Ordering::Relaxed);
                    open_connection(&inner.path, inner.durability)?
                }
            };
            let result = f(&conn);
            let mut idle = readers.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < readers.size {
                idle.push(conn);
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

/// One caller's write, as the writer thread sees it.
trait Job: Send {
    /// Runs the caller's closure; `true` if its writes are to be kept.
    fn run(&mut self, tx: &Transaction<'_>) -> bool;
    /// Answers the caller: `failure` is why the batch's transaction failed
    /// (its writes are gone), `None` once they are committed.
    fn finish(self: Box<Self>, failure: Option<&str>);
}

struct Call<F, T, E> {
    f: Option<F>,
    result: Option<Result<T, E>>,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
    /// This write's place in the bounded queue.
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl<F, T, E> Job for Call<F, T, E>
where
    F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send,
    T: Send,
    E: From<DbError> + Send,
{
    fn run(&mut self, tx: &Transaction<'_>) -> bool {
        let Some(f) = self.f.take() else { return false };
        let result = f(tx);
        let keep = result.is_ok();
        self.result = Some(result);
        keep
    }

    fn finish(self: Box<Self>, failure: Option<&str>) {
        let Call { result, reply, _slot: slot, .. } = *self;
        // The queue's slot is free before the caller hears back, so a
        // caller that then reads `pending_writes` never counts its own write.
        drop(slot);
        let answer = match (result, failure) {
            (Some(result), None) => result,
            // Not even the caller's own error stands: it may rest on what
            // earlier writes in the batch did (a conflict with a row that
            // was never committed), so the caller must try again.
            (Some(_), Some(why)) => Err(E::from(DbError::Batch(why.to_owned()))),
            (None, why) => Err(E::from(DbError::Worker(why.unwrap_or("the write panicked").to_owned()))),
        };
        // The caller may have stopped waiting (its task was cancelled): nothing to tell.
        let _ = reply.send(answer);
    }
}

struct Counters {
    writes: Arc<AtomicU64>,
    commits: Arc<AtomicU64>,
}

/// How often the writer logs its throughput (at debug level).
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The writer thread: waits for a write, takes everything queued behind
/// it, and commits the lot together.
fn write_loop(conn: Connection, jobs: mpsc::Receiver<Box<dyn Job>>, counters: Counters, max_batch: usize) {
    let mut reported = (std::time::Instant::now(), 0u64, 0u64, 0u64);
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        counters.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&conn, batch, &counters);
        if reported.0.elapsed() >= REPORT_EVERY {
            let (writes, commits) = (counters.writes.load(Ordering::Relaxed), counters.commits.load(Ordering::Relaxed));
            let seconds = reported.0.elapsed().as_secs_f64();
            let busy = BUSY_WAITS.load(Ordering::Relaxed);
            let (w, c) = (writes - reported.1, commits - reported.2);
            tracing::debug!(
                writes_per_second = (w as f64 / seconds).round(),
                commits_per_second = (c as f64 / seconds).round(),
                writes_per_commit = (w as f64 / c.max(1) as f64 * 10.0).round() / 10.0,
                busy_waits = busy - reported.3,
                "database writer"
            );
            reported = (std::time::Instant::now(), writes, commits, busy);
        }
    }
}

/// A job that ran and waits for the commit, with its own failure if it panicked.
type Ran = (Box<dyn Job>, Option<&'static str>);

fn fail_all(jobs: impl IntoIterator<Item = Box<dyn Job>>, why: &str) {
    for job in jobs {
        job.finish(Some(why));
    }
}

/// Runs `batch` in as few transactions as possible: one, unless SQLite
/// itself aborts the transaction midway (I/O error, full disk), in which
/// case the writes already in it are failed and the rest go into a new one.
fn commit_batch(conn: &Connection, batch: Vec<Box<dyn Job>>, counters: &Counters) {
    let mut queue = batch.into_iter();
    'transactions: loop {
        let Some(first) = queue.next() else { return };
        let tx = match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let why = format!("cannot begin a transaction: {e}");
                fail_all(std::iter::once(first).chain(queue), &why);
                return;
            }
        };
        let mut ran: Vec<Ran> = Vec::new();
        let mut next = Some(first);
        while let Some(mut job) = next.take().or_else(|| queue.next()) {
            if let Err(e) = savepoint(&tx, "SAVEPOINT sb_write") {
                let why = format!("cannot open a savepoint: {e}");
                fail_all(ran.into_iter().map(|(j, _)| j).chain(std::iter::once(job)).chain(queue), &why);
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| job.run(&tx)));
            if tx.is_autocommit() {
                // The closure's statement made SQLite roll back the whole
                // transaction: every write in it so far is gone.
                let why = "the transaction was rolled back by SQLite";
                fail_all(ran.into_iter().map(|(j, _)| j).chain(std::iter::once(job)), why);
                continue 'transactions;
            }
            let keep = matches!(outcome, Ok(true));
            let settled = if keep {
                savepoint(&tx, "RELEASE sb_write")
            } else {
                savepoint(&tx, "ROLLBACK TO sb_write").and_then(|()| savepoint(&tx, "RELEASE sb_write"))
            };
            if let Err(e) = settled {
                let why = format!("cannot settle a savepoint: {e}");
                fail_all(ran.into_iter().map(|(j, _)| j).chain(std::iter::once(job)).chain(queue), &why);
                return;
            }
            ran.push((job, outcome.is_err().then_some("the write panicked; its changes were rolled back")));
        }
        match tx.commit() {
            Ok(()) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                for (job, own_failure) in ran {
                    job.finish(own_failure);
                }
            }
            Err(e) => fail_all(ran.into_iter().map(|(j, _)| j), &format!("commit failed: {e}")),
        }
        return;
    }
}

/// Times SQLite's busy handler was called (a connection found the file
/// locked by another), for the writer's debug report.
static BUSY_WAITS: AtomicU64 = AtomicU64::new(0);

/// The busy handler: waits for another connection's lock for up to about
/// ten seconds, in short sleeps. SQLite's own `busy_timeout` sleeps up to
/// 100 ms at a time, so a writer could keep waiting long after a lock held
/// for a millisecond was released, stalling every write queued behind it.
fn wait_while_busy(attempt: i32) -> bool {
    BUSY_WAITS.fetch_add(1, Ordering::Relaxed);
    let sleep = match attempt {
        0..20 => Duration::from_micros(100),
        20..10_018 => Duration::from_millis(1),
        _ => return false,
    };
    std::thread::sleep(sleep);
    true
}

fn savepoint(tx: &Transaction<'_>, sql: &str) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn open_connection(path: &Path, durability: Durability) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let open_err = |source| DbError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    // Other connections (`switchboard serve …` processes on the same data
    // dir, the local span store) may hold the write lock briefly.
    conn.busy_handler(Some(wait_while_busy)).map_err(open_err)?;
    conn.pragma_update(None, "synchronous", durability.pragma()).map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
    // The writer runs some thirty distinct statements (queues, table,
    // outbox); the default cache of 16 would keep re-parsing them.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[cfg(test)]
mod tests;
