//! A submission whose caller goes away (the request timeout here; a dropped
//! connection alike) still finishes: the inquiry it stored is published
//! and answered, never left accepted but unprocessed.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::Value;
use switchboard_tests::outage::Outage;
use switchboard_tests::{API_KEY, Options, PATIENCE, inquiry_body};

#[tokio::test]
async fn a_submission_that_outlasts_the_request_timeout_is_still_published_and_answered() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |config| config.request_timeout_secs = 1).await;

    // The inquiry is stored, then its event cannot be published until the topic heals.
    outage.messaging.hang();
    let response = tokio::time::timeout(PATIENCE, app.submit(&inquiry_body("What time is check-in?", "+12135550149")))
        .await
        .expect("the request timeout answers");
    assert_eq!(response.status(), 503);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/timeout", "{problem}");

    outage.messaging.heal();
    let listed: Value = app.http.get(app.url("/api/inquiries")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
    let inquiries = listed["inquiries"].as_array().unwrap();
    assert_eq!(inquiries.len(), 1, "{listed}");
    let done = app.wait_terminal(inquiries[0]["inquiry_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "answered", "{done}");
    app.stop().await;
}
