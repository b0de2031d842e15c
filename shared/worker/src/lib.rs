//! The worker runtime shared by all services.
//!
//! A [`Worker`] long-polls one queue, runs a [`Handler`] on each message
//! with bounded concurrency, and settles the message by the handler's
//! [`Outcome`]: delete it, make it visible again after a backoff, or move it
//! to the dead-letter queue. Slow handlers get their visibility extended
//! (heartbeat); a panicking handler counts as a failed attempt. On shutdown
//! the worker stops receiving, lets in-flight messages finish within a
//! grace period and releases whatever it could not finish, so another
//! process picks it up at once.

use async_trait::async_trait;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use switchboard_messaging::{BatchFailure, MAX_BATCH, MessagingError, Queue, ReceiveOptions, ReceivedMessage};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info_span, warn};

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled (or nothing to do): delete it.
    Done,
    /// A transient failure: try again later, until the receive limit.
    Retry { reason: String },
    /// It can never succeed (malformed, unknown): dead-letter it now.
    Reject { reason: String },
}

impl Outcome {
    /// A transient failure, with why.
    pub fn retry(reason: impl std::fmt::Display) -> Self {
        Self::Retry { reason: reason.to_string() }
    }

    /// A message that can never succeed, with why.
    pub fn reject(reason: impl std::fmt::Display) -> Self {
        Self::Reject { reason: reason.to_string() }
    }

    /// The outcome of a handler body written with `?`
    /// (`try_handle(..) -> Result<(), Outcome>`): `Ok(())` is [`Outcome::Done`].
    pub fn of(handled: Result<(), Outcome>) -> Self {
        match handled {
            Ok(()) => Self::Done,
            Err(outcome) => outcome,
        }
    }
}

/// A queue or topic that failed is worth trying again: handlers publish and
/// send with `?`. (Malformed messages are not a [`MessagingError`]: parsing
/// fails with its own error, which handlers reject.)
impl From<MessagingError> for Outcome {
    fn from(e: MessagingError) -> Self {
        Self::retry(e)
    }
}

/// A service's message handler. Must be idempotent: delivery is at least once.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles one message; the worker settles it by the outcome.
    async fn handle(&self, message: &ReceivedMessage) -> Outcome;

    /// Called just before a message goes to the dead-letter queue, so the
    /// service can record the failure on the inquiry.
    async fn on_dead_letter(&self, _message: &ReceivedMessage, _reason: &str) {}
}

/// [`WorkerConfig::max_receives`] unless configured otherwise.
pub const DEFAULT_MAX_RECEIVES: u32 = 5;

/// The `maxReceiveCount` of a queue's own redrive to its dead-letter queue,
/// for a worker that gives up after `worker_max_receives` receives: one
/// more. The worker dead-letters a failing message itself on its last
/// receive, with the reason; the queue's redrive only catches a message
/// whose handler never settled it (it crashed the process every time).
/// Every place that creates a queue (the embedded broker, `provision`, the
/// CloudFormation template) takes its limit from here.
pub const fn redrive_max_receives(worker_max_receives: u32) -> u32 {
    worker_max_receives.saturating_add(1)
}

/// Tuning of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Messages asked for per receive (1–10).
    pub batch_size: usize,
    /// Messages handled at once.
    pub concurrency: usize,
    /// Long-poll wait.
    pub wait: Duration,
    /// How long a received message stays hidden; extended while handling.
    pub visibility: Duration,
    /// A failing message is dead-lettered on this receive.
    pub max_receives: u32,
    /// First retry delay; doubles per receive up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How long shutdown waits for in-flight messages.
    pub grace: Duration,
    /// How long the worker may wait to fill its batch calls, which SQS
    /// bills one request each whatever they carry: after a receive that
    /// brought messages but fewer than it asked for, before the next one
    /// (messages arriving meanwhile share it); before a receive while most
    /// handlers are busy, for room to take a whole batch (instead of one
    /// message per handler that finishes); and for handled messages to
    /// share a delete. A message arriving in the window waits up to this
    /// long more. Zero: no waiting, every call goes out at once. An empty
    /// receive (an idle queue) never waits: the long poll does.
    pub fill_wait: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch_size: 10,
            concurrency: 16,
            wait: Duration::from_secs(1),
            visibility: Duration::from_secs(30),
            max_receives: DEFAULT_MAX_RECEIVES,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            grace: Duration::from_secs(10),
            fill_wait: Duration::ZERO,
        }
    }
}

