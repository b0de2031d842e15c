//! Several `switchboard serve` processes started at once on a new data
//! directory: each creates what it finds missing (the database and its
//! schema, the queues, the token-key file, the span store) while the others
//! do the same, and every one of them must come up and stay up.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::aws_pipeline::SERVICES;
use crate::crash::{Load, case};
use serde_json::Value;
use std::time::Duration;
use switchboard_tests::process::{Process, free_port};
use switchboard_tests::{API_KEY, PATIENCE};

/// Waits until the inquiry has a terminal status and its customer was
/// told (the notifier, in a process of its own, may come a moment later).
async fn wait_notified(base_url: &str, id: &str) -> String {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let v: Value =
            client.get(format!("{base_url}/api/inquiries/{id}")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
        let told = v["timeline"]
            .as_array()
            .is_some_and(|t| t.iter().any(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("notification.customer."))));
        if told {
            return v["status"].as_str().unwrap_or_default().to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "inquiry {id} never finished: {}", v["status"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn seven_processes_started_at_once_on_a_new_data_directory_all_serve() {
    const SUBMISSIONS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SWITCHBOARD_DEMO_API_KEY", API_KEY),
        ("SWITCHBOARD_RETRY_BASE_MS", "20"),
        ("SWITCHBOARD_MAX_RECEIVES", "5"),
        ("SWITCHBOARD_PARTNER_DEADLINE_SECS", "2"),
    ];
    let port = free_port();
    let http_addr = format!("127.0.0.1:{port}");
    // Spawned back to back, none waiting for another: they race on every first-start file.
    let mut processes: Vec<(String, Process)> =
        SERVICES.iter().map(|s| (s.to_string(), Process::spawn(&["serve", s], dir.path(), &env, s))).collect();
    processes
        .push(("gateway".into(), Process::spawn(&["serve", "gateway", "--demo", "--http-addr", &http_addr], dir.path(), &env, "gateway")));
    let base_url = format!("http://{http_addr}");
    processes.last().unwrap().1.wait_until_ready(port).await;

    let accepted = Load::start(&base_url, SUBMISSIONS).finish().await;
    assert_eq!(accepted.len(), SUBMISSIONS, "every submission accepted");
    for (n, id) in &accepted {
        let status = wait_notified(&base_url, id).await;
        assert_eq!(status, case(*n).2.as_str(), "inquiry {n} ({id})");
    }

    for (name, process) in &mut processes {
        let log = std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default();
        assert!(process.is_running(), "`serve {name}` exited:\n{log}");
    }
}
