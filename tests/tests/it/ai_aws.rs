//! The embedded pipeline with `SWITCHBOARD_AI=aws`: the real Comprehend,
//! Textract and Bedrock Runtime SDK clients, pointed at one local stub that
//! speaks their wire protocols (AWS JSON 1.1 with `X-Amz-Target`; REST-JSON
//! `POST /model/{modelId}/converse`). The local AWS emulator has no
//! Bedrock and only canned Comprehend/Textract answers, hence the stub.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard::config::AiMode;
use switchboard::{App, Ports, Selection};
use switchboard_aws::{AwsOptions, Credentials};
use switchboard_domain::InquiryId;
use switchboard_tests::aws_traffic::{amz_json, converse};
use switchboard_tests::{API_KEY, Options, PATIENCE, test_config};
use tokio_util::sync::CancellationToken;

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const PARKING_ANSWER: &str = "Guests park free of charge in our underground car park, one car per room. (Bedrock)";
const TOUR_ANSWER: &str = "The hanok village tour leaves the hotel lobby at 10 am daily. (Bedrock)";
const NOT_COVERED: &str = "The FAQ does not say whether the pool is heated.";
const DRAFT: &str = "We are sorry for the trouble; under our policy the refund is made in full. (Bedrock)";

/// One request the stub saw: its operation and JSON body.
#[derive(Debug, Clone)]
struct Seen {
    operation: String,
    path: String,
    body: Value,
}

/// Comprehend, Textract and Bedrock Runtime in one local HTTP server.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What each service answers. Bedrock answers from the question in the
/// user message: the FAQ covers parking and the tour; it does not cover
/// the pool (the model escalates); questions about the sauna meet a
/// failing model.
fn answer(operation: &str, body: &Value) -> Response {
    match operation {
        "DetectDominantLanguage" => amz_json(json!({ "Languages": [{ "LanguageCode": "en", "Score": 0.99 }] })),
        "DetectSentiment" => amz_json(json!({
            "Sentiment": "NEUTRAL",
            "SentimentScore": { "Positive": 0.05, "Negative": 0.02, "Neutral": 0.92, "Mixed": 0.01 }
        })),
        "DetectKeyPhrases" => amz_json(json!({ "KeyPhrases": [] })),
        "DetectPiiEntities" => amz_json(json!({ "Entities": [] })),
        "DetectDocumentText" => amz_json(json!({
            "DocumentMetadata": { "Pages": 1 },
            "Blocks": [{ "BlockType": "LINE", "Id": "l1", "Text": "HANOK VILLAGE DAY TOUR - ADMIT ONE" }]
        })),
        "Converse" => {
            let content = &body["messages"][0]["content"];
            if content[0].get("image").is_some() {
                return converse(r#"{"description":"A paper ticket for the hanok village day tour.","labels":["ticket","tour"]}"#);
            }
            let user = content[0]["text"].as_str().unwrap_or_default().to_lowercase();
            let system = body["system"][0]["text"].as_str().unwrap_or_default();
            if system.contains("three reply drafts") {
                return suggestions(&user);
            }
            if user.contains("sauna") {
                (StatusCode::INTERNAL_SERVER_ERROR, [("x-amzn-errortype", "InternalServerException")], r#"{"message":"boom"}"#)
                    .into_response()
            } else if user.contains("pool") {
                converse(&json!({ "answer": "", "confidence": 0.1, "escalate": true, "reason": NOT_COVERED }).to_string())
            } else if user.contains("tour") {
                converse(&json!({ "answer": TOUR_ANSWER, "confidence": 0.9, "escalate": false, "reason": null }).to_string())
            } else {
                converse(&json!({ "answer": PARKING_ANSWER, "confidence": 0.92, "escalate": false, "reason": null }).to_string())
            }
        }
        other => (StatusCode::BAD_REQUEST, format!("unexpected operation {other}")).into_response(),
    }
}

/// The model's reply drafts: each cites the first entry shown; a
/// conversation saying "urgent" meets a failing model.
fn suggestions(user: &str) -> Response {
    if user.contains("urgent") {
        return (StatusCode::INTERNAL_SERVER_ERROR, [("x-amzn-errortype", "InternalServerException")], r#"{"message":"boom"}"#)
            .into_response();
    }
    let draft = |level: &str, commits: &[&str]| json!({ "level": level, "text": DRAFT, "commits_to": commits, "facts": [1] });
    converse(
        &json!({ "suggestions": [draft("careful", &[]), draft("balanced", &["a reply by tomorrow"]), draft("direct", &["a refund under the policy"])] })
            .to_string(),
    )
}

async fn handle(
    axum::extract::State(seen): axum::extract::State<Arc<Mutex<Vec<Seen>>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().replace("%3A", ":").replace("%3a", ":");
    let operation = match headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
        None if path.ends_with("/converse") => "Converse".to_owned(),
        None => String::new(),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let response = answer(&operation, &body);
    seen.lock().unwrap().push(Seen { operation, path, body });
    response
}

impl Stub {
    async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new().fallback(handle).with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, seen, task }
    }

    fn options(&self) -> AwsOptions {
        AwsOptions {
            endpoint_url: Some(self.url.clone()),
            max_attempts: 1,
            region: Some("us-east-1".into()),
            credentials: Some(Credentials::new("testing", "testing", None, None, "stub")),
        }
    }

    fn calls(&self, operation: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.operation == operation).cloned().collect()
    }
}

