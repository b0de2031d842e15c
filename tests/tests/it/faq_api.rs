//! Tenants manage their FAQ over REST and gRPC with their API key: list,
//! get, add, edit, delete, add and remove a variant; every failure names
//! its cause (404 unknown entry, 400 with the field, 401 without a key,
//! 409 on a stale `If-Match`).

use serde_json::{Value, json};
use switchboard_tests::{API_KEY, TestApp};

async fn call(app: &TestApp, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value, Option<String>) {
    let url = app.url(path);
    let mut request = match method {
        "GET" => app.http.get(url),
        "POST" => app.http.post(url),
        "PATCH" => app.http.patch(url),
        "DELETE" => app.http.delete(url),
        other => panic!("no method {other}"),
    };
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, response.json().await.unwrap_or(Value::Null), etag)
}

async fn tenant_call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, body, _) = call(app, method, path, Some(API_KEY), body).await;
    (status, body)
}

#[tokio::test]
async fn a_tenant_adds_reads_edits_and_deletes_an_faq_entry_and_its_variants() {
    let app = TestApp::spawn().await;
    let (status, before) = tenant_call(&app, "GET", "/api/faq", None).await;
    assert_eq!(status, 200, "{before}");
    let seeded = before["entries"].as_array().unwrap().len();

    let (status, added) = tenant_call(
        &app,
        "POST",
        "/api/faq",
        Some(json!({"language": "en", "question": "  Do you rent bicycles? ", "answer": "Yes, 10,000 won a day.", "variants": ["bike rental?"]})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["question"], "Do you rent bicycles?", "trimmed");
    let id = added["id"].as_str().unwrap().to_owned();

    let (status, got) = tenant_call(&app, "GET", &format!("/api/faq/{id}"), None).await;
    assert_eq!((status, got["answer"].as_str()), (200, Some("Yes, 10,000 won a day.")));

    let (status, edited) = tenant_call(&app, "PATCH", &format!("/api/faq/{id}"), Some(json!({"answer": "Yes, 12,000 won a day."}))).await;
    assert_eq!(
        (status, edited["answer"].as_str(), edited["question"].as_str()),
        (200, Some("Yes, 12,000 won a day."), Some("Do you rent bicycles?"))
    );

    let (status, with_variant) =
        tenant_call(&app, "POST", &format!("/api/faq/{id}/variants"), Some(json!({"text": "can we hire a bike"}))).await;
    assert_eq!(status, 201, "{with_variant}");
    assert_eq!(with_variant["variants"], json!(["bike rental?", "can we hire a bike"]));

    let (status, without) = tenant_call(&app, "DELETE", &format!("/api/faq/{id}/variants/0"), None).await;
    assert_eq!((status, without["variants"].clone()), (200, json!(["can we hire a bike"])));

    let (status, listed) = tenant_call(&app, "GET", "/api/faq", None).await;
    assert_eq!((status, listed["entries"].as_array().unwrap().len()), (200, seeded + 1));

    let (status, _) = tenant_call(&app, "DELETE", &format!("/api/faq/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, gone) = tenant_call(&app, "GET", &format!("/api/faq/{id}"), None).await;
    assert_eq!((status, gone["type"].as_str()), (404, Some("/problems/not-found")));
    app.stop().await;
}

#[tokio::test]
async fn a_new_faq_entry_answers_the_next_inquiry_that_asks_it() {
    let app = TestApp::spawn().await;
    let (status, _) = tenant_call(
        &app,
        "POST",
        "/api/faq",
        Some(json!({"language": "en", "question": "Do you have a sauna?", "answer": "Our sauna on the 5th floor is open 6 am to 10 pm, free for guests.", "variants": ["Is there a spa or sauna?"]})),
    )
    .await;
    assert_eq!(status, 201);
    let id = app.submit_ok(&switchboard_tests::inquiry_body("hi! is there a sauna we could use?", "+12135550149")).await;
    let done = app.wait_terminal(&id).await;
    assert_eq!(done["status"], "answered", "{done}");
    assert!(done["answer"].to_string().contains("5th floor"), "{done}");
    app.stop().await;
}

#[tokio::test]
async fn faq_errors_name_their_cause() {
    let app = TestApp::spawn().await;
    let unknown = "faq-0123456789ab";
    for (method, path) in
        [("GET", format!("/api/faq/{unknown}")), ("DELETE", format!("/api/faq/{unknown}")), ("GET", "/api/faq/not-an-id".to_owned())]
    {
        let (status, body) = tenant_call(&app, method, &path, None).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    let (status, body) = tenant_call(&app, "PATCH", &format!("/api/faq/{unknown}"), Some(json!({"answer": "x"}))).await;
    assert_eq!(status, 404, "{body}");

    let (status, body) = tenant_call(&app, "POST", "/api/faq", Some(json!({"language": "fr", "question": " ", "answer": "ok"}))).await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["language", "question"], "{body}");

    let (_, listed) = tenant_call(&app, "GET", "/api/faq", None).await;
    let id = listed["entries"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = tenant_call(&app, "POST", &format!("/api/faq/{id}/variants"), Some(json!({"text": ""}))).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("variant")), "{body}");
    let (status, _) = tenant_call(&app, "DELETE", &format!("/api/faq/{id}/variants/99"), None).await;
    assert_eq!(status, 404);

    let (status, body, _) = call(&app, "GET", "/api/faq", None, None).await;
    assert_eq!(status, 401, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_write_with_a_stale_if_match_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, listed, etag) = call(&app, "GET", "/api/faq", Some(API_KEY), None).await;
    let etag = etag.expect("an ETag");
    let id = listed["entries"][0]["id"].as_str().unwrap().to_owned();
    let edit = |tag: String, answer: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            app.http
                .patch(app.url(&format!("/api/faq/{id}")))
                .header("x-api-key", API_KEY)
                .header("if-match", tag)
                .json(&json!({ "answer": answer }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(edit(etag.clone(), "first").await, 200);
    assert_eq!(edit(etag, "second").await, 409, "the FAQ moved on since that ETag");
    let (_, entry) = tenant_call(&app, "GET", &format!("/api/faq/{id}"), None).await;
    assert_eq!(entry["answer"], "first");
    app.stop().await;
}

mod over_grpc {
    use switchboard_proto::v1 as pb;
    use switchboard_proto::v1::faq_service_client::FaqServiceClient;
    use switchboard_tests::grpc::{bad_fields, channel, expect_code, keyed};
    use switchboard_tests::{API_KEY, TestApp};
    use tonic::Code;

    #[tokio::test]
    async fn a_tenant_manages_its_faq_over_grpc() {
        let app = TestApp::spawn().await;
        let mut faq = FaqServiceClient::new(channel(&app).await);
        let before = faq.list_faq_entries(keyed(API_KEY, pb::ListFaqEntriesRequest {})).await.unwrap().into_inner();

        let add = pb::AddFaqEntryRequest {
            language: "ko".into(),
            question: "자전거 대여가 되나요?".into(),
            answer: "프런트에서 하루 10,000원에 빌려 드립니다.".into(),
            variants: vec!["자전거 빌릴 수 있어요?".into()],
            expected_version: Some(before.version),
        };
        let added = faq.add_faq_entry(keyed(API_KEY, add)).await.unwrap().into_inner();
        let entry = added.entry.unwrap();
        assert_eq!(added.version, before.version + 1);

        let edit = pb::EditFaqEntryRequest {
            id: entry.id.clone(),
            answer: Some("프런트에서 하루 12,000원에 빌려 드립니다.".into()),
            ..Default::default()
        };
        let edited = faq.edit_faq_entry(keyed(API_KEY, edit)).await.unwrap().into_inner().entry.unwrap();
        assert_eq!((edited.question.as_str(), edited.variants.len()), ("자전거 대여가 되나요?", 1));

        let variant = pb::AddFaqVariantRequest { id: entry.id.clone(), text: "자전거 있나요".into(), expected_version: None };
        let with = faq.add_faq_variant(keyed(API_KEY, variant)).await.unwrap().into_inner().entry.unwrap();
        assert_eq!(with.variants, ["자전거 빌릴 수 있어요?", "자전거 있나요"]);
        let remove = pb::RemoveFaqVariantRequest { id: entry.id.clone(), index: 0, expected_version: None };
        let without = faq.remove_faq_variant(keyed(API_KEY, remove)).await.unwrap().into_inner().entry.unwrap();
        assert_eq!(without.variants, ["자전거 있나요"]);

        let got = faq.get_faq_entry(keyed(API_KEY, pb::GetFaqEntryRequest { id: entry.id.clone() })).await.unwrap().into_inner();
        assert_eq!(got.entry.unwrap().answer, "프런트에서 하루 12,000원에 빌려 드립니다.");
        faq.delete_faq_entry(keyed(API_KEY, pb::DeleteFaqEntryRequest { id: entry.id.clone(), expected_version: None })).await.unwrap();
        let after = faq.list_faq_entries(keyed(API_KEY, pb::ListFaqEntriesRequest {})).await.unwrap().into_inner();
        assert_eq!(after.entries.len(), before.entries.len());
        app.stop().await;
    }

    #[tokio::test]
    async fn grpc_faq_errors_carry_their_code_and_field() {
        let app = TestApp::spawn().await;
        let mut faq = FaqServiceClient::new(channel(&app).await);
        let unknown = pb::GetFaqEntryRequest { id: "faq-0123456789ab".into() };
        expect_code(faq.get_faq_entry(keyed(API_KEY, unknown)).await, Code::NotFound);

        let bad = pb::AddFaqEntryRequest { language: "fr".into(), question: "".into(), answer: "ok".into(), ..Default::default() };
        let status = expect_code(faq.add_faq_entry(keyed(API_KEY, bad)).await, Code::InvalidArgument);
        assert_eq!(bad_fields(&status), ["language", "question"]);

        let stale = pb::DeleteFaqEntryRequest { id: "faq-0123456789ab".into(), expected_version: Some(999) };
        expect_code(faq.delete_faq_entry(keyed(API_KEY, stale)).await, Code::FailedPrecondition);

        expect_code(faq.list_faq_entries(pb::ListFaqEntriesRequest {}).await, Code::Unauthenticated);
        app.stop().await;
    }
}
