//! Crash safety: SIGKILL mid-flight loses nothing and notifies nobody twice.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use switchboard_domain::event::deterministic_id;
use switchboard_domain::{InquiryId, InquiryStatus};
use switchboard_tests::process::{Process, free_port};
use switchboard_tests::{API_KEY, PATIENCE, inquiry_body};
use tokio::task::JoinHandle;

/// The customer of the demo reservation whose change a partner must confirm.
const RESERVATION_CUSTOMER: &str = "+821012345678";

/// Inquiry `n` of the load: what it says, its customer's phone, and the
/// status it must end in. Every path is exercised: FAQ answers in both
/// languages, an escalation, and a partner request the partner never
/// answers (it times out into an escalation).
pub(crate) fn case(n: usize) -> (String, String, InquiryStatus) {
    match n % 4 {
        0 => ("What time is check-in?".into(), "+12135550149".into(), InquiryStatus::Answered),
        1 => ("조식은 몇 시에 제공되나요?".into(), format!("+8210{:08}", 20000000 + n), InquiryStatus::Answered),
        2 => ("The staff were rude and I am furious, call me now!".into(), "+12135550149".into(), InquiryStatus::Escalated),
        _ => ("예약번호 HT-20481123 날짜를 변경하고 싶어요".into(), RESERVATION_CUSTOMER.into(), InquiryStatus::Escalated),
    }
}

/// One accepted submission: the load's inquiry number and the id the API answered with.
pub(crate) type Accepted = (usize, String);

/// Submissions running in the background, sixteen at a time.
pub(crate) struct Load {
    accepted: Arc<AtomicUsize>,
    running: JoinHandle<Vec<Accepted>>,
}

impl Load {
    /// Starts submitting inquiries `0..count` to `base_url`. A submission
    /// the server refuses or never answers (it was killed) is left out.
    pub(crate) fn start(base_url: &str, count: usize) -> Self {
        let accepted = Arc::new(AtomicUsize::new(0));
        let (counter, url) = (accepted.clone(), format!("{base_url}/api/inquiries"));
        let running = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut done = Vec::new();
            let mut pending = tokio::task::JoinSet::new();
            for n in 0..count {
                let (text, phone, _) = case(n);
                let (client, url, counter) = (client.clone(), url.clone(), counter.clone());
                pending.spawn(async move {
                    let r = client.post(url).header("x-api-key", API_KEY).json(&inquiry_body(&text, &phone)).send().await.ok()?;
                    if r.status() != 202 {
                        return None;
                    }
                    let v: Value = r.json().await.ok()?;
                    let id = v["inquiry_id"].as_str()?.to_owned();
                    counter.fetch_add(1, Ordering::SeqCst);
                    Some((n, id))
                });
                if pending.len() >= 16
                    && let Some(Ok(Some(accepted))) = pending.join_next().await
                {
                    done.push(accepted);
                }
            }
            while let Some(joined) = pending.join_next().await {
                if let Ok(Some(accepted)) = joined {
                    done.push(accepted);
                }
            }
            done
        });
        Self { accepted, running }
    }

    /// Waits until at least `n` submissions were accepted; panics after [`PATIENCE`].
    pub(crate) async fn wait_accepted(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.accepted.load(Ordering::SeqCst) < n {
            assert!(tokio::time::Instant::now() < deadline, "only {} submissions accepted", self.accepted.load(Ordering::SeqCst));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for every submission to be answered (or refused) and returns the accepted ones.
    pub(crate) async fn finish(self) -> Vec<Accepted> {
        self.running.await.expect("the load ran")
    }
}

/// The accepted inquiries that were not yet terminal in the data directory
/// of a process that is no longer running.
pub(crate) async fn not_terminal_in(data_dir: &Path, accepted: &[Accepted]) -> Vec<Accepted> {
    let config = switchboard::Config { data_dir: data_dir.to_owned(), ..switchboard::Config::default() };
    let ports = switchboard::Ports::embedded(&config).await.expect("the data directory opens");
    let mut pending = Vec::new();
    for (n, id) in accepted {
        let inquiry = ports.store.get_inquiry(InquiryId::parse(id).expect("an inquiry id")).await.expect("store readable");
        let inquiry = inquiry.unwrap_or_else(|| panic!("accepted inquiry {id} is not stored"));
        if !inquiry.status.is_terminal() {
            pending.push((*n, id.clone()));
        }
    }
    pending
}

/// Every accepted inquiry reaches the status its content calls for (never
/// `failed`), its customer gets exactly one message, the notification of
/// that status, at the customer's own phone, and the outbox holds no
/// message twice.
pub(crate) async fn assert_all_finished_without_duplicates(base_url: &str, data_dir: &Path, accepted: &[Accepted]) {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for (n, id) in accepted {
        let status = loop {
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
            if matches!(status.as_str(), "answered" | "escalated" | "resolved" | "failed") {
                break status;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} stuck in {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let (text, _, expected) = case(*n);
        assert_eq!(status, expected.as_str(), "inquiry {n} ({id}, {text:?}) ended {status}");
    }

    let rows = switchboard_tests::process::sent_messages(data_dir);
    let mut per_message: HashMap<(String, String, String), usize> = HashMap::new();
    for m in &rows {
        let key = (m["inquiry_id"].to_string(), m["to"].to_string(), m["body"].to_string());
        *per_message.entry(key).or_default() += 1;
    }
    let repeated: Vec<_> = per_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "messages sent twice: {repeated:?}");

    for (n, id) in accepted {
        let (_, phone, status) = case(*n);
        let to_customer: Vec<&Value> = rows.iter().filter(|m| m["inquiry_id"] == id.as_str() && m["to"] == phone.as_str()).collect();
        assert_eq!(to_customer.len(), 1, "inquiry {n} ({id}): the customer at {phone} got {} messages: {to_customer:?}", to_customer.len());
        // The notifier's id for the customer's notification of this status.
        let notification = deterministic_id(&format!("{id}/inquiry.{}/customer", status.as_str()));
        assert_eq!(
            to_customer[0]["id"],
            notification.as_str(),
            "inquiry {n} ({id}): not the {status:?} notification: {:?}",
            to_customer[0]
        );
        assert_eq!(to_customer[0]["channel"], "sms");
    }
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
    const SUBMISSIONS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [("SWITCHBOARD_PARTNER_DEADLINE_SECS", "2"), ("SWITCHBOARD_DURABILITY", durability)];
    let mut first = Process::start(dir.path(), port, &env).await;
    let load = Load::start(&first.base_url, SUBMISSIONS);
    load.wait_accepted(SUBMISSIONS / 4).await;
    first.kill();
    let accepted = load.finish().await;

    // The kill came while clients were still submitting and the pipeline
    // still had accepted inquiries to carry on.
    assert!(accepted.len() >= SUBMISSIONS / 4 && accepted.len() < SUBMISSIONS, "{} of {SUBMISSIONS} accepted", accepted.len());
    let in_flight = not_terminal_in(dir.path(), &accepted).await;
    assert!(!in_flight.is_empty(), "every accepted inquiry was already finished at the kill: nothing was in flight");

    let second = Process::start(dir.path(), port, &env).await;
    assert_all_finished_without_duplicates(&second.base_url, dir.path(), &accepted).await;
}
