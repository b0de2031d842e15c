//! An inquiry's conversation (issue 17): customers' follow-ups over REST
//! and gRPC, the listing in order with message 1 the inquiry's text, the
//! AI and operator answers joining it, idempotency, tenancy, validation,
//! paging, the event stream, and the sentiment trend.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{InquiryStatus, TenantId, TimelineEvent};
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{add_tenant, bad_fields, expect_code, inquiries, keyed};
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, PATIENCE, TestApp, inquiry_body};
use tonic::Code;

const CUSTOMER: &str = "+12135550149";
const QUESTION: &str = "What time is check-in?";
const ANGRY: &str =
    "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!";
const OTHER_KEY: &str = "other-tenant-key-0123";

fn messages_path(id: &str) -> String {
    format!("/api/inquiries/{id}/messages")
}

/// `POST /api/inquiries/{id}/messages` with the demo key and `key` as Idempotency-Key (if any).
async fn follow_up(app: &TestApp, id: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app.http.post(app.url(&messages_path(id))).header("x-api-key", API_KEY).json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

/// Adds a follow-up, asserting 202; returns the response body.
async fn follow_up_ok(app: &TestApp, id: &str, key: &str, text: &str) -> Value {
    let response = follow_up(app, id, Some(key), &json!({ "text": text })).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap_or_default());
    response.json().await.unwrap()
}

async fn list(app: &TestApp, id: &str, query: &str) -> Value {
    let response = app.http.get(app.url(&format!("{}{query}", messages_path(id)))).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// `(sequence, author, text)` of each message of a page.
fn said(page: &Value) -> Vec<(u64, String, String)> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["sequence"].as_u64().unwrap(), m["author"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned()))
        .collect()
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().map(|e| e.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// An FAQ question, answered and its answer in the conversation.
async fn answered(app: &TestApp) -> String {
    let id = app.submit_ok(&inquiry_body(QUESTION, CUSTOMER)).await;
    app.wait_for_timeline(&id, "message.ai").await;
    id
}

#[tokio::test]
async fn a_follow_up_is_stored_and_listed_in_order_after_the_original_message_and_the_answer() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    let added = follow_up_ok(&app, &id, "crm-1", "  And is there parking?\u{200B} ").await;
    assert_eq!(added["duplicate"], false);
    assert_eq!(added["message"]["sequence"], 3);
    assert_eq!(added["message"]["text"], "And is there parking?", "normalised as a submission is");

    let page = list(&app, &id, "").await;
    let authors: Vec<(u64, &str)> = said(&page).iter().map(|(n, a, _)| (*n, if a == "customer" { "customer" } else { "other" })).collect();
    // The follow-up re-enters the pipeline, whose reply (message 4) may be there already.
    assert_eq!(authors[..3], [(1, "customer"), (2, "other"), (3, "customer")]);
    assert_eq!(said(&page)[0].2, QUESTION, "message 1 is the inquiry's text");
    assert_eq!(page["messages"][1]["author"], "ai");
    assert!(page.get("next_cursor").is_none());
    let detail = app.inquiry(&id).await;
    assert!(detail["message_count"].as_u64().is_some_and(|n| n >= 3), "{}", detail["message_count"]);
    app.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_twice_stores_one_message_and_announces_it_once() {
    let (app, published) = TestApp::spawn_recording_events(Options::default()).await;
    let id = answered(&app).await;
    let first = follow_up_ok(&app, &id, "crm-7", "Is breakfast included?").await;
    let again = follow_up_ok(&app, &id, "crm-7", "Is breakfast included? (sent twice)").await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message"], first["message"], "the first message, unchanged");
    // The follow-up re-enters the pipeline, whose reply may join meanwhile: count the customer's.
    let customers = said(&list(&app, &id, "").await).into_iter().filter(|(_, a, _)| a == "customer").count();
    assert_eq!(customers, 2, "the question and one follow-up");

    published.assert_announced_once(&id, "inquiry.message_received").await;
    app.stop().await;
}

#[tokio::test]
async fn a_follow_up_to_another_tenants_inquiry_is_not_found_and_stores_nothing() {
    let app = TestApp::spawn().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let id = answered(&app).await;
    let post = app
        .http
        .post(app.url(&messages_path(&id)))
        .header("x-api-key", OTHER_KEY)
        .header("idempotency-key", "k")
        .json(&json!({ "text": "hello" }))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    let get = app.http.get(app.url(&messages_path(&id))).header("x-api-key", OTHER_KEY).send().await.unwrap();
    assert_eq!(get.status(), 404);
    assert_eq!(said(&list(&app, &id, "").await).len(), 2, "the owner's conversation is untouched");
    app.stop().await;
}

#[tokio::test]
async fn an_empty_or_over_long_follow_up_is_rejected_with_400_naming_text() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    for text in [json!(""), json!(" \u{200B} "), json!("가".repeat(10_001)), Value::Null] {
        let response = follow_up(&app, &id, Some("k"), &json!({ "text": text })).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert_eq!(fields(&response.json().await.unwrap()), ["text"]);
    }
    let no_key = follow_up(&app, &id, None, &json!({ "text": "hi" })).await;
    assert_eq!(no_key.status(), 400);
    assert_eq!(fields(&no_key.json().await.unwrap()), ["Idempotency-Key"]);
    let bad_language = follow_up(&app, &id, Some("k"), &json!({ "text": "hi", "language": "fr" })).await;
    assert_eq!(fields(&bad_language.json().await.unwrap()), ["language"]);
    assert_eq!(said(&list(&app, &id, "").await).len(), 2, "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_inquiry_takes_no_follow_up_and_answers_409() {
    let app = TestApp::spawn().await;
    let failed = InquiryBuilder::new().tenant(TenantId::parse("demo").unwrap()).status(InquiryStatus::Failed).build();
    let event = TimelineEvent::once("status.failed", "test", failed.created_at, Value::Null);
    app.ports.store.create_inquiry(&failed, None, &event, &[]).await.unwrap();
    let response = follow_up(&app, &failed.id.to_string(), Some("k"), &json!({ "text": "hello?" })).await;
    assert_eq!(response.status(), 409);
    app.stop().await;
}

#[tokio::test]
async fn paging_returns_every_message_once_in_order() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    for n in 0..5 {
        follow_up_ok(&app, &id, &format!("k{n}"), &format!("follow-up {n}")).await;
    }
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = list(&app, &id, &query).await;
        let got = said(&page);
        assert!(got.len() <= 2);
        seen.extend(got.into_iter().map(|(n, _, _)| n));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    // The pipeline's replies to the follow-ups may join between them.
    assert!(seen.len() >= 7, "{seen:?}");
    assert_eq!(seen, (1..=seen.len() as u64).collect::<Vec<_>>());
    let bad = app.http.get(app.url(&format!("{}?cursor=nope!", messages_path(&id)))).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(fields(&bad.json().await.unwrap()), ["cursor"]);
    let zero = app.http.get(app.url(&format!("{}?limit=0", messages_path(&id)))).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(fields(&zero.json().await.unwrap()), ["limit"]);
    app.stop().await;
}

