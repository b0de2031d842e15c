//! Several `switchboard serve` processes started at once on a new data
//! directory: each creates what it finds missing (the database and its
//! schema, the queues, the token-key file, the span store) while the others
//! do the same, and every one of them must come up and stay up.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::aws_pipeline::SERVICES;
use crate::crash::{Load, case};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use switchboard_tests::process::{Process, free_port};
use switchboard_tests::{API_KEY, PATIENCE};

/// New data directories raced on: one race on one directory is lost only now and then.
const ROUNDS: usize = 5;

/// What `serve` prints once it runs (after creating everything it needs).
const RUNNING: &str = "switchboard: running";

/// The six services and a gateway, spawned back to back on `dir` (none
/// waiting for another, so they race on every first-start file), once each
/// has started or exited.
async fn start_all_at_once(dir: &Path, port: u16) -> Vec<(String, Process)> {
    let env = [
        ("SWITCHBOARD_DEMO_API_KEY", API_KEY),
        ("SWITCHBOARD_RETRY_BASE_MS", "20"),
        ("SWITCHBOARD_MAX_RECEIVES", "5"),
        ("SWITCHBOARD_PARTNER_DEADLINE_SECS", "2"),
    ];
    let http_addr = format!("127.0.0.1:{port}");
    let mut commands: Vec<(String, Vec<&str>)> = SERVICES.iter().map(|s| (s.to_string(), vec!["serve", s])).collect();
    commands.push(("gateway".into(), vec!["serve", "gateway", "--demo", "--http-addr", &http_addr]));
    // Spawned from a thread each, released together: spawning one after
    // another would stagger them by the time each takes to exec.
    let start = std::sync::Barrier::new(commands.len());
    let mut processes: Vec<(String, Process)> = std::thread::scope(|s| {
        let spawned: Vec<_> = commands
            .iter()
            .map(|(name, args)| {
                let (start, env) = (&start, &env);
                s.spawn(move || {
                    start.wait();
                    (name.clone(), Process::spawn(args, dir, env, name))
                })
            })
            .collect();
        spawned.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for (name, process) in &mut processes {
        while process.is_running() && !log(dir, name).contains(RUNNING) {
            assert!(tokio::time::Instant::now() < deadline, "`serve {name}` neither started nor exited:\n{}", log(dir, name));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    processes
}

fn log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

fn assert_all_running(dir: &Path, processes: &mut [(String, Process)]) {
    for (name, process) in processes {
        assert!(process.is_running(), "`serve {name}` exited:\n{}", log(dir, name));
    }
}

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
    for _ in 1..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let mut processes = start_all_at_once(dir.path(), free_port()).await;
        assert_all_running(dir.path(), &mut processes);
    }

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut processes = start_all_at_once(dir.path(), port).await;
    assert_all_running(dir.path(), &mut processes);
    processes.last().unwrap().1.wait_until_ready(port).await;
    let base_url = format!("http://127.0.0.1:{port}");
    let accepted = Load::start(&base_url, SUBMISSIONS).finish().await;
    assert_eq!(accepted.len(), SUBMISSIONS, "every submission accepted");
    for (n, id) in &accepted {
        let status = wait_notified(&base_url, id).await;
        assert_eq!(status, case(*n).2.as_str(), "inquiry {n} ({id})");
    }
    assert_all_running(dir.path(), &mut processes);
}
