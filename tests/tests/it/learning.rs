//! Switchboard learns from operators, end to end in embedded mode: an
//! operator resolving an inquiry links it to an FAQ entry (or saves the
//! answer as a new one), so the next customer asking the same is answered
//! without a person; a corrected intent routes the tenant's next similar
//! inquiry; nothing of it leaks to another tenant; bad feedback is refused
//! and changes nothing. The classifier re-reads corrections on every
//! inquiry here (`memory_ttl_ms = 0`) so the tests need not wait for its cache.

use serde_json::{Value, json};
use switchboard_domain::{FaqEntry, FaqEntryId, Language, TenantId};
use switchboard_proto::v1 as pb;
use switchboard_store::edit_tenant;
use switchboard_tests::grpc::{add_tenant, bad_fields, expect_code, inquiries, keyed};
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, TestApp, inquiry_body};
use tonic::Code;

const PHONE: &str = "+12135550149";
const OTHER_KEY: &str = "learning-other-key-0123";

async fn app() -> TestApp {
    TestApp::spawn_configured(Options::default(), |c| c.memory_ttl_ms = 0, |_| {}).await
}

fn demo() -> TenantId {
    TenantId::parse("demo").unwrap()
}

/// `POST /api/inquiries/{id}/resolve` with the operator key.
async fn resolve(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    let r =
        app.http.post(app.url(&format!("/api/inquiries/{id}/resolve"))).header("x-api-key", OPERATOR_KEY).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Submits `content` with `key` and waits until the pipeline is done with it.
async fn settled(app: &TestApp, key: &str, content: &str) -> (String, Value) {
    let r = app.http.post(app.url("/api/inquiries")).header("x-api-key", key).json(&inquiry_body(content, PHONE)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["inquiry_id"].as_str().unwrap().to_owned();
    let inquiry = wait_settled(app, key, &id).await;
    (id, inquiry)
}

/// Polls with `key` until the inquiry is answered, escalated or awaiting its partner.
async fn wait_settled(app: &TestApp, key: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + switchboard_tests::PATIENCE;
    loop {
        let r = app.http.get(app.url(&format!("/api/inquiries/{id}"))).header("x-api-key", key).send().await.unwrap();
        let inquiry: Value = r.json().await.unwrap();
        if matches!(inquiry["status"].as_str(), Some("answered" | "escalated" | "awaiting_partner" | "failed")) {
            return inquiry;
        }
        assert!(tokio::time::Instant::now() < deadline, "inquiry {id} stuck in {}", inquiry["status"]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Adds an English FAQ entry to the demo tenant; returns it.
async fn add_entry(app: &TestApp, question: &str, answer: &str) -> FaqEntry {
    let entry = FaqEntry::new(Language::En, question, answer);
    let added = entry.clone();
    edit_tenant(app.ports.store.as_ref(), &demo(), move |t| {
        t.faq.push(added.clone());
        Ok::<_, ()>(())
    })
    .await
    .unwrap()
    .unwrap();
    entry
}

const LUGGAGE_Q: &str = "Is there somewhere to keep our suitcases after we check out?";
const LUGGAGE_A: &str = "Yes: the front desk keeps bags until 6 pm on the day you leave, free of charge.";

#[tokio::test]
async fn an_operators_link_to_an_faq_entry_answers_the_next_customer_asking_the_same() {
    let app = app().await;
    // Worded so that retrieval cannot tell it is the same question: no
    // shared words, no vocabulary concept, no service topic ("luggage
    // storage", or "can the front desk hold our bags", would match
    // "suitcases" through the vocabulary or the topic model).
    let entry = add_entry(&app, "What does rule 7 of the house rules say?", LUGGAGE_A).await;
    let (first, inquiry) = settled(&app, API_KEY, LUGGAGE_Q).await;
    assert_eq!(inquiry["status"], "escalated", "the FAQ does not know this wording yet: {inquiry}");

    let (status, body) = resolve(&app, &first, json!({ "human_answer": LUGGAGE_A, "faq_entry_id": entry.id.as_str() })).await;
    assert_eq!(status, 200, "{body}");
    let tenant = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap();
    assert_eq!(tenant.faq_entry(&entry.id).unwrap().variants, [LUGGAGE_Q], "the question is now a variant of the entry");

    let (_, next) = settled(&app, API_KEY, LUGGAGE_Q).await;
    assert_eq!(next["status"], "answered", "{next}");
    assert!(next["answer"].as_str().unwrap().contains(LUGGAGE_A), "answered with the linked entry: {next}");
}

#[tokio::test]
async fn an_answer_saved_as_a_new_entry_answers_the_next_customer_and_a_retry_saves_it_once() {
    let app = app().await;
    let (first, inquiry) = settled(&app, API_KEY, LUGGAGE_Q).await;
    assert_eq!(inquiry["status"], "escalated", "{inquiry}");
    let faq_before = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap().faq.len();

    let request = json!({ "human_answer": LUGGAGE_A, "save_as_faq": true });
    assert_eq!(resolve(&app, &first, request.clone()).await.0, 200);
    assert_eq!(resolve(&app, &first, request).await.0, 200, "the same resolve again is a retry");
    let tenant = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap();
    assert_eq!(tenant.faq.len(), faq_before + 1, "one entry, however often the resolve is retried");
    let saved = tenant.faq.last().unwrap();
    assert_eq!((saved.question.as_str(), saved.answer.as_str(), saved.language), (LUGGAGE_Q, LUGGAGE_A, Language::En));

    let (_, next) = settled(&app, API_KEY, LUGGAGE_Q).await;
    assert_eq!(next["status"], "answered", "{next}");
    assert!(next["answer"].as_str().unwrap().contains(LUGGAGE_A), "{next}");
}

const KEY_CARD: &str = "Our room key card stopped opening the door";

#[tokio::test]
async fn a_corrected_intent_sends_the_next_similar_inquiry_to_the_partner_and_leaves_others_alone() {
    let app = app().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let (first, inquiry) = settled(&app, API_KEY, KEY_CARD).await;
    // Whatever the base model says, the operator corrects it to another
    // intent that involves the partner: the tenant's own convention.
    let base = inquiry["classification"]["intent"].as_str().unwrap().to_owned();
    let corrected = if base == "trouble_report" { "addon_request" } else { "trouble_report" };

    let (status, body) =
        resolve(&app, &first, json!({ "human_answer": "We are sending someone up now.", "corrected_intent": corrected })).await;
    assert_eq!(status, 200, "{body}");
    let corrections = app.ports.store.corrections(&demo()).await.unwrap();
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0].corrected_intent.map(|i| i.as_str()), Some(corrected));

    // The same message again, now naming a reservation: the partner is asked.
    let (_, similar) = settled(&app, API_KEY, &format!("{KEY_CARD}, booking TR-55501234")).await;
    assert_eq!(similar["classification"]["intent"], corrected, "{similar}");
    assert!(similar["classification"]["engine"].as_str().unwrap().ends_with("+memory"), "{similar}");
    assert_eq!(similar["status"], "awaiting_partner", "routed by the corrected intent: {similar}");

    // Something else with the same reservation is not affected.
    let (_, dissimilar) = settled(&app, API_KEY, "Where can we park our car? booking TR-55501234").await;
    assert_ne!(dissimilar["classification"]["intent"], corrected, "{dissimilar}");
    assert!(!dissimilar["classification"]["engine"].as_str().unwrap().ends_with("+memory"), "{dissimilar}");

    // Another tenant asking exactly the same learns nothing from the demo tenant's operators.
    let (_, theirs) = settled(&app, OTHER_KEY, KEY_CARD).await;
    assert_eq!(theirs["classification"]["intent"], base.as_str(), "{theirs}");
    assert!(app.ports.store.corrections(&TenantId::parse("other").unwrap()).await.unwrap().is_empty());
}

#[tokio::test]
async fn resolving_with_invalid_feedback_is_refused_with_the_field_and_changes_nothing() {
    let app = app().await;
    let (id, _) = settled(&app, API_KEY, LUGGAGE_Q).await;
    let faq_before = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap().faq;
    let answer = "The front desk keeps bags.";

    let (status, body) = resolve(&app, &id, json!({ "human_answer": answer, "corrected_intent": "broken_thing" })).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("corrected_intent")), "{body}");
    let both = json!({ "human_answer": answer, "faq_entry_id": faq_before[0].id.as_str(), "save_as_faq": true });
    let (status, body) = resolve(&app, &id, both).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("save_as_faq")), "{body}");
    let unknown = FaqEntryId::derive(Language::En, "no such entry");
    let (status, body) = resolve(&app, &id, json!({ "human_answer": answer, "faq_entry_id": unknown.as_str() })).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("faq_entry_id"), "the detail names the field: {body}");

    // The same over gRPC: INVALID_ARGUMENT naming the field.
    let mut client = inquiries(&app).await;
    let bad = pb::ResolveInquiryRequest {
        inquiry_id: id.clone(),
        human_answer: answer.into(),
        corrected_urgency: "urgent".into(),
        ..Default::default()
    };
    let status = expect_code(client.resolve_inquiry(keyed(OPERATOR_KEY, bad)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["corrected_urgency"]);

    let inquiry = wait_settled(&app, API_KEY, &id).await;
    assert_ne!(inquiry["status"], "resolved", "not resolved");
    assert_eq!(app.ports.store.get_tenant(&demo()).await.unwrap().unwrap().faq, faq_before, "the FAQ is unchanged");
    assert!(app.ports.store.corrections(&demo()).await.unwrap().is_empty(), "nothing remembered");
}

