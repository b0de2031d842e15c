//! Customer satisfaction (issue 17): once an inquiry is answered or
//! resolved, the customer page asks "did this help?"; the rating (👍/👎 and
//! an optional comment) is kept once per submit, the latest one shows on the
//! inquiry over REST and gRPC, and it is counted by intent and by who
//! answered.

use reqwest::redirect::Policy;
use serde_json::{Value, json};
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{inquiries, keyed};
use switchboard_tests::{API_KEY, OPERATOR_KEY, TestApp, inquiry_body};

const CUSTOMER: &str = "+12135550149";
const QUESTION: &str = "What time is check-in?";
const ANGRY: &str =
    "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!";

/// The token of the customer link in the first notification `to` got.
async fn token_sent_to(app: &TestApp, id: &str, to: &str) -> String {
    let sent = app.notified(id).await;
    let told = sent.iter().find(|m| m.to == to).unwrap_or_else(|| panic!("nothing sent to {to}: {sent:?}"));
    let link = told.body.split_whitespace().rev().find(|w| w.contains("/c/")).expect("a customer link");
    link.rsplit_once("/c/").unwrap().1.to_owned()
}

async fn page(app: &TestApp, token: &str) -> (u16, String) {
    let response = app.http.get(app.url(&format!("/c/{token}"))).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn form_key(html: &str) -> String {
    let marker = r#"name="form_key" value=""#;
    let start = html.find(marker).expect("a form") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn rate(app: &TestApp, token: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    client.post(app.url(&format!("/c/{token}/rating"))).form(fields).send().await.unwrap()
}

fn ratings_in(timeline: &Value) -> usize {
    timeline.as_array().unwrap().iter().filter(|e| e["kind"] == "satisfaction.rated").count()
}

#[tokio::test]
async fn an_answered_customer_rates_the_answer_once_per_submit_and_the_latest_rating_shows_on_the_inquiry() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    let token = token_sent_to(&app, &id, CUSTOMER).await;
    let (status, html) = page(&app, &token).await;
    assert_eq!(status, 200);
    assert!(html.contains("Did this help?") && html.contains(r#"value="helpful""#), "{html}");
    assert!(!html.contains("aria-pressed"), "nothing rated yet");

    // A double click keeps one rating.
    let key = form_key(&html);
    let helpful = [("rating", "helpful"), ("comment", "  Quick and clear, thanks!  "), ("form_key", key.as_str())];
    for _ in 0..2 {
        let response = rate(&app, &token, &helpful).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], format!("/c/{token}"));
    }
    let (_, html) = page(&app, &token).await;
    assert!(html.contains("Thank you for your feedback."), "{html}");
    assert!(html.contains(r#"value="helpful" aria-pressed="true""#), "the chosen button is marked: {html}");
    let inquiry = app.inquiry(&id).await;
    assert_eq!(ratings_in(&inquiry["timeline"]), 1, "{}", inquiry["timeline"]);
    let satisfaction = &inquiry["satisfaction"];
    assert_eq!(satisfaction["rating"], "helpful");
    assert_eq!(satisfaction["comment"], "Quick and clear, thanks!");
    assert_eq!(satisfaction["answered_by"], "ai");
    assert_eq!(satisfaction["intent"], "general_question");

    // A changed mind is the latest rating, over REST and gRPC.
    let response = rate(&app, &token, &[("rating", "not_helpful"), ("form_key", key.as_str())]).await;
    assert_eq!(response.status(), 303);
    let inquiry = app.inquiry(&id).await;
    assert_eq!((inquiry["satisfaction"]["rating"].as_str(), inquiry["satisfaction"]["comment"].as_str()), (Some("not_helpful"), None));
    let mut client = inquiries(&app).await;
    let shown = client.get_inquiry(keyed(API_KEY, pb::GetInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    let satisfaction = shown.satisfaction.expect("the rating over gRPC");
    assert_eq!((satisfaction.rating.as_str(), satisfaction.answered_by.as_str()), ("not_helpful", "ai"));

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for rating in ["helpful", "not_helpful"] {
        let series = format!(r#"switchboard_satisfaction_ratings_total{{rating="{rating}",intent="general_question",answered_by="ai"}}"#);
        assert!(metrics.contains(&series), "/metrics lacks {series}: {metrics}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_rating_of_an_operators_answer_counts_as_human() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body(ANGRY, CUSTOMER)).await;
    app.wait_for(&id, |s| s == "escalated").await;
    let token = token_sent_to(&app, &id, CUSTOMER).await;

    // Escalated: nothing to rate yet, so the page does not ask and a rating is refused with why.
    let (_, html) = page(&app, &token).await;
    assert!(!html.contains("Did this help?"), "{html}");
    let key = form_key(&html);
    let early = rate(&app, &token, &[("rating", "helpful"), ("form_key", key.as_str())]).await;
    assert_eq!(early.status(), 409);
    assert!(early.text().await.unwrap().contains("You can rate the answer once we have answered."));

    let resolve = json!({ "human_answer": "We are sorry: the room is cleaned again and tonight is on us." });
    let resolved = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/resolve")))
        .header("x-api-key", OPERATOR_KEY)
        .json(&resolve)
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), 200);
    let response = rate(&app, &token, &[("rating", "helpful"), ("form_key", key.as_str())]).await;
    assert_eq!(response.status(), 303);
    let inquiry = app.inquiry(&id).await;
    assert_eq!(inquiry["satisfaction"]["answered_by"], "human");
    assert_eq!(inquiry["satisfaction"]["intent"], inquiry["classification"]["intent"]);
    app.stop().await;
}

#[tokio::test]
async fn a_rating_without_a_choice_or_from_another_page_is_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    let token = token_sent_to(&app, &id, CUSTOMER).await;
    let (_, html) = page(&app, &token).await;
    let key = form_key(&html);

    let unchosen = rate(&app, &token, &[("comment", "meh"), ("form_key", key.as_str())]).await;
    assert_eq!(unchosen.status(), 400);
    assert!(unchosen.text().await.unwrap().contains("Please choose whether it helped (a comment is at most 1000 characters)."));
    let made_up = rate(&app, &token, &[("rating", "great"), ("form_key", key.as_str())]).await;
    assert_eq!(made_up.status(), 400);
    let foreign = rate(&app, &token, &[("rating", "helpful"), ("form_key", "not-this-pages-key")]).await;
    assert_eq!(foreign.status(), 403);
    let inquiry = app.inquiry(&id).await;
    assert_eq!(ratings_in(&inquiry["timeline"]), 0);
    assert!(inquiry.get("satisfaction").is_none(), "{inquiry}");
    app.stop().await;
}
