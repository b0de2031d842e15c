//! The local view: in embedded mode finished spans are kept in the
//! SQLite file's `spans` table, so `switchboard trace <inquiry-id>` can
//! print an inquiry's trace as a tree without any collector installed.
//!
//! The exporter runs on the batch span processor's own thread and uses a
//! connection of its own: it never blocks the async runtime, and WAL lets
//! it write beside the broker and the store. Spans older than the
//! retention ([`RETENTION`] unless configured) are pruned as new ones
//! arrive: each export deletes at most a few more spans than it wrote, the
//! oldest first through the `spans_end` index, so the file's write lock
//! is held for a moment and a backlog (after days stopped) is worked off
//! over the next exports rather than in one long delete. Free pages beyond
//! [`FREE_PAGE_RESERVE`] are given back to the file system a few at a time
//! (new files are made with `auto_vacuum=INCREMENTAL`; see
//! `switchboard_sqlite::vacuum`).

use crate::TelemetryError;
use crate::service::SERVICE_ATTRIBUTE;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_sqlite::rusqlite::{self, Connection, OptionalExtension, params};

/// The span attribute naming the inquiry a span works on (an id, never content).
pub const INQUIRY_ATTRIBUTE: &str = "switchboard.inquiry_id";

/// How long recorded spans are kept by default.
pub const RETENTION: Duration = Duration::from_secs(3 * 24 * 3600);

/// Spans one export may prune beyond twice the spans it wrote.
const PRUNE_EXTRA: usize = 64;

/// Free pages kept in the file for new spans to reuse; beyond them, each
/// export cuts at most [`VACUUM_STEP`] off the end of the file.
pub const FREE_PAGE_RESERVE: u64 = 1024;
const VACUUM_STEP: u32 = 64;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    service TEXT,
    inquiry_id TEXT,
    start_unix_nano INTEGER NOT NULL,
    end_unix_nano INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_type TEXT,
    attributes TEXT NOT NULL,
    links TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_inquiry ON spans (inquiry_id);
CREATE INDEX IF NOT EXISTS spans_end ON spans (end_unix_nano);
";

fn store_error(path: &Path, e: rusqlite::Error) -> TelemetryError {
    TelemetryError::LocalStore { path: path.display().to_string(), message: e.to_string() }
}

fn open(path: &Path) -> Result<Connection, TelemetryError> {
    let conn = Connection::open(path).map_err(|e| store_error(path, e))?;
    // Other connections (the broker, other processes) write the same file.
    conn.busy_timeout(Duration::from_secs(5)).map_err(|e| store_error(path, e))?;
    // Only on a new file, before its first table; see the module's doc.
    switchboard_sqlite::vacuum::prefer_incremental(&conn).map_err(|e| store_error(path, e))?;
    // Every process on a data directory opens this file at start, maybe all at once.
    switchboard_sqlite::first_open::use_wal(&conn).map_err(|e| store_error(path, e))?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| store_error(path, e))?;
    switchboard_sqlite::first_open::create_schema(&conn, SCHEMA).map_err(|e| store_error(path, e))?;
    Ok(conn)
}

/// Records finished spans in the embedded SQLite file.
#[derive(Debug)]
pub struct SqliteSpanExporter {
    conn: Mutex<Connection>,
    retention: Duration,
    pruned: AtomicU64,
}

impl SqliteSpanExporter {
    /// Opens (creating if needed) the `spans` table in the file at `path`,
    /// keeping spans for `retention` after they end.
    pub fn open(path: &Path, retention: Duration) -> Result<Self, TelemetryError> {
        Ok(Self { conn: Mutex::new(open(path)?), retention, pruned: AtomicU64::new(0) })
    }

    /// Spans pruned by this exporter so far.
    pub fn pruned(&self) -> u64 {
        self.pruned.load(Ordering::Relaxed)
    }

