//! What an inquiry costs in text messages: every SMS each path sends (the
//! FAQ answer, an escalation, a partner confirmation), in Korean and in
//! English, counted in billed segments with the links as long as the
//! longest budgeted public base URL makes them. Prints the table
//! `deploy/README.md` quotes ("SMS segments per inquiry") and holds each
//! path to its budget.

use crate::partner::{PARTNER_PHONE, change_request, partner_sms};
use serde_json::json;
use switchboard_domain::customer_link::CUSTOMER_SCOPE;
use switchboard_domain::fixtures::LONG_PUBLIC_BASE_URL;
use switchboard_domain::token::{CONFIRM_SCOPE, TokenClaims, token_hash};
use switchboard_domain::{CustomerClaims, InquiryId, TenantId, sms_segments};
use switchboard_tests::{TestApp, inquiry_body, token_in};

/// Segments of every SMS sent about `id`: to the partner and to the
/// customer, as texted now and as they would have been with the signed
/// links texted before link ids and compact customer tokens (the same
/// texts, each link's id swapped for the token the same keys sign over the
/// same claims).
async fn segments(app: &TestApp, id: &str) -> [usize; 4] {
    let keys = app.token_keys();
    let mut counts = [0; 4];
    for sms in app.outbox(id).await.into_iter().filter(|m| m.channel == "sms") {
        // As texted from a deployment with the longest budgeted base URL.
        let texted = sms.body.replace(&app.base_url, LONG_PUBLIC_BASE_URL);
        let before = if sms.to == PARTNER_PHONE {
            let link_id = token_in(&sms.body);
            let record = app.ports.store.get_token(&token_hash(&link_id)).await.unwrap().unwrap();
            let claims = TokenClaims {
                inquiry_id: record.inquiry_id.to_string(),
                partner_id: record.partner_id.clone(),
                expires_at: record.expires_at.as_second(),
                scope: CONFIRM_SCOPE.into(),
            };
            texted.replace(&link_id, &keys.sign(&claims))
        } else {
            let token = texted.rsplit_once("/c/").expect("a customer link").1.to_owned();
            let claims = CustomerClaims {
                scope: CUSTOMER_SCOPE.into(),
                inquiry_id: InquiryId::parse(id).unwrap(),
                tenant_id: TenantId::parse("demo").unwrap(),
                expires_at: jiff::Timestamp::now().as_second() + 30 * 24 * 3600,
            };
            texted.replace(&token, &keys.sign(&claims))
        };
        let at = if sms.to == PARTNER_PHONE { 0 } else { 2 };
        counts[at] += sms_segments(&texted);
        counts[at + 1] += sms_segments(&before);
    }
    counts
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
        ("FAQ answer", "ko", inquiry_body("조식은 몇 시부터 먹을 수 있나요?", "010-2222-3333"), 0, 4),
        ("FAQ answer", "en", inquiry_body("What time is breakfast served?", "010-2222-3334"), 0, 3),
        ("escalation", "ko", inquiry_body("직원이 너무 불친절해서 정말 화가 납니다. 당장 전화 주세요!", "010-2222-3335"), 0, 3),
        ("escalation", "en", inquiry_body("The staff were rude and I am furious, call me now!", "010-2222-3336"), 0, 2),
        ("partner confirmation", "ko", change_request(), 2, 4),
        ("partner confirmation", "en", english_change, 2, 3),
    ];
    let mut table = vec![
        "| path | customer's language | partner SMS | customer SMS | total | with the links as they were |".to_owned(),
        "|---|---|---|---|---|---|".to_owned(),
    ];
    for (path, language, body, partner_budget, customer_budget) in cases {
        let id = app.submit_ok(&body).await;
        if partner_budget > 0 {
            let link_id = token_in(&partner_sms(&app, &id).await);
            let answered = app.http.post(app.url("/respond")).json(&json!({ "token": link_id, "answer": "accept" })).send().await.unwrap();
            assert_eq!(answered.status(), 200);
        }
        let inquiry = app.wait_terminal(&id).await;
        app.notified(&id).await;
        let [partner, partner_before, customer, customer_before] = segments(&app, &id).await;
        table.push(format!(
            "| {path} | {language} | {partner} | {customer} | {} | {partner_before} + {customer_before} = {} |",
            partner + customer,
            partner_before + customer_before
        ));
        assert!(partner <= partner_budget, "{path} ({language}): {partner} partner segments, budget {partner_budget}");
        assert!(customer <= customer_budget, "{path} ({language}): {customer} customer segments, budget {customer_budget}: {inquiry}");
        assert!(customer >= 1, "{path} ({language}): the customer was texted");
    }
    println!("SMS segments per inquiry (links on a {}-character base URL):\n{}", LONG_PUBLIC_BASE_URL.len(), table.join("\n"));
    app.stop().await;
}
