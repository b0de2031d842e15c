//! One typed configuration: defaults, then `SWITCHBOARD_*` variables, then
//! command-line flags. Validated at start, with errors naming the variable.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Serialized};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where queues, topic and table live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Embedded,
    Aws,
}

/// Which AI engines answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiMode {
    Local,
    Aws,
}

/// How hard the embedded store tries to survive a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurabilityLevel {
    /// Survives a process crash (WAL, synchronous=NORMAL).
    Normal,
    /// Survives power loss (every commit fsync'd).
    Full,
}

const DAY_SECS: u64 = 24 * 60 * 60;

/// Longest a customer's link may be valid: a year.
const MAX_CUSTOMER_LINK_DAYS: u64 = 366;

/// The whole configuration. Field `x` is variable `SWITCHBOARD_X`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    /// The gRPC API (`switchboard.v1`, health, reflection).
    pub grpc_addr: SocketAddr,
    /// An internal listener for `/metrics` (and `/healthz`); when set,
    /// `/metrics` is no longer served on the public HTTP address.
    pub metrics_addr: Option<SocketAddr>,
    pub backend: Backend,
    pub ai: AiMode,
    pub partner_deadline_secs: u64,
    /// Comma-separated HMAC keys (hex or base64, ≥ 32 bytes), newest first.
    pub token_keys: Option<String>,
    pub public_base_url: Option<String>,
    /// Days a customer's link back to the conversation stays valid.
    pub customer_link_days: u64,
    pub resource_prefix: String,
    pub demo_api_key: Option<String>,
    /// Where escalations are e-mailed.
    pub operator_email: String,
    pub durability: DurabilityLevel,
    /// Most writes the embedded store commits in one transaction (group
    /// commit); 1 commits each on its own.
    pub write_batch: usize,
    /// Receives before a failing message is dead-lettered.
    pub max_receives: u32,
    /// First retry delay after a handler failure, in milliseconds.
    pub retry_base_ms: u64,
    pub worker_concurrency: usize,
    pub shutdown_grace_secs: u64,
    /// The answer engine's time budget, in milliseconds (with
    /// `SWITCHBOARD_AI=aws`: one Bedrock answer, its one retry included).
    pub answer_budget_ms: u64,
    /// Bedrock model (Converse) for answers and customer notifications,
    /// with `SWITCHBOARD_AI=aws`.
    pub bedrock_model_id: String,
    /// Bedrock model that describes photos; empty: no descriptions.
    pub bedrock_vision_model_id: String,
    /// Bedrock model deciding intent, urgency and reservation number as
    /// strict JSON; unset: the local rules decide, enriched by Comprehend.
    pub bedrock_classifier_model_id: Option<String>,
    /// Budget of each classification call (Comprehend, Bedrock intent), in milliseconds.
    pub ai_classify_timeout_ms: u64,
    /// Budget of each attachment call (Textract, Bedrock vision), in milliseconds.
    pub ai_attachment_timeout_ms: u64,
    /// Share of AI engine calls (0–1) failed on purpose, for fault tests
    /// and game days; 0 in production.
    pub ai_fault_rate: f64,
    /// Share of AI engine calls (0–1) delayed by `ai_slow_ms` on purpose.
    pub ai_slow_rate: f64,
    pub ai_slow_ms: u64,
    /// `json` or `text` log lines.
    pub log_format: String,
    /// Sender of customer and operator e-mail (AWS mode: an SES identity).
    pub email_from: String,
    /// The events topic's ARN (AWS mode); found by name when absent.
    pub events_topic_arn: Option<String>,
    /// How long a received message stays hidden before it is redelivered
    /// (extended while a handler runs); also the SQS queues' setting.
    pub visibility_secs: u64,
    /// Requests a minute one client address may make to the partner
    /// endpoints (`/r/`, `/confirm/`, `/respond`); 100 by default.
    pub partner_rate_per_minute: u32,
    /// Requests a minute one partner link may take, from any address; 30 by default.
    pub partner_rate_per_link_per_minute: u32,
    /// Comma-separated CIDRs of the proxies (load balancers) whose
    /// `X-Forwarded-For` names the client; empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// Requests the gateway serves at once (streams apart); more get 503.
    pub max_concurrent_requests: usize,
    /// Calling codes Switchboard may text, comma-separated (`82,1`); empty: every country.
    pub sms_countries: String,
    /// Submissions that text a customer one tenant may make an hour (per
    /// process); more get 429. 0: no quota.
    pub sms_per_tenant_per_hour: u32,
    /// Two-way SMS numbers and the tenant each belongs to, as
    /// `+15550001111=tenant-a` entries separated by commas: a customer's text
    /// to one of them joins their newest open inquiry with that tenant.
    pub inbound_sms_numbers: String,
    /// Watch streams (SSE, gRPC) one API key may hold open at once; more get 429.
    pub max_streams_per_key: usize,
    /// Longest a watch stream stays open, in seconds; then the client watches again.
    pub stream_lifetime_secs: u64,
    /// Operator keys, as `name=sha256hex` entries separated by commas (only
    /// hashes: `switchboard operator create` prints the entry for a new key).
    pub operator_key_hashes: Option<String>,
    /// The demo operator's key under `up --demo` (random and printed when unset).
    pub demo_operator_key: Option<String>,
    /// API requests a second per API key (REST and gRPC together).
    pub api_rate_per_key: u32,
    /// API requests a second per client address.
    pub api_rate_per_ip: u32,
    /// Comma-separated origins browsers may call the API from (`*` for any); empty: no CORS.
    pub cors_origins: String,
    /// Longest an API request may take, in seconds (streams excepted).
    pub request_timeout_secs: u64,
    /// How long the classifier keeps a tenant's memory of operators'
    /// corrections before reading it again, in milliseconds (a correction
    /// takes effect within it); 0 reads it for every inquiry.
    pub memory_ttl_ms: u64,
    /// How long a status poll may be answered from the gateway's cache of
    /// inquiries the pipeline is done with, in milliseconds (a person's
    /// escalation or resolution shows in status polls within it); 0: every
    /// poll reads the store.
    pub status_cache_ms: u64,
    /// How long an operator stays signed in to the console, in minutes.
    pub console_session_minutes: u64,
    /// How often the console's live queue re-reads the queue, in milliseconds.
    pub console_poll_ms: u64,
    /// Load shedding: new submissions get 503 / UNAVAILABLE while any
    /// stage's queue has more than this many messages waiting (0: no bound).
    pub shed_queue_depth: u64,
    /// … or its oldest waiting message is older than this, in milliseconds
    /// (embedded mode; SQS does not report it; 0: no bound).
    pub shed_queue_age_ms: u64,
    /// … or the embedded store's writer has more than this many writes
    /// queued (0: no bound).
    pub shed_pending_writes: u64,
    /// … or this many messages are waiting or being handled in all stages
    /// together, counting the submissions admitted since the last sample:
    /// this bounds how long an accepted inquiry waits, whatever the
    /// offered rate (0: no bound). Default 100 embedded (tuned in
    /// loadtest/README.md "Overload"); none on AWS, where each service
    /// scales on its own and SQS's counts are approximate.
    pub shed_in_pipeline: Option<u64>,
    /// How often the backlog is sampled while submissions arrive, in
    /// milliseconds; default 50 embedded, 1000 on AWS (each sample is two
    /// SQS `GetQueueAttributes` per stage).
    pub shed_sample_ms: Option<u64>,
    /// The wait advised to a shed client (`Retry-After`, gRPC `RetryInfo`), in milliseconds.
    pub shed_retry_after_ms: u64,
    /// How often the outbox relay looks for events a crash left
    /// unpublished, in milliseconds.
    pub outbox_relay_ms: u64,
    /// How old an outbox entry must be before the relay publishes it, in
    /// milliseconds: the call that stored it publishes it at once, and
    /// normally well within this.
    pub outbox_grace_ms: u64,
    /// How often the sweeper looks for inquiries that stopped moving, in seconds.
    pub sweep_every_secs: u64,
    /// How long an inquiry may sit in a working status (or past its partner
    /// deadline) before the sweeper hands it on again, in seconds.
    pub stuck_after_secs: u64,
    /// Embedded mode: how often the retention task removes rows past their
    /// age (see `retention.rs`), in seconds; 0: never.
    pub retention_every_secs: u64,
    /// … how long an item with a TTL (idempotency key, partner token,
    /// console session, webhook log) stays past its expiry, in seconds.
    pub retention_expired_grace_secs: u64,
    /// … how long a dead letter stays in its dead-letter queue, in days.
    pub retention_dead_letter_days: u64,
    /// … how long a sent SMS or e-mail stays on record (and so is not sent
    /// again by a redelivery), in days; more than the dead-letter age.
    pub retention_sent_days: u64,
    /// … how long recorded spans (`switchboard trace`) are kept, in hours.
    pub span_retention_hours: u64,
    /// How long an answer waits for the customer's reply before the
    /// inquiry closes itself, in seconds, for a tenant that sets no
    /// `auto_close_days` (7 days by default).
    pub auto_close_secs: u64,
    /// How long a customer asked to check their reservation number has to
    /// reply before a person takes over, in seconds (a day by default).
    pub customer_reply_secs: u64,
    /// Address ranges webhooks may reach although they are internal
    /// (loopback, private, link-local…), comma-separated CIDRs; empty: none.
    pub webhook_allow_private_cidrs: String,
    /// Whether webhook URLs may be `http://` (local receivers); https only by default.
    pub webhook_allow_http: bool,
    /// Waits before each retry of a failed webhook attempt (`5s,5m,30m,…`,
    /// units ms, s, m, h): the Standard Webhooks schedule by default.
    pub webhook_retry_schedule: String,
    /// Messages in a row that fail every attempt before an endpoint is
    /// disabled (and the tenant e-mailed); 0: never.
    pub webhook_disable_after: u32,
    /// How long one webhook post may take, in milliseconds.
    pub webhook_timeout_ms: u64,
    /// How long a webhook secret replaced by a rotation keeps signing, in seconds.
    pub webhook_rotation_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./switchboard-data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            metrics_addr: None,
            backend: Backend::Embedded,
            ai: AiMode::Local,
            partner_deadline_secs: 300,
            auto_close_secs: 7 * 24 * 60 * 60,
            customer_reply_secs: DAY_SECS,
            webhook_allow_private_cidrs: String::new(),
            webhook_allow_http: false,
            webhook_retry_schedule: switchboard_domain::webhook::schedule::DEFAULT_SCHEDULE.into(),
            webhook_disable_after: 5,
            webhook_timeout_ms: 5000,
            webhook_rotation_grace_secs: switchboard_gateway::DEFAULT_ROTATION_GRACE.as_secs(),
            token_keys: None,
            public_base_url: None,
            customer_link_days: switchboard_domain::customer_link::DEFAULT_CUSTOMER_LINK_VALIDITY.as_secs() / DAY_SECS,
            resource_prefix: "switchboard".into(),
            demo_api_key: None,
            operator_email: "operators@switchboard.example".into(),
            durability: DurabilityLevel::Normal,
            write_batch: switchboard_sqlite::DEFAULT_WRITE_BATCH,
            max_receives: 5,
            retry_base_ms: 1000,
            worker_concurrency: 16,
            shutdown_grace_secs: 10,
            answer_budget_ms: 3000,
            bedrock_model_id: switchboard_ai::aws::bedrock::DEFAULT_MODEL_ID.into(),
            bedrock_vision_model_id: switchboard_ai::aws::bedrock::DEFAULT_MODEL_ID.into(),
            bedrock_classifier_model_id: None,
            ai_classify_timeout_ms: 3000,
            ai_attachment_timeout_ms: 10_000,
            ai_fault_rate: 0.0,
            ai_slow_rate: 0.0,
            ai_slow_ms: 0,
            log_format: "text".into(),
            email_from: "switchboard@switchboard.example".into(),
            events_topic_arn: None,
            visibility_secs: 30,
            partner_rate_per_minute: 100,
            partner_rate_per_link_per_minute: 30,
            trusted_proxies: String::new(),
            max_concurrent_requests: switchboard_gateway::DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_streams_per_key: 20,
            sms_countries: "82,1".into(),
            sms_per_tenant_per_hour: 10_000,
            inbound_sms_numbers: String::new(),
            stream_lifetime_secs: 600,
            operator_key_hashes: None,
            demo_operator_key: None,
            api_rate_per_key: 1000,
            api_rate_per_ip: 2000,
            cors_origins: String::new(),
            request_timeout_secs: 30,
            memory_ttl_ms: switchboard_classifier::tenant_memory::DEFAULT_TTL.as_millis() as u64,
            status_cache_ms: switchboard_gateway::DEFAULT_STATUS_STALENESS.as_millis() as u64,
            console_session_minutes: switchboard_gateway::DEFAULT_CONSOLE_SESSION.as_secs() / 60,
            console_poll_ms: 2000,
            // Measured on two cores (loadtest/README.md, "Overload"): at 2x the
            // maximum, 2000 / 500 ms / 2000 let 2.4 s of work queue up behind
            // the accepted inquiries; these keep their p99 under 1 s.
            shed_queue_depth: 300,
            shed_queue_age_ms: 100,
            shed_pending_writes: 300,
            shed_in_pipeline: None,
            shed_sample_ms: None,
            shed_retry_after_ms: 1000,
            outbox_relay_ms: 1000,
            outbox_grace_ms: 30_000,
            sweep_every_secs: 60,
            stuck_after_secs: 300,
            retention_every_secs: 60,
            // DynamoDB's TTL deletes an item some time after it expires,
            // never at once, and the services were written against that:
            // a deadline message running late still finds its token.
            retention_expired_grace_secs: DAY_SECS,
            // SQS's longest retention, which `provision` sets on the dead-letter queues.
            retention_dead_letter_days: 14,
            // A redelivery of the event that sent a message can come as late
            // as a dead letter redriven on its last day (plus its retries):
            // the same 30 days the AWS sent-message ledger keeps.
            retention_sent_days: 30,
            span_retention_hours: 72,
        }
    }
}

