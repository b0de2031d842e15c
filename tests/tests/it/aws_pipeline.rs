//! The pipeline in AWS mode: every service as its own `switchboard serve`
//! process against the local AWS emulator (SQS, SNS, DynamoDB, S3, SES over
//! real HTTP with the real SDK clients).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::{Value, json};
use std::time::Duration;
use switchboard_tests::emulator::{Emulator, emulator, unique_prefix};
use switchboard_tests::process::{Process, binary, free_port};
use switchboard_tests::{API_KEY, PATIENCE, inquiry_body};

pub(crate) const SERVICES: [&str; 6] = ["intake", "image-analyzer", "classifier", "partner-dispatcher", "responder", "notifier"];
pub(crate) const PARTNER_PHONE: &str = "+821098765432";

/// Six service processes and a gateway on one resource prefix.
pub(crate) struct Cluster {
    dir: tempfile::TempDir,
    pub(crate) env: Vec<(&'static str, String)>,
    pub(crate) services: Vec<(String, Process)>,
    _gateway: Process,
    pub(crate) base_url: String,
    http: reqwest::Client,
}

fn cluster_env(emulator: &Emulator, prefix: &str, deadline_secs: u64) -> Vec<(&'static str, String)> {
    let mut env = emulator.process_env();
    env.extend([
        ("SWITCHBOARD_BACKEND", "aws".to_owned()),
        ("SWITCHBOARD_RESOURCE_PREFIX", prefix.to_owned()),
        ("SWITCHBOARD_TOKEN_KEYS", "6b6579206f66207468652061777320636c7573746572207465737420303030303030".to_owned()),
        ("SWITCHBOARD_PARTNER_DEADLINE_SECS", deadline_secs.to_string()),
        ("SWITCHBOARD_VISIBILITY_SECS", "4".to_owned()),
        ("SWITCHBOARD_RETRY_BASE_MS", "200".to_owned()),
        ("SWITCHBOARD_MAX_RECEIVES", "3".to_owned()),
        ("SWITCHBOARD_DEMO_API_KEY", API_KEY.to_owned()),
        ("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "2".to_owned()),
    ]);
    env
}

fn as_pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Runs `switchboard provision` and returns its output.
fn provision(dir: &std::path::Path, env: &[(&'static str, String)]) -> String {
    let output = std::process::Command::new(binary())
        .arg("provision")
        .arg("--data-dir")
        .arg(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("provision runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "provision failed: {text}");
    text
}

impl Cluster {
    async fn start(name: &str, deadline_secs: u64) -> Self {
        Self::start_with(name, deadline_secs, &[]).await
    }

    /// A cluster whose processes also get `extra` variables.
    pub(crate) async fn start_with(name: &str, deadline_secs: u64, extra: &[(&'static str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut env = cluster_env(emulator(), &unique_prefix(name), deadline_secs);
        env.extend_from_slice(extra);
        provision(dir.path(), &env);
        let pairs = as_pairs(&env);
        let services = SERVICES.iter().map(|s| (s.to_string(), Process::spawn(&["serve", s], dir.path(), &pairs, s))).collect();
        let port = free_port();
        let http_addr = format!("127.0.0.1:{port}");
        let gateway = Process::spawn(&["serve", "gateway", "--demo", "--http-addr", &http_addr], dir.path(), &pairs, "gateway");
        gateway.wait_until_ready(port).await;
        Self { dir, env, services, _gateway: gateway, base_url: format!("http://{http_addr}"), http: reqwest::Client::new() }
    }

    /// The resource prefix (names of queues, table, bucket).
    pub(crate) fn prefix(&self) -> &str {
        self.env.iter().find(|(k, _)| *k == "SWITCHBOARD_RESOURCE_PREFIX").map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    pub(crate) fn restart(&mut self, service: &str) {
        let pairs = as_pairs(&self.env);
        let slot = self.services.iter_mut().find(|(name, _)| name == service).expect("known service");
        slot.1.kill();
        slot.1 = Process::spawn(&["serve", service], self.dir.path(), &pairs, service);
    }

    /// Runs a `switchboard` command against the cluster's resources, asserting it succeeds.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let output = std::process::Command::new(binary())
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("switchboard runs");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub(crate) fn kill(&mut self, service: &str) {
        let slot = self.services.iter_mut().find(|(name, _)| name == service).expect("known service");
        slot.1.kill();
    }

    pub(crate) async fn submit(&self, body: &Value) -> String {
        let r = self.http.post(format!("{}/api/inquiries", self.base_url)).header("x-api-key", API_KEY).json(body).send().await.unwrap();
        assert_eq!(r.status(), 202);
        r.json::<Value>().await.unwrap()["inquiry_id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn inquiry(&self, id: &str) -> Value {
        let r = self.http.get(format!("{}/api/inquiries/{id}", self.base_url)).header("x-api-key", API_KEY).send().await.unwrap();
        r.json().await.unwrap()
    }

    async fn wait_for(&self, id: &str, done: impl Fn(&str) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let v = self.inquiry(id).await;
            if done(v["status"].as_str().unwrap_or_default()) {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} stuck in {}", v["status"]);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(crate) async fn wait_terminal(&self, id: &str) -> Value {
        self.wait_for(id, |s| matches!(s, "answered" | "escalated" | "failed")).await
    }

    /// Waits until the notifier recorded telling the customer.
    async fn wait_notified(&self, id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let v = self.inquiry(id).await;
            let told = v["timeline"]
                .as_array()
                .is_some_and(|t| t.iter().any(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("notification.customer."))));
            if told {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "customer of {id} never notified");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// What the emulator recorded as sent: SMS `(phone, text)` and e-mail `(to, subject, body)`.
pub(crate) async fn emulator_sent() -> (Vec<(String, String)>, Vec<(String, String, String)>) {
    let data: Value = emulator().recorded().await;
    let sms = data["sns"]["SMS"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| (m["phone_number"].as_str().unwrap_or_default().to_owned(), m["message"].as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mail = data["ses"]["Message"]
        .as_array()
        .map(|a| {
            a.iter()
                .flat_map(|m| {
                    let subject = m["subject"].as_str().unwrap_or_default().to_owned();
                    let body = m["body"].as_str().unwrap_or_default().to_owned();
                    m["destinations"]["ToAddresses"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |to| (to.as_str().unwrap_or_default().to_owned(), subject.clone(), body.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    (sms, mail)
}

/// The partner link (its link id) texted to `partner_phone` for
/// `inquiry_id` by the cluster on `prefix` (the id names nothing itself:
/// its record in the cluster's table does).
async fn partner_token(prefix: &str, partner_phone: &str, inquiry_id: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (sms, _) = emulator_sent().await;
        for (_, text) in sms.iter().filter(|(to, text)| to == partner_phone && text.contains("/r/")) {
            let token = switchboard_tests::token_in(text);
            if emulator().link_inquiry(prefix, &token).await.as_deref() == Some(inquiry_id) {
                return token;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no partner SMS for {inquiry_id}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn six_service_processes_on_the_emulator_answer_confirm_time_out_escalate_and_dead_letter() {
    // Another test texts the same demo customer; this one counts those texts.
    let _texts = switchboard_tests::emulator::DEMO_RESERVATION_TEXTS.lock().await;
    let cluster = Cluster::start("pipeline", 300).await;

    // A general question is answered from the FAQ.
    let question = cluster.submit(&inquiry_body("Is there parking at the hotel, and what does it cost?", "+12135550149")).await;
    // A reservation change goes to the partner, who accepts.
    let change = cluster
        .submit(&json!({ "content": "예약번호 HT-20481123 날짜를 12월 25일로 변경하고 싶어요", "customer_phone": "010-1234-5678" }))
        .await;
    // An angry complaint is escalated.
    let complaint = cluster.submit(&inquiry_body("The staff were rude and I am furious. Call me right now!", "+12135550149")).await;

    let answered = cluster.wait_terminal(&question).await;
    assert_eq!(answered["status"], "answered");
    assert!(answered["answer"].as_str().unwrap().contains("car park"));

    // The customer's thanks join the conversation (stored in DynamoDB, classified by the
    // classifier's own process) and close the inquiry.
    let messages = format!("{}/api/inquiries/{question}/messages", cluster.base_url);
    let thanks = cluster
        .http
        .post(&messages)
        .header("x-api-key", API_KEY)
        .header("Idempotency-Key", "thanks-1")
        .json(&json!({ "text": "Thank you, that solved it!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(thanks.status(), 202);
    let closed = cluster.wait_for(&question, |s| s == "resolved").await;
    assert_eq!(closed["status_reason"], "customer_closed");
    // The notice that it is closed joins the conversation just after.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let authors = loop {
        let listed: Value = cluster.http.get(&messages).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
        let authors: Vec<String> =
            listed["messages"].as_array().unwrap().iter().map(|m| m["author"].as_str().unwrap().to_owned()).collect();
        if authors.len() == 4 || tokio::time::Instant::now() > deadline {
            break authors;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(authors, ["customer", "ai", "customer", "system"]);

    let token = partner_token(cluster.prefix(), PARTNER_PHONE, &change).await;
    let accept = || cluster.http.post(format!("{}/respond", cluster.base_url)).json(&json!({ "token": token, "answer": "accept" })).send();
    let r = accept().await.unwrap();
    assert_eq!(r.status(), 200);
    let confirmed = cluster.wait_terminal(&change).await;
    assert_eq!(confirmed["status"], "answered");
    assert_eq!(confirmed["partner"]["outcome"]["outcome"], "accepted");
    let again = accept().await.unwrap();
    assert_eq!(again.status(), 409);

    let escalated = cluster.wait_terminal(&complaint).await;
    assert_eq!(escalated["status"], "escalated");

    for id in [&question, &change, &complaint] {
        cluster.wait_notified(id).await;
    }
    let (sms, mail) = emulator_sent().await;
    let to_change_customer = sms.iter().filter(|(to, text)| to == "+821012345678" && text.contains("HT-20481123")).count();
    assert_eq!(to_change_customer, 1, "the customer hears the partner's answer once");
    let operators = mail.iter().filter(|(to, _, body)| to == "operators@switchboard.example" && body.contains(&complaint)).count();
    assert_eq!(operators, 1, "operators get one e-mail for the escalation");

    // A malformed upstream event is dead-lettered with its reason; the queue keeps flowing.
    let sdk = emulator().sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let prefix = cluster.env.iter().find(|(k, _)| *k == "SWITCHBOARD_RESOURCE_PREFIX").unwrap().1.clone();
    let intake = sqs.get_queue_url().queue_name(format!("{prefix}-intake")).send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&intake).message_body("not an event").send().await.unwrap();
    let upstream = json!({
        "specversion": "1.0", "id": "crm-aws-1", "source": "upstream/crm", "type": "inquiry.submitted",
        "data": { "tenant_id": "demo", "content": "Is there Wi-Fi in the rooms?", "customer_phone": "+12135550149" },
    });
    sqs.send_message().queue_url(&intake).message_body(upstream.to_string()).send().await.unwrap();
    let dlq = sqs.get_queue_url().queue_name(format!("{prefix}-intake-dlq")).send().await.unwrap().queue_url.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let dead = loop {
        let got = sqs.receive_message().queue_url(&dlq).message_attribute_names("All").wait_time_seconds(1).send().await.unwrap();
        if let Some(m) = got.messages().first() {
            break m.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "malformed event never dead-lettered");
    };
    let reason = dead.message_attributes().and_then(|a| a.get("failure_reason")).and_then(|v| v.string_value()).unwrap_or_default();
    assert!(reason.contains("not a CloudEvents"), "{reason}");
    // The upstream inquiry has no id the test knows: find it in the table.
    let store = switchboard_store::dynamodb::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), prefix.clone());
    let tenant = switchboard_domain::TenantId::parse("demo").unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let page =
            switchboard_store::InquiryStore::list_by_tenant(&store, &tenant, &switchboard_store::PageRequest::first(20)).await.unwrap();
        if page.items.iter().any(|i| i.channel.as_str() == "event" && i.status.is_terminal()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the valid upstream event behind the bad one was not processed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_partner_who_never_answers_times_out_with_separate_processes() {
    let cluster = Cluster::start("timeout", 3).await;
    let id = cluster
        .submit(&json!({ "content": "Please move my booking TR-55501234 to the afternoon", "customer_phone": "+12135550149" }))
        .await;
    // TR-55501234's partner is Jeonju Day Tours.
    partner_token(cluster.prefix(), "+821055501234", &id).await;
    let v = cluster.wait_terminal(&id).await;
    assert_eq!(v["status"], "escalated");
    assert_eq!(v["partner"]["outcome"]["outcome"], "timed_out");
    cluster.wait_notified(&id).await;
}

#[tokio::test]
async fn an_unknown_reservation_is_asked_about_and_a_reply_resumes_the_partner_flow_or_silence_escalates_with_separate_processes() {
    // Texts the demo customer, as the pipeline test does.
    let _texts = switchboard_tests::emulator::DEMO_RESERVATION_TEXTS.lock().await;
    let reply_secs = 20;
    let cluster = Cluster::start_with("ask", 300, &[("SWITCHBOARD_CUSTOMER_REPLY_SECS", reply_secs.to_string())]).await;
    let unknown = json!({ "content": "예약번호 HT-99999999 날짜를 12월 25일로 변경하고 싶어요", "customer_phone": "010-1234-5678" });
    let replied = cluster.submit(&unknown).await;
    let silent = cluster.submit(&unknown).await;
    for id in [&replied, &silent] {
        cluster.wait_for(id, |s| s == "awaiting_customer").await;
        cluster.wait_notified(id).await;
    }

    let r = cluster
        .http
        .post(format!("{}/api/inquiries/{replied}/messages", cluster.base_url))
        .header("x-api-key", API_KEY)
        .header("idempotency-key", "aws-reply-1")
        .json(&json!({ "text": "예약번호는 HT-20481123 입니다" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    partner_token(cluster.prefix(), PARTNER_PHONE, &replied).await;
    assert_eq!(cluster.inquiry(&replied).await["reservation_number"], "HT-20481123");

    let escalated = cluster.wait_terminal(&silent).await;
    assert_eq!(escalated["status"], "escalated");
    assert_eq!(escalated["escalation"]["reason"], "reservation not found");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (sms, mail) = emulator_sent().await;
        let questions = sms.iter().filter(|(to, text)| to == "+821012345678" && text.contains("예약번호를 확인")).count();
        let operators = mail.iter().filter(|(to, _, body)| to == "operators@switchboard.example" && body.contains(&silent)).count();
        if questions >= 2 && operators >= 1 {
            assert_eq!((questions, operators), (2, 1), "each customer asked once, the operators told once");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "questions {questions}, operators' e-mails {operators}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_service_process_killed_mid_run_loses_no_inquiry() {
    let mut cluster = Cluster::start("kill", 300).await;
    cluster.kill("classifier");
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(cluster.submit(&inquiry_body(&format!("What time is check-in? ({n})"), "+12135550149")).await);
    }
    // A classifier starts, takes messages, and dies holding them.
    cluster.restart("classifier");
    let sqs = aws_sdk_sqs::Client::new(&emulator().sdk_config().await);
    let queue = format!("{}-classifier", cluster.prefix());
    let url = sqs.get_queue_url().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let held = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if held > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the classifier never took a message");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.restart("classifier");
    for id in &ids {
        assert_eq!(cluster.wait_terminal(id).await["status"], "answered");
    }
}

#[tokio::test]
async fn provisioning_twice_reports_no_changes_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let env = cluster_env(emulator(), &unique_prefix("provision"), 300);
    let first = provision(dir.path(), &env);
    assert!(first.contains("created or updated queue"), "{first}");
    let second = provision(dir.path(), &env);
    assert!(second.contains("no changes"), "{second}");
}
