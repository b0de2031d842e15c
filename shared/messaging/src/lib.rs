//! Messaging ports: queues with SQS semantics and a topic with SNS-style
//! fan-out, plus the embedded implementation ([`sqlite`]) and the AWS one
//! ([`sqs`], [`sns`]).
//!
//! Services see only [`Queue`] and [`Topic`]; which backend stands behind
//! them is decided once, in the composition root.

mod aws;
/// Coalescing concurrent publishes into batch calls.
pub mod coalescing;
pub mod events;
/// Amazon SNS: the events topic, and provisioning of the topic and its queue subscriptions.
pub mod sns;
pub mod sqlite;
/// Amazon SQS: the queue port, and provisioning of a queue with its dead-letter queue.
pub mod sqs;

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::Duration;

/// Message attributes: String attributes only (filter policies match strings).
pub type Attributes = BTreeMap<String, String>;

/// The attribute that carries why a message was dead-lettered.
pub const FAILURE_REASON_ATTRIBUTE: &str = "failure_reason";

/// Longest delay SQS allows on one message.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Longest long-poll wait SQS allows.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// Most messages one batch call handles.
pub const MAX_BATCH: usize = 10;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    pub body: String,
    pub attributes: Attributes,
    /// Invisible until this much time has passed (at most [`MAX_DELAY`]).
    pub delay: Duration,
    /// The producer's X-Ray trace header, sent as SQS's `AWSTraceHeader`
    /// system attribute (the embedded broker keeps it too).
    pub trace_header: Option<String>,
}

impl OutgoingMessage {
    pub fn new(body: impl Into<String>, attributes: Attributes) -> Self {
        Self { body: body.into(), attributes, delay: Duration::ZERO, trace_header: None }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Carries `header` (X-Ray form) as the message's trace header.
    pub fn with_trace_header(mut self, header: Option<String>) -> Self {
        self.trace_header = header;
        self
    }
}

/// A message as received: it stays invisible to other consumers until its
/// visibility timeout runs out, then comes back unless deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Changes with every receive; only the newest one deletes the message.
    pub receipt: String,
    pub body: String,
    pub attributes: Attributes,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
    /// X-Ray trace header (`AWSTraceHeader` system attribute), when present.
    pub trace_header: Option<String>,
}

/// How to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// 1 to [`MAX_BATCH`].
    pub max_messages: usize,
    /// Long-poll wait when nothing is visible (at most [`MAX_WAIT`]).
    pub wait: Duration,
    /// How long received messages stay hidden.
    pub visibility: Duration,
}

/// One entry of a batch call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    pub receipt: String,
    pub reason: String,
}

/// Depth and age of a queue, for readiness, ETAs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
    /// Messages in this queue's dead-letter queue.
    pub dead_lettered: u64,
    /// How long the longest-waiting receivable message has been receivable
    /// (since it was sent, its delay ended or its lease expired).
    pub oldest_age: Option<Duration>,
}

/// A queue or topic failure.
#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// The receipt belongs to an earlier receive, or the message is gone.
    #[error("receipt handle is stale or unknown")]
    StaleReceipt,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("unknown queue {0}")]
    UnknownQueue(String),
    /// The backend is down or refused the call; worth retrying later.
    #[error("messaging backend unavailable: {0}")]
    Unavailable(String),
}

impl From<switchboard_sqlite::DbError> for MessagingError {
    fn from(e: switchboard_sqlite::DbError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// A queue with SQS semantics: at-least-once delivery, visibility timeouts,
/// receive counts, delays and a dead-letter queue.
#[async_trait]
pub trait Queue: Send + Sync {
    fn name(&self) -> &str;

    /// The `messaging.system` of spans about this queue.
    fn system(&self) -> &'static str {
        "switchboard"
    }

    /// Sends one message; returns its id.
    async fn send(&self, message: OutgoingMessage) -> Result<String, MessagingError>;

    /// Receives up to `max_messages`, waiting up to `wait` for the first one.
    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError>;

    /// Deletes received messages; entries that could not be deleted are returned.
    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError>;

    /// Makes a received message visible again after `timeout` (zero: now).
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), MessagingError>;

    /// Moves a received message to the dead-letter queue with the reason as
    /// the [`FAILURE_REASON_ATTRIBUTE`] attribute.
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), MessagingError>;

    async fn stats(&self) -> Result<QueueStats, MessagingError>;
}

/// A message to publish on the events topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub body: String,
    pub attributes: Attributes,
}

/// The events topic: every subscribed queue whose filter policy matches a
/// publication's attributes gets a copy.
#[async_trait]
pub trait Topic: Send + Sync {
    /// The topic's name, for spans (`messaging.destination.name`).
    fn name(&self) -> &str {
        "events"
    }

    /// The `messaging.system` of spans about this topic.
    fn system(&self) -> &'static str {
        "switchboard"
    }

    /// Publishes all of `publications`; on error none may have been, or some
    /// may (callers republish: event ids are deterministic).
    async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError>;
}
