//! What an inquiry costs in text messages: every SMS each path sends (the
//! FAQ answer, an escalation, a partner confirmation), in Korean and in
//! English, counted in billed segments with the links as long as the
//! longest budgeted public base URL makes them. Prints the table
//! `deploy/README.md` quotes ("SMS segments per inquiry") and holds each
//! path to its budget.

use crate::partner::{PARTNER_PHONE, change_request, partner_sms};
use serde_json::json;
use switchboard_domain::fixtures::LONG_PUBLIC_BASE_URL;
use switchboard_domain::sms_segments;
use switchboard_tests::{TestApp, inquiry_body, token_in};

/// Segments of every SMS sent about `id`, to the partner and to everyone else (the customer).
async fn segments(app: &TestApp, id: &str) -> (usize, usize) {
    let (mut partner, mut customer) = (0, 0);
    for sms in app.outbox(id).await.into_iter().filter(|m| m.channel == "sms") {
        // As texted from a deployment with the longest budgeted base URL.
        let texted = sms.body.replace(&app.base_url, LONG_PUBLIC_BASE_URL);
        let count = sms_segments(&texted);
        if sms.to == PARTNER_PHONE { partner += count } else { customer += count }
    }
    (partner, customer)
}

#[tokio::test]
async fn each_path_texts_within_its_segment_budget_in_korean_and_english() {
    let app = TestApp::spawn().await;
    let english_change = json!({
        "content": "I'd like to move my booking HT-20481123 to December 25, please.",
        "customer_phone": "010-1234-5678",
    });
    // (path, language, submission, partner budget, customer budget)
    let cases = [
        ("FAQ answer", "ko", inquiry_body("조식은 몇 시부터 먹을 수 있나요?", "010-2222-3333"), 0, 6),
        ("FAQ answer", "en", inquiry_body("What time is breakfast served?", "010-2222-3334"), 0, 3),
        ("escalation", "ko", inquiry_body("직원이 너무 불친절해서 정말 화가 납니다. 당장 전화 주세요!", "010-2222-3335"), 0, 3),
        ("escalation", "en", inquiry_body("The staff were rude and I am furious, call me now!", "010-2222-3336"), 0, 2),
        ("partner confirmation", "ko", change_request(), 2, 6),
        ("partner confirmation", "en", english_change, 2, 4),
    ];
    let mut table = vec!["| path | customer's language | partner SMS | customer SMS | total |".to_owned(), "|---|---|---|---|---|".to_owned()];
    for (path, language, body, partner_budget, customer_budget) in cases {
        let id = app.submit_ok(&body).await;
        if partner_budget > 0 {
            let link_id = token_in(&partner_sms(&app, &id).await);
            let answered = app.http.post(app.url("/respond")).json(&json!({ "token": link_id, "answer": "accept" })).send().await.unwrap();
            assert_eq!(answered.status(), 200);
        }
        let inquiry = app.wait_terminal(&id).await;
        app.notified(&id).await;
        let (partner, customer) = segments(&app, &id).await;
        table.push(format!("| {path} | {language} | {partner} | {customer} | {} |", partner + customer));
        assert!(partner <= partner_budget, "{path} ({language}): {partner} partner segments, budget {partner_budget}");
        assert!(customer <= customer_budget, "{path} ({language}): {customer} customer segments, budget {customer_budget}: {inquiry}");
        assert!(customer >= 1, "{path} ({language}): the customer was texted");
    }
    println!("SMS segments per inquiry (links on a {}-character base URL):\n{}", LONG_PUBLIC_BASE_URL.len(), table.join("\n"));
    app.stop().await;
}
