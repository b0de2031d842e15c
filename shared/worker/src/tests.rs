use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use switchboard_messaging::sqlite::{SqliteBroker, SqliteQueue};
use switchboard_messaging::{Attributes, FAILURE_REASON_ATTRIBUTE, OutgoingMessage};
use switchboard_sqlite::{Database, Durability};

struct Fixture {
    _dir: tempfile::TempDir,
    broker: SqliteBroker,
    queue: SqliteQueue,
}

async fn fixture(max_receives: u32) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let broker = SqliteBroker::open(Database::open(&dir.path().join("w.db"), Durability::Normal).unwrap()).await.unwrap();
    let queue = broker.create_queue("q", Some("q-dlq"), max_receives + 5).await.unwrap();
    Fixture { _dir: dir, broker, queue }
}

fn config(max_receives: u32) -> WorkerConfig {
    WorkerConfig {
        wait: Duration::from_millis(50),
        visibility: Duration::from_secs(5),
        max_receives,
        base_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        grace: Duration::from_secs(5),
        ..WorkerConfig::default()
    }
}

/// Answers with a fixed outcome (or panics), counting calls and dead
/// letters. With a gate, each call waits until the gate opens.
struct Scripted {
    outcome: Option<Outcome>,
    delay: Duration,
    gate: Option<tokio::sync::watch::Receiver<bool>>,
    calls: AtomicUsize,
    finished: AtomicUsize,
    dead: std::sync::Mutex<Vec<String>>,
}

impl Scripted {
    fn new(outcome: Option<Outcome>) -> Arc<Self> {
        Arc::new(Self::answering(outcome))
    }

    fn answering(outcome: Option<Outcome>) -> Self {
        Self {
            outcome,
            delay: Duration::ZERO,
            gate: None,
            calls: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            dead: Default::default(),
        }
    }
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, _message: &ReceivedMessage) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if let Some(gate) = &self.gate {
            let _ = gate.clone().wait_for(|open| *open).await;
        }
        self.finished.fetch_add(1, Ordering::SeqCst);
        match &self.outcome {
            Some(o) => o.clone(),
            None => panic!("scripted panic"),
        }
    }

    async fn on_dead_letter(&self, _message: &ReceivedMessage, reason: &str) {
        self.dead.lock().unwrap().push(reason.to_owned());
    }
}

/// Polls `condition` until it holds; fails the test after a generous deadline.
async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn send(queue: &SqliteQueue, body: &str) {
    queue.send(OutgoingMessage::new(body, Attributes::new())).await.unwrap();
}

async fn dead_letters(f: &Fixture) -> Vec<ReceivedMessage> {
    let options = ReceiveOptions { max_messages: 10, wait: Duration::ZERO, visibility: Duration::from_secs(30) };
    f.broker.queue("q-dlq", None).receive(options).await.unwrap()
}

#[tokio::test]
async fn a_handled_message_is_deleted() {
    let f = fixture(3).await;
    send(&f.queue, "a").await;
    let handler = Scripted::new(Some(Outcome::Done));
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), config(3));
    assert_eq!(worker.process_pending().await, 1);
    assert_eq!(f.queue.stats().await.unwrap(), Default::default());
}

#[tokio::test]
async fn a_message_that_always_fails_is_dead_lettered_after_max_receives() {
    let f = fixture(3).await;
    send(&f.queue, "poison").await;
    let handler = Scripted::new(Some(Outcome::retry("boom")));
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), config(3));
    assert_eq!(worker.process_pending().await, 3);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3);
    let dead = dead_letters(&f).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attributes[FAILURE_REASON_ATTRIBUTE], "gave up after 3 attempts: boom");
    assert_eq!(handler.dead.lock().unwrap().as_slice(), ["gave up after 3 attempts: boom"]);
}

#[tokio::test]
async fn a_rejected_message_is_dead_lettered_at_once() {
    let f = fixture(3).await;
    send(&f.queue, "malformed").await;
    let handler = Scripted::new(Some(Outcome::reject("not a CloudEvent")));
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), config(3));
    assert_eq!(worker.process_pending().await, 1);
    assert_eq!(dead_letters(&f).await[0].attributes[FAILURE_REASON_ATTRIBUTE], "not a CloudEvent");
}

#[tokio::test]
async fn a_panicking_handler_counts_as_a_failed_attempt_not_a_crash() {
    let f = fixture(2).await;
    send(&f.queue, "x").await;
    let handler = Scripted::new(None);
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), config(2));
    assert_eq!(worker.process_pending().await, 2);
    let dead = dead_letters(&f).await;
    assert!(dead[0].attributes[FAILURE_REASON_ATTRIBUTE].contains("handler panicked: scripted panic"));
}