#[tokio::test]
async fn the_event_stream_delivers_a_follow_up_with_its_message() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    follow_up_ok(&app, &id, "k", "One more question: late checkout?").await;
    let response = app.http.get(app.url(&format!("/api/inquiries/{id}/events"))).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(PATIENCE, response.text()).await.expect("the stream ends").unwrap();
    let data: Vec<Value> = body.lines().filter_map(|l| l.strip_prefix("data: ")).filter_map(|d| serde_json::from_str(d).ok()).collect();
    let follow_ups: Vec<&Value> = data.iter().filter(|d| d["kind"] == "message.customer").collect();
    assert_eq!(follow_ups.len(), 1, "{body}");
    assert_eq!(follow_ups[0]["message"]["text"], "One more question: late checkout?");
    assert_eq!(follow_ups[0]["message"]["sequence"], 3);
    let last = data.iter().rfind(|d| d.get("kind").is_some()).unwrap();
    // The follow-up reopens the inquiry, which the stream may follow to its new answer or escalation.
    assert!(last["kind"].as_str().is_some_and(|k| k.starts_with("status.")), "{last}");
    assert_eq!(last["terminal"], json!(true), "the terminal event still ends the stream");
    app.stop().await;
}

#[tokio::test]
async fn the_trend_becomes_worsening_after_an_angry_follow_up() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    let calm = app.inquiry(&id).await;
    assert_eq!((calm["sentiment_trend"].as_str(), calm["message_count"].as_u64()), (Some("steady"), Some(2)));
    let added = follow_up_ok(&app, &id, "angry", ANGRY).await;
    assert_eq!(added["message"]["classification"]["sentiment"], "NEGATIVE");
    // The angry follow-up escalates the inquiry, whose notice to the customer joins the conversation;
    // wait for it so the count below does not race the pipeline.
    app.wait_for_timeline(&id, "message.system").await;
    let after = app.inquiry(&id).await;
    assert_eq!(after["sentiment_trend"], "worsening");
    assert_eq!(after["message_count"], 4);
    app.stop().await;
}

