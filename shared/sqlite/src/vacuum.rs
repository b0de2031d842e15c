//! Giving the space of deleted rows back to the file system.
//!
//! SQLite keeps the pages of deleted rows on a free list and reuses them
//! for new rows, so a file whose old rows are removed stops growing but
//! never shrinks. With `auto_vacuum=INCREMENTAL` the free pages can be
//! cut off the end of the file a few at a time
//! ([`Database::incremental_vacuum`]), each step a short write.
//!
//! The mode can only be chosen before the file's first table exists:
//! [`Database::open`] sets it on every new file. A file made before that
//! keeps `auto_vacuum=NONE` until it is rebuilt once with `VACUUM`
//! ([`convert_to_incremental`]), which rewrites the whole file under an
//! exclusive lock (and needs as much free disk again), so it is a command
//! run while nothing else uses the file, never something done at start.

use crate::{Database, DbError};
use rusqlite::Connection;
use std::path::Path;

/// The file's `auto_vacuum` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoVacuum {
    /// Free pages stay in the file (reused by new rows).
    None,
    /// Every commit truncates the file (never set by Switchboard).
    Full,
    /// Free pages are cut off on request ([`Database::incremental_vacuum`]).
    Incremental,
}

impl AutoVacuum {
    fn from_pragma(value: i64) -> Self {
        match value {
            1 => Self::Full,
            2 => Self::Incremental,
            _ => Self::None,
        }
    }
}

/// Pages of the file and how many of them are free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCounts {
    /// Pages in the file (its size over the page size).
    pub pages: u64,
    /// Pages on the free list.
    pub free: u64,
    /// Bytes per page.
    pub page_size: u64,
}

/// Reads the file's page counts on `conn`.
pub fn page_counts(conn: &Connection) -> rusqlite::Result<PageCounts> {
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0)).map(|v| v.max(0) as u64);
    Ok(PageCounts { pages: pragma("page_count")?, free: pragma("freelist_count")?, page_size: pragma("page_size")? })
}

/// Sets `auto_vacuum=INCREMENTAL` on `conn`'s file. Takes effect only on a
/// file without tables yet (a new one); elsewhere it changes nothing.
pub fn prefer_incremental(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
}

/// Cuts at most `max_pages` free pages off the end of `conn`'s file (at
/// the commit of the transaction it runs in, if any). The pragma frees one
/// page per step, so it is stepped to its end here (`execute` would stop
/// after the first page).
pub fn incremental_vacuum(conn: &Connection, max_pages: u32) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!("PRAGMA incremental_vacuum({})", max_pages.max(1)))?;
    let mut steps = stmt.query([])?;
    while steps.next()?.is_some() {}
    Ok(())
}

/// Rebuilds the file at `path` with `auto_vacuum=INCREMENTAL` (a full
/// `VACUUM`). Run it while no process has the file open: it takes an
/// exclusive lock for as long as it takes to copy the whole file.
/// Returns the mode before and after.
pub fn convert_to_incremental(path: &Path) -> Result<(AutoVacuum, AutoVacuum), DbError> {
    let open_err = |source| DbError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(open_err)?;
    let mode = |conn: &Connection| conn.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).map(AutoVacuum::from_pragma);
    let before = mode(&conn)?;
    if before != AutoVacuum::Incremental {
        prefer_incremental(&conn)?;
        conn.execute_batch("VACUUM")?;
    }
    Ok((before, mode(&conn)?))
}

impl Database {
    /// The file's `auto_vacuum` mode.
    pub async fn auto_vacuum(&self) -> Result<AutoVacuum, DbError> {
        self.read(|c| c.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).map(AutoVacuum::from_pragma).map_err(DbError::from))
            .await
    }

    /// The file's pages and free pages.
    pub async fn page_counts(&self) -> Result<PageCounts, DbError> {
        self.read(|c| page_counts(c).map_err(DbError::from)).await
    }

    /// Cuts at most `max_pages` free pages off the end of the file, in one
    /// write through the writer (so it holds the write lock for one short
    /// step, like any other write). Returns how many pages were freed: 0
    /// when the file is not in [`AutoVacuum::Incremental`] mode or has no
    /// free pages.
    pub async fn incremental_vacuum(&self, max_pages: u32) -> Result<u64, DbError> {
        self.write(move |tx| {
            let before = page_counts(tx)?;
            incremental_vacuum(tx, max_pages)?;
            let after = page_counts(tx)?;
            // The free list, not the page count: the file is cut at commit.
            Ok::<_, DbError>(before.free.saturating_sub(after.free))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Durability;

    async fn filled(dir: &Path) -> Database {
        let db = Database::open(&dir.join("v.db"), Durability::Normal).unwrap();
        db.migrate("CREATE TABLE IF NOT EXISTS t (v TEXT)").await.unwrap();
        db.write(|tx| {
            for _ in 0..2000 {
                tx.execute("INSERT INTO t VALUES (?1)", [&"x".repeat(500)])?;
            }
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        db
    }

    #[tokio::test]
    async fn a_new_file_is_in_incremental_mode_and_gives_deleted_pages_back_a_few_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let db = filled(dir.path()).await;
        assert_eq!(db.auto_vacuum().await.unwrap(), AutoVacuum::Incremental);
        db.write(|tx| tx.execute("DELETE FROM t", []).map_err(DbError::from)).await.unwrap();
        let full = db.page_counts().await.unwrap();
        assert!(full.free > 100, "{full:?}");
        let freed = db.incremental_vacuum(50).await.unwrap();
        let after = db.page_counts().await.unwrap();
        assert_eq!(freed, 50, "{full:?} -> {after:?}");
        assert_eq!((after.pages, after.free), (full.pages - 50, full.free - 50));
    }

    #[tokio::test]
    async fn a_file_made_without_auto_vacuum_keeps_its_pages_until_it_is_converted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        Connection::open(&path).unwrap().execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v TEXT);").unwrap();
        let db = filled(dir.path()).await;
        assert_eq!(db.auto_vacuum().await.unwrap(), AutoVacuum::None, "an existing file keeps its mode");
        db.write(|tx| tx.execute("DELETE FROM t", []).map_err(DbError::from)).await.unwrap();
        assert_eq!(db.incremental_vacuum(50).await.unwrap(), 0);
        let pages = db.page_counts().await.unwrap().pages;
        drop(db);
        assert_eq!(convert_to_incremental(&path).unwrap(), (AutoVacuum::None, AutoVacuum::Incremental));
        let db = Database::open(&path, Durability::Normal).unwrap();
        assert_eq!(db.auto_vacuum().await.unwrap(), AutoVacuum::Incremental);
        assert!(db.page_counts().await.unwrap().pages < pages / 10, "VACUUM dropped the free pages");
    }
}
