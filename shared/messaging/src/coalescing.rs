//! A [`Topic`] that coalesces the publishes of concurrent callers into
//! batch calls: under load, the handlers of one process (and the gateway's
//! submissions) share `PublishBatch` requests of up to ten entries instead
//! of one request each.
//!
//! A caller's publications wait at most the *linger* (a few milliseconds)
//! for others to join them, less when a batch fills up ([`MAX_BATCH`]
//! entries or [`MAX_PAYLOAD`] bytes). Each caller still returns only once
//! its own publications are acknowledged, so at-least-once holds: a handler
//! deletes its message after its event is out, never before. When a shared
//! batch fails, each caller's publications are tried again alone, so one
//! caller's bad or unlucky entry fails that caller's publish only.

use crate::sns::{MAX_PAYLOAD, payload_size};
use crate::{MAX_BATCH, MessagingError, Publication, Topic};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{Instrument, debug};

/// How long a publish waits for others to join its batch unless the
/// caller says otherwise: short against a hop's own latency (tens of
/// milliseconds), long enough for concurrent handlers to meet.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(10);

/// Batch calls in flight at once: a slow call does not hold back the next batch.
const IN_FLIGHT: usize = 8;

/// One caller's publications, waiting for their batch.
struct Waiting {
    publications: Vec<Publication>,
    size: usize,
    reply: oneshot::Sender<Result<(), MessagingError>>,
    /// The caller's span: the batch call runs in the first caller's, so its
    /// SDK client span stays in that caller's trace.
    span: tracing::Span,
}

/// Coalesces concurrent publishes to `inner` (see the module docs).
pub struct CoalescingTopic {
    inner: Arc<dyn Topic>,
    requests: mpsc::UnboundedSender<Waiting>,
}

impl CoalescingTopic {
    /// Coalesces publishes to `inner`, each waiting at most `linger` for
    /// company. Must be called within a Tokio runtime: the batching task
    /// runs there until the topic is dropped.
    pub fn new(inner: Arc<dyn Topic>, linger: Duration) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(batch(inner.clone(), receiver, linger));
        Self { inner, requests }
    }
}

/// Whether `publications` fit in one batch call on their own.
fn fits_one_batch(publications: &[Publication], size: usize) -> bool {
    publications.len() <= MAX_BATCH && size <= MAX_PAYLOAD
}

#[async_trait]
impl Topic for CoalescingTopic {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError> {
        if publications.is_empty() {
            return Ok(());
        }
        let size = publications.iter().map(payload_size).sum();
        // A publish that fills a batch by itself gains nothing from waiting.
        if !fits_one_batch(publications, size) || publications.len() == MAX_BATCH {
            return self.inner.publish(publications).await;
        }
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting { publications: publications.to_vec(), size, reply, span: tracing::Span::current() };
        if self.requests.send(waiting).is_err() {
            return self.inner.publish(publications).await;
        }
        match answer.await {
            Ok(result) => result,
            // The batching task is gone (the runtime is shutting down).
            Err(_) => self.inner.publish(publications).await,
        }
    }
}