impl WorkerConfig {
    /// Delay before the next attempt after the `receive_count`-th failed one.
    pub fn backoff(&self, receive_count: u32) -> Duration {
        let exp = receive_count.saturating_sub(1).min(16);
        self.base_backoff.saturating_mul(1 << exp).min(self.max_backoff)
    }
}

/// Runs one handler over one queue.
#[derive(Clone)]
pub struct Worker {
    name: String,
    queue: Arc<dyn Queue>,
    handler: Arc<dyn Handler>,
    config: WorkerConfig,
    /// The batching deleter while [`Worker::run`] runs; `None` otherwise
    /// (`process_pending` deletes one message at a time).
    deletes: Option<mpsc::UnboundedSender<DeleteRequest>>,
}

/// A handled message's receipt, waiting to be deleted with others.
struct DeleteRequest {
    receipt: String,
    reply: oneshot::Sender<Result<Vec<BatchFailure>, MessagingError>>,
}

impl Worker {
    pub fn new(name: impl Into<String>, queue: Arc<dyn Queue>, handler: Arc<dyn Handler>, config: WorkerConfig) -> Self {
        Self { name: name.into(), queue, handler, config, deletes: None }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs until `shutdown` is cancelled, then drains as described in the crate docs.
    pub async fn run(mut self, shutdown: CancellationToken) {
        // Handled messages are deleted in batches: one call (one write in
        // the embedded broker, one request to SQS) for up to ten messages.
        let (deletes, requests) = mpsc::unbounded_channel();
        let deleter = tokio::spawn(delete_in_batches(self.queue.clone(), requests, self.config.fill_wait));
        self.deletes = Some(deletes);
        let permits = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut failures = 0u32;
        let mut partial = false;
        loop {
            while tasks.try_join_next().is_some() {}
            if partial && !self.config.fill_wait.is_zero() {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(self.config.fill_wait) => {}
                }
            }
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
            };
            // Busy: let handlers finish until a whole batch fits, for a while.
            if !self.config.fill_wait.is_zero() && 1 + permits.available_permits() < self.config.batch_size {
                let until = tokio::time::Instant::now() + self.config.fill_wait;
                while 1 + permits.available_permits() < self.config.batch_size {
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        finished = tokio::time::timeout_at(until, tasks.join_next()) => match finished {
                            Ok(Some(_)) => {}
                            Ok(None) | Err(_) => break,
                        },
                    }
                }
            }
            let room = (1 + permits.available_permits()).min(self.config.batch_size);
            let options = ReceiveOptions { max_messages: room, wait: self.config.wait, visibility: self.config.visibility };
            // The receive runs to completion even when shutdown interrupts
            // the wait, so messages it took are released, not stranded.
            let queue = self.queue.clone();
            let mut receive = tokio::spawn(async move { queue.receive(options).await });
            let received = tokio::select! {
                r = &mut receive => r,
                _ = shutdown.cancelled() => {
                    // A long poll may still be waiting; give it the grace
                    // period, then drop it (what it took comes back after
                    // its visibility timeout).
                    if let Ok(Ok(Ok(messages))) = tokio::time::timeout(self.config.grace, &mut receive).await {
                        self.release(&messages).await;
                    } else {
                        receive.abort();
                    }
                    break;
                }
            };
            let messages = match received {
                Ok(Ok(messages)) => {
                    failures = 0;
                    messages
                }
                Ok(Err(e)) => {
                    failures += 1;
                    let pause = self.config.backoff(failures);
                    warn!(worker = %self.name, error = %e, ?pause, "receive failed");
                    tokio::select! { _ = shutdown.cancelled() => break, _ = tokio::time::sleep(pause) => continue }
                }
                Err(e) => {
                    error!(worker = %self.name, error = %e, "receive task failed");
                    continue;
                }
            };
            partial = !messages.is_empty() && messages.len() < room;
            let mut first = Some(first);
            for message in messages {
                let permit = match first.take() {
                    Some(p) => p,
                    None => match permits.clone().try_acquire_owned() {
                        Ok(p) => p,
                        Err(_) => {
                            self.release(std::slice::from_ref(&message)).await;
                            continue;
                        }
                    },
                };
                let worker = self.clone();
                tasks.spawn(async move {
                    worker.process(&message).await;
                    drop(permit);
                });
            }
        }
        self.drain(tasks).await;
        // Every handler has settled or been aborted; the deleter finishes
        // what it holds once the last sender is gone.
        self.deletes = None;
        if let Err(e) = deleter.await {
            warn!(worker = %self.name, error = %e, "the deleter failed; undeleted messages come back after their visibility timeout");
        }
    }

    async fn drain(&self, mut tasks: JoinSet<()>) {
        let finished = tokio::time::timeout(self.config.grace, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            // Aborted handlers' messages come back after their visibility
            // timeout; their handlers are idempotent, so a rerun is safe.
            warn!(worker = %self.name, unfinished = tasks.len(), "grace period over; aborting in-flight handlers");
            tasks.shutdown().await;
        }
    }

    /// Makes messages this worker will not handle visible again at once.
    async fn release(&self, messages: &[ReceivedMessage]) {
        for m in messages {
            if let Err(e) = self.queue.change_visibility(&m.receipt, Duration::ZERO).await {
                warn!(worker = %self.name, error = %e, "could not release a message; it returns after its visibility timeout");
            }
        }
    }

    /// Receives and handles whatever is visible now, one message at a time,
    /// until the queue has nothing visible. Returns how many were handled.
    /// Tests call this to drive a pipeline step by step.
    pub async fn process_pending(&self) -> usize {
        let mut handled = 0;
        loop {
            let options = ReceiveOptions { max_messages: 1, wait: Duration::ZERO, visibility: self.config.visibility };
            match self.queue.receive(options).await {
                Ok(messages) if !messages.is_empty() => {
                    for m in &messages {
                        self.process(m).await;
                        handled += 1;
                    }
                }
                Ok(_) => return handled,
                Err(e) => {
                    warn!(worker = %self.name, error = %e, "receive failed");
                    return handled;
                }
            }
        }
    }

    /// Handles one message and settles it, in a consumer span of this
    /// worker's service that continues the producer's trace: its parent is
    /// the envelope's `traceparent` (or SQS's `AWSTraceHeader`), and it
    /// links to that context too, as the messaging conventions ask of
    /// consumers that may receive in batches.
    pub async fn process(&self, message: &ReceivedMessage) {
        let envelope = switchboard_messaging::events::envelope_trace(&message.body);
        let span = info_span!(
            "process",
            otel.name = %format!("process {}", self.queue.name()),
            otel.kind = "consumer",
            otel.status_code = tracing::field::Empty,
            messaging.system = self.queue.system(),
            messaging.destination.name = %self.queue.name(),
            messaging.message.id = %message.message_id,
            messaging.operation.type = "process",
            messaging.operation.name = "process",
            messaging.message.delivery_count = message.receive_count,
            cloudevents.event_type = envelope.event_type.as_deref().unwrap_or_default(),
            switchboard.inquiry_id = tracing::field::Empty,
            outcome = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        // Only an id goes on the span: an upstream system's subject could be anything.
        if let Some(inquiry) = envelope.subject.as_deref().filter(|s| is_uuid(s)) {
            span.record(switchboard_telemetry::INQUIRY_ATTRIBUTE, inquiry);
        }
        let producer = switchboard_telemetry::propagation::message_parent(envelope.traceparent.as_deref(), message.trace_header.as_deref());
        if let Some(producer) = &producer {
            switchboard_telemetry::propagation::add_link(&span, producer);
        }
        switchboard_telemetry::in_service(&span, &self.name, producer);
        let started = std::time::Instant::now();
        async {
            let outcome = self.handle_with_heartbeat(message).await;
            let current = tracing::Span::current();
            current.record("outcome", tracing::field::debug(&outcome));
            let label = match &outcome {
                Outcome::Done => "done",
                Outcome::Retry { .. } => "retry",
                Outcome::Reject { .. } => "reject",
            };
            if label != "done" {
                current.record("error.type", label);
                current.record("otel.status_code", "error");
            }
            switchboard_telemetry::metrics().stage_message(&self.name, label, started.elapsed());
            self.settle(message, outcome).await;
        }
        .instrument(span)
        .await
    }

    async fn handle_with_heartbeat(&self, message: &ReceivedMessage) -> Outcome {
        let handling = AssertUnwindSafe(self.handler.handle(message)).catch_unwind();
        tokio::pin!(handling);
        let beat = (self.config.visibility / 2).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                result = &mut handling => {
                    return result.unwrap_or_else(|panic| {
                        let what = panic.downcast_ref::<&str>().map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "unknown panic".into());
                        error!(panic = %what, "handler panicked");
                        Outcome::retry(format!("handler panicked: {what}"))
                    });
                }
                _ = tokio::time::sleep(beat) => {
                    if let Err(e) = self.queue.change_visibility(&message.receipt, self.config.visibility).await {
                        warn!(error = %e, "visibility heartbeat failed");
                    }
                }
            }
        }
    }

    async fn settle(&self, message: &ReceivedMessage, outcome: Outcome) {
        let result = match outcome {
            Outcome::Done => match self.delete(&message.receipt).await {
                Ok(failed) if failed.is_empty() => Ok(()),
                // The message was redelivered meanwhile; its new receiver settles it.
                Ok(failed) => {
                    debug!(reason = %failed[0].reason, "delete did not apply");
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Outcome::Retry { reason } if message.receive_count >= self.config.max_receives => {
                let reason = format!("gave up after {} attempts: {reason}", message.receive_count);
                self.dead_letter(message, &reason).await
            }
            Outcome::Retry { reason } => {
                let delay = self.config.backoff(message.receive_count);
                warn!(%reason, ?delay, "handler failed; will retry");
                self.queue.change_visibility(&message.receipt, delay).await
            }
            Outcome::Reject { reason } => self.dead_letter(message, &reason).await,
        };
        if let Err(e) = result {
            // The message comes back after its visibility timeout.
            warn!(error = %e, "could not settle message");
        }
    }

    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), switchboard_messaging::MessagingError> {
        warn!(%reason, "dead-lettering message");
        self.handler.on_dead_letter(message, reason).await;
        self.queue.dead_letter(message, reason).await
    }
}

