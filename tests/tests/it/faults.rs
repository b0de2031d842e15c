//! The fault test: load runs while service processes are SIGKILLed and
//! restarted (in embedded mode one of them crashes by itself between
//! storing a submission and announcing it, the outbox's gap), a process is
//! frozen (SIGSTOP) so its queues stall, AI engine
//! calls fail and slow down on purpose, and poison messages land on the
//! intake queue. At the end every accepted inquiry must be terminal and
//! stored once, the dead-letter queues must hold exactly the poison, and
//! nobody may have been told anything twice: exactly none in embedded
//! mode; in AWS mode a duplicate is allowed only as a resend of that same
//! message that the sent-message ledger counted as *in doubt* (a kill
//! between the provider accepting a send and the ledger marking it), and
//! those are counted and printed.
//!
//! Small here (the test command runs it); full size, as documented in the
//! tests/README.md ("Reliability"):
//!
//! ```sh
//! SWITCHBOARD_FAULT_INQUIRIES=2000 SWITCHBOARD_FAULT_KILLS=20 SWITCHBOARD_FAULT_RATE=40 \
//!     cargo test -p switchboard-tests --test it faults::embedded -- --nocapture
//! ```
//!
//! The AWS-mode test is kept small: the emulator copies the whole table on
//! every transaction, so it slows as the table grows.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::aws_pipeline::{Cluster, PARTNER_PHONE, SERVICES, emulator_sent};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use switchboard::Config;
use switchboard_domain::Service;
use switchboard_domain::event::deterministic_id;
use switchboard_messaging::{Attributes, OutgoingMessage, ReceiveOptions};
use switchboard_pipeline::crash_point;
use switchboard_tests::emulator::{DEMO_RESERVATION_TEXTS, emulator};
use switchboard_tests::process::{Process, free_port, sent_messages};
use switchboard_tests::{API_KEY, PATIENCE, token_in};

/// The customer of the demo reservation the partner flows change.
const RESERVATION_CUSTOMER: &str = "+821012345678";

/// How much load and how many faults.
#[derive(Debug, Clone, Copy)]
struct Size {
    inquiries: usize,
    /// Submissions a second.
    rate: f64,
    /// Process kills during the load (each followed by a restart).
    kills: usize,
    /// Messages put on the intake queue that must be dead-lettered.
    poison: usize,
    /// How long the frozen process stays frozen.
    stall: Duration,
}

impl Size {
    /// `inquiries` at `rate` a second unless `SWITCHBOARD_FAULT_INQUIRIES`,
    /// `_RATE`, `_KILLS` or `_STALL_SECS` say otherwise.
    fn from_env(inquiries: usize, rate: f64) -> Self {
        let read = |name: &str, default: f64| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(default);
        Self {
            inquiries: read("SWITCHBOARD_FAULT_INQUIRIES", inquiries as f64) as usize,
            rate: read("SWITCHBOARD_FAULT_RATE", rate).max(1.0),
            kills: (read("SWITCHBOARD_FAULT_KILLS", 4.0) as usize).max(1),
            poison: 3,
            stall: Duration::from_secs_f64(read("SWITCHBOARD_FAULT_STALL_SECS", 5.0)),
        }
    }

    /// How long submitting takes.
    fn sending(&self) -> Duration {
        Duration::from_secs_f64(self.inquiries as f64 / self.rate)
    }
}

/// The AI faults every process runs with: a fifth of engine calls fail and
/// a fifth are held back 1.5 s. The services fall back (local verdict,
/// escalation), so no inquiry may fail for them.
fn ai_faults() -> Vec<(&'static str, String)> {
    vec![("SWITCHBOARD_AI_FAULT_RATE", "0.2".into()), ("SWITCHBOARD_AI_SLOW_RATE", "0.2".into()), ("SWITCHBOARD_AI_SLOW_MS", "1500".into())]
}

/// Inquiry `n` of the load: FAQ questions in both languages, an angry
/// complaint and a question no FAQ answers (escalations), and a reservation
/// change a partner must confirm. Every customer but the reservation's has
/// a phone of their own, so texts can be counted per customer.
fn inquiry(n: usize) -> (Value, String) {
    let own_phone = format!("+8210{:08}", 40_000_000 + n);
    let (content, phone) = match n % 5 {
        0 => ("What time is check-in?", own_phone),
        1 => ("조식은 몇 시에 제공되나요?", own_phone),
        2 => ("The staff were rude and I am furious, call me now!", own_phone),
        3 => ("예약번호 HT-20481123 날짜를 변경하고 싶어요", RESERVATION_CUSTOMER.to_owned()),
        _ => ("Can I land my drone on the rooftop?", own_phone),
    };
    (json!({ "content": format!("{content} (#{n})"), "customer_phone": phone }), phone)
}

