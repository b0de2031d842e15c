//! Abuse of partner links: forged, tampered, out-of-scope, expired,
//! reused, crossed and random link ids and signed tokens are refused
//! without side effects, and a flood of requests is rate limited.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::partner::{change_request, partner_sms};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use switchboard_domain::token::{CONFIRM_SCOPE, TokenClaims, token_hash};
use switchboard_tests::{Options, TestApp, token_in};

/// Enough for every request these tests make: only the flood test meets the limit.
fn roomy() -> Options {
    Options { partner_rate_per_minute: 10_000, ..Options::default() }
}

/// The claims of the link texted as `link_id`, read from its stored record.
async fn claims_of(app: &TestApp, link_id: &str) -> TokenClaims {
    let record = app.ports.store.get_token(&token_hash(link_id)).await.unwrap().expect("the link's record");
    TokenClaims {
        inquiry_id: record.inquiry_id.to_string(),
        partner_id: record.partner_id,
        expires_at: record.expires_at.as_second(),
        scope: CONFIRM_SCOPE.into(),
    }
}

fn with_payload(token: &str, claims: &TokenClaims) -> String {
    let (_, signature) = token.split_once('.').expect("payload.signature");
    format!("{}.{signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("json")))
}

async fn respond(app: &TestApp, token: &str, answer: &str) -> reqwest::Response {
    app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": answer })).send().await.expect("sent")
}

/// 401 problem+json with `detail`, for both JSON routes.
async fn assert_refused(app: &TestApp, token: &str, detail: &str) {
    let answered = respond(app, token, "accept").await;
    assert_eq!(answered.status(), 401, "POST /respond with {token}");
    assert_eq!(answered.headers()["content-type"], "application/problem+json");
    let problem: Value = answered.json().await.expect("problem");
    assert_eq!(problem["detail"], detail, "{problem}");
    let opened = app.http.get(app.url(&format!("/confirm/{token}"))).send().await.expect("sent");
    assert_eq!(opened.status(), 401, "GET /confirm with {token}");
}

/// 404 "the link is not valid" for a link id no link was issued under, on both JSON routes.
async fn assert_unknown(app: &TestApp, link_id: &str) {
    let answered = respond(app, link_id, "accept").await;
    assert_eq!(answered.status(), 404, "POST /respond with {link_id}");
    let problem: Value = answered.json().await.expect("problem");
    assert_eq!(problem["detail"], "the link is not valid", "{problem}");
    let opened = app.http.get(app.url(&format!("/confirm/{link_id}"))).send().await.expect("sent");
    assert_eq!(opened.status(), 404, "GET /confirm with {link_id}");
}

async fn assert_still_waiting(app: &TestApp, id: &str) {
    let inquiry = app.inquiry(id).await;
    assert_eq!(inquiry["status"], "awaiting_partner", "{inquiry}");
    assert!(inquiry["partner"]["outcome"].is_null(), "{inquiry}");
    let kinds: Vec<&str> = inquiry["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(!kinds.contains(&"partner.opened") && !kinds.contains(&"partner.responded"), "{kinds:?}");
}

#[tokio::test]
async fn tampered_forged_out_of_scope_and_expired_tokens_are_refused_and_change_nothing() {
    let app = TestApp::spawn_with(roomy()).await;
    let id = app.submit_ok(&change_request()).await;
    let link_id = token_in(&partner_sms(&app, &id).await);
    let claims = claims_of(&app, &link_id).await;
    assert_eq!(claims.inquiry_id.as_str(), id.as_str());
    let keys = app.token_keys();

    // The link id with one character changed, derived under another key, or
    // derived under the real key for claims never issued: unknown.
    let mut changed = link_id.clone().into_bytes();
    changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
    let stranger = switchboard_domain::token::TokenKeys::new(vec![vec![7; 32]]).unwrap();
    for forged in [
        String::from_utf8(changed).unwrap(),
        stranger.link_id(&claims),
        keys.link_id(&TokenClaims { expires_at: claims.expires_at + 1, ..claims.clone() }),
    ] {
        assert_unknown(&app, &forged).await;
    }

    // Signed tokens (what links carried before link ids), built over the
    // link's own claims: the genuine signature of a token never issued
    // (its record is the link id's), and every way of tampering with it.
    let token = keys.sign(&claims);
    assert_refused(&app, &token, "the link is not valid").await;
    // Tampered payload: a later expiry under the original signature.
    let extended = TokenClaims { expires_at: claims.expires_at + 86_400, ..claims.clone() };
    assert_refused(&app, &with_payload(&token, &extended), "the link is not valid").await;
    // Tampered signature: one bit flipped.
    let (payload, signature) = token.split_once('.').unwrap();
    let mut raw = URL_SAFE_NO_PAD.decode(signature).unwrap();
    raw[7] ^= 0x80;
    assert_refused(&app, &format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&raw)), "the link is not valid").await;
    // Signed with someone else's key.
    assert_refused(&app, &stranger.sign(&claims), "the link is not valid").await;
    // Genuinely signed, but for another scope.
    assert_refused(&app, &keys.sign(&TokenClaims { scope: "admin".into(), ..claims.clone() }), "the link is not valid").await;
    // Genuinely signed and past its expiry.
    let past = jiff::Timestamp::now().as_second() - 1;
    assert_refused(&app, &keys.sign(&TokenClaims { expires_at: past, ..claims.clone() }), "the link has expired").await;
    // Genuinely signed but never issued (a leaked key cannot mint usable links
    // for an inquiry without the stored record).
    assert_refused(&app, &keys.sign(&TokenClaims { expires_at: claims.expires_at + 1, ..claims.clone() }), "the link is not valid").await;

    assert_still_waiting(&app, &id).await;
    // The genuine link still works after all that.
    assert_eq!(respond(&app, &link_id, "accept").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_used_token_is_refused_with_409_and_the_page_says_already_answered() {
    let app = TestApp::spawn_with(roomy()).await;
    let id = app.submit_ok(&change_request()).await;
    let token = token_in(&partner_sms(&app, &id).await);
    let page = app.http.post(app.url(&format!("/r/{token}"))).form(&[("answer", "accept")]).send().await.unwrap();
    assert_eq!(page.status(), 200);

    let again = respond(&app, &token, "reject").await;
    assert_eq!(again.status(), 409);
    assert_eq!(again.headers()["content-type"], "application/problem+json");
    assert_eq!(app.http.get(app.url(&format!("/confirm/{token}"))).send().await.unwrap().status(), 409);
    for page in [
        app.http.get(app.url(&format!("/r/{token}"))).send().await.unwrap(),
        app.http.post(app.url(&format!("/r/{token}"))).form(&[("answer", "reject")]).send().await.unwrap(),
    ] {
        assert_eq!(page.status(), 409);
        let html = page.text().await.unwrap();
        assert!(html.contains("이미 응답한 요청입니다.") && html.contains("This request was already answered."), "{html}");
    }
    let inquiry = app.wait_terminal(&id).await;
    assert_eq!(inquiry["partner"]["outcome"]["outcome"], "accepted", "the first answer stands");
    app.stop().await;
}

#[tokio::test]
async fn a_token_of_one_inquiry_cannot_touch_another() {
    let app = TestApp::spawn_with(roomy()).await;
    let a = app.submit_ok(&change_request()).await;
    let token_a = token_in(&partner_sms(&app, &a).await);
    let b = app.submit_ok(&change_request()).await;
    let token_b = token_in(&partner_sms(&app, &b).await);
    assert_ne!(token_a, token_b, "every inquiry gets its own link");
    let claims_b = claims_of(&app, &token_b).await;

    // A signed token over A's claims carrying B's claims, and genuinely
    // signed tokens or derived link ids naming B but never issued: all
    // refused, B untouched.
    let keys = app.token_keys();
    let signed_a = keys.sign(&claims_of(&app, &token_a).await);
    assert_refused(&app, &with_payload(&signed_a, &claims_b), "the link is not valid").await;
    let minted = keys.sign(&TokenClaims { expires_at: claims_b.expires_at - 5, ..claims_b.clone() });
    assert_refused(&app, &minted, "the link is not valid").await;
    assert_unknown(&app, &keys.link_id(&TokenClaims { expires_at: claims_b.expires_at - 5, ..claims_b.clone() })).await;
    assert_still_waiting(&app, &b).await;

    // A's own token answers A, and only A.
    let answered = respond(&app, &token_a, "reject").await;
    assert_eq!(answered.status(), 200);
    let view: Value = answered.json().await.unwrap();
    assert_eq!(view["inquiry_id"], a.as_str());
    app.wait_terminal(&a).await;
    assert_still_waiting(&app, &b).await;

    // B's link still works and gets its own answer.
    assert_eq!(respond(&app, &token_b, "accept").await.status(), 200);
    let (a, b) = (app.wait_terminal(&a).await, app.wait_terminal(&b).await);
    assert_eq!(a["partner"]["outcome"]["outcome"], "rejected");
    assert_eq!(b["partner"]["outcome"]["outcome"], "accepted");
    app.stop().await;
}

#[tokio::test]
async fn random_bytes_as_a_token_get_401_never_a_server_error() {
    let app = TestApp::spawn_with(roomy()).await;
    let long = "A".repeat(4000);
    let garbage = [
        "x",
        "...",
        "a..b",
        "a.b.c",
        "%00%01%02",
        "%F0%9F%98%80.%FF",
        "eyJ9.eyJ9",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        long.as_str(),
        "e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    for token in garbage {
        for path in [format!("/confirm/{token}"), format!("/r/{token}")] {
            let r = app.http.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 401, "GET {path}");
            let body = r.text().await.unwrap();
            assert!(!body.contains("<script>"), "input is never echoed unescaped: {body}");
        }
        let r = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
        assert_eq!(r.status(), 401, "POST /respond with {token}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_flood_of_requests_to_the_partner_page_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(Options { partner_rate_per_minute: 5, ..Options::default() }).await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for i in 0..30 {
        let r = app.http.get(app.url(&format!("/r/flood-{i}"))).send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 && limited.is_none() {
            limited = Some(r);
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "the first five are served: {statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "the rest are limited: {statuses:?}");
    let limited = limited.expect("a 429");
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert!(limited.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(limited.text().await.unwrap().contains("Too many requests"));

    // The JSON twins share the limit and answer problem+json.
    let r = app.http.post(app.url("/respond")).json(&json!({ "token": "x.y", "answer": "accept" })).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/rate-limited");
    assert_eq!(app.http.get(app.url("/confirm/x.y")).send().await.unwrap().status(), 429);

    // Tenants' API and health are not the partner endpoints' limit.
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.submit(&change_request()).await.status(), 202);
    app.stop().await;
}
