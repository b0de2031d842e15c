//! Graceful shutdown: SIGTERM under load finishes in-flight work within the
//! grace period and releases the rest, so nothing is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::crash::{Load, assert_all_finished_without_duplicates, not_terminal_in};
use std::path::Path;
use std::time::Duration;
use switchboard_sqlite::rusqlite;
use switchboard_sqlite::{Database, Durability};
use switchboard_tests::process::{Process, free_port};

/// Leases outlast this test by far, so a message still held by a lease
/// when the process exits is told apart from one it released (visible at
/// once) or put back with a retry's short backoff.
const VISIBILITY_SECS: u64 = 300;

/// A message on a queue of the embedded broker, as the process left it.
#[derive(Debug)]
struct Queued {
    queue: String,
    /// The inquiry its event is about.
    subject: Option<String>,
    receive_count: i64,
    /// Seconds from now until it becomes visible (negative: visible now).
    hidden_for_secs: i64,
}

/// Every message on the embedded broker's queues in `data_dir`.
async fn queued(data_dir: &Path) -> Vec<Queued> {
    let config = switchboard::Config { data_dir: data_dir.to_owned(), ..switchboard::Config::default() };
    let db = Database::open(&config.database_path(), Durability::Normal).expect("the database opens");
    let now_ms = jiff::Timestamp::now().as_millisecond();
    db.read(move |c| {
        let mut statement = c.prepare("SELECT queue, body, receive_count, visible_at FROM queue_messages")?;
        let rows = statement.query_map([], |r| {
            let body: String = r.get(1)?;
            let visible_at: i64 = r.get(3)?;
            let subject = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v["subject"].as_str().map(str::to_owned));
            Ok(Queued { queue: r.get(0)?, subject, receive_count: r.get(2)?, hidden_for_secs: (visible_at - now_ms) / 1000 })
        })?;
        rows.collect::<Result<Vec<_>, rusqlite::Error>>().map_err(switchboard_sqlite::DbError::from)
    })
    .await
    .expect("the queues are readable")
}

#[tokio::test]
async fn sigterm_under_load_drains_within_the_grace_period_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let visibility = VISIBILITY_SECS.to_string();
    let env = [
        ("SWITCHBOARD_PARTNER_DEADLINE_SECS", "2"),
        ("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "5"),
        ("SWITCHBOARD_VISIBILITY_SECS", visibility.as_str()),
    ];
    let mut first = Process::start(dir.path(), port, &env).await;
    let load = Load::start(&first.base_url, 150);
    load.wait_accepted(30).await;
    first.terminate();
    let accepted = load.finish().await;
    assert!(accepted.len() >= 30, "{} accepted", accepted.len());

    // A bound on "did it exit at all", not a speed claim: whether it kept
    // to its grace period is read from what it did, below.
    let status = first.wait_exit(Duration::from_secs(120)).await.expect("the process exited after SIGTERM");
    assert!(status.success(), "clean exit, got {status}");
    let log = std::fs::read_to_string(dir.path().join("up.log")).unwrap();
    assert!(!log.contains("grace period over"), "a worker ran out of its grace period and aborted handlers:\n{log}");

    // What the process left behind, before anything else touches it: each
    // accepted inquiry is finished, or its next step waits on a queue,
    // released rather than held by the dead process's lease.
    let messages = queued(dir.path()).await;
    let held: Vec<&Queued> = messages.iter().filter(|m| m.receive_count > 0 && m.hidden_for_secs > VISIBILITY_SECS as i64 / 2).collect();
    assert!(held.is_empty(), "messages still leased by the stopped process (not released): {held:?}");
    let unfinished = not_terminal_in(dir.path(), &accepted).await;
    assert!(!unfinished.is_empty(), "nothing was in flight at SIGTERM: every accepted inquiry had finished");
    for (n, id) in &unfinished {
        assert!(
            messages.iter().any(|m| m.subject.as_deref() == Some(id.as_str()) && !m.queue.ends_with("-dlq")),
            "inquiry {n} ({id}) is unfinished and no queue holds its next step: lost"
        );
    }

    // The released work is picked up: every inquiry ends as it should.
    let second = Process::start(dir.path(), port, &env).await;
    assert_all_finished_without_duplicates(&second.base_url, dir.path(), &accepted).await;
}