fn is_partner_flow(n: usize) -> bool {
    n % 5 == 3
}

/// Submits the load open-loop at `size.rate`, each inquiry with its own
/// `Idempotency-Key`, retrying through kills and stalls as a client would
/// (backing off from 200 ms to 5 s). Returns each inquiry's id by its number.
async fn submit_all(base_url: String, size: Size, run: String) -> BTreeMap<usize, String> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let start = tokio::time::Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..size.inquiries {
        tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / size.rate)).await;
        let (http, url, key) = (http.clone(), format!("{base_url}/api/inquiries"), format!("{run}-{n}"));
        pending.spawn(async move {
            let (body, _) = inquiry(n);
            let deadline = tokio::time::Instant::now() + PATIENCE;
            let mut backoff = Duration::from_millis(200);
            loop {
                let sent = http.post(&url).header("x-api-key", API_KEY).header("idempotency-key", &key).json(&body).send().await;
                let last = match sent {
                    Ok(r) => {
                        let status = r.status();
                        if status == 202 || status == 200 {
                            let v: Value = r.json().await.unwrap();
                            return (n, v["inquiry_id"].as_str().unwrap().to_owned());
                        }
                        let text = r.text().await.unwrap_or_default();
                        assert!(status.is_server_error() || status == 429, "inquiry {n} refused with {status}: {text}");
                        format!("{status}: {text}")
                    }
                    Err(e) => format!("{e:?}"),
                };
                assert!(tokio::time::Instant::now() < deadline, "inquiry {n} never accepted; last: {last}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    }
    let mut ids = BTreeMap::new();
    while let Some(joined) = pending.join_next().await {
        let (n, id) = joined.unwrap();
        ids.insert(n, id);
    }
    ids
}

/// Waits until every inquiry is terminal; returns each one's status by id.
async fn wait_all_terminal(base_url: &str, ids: &BTreeMap<usize, String>) -> HashMap<String, String> {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE * 3;
    let mut statuses = HashMap::new();
    for id in ids.values() {
        loop {
            let got = http.get(format!("{base_url}/api/inquiries/{id}/status")).header("x-api-key", API_KEY).send().await;
            let v: Value = match got {
                Ok(r) if r.status().is_success() => r.json().await.unwrap(),
                _ => Value::Null,
            };
            if v["terminal"] == true {
                statuses.insert(id.clone(), v["status"].as_str().unwrap().to_owned());
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} never finished: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    statuses
}

/// The partner flows whose deadline passed before their text could go (a
/// kill or a stall between issuing the link and texting it): their
/// timeline says `texted: false`, and the dispatcher rightly sent nothing.
async fn untexted_partner_flows(base_url: &str, ids: &BTreeMap<usize, String>) -> HashSet<String> {
    let http = reqwest::Client::new();
    let mut untexted = HashSet::new();
    for (_, id) in ids.iter().filter(|(n, _)| is_partner_flow(**n)) {
        let v: Value =
            http.get(format!("{base_url}/api/inquiries/{id}")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
        let timeline = v["timeline"].as_array().cloned().unwrap_or_default();
        if timeline.iter().any(|e| e["details"]["texted"] == false) {
            untexted.insert(id.clone());
        }
    }
    untexted
}

/// Every inquiry the demo tenant has, by listing the API's pages.
async fn stored_inquiries(base_url: &str) -> usize {
    let http = reqwest::Client::new();
    let (mut count, mut token) = (0, None::<String>);
    loop {
        let mut query = vec![("page_size", "100".to_owned())];
        query.extend(token.take().map(|t| ("page_token", t)));
        let request = http.get(format!("{base_url}/api/inquiries")).query(&query).header("x-api-key", API_KEY);
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        count += page["inquiries"].as_array().map_or(0, Vec::len);
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return count,
        }
    }
}

/// How many inquiries ended in each status.
fn tally(statuses: &HashMap<String, String>) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for status in statuses.values() {
        *out.entry(status.as_str()).or_insert(0) += 1;
    }
    out
}

fn poison_body(run: &str, i: usize) -> String {
    format!("{run} poison {i}: not an event")
}

/// What reached people, per inquiry number: texts to its customer, texts
/// to the partner, e-mails to the operators.
#[derive(Debug, Default)]
struct Told {
    customer: HashMap<usize, usize>,
    partner: HashMap<usize, usize>,
    operators: HashMap<usize, usize>,
    /// When texts to the reservation's customer cannot be told apart by
    /// inquiry (AWS: the emulator records no inquiry): how many partner
    /// flows there were, and how many texts that customer got.
    reservation_customer: Option<(usize, usize)>,
}

impl Told {
    fn duplicates(map: &HashMap<usize, usize>) -> usize {
        map.values().map(|n| n.saturating_sub(1)).sum()
    }

    fn customer_duplicates(&self) -> usize {
        Self::duplicates(&self.customer) + self.reservation_customer.map_or(0, |(flows, texts)| texts.saturating_sub(flows))
    }

    fn total_duplicates(&self) -> usize {
        self.customer_duplicates() + Self::duplicates(&self.partner) + Self::duplicates(&self.operators)
    }

    /// Whether every customer has been told something yet.
    fn every_customer_told(&self, ids: &BTreeMap<usize, String>) -> bool {
        let flows_told = self.reservation_customer.is_none_or(|(flows, texts)| texts >= flows);
        let own_told = ids
            .keys()
            .filter(|n| self.reservation_customer.is_none() || !is_partner_flow(**n))
            .all(|n| self.customer.get(n).copied().unwrap_or(0) >= 1);
        flows_told && own_told
    }

    /// Every customer heard at least once, every partner flow texted its
    /// partner (unless its deadline passed before the text could go, which
    /// the dispatcher says on the timeline: `untexted`), every escalation
    /// mailed the operators.
    fn assert_nobody_missed(&self, ids: &BTreeMap<usize, String>, statuses: &HashMap<String, String>, untexted: &HashSet<String>) {
        assert!(self.every_customer_told(ids), "a customer was never told: {self:?}");
        for (n, id) in ids {
            if is_partner_flow(*n) && !untexted.contains(id) {
                assert!(self.partner.get(n).copied().unwrap_or(0) >= 1, "the partner of inquiry {n} ({id}) was never texted");
            }
            if statuses.get(id).is_some_and(|s| s == "escalated") {
                assert!(self.operators.get(n).copied().unwrap_or(0) >= 1, "operators never heard of escalated inquiry {n}");
            }
        }
    }
}

/// The inquiry a partner link texted by the cluster on `prefix` was issued
/// for (a link id names nothing itself: its record does).
async fn token_inquiry(prefix: &str, sms: &str) -> Option<String> {
    emulator().link_inquiry(prefix, &token_in(sms)).await
}

/// Prints the counts, and leaves them in `target/fault-test-{mode}.txt`
/// for `tests/run` to show (cargo test hides a passing test's output).
fn print_report(mode: &str, size: Size, statuses: &HashMap<String, String>, told: &Told, extra: &str) {
    let line = format!(
        "fault test ({mode}): {} inquiries accepted and terminal {:?}; {} kills + 1 stall; AI calls failing 20 %, slowed 20 %; \
         {} poison messages dead-lettered, no other dead letter; duplicates: customer {}, partner {}, operators {}{extra}",
        size.inquiries,
        tally(statuses),
        size.kills,
        size.poison,
        told.customer_duplicates(),
        Told::duplicates(&told.partner),
        Told::duplicates(&told.operators),
    );
    println!("{line}");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join(format!("fault-test-{mode}.txt")), format!("{line}\n")).unwrap();
}

// ---------------------------------------------------------------------------
// Embedded: one `switchboard up` process, killed and restarted

/// The embedded outbox, read with `switchboard outbox`.
fn embedded_told(data_dir: &std::path::Path, ids: &BTreeMap<usize, String>) -> Told {
    let number: HashMap<&str, usize> = ids.iter().map(|(n, id)| (id.as_str(), *n)).collect();
    let mut told = Told::default();
    for m in sent_messages(data_dir) {
        let Some(&n) = m["inquiry_id"].as_str().and_then(|id| number.get(id)) else { continue };
        let to = m["to"].as_str().unwrap_or_default();
        let map = if to == inquiry(n).1 {
            &mut told.customer
        } else if to == PARTNER_PHONE {
            &mut told.partner
        } else {
            &mut told.operators
        };
        *map.entry(n).or_insert(0) += 1;
    }
    told
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_under_kills_stalls_and_ai_faults_loses_nothing_and_tells_nobody_twice() {
    let size = Size::from_env(100, 20.0);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut env: Vec<(&'static str, String)> = vec![("SWITCHBOARD_PARTNER_DEADLINE_SECS", "3".into())];
    env.extend(ai_faults());
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut process = Process::start(dir.path(), port, &pairs).await;
    let base_url = process.base_url.clone();
    let run = format!("embedded-{}", std::process::id());

    // The test's own handle on the data directory, as another process would
    // have: it puts the poison on the intake queue and reads the dead letters.
    let config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
    let ports = switchboard::Ports::embedded(&config).await.unwrap();

    let load = tokio::spawn(submit_all(base_url.clone(), size, run.clone()));
    let pause = size.sending() / (size.kills as u32 + 2);
    for kill in 0..size.kills {
        tokio::time::sleep(pause).await;
        if kill == size.kills / 2 {
            // A frozen process: every queue stalls, requests hang, leases run out.
            nix::sys::signal::kill(process.pid(), nix::sys::signal::Signal::SIGSTOP).unwrap();
            tokio::time::sleep(size.stall).await;
            nix::sys::signal::kill(process.pid(), nix::sys::signal::Signal::SIGCONT).unwrap();
            let intake = ports.queue(Service::Intake).unwrap();
            for i in 0..size.poison {
                intake.send(OutgoingMessage::new(poison_body(&run, i), Attributes::new())).await.unwrap();
            }
        }
        process.kill();
        if kill == 0 {
            // A crash between commit and publish: the next process stores a
            // few submissions, then dies before announcing one of them.
            let mut crashing = pairs.clone();
            crashing.push((crash_point::VARIABLE, "outbox.before-publish:3"));
            let mut doomed = Process::launch(dir.path(), port, &crashing);
            let exit = doomed.wait_exit(PATIENCE).await.expect("the process crashed between commit and publish");
            assert!(!exit.success(), "{exit:?}");
        }
        process = Process::start(dir.path(), port, &pairs).await;
    }
    let ids = load.await.unwrap();

    let statuses = wait_all_terminal(&base_url, &ids).await;
    assert_eq!(ids.values().collect::<HashSet<_>>().len(), size.inquiries, "one inquiry per submission");
    assert_eq!(stored_inquiries(&base_url).await, size.inquiries, "retried submissions stored once");
    assert_eq!(tally(&statuses).get("failed"), None, "AI faults and kills fail no inquiry");

    // Dead letters: the poison, nothing else.
    for service in Service::ALL {
        let Ok(dlq) = ports.dead_letter_queue(service) else { continue };
        let mut dead = Vec::new();
        loop {
            let options = ReceiveOptions { max_messages: 10, wait: Duration::from_millis(200), visibility: Duration::from_secs(600) };
            let got = dlq.receive(options).await.unwrap();
            if got.is_empty() {
                break;
            }
            dead.extend(got.into_iter().map(|m| m.body));
        }
        let expected: Vec<String> =
            if service == Service::Intake { (0..size.poison).map(|i| poison_body(&run, i)).collect() } else { vec![] };
        dead.sort();
        assert_eq!(dead, expected, "dead letters of {}", service.name());
    }

    let told = embedded_told(dir.path(), &ids);
    told.assert_nobody_missed(&ids, &statuses, &untexted_partner_flows(&base_url, &ids).await);
    print_report("embedded", size, &statuses, &told, "; one of the kills a crash between commit and publish");
    assert_eq!(told.total_duplicates(), 0, "embedded mode tells nobody twice: {told:?}");
    process.kill();
}

// ---------------------------------------------------------------------------
// AWS: six `switchboard serve` processes and a gateway on the emulator

/// Texts the emulator has recorded so far, per phone number.
async fn texts_per_phone() -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for (to, _) in emulator_sent().await.0 {
        *out.entry(to).or_insert(0) += 1;
    }
    out
}

/// What the emulator sent for these inquiries, counted per inquiry. Texts
/// to a customer count from `before` on: the emulator keeps what earlier
/// runs sent to the same numbers, and the reservation's customer, shared
/// by every partner flow, is texted by other tests too.
async fn aws_told(prefix: &str, ids: &BTreeMap<usize, String>, before: &HashMap<String, usize>) -> Told {
    let (sms, mail) = emulator_sent().await;
    let number: HashMap<&str, usize> = ids.iter().map(|(n, id)| (id.as_str(), *n)).collect();
    let phones: HashMap<String, usize> = ids.keys().filter(|n| !is_partner_flow(**n)).map(|n| (inquiry(*n).1, *n)).collect();
    let flows = ids.keys().filter(|n| is_partner_flow(**n)).count();
    let earlier = |phone: &str| before.get(phone).copied().unwrap_or(0);
    let reservation_texts = sms.iter().filter(|(to, _)| to == RESERVATION_CUSTOMER).count() - earlier(RESERVATION_CUSTOMER);
    let mut told = Told { reservation_customer: Some((flows, reservation_texts)), ..Told::default() };
    for (phone, n) in &phones {
        told.customer.insert(*n, sms.iter().filter(|(to, _)| to == phone).count() - earlier(phone));
    }
    for (to, text) in &sms {
        if to == PARTNER_PHONE
            && text.contains("/r/")
            && let Some(&n) = token_inquiry(prefix, text).await.as_deref().and_then(|id| number.get(id))
        {
            *told.partner.entry(n).or_insert(0) += 1;
        }
    }
    // The operators' mail names the inquiry in its subject.
    for (_, subject, _) in &mail {
        if let Some(&n) = number.iter().find_map(|(id, n)| subject.contains(*id).then_some(n)) {
            *told.operators.entry(n).or_insert(0) += 1;
        }
    }
    told
}

/// Resends the sent-message ledger counted as in doubt, by message id: a
/// claim found unsettled by a later attempt (`attempts - failed - 1` per
/// sent item).
async fn in_doubt_resends(prefix: &str) -> HashMap<String, usize> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().sdk_config().await);
    let number = |item: &HashMap<String, AttributeValue>, name: &str| -> i64 {
        item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
    };
    let mut resends = HashMap::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(prefix)
            .filter_expression("begins_with(pk, :sent) AND attribute_exists(sent_at)")
            .expression_attribute_values(":sent", AttributeValue::S("SENT#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let in_doubt = (number(item, "attempts") - number(item, "failed") - 1).max(0) as usize;
            let id = item.get("pk").and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("SENT#")).unwrap_or_default();
            if in_doubt > 0 {
                resends.insert(id.to_owned(), in_doubt);
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return resends;
        }
    }
}

/// The ids the notifier gives the customer's notification of inquiry `id`,
/// one per status it can tell the customer of.
fn customer_message_ids(id: &str) -> Vec<String> {
    ["answered", "escalated", "resolved", "failed"].iter().map(|s| deterministic_id(&format!("{id}/inquiry.{s}/customer"))).collect()
}

/// Each duplicate is one the ledger counted as in doubt for that very
/// message: a customer's extra texts against that inquiry's customer
/// notifications, a partner's against that inquiry's partner request, the
/// operators' against that inquiry's escalation or failure mail. (Texts to the
/// reservation's customer, shared by every partner flow, are told apart by
/// the flows' customer notifications together.)
fn assert_every_duplicate_in_doubt(told: &Told, ids: &BTreeMap<usize, String>, in_doubt: &HashMap<String, usize>) {
    let resends = |message_ids: &[String]| -> usize { message_ids.iter().map(|m| in_doubt.get(m).copied().unwrap_or(0)).sum() };
    for (n, id) in ids {
        let extra = |map: &HashMap<usize, usize>| map.get(n).copied().unwrap_or(0).saturating_sub(1);
        let checks = [
            ("customer", extra(&told.customer), customer_message_ids(id)),
            ("partner", extra(&told.partner), vec![deterministic_id(&format!("{id}/partner-request"))]),
            (
                "operators",
                extra(&told.operators),
                ["escalated", "failed"].iter().map(|s| deterministic_id(&format!("{id}/inquiry.{s}/operators"))).collect(),
            ),
        ];
        for (whom, duplicates, message_ids) in checks {
            assert!(
                duplicates <= resends(&message_ids),
                "inquiry {n} ({id}): the {whom} got {duplicates} duplicates, but the ledger counted {} of its messages in doubt",
                resends(&message_ids)
            );
        }
    }
    if let Some((flows, texts)) = told.reservation_customer {
        let flow_messages: Vec<String> =
            ids.iter().filter(|(n, _)| is_partner_flow(**n)).flat_map(|(_, id)| customer_message_ids(id)).collect();
        let duplicates = texts.saturating_sub(flows);
        assert!(
            duplicates <= resends(&flow_messages),
            "the reservation's customer got {duplicates} duplicates, but the ledger counted {} of the partner flows' notifications in doubt",
            resends(&flow_messages)
        );
    }
}

/// Every message on a dead-letter queue of the cluster, by service.
async fn aws_dead_letters(prefix: &str) -> BTreeMap<&'static str, Vec<String>> {
    let sqs = aws_sdk_sqs::Client::new(&emulator().sdk_config().await);
    let mut out = BTreeMap::new();
    for service in SERVICES {
        let url = sqs.get_queue_url().queue_name(format!("{prefix}-{service}-dlq")).send().await.unwrap().queue_url.unwrap();
        let mut bodies = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .visibility_timeout(600)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            if got.messages().is_empty() {
                break;
            }
            bodies.extend(got.messages().iter().map(|m| m.body().unwrap_or_default().to_owned()));
        }
        bodies.sort();
        out.insert(service, bodies);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_mode_under_kills_stalls_and_ai_faults_loses_nothing_and_counts_every_duplicate() {
    // Smaller: every emulated DynamoDB transaction copies the whole table.
    let size = Size::from_env(40, 10.0);
    // Texts to the demo reservation's customer are counted as an increase.
    let _texts = DEMO_RESERVATION_TEXTS.lock().await;
    let before = texts_per_phone().await;
    let mut cluster = Cluster::start_with("faults", 3, &ai_faults()).await;
    let prefix = cluster.prefix().to_owned();
    let run = format!("aws-{}", std::process::id());
    let sqs = aws_sdk_sqs::Client::new(&emulator().sdk_config().await);
    let intake = sqs.get_queue_url().queue_name(format!("{prefix}-intake")).send().await.unwrap().queue_url.unwrap();

    let load = tokio::spawn(submit_all(cluster.base_url.clone(), size, run.clone()));
    let pause = size.sending() / (size.kills as u32 + 2);
    for kill in 0..size.kills {
        tokio::time::sleep(pause).await;
        if kill == size.kills / 2 {
            // The classifier frozen past its messages' visibility: its queue stalls.
            let classifier = &cluster.services.iter().find(|(name, _)| name == "classifier").unwrap().1;
            nix::sys::signal::kill(classifier.pid(), nix::sys::signal::Signal::SIGSTOP).unwrap();
            tokio::time::sleep(size.stall).await;
            nix::sys::signal::kill(classifier.pid(), nix::sys::signal::Signal::SIGCONT).unwrap();
            for i in 0..size.poison {
                sqs.send_message().queue_url(&intake).message_body(poison_body(&run, i)).send().await.unwrap();
            }
        }
        // Each kill takes the next service in turn, the senders included.
        cluster.restart(SERVICES[(kill * 5 + 5) % SERVICES.len()]);
    }
    let ids = load.await.unwrap();

    let statuses = wait_all_terminal(&cluster.base_url, &ids).await;
    assert_eq!(ids.values().collect::<HashSet<_>>().len(), size.inquiries, "one inquiry per submission");
    assert_eq!(stored_inquiries(&cluster.base_url).await, size.inquiries, "retried submissions stored once");
    assert_eq!(tally(&statuses).get("failed"), None, "AI faults and kills fail no inquiry");

    let dead = aws_dead_letters(&prefix).await;
    for (service, bodies) in &dead {
        let expected: Vec<String> = if *service == "intake" { (0..size.poison).map(|i| poison_body(&run, i)).collect() } else { vec![] };
        assert_eq!(bodies, &expected, "dead letters of {service}");
    }

    // Notifications go out after the terminal transition: wait for the last.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let told = loop {
        let told = aws_told(&prefix, &ids, &before).await;
        if told.every_customer_told(&ids) || tokio::time::Instant::now() > deadline {
            break told;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    told.assert_nobody_missed(&ids, &statuses, &untexted_partner_flows(&cluster.base_url, &ids).await);
    let in_doubt = in_doubt_resends(&prefix).await;
    let resends: usize = in_doubt.values().sum();
    print_report("aws", size, &statuses, &told, &format!("; resends in doubt (a kill between send and record): {resends}"));
    assert_every_duplicate_in_doubt(&told, &ids, &in_doubt);
}