#[tokio::test]
async fn failures_back_off_exponentially_up_to_the_cap() {
    let c = WorkerConfig { base_backoff: Duration::from_secs(1), max_backoff: Duration::from_secs(10), ..config(5) };
    let delays: Vec<u64> = (1..=6).map(|n| c.backoff(n).as_secs()).collect();
    assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
}

/// One message at a time with SQS's visibility rules on tokio's clock, so a
/// test with paused time decides exactly when a message would come back.
#[derive(Default)]
struct PausedClockQueue {
    message: std::sync::Mutex<Option<Held>>,
}

struct Held {
    body: String,
    visible_at: tokio::time::Instant,
    receipt: String,
    receive_count: u32,
}

impl PausedClockQueue {
    fn holding(body: &str) -> Self {
        let held = Held { body: body.to_owned(), visible_at: tokio::time::Instant::now(), receipt: String::new(), receive_count: 0 };
        Self { message: std::sync::Mutex::new(Some(held)) }
    }
}

#[async_trait]
impl Queue for PausedClockQueue {
    fn name(&self) -> &str {
        "paused"
    }
    async fn send(&self, _message: OutgoingMessage) -> Result<String, MessagingError> {
        Err(MessagingError::Invalid("holds one message".into()))
    }
    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        let now = tokio::time::Instant::now();
        let mut held = self.message.lock().unwrap();
        let Some(m) = held.as_mut().filter(|m| m.visible_at <= now) else { return Ok(vec![]) };
        m.visible_at = now + options.visibility;
        m.receive_count += 1;
        m.receipt = format!("r{}", m.receive_count);
        let received = ReceivedMessage {
            message_id: "m".into(),
            receipt: m.receipt.clone(),
            body: m.body.clone(),
            attributes: Attributes::new(),
            receive_count: m.receive_count,
            trace_header: None,
        };
        Ok(vec![received])
    }
    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError> {
        let mut held = self.message.lock().unwrap();
        if held.as_ref().is_some_and(|m| receipts.contains(&m.receipt)) {
            *held = None;
        }
        Ok(vec![])
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), MessagingError> {
        match self.message.lock().unwrap().as_mut().filter(|m| m.receipt == receipt) {
            Some(m) => {
                m.visible_at = tokio::time::Instant::now() + timeout;
                Ok(())
            }
            None => Err(MessagingError::StaleReceipt),
        }
    }
    async fn dead_letter(&self, _message: &ReceivedMessage, _reason: &str) -> Result<(), MessagingError> {
        *self.message.lock().unwrap() = None;
        Ok(())
    }
    async fn stats(&self) -> Result<switchboard_messaging::QueueStats, MessagingError> {
        Ok(Default::default())
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_handler_keeps_its_message_hidden() {
    let queue = Arc::new(PausedClockQueue::holding("slow"));
    let handler = Arc::new(Scripted { delay: Duration::from_millis(1200), ..Scripted::answering(Some(Outcome::Done)) });
    let c = WorkerConfig { visibility: Duration::from_millis(400), ..config(3) };
    let worker = Worker::new("t", queue.clone(), handler.clone(), c);
    let running = tokio::spawn(async move { worker.process_pending().await });
    // Twice the visibility timeout into the handler (time is paused, so
    // exactly): without the heartbeat the message would be visible again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1, "the handler is running");
    let options = ReceiveOptions { max_messages: 1, wait: Duration::ZERO, visibility: Duration::from_secs(1) };
    assert!(queue.receive(options).await.unwrap().is_empty(), "the message came back while its handler ran");
    assert_eq!(running.await.unwrap(), 1);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);
    assert!(queue.message.lock().unwrap().is_none(), "the handled message is deleted");
}

#[tokio::test]
async fn shutdown_finishes_in_flight_messages_and_leaves_the_rest_queued() {
    let f = fixture(3).await;
    for n in 0..20 {
        send(&f.queue, &format!("m{n}")).await;
    }
    let (open, gate) = tokio::sync::watch::channel(false);
    let handler = Arc::new(Scripted { gate: Some(gate), ..Scripted::answering(Some(Outcome::Done)) });
    let c = WorkerConfig { concurrency: 4, batch_size: 4, ..config(3) };
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), c);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    // Shut down while handlers are in flight, held at the gate.
    until("a handler is in flight", || handler.calls.load(Ordering::SeqCst) >= 1).await;
    shutdown.cancel();
    open.send(true).unwrap();
    running.await.unwrap();
    let handled = handler.calls.load(Ordering::SeqCst) as u64;
    assert_eq!(handler.finished.load(Ordering::SeqCst) as u64, handled, "every started handler finished");
    assert!(handled < 20, "shutdown stopped receiving");
    let stats = f.queue.stats().await.unwrap();
    // Everything is either handled and deleted, or visible for the next process.
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.visible + handled, 20);
}

