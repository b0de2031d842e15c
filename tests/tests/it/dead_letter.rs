#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use std::sync::Arc;
use std::time::Duration;
use switchboard::Selection;
use switchboard_ai::{AiError, Classifier, ClassifyRequest};
use switchboard_domain::Classification;
use switchboard_domain::Service;
use switchboard_messaging::{FAILURE_REASON_ATTRIBUTE, ReceiveOptions, ReceivedMessage};
use switchboard_pipeline::Stage;
use switchboard_tests::{Options, TestApp, inquiry_body};
use switchboard_worker::{Handler, Outcome, Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

/// A classifier engine that is always down.
struct AlwaysFailing;

#[async_trait::async_trait]
impl Classifier for AlwaysFailing {
    async fn classify(&self, _request: &ClassifyRequest) -> Result<Classification, AiError> {
        Err(AiError::Unavailable("engine down".into()))
    }
}

/// A stage whose every attempt fails, as a service does when a dependency
/// it cannot do without stays down; on dead-lettering it fails the
/// inquiry, as every service does.
struct AlwaysFailingStage(Stage);

#[async_trait::async_trait]
impl Handler for AlwaysFailingStage {
    async fn handle(&self, _message: &ReceivedMessage) -> Outcome {
        Outcome::retry("dependency down")
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.0.fail_inquiry(message, reason).await;
    }
}

/// The app without its classifier, and a worker on the classifier queue
/// running `handler` instead, retrying quickly.
async fn app_with_classifier(handler: impl FnOnce(Stage) -> Arc<dyn Handler>) -> (TestApp, CancellationToken, tokio::task::JoinHandle<()>) {
    let mut selection = Selection::all();
    selection.services.retain(|s| *s != Service::Classifier);
    let app = TestApp::spawn_with(Options { selection, max_receives: 3, ..Options::default() }).await;
    let stage = Stage::new(Service::Classifier, app.ports.store.clone(), app.ports.topic.clone());
    let config = WorkerConfig {
        max_receives: 3,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..WorkerConfig::default()
    };
    let worker = Worker::new("classifier", app.ports.queue(Service::Classifier).unwrap(), handler(stage), config);
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));
    (app, stop, running)
}

#[tokio::test]
async fn a_handler_that_always_fails_dead_letters_the_message_and_fails_the_inquiry() {
    let (app, stop, running) = app_with_classifier(|stage| Arc::new(AlwaysFailingStage(stage))).await;

    let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "failed");
    let reason = inquiry["status_reason"].as_str().unwrap();
    assert!(reason.contains("gave up after 3 attempts") && reason.contains("dependency down"), "{reason}");

    let dlq = app.ports.dead_letter_queue(Service::Classifier).unwrap();
    let options = ReceiveOptions { max_messages: 10, wait: Duration::from_secs(1), visibility: Duration::from_secs(60) };
    let dead = dlq.receive(options).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].attributes[FAILURE_REASON_ATTRIBUTE].contains("dependency down"));

    // The customer hears of the failure, and the operators are handed it.
    app.wait_for_timeline(&id, "notification.operators").await;
    let sent = app.notified(&id).await;
    assert_eq!(sent.iter().filter(|m| m.to == "+12135550149").count(), 1, "{sent:?}");
    assert_eq!(sent.iter().filter(|m| m.to == app.config.operator_email).count(), 1, "{sent:?}");
    stop.cancel();
    running.await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_classifier_whose_engine_stays_down_lets_the_local_rules_decide_after_one_retry() {
    let (app, stop, running) =
        app_with_classifier(|stage| Arc::new(switchboard_classifier::Classifier::new(stage, Arc::new(AlwaysFailing)))).await;

    let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered", "an engine outage makes the verdict rougher, not the inquiry failed");
    assert_eq!(inquiry["classification"]["engine"], switchboard_ai::local::CLASSIFIER_ENGINE);
    let dlq = app.ports.dead_letter_queue(Service::Classifier).unwrap();
    let options = ReceiveOptions { max_messages: 10, wait: Duration::from_millis(200), visibility: Duration::from_secs(60) };
    assert!(dlq.receive(options).await.unwrap().is_empty(), "nothing dead-lettered");
    stop.cancel();
    running.await.unwrap();
    app.stop().await;
}