#[tokio::test]
async fn an_operators_answer_joins_the_conversation_once() {
    let app = TestApp::spawn().await;
    let id = answered(&app).await;
    let post = |path: String, key: &'static str, body: Value| app.http.post(app.url(&path)).header("x-api-key", key).json(&body).send();
    assert_eq!(post(format!("/api/inquiries/{id}/escalate"), API_KEY, json!({})).await.unwrap().status(), 200);
    let resolve = json!({ "human_answer": "Check-in is from 3 pm; we can hold your bags." });
    for _ in 0..2 {
        assert_eq!(post(format!("/api/inquiries/{id}/resolve"), OPERATOR_KEY, resolve.clone()).await.unwrap().status(), 200);
    }
    let authors: Vec<String> = said(&list(&app, &id, "").await).into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(authors, ["customer", "ai", "system", "operator"]);
    app.stop().await;
}

#[tokio::test]
async fn the_grpc_twins_add_list_show_and_watch_messages() {
    let app = TestApp::spawn().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let id = answered(&app).await;
    let mut client = inquiries(&app).await;
    let request = |key: &str, text: &str| pb::AddMessageRequest {
        inquiry_id: id.clone(),
        text: text.into(),
        language: String::new(),
        idempotency_key: key.into(),
    };
    let added = client.add_message(keyed(API_KEY, request("g-1", ANGRY))).await.unwrap().into_inner();
    assert!(!added.duplicate);
    let message = added.message.unwrap();
    assert_eq!((message.sequence, message.author()), (3, pb::Author::Customer));
    let again = client.add_message(keyed(API_KEY, request("g-1", "other text"))).await.unwrap().into_inner();
    assert!(again.duplicate);
    assert_eq!(again.message.unwrap().message_id, message.message_id);

    let invalid = expect_code(client.add_message(keyed(API_KEY, request("g-2", " "))).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&invalid), ["text"]);
    let keyless = expect_code(client.add_message(keyed(API_KEY, request("", "hi"))).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&keyless), ["idempotency_key"]);
    expect_code(client.add_message(keyed(OTHER_KEY, request("g-3", "hi"))).await, Code::NotFound);
    // The angry follow-up escalates the inquiry, and the customer's notice joins the conversation.
    app.wait_for_timeline(&id, "message.system").await;

    let page = pb::ListMessagesRequest { inquiry_id: id.clone(), page_size: 2, page_token: String::new() };
    let first = client.list_messages(keyed(API_KEY, page.clone())).await.unwrap().into_inner();
    assert_eq!(first.messages.iter().map(|m| m.sequence).collect::<Vec<_>>(), [1, 2]);
    let next = pb::ListMessagesRequest { page_token: first.next_page_token, ..page };
    let second = client.list_messages(keyed(API_KEY, next)).await.unwrap().into_inner();
    assert_eq!(second.messages.iter().map(|m| m.sequence).collect::<Vec<_>>(), [3, 4]);
    assert!(second.next_page_token.is_empty());

    let inquiry = client.get_inquiry(keyed(API_KEY, pb::GetInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    assert_eq!((inquiry.message_count, inquiry.sentiment_trend()), (4, pb::SentimentTrend::Worsening));
    assert_eq!(inquiry.status(), pb::InquiryStatus::Escalated);

    let watch = client.watch_inquiry(keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    let events: Vec<pb::TimelineEvent> = tokio::time::timeout(PATIENCE, watch.map(Result::unwrap).collect()).await.unwrap();
    let carried: Vec<u32> = events.iter().filter_map(|e| e.message.as_ref()).map(|m| m.sequence).collect();
    assert_eq!(carried, [2, 3, 4], "the AI answer, the follow-up and the escalation notice, each with its message");
    app.stop().await;
}
