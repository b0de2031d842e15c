//! Crash safety: SIGKILL mid-flight loses nothing and notifies nobody twice.

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use switchboard_tests::process::{Process, free_port};
use switchboard_tests::{API_KEY, PATIENCE, inquiry_body};

/// Content that exercises every path: FAQ answers, escalations, partner requests.
fn content(n: usize) -> (String, String) {
    match n % 4 {
        0 => ("What time is check-in?".into(), "+12135550149".into()),
        1 => ("조식은 몇 시에 제공되나요?".into(), format!("+8210{:08}", 20000000 + n)),
        2 => ("The staff were rude and I am furious, call me now!".into(), "+12135550149".into()),
        _ => ("예약번호 HT-20481123 날짜를 변경하고 싶어요".into(), "+821012345678".into()),
    }
}

pub async fn submit_many(base_url: &str, count: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..count {
        let (text, phone) = content(n);
        let (client, url) = (client.clone(), format!("{base_url}/api/inquiries"));
        pending.spawn(async move {
            let r = client.post(url).header("x-api-key", API_KEY).json(&inquiry_body(&text, &phone)).send().await.ok()?;
            if r.status() != 202 {
                return None;
            }
            let v: Value = r.json().await.ok()?;
            v["inquiry_id"].as_str().map(str::to_owned)
        });
        if pending.len() >= 16 {
            if let Some(Ok(Some(id))) = pending.join_next().await {
                accepted.push(id);
            }
        }
    }
    while let Some(joined) = pending.join_next().await {
        if let Ok(Some(id)) = joined {
            accepted.push(id);
        }
    }
    accepted
}

/// Every accepted inquiry reaches a status the pipeline leaves (partner
/// requests are answered by the deadline), and the outbox holds no message twice.
pub async fn assert_all_finished_without_duplicates(base_url: &str, data_dir: &std::path::Path, accepted: &[String]) {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for id in accepted {
        loop {
            let v: Value = client
                .get(format!("{base_url}/api/inquiries/{id}"))
                .header("x-api-key", API_KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = v["status"].as_str().unwrap_or_default().to_owned();
            if matches!(status.as_str(), "answered" | "escalated" | "failed") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} stuck in {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let outbox =
        std::process::Command::new(switchboard_tests::process::binary()).args(["outbox", "--data-dir"]).arg(data_dir).output().unwrap();
    assert!(outbox.status.success());
    let mut per_event: HashMap<(String, String, String), usize> = HashMap::new();
    for line in String::from_utf8(outbox.stdout).unwrap().lines() {
        let m: Value = serde_json::from_str(line).unwrap();
        let key = (m["inquiry_id"].to_string(), m["to"].to_string(), m["body"].to_string());
        *per_event.entry(key).or_default() += 1;
    }
    let customers_told = accepted.iter().filter(|id| per_event.keys().any(|(i, _, _)| i.trim_matches('"') == id.as_str())).count();
    assert_eq!(customers_told, accepted.len(), "every accepted inquiry produced a notification");
    let repeated: Vec<_> = per_event.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "messages sent twice: {repeated:?}");
}

#[tokio::test]
async fn a_killed_process_loses_no_accepted_inquiry_and_sends_nothing_twice() {
    killed_mid_flight_then_restarted("normal").await;
}

/// The same at `synchronous=FULL`, where writes are group-committed behind
/// fsyncs: no caller may hear "done" before its batch is durable.
#[tokio::test]
async fn a_killed_process_loses_nothing_with_full_durability_either() {
    killed_mid_flight_then_restarted("full").await;
}

async fn killed_mid_flight_then_restarted(durability: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [("SWITCHBOARD_PARTNER_DEADLINE_SECS", "2"), ("SWITCHBOARD_DURABILITY", durability)];
    let mut first = Process::start(dir.path(), port, &env).await;
    let accepted = submit_many(&first.base_url, 200).await;
    assert_eq!(accepted.len(), 200, "every submission accepted before the kill");
    first.kill();

    let second = Process::start(dir.path(), port, &env).await;
    assert_all_finished_without_duplicates(&second.base_url, dir.path(), &accepted).await;
}