/// Flags that override variables (only those given).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_deadline_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
}

impl Config {
    /// Defaults, then the environment, then `overrides`; then validation.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Env::prefixed("SWITCHBOARD_"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| anyhow::anyhow!(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.partner_deadline_secs == 0 {
            bail!("SWITCHBOARD_PARTNER_DEADLINE_SECS must be at least 1");
        }
        if !(1..=MAX_CUSTOMER_LINK_DAYS).contains(&self.customer_link_days) {
            bail!("SWITCHBOARD_CUSTOMER_LINK_DAYS must be 1 to {MAX_CUSTOMER_LINK_DAYS}");
        }
        if self.auto_close_secs == 0 {
            bail!("SWITCHBOARD_AUTO_CLOSE_SECS must be at least 1");
        }
        if self.customer_reply_secs == 0 {
            bail!("SWITCHBOARD_CUSTOMER_REPLY_SECS must be at least 1");
        }
        if self.retention_dead_letter_days == 0 {
            bail!("SWITCHBOARD_RETENTION_DEAD_LETTER_DAYS must be at least 1");
        }
        if self.retention_sent_days <= self.retention_dead_letter_days {
            bail!(
                "SWITCHBOARD_RETENTION_SENT_DAYS must be more than SWITCHBOARD_RETENTION_DEAD_LETTER_DAYS: a dead letter redriven on its last day may send its message again once the record of it is gone"
            );
        }
        if self.span_retention_hours == 0 {
            bail!("SWITCHBOARD_SPAN_RETENTION_HOURS must be at least 1");
        }
        if self.max_receives == 0 {
            bail!("SWITCHBOARD_MAX_RECEIVES must be at least 1");
        }
        self.webhook_policy()?;
        self.webhook_schedule()?;
        if self.webhook_timeout_ms == 0 {
            bail!("SWITCHBOARD_WEBHOOK_TIMEOUT_MS must be at least 1");
        }
        for (value, variable) in [
            (self.partner_rate_per_minute, "SWITCHBOARD_PARTNER_RATE_PER_MINUTE"),
            (self.partner_rate_per_link_per_minute, "SWITCHBOARD_PARTNER_RATE_PER_LINK_PER_MINUTE"),
            (self.api_rate_per_key, "SWITCHBOARD_API_RATE_PER_KEY"),
            (self.api_rate_per_ip, "SWITCHBOARD_API_RATE_PER_IP"),
        ] {
            if value == 0 {
                bail!("{variable} must be at least 1");
            }
        }
        if self.request_timeout_secs == 0 {
            bail!("SWITCHBOARD_REQUEST_TIMEOUT_SECS must be at least 1");
        }
        if !(1..=7 * 24 * 60).contains(&self.console_session_minutes) {
            bail!("SWITCHBOARD_CONSOLE_SESSION_MINUTES must be 1 to 10080 (a week)");
        }
        if self.max_concurrent_requests == 0 {
            bail!("SWITCHBOARD_MAX_CONCURRENT_REQUESTS must be at least 1");
        }
        switchboard_domain::SmsCountries::parse(&self.sms_countries).map_err(|e| anyhow::anyhow!("SWITCHBOARD_SMS_COUNTRIES: {e}"))?;
        self.inbound_sms_numbers()?;
        if self.max_streams_per_key == 0 {
            bail!("SWITCHBOARD_MAX_STREAMS_PER_KEY must be at least 1");
        }
        if self.stream_lifetime_secs == 0 {
            bail!("SWITCHBOARD_STREAM_LIFETIME_SECS must be at least 1");
        }
        switchboard_gateway::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("SWITCHBOARD_TRUSTED_PROXIES: {e}"))?;
        if let Some(hashes) = &self.operator_key_hashes {
            switchboard_gateway::OperatorKeys::parse(hashes).map_err(|e| anyhow::anyhow!("SWITCHBOARD_OPERATOR_KEY_HASHES: {e}"))?;
        }
        if !(1..=43_200).contains(&self.visibility_secs) {
            bail!("SWITCHBOARD_VISIBILITY_SECS must be 1 to 43200");
        }
        if self.backend == Backend::Aws && self.token_keys.is_none() {
            bail!(
                "SWITCHBOARD_TOKEN_KEYS is required with SWITCHBOARD_BACKEND=aws: every process must sign and verify partner links with the same keys"
            );
        }
        for (value, variable) in [
            (self.answer_budget_ms, "SWITCHBOARD_ANSWER_BUDGET_MS"),
            (self.ai_classify_timeout_ms, "SWITCHBOARD_AI_CLASSIFY_TIMEOUT_MS"),
            (self.ai_attachment_timeout_ms, "SWITCHBOARD_AI_ATTACHMENT_TIMEOUT_MS"),
        ] {
            if value == 0 {
                bail!("{variable} must be at least 1");
            }
        }
        if self.ai == AiMode::Aws && self.bedrock_model_id.trim().is_empty() {
            bail!("SWITCHBOARD_BEDROCK_MODEL_ID must name a Bedrock model with SWITCHBOARD_AI=aws");
        }
        for (rate, variable) in [(self.ai_fault_rate, "SWITCHBOARD_AI_FAULT_RATE"), (self.ai_slow_rate, "SWITCHBOARD_AI_SLOW_RATE")] {
            if !(0.0..=1.0).contains(&rate) {
                bail!("{variable} must be a share between 0 and 1, not {rate}");
            }
        }
        if self.write_batch == 0 {
            bail!("SWITCHBOARD_WRITE_BATCH must be at least 1");
        }
        if self.worker_concurrency == 0 {
            bail!("SWITCHBOARD_WORKER_CONCURRENCY must be at least 1");
        }
        if !matches!(self.log_format.as_str(), "json" | "text") {
            bail!("SWITCHBOARD_LOG_FORMAT must be json or text");
        }
        switchboard_domain::EmailAddress::parse(&self.operator_email).context("SWITCHBOARD_OPERATOR_EMAIL must be an e-mail address")?;
        switchboard_domain::EmailAddress::parse(&self.email_from).context("SWITCHBOARD_EMAIL_FROM must be an e-mail address")?;
        let prefix_ok = !self.resource_prefix.is_empty()
            && self.resource_prefix.len() <= 40
            && self.resource_prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !prefix_ok {
            bail!("SWITCHBOARD_RESOURCE_PREFIX must be 1–40 characters of a-z, 0-9 and '-' (it names queues, a table and a bucket)");
        }
        if let Some(url) = &self.public_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("SWITCHBOARD_PUBLIC_BASE_URL must start with http:// or https://");
        }
        Ok(())
    }

    /// How long the embedded retention task keeps each kind of row.
    pub fn retention_policy(&self) -> crate::retention::RetentionPolicy {
        crate::retention::RetentionPolicy {
            expired_grace: Duration::from_secs(self.retention_expired_grace_secs),
            dead_letters: Duration::from_secs(self.retention_dead_letter_days.saturating_mul(DAY_SECS)),
            sent: Duration::from_secs(self.retention_sent_days.saturating_mul(DAY_SECS)),
        }
    }

    /// How long recorded spans are kept.
    pub fn span_retention(&self) -> Duration {
        Duration::from_secs(self.span_retention_hours.saturating_mul(3600))
    }

    pub fn visibility(&self) -> Duration {
        Duration::from_secs(self.visibility_secs)
    }

    pub fn partner_deadline(&self) -> Duration {
        Duration::from_secs(self.partner_deadline_secs)
    }

    /// Which addresses webhooks may reach (`SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE_CIDRS`).
    pub fn webhook_policy(&self) -> anyhow::Result<switchboard_domain::webhook::TargetPolicy> {
        switchboard_domain::webhook::TargetPolicy::parse(&self.webhook_allow_private_cidrs)
            .map_err(|e| anyhow::anyhow!("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE_CIDRS: {e} (comma-separated CIDRs like 127.0.0.0/8)"))
    }

    /// When failed webhook attempts are tried again (`SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE`).
    pub fn webhook_schedule(&self) -> anyhow::Result<switchboard_domain::webhook::RetrySchedule> {
        switchboard_domain::webhook::RetrySchedule::parse(&self.webhook_retry_schedule)
            .map_err(|e| anyhow::anyhow!("SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE: {e}"))
    }

    /// How long an answer waits for a reply by default.
    pub fn auto_close(&self) -> Duration {
        Duration::from_secs(self.auto_close_secs)
    }

    /// How long a customer asked about their reservation number has to reply.
    pub fn customer_reply(&self) -> Duration {
        Duration::from_secs(self.customer_reply_secs)
    }

    /// Base of partner and customer links: configured, or this process's HTTP address.
    pub fn public_base_url(&self, bound: SocketAddr) -> String {
        self.public_base_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }

    /// How long a customer's link stays valid.
    pub fn customer_link_validity(&self) -> Duration {
        Duration::from_secs(self.customer_link_days.saturating_mul(DAY_SECS))
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }

    /// The local span store (embedded mode). A file of its own: the span
    /// exporter commits hundreds of rows at a time, and in the main file
    /// it held the write lock that every queue and store write waits for.
    pub fn spans_path(&self) -> PathBuf {
        self.data_dir.join("spans.db")
    }

    /// The file of operator key hashes `switchboard operator create` writes.
    pub fn operator_keys_path(&self) -> PathBuf {
        self.data_dir.join("operator-keys")
    }

    /// The operator keys the gateway accepts: the variable's entries and the
    /// data directory's file (the demo operator is added by `up --demo`).
    pub fn operator_keys(&self) -> anyhow::Result<switchboard_gateway::OperatorKeys> {
        let mut keys = match &self.operator_key_hashes {
            Some(h) => switchboard_gateway::OperatorKeys::parse(h).map_err(|e| anyhow::anyhow!("SWITCHBOARD_OPERATOR_KEY_HASHES: {e}"))?,
            None => switchboard_gateway::OperatorKeys::default(),
        };
        let path = self.operator_keys_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                keys.extend(switchboard_gateway::OperatorKeys::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
        if let Some(key) = &self.demo_operator_key {
            keys.add_key("demo-operator", key);
        }
        Ok(keys)
    }

    /// The load-shedding bounds (`SWITCHBOARD_SHED_*`).
    pub fn admission_limits(&self) -> switchboard_gateway::AdmissionLimits {
        let (default_sample, default_in_pipeline) = match self.backend {
            Backend::Embedded => (50, 100),
            Backend::Aws => (1000, 0),
        };
        switchboard_gateway::AdmissionLimits {
            max_waiting: self.shed_queue_depth,
            max_oldest_age: Duration::from_millis(self.shed_queue_age_ms),
            max_pending_writes: self.shed_pending_writes,
            max_in_pipeline: self.shed_in_pipeline.unwrap_or(default_in_pipeline),
            sample_every: Duration::from_millis(self.shed_sample_ms.unwrap_or(default_sample)),
            retry_after: Duration::from_millis(self.shed_retry_after_ms),
        }
    }

    /// The countries Switchboard may text.
    pub fn sms_countries(&self) -> anyhow::Result<switchboard_domain::SmsCountries> {
        switchboard_domain::SmsCountries::parse(&self.sms_countries).map_err(|e| anyhow::anyhow!("SWITCHBOARD_SMS_COUNTRIES: {e}"))
    }

    /// The two-way SMS numbers and their tenants.
    pub fn inbound_sms_numbers(&self) -> anyhow::Result<switchboard_intake::InboundSmsNumbers> {
        switchboard_intake::InboundSmsNumbers::parse(&self.inbound_sms_numbers)
            .map_err(|e| anyhow::anyhow!("SWITCHBOARD_INBOUND_SMS_NUMBERS: {e}"))
    }

    /// The API's settings.
    pub fn api_settings(&self) -> anyhow::Result<switchboard_gateway::ApiSettings> {
        Ok(switchboard_gateway::ApiSettings {
            rates: switchboard_gateway::Rates {
                api_caller_per_second: self.api_rate_per_key,
                api_client_per_second: self.api_rate_per_ip,
                partner_client_per_minute: self.partner_rate_per_minute,
                partner_link_per_minute: self.partner_rate_per_link_per_minute,
            },
            trusted_proxies: switchboard_gateway::TrustedProxies::parse(&self.trusted_proxies)
                .map_err(|e| anyhow::anyhow!("SWITCHBOARD_TRUSTED_PROXIES: {e}"))?,
            max_concurrent_requests: self.max_concurrent_requests,
            max_streams_per_caller: self.max_streams_per_key,
            sms_countries: self.sms_countries()?,
            stream_lifetime: Duration::from_secs(self.stream_lifetime_secs),
            cors_origins: self.cors_origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect(),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            worker_concurrency: self.worker_concurrency,
            admission: self.admission_limits(),
            status_staleness: Duration::from_millis(self.status_cache_ms),
            console_session: Duration::from_secs(self.console_session_minutes * 60),
            console_poll: Duration::from_millis(self.console_poll_ms.max(100)),
            ..switchboard_gateway::ApiSettings::default()
        })
    }
}