/// The batching task: gathers waiting publishes into batches and publishes
/// each batch, up to [`IN_FLIGHT`] at once, until every sender is gone.
async fn batch(inner: Arc<dyn Topic>, mut requests: mpsc::UnboundedReceiver<Waiting>, linger: Duration) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut carried: Option<Waiting> = None;
    loop {
        let first = match carried.take() {
            Some(w) => w,
            None => match requests.recv().await {
                Some(w) => w,
                None => return,
            },
        };
        let (mut count, mut size) = (first.publications.len(), first.size);
        let mut group = vec![first];
        let deadline = tokio::time::sleep(linger);
        tokio::pin!(deadline);
        while count < MAX_BATCH {
            let next = tokio::select! {
                next = requests.recv() => next,
                _ = &mut deadline => break,
            };
            let Some(next) = next else { break };
            if count + next.publications.len() > MAX_BATCH || size + next.size > MAX_PAYLOAD {
                // Starts the next batch, at once: it has waited already.
                carried = Some(next);
                break;
            }
            count += next.publications.len();
            size += next.size;
            group.push(next);
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
        let inner = inner.clone();
        let span = group[0].span.clone();
        tokio::spawn(
            async move {
                publish_group(inner.as_ref(), group).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
}

/// Publishes a group's publications in one call and answers every caller;
/// when the shared call fails, each caller's publications are tried alone
/// and each caller gets its own result.
async fn publish_group(inner: &dyn Topic, group: Vec<Waiting>) {
    if group.len() == 1 {
        if let Some(one) = group.into_iter().next() {
            let result = inner.publish(&one.publications).await;
            let _ = one.reply.send(result);
        }
        return;
    }
    let all: Vec<Publication> = group.iter().flat_map(|w| w.publications.iter().cloned()).collect();
    match inner.publish(&all).await {
        Ok(()) => {
            for waiting in group {
                let _ = waiting.reply.send(Ok(()));
            }
        }
        Err(e) => {
            debug!(error = %e, callers = group.len(), "a shared batch failed; publishing each caller's part alone");
            for waiting in group {
                let result = inner.publish(&waiting.publications).instrument(waiting.span.clone()).await;
                let _ = waiting.reply.send(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Attributes;
    use std::sync::Mutex;

    /// Records every call; refuses any call holding a publication whose body is `bad`.
    #[derive(Default)]
    struct Recording {
        calls: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl Topic for Recording {
        async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError> {
            let bodies: Vec<String> = publications.iter().map(|p| p.body.clone()).collect();
            self.calls.lock().unwrap().push(bodies.clone());
            if bodies.iter().any(|b| b == "bad") { Err(MessagingError::Invalid("bad entry".into())) } else { Ok(()) }
        }
    }

    fn publication(body: &str) -> Publication {
        Publication { body: body.into(), attributes: Attributes::new() }
    }

    async fn publish_concurrently(topic: Arc<CoalescingTopic>, bodies: &[&str]) -> Vec<Result<(), MessagingError>> {
        let calls = bodies.iter().map(|b| {
            let topic = topic.clone();
            let p = publication(b);
            async move { topic.publish(&[p]).await }
        });
        join_all(calls).await
    }

    /// Spawned tasks, awaited in order (`futures::future::join_all` without the dependency).
    async fn join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handles: Vec<_> = futures.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn concurrent_publishes_share_batch_calls_of_at_most_ten() {
        let inner = Arc::new(Recording::default());
        let topic = Arc::new(CoalescingTopic::new(inner.clone(), Duration::from_millis(200)));
        let bodies: Vec<String> = (0..25).map(|i| format!("e{i}")).collect();
        let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let results = publish_concurrently(topic, &refs).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let calls = inner.calls.lock().unwrap().clone();
        let mut published: Vec<String> = calls.iter().flatten().cloned().collect();
        published.sort();
        let mut expected = bodies.clone();
        expected.sort();
        assert_eq!(published, expected, "every publication exactly once");
        assert!(calls.iter().all(|c| c.len() <= MAX_BATCH), "{calls:?}");
        assert_eq!(calls.len(), 3, "25 publications waiting together make three calls: {calls:?}");
    }

    #[tokio::test]
    async fn a_failing_entry_fails_only_its_own_callers_publish() {
        let inner = Arc::new(Recording::default());
        let topic = Arc::new(CoalescingTopic::new(inner.clone(), Duration::from_millis(200)));
        let results = publish_concurrently(topic, &["a", "bad", "c"]).await;
        assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
        assert!(matches!(results[1], Err(MessagingError::Invalid(_))), "{results:?}");
        let calls = inner.calls.lock().unwrap().clone();
        assert_eq!(calls[0].len(), 3, "first one shared call: {calls:?}");
        assert_eq!(calls.len(), 4, "then each caller alone: {calls:?}");
    }

    #[tokio::test]
    async fn a_lone_publish_goes_out_after_the_linger_without_company() {
        let inner = Arc::new(Recording::default());
        let topic = CoalescingTopic::new(inner.clone(), Duration::from_millis(1));
        topic.publish(&[publication("alone")]).await.unwrap();
        assert_eq!(inner.calls.lock().unwrap().clone(), vec![vec!["alone".to_owned()]]);
    }
}
