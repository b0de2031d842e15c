//! A property-based fuzz of the REST API: proptest generates requests
//! (methods, paths with real, unknown and malformed ids, query strings,
//! keys, headers and JSON or junk bodies) and every answer must be a
//! deliberate one: never a 5xx, never a dropped connection (a panic), and
//! every error in problem+json (the partner's HTML page excepted).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use switchboard_tests::{API_KEY, OPERATOR_KEY, TestApp, inquiry_body};

/// Requests per run.
const CASES: u32 = 300;

#[derive(Debug, Clone)]
struct Fuzzed {
    method: reqwest::Method,
    path: String,
    key: Option<String>,
    content_type: Option<&'static str>,
    idempotency_key: Option<String>,
    body: Option<Vec<u8>>,
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("+821012345678")),
        Just(json!("HT-20481123")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects with the API's own field names and random values.
fn api_object() -> impl Strategy<Value = Value> {
    let fields = prop::sample::select(vec![
        "content",
        "customer_phone",
        "customer_email",
        "title",
        "reservation_number",
        "channel",
        "language",
        "attachments",
        "reason",
        "human_answer",
        "token",
        "answer",
        "proposed_time",
        "message",
        "customerPhone",
        "reservationNumber",
        "tenant_id",
        "partner_phone",
        "partner_locale",
        "customer_name",
    ]);
    prop::collection::btree_map(fields, json_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        json_value().prop_map(|v| Some(v.to_string().into_bytes())),
        api_object().prop_map(|v| Some(v.to_string().into_bytes())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
        Just(Some(b"{\"content\": \"Hello\", \"customer_phone\": \"+821012345678\"}".to_vec())),
    ]
}

fn id(real: String) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(real),
        Just("0190f5e2-7c3a-7b1e-8a4d-0123456789ab".to_owned()),
        "[a-zA-Z0-9%._~-]{0,40}",
        Just("%FF%FE".to_owned()),
        Just("..%2F..%2Fetc".to_owned()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let pair = (
        prop::sample::select(vec!["status", "urgency", "created_after", "created_before", "tenant_id", "page_size", "page_token", "x"]),
        prop_oneof![
            "[a-zA-Z0-9%+:._-]{0,24}",
            Just("escalated".to_owned()),
            Just("high".to_owned()),
            Just("2026-11-22T09:00:00Z".to_owned()),
            Just("100".to_owned()),
            Just("-1".to_owned()),
        ],
    );
    prop::collection::vec(pair, 0..4).prop_map(|pairs| {
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
        }
    })
}

fn request(real_id: String) -> impl Strategy<Value = Fuzzed> {
    let path = (
        prop::sample::select(vec![
            "/api/inquiries",
            "/api/inquiries/{id}",
            "/api/inquiries/{id}/status",
            "/api/inquiries/{id}/escalate",
            "/api/inquiries/{id}/resolve",
            "/api/inquiries/{id}/events",
            "/api/reservations",
            "/chat",
            "/confirm/{id}",
            "/respond",
            "/r/{id}",
            "/openapi.json",
            "/healthz",
            "/readyz",
            "/{id}",
            "/api/{id}/{id}",
        ]),
        id(real_id),
        query(),
    )
        .prop_map(|(template, id, query)| format!("{}{query}", template.replace("{id}", &id)));
    let method = prop::sample::select(vec![
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
        reqwest::Method::OPTIONS,
    ]);
    let key = prop_oneof![Just(None), Just(Some(API_KEY.to_owned())), Just(Some(OPERATOR_KEY.to_owned())), "[ -~]{0,30}".prop_map(Some)];
    let content_type =
        prop::sample::select(vec![Some("application/json"), Some("text/plain"), Some("application/x-www-form-urlencoded"), None]);
    let idempotency_key = prop_oneof![Just(None), "[ -~]{0,300}".prop_map(Some)];
    (method, path, key, content_type, idempotency_key, body()).prop_map(|(method, path, key, content_type, idempotency_key, body)| Fuzzed {
        method,
        path,
        key,
        content_type,
        idempotency_key,
        body,
    })
}

async fn send(app: &TestApp, r: &Fuzzed) -> Result<(), String> {
    let mut builder = app.http.request(r.method.clone(), app.url(&r.path));
    if let Some(key) = &r.key {
        builder = builder.header("x-api-key", key.as_str());
    }
    if let Some(ct) = r.content_type {
        builder = builder.header("content-type", ct);
    }
    if let Some(k) = &r.idempotency_key {
        builder = builder.header("idempotency-key", k.as_str());
    }
    if let Some(body) = &r.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(|e| format!("no answer (a panic?): {e}"))?;
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = response.text().await.map_err(|e| format!("body cut short: {e}"))?;
    if status.is_server_error() {
        return Err(format!("{status}: {text}"));
    }
    let page = r.path.starts_with("/r/");
    if status.is_client_error() && !page && content_type != "application/problem+json" {
        return Err(format!("{status} without problem+json ({content_type}): {text}"));
    }
    Ok(())
}

#[test]
fn generated_requests_never_get_a_5xx_or_a_dropped_connection_and_errors_are_problems() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (app, real_id) = runtime.block_on(async {
        let app = TestApp::spawn().await;
        let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
        // Finished, so its event stream ends at once when a case asks for it.
        app.wait_terminal(&id).await;
        (app, id)
    });
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let result = runner.run(&request(real_id), |fuzzed| {
        runtime.block_on(send(&app, &fuzzed)).map_err(|why| TestCaseError::fail(format!("{} {}: {why}", fuzzed.method, fuzzed.path)))
    });
    runtime.block_on(app.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}