/// Records the size of each `delete_batch` call of the queue it wraps. The
/// first call waits until `hold_first_until` handlers have finished.
struct CountingDeletes {
    inner: SqliteQueue,
    batches: std::sync::Mutex<Vec<usize>>,
    handler: Arc<Scripted>,
    hold_first_until: usize,
}

#[async_trait]
impl Queue for CountingDeletes {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, message: OutgoingMessage) -> Result<String, MessagingError> {
        self.inner.send(message).await
    }
    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        self.inner.receive(options).await
    }
    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError> {
        let first = {
            let mut batches = self.batches.lock().unwrap();
            batches.push(receipts.len());
            batches.len() == 1
        };
        if first {
            until("enough handlers finished", || self.handler.finished.load(Ordering::SeqCst) >= self.hold_first_until).await;
        }
        self.inner.delete_batch(receipts).await
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), MessagingError> {
        self.inner.change_visibility(receipt, timeout).await
    }
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), MessagingError> {
        self.inner.dead_letter(message, reason).await
    }
    async fn stats(&self) -> Result<switchboard_messaging::QueueStats, MessagingError> {
        self.inner.stats().await
    }
}

// A current-thread runtime (the default of `tokio::test`): a handler task
// runs from finishing to queueing its delete without yielding, so once ten
// have finished, nine deletes wait behind the held first one.
#[tokio::test]
async fn messages_handled_together_are_deleted_together() {
    let f = fixture(3).await;
    for n in 0..30 {
        send(&f.queue, &format!("m{n}")).await;
    }
    let handler = Scripted::new(Some(Outcome::Done));
    let queue =
        Arc::new(CountingDeletes { inner: f.queue.clone(), batches: Default::default(), handler: handler.clone(), hold_first_until: 10 });
    let worker = Worker::new("t", queue.clone(), handler.clone(), config(3));
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while f.queue.stats().await.unwrap() != Default::default() {
        assert!(tokio::time::Instant::now() < deadline, "messages left: {:?}", f.queue.stats().await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(handler.calls.load(Ordering::SeqCst), 30, "each message handled once");
    let batches = queue.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), 30, "every message deleted once: {batches:?}");
    assert!(batches.iter().any(|&n| n >= 9), "the deletes waiting behind the first went out together: {batches:?}");
}

/// Records how many messages each receive of the queue it wraps returned.
struct CountingReceives {
    inner: SqliteQueue,
    received: std::sync::Mutex<Vec<usize>>,
}

#[async_trait]
impl Queue for CountingReceives {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, message: OutgoingMessage) -> Result<String, MessagingError> {
        self.inner.send(message).await
    }
    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        let messages = self.inner.receive(options).await?;
        self.received.lock().unwrap().push(messages.len());
        Ok(messages)
    }
    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError> {
        self.inner.delete_batch(receipts).await
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), MessagingError> {
        self.inner.change_visibility(receipt, timeout).await
    }
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), MessagingError> {
        self.inner.dead_letter(message, reason).await
    }
    async fn stats(&self) -> Result<switchboard_messaging::QueueStats, MessagingError> {
        self.inner.stats().await
    }
}

#[tokio::test]
async fn a_busy_worker_with_a_fill_wait_receives_whole_batches_not_one_message_per_finished_handler() {
    let f = fixture(3).await;
    for n in 0..12 {
        send(&f.queue, &format!("m{n}")).await;
    }
    let handler = Arc::new(Scripted { delay: Duration::from_millis(30), ..Scripted::answering(Some(Outcome::Done)) });
    let queue = Arc::new(CountingReceives { inner: f.queue.clone(), received: Default::default() });
    // The wait is far longer than a handler takes: the worker always finds room for a whole batch.
    let c = WorkerConfig { concurrency: 4, batch_size: 4, fill_wait: Duration::from_secs(1), ..config(3) };
    let worker = Worker::new("t", queue.clone(), handler.clone(), c);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    until("every message handled", || handler.finished.load(Ordering::SeqCst) == 12).await;
    shutdown.cancel();
    running.await.unwrap();
    let received: Vec<usize> = queue.received.lock().unwrap().iter().copied().filter(|&n| n > 0).collect();
    assert_eq!(received, [4, 4, 4], "three full receives for twelve messages");
}