/// Figment names the key; say which variable that is.
fn describe(error: figment::Error) -> String {
    let mut lines = Vec::new();
    for e in error {
        let key = e.path.last().map(|k| format!("SWITCHBOARD_{}", k.to_ascii_uppercase()));
        match key {
            Some(var) => lines.push(format!("{var}: {}", e.kind)),
            None => lines.push(e.to_string()),
        }
    }
    format!("invalid configuration: {}", lines.join("; "))
}

#[cfg(test)]
// figment::Jail's closures must return figment::Error, large as figment made it.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design_table() {
        figment::Jail::expect_with(|_| {
            let c = Config::load(&Overrides::default()).unwrap();
            assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
            assert_eq!(c.grpc_addr.to_string(), "127.0.0.1:50051");
            assert_eq!(c.partner_deadline_secs, 300);
            assert_eq!(c.backend, Backend::Embedded);
            assert_eq!(c.resource_prefix, "switchboard");
            Ok(())
        });
    }

    #[test]
    fn the_pipeline_cap_is_100_embedded_and_off_on_aws_unless_set() {
        let embedded = Config::default();
        assert_eq!(embedded.admission_limits().max_in_pipeline, 100);
        let aws = Config { backend: Backend::Aws, ..Config::default() };
        assert_eq!(aws.admission_limits().max_in_pipeline, 0);
        let set = Config { backend: Backend::Aws, shed_in_pipeline: Some(500), ..Config::default() };
        assert_eq!(set.admission_limits().max_in_pipeline, 500);
    }

    #[test]
    fn the_ai_engines_are_chosen_by_variables_with_a_claude_model_and_a_3_s_answer_budget_by_default() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(&Overrides::default()).unwrap();
            assert_eq!((c.ai, c.answer_budget_ms), (AiMode::Local, 3000));
            assert!(c.bedrock_model_id.starts_with("anthropic.claude"), "{}", c.bedrock_model_id);
            assert_eq!(c.bedrock_classifier_model_id, None);
            jail.set_env("SWITCHBOARD_AI", "aws");
            jail.set_env("SWITCHBOARD_BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0");
            jail.set_env("SWITCHBOARD_BEDROCK_CLASSIFIER_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0");
            jail.set_env("SWITCHBOARD_AI_CLASSIFY_TIMEOUT_MS", "1500");
            let c = Config::load(&Overrides::default()).unwrap();
            assert_eq!(c.ai, AiMode::Aws);
            assert_eq!(c.bedrock_model_id, "anthropic.claude-3-5-sonnet-20240620-v1:0");
            assert_eq!(c.bedrock_classifier_model_id.as_deref(), Some("anthropic.claude-3-haiku-20240307-v1:0"));
            assert_eq!(c.ai_classify_timeout_ms, 1500);
            jail.set_env("SWITCHBOARD_BEDROCK_MODEL_ID", "");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_BEDROCK_MODEL_ID"), "{err}");
            jail.set_env("SWITCHBOARD_AI", "openai");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_AI"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn flags_override_variables() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SWITCHBOARD_PARTNER_DEADLINE_SECS", "30");
            jail.set_env("SWITCHBOARD_HTTP_ADDR", "127.0.0.1:9000");
            let flags = Overrides { partner_deadline_secs: Some(5), ..Default::default() };
            let c = Config::load(&flags).unwrap();
            assert_eq!((c.partner_deadline_secs, c.http_addr.port()), (5, 9000));
            Ok(())
        });
    }

    #[test]
    fn the_partner_rate_limit_is_configurable_and_never_zero() {
        figment::Jail::expect_with(|jail| {
            assert_eq!(Config::load(&Overrides::default()).unwrap().partner_rate_per_minute, 100);
            jail.set_env("SWITCHBOARD_PARTNER_RATE_PER_MINUTE", "20");
            assert_eq!(Config::load(&Overrides::default()).unwrap().partner_rate_per_minute, 20);
            jail.set_env("SWITCHBOARD_PARTNER_RATE_PER_MINUTE", "0");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_PARTNER_RATE_PER_MINUTE"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn api_limits_cors_and_operator_keys_come_from_variables_and_bad_ones_are_named() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(&Overrides::default()).unwrap();
            assert_eq!((c.api_rate_per_key, c.api_rate_per_ip, c.request_timeout_secs), (1000, 2000, 30));
            assert!(c.api_settings().unwrap().cors_origins.is_empty());
            jail.set_env("SWITCHBOARD_CORS_ORIGINS", "https://a.example, https://b.example");
            jail.set_env("SWITCHBOARD_OPERATOR_KEY_HASHES", switchboard_gateway::operators::entry_line("alice", "k"));
            let c = Config::load(&Overrides::default()).unwrap();
            assert_eq!(c.api_settings().unwrap().cors_origins, ["https://a.example", "https://b.example"]);
            assert_eq!(c.operator_keys().unwrap().find("k"), Some("alice"));
            jail.set_env("SWITCHBOARD_OPERATOR_KEY_HASHES", "alice=not-a-hash");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_OPERATOR_KEY_HASHES"), "{err}");
            jail.set_env("SWITCHBOARD_OPERATOR_KEY_HASHES", "");
            jail.set_env("SWITCHBOARD_API_RATE_PER_KEY", "0");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_API_RATE_PER_KEY"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn webhooks_refuse_internal_targets_and_retry_on_the_specifications_schedule_unless_configured() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(&Overrides::default()).unwrap();
            assert!(c.webhook_policy().unwrap().check("127.0.0.1".parse().unwrap()).is_err());
            assert_eq!(c.webhook_schedule().unwrap().max_attempts(), 8);
            assert!(!c.webhook_allow_http);
            jail.set_env("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE_CIDRS", "127.0.0.0/8");
            jail.set_env("SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE", "10ms,20ms");
            let c = Config::load(&Overrides::default()).unwrap();
            assert!(c.webhook_policy().unwrap().check("127.0.0.1".parse().unwrap()).is_ok());
            assert_eq!(c.webhook_schedule().unwrap().max_attempts(), 3);
            for (variable, bad) in
                [("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE_CIDRS", "localhost"), ("SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE", "soon")]
            {
                jail.set_env(variable, bad);
                let err = Config::load(&Overrides::default()).unwrap_err().to_string();
                assert!(err.contains(variable), "{bad}: {err}");
                jail.set_env(variable, "");
            }
            Ok(())
        });
    }

    #[test]
    fn customer_links_last_thirty_days_unless_configured_within_a_year() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(&Overrides::default()).unwrap();
            assert_eq!(c.customer_link_validity(), Duration::from_secs(30 * 24 * 60 * 60));
            jail.set_env("SWITCHBOARD_CUSTOMER_LINK_DAYS", "7");
            assert_eq!(Config::load(&Overrides::default()).unwrap().customer_link_validity(), Duration::from_secs(7 * 24 * 60 * 60));
            for bad in ["0", "367"] {
                jail.set_env("SWITCHBOARD_CUSTOMER_LINK_DAYS", bad);
                let err = Config::load(&Overrides::default()).unwrap_err().to_string();
                assert!(err.contains("SWITCHBOARD_CUSTOMER_LINK_DAYS"), "{bad}: {err}");
            }
            Ok(())
        });
    }

    #[test]
    fn inbound_sms_numbers_are_read_once_and_a_bad_entry_is_named() {
        figment::Jail::expect_with(|jail| {
            assert!(Config::load(&Overrides::default()).unwrap().inbound_sms_numbers().unwrap().is_empty());
            jail.set_env("SWITCHBOARD_INBOUND_SMS_NUMBERS", "+15550001111=tenant-a,+821055500000=tenant-b");
            let numbers = Config::load(&Overrides::default()).unwrap().inbound_sms_numbers().unwrap();
            let a = switchboard_domain::PhoneNumber::parse("+15550001111").unwrap();
            assert_eq!(numbers.tenant(&a).map(|t| t.as_str()), Some("tenant-a"));
            assert_eq!(numbers.len(), 2);
            jail.set_env("SWITCHBOARD_INBOUND_SMS_NUMBERS", "+15550001111=tenant-a,+15550002222:tenant-b");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert_eq!(err, "SWITCHBOARD_INBOUND_SMS_NUMBERS: entry 2 is not number=tenant (e.g. +15550001111=tenant-a)");
            Ok(())
        });
    }

    #[test]
    fn a_bad_variable_is_named_in_the_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SWITCHBOARD_PARTNER_DEADLINE_SECS", "soon");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_PARTNER_DEADLINE_SECS"), "{err}");
            jail.set_env("SWITCHBOARD_PARTNER_DEADLINE_SECS", "0");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("SWITCHBOARD_PARTNER_DEADLINE_SECS"), "{err}");
            Ok(())
        });
    }
}
