//! The test harness: a whole Switchboard on a temporary data directory.
//!
//! [`TestApp::spawn`] builds the same application the binary runs, in this
//! process, on port 0 with its own data directory (zero-to-production's
//! `spawn_app`). [`Process`] runs the real `switchboard` binary instead, for
//! tests that kill or signal it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support: a failed unwrap is a failed test, reported with its message")]

pub mod aws_traffic;
pub mod bombs;
pub mod console;
pub mod emulator;
pub mod grpc;
pub mod outage;
pub mod process;
pub mod published;
pub mod webhook_receiver;

use serde_json::{Value, json};
use std::time::Duration;
use switchboard::{App, Config, Ports, Selection};
use switchboard_channels::sqlite::OutboxEntry;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The demo tenant's key in tests.
pub const API_KEY: &str = "test-key-0123456789";

/// The demo operator's key in tests.
pub const OPERATOR_KEY: &str = "operator-key-0123456789";

/// How long a test waits for the pipeline before it gives up (a bound on
/// waiting, not a speed claim: the pipeline takes milliseconds).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Knobs a test may turn.
#[derive(Debug, Clone)]
pub struct Options {
    pub partner_deadline_secs: u64,
    /// `SWITCHBOARD_CUSTOMER_REPLY_SECS`: the wait for the customer's reply to a question.
    pub customer_reply_secs: u64,
    pub max_receives: u32,
    pub selection: Selection,
    /// Requests a minute per client address on the partner endpoints.
    pub partner_rate_per_minute: u32,
    /// API requests a second per key and per client address.
    pub api_rate_per_key: u32,
    pub api_rate_per_ip: u32,
    /// `SWITCHBOARD_CORS_ORIGINS`.
    pub cors_origins: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            partner_deadline_secs: 300,
            customer_reply_secs: Config::default().customer_reply_secs,
            max_receives: 3,
            selection: Selection::all(),
            partner_rate_per_minute: Config::default().partner_rate_per_minute,
            api_rate_per_key: Config::default().api_rate_per_key,
            api_rate_per_ip: Config::default().api_rate_per_ip,
            cors_origins: String::new(),
        }
    }
}