    fn write(&self, batch: &[SpanData]) -> Result<(), rusqlite::Error> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO spans (trace_id, span_id, parent_span_id, name, kind, service, inquiry_id,
                    start_unix_nano, end_unix_nano, status, error_type, attributes, links)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for span in batch {
                let attribute =
                    |key: &str| span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.as_str().into_owned());
                let attributes: Map<String, Value> =
                    span.attributes.iter().map(|kv| (kv.key.to_string(), Value::String(kv.value.as_str().into_owned()))).collect();
                let links: Vec<Value> = span
                    .links
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "trace_id": l.span_context.trace_id().to_string(),
                            "span_id": l.span_context.span_id().to_string(),
                        })
                    })
                    .collect();
                let parent = (span.parent_span_id != opentelemetry::trace::SpanId::INVALID).then(|| span.parent_span_id.to_string());
                let (status, description) = match &span.status {
                    Status::Unset => ("unset", None),
                    Status::Ok => ("ok", None),
                    Status::Error { description } => ("error", Some(description.to_string())),
                };
                let error_type = attribute("error.type").or(description.filter(|d| !d.is_empty()));
                insert.execute(params![
                    span.span_context.trace_id().to_string(),
                    span.span_context.span_id().to_string(),
                    parent,
                    span.name.as_ref(),
                    kind_name(&span.span_kind),
                    attribute(SERVICE_ATTRIBUTE),
                    attribute(INQUIRY_ATTRIBUTE),
                    unix_nanos(span.start_time),
                    unix_nanos(span.end_time),
                    status,
                    error_type,
                    Value::Object(attributes).to_string(),
                    Value::Array(links).to_string(),
                ])?;
            }
        }
        tx.commit()?;
        let cutoff = unix_nanos(SystemTime::now().checked_sub(self.retention).unwrap_or(UNIX_EPOCH));
        self.prune(&conn, cutoff, batch.len() * 2 + PRUNE_EXTRA)
    }

    /// Deletes at most `limit` spans that ended before `cutoff`, oldest
    /// first, then gives free pages beyond the reserve back.
    fn prune(&self, conn: &Connection, cutoff: i64, limit: usize) -> Result<(), rusqlite::Error> {
        let pruned = conn
            .prepare_cached(
                "DELETE FROM spans WHERE rowid IN (SELECT rowid FROM spans WHERE end_unix_nano < ?1 ORDER BY end_unix_nano LIMIT ?2)",
            )?
            .execute(params![cutoff, limit as i64])?;
        self.pruned.fetch_add(pruned as u64, Ordering::Relaxed);
        let free = switchboard_sqlite::vacuum::page_counts(conn)?.free;
        if free > FREE_PAGE_RESERVE {
            let step = (free - FREE_PAGE_RESERVE).min(u64::from(VACUUM_STEP));
            // A no-op on a file made before incremental vacuum.
            switchboard_sqlite::vacuum::incremental_vacuum(conn, step as u32)?;
        }
        Ok(())
    }
}

impl SpanExporter for SqliteSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.write(&batch).map_err(|e| OTelSdkError::InternalFailure(format!("recording spans: {e}")))
    }
}

fn unix_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)).unwrap_or(0)
}

fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

/// One recorded span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub service: Option<String>,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
    pub status: String,
    pub error_type: Option<String>,
}

impl RecordedSpan {
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(u64::try_from(self.end_unix_nano - self.start_unix_nano).unwrap_or(0))
    }
}

/// Every recorded span of the traces that worked on `inquiry_id`, ordered
/// by start. Empty when the file has no such spans (or no `spans` table).
pub fn inquiry_spans(path: &Path, inquiry_id: &str) -> Result<Vec<RecordedSpan>, TelemetryError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| store_error(path, e))?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(|e| store_error(path, e))?;
    let exists: Option<String> = conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'spans'", [], |r| r.get(0))
        .optional()
        .map_err(|e| store_error(path, e))?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut select = conn
        .prepare(
            "SELECT trace_id, span_id, parent_span_id, name, kind, service, start_unix_nano, end_unix_nano, status, error_type
             FROM spans WHERE trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE inquiry_id = ?1)
             ORDER BY start_unix_nano, span_id",
        )
        .map_err(|e| store_error(path, e))?;
    let rows = select
        .query_map([inquiry_id], |r| {
            Ok(RecordedSpan {
                trace_id: r.get(0)?,
                span_id: r.get(1)?,
                parent_span_id: r.get(2)?,
                name: r.get(3)?,
                kind: r.get(4)?,
                service: r.get(5)?,
                start_unix_nano: r.get(6)?,
                end_unix_nano: r.get(7)?,
                status: r.get(8)?,
                error_type: r.get(9)?,
            })
        })
        .map_err(|e| store_error(path, e))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|e| store_error(path, e))
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The spans as one tree per trace: name, component, kind, duration and
/// start offset from the beginning of the trace.
pub fn render_tree(spans: &[RecordedSpan]) -> String {
    let mut traces: BTreeMap<&str, Vec<&RecordedSpan>> = BTreeMap::new();
    for span in spans {
        traces.entry(span.trace_id.as_str()).or_default().push(span);
    }
    let mut out = String::new();
    for (trace_id, spans) in traces {
        let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(start);
        let services: HashSet<&str> = spans.iter().filter_map(|s| s.service.as_deref()).collect();
        let _ = writeln!(
            out,
            "trace {trace_id}: {} spans, {} services, {}",
            spans.len(),
            services.len(),
            millis(Duration::from_nanos(u64::try_from(end - start).unwrap_or(0)))
        );
        let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut children: BTreeMap<&str, Vec<&RecordedSpan>> = BTreeMap::new();
        let mut roots = Vec::new();
        for span in &spans {
            match span.parent_span_id.as_deref().filter(|p| ids.contains(p)) {
                Some(parent) => children.entry(parent).or_default().push(span),
                None => roots.push(*span),
            }
        }
        let count = roots.len();
        for (i, root) in roots.into_iter().enumerate() {
            render_span(&mut out, root, &children, start, "", i + 1 == count);
        }
    }
    out
}

