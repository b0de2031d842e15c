//! Reply suggestions (issue 17): for an escalated inquiry, three drafts
//! from careful to direct, each with what it commits the business to and
//! the FAQ entry it relies on, over REST and gRPC; none for an inquiry not
//! waiting for a person, none for another tenant's.

use serde_json::Value;
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{add_tenant, inquiries, keyed};
use switchboard_tests::{API_KEY, OPERATOR_KEY, TestApp, inquiry_body};
use tonic::Code;

const CUSTOMER: &str = "+12135550149";
const REFUND: &str = "I cancelled my booking two weeks before arrival and I want my full refund now. This is unacceptable.";

/// The demo FAQ's entry a refund must stay within.
const REFUND_POLICY: &str = "What is the cancellation and refund policy?";

async fn escalated_refund(app: &TestApp) -> String {
    let id = app.submit_ok(&inquiry_body(REFUND, CUSTOMER)).await;
    let settled = app.wait_terminal(&id).await;
    assert_eq!(settled["status"], "escalated", "a refund goes to a person: {settled}");
    id
}

async fn suggestions(app: &TestApp, id: &str, key: &str) -> (u16, Value) {
    let response = app.http.get(app.url(&format!("/api/inquiries/{id}/suggestions"))).header("x-api-key", key).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_escalated_refund_request_gets_three_drafts_and_the_direct_one_cites_the_refund_policy() {
    let app = TestApp::spawn().await;
    let id = escalated_refund(&app).await;
    let (status, body) = suggestions(&app, &id, OPERATOR_KEY).await;
    assert_eq!(status, 200, "{body}");
    let drafts = body["suggestions"].as_array().unwrap();
    let levels: Vec<&str> = drafts.iter().map(|d| d["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["careful", "balanced", "direct"]);
    assert_eq!(drafts[0]["commits_to"], serde_json::json!([]), "the careful draft promises nothing");
    assert!(!drafts[1]["commits_to"].as_array().unwrap().is_empty() && !drafts[2]["commits_to"].as_array().unwrap().is_empty());
    let cited: Vec<&str> = drafts[2]["grounded_on"].as_array().unwrap().iter().map(|g| g["question"].as_str().unwrap()).collect();
    assert_eq!(cited, [REFUND_POLICY], "{body}");
    let faq: Value = app.http.get(app.url("/api/faq")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
    let policy = faq["entries"].as_array().unwrap().iter().find(|e| e["question"] == REFUND_POLICY).expect("the demo's refund policy");
    assert_eq!(drafts[2]["grounded_on"][0]["faq_entry_id"], policy["id"]);
    assert!(drafts[2]["text"].as_str().unwrap().contains(policy["answer"].as_str().unwrap()), "within the policy's own words: {body}");
    assert!(drafts.iter().all(|d| d["text"].as_str().unwrap().starts_with("We are very sorry")), "an unhappy customer gets an apology");

    // The tenant's own key reads them too; gRPC has the same drafts.
    assert_eq!(suggestions(&app, &id, API_KEY).await.0, 200);
    let mut client = inquiries(&app).await;
    let response = client.get_suggestions(keyed(API_KEY, pb::GetSuggestionsRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    assert_eq!(response.suggestions.len(), 3);
    assert_eq!(response.suggestions[2].grounded_on[0].question, REFUND_POLICY);
    assert_eq!(response.engine, "local-suggestions-v1");

    // The operator sends the direct draft, saying so: a wrong level is refused naming the field,
    // the right one is recorded with the resolution.
    let resolve = |level: &str| {
        let body = serde_json::json!({ "human_answer": drafts[2]["text"], "suggestion_used": level });
        app.http.post(app.url(&format!("/api/inquiries/{id}/resolve"))).header("x-api-key", OPERATOR_KEY).json(&body).send()
    };
    let wrong = resolve("bold").await.unwrap();
    assert_eq!(wrong.status(), 400);
    let problem: Value = wrong.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "suggestion_used", "{problem}");
    assert_eq!(resolve("direct").await.unwrap().status(), 200);
    let timeline = app.inquiry(&id).await["timeline"].clone();
    let resolved = timeline.as_array().unwrap().iter().find(|e| e["kind"] == "status.resolved").expect("resolved");
    assert_eq!(resolved["details"]["suggestion_used"], "direct", "{resolved}");
    app.stop().await;
}

#[tokio::test]
async fn an_inquiry_not_waiting_for_a_person_gets_no_suggestions_and_another_tenants_is_not_found() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", CUSTOMER)).await;
    assert_eq!(app.wait_terminal(&id).await["status"], "answered");
    let (status, problem) = suggestions(&app, &id, API_KEY).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("escalated"), "{problem}");
    let mut client = inquiries(&app).await;
    let refused = client.get_suggestions(keyed(API_KEY, pb::GetSuggestionsRequest { inquiry_id: id.clone() })).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);

    add_tenant(&app, "other", "other-tenant-key-0123").await;
    let escalated = escalated_refund(&app).await;
    assert_eq!(suggestions(&app, &escalated, "other-tenant-key-0123").await.0, 404);
    assert_eq!(suggestions(&app, "not-an-id", API_KEY).await.0, 400);
    app.stop().await;
}