#[tokio::test]
async fn a_resolve_retried_after_it_stopped_halfway_still_applies_its_feedback_once() {
    let app = app().await;
    let (id, _) = settled(&app, API_KEY, KEY_CARD).await;
    let answer = "We are sending someone up now.";
    // The first attempt resolved the inquiry, then stopped before the FAQ edit and the correction.
    let inquiry_id = switchboard_domain::InquiryId::parse(&id).unwrap();
    let now = jiff::Timestamp::now();
    let first = switchboard_store::transition(
        app.ports.store.as_ref(),
        inquiry_id,
        switchboard_domain::InquiryStatus::Resolved,
        "operator",
        now,
        json!({}),
        |i| i.human_answer = Some(answer.to_owned()),
    )
    .await
    .unwrap();
    assert!(matches!(first, switchboard_store::TransitionOutcome::Applied(_)));
    let faq_before = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap().faq.len();

    let retry = json!({ "human_answer": answer, "corrected_intent": "trouble_report", "save_as_faq": true });
    for _ in 0..2 {
        let (status, body) = resolve(&app, &id, retry.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let tenant = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap();
    assert_eq!(tenant.faq.len(), faq_before + 1, "the entry is saved, once");
    let corrections = app.ports.store.corrections(&demo()).await.unwrap();
    assert_eq!(corrections.len(), 1, "one correction per inquiry");
    assert_eq!(corrections[0].faq_entry_id.as_ref(), tenant.faq.last().map(|e| &e.id));
}

#[tokio::test]
async fn feedback_that_would_break_the_faqs_limits_is_refused_with_the_field_before_anything_changes() {
    use switchboard_domain::faq::{MAX_ANSWER_CHARS, MAX_ENTRIES, MAX_QUESTION_CHARS, MAX_VARIANTS};
    let app = app().await;
    let (id, _) = settled(&app, API_KEY, LUGGAGE_Q).await;
    let answer = "The front desk keeps bags.";
    let refused = |(status, body): (u16, Value), field: &str| {
        assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some(field)), "{body}");
    };

    // An entry that already keeps the most variants takes no new one.
    let full = add_entry(&app, "Can the front desk hold our bags?", LUGGAGE_A).await;
    let full_id = full.id.clone();
    edit_tenant(app.ports.store.as_ref(), &demo(), move |t| {
        let entry = t.faq_entry_mut(&full_id).unwrap();
        (0..MAX_VARIANTS).for_each(|n| assert!(entry.add_variant(&format!("bags question {n}"))));
        Ok::<_, ()>(())
    })
    .await
    .unwrap()
    .unwrap();
    refused(resolve(&app, &id, json!({ "human_answer": answer, "faq_entry_id": full.id.as_str() })).await, "faq_entry_id");

    // A human answer longer than an FAQ answer cannot become one unless a shorter one is given.
    let long_answer = "x".repeat(MAX_ANSWER_CHARS + 1);
    refused(resolve(&app, &id, json!({ "human_answer": long_answer, "save_as_faq": true })).await, "faq_answer");

    // A full FAQ takes no new entry.
    let faq_len = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap().faq.len();
    edit_tenant(app.ports.store.as_ref(), &demo(), move |t| {
        (faq_len..MAX_ENTRIES).for_each(|n| t.faq.push(FaqEntry::new(Language::En, format!("filler question {n}"), "filler")));
        Ok::<_, ()>(())
    })
    .await
    .unwrap()
    .unwrap();
    refused(resolve(&app, &id, json!({ "human_answer": answer, "save_as_faq": true })).await, "save_as_faq");

    // An inquiry too long to be an FAQ question is not made one.
    let (long_id, _) = settled(&app, API_KEY, &format!("{LUGGAGE_Q} {}", "We have a lot of bags. ".repeat(MAX_QUESTION_CHARS / 20))).await;
    let (status, body) = resolve(&app, &long_id, json!({ "human_answer": answer, "faq_entry_id": full.id.as_str() })).await;
    refused((status, body.clone()), "faq_entry_id");
    assert!(body["errors"][0]["reason"].as_str().unwrap().contains("FAQ question"), "says why: {body}");

    let faq_after = app.ports.store.get_tenant(&demo()).await.unwrap().unwrap().faq;
    assert_eq!(faq_after.len(), MAX_ENTRIES, "no entry added");
    assert_eq!(faq_after.iter().find(|e| e.id == full.id).unwrap().variants.len(), MAX_VARIANTS, "no variant added");
    for id in [&id, &long_id] {
        assert_ne!(wait_settled(&app, API_KEY, id).await["status"], "resolved", "a refused resolve resolves nothing");
    }
}
