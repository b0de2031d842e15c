//! Text is normalised where it enters: the same question in decomposed
//! Hangul (as some phones send it) or in full-width letters is stored
//! composed and answered like its plain form, through REST and gRPC.

use serde_json::json;
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{inquiries, keyed};
use switchboard_tests::{API_KEY, TestApp, inquiry_body};

const KO_QUESTION: &str = "조식은 몇 시부터 먹을 수 있나요?";
const EN_QUESTION: &str = "Is there parking at the hotel, and what does it cost?";

/// Hangul syllables split into their conjoining jamo (Unicode NFD), by the
/// arithmetic of the Unicode standard rather than the library under test.
fn decomposed(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let s = c as u32;
        if !(0xAC00..=0xD7A3).contains(&s) {
            out.push(c);
            continue;
        }
        let index = s - 0xAC00;
        let (lead, vowel, tail) = (index / (21 * 28), (index % (21 * 28)) / 28, index % 28);
        out.extend(char::from_u32(0x1100 + lead));
        out.extend(char::from_u32(0x1161 + vowel));
        if tail > 0 {
            out.extend(char::from_u32(0x11A7 + tail));
        }
    }
    out
}

/// ASCII letters, digits and punctuation as their full-width forms (U+FF01–U+FF5E).
fn full_width(text: &str) -> String {
    text.chars().map(|c| if ('!'..='~').contains(&c) { char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c) } else { c }).collect()
}

/// Submits a question and returns the inquiry once it is answered.
async fn answered(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    let id = app.submit_ok(&body).await;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["status"], "answered", "{inquiry}");
    inquiry
}

#[tokio::test]
async fn a_question_in_decomposed_hangul_is_stored_composed_and_answered_like_its_plain_form() {
    let app = TestApp::spawn().await;
    let nfd = decomposed(KO_QUESTION);
    assert_ne!(nfd, KO_QUESTION);
    let plain = answered(&app, inquiry_body(KO_QUESTION, "010-2222-3333")).await;
    let sent_nfd = answered(&app, inquiry_body(&format!("{nfd}\u{200B}"), "010-2222-3333")).await;

    assert_eq!(sent_nfd["content"], KO_QUESTION, "stored as NFC, without the zero-width space");
    assert_eq!(sent_nfd["answer"], plain["answer"]);
    app.stop().await;
}

#[tokio::test]
async fn a_question_in_full_width_letters_is_answered_like_its_plain_form() {
    let app = TestApp::spawn().await;
    let wide = full_width(EN_QUESTION);
    let plain = answered(&app, json!({ "content": EN_QUESTION, "customer_email": "guest@example.com" })).await;
    let sent_wide = answered(&app, json!({ "content": wide, "customer_email": "guest@example.com" })).await;

    assert_eq!(sent_wide["content"], wide, "stored as typed: full-width letters are only folded to be matched");
    assert_eq!(sent_wide["answer"], plain["answer"]);
    app.stop().await;
}

#[tokio::test]
async fn a_grpc_submission_is_normalised_like_a_rest_one() {
    let app = TestApp::spawn().await;
    let mut client = inquiries(&app).await;
    let request = pb::SubmitInquiryRequest {
        title: decomposed("조식 문의"),
        content: decomposed(KO_QUESTION),
        customer_phone: "010-2222-3333".into(),
        ..Default::default()
    };
    let id = client.submit_inquiry(keyed(API_KEY, request)).await.expect("submitted").into_inner().inquiry_id;
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!((inquiry["title"].as_str(), inquiry["content"].as_str()), (Some("조식 문의"), Some(KO_QUESTION)));
    app.stop().await;
}
