//! The partner's short link: `{base}/r/{link id}` (22 characters) in a
//! text of at most two segments, opening the same single-use record over
//! the page, REST and gRPC; an unknown id is a 404 that says nothing.

use crate::partner::{change_request, partner_sms};
use serde_json::json;
use switchboard_domain::sms_segments;
use switchboard_domain::token::{LINK_ID_CHARS, is_link_id, token_hash};
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{expect_code, partners};
use switchboard_tests::{TestApp, token_in};
use tonic::Code;

/// A link id no link was issued under.
const UNKNOWN_ID: &str = "Zm9yZ2VkLWxpbmstaWQtMQ";

#[tokio::test]
async fn the_korean_partner_text_carries_a_22_character_link_id_in_at_most_two_segments() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    let sms = partner_sms(&app, &id).await;
    let link_id = token_in(&sms);
    assert_eq!(link_id.len(), LINK_ID_CHARS, "{sms}");
    assert!(is_link_id(&link_id), "{sms}");
    assert!(sms.ends_with(&app.url(&format!("/r/{link_id}"))), "{sms}");
    assert!(sms_segments(&sms) <= 2, "{} segments: {sms}", sms_segments(&sms));
    // The store keeps the record under the id's hash, never the id.
    assert!(app.ports.store.get_token(&token_hash(&link_id)).await.unwrap().is_some());
    assert!(app.ports.store.get_token(&link_id).await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_short_link_opens_the_partner_page_and_its_answer_is_recorded_once_then_refused_with_409() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    let link_id = token_in(&partner_sms(&app, &id).await);
    app.wait_for(&id, |s| s == "awaiting_partner").await;

    let page = app.http.get(app.url(&format!("/r/{link_id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("HT-20481123"));
    let confirm = app.http.get(app.url(&format!("/confirm/{link_id}"))).send().await.unwrap();
    assert_eq!(confirm.status(), 200);

    let answered = app.http.post(app.url(&format!("/r/{link_id}"))).form(&[("answer", "accept")]).send().await.unwrap();
    assert_eq!(answered.status(), 200);
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["partner"]["outcome"]["outcome"], "accepted");

    // Used: refused everywhere with the statuses a used signed link had.
    let again = app.http.post(app.url(&format!("/r/{link_id}"))).form(&[("answer", "reject")]).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let again = app.http.post(app.url("/respond")).json(&json!({ "token": link_id, "answer": "reject" })).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(app.http.get(app.url(&format!("/confirm/{link_id}"))).send().await.unwrap().status(), 409);
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "partner.responded").count(), 1, "{kinds:?}");
    assert_eq!(app.inquiry(&id).await["partner"]["outcome"]["outcome"], "accepted", "the refused answer changed nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_short_link_is_answered_once_over_grpc_and_then_already_exists() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    let link_id = token_in(&partner_sms(&app, &id).await);
    app.wait_for(&id, |s| s == "awaiting_partner").await;
    let mut client = partners(&app).await;

    let view = client.get_confirmation(pb::GetConfirmationRequest { token: link_id.clone() }).await.unwrap().into_inner();
    assert_eq!((view.reservation_number.as_str(), view.status.as_str()), ("HT-20481123", "pending"));
    let accept = pb::RespondConfirmationRequest { token: link_id.clone(), answer: pb::PartnerAnswer::Accept as i32, ..Default::default() };
    assert_eq!(client.respond_confirmation(accept.clone()).await.unwrap().into_inner().status, "accepted");
    expect_code(client.respond_confirmation(accept).await, Code::AlreadyExists);
    expect_code(client.get_confirmation(pb::GetConfirmationRequest { token: link_id }).await, Code::AlreadyExists);
    assert_eq!(app.wait_terminal(&id).await["partner"]["outcome"]["outcome"], "accepted");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_short_id_gets_404_without_revealing_anything() {
    let app = TestApp::spawn().await;
    // A real inquiry waiting on its partner: the unknown id must not reach it.
    let id = app.submit_ok(&change_request()).await;
    let link_id = token_in(&partner_sms(&app, &id).await);
    assert_ne!(link_id, UNKNOWN_ID);

    for page in [
        app.http.get(app.url(&format!("/r/{UNKNOWN_ID}"))).send().await.unwrap(),
        app.http.post(app.url(&format!("/r/{UNKNOWN_ID}"))).form(&[("answer", "accept")]).send().await.unwrap(),
    ] {
        assert_eq!(page.status(), 404);
        let html = page.text().await.unwrap();
        assert!(html.contains("유효하지 않은 링크입니다.") && html.contains("This link is not valid."), "{html}");
        assert!(!html.contains(&id) && !html.contains("HT-20481123") && !html.contains(UNKNOWN_ID), "{html}");
    }
    for response in [
        app.http.get(app.url(&format!("/confirm/{UNKNOWN_ID}"))).send().await.unwrap(),
        app.http.post(app.url("/respond")).json(&json!({ "token": UNKNOWN_ID, "answer": "accept" })).send().await.unwrap(),
    ] {
        assert_eq!(response.status(), 404);
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["detail"], "the link is not valid");
        assert!(!problem.to_string().contains(&id), "{problem}");
    }
    let status =
        expect_code(partners(&app).await.get_confirmation(pb::GetConfirmationRequest { token: UNKNOWN_ID.into() }).await, Code::NotFound);
    assert_eq!(status.message(), "the link is not valid");

    // Nothing was opened or answered.
    let inquiry = app.wait_for(&id, |s| s == "awaiting_partner").await;
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(!kinds.contains(&"partner.opened") && !kinds.contains(&"partner.responded"), "{kinds:?}");
    app.stop().await;
}
