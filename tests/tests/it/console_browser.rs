//! The operators' console in a real browser (Debian's Chromium over
//! WebDriver, as the partner page's test): an operator signs in, sees an
//! escalated inquiry appear in the queue without reloading (the live
//! update), opens it, answers with a suggested reply and resolves it, and
//! sees it leave the queue; a form whose CSRF token was removed is refused.
//! Screenshots of the queue and the inquiry page go to
//! `target/screenshots/console-*.png` (copies in `tests/screenshots/`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::partner_browser::Browser;
use fantoccini::Locator;
use serde_json::json;
use switchboard_tests::{OPERATOR_KEY, PATIENCE, TestApp, inquiry_body};

const REFUND: &str = "I cancelled my booking two weeks before arrival and I want my full refund now. This is unacceptable.";

#[tokio::test]
async fn an_operator_signs_in_sees_an_escalation_arrive_live_and_resolves_it_with_a_suggestion() {
    let app = TestApp::spawn().await;
    let browser = Browser::start().await;
    let client = browser.client();
    client.set_window_size(1280, 1000).await.expect("a desktop window");

    // The console sends an unknown browser to sign in.
    let page = browser.open(&app.url("/console")).await;
    assert!(page.contains("Operator key"), "{page}");
    client.find(Locator::Id("key")).await.expect("the key field").send_keys(OPERATOR_KEY).await.expect("typed");
    client.find(Locator::Id("sign-in")).await.expect("the button").click().await.expect("clicked");
    client.wait().at_most(PATIENCE).for_element(Locator::Id("queue-rows")).await.expect("the queue");
    assert!(browser.text().await.contains("Nothing waits for a person"));

    // An inquiry is escalated while the page is open: it appears without a reload.
    let id = app.submit_ok(&inquiry_body(REFUND, "+12135550149")).await;
    assert_eq!(app.wait_terminal(&id).await["status"], "escalated");
    let row = format!("tr[data-inquiry=\"{id}\"]");
    client.wait().at_most(PATIENCE).for_element(Locator::Css(&row)).await.expect("the live update shows the escalation");
    browser.screenshot("console-queue.png").await;

    // Open it: the conversation, the classification, the suggested replies.
    client.find(Locator::Css(&format!("{row} a"))).await.expect("its link").click().await.expect("clicked");
    client.wait().at_most(PATIENCE).for_element(Locator::Id("resolve-form")).await.expect("the inquiry page");
    let page = browser.text().await;
    assert!(page.contains(REFUND) && page.contains("Suggested replies"), "{page}");
    browser.screenshot("console-inquiry.png").await;

    // Choosing the direct draft puts it in the answer box (the script), then send and resolve.
    client.find(Locator::Id("suggestion-direct")).await.expect("the direct draft").click().await.expect("chosen");
    let draft = client.find(Locator::Id("suggestion-text-direct")).await.expect("its text").prop("value").await.expect("value").unwrap();
    let answer = client.find(Locator::Id("answer")).await.expect("the answer box").prop("value").await.expect("value").unwrap();
    assert_eq!(answer, draft, "the chosen suggestion fills the answer box");
    client.find(Locator::Id("resolve")).await.expect("the button").click().await.expect("clicked");
    client.wait().at_most(PATIENCE).for_element(Locator::Id("queue-rows")).await.expect("back on the queue");
    assert!(client.find(Locator::Css(&row)).await.is_err(), "it left the queue");
    let resolved = app.inquiry(&id).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["human_answer"], draft.as_str());

    // A form stripped of its CSRF token (as a forged one would be) is refused, and nothing changes.
    client
        .execute(
            "const f = document.querySelector('header form'); f.querySelector('input[name=csrf]').remove(); f.submit();",
            vec![json!(null)],
        )
        .await
        .expect("script ran");
    client.wait().at_most(PATIENCE).for_element(Locator::Css("p[role=alert]")).await.expect("the refusal page");
    assert!(browser.text().await.contains("has expired or did not come from this console"));
    let again = browser.open(&app.url("/console")).await;
    assert!(again.contains("Signed in as"), "the refused sign-out signed no one out: {again}");

    browser.close().await;
    app.stop().await;
}
