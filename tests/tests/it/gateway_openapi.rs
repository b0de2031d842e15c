//! `/openapi.json`: an OpenAPI 3.1 document, generated from the code, that
//! describes every route the gateway serves, with every reference resolving.

use serde_json::Value;
use switchboard_tests::TestApp;

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_describes_every_route_and_every_reference_resolves() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let expected = [
        ("/api/inquiries", "post"),
        ("/api/inquiries", "get"),
        ("/api/inquiries/{id}", "get"),
        ("/api/inquiries/{id}/status", "get"),
        ("/api/inquiries/{id}/events", "get"),
        ("/api/inquiries/{id}/escalate", "post"),
        ("/api/inquiries/{id}/resolve", "post"),
        ("/api/reservations", "post"),
        ("/chat", "post"),
        ("/confirm/{token}", "get"),
        ("/respond", "post"),
        ("/r/{token}", "get"),
        ("/c/{token}", "get"),
        ("/c/{token}/reply", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in expected {
        let operation = &paths.get(path).unwrap_or_else(|| panic!("{path} undocumented"))[method];
        assert!(operation.is_object(), "{method} {path} undocumented");
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path} has no responses"));
        assert!(!responses.is_empty());
        for (code, response) in responses {
            assert!(code.parse::<u16>().is_ok(), "{method} {path}: response {code}");
            assert!(response["description"].is_string(), "{method} {path} {code} lacks a description");
        }
        // Path parameters are declared.
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            let declared = operation["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(declared, "{method} {path} does not declare {name}");
        }
    }
    // Errors are documented as problem+json.
    let not_found = &paths["/api/inquiries/{id}"]["get"]["responses"]["404"]["content"];
    assert!(not_found.get("application/problem+json").is_some(), "{not_found}");
    // Authenticated operations name the API key scheme, and it exists.
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["name"], "x-api-key");
    assert!(paths["/api/inquiries"]["post"]["security"][0].get("api_key").is_some());

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    for (name, schema) in schemas {
        assert!(schema.is_object(), "schema {name}");
    }
    app.stop().await;
}

/// The document, from a running gateway.
async fn document(app: &TestApp) -> Value {
    app.http.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap()
}

/// Every operation of `doc`, as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if ["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    out
}

/// Asserts that `operation` documents `status` as a problem.
fn documents_problem(method: &str, path: &str, operation: &Value, status: &str) {
    let content = &operation["responses"][status]["content"];
    assert!(content.get("application/problem+json").is_some(), "{method} {path} does not document {status} as problem+json: {content}");
}

/// The operations that read a JSON body (axum's `Json`), and so answer 415
/// to a body sent as anything but `application/json`.
const JSON_BODY_ROUTES: [(&str, &str); 7] = [
    ("post", "/api/inquiries"),
    ("post", "/chat"),
    ("post", "/respond"),
    ("post", "/api/reservations"),
    ("post", "/api/faq"),
    ("patch", "/api/faq/{id}"),
    ("post", "/api/faq/{id}/variants"),
];