fn render_span(
    out: &mut String,
    span: &RecordedSpan,
    children: &BTreeMap<&str, Vec<&RecordedSpan>>,
    trace_start: i64,
    prefix: &str,
    last: bool,
) {
    let branch = if last { "└─ " } else { "├─ " };
    let offset = Duration::from_nanos(u64::try_from(span.start_unix_nano - trace_start).unwrap_or(0));
    let service = span.service.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
    let error = match (&span.status[..], &span.error_type) {
        ("error", Some(t)) => format!("  ERROR {t}"),
        ("error", None) => "  ERROR".to_owned(),
        _ => String::new(),
    };
    let _ =
        writeln!(out, "{prefix}{branch}{}{service} {}  {}  (at +{}){error}", span.name, span.kind, millis(span.duration()), millis(offset));
    let below = children.get(span.span_id.as_str()).map(Vec::as_slice).unwrap_or_default();
    let prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    for (i, child) in below.iter().enumerate() {
        render_span(out, child, children, trace_start, &prefix, i + 1 == below.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, name: &str, service: &str, start_ms: i64, end_ms: i64) -> RecordedSpan {
        RecordedSpan {
            trace_id: "6761a2b3aabbccddeeff001122334455".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_owned),
            name: name.into(),
            kind: "internal".into(),
            service: Some(service.into()),
            start_unix_nano: start_ms * 1_000_000,
            end_unix_nano: end_ms * 1_000_000,
            status: "unset".into(),
            error_type: None,
        }
    }

    #[test]
    fn spans_render_as_a_tree_with_durations_and_offsets() {
        let spans = vec![
            span("a", None, "POST /api/inquiries", "gateway", 0, 12),
            span("b", Some("a"), "publish", "intake", 2, 4),
            span("c", Some("b"), "process classifier", "classifier", 5, 9),
            span("d", Some("b"), "process image-analyzer", "image-analyzer", 6, 8),
        ];
        let tree = render_tree(&spans);
        let expected = "\
trace 6761a2b3aabbccddeeff001122334455: 4 spans, 4 services, 12.0 ms
└─ POST /api/inquiries [gateway] internal  12.0 ms  (at +0.0 ms)
   └─ publish [intake] internal  2.0 ms  (at +2.0 ms)
      ├─ process classifier [classifier] internal  4.0 ms  (at +5.0 ms)
      └─ process image-analyzer [image-analyzer] internal  2.0 ms  (at +6.0 ms)
";
        assert_eq!(tree, expected);
    }

    fn insert_span(conn: &Connection, id: &str, end_unix_nano: i64) {
        conn.execute(
            "INSERT INTO spans (trace_id, span_id, name, kind, start_unix_nano, end_unix_nano, status, attributes, links)
             VALUES ('t', ?1, 'n', 'internal', ?2, ?2, 'unset', '{}', '[]')",
            params![id, end_unix_nano],
        )
        .unwrap();
    }

    fn span_ids(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT span_id FROM spans ORDER BY span_id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn pruning_deletes_at_most_its_limit_of_the_spans_past_the_retention_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spans.db");
        let exporter = SqliteSpanExporter::open(&path, RETENTION).unwrap();
        let conn = Connection::open(&path).unwrap();
        for (id, end) in [("old-1", 10), ("old-2", 20), ("old-3", 30), ("new", 1000)] {
            insert_span(&conn, id, end);
        }
        let guard = exporter.conn.lock().unwrap();
        exporter.prune(&guard, 100, 2).unwrap();
        assert_eq!(span_ids(&conn), ["new", "old-3"], "the two oldest went");
        exporter.prune(&guard, 100, 2).unwrap();
        exporter.prune(&guard, 100, 2).unwrap();
        assert_eq!(span_ids(&conn), ["new"], "a span within the retention stays");
        assert_eq!(exporter.pruned(), 3);
    }

    #[test]
    fn a_file_without_spans_has_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(inquiry_spans(&path, "nope").unwrap().is_empty());
        SqliteSpanExporter::open(&path, RETENTION).unwrap();
        assert!(inquiry_spans(&path, "nope").unwrap().is_empty());
    }
}