/// A running in-process Switchboard with the demo tenant seeded.
pub struct TestApp {
    pub base_url: String,
    /// `http://{gRPC address}`.
    pub grpc_url: String,
    pub http: reqwest::Client,
    pub ports: Ports,
    pub config: Config,
    shutdown: CancellationToken,
    running: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// The configuration tests run with: a temporary data directory, any free
/// port, fast retries.
pub fn test_config(dir: &std::path::Path, options: &Options) -> Config {
    Config {
        data_dir: dir.to_owned(),
        http_addr: "127.0.0.1:0".parse().expect("static address"),
        grpc_addr: "127.0.0.1:0".parse().expect("static address"),
        demo_operator_key: Some(OPERATOR_KEY.to_owned()),
        partner_deadline_secs: options.partner_deadline_secs,
        customer_reply_secs: options.customer_reply_secs,
        max_receives: options.max_receives,
        partner_rate_per_minute: options.partner_rate_per_minute,
        api_rate_per_key: options.api_rate_per_key,
        api_rate_per_ip: options.api_rate_per_ip,
        cors_origins: options.cors_origins.clone(),
        retry_base_ms: 20,
        shutdown_grace_secs: 5,
        shed_queue_depth: TEST_SHED_QUEUE_DEPTH,
        shed_queue_age_ms: TEST_SHED_QUEUE_AGE_MS,
        shed_pending_writes: TEST_SHED_PENDING_WRITES,
        shed_in_pipeline: Some(TEST_SHED_IN_PIPELINE),
        // The console's live queue notices a change within a fifth of a second.
        console_poll_ms: 200,
        ..Config::default()
    }
}

/// Load-shedding bounds of the tests' servers, looser than the defaults
/// (tuned on release builds, see loadtest/README.md "Overload"): a debug
/// build on a busy machine would shed the bursts tests send and expect
/// accepted. The shedding tests configure bounds of their own.
pub const TEST_SHED_QUEUE_DEPTH: u64 = 2000;
/// See [`TEST_SHED_QUEUE_DEPTH`].
pub const TEST_SHED_QUEUE_AGE_MS: u64 = 500;
/// See [`TEST_SHED_QUEUE_DEPTH`].
pub const TEST_SHED_PENDING_WRITES: u64 = 2000;
/// See [`TEST_SHED_QUEUE_DEPTH`].
pub const TEST_SHED_IN_PIPELINE: u64 = 5000;

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        Self::spawn_with_ports(options, |_| {}).await
    }

    /// As [`Self::spawn_with`], letting the test swap ports first (a
    /// failing SMS sender, a counting one).
    pub async fn spawn_with_ports(options: Options, adapt: impl FnOnce(&mut Ports)) -> Self {
        Self::spawn_configured(options, |_| {}, adapt).await
    }

    /// An application whose published events are recorded, and the record.
    pub async fn spawn_recording_events(options: Options) -> (Self, published::Published) {
        let mut published = published::Published::default();
        let app = Self::spawn_with_ports(options, |ports| {
            let (topic, recorded) = published::RecordingTopic::wrap(ports.topic.clone());
            ports.topic = topic;
            published = recorded;
        })
        .await;
        (app, published)
    }

    /// As [`Self::spawn_with_ports`], letting the test change the
    /// configuration first (e.g. a short request timeout).
    pub async fn spawn_configured(options: Options, configure: impl FnOnce(&mut Config), adapt: impl FnOnce(&mut Ports)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path(), &options);
        configure(&mut config);
        let mut ports = Ports::open(&config, options.selection.provision).await.expect("ports open");
        adapt(&mut ports);
        let app = App::build_with(config.clone(), &options.selection, ports).await.expect("app builds");
        switchboard::demo::seed(app.ports.store.as_ref(), app.ports.store.as_ref(), API_KEY).await.expect("demo seeds");
        let base_url = format!("http://{}", app.http_addr());
        let grpc_url = format!("http://{}", app.grpc_addr());
        let ports = app.ports.clone();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let running = tokio::spawn(async move {
            app.run(token).await.expect("app runs");
        });
        Self { base_url, grpc_url, http: reqwest::Client::new(), ports, config, shutdown, running: Some(running), _dir: dir }
    }

    /// Stops the application and waits for it to drain.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running.await.expect("app stopped cleanly");
        }
    }

    /// The keys this application signs partner links with (tests forge
    /// tokens with them to prove the checks beyond the signature).
    pub fn token_keys(&self) -> switchboard_domain::token::TokenKeys {
        switchboard::token_keys::load(self.config.token_keys.as_deref(), &self.config.data_dir).expect("token keys")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `POST /api/inquiries` with the demo key.
    pub async fn submit(&self, body: &Value) -> reqwest::Response {
        self.http.post(self.url("/api/inquiries")).header("x-api-key", API_KEY).json(body).send().await.expect("request sent")
    }

    /// Submits and returns the new inquiry id, asserting 202.
    pub async fn submit_ok(&self, body: &Value) -> String {
        let response = self.submit(body).await;
        assert_eq!(response.status(), 202, "submit failed: {}", response.text().await.unwrap_or_default());
        let body: Value = response.json().await.expect("json body");
        body["inquiry_id"].as_str().expect("inquiry_id").to_owned()
    }

    /// `GET /api/inquiries/{id}` with the demo key.
    pub async fn inquiry(&self, id: &str) -> Value {
        let response = self.http.get(self.url(&format!("/api/inquiries/{id}"))).header("x-api-key", API_KEY).send().await.expect("sent");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json body")
    }

    /// Polls until the inquiry's status satisfies `done`; panics after [`PATIENCE`].
    pub async fn wait_for(&self, id: &str, done: impl Fn(&str) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let inquiry = self.inquiry(id).await;
            if done(inquiry["status"].as_str().unwrap_or_default()) {
                return inquiry;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} stuck in {}", inquiry["status"]);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a status the pipeline leaves alone (answered, escalated, resolved, failed).
    pub async fn wait_terminal(&self, id: &str) -> Value {
        self.wait_for(id, |s| matches!(s, "answered" | "escalated" | "resolved" | "failed")).await
    }

    /// Polls until the inquiry's timeline has an event whose kind starts
    /// with `prefix`; returns the inquiry. The notifier records
    /// `notification.customer.*` after it sent, so this waits for sending.
    pub async fn wait_for_timeline(&self, id: &str, prefix: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let inquiry = self.inquiry(id).await;
            let found = inquiry["timeline"]
                .as_array()
                .is_some_and(|events| events.iter().any(|e| e["kind"].as_str().is_some_and(|k| k.starts_with(prefix))));
            if found {
                return inquiry;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} never recorded {prefix}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the customer has been notified, then returns the
    /// inquiry's recorded messages.
    pub async fn notified(&self, id: &str) -> Vec<OutboxEntry> {
        self.wait_for_timeline(id, "notification.customer.").await;
        self.outbox(id).await
    }

    /// Messages recorded for one inquiry.
    pub async fn outbox(&self, inquiry_id: &str) -> Vec<OutboxEntry> {
        self.ports.outbox.as_ref().expect("embedded mode").entries(Some(inquiry_id.to_owned())).await.expect("outbox readable")
    }

    /// A customer's follow-up through the API under idempotency key `key`,
    /// asserting 202; returns the stored message.
    pub async fn follow_up(&self, id: &str, key: &str, text: &str) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/api/inquiries/{id}/messages")))
            .header("x-api-key", API_KEY)
            .header("idempotency-key", key)
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap_or_default());
        let body: Value = response.json().await.expect("a JSON body");
        body["message"].clone()
    }

    /// `(author, text)` of every message of the inquiry's conversation (its first page).
    pub async fn conversation(&self, id: &str) -> Vec<(String, String)> {
        let url = self.url(&format!("/api/inquiries/{id}/messages"));
        let response = self.http.get(url).header("x-api-key", API_KEY).send().await.expect("the gateway answers");
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.expect("a JSON body");
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        messages
            .iter()
            .map(|m| (m["author"].as_str().unwrap_or_default().to_owned(), m["text"].as_str().unwrap_or_default().to_owned()))
            .collect()
    }
}

/// A minimal inquiry body.
pub fn inquiry_body(content: &str, phone: &str) -> Value {
    json!({ "content": content, "customer_phone": phone })
}

/// What the link in a partner SMS carries (`…/r/{id}`): its 22-character
/// link id, or the signed token of a link texted before link ids. The API
/// calls either a `token`.
pub fn token_in(sms: &str) -> String {
    let start = sms.find("/r/").expect("a partner link in the SMS") + 3;
    let id = sms[start..].split_whitespace().next().unwrap_or_default().to_owned();
    assert!(!id.is_empty(), "an empty partner link in {sms:?}");
    id
}
