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

/// Answers with a fixed outcome (or panics), counting calls and dead letters.
struct Scripted {
    outcome: Option<Outcome>,
    delay: Duration,
    calls: AtomicUsize,
    dead: std::sync::Mutex<Vec<String>>,
}

impl Scripted {
    fn new(outcome: Option<Outcome>) -> Arc<Self> {
        Arc::new(Self { outcome, delay: Duration::ZERO, calls: AtomicUsize::new(0), dead: Default::default() })
    }
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, _message: &ReceivedMessage) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        match &self.outcome {
            Some(o) => o.clone(),
            None => panic!("scripted panic"),
        }
    }

    async fn on_dead_letter(&self, _message: &ReceivedMessage, reason: &str) {
        self.dead.lock().unwrap().push(reason.to_owned());
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

#[tokio::test]
async fn a_slow_handler_keeps_its_message_hidden() {
    let f = fixture(3).await;
    send(&f.queue, "slow").await;
    let handler = Arc::new(Scripted {
        outcome: Some(Outcome::Done),
        delay: Duration::from_millis(1200),
        calls: AtomicUsize::new(0),
        dead: Default::default(),
    });
    let c = WorkerConfig { visibility: Duration::from_millis(400), ..config(3) };
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), c);
    let running = tokio::spawn(async move { worker.process_pending().await });
    // Past the first visibility timeout the heartbeat must have extended it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let options = ReceiveOptions { max_messages: 1, wait: Duration::ZERO, visibility: Duration::from_secs(1) };
    assert!(f.queue.receive(options).await.unwrap().is_empty());
    assert_eq!(running.await.unwrap(), 1);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn shutdown_finishes_in_flight_messages_and_leaves_the_rest_queued() {
    let f = fixture(3).await;
    for n in 0..20 {
        send(&f.queue, &format!("m{n}")).await;
    }
    let handler = Arc::new(Scripted {
        outcome: Some(Outcome::Done),
        delay: Duration::from_millis(300),
        calls: AtomicUsize::new(0),
        dead: Default::default(),
    });
    let c = WorkerConfig { concurrency: 4, batch_size: 4, ..config(3) };
    let worker = Worker::new("t", Arc::new(f.queue.clone()), handler.clone(), c);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    shutdown.cancel();
    running.await.unwrap();
    let handled = handler.calls.load(Ordering::SeqCst) as u64;
    let stats = f.queue.stats().await.unwrap();
    assert!(handled >= 1);
    // Everything is either handled and deleted, or visible for the next process.
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.visible + handled, 20);
}

/// Counts `delete_batch` calls of the queue it wraps.
struct CountingDeletes {
    inner: SqliteQueue,
    calls: AtomicUsize,
}

#[async_trait]
impl Queue for CountingDeletes {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, message: OutgoingMessage) -> Result<String, switchboard_messaging::MessagingError> {
        self.inner.send(message).await
    }
    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, switchboard_messaging::MessagingError> {
        self.inner.receive(options).await
    }
    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, switchboard_messaging::MessagingError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.delete_batch(receipts).await
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), switchboard_messaging::MessagingError> {
        self.inner.change_visibility(receipt, timeout).await
    }
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), switchboard_messaging::MessagingError> {
        self.inner.dead_letter(message, reason).await
    }
    async fn stats(&self) -> Result<switchboard_messaging::QueueStats, switchboard_messaging::MessagingError> {
        self.inner.stats().await
    }
}

#[tokio::test]
async fn messages_handled_together_are_deleted_together() {
    let f = fixture(3).await;
    for n in 0..30 {
        send(&f.queue, &format!("m{n}")).await;
    }
    let queue = Arc::new(CountingDeletes { inner: f.queue.clone(), calls: AtomicUsize::new(0) });
    let handler = Scripted::new(Some(Outcome::Done));
    let worker = Worker::new("t", queue.clone(), handler.clone(), config(3));
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while f.queue.stats().await.unwrap() != Default::default() {
        assert!(tokio::time::Instant::now() < deadline, "messages left: {:?}", f.queue.stats().await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(handler.calls.load(Ordering::SeqCst), 30, "each message handled once");
    let calls = queue.calls.load(Ordering::SeqCst);
    assert!(calls < 30, "30 messages took {calls} delete calls");
}
