//! Seed 002's outcomes (accept, reject, alternative, timeout) each reach
//! the customer exactly once, in the customer's language.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::partner::{CUSTOMER_PHONE, change_request, partner_sms, sms_to};
use serde_json::{Value, json};
use switchboard_tests::{Options, TestApp, token_in};

/// The demo's English-speaking customer and partner (reservation TR-55501234).
const EN_CUSTOMER: &str = "+12135550149";
const EN_PARTNER: &str = "+821055501234";

fn english_change_request() -> Value {
    json!({
        "content": "Hello, I would like to change my tour booking TR-55501234 to December 28 please.",
        "customer_phone": EN_CUSTOMER,
    })
}

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

struct Case {
    name: &'static str,
    korean: bool,
    answer: Value,
    /// What the customer's message must say.
    expected: &'static [&'static str],
    outcome: &'static str,
}

/// Submits the case's inquiry and returns (inquiry id, partner token).
async fn ask_partner(app: &TestApp, korean: bool) -> (String, String) {
    let (body, partner) = if korean { (change_request(), "+821098765432") } else { (english_change_request(), EN_PARTNER) };
    let id = app.submit_ok(&body).await;
    let sms = sms_to(app, &id, partner).await;
    (id, token_in(&sms))
}

/// The one message the customer got; fails if there were more.
async fn customer_message(app: &TestApp, id: &str, korean: bool) -> String {
    let customer = if korean { CUSTOMER_PHONE } else { EN_CUSTOMER };
    let to_customer: Vec<_> = app.notified(id).await.into_iter().filter(|m| m.to == customer).collect();
    assert_eq!(to_customer.len(), 1, "the customer is told exactly once: {to_customer:?}");
    to_customer[0].body.clone()
}

#[tokio::test]
async fn every_partner_answer_reaches_the_customer_once_in_the_customers_language() {
    let cases = [
        Case {
            name: "ko accept",
            korean: true,
            answer: json!({ "answer": "accept" }),
            expected: &["HT-20481123", "확정"],
            outcome: "accepted",
        },
        Case {
            name: "en accept",
            korean: false,
            answer: json!({ "answer": "accept" }),
            expected: &["TR-55501234", "confirmed"],
            outcome: "accepted",
        },
        Case {
            name: "ko reject",
            korean: true,
            answer: json!({ "answer": "reject", "reason": "해당 날짜 만실" }),
            expected: &["HT-20481123", "어렵다", "해당 날짜 만실"],
            outcome: "rejected",
        },
        Case {
            name: "en reject",
            korean: false,
            answer: json!({ "answer": "reject", "reason": "fully booked that day" }),
            expected: &["TR-55501234", "unable to accommodate", "fully booked that day"],
            outcome: "rejected",
        },
        Case {
            name: "ko alternative",
            korean: true,
            answer: json!({ "answer": "alternative", "proposed_time": "2026-12-26T15:00" }),
            expected: &["HT-20481123", "제안 일정: 2026-12-26 15:00"],
            outcome: "alternative",
        },
        Case {
            name: "en alternative",
            korean: false,
            answer: json!({ "answer": "alternative", "proposed_time": "2026-12-28T09:30" }),
            expected: &["TR-55501234", "proposed an alternative", "2026-12-28 09:30"],
            outcome: "alternative",
        },
    ];
    let app = TestApp::spawn().await;
    let mut asked = Vec::new();
    for case in &cases {
        asked.push(ask_partner(&app, case.korean).await);
    }
    for (case, (_, token)) in cases.iter().zip(&asked) {
        let mut body = case.answer.clone();
        body["token"] = json!(token);
        let r = app.http.post(app.url("/respond")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}: {}", case.name, r.text().await.unwrap_or_default());
    }
    for (case, (id, _)) in cases.iter().zip(&asked) {
        let inquiry = app.wait_terminal(id).await;
        assert_eq!(inquiry["status"], "answered", "{}", case.name);
        assert_eq!(inquiry["partner"]["outcome"]["outcome"], case.outcome, "{}", case.name);
        let message = customer_message(&app, id, case.korean).await;
        for expected in case.expected {
            assert!(message.contains(expected), "{}: the customer's message lacks {expected:?}: {message}", case.name);
        }
        assert_eq!(has_hangul(&message), case.korean, "{}: wrong language: {message}", case.name);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_timeout_reaches_the_customer_once_in_the_customers_language() {
    let app = TestApp::spawn_with(Options { partner_deadline_secs: 1, ..Options::default() }).await;
    let (ko, _) = ask_partner(&app, true).await;
    let (en, _) = ask_partner(&app, false).await;
    for (id, korean, expected) in [(ko, true, "정해진 시간 안에"), (en, false, "not yet heard back")] {
        let inquiry = app.wait_terminal(&id).await;
        assert_eq!(inquiry["partner"]["outcome"]["outcome"], "timed_out");
        assert_eq!(inquiry["status"], "escalated", "a person follows up a timeout");
        let message = customer_message(&app, &id, korean).await;
        assert!(message.contains(expected), "{message}");
        assert_eq!(has_hangul(&message), korean, "wrong language: {message}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_partner_answering_twice_changes_nothing_and_the_customer_hears_once() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&change_request()).await;
    let token = token_in(&partner_sms(&app, &id).await);
    let first = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "reject" })).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = app
        .http
        .post(app.url("/respond"))
        .json(&json!({ "token": token, "answer": "alternative", "proposed_time": "2026-12-30T10:00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 409);
    let problem: Value = second.json().await.unwrap();
    assert_eq!(problem["detail"], "this request was already answered (rejected)");
    app.wait_terminal(&id).await;
    let message = customer_message(&app, &id, true).await;
    assert!(!message.contains("2026-12-30"), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn the_partners_answer_appears_in_the_conversation_once_as_a_system_message_before_the_answer() {
    let app = TestApp::spawn().await;
    let (id, token) = ask_partner(&app, false).await;
    let accepted = app.http.post(app.url("/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(app.wait_terminal(&id).await["status"], "answered");
    app.wait_for_timeline(&id, "message.ai").await;
    let said = app.conversation(&id).await;
    let notices: Vec<_> = said.iter().filter(|(author, _)| author == "system").collect();
    assert_eq!(notices, [&("system".to_owned(), "The partner accepted the request.".to_owned())], "{said:?}");
    let authors: Vec<&str> = said.iter().map(|(author, _)| author.as_str()).collect();
    assert_eq!(authors, ["customer", "system", "ai"], "the outcome comes before the answer it led to");
    app.stop().await;
}

#[tokio::test]
async fn a_timeout_appears_in_the_conversation_once_as_a_system_message() {
    let app = TestApp::spawn_with(Options { partner_deadline_secs: 1, ..Options::default() }).await;
    let (id, _) = ask_partner(&app, true).await;
    assert_eq!(app.wait_terminal(&id).await["partner"]["outcome"]["outcome"], "timed_out");
    app.wait_for_timeline(&id, "notification.customer.").await;
    let said = app.conversation(&id).await;
    let timed_out: Vec<_> = said.iter().filter(|(_, text)| text.contains("기한 내에 답하지 않았습니다")).collect();
    assert_eq!(timed_out.len(), 1, "{said:?}");
    assert_eq!(timed_out[0].0, "system");
    app.stop().await;
}
