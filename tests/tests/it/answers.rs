#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use serde_json::json;
use switchboard_tests::{TestApp, inquiry_body};

fn has_hangul(s: &str) -> bool {
    s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

#[tokio::test]
async fn a_korean_general_question_is_answered_from_the_faq_in_korean() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("조식은 몇 시부터 먹을 수 있나요?", "010-2222-3333")).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered");
    let answer = inquiry["answer"].as_str().unwrap();
    assert!(answer.contains("오전 7시부터 10시까지"), "answer not from the breakfast FAQ: {answer}");
    let sent = app.notified(&id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].channel.as_str(), sent[0].to.as_str()), ("sms", "+821022223333"));
    assert!(has_hangul(&sent[0].body));
    app.stop().await;
}

#[tokio::test]
async fn an_english_general_question_is_answered_in_english() {
    let app = TestApp::spawn().await;
    let id = app
        .submit_ok(&json!({ "content": "Is there parking at the hotel, and what does it cost?", "customer_email": "guest@example.com" }))
        .await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered");
    let answer = inquiry["answer"].as_str().unwrap();
    assert!(answer.contains("car park"), "answer not from the parking FAQ: {answer}");
    assert!(!has_hangul(answer));
    let sent = app.notified(&id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].channel.as_str(), sent[0].to.as_str()), ("email", "guest@example.com"));
    app.stop().await;
}

/// A 2×3 PNG: signature, IHDR, IDAT, IEND.
fn tiny_png() -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}

#[tokio::test]
async fn attachments_are_analyzed_before_classification() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let photo = base64::engine::general_purpose::STANDARD.encode(tiny_png());
    let body = json!({
        "content": "Where does the hanok village tour start? Photo of my ticket attached.",
        "customer_phone": "+12135550149",
        "attachments": [{ "filename": "ticket.png", "content_base64": photo }],
    });
    let id = app.submit_ok(&body).await;
    let inquiry = app.wait_terminal(&id).await;
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    let analyzing = kinds.iter().position(|k| *k == "status.analyzing").expect("analyzing step");
    let classified = kinds.iter().position(|k| *k == "status.classified").expect("classified step");
    assert!(analyzing < classified);
    let inquiry_id = switchboard_domain::InquiryId::parse(&id).unwrap();
    let records = switchboard_store::InquiryStore::attachments(app.ports.store.as_ref(), inquiry_id).await.unwrap();
    let analysis = records[0].analysis.as_ref().expect("analysis stored");
    assert_eq!((analysis["width"].as_u64(), analysis["height"].as_u64()), (Some(2), Some(3)));
    app.stop().await;
}