/// The whole application in this process, `SWITCHBOARD_AI=aws`, its AWS
/// AI clients aimed at the stub.
struct AwsAiApp {
    base_url: String,
    http: reqwest::Client,
    ports: Ports,
    shutdown: CancellationToken,
    running: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl AwsAiApp {
    async fn spawn(stub: &Stub) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path(), &Options::default());
        config.ai = AiMode::Aws;
        config.bedrock_model_id = MODEL.into();
        let mut ports = Ports::embedded(&config).await.unwrap();
        ports.ai = switchboard::ai::engines(&config, &stub.options(), None).await.unwrap();
        let app = App::build_with(config, &Selection::all(), ports).await.unwrap();
        switchboard::demo::seed(app.ports.store.as_ref(), app.ports.store.as_ref(), API_KEY).await.unwrap();
        let base_url = format!("http://{}", app.http_addr());
        let ports = app.ports.clone();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let running = tokio::spawn(async move { app.run(token).await.unwrap() });
        Self { base_url, http: reqwest::Client::new(), ports, shutdown, running, _dir: dir }
    }

    async fn submit(&self, body: &Value) -> InquiryId {
        let response =
            self.http.post(format!("{}/api/inquiries", self.base_url)).header("x-api-key", API_KEY).json(body).send().await.unwrap();
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        InquiryId::parse(body["inquiry_id"].as_str().unwrap()).unwrap()
    }

    /// Waits until the pipeline is done with the inquiry.
    async fn settled(&self, id: InquiryId) -> switchboard_domain::Inquiry {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let inquiry = self.ports.store.get_inquiry(id).await.unwrap().unwrap();
            if matches!(inquiry.status.to_string().as_str(), "answered" | "escalated" | "resolved" | "failed") {
                return inquiry;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry stuck in {}", inquiry.status);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.running.await.unwrap();
    }
}

#[tokio::test]
async fn with_aws_engines_an_inquiry_the_faq_covers_is_answered_by_bedrock() {
    let stub = Stub::start().await;
    let app = AwsAiApp::spawn(&stub).await;
    let id = app
        .submit(&json!({ "content": "Hello, is there parking at the hotel and what does it cost?", "customer_phone": "+12135550149" }))
        .await;
    let inquiry = app.settled(id).await;

    assert_eq!(inquiry.status.to_string(), "answered");
    assert_eq!(inquiry.answer.as_deref(), Some(PARKING_ANSWER));
    let classification = inquiry.classification.unwrap();
    assert_eq!(classification.engine, "comprehend", "classified by Comprehend and the local rules");
    let records = app.ports.store.ai_responses(id).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].model.as_str(), records[0].prompt_tokens, records[0].completion_tokens), (MODEL, 900, 40));
    assert!(!records[0].fallback_used);

    assert_eq!(stub.calls("DetectSentiment").len(), 1);
    let converse = stub.calls("Converse");
    assert_eq!(converse.len(), 1);
    assert_eq!(converse[0].path, format!("/model/{MODEL}/converse"));
    let system = converse[0].body["system"][0]["text"].as_str().unwrap();
    assert!(system.contains("Guests park free of charge in the hotel's underground car park"), "the demo FAQ entry: {system}");
    assert!(system.contains("Hanbit Stay & Tours"), "the tenant");
    app.stop().await;
}

#[tokio::test]
async fn with_aws_engines_an_inquiry_the_faq_does_not_cover_is_escalated_with_the_model_s_reason() {
    let stub = Stub::start().await;
    let app = AwsAiApp::spawn(&stub).await;
    let id = app.submit(&json!({ "content": "Is the swimming pool heated in winter?", "customer_email": "guest@example.com" })).await;
    let inquiry = app.settled(id).await;

    assert_eq!(inquiry.status.to_string(), "escalated");
    let escalation = inquiry.escalation.unwrap();
    assert_eq!(escalation.reason, NOT_COVERED);
    assert!(escalation.customer_message.contains("A member of our team"), "a person will answer: {}", escalation.customer_message);
    let records = app.ports.store.ai_responses(id).await.unwrap();
    assert!(!records[0].fallback_used && records[0].model == MODEL);
    app.stop().await;
}

