//! The estimated time to answer is checked against reality: after a few
//! inquiries have gone through, the estimate for a fresh one is within a
//! factor of how long it then really takes. The classifier is made slow
//! (a fixed pause) so the pipeline's time is dominated by a known stage and
//! scheduling noise cannot swamp the comparison; nothing asserts a speed.

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchboard_ai::{AiError, Classifier, ClassifyRequest};
use switchboard_domain::Classification;
use switchboard_tests::{API_KEY, Options, TestApp, inquiry_body};

/// The pause the slow classifier adds.
const CLASSIFY_PAUSE: Duration = Duration::from_millis(400);
/// Finished inquiries before the estimate is compared.
const WARM_UP: usize = 4;
/// How far off the estimate may be, either way.
const FACTOR: f64 = 4.0;

struct Slow(Arc<dyn Classifier>);

#[async_trait]
impl Classifier for Slow {
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError> {
        tokio::time::sleep(CLASSIFY_PAUSE).await;
        self.0.classify(request).await
    }
}

/// Milliseconds from `status.received` to the terminal status event.
fn completion_ms(inquiry: &Value) -> f64 {
    let events = inquiry["timeline"].as_array().expect("timeline");
    let at = |kind: &str| -> jiff::Timestamp {
        events.iter().find(|e| e["kind"] == kind).and_then(|e| e["at"].as_str()).and_then(|t| t.parse().ok()).expect(kind)
    };
    let end = format!("status.{}", inquiry["status"].as_str().expect("status"));
    at(&end).duration_since(at("status.received")).as_secs_f64() * 1000.0
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.http.get(app.url(&format!("/api/inquiries/{id}/status"))).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_estimate_for_a_fresh_inquiry_is_within_a_factor_of_its_real_completion_time_after_warm_up() {
    let app = TestApp::spawn_with_ports(Options::default(), |ports| {
        ports.ai.classifier = Arc::new(Slow(ports.ai.classifier.clone()));
    })
    .await;
    let question = inquiry_body("What time is check-in?", "+12135550149");

    // Before anything finished, the estimate rests on defaults.
    let first = app.submit_ok(&question).await;
    assert_eq!(status(&app, &first).await["estimate_samples"], 0);
    app.wait_terminal(&first).await;
    for _ in 1..WARM_UP {
        let id = app.submit_ok(&question).await;
        app.wait_terminal(&id).await;
    }

    let fresh = app.submit_ok(&question).await;
    let view = status(&app, &fresh).await;
    let estimate_ms = view["estimated_ms_remaining"].as_f64().expect("an estimate");
    assert!(view["estimate_samples"].as_u64().unwrap() >= WARM_UP as u64, "learned from the warm-up: {view}");
    let real_ms = completion_ms(&app.wait_terminal(&fresh).await);
    assert!(
        estimate_ms >= real_ms / FACTOR && estimate_ms <= real_ms * FACTOR,
        "estimated {estimate_ms} ms, took {real_ms} ms (factor {FACTOR} allowed)"
    );
    // It learned the slow stage: the estimate is no default and no constant.
    assert!(estimate_ms >= CLASSIFY_PAUSE.as_millis() as f64 / FACTOR, "{estimate_ms}");
    assert_eq!(status(&app, &fresh).await["estimated_ms_remaining"], 0, "nothing left once answered");
    app.stop().await;
}
