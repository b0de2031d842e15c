//! Graceful shutdown: SIGTERM under load finishes in-flight work and loses nothing.

use crate::crash::{assert_all_finished_without_duplicates, submit_many};
use std::time::Duration;
use switchboard_tests::process::{Process, free_port};

#[tokio::test]
async fn sigterm_under_load_drains_within_the_grace_period_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [("SWITCHBOARD_PARTNER_DEADLINE_SECS", "2"), ("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "5")];
    let mut first = Process::start(dir.path(), port, &env).await;
    let base_url = first.base_url.clone();
    let load = tokio::spawn(async move { submit_many(&base_url, 150).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.terminate();
    let accepted = load.await.unwrap();
    // The process stops by itself; grace (5 s) plus start-up slack bounds the wait.
    let status = first.wait_exit(Duration::from_secs(15)).await.expect("exited within the grace period");
    assert!(status.success(), "clean exit, got {status}");
    assert!(!accepted.is_empty());

    let second = Process::start(dir.path(), port, &env).await;
    assert_all_finished_without_duplicates(&second.base_url, dir.path(), &accepted).await;
}