/// Whether `s` is a UUID in its usual text form (the inquiry ids).
fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

impl Worker {
    /// Deletes a handled message: through the batching deleter while the
    /// worker runs, directly otherwise.
    async fn delete(&self, receipt: &str) -> Result<Vec<BatchFailure>, MessagingError> {
        if let Some(deletes) = &self.deletes {
            let (reply, answer) = oneshot::channel();
            if deletes.send(DeleteRequest { receipt: receipt.to_owned(), reply }).is_ok()
                && let Ok(result) = answer.await
            {
                return result;
            }
        }
        self.queue.delete_batch(std::slice::from_ref(&receipt.to_owned())).await
    }
}

/// Deletes handled messages in batches: every request waiting when a call
/// goes out (up to [`MAX_BATCH`]) shares it, and the first waits up to
/// `linger` for company (zero: none), so batches grow with the load. The
/// messages are handled already: waiting delays only their deletion.
async fn delete_in_batches(queue: Arc<dyn Queue>, mut requests: mpsc::UnboundedReceiver<DeleteRequest>, linger: Duration) {
    while let Some(first) = requests.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + linger;
        while batch.len() < MAX_BATCH {
            let next = if linger.is_zero() {
                requests.try_recv().ok()
            } else {
                tokio::time::timeout_at(until, requests.recv()).await.ok().flatten()
            };
            match next {
                Some(request) => batch.push(request),
                None => break,
            }
        }
        let receipts: Vec<String> = batch.iter().map(|r| r.receipt.clone()).collect();
        match queue.delete_batch(&receipts).await {
            Ok(failures) => {
                for request in batch {
                    let mine = failures.iter().filter(|f| f.receipt == request.receipt).cloned().collect();
                    let _ = request.reply.send(Ok(mine));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for request in batch {
                    let _ = request.reply.send(Err(MessagingError::Unavailable(why.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