#[tokio::test]
async fn every_json_body_route_documents_415_and_413_and_answers_415_as_documented() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (method, path) in JSON_BODY_ROUTES {
        let operation = &doc["paths"][path][method];
        documents_problem(method, path, operation, "415");
        documents_problem(method, path, operation, "413");
    }
    // And the server answers so: a body sent as text is refused with 415 problem+json.
    for path in ["/api/inquiries", "/chat", "/respond", "/api/faq"] {
        let response = app
            .http
            .post(app.url(path))
            .header("x-api-key", switchboard_tests::API_KEY)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "POST {path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "POST {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_keyed_operation_documents_401_429_and_503_and_every_body_413() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let keyed =
        operations(&doc).into_iter().filter(|(_, _, op)| op["security"].as_array().is_some_and(|s| !s.is_empty())).collect::<Vec<_>>();
    assert!(keyed.len() >= 15, "{} keyed operations", keyed.len());
    for (method, path, operation) in &keyed {
        for status in ["401", "429", "503"] {
            documents_problem(method, path, operation, status);
        }
    }
    for (method, path, operation) in operations(&doc) {
        // (As a problem, but on the partner page, whose every answer is a page.)
        if operation.get("requestBody").is_some() {
            assert!(operation["responses"]["413"]["content"].is_object(), "{method} {path} does not document 413");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_partner_routes_document_their_rate_limit_and_overload() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (method, path) in [("get", "/confirm/{token}"), ("post", "/respond")] {
        documents_problem(method, path, &doc["paths"][path][method], "429");
        documents_problem(method, path, &doc["paths"][path][method], "503");
    }
    // The page answers 429 as a page, and 503 (the cap, the timeout) as a problem.
    let page = &doc["paths"]["/r/{token}"]["get"]["responses"];
    assert!(page["429"]["content"].get("text/html").is_some(), "{page}");
    assert!(page["503"]["content"].get("application/problem+json").is_some(), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn the_documented_constraints_are_the_servers() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    // The body, and a phone number or an e-mail address (not blank).
    let submit = &schemas["SubmitInquiryDoc"]["allOf"][0]["properties"];
    let contact = &schemas["SubmitInquiryDoc"]["allOf"][1]["anyOf"];
    assert_eq!(
        (contact[0]["required"][0].as_str(), contact[1]["required"][0].as_str()),
        (Some("customer_phone"), Some("customer_email")),
        "{contact}"
    );
    assert_eq!((submit["content"]["minLength"].as_u64(), submit["content"]["maxLength"].as_u64()), (Some(1), Some(10_000)), "{submit}");
    assert_eq!(submit["title"]["maxLength"], 200, "{submit}");
    assert_eq!(submit["attachments"]["maxItems"], 5, "{submit}");
    assert_eq!(submit["attachments"]["type"], "array", "not nullable: the server refuses null: {submit}");
    assert!(submit["customer_phone"]["pattern"].is_string() && submit["reservation_number"]["pattern"].is_string(), "{submit}");
    assert_eq!(schemas["ChannelDoc"]["enum"], serde_json::json!(["web", "api", "chat", "event"]));
    assert_eq!(schemas["LanguageDoc"]["enum"], serde_json::json!(["ko", "en"]));
    assert_eq!(schemas["PartnerAnswerDoc"]["enum"], serde_json::json!(["accept", "reject", "alternative"]));
    let chat = &schemas["ChatRequest"]["allOf"][0]["properties"];
    assert_eq!(schemas["ChatRequest"]["allOf"][1]["anyOf"][1]["required"][0], "customerEmail");
    assert_eq!(chat["message"]["maxLength"], 10_000, "{chat}");
    let reservation = &schemas["ReservationInputDoc"]["properties"];
    assert_eq!(reservation["reservation_number"]["maxLength"], 32, "{reservation}");
    assert_eq!(reservation["tenant_id"]["pattern"], "^[a-z0-9-]{1,64}$", "{reservation}");
    let faq = &schemas["FaqEntryInputDoc"]["properties"];
    assert_eq!((faq["question"]["maxLength"].as_u64(), faq["answer"]["maxLength"].as_u64()), (Some(500), Some(4_000)), "{faq}");
    assert_eq!(faq["variants"]["maxItems"], 20, "{faq}");
    assert_eq!(schemas["RespondDoc"]["properties"]["proposed_time"]["maxLength"], 100);
    assert_eq!(schemas["VariantInput"]["properties"]["text"]["maxLength"], 500);
    assert_eq!(schemas["EscalateRequest"]["properties"]["reason"]["maxLength"], 500);
    assert_eq!(schemas["ResolveRequest"]["properties"]["human_answer"]["maxLength"], 10_000);
    let variant = &schemas["VariantTextDoc"];
    assert_eq!((variant["minLength"].as_u64(), variant["maxLength"].as_u64()), (Some(1), Some(500)), "{variant}");
    assert_eq!(faq["variants"]["items"]["$ref"], "#/components/schemas/VariantTextDoc", "{faq}");
    let add = &schemas["FaqEntryAddDoc"];
    assert_eq!(add["required"], serde_json::json!(["language", "question", "answer"]), "{add}");
    assert_eq!(schemas["ChatRequest"]["allOf"][0]["required"], serde_json::json!(["message"]));
    assert_eq!(schemas["ResolveRequest"]["required"], serde_json::json!(["human_answer"]));
    // An inquiry id is a UUID (hyphenated or not), an FAQ entry id `faq-` and 12 hex digits.
    let id = doc["paths"]["/api/inquiries/{id}"]["get"]["parameters"][0]["schema"]["pattern"].as_str().expect("id pattern");
    assert!(id.contains("{8}-") && id.contains("{32}"), "{id}");
    assert_eq!(doc["paths"]["/api/faq/{id}"]["get"]["parameters"][0]["schema"]["pattern"], "^faq-[0-9a-f]{12}$");
    // The FAQ's writes take the version they read as `If-Match`.
    for (method, path) in
        [("post", "/api/faq"), ("patch", "/api/faq/{id}"), ("delete", "/api/faq/{id}"), ("post", "/api/faq/{id}/variants")]
    {
        let parameters = doc["paths"][path][method]["parameters"].as_array().expect("parameters");
        assert!(parameters.iter().any(|p| p["name"] == "If-Match" && p["in"] == "header"), "{method} {path}: {parameters:?}");
    }
    // And every operation taking `If-Match` documents the 409 of a stale version.
    for (method, path, operation) in operations(&doc) {
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        if parameters.iter().any(|p| p["name"] == "If-Match") {
            documents_problem(&method, &path, &operation, "409");
        }
    }
    // The Idempotency-Key header: 1–255 characters on both submitting routes.
    for path in ["/api/inquiries", "/chat"] {
        let parameters = doc["paths"][path]["post"]["parameters"].as_array().expect("parameters");
        let key = parameters.iter().find(|p| p["name"] == "Idempotency-Key" && p["in"] == "header").expect("Idempotency-Key");
        assert_eq!((key["schema"]["minLength"].as_u64(), key["schema"]["maxLength"].as_u64()), (Some(1), Some(255)), "{path}: {key}");
    }
    // The listing's page size is a number from 1 to 100.
    let parameters = doc["paths"]["/api/inquiries"]["get"]["parameters"].as_array().expect("parameters");
    let page_size = parameters.iter().find(|p| p["name"] == "page_size").expect("page_size");
    assert_eq!((page_size["schema"]["minimum"].as_u64(), page_size["schema"]["maximum"].as_u64()), (Some(1), Some(100)), "{page_size}");

    // And the server holds to them: one past each limit is refused, naming the field.
    let over = |n: usize| "가".repeat(n);
    for (body, field) in [
        (serde_json::json!({"content": over(10_001), "customer_phone": "010-1234-5678"}), "content"),
        (serde_json::json!({"content": "hi", "title": over(201), "customer_phone": "010-1234-5678"}), "title"),
        (serde_json::json!({"content": "hi", "customer_phone": "010-1234-5678", "channel": "fax"}), "channel"),
        (serde_json::json!({"content": "hi", "customer_phone": "12345"}), "customer_phone"),
    ] {
        let response = app.submit(&body).await;
        assert_eq!(response.status(), 400, "{field}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let response = app
        .http
        .post(app.url("/api/inquiries"))
        .header("x-api-key", switchboard_tests::API_KEY)
        .header("idempotency-key", "k".repeat(256))
        .json(&serde_json::json!({"content": "hi", "customer_phone": "010-1234-5678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn an_faq_id_that_does_not_decode_is_a_documented_400_naming_the_id() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (method, path) in [("get", "/api/faq/{id}"), ("delete", "/api/faq/{id}"), ("delete", "/api/faq/{id}/variants/{index}")] {
        documents_problem(method, path, &doc["paths"][path][method], "400");
    }
    let response = app.http.get(app.url("/api/faq/%FF")).header("x-api-key", switchboard_tests::API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "id", "{problem}");
    let response = app
        .http
        .delete(app.url("/api/faq/faq-000000000000/variants/-1"))
        .header("x-api-key", switchboard_tests::API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn the_partner_page_form_is_documented_and_a_form_it_cannot_read_is_a_page() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let post = &doc["paths"]["/r/{token}"]["post"];
    assert!(post["requestBody"]["content"].get("application/x-www-form-urlencoded").is_some(), "{post}");
    for status in ["200", "400", "401", "409", "413", "415", "429"] {
        assert!(post["responses"][status]["content"].get("text/html").is_some(), "POST /r/{{token}} {status}: {post}");
    }
    // Sent as JSON, the form is refused with 415, as a page like every other answer of the route.
    let response = app.http.post(app.url("/r/some-token")).json(&serde_json::json!({"answer": "accept"})).send().await.unwrap();
    assert_eq!(response.status(), 415);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{:?}", response.headers());
    app.stop().await;
}

#[tokio::test]
async fn escalating_with_a_null_body_is_escalating_without_a_reason() {
    let app = TestApp::spawn().await;
    let id = app.submit_ok(&switchboard_tests::inquiry_body("예약 확인 부탁드립니다", "010-1234-5678")).await;
    let response = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/escalate")))
        .header("x-api-key", switchboard_tests::API_KEY)
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    // 200, or 409 if the pipeline already finished it; never a 400 for the documented null.
    assert!(status == 200 || status == 409, "{status}: {body}");
    app.stop().await;
}
