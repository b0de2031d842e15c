//! The estimated time to answer is learned from the timelines of finished
//! inquiries: for a fresh inquiry it lies within the bounds those recorded
//! stage times allow (read back from the same timelines), not at the
//! defaults. The classifier is held shut while the estimate is read, so the
//! inquiry is known to be waiting at its first stage; nothing compares the
//! estimate with how long anything took on the wall clock.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use switchboard_ai::{AiError, Classifier, ClassifyRequest};
use switchboard_domain::Classification;
use switchboard_tests::{API_KEY, Options, PATIENCE, TestApp, inquiry_body};
use tokio::sync::watch;

/// Finished inquiries the estimator learns from before the fresh one.
const WARM_UP: usize = 4;

/// Classifies once its gate is open; holds inquiries at `received` while shut.
struct Gated {
    inner: Arc<dyn Classifier>,
    open: Arc<watch::Sender<bool>>,
}

#[async_trait]
impl Classifier for Gated {
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError> {
        // The sender lives in `self`: waiting ends only when the gate opens.
        let _ = self.open.subscribe().wait_for(|open| *open).await;
        self.inner.classify(request).await
    }
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.http.get(app.url(&format!("/api/inquiries/{id}/status"))).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap()
}

/// Milliseconds an inquiry spent in each status it moved on from, in order,
/// from its `status.*` timeline events.
fn dwell_ms(inquiry: &Value) -> Vec<(String, f64)> {
    let statuses: Vec<(String, jiff::Timestamp)> = inquiry["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| {
            let status = e["kind"].as_str()?.strip_prefix("status.")?;
            Some((status.to_owned(), e["at"].as_str()?.parse().ok()?))
        })
        .collect();
    statuses.windows(2).map(|w| (w[0].0.clone(), w[1].1.duration_since(w[0].1).as_secs_f64() * 1000.0)).collect()
}

/// The least and the most any learned inquiry spent in `status`.
fn range(learned: &[Vec<(String, f64)>], status: &str) -> (f64, f64) {
    let times: Vec<f64> = learned.iter().flatten().filter(|(s, _)| s == status).map(|(_, ms)| *ms).collect();
    assert_eq!(times.len(), learned.len(), "every learned inquiry passed {status}: {learned:?}");
    (times.iter().copied().fold(f64::INFINITY, f64::min), times.iter().copied().fold(0.0, f64::max))
}

#[tokio::test]
async fn the_estimate_for_a_fresh_inquiry_lies_within_the_stage_times_recorded_by_the_inquiries_it_learned_from() {
    let gate = Arc::new(watch::Sender::new(false));
    let app = TestApp::spawn_with_ports(Options::default(), |ports| {
        ports.ai.classifier = Arc::new(Gated { inner: ports.ai.classifier.clone(), open: gate.clone() });
    })
    .await;
    let question = inquiry_body("What time is check-in?", "+12135550149");

    // Before anything finished, the estimate rests on defaults only.
    let first = app.submit_ok(&question).await;
    let view = status(&app, &first).await;
    assert_eq!((view["status"].as_str(), view["estimate_samples"].as_u64()), (Some("received"), Some(0)), "{view}");
    assert!(view["estimated_ms_remaining"].as_u64().unwrap() > 0, "{view}");
    gate.send_replace(true);
    let mut learned = vec![dwell_ms(&app.wait_terminal(&first).await)];
    for _ in 1..WARM_UP {
        let id = app.submit_ok(&question).await;
        learned.push(dwell_ms(&app.wait_terminal(&id).await));
    }

    gate.send_replace(false);
    let fresh = app.submit_ok(&question).await;
    // The estimator re-reads finished inquiries at most once per refresh interval: ask until it has.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let view = loop {
        let view = status(&app, &fresh).await;
        if view["estimate_samples"].as_u64() == Some(WARM_UP as u64) {
            break view;
        }
        assert!(tokio::time::Instant::now() < deadline, "never learned from the warm-up: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(view["status"], "received", "held at the classifier: {view}");

    // Ahead of a received FAQ inquiry: the rest of `received` (at least a
    // tenth of its average, at most all of it), all of `classified`, and the
    // messages queued ahead of it, each taking at most a stage's time.
    let (least_received, most_received) = range(&learned, "received");
    let (least_classified, most_classified) = range(&learned, "classified");
    let queued = view["queue_depth"].as_f64().unwrap();
    let lower = least_received / 10.0 + least_classified;
    let upper = most_received + most_classified + queued * most_received.max(most_classified);
    let estimate = view["estimated_ms_remaining"].as_f64().unwrap();
    // One millisecond either way: the view rounds to whole milliseconds.
    assert!(estimate >= lower - 1.0 && estimate <= upper + 1.0, "estimated {estimate} ms, learned bounds {lower}..{upper} ms: {learned:?}");

    gate.send_replace(true);
    app.wait_terminal(&fresh).await;
    assert_eq!(status(&app, &fresh).await["estimated_ms_remaining"], 0, "nothing left once answered");
    app.stop().await;
}