#[tokio::test]
async fn with_aws_engines_a_failing_model_gives_the_fallback_message_and_an_escalation() {
    let stub = Stub::start().await;
    let app = AwsAiApp::spawn(&stub).await;
    let id = app.submit(&json!({ "content": "What time does the sauna open in the morning?", "customer_phone": "+12135550149" })).await;
    let inquiry = app.settled(id).await;

    assert_eq!(inquiry.status.to_string(), "escalated", "never stuck, never invented");
    let escalation = inquiry.escalation.unwrap();
    assert!(escalation.reason.starts_with("answer engine failed"), "{}", escalation.reason);
    assert!(escalation.customer_message.contains("cannot answer it automatically"), "the responder's fallback message");
    let records = app.ports.store.ai_responses(id).await.unwrap();
    assert_eq!((records[0].model.as_str(), records[0].fallback_used), ("fallback", true));
    assert_eq!(stub.calls("Converse").len(), 1, "a 5xx is not retried");
    app.stop().await;
}

/// A valid 40×40 black PNG.
fn photo() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let side = 40u32;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let raw = vec![0u8; (1 + side as usize * 3) * side as usize];
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    let mut zlib = vec![0x78, 0x01, 1];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn with_aws_engines_a_photo_flows_through_textract_and_vision_to_the_classifier_and_responder() {
    let stub = Stub::start().await;
    let app = AwsAiApp::spawn(&stub).await;
    let image = photo();
    let body = json!({
        "content": "Where does the hanok village tour start? Photo of my ticket attached.",
        "customer_phone": "+12135550149",
        "attachments": [{ "filename": "ticket.png", "content_base64": base64::engine::general_purpose::STANDARD.encode(&image) }],
    });
    let id = app.submit(&body).await;
    let inquiry = app.settled(id).await;

    assert_eq!(inquiry.status.to_string(), "answered");
    assert_eq!(inquiry.answer.as_deref(), Some(TOUR_ANSWER));
    let records = app.ports.store.attachments(id).await.unwrap();
    let analysis = records[0].analysis.as_ref().expect("analysis stored on the attachment");
    assert_eq!(analysis["extracted_text"], "HANOK VILLAGE DAY TOUR - ADMIT ONE");
    assert_eq!(analysis["description"], "A paper ticket for the hanok village day tour.");
    assert_eq!(analysis["engine"], "local-checks+textract+bedrock-vision");
    let sent = stub.calls("DetectDocumentText");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body["Document"]["Bytes"].as_str().map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap()),
        Some(image)
    );

    // The classifier ran after the analysis (the attachment texts reach
    // the local rules), and before the answer.
    let timeline = app.ports.store.timeline(id).await.unwrap();
    let kinds: Vec<String> = timeline.iter().map(|e| e.kind.clone()).collect();
    let at = |kind: &str| kinds.iter().position(|k| k == kind).unwrap_or_else(|| panic!("{kind} in {kinds:?}"));
    assert!(at("status.analyzing") < at("status.classified") && at("status.classified") < at("status.answered"));
    app.stop().await;
}

/// Reply suggestions for an escalated refund request, through the gateway.
async fn suggestions_of(app: &AwsAiApp, content: &str) -> Value {
    let id = app.submit(&json!({ "content": content, "customer_phone": "+12135550149" })).await;
    let inquiry = app.settled(id).await;
    assert_eq!(inquiry.status.to_string(), "escalated");
    let url = format!("{}/api/inquiries/{id}/suggestions", app.base_url);
    let response = app.http.get(url).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn with_aws_engines_reply_suggestions_are_drafted_by_bedrock_grounded_in_the_entries_it_was_shown() {
    let stub = Stub::start().await;
    let app = AwsAiApp::spawn(&stub).await;
    let body = suggestions_of(&app, "I cancelled my booking two weeks ahead and I want my full refund now.").await;
    assert_eq!(body["engine"], MODEL);
    let drafts = body["suggestions"].as_array().unwrap();
    assert_eq!(drafts.iter().map(|d| d["level"].as_str().unwrap()).collect::<Vec<_>>(), ["careful", "balanced", "direct"]);
    assert_eq!(drafts[2]["text"], DRAFT);
    assert_eq!(drafts[2]["commits_to"], json!(["a refund under the policy"]));
    let calls = stub.calls("Converse");
    let prompt =
        calls.iter().find(|c| c.body["system"][0]["text"].as_str().unwrap().contains("three reply drafts")).expect("a drafts call");
    let system = prompt.body["system"][0]["text"].as_str().unwrap();
    let cited = drafts[2]["grounded_on"][0]["question"].as_str().unwrap();
    assert!(system.contains(&format!("1. Q: {cited}")), "the cited entry is the first one shown: {system}");
    app.stop().await;
}

#[tokio::test]
async fn with_aws_engines_a_failing_model_gives_the_local_reply_suggestions() {
    let stub = Stub::start().await;
    let app = AwsAiApp::spawn(&stub).await;
    let body = suggestions_of(&app, "I cancelled my booking two weeks ahead and I want my full refund now, it is urgent.").await;
    assert_eq!(body["engine"], "local-suggestions-v1", "{body}");
    assert_eq!(body["suggestions"].as_array().unwrap().len(), 3);
    app.stop().await;
}
