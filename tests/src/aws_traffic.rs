//! A recording proxy between one component's AWS clients and the local
//! emulator, for the least-privilege test: it keeps every request's
//! service, operation and the resources it names (queue, topic, table,
//! bucket, model), so each call can be checked against the resources the
//! component's role grants, not just the action. Comprehend, Textract and
//! Bedrock Runtime, which the emulator lacks (or only fakes), are answered
//! by the proxy itself with well-formed replies, so the AWS AI engines run
//! their real SDK calls through it too.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use switchboard_aws::{AwsOptions, Credentials};

/// One request a component made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCall {
    /// The SigV4 signing name: `sqs`, `sns`, `dynamodb`, `s3`, `ses`,
    /// `comprehend`, `textract`, `bedrock`.
    pub service: String,
    /// The API operation, as the SDK names it (`ReceiveMessage`, `Converse`).
    pub operation: String,
    /// The resources the request names.
    pub resources: Vec<Resource>,
}

/// A resource named in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A queue, by name.
    Queue(String),
    /// A topic, by ARN.
    Topic(String),
    /// A text to a phone number (SNS publish without a topic).
    PhoneNumber,
    /// A table, or one of its indexes.
    Table { table: String, index: Option<String> },
    /// An object in a bucket.
    Object { bucket: String, key: String },
    /// The identity an e-mail is sent from.
    EmailIdentity(String),
    /// A Bedrock model, by id.
    Model(String),
}

/// A running proxy; stops when dropped.
pub struct AwsTraffic {
    url: String,
    calls: Arc<Mutex<Vec<AwsCall>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AwsTraffic {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct State {
    emulator: String,
    http: reqwest::Client,
    calls: Arc<Mutex<Vec<AwsCall>>>,
}

impl AwsTraffic {
    /// Starts a proxy forwarding to the emulator at `emulator`.
    pub async fn start(emulator: &str) -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let state = State { emulator: emulator.trim_end_matches('/').to_owned(), http: reqwest::Client::new(), calls: calls.clone() };
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let url = format!("http://{}", listener.local_addr().expect("a local address"));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the proxy serves");
        });
        Self { url, calls, task }
    }

    /// SDK options aimed at this proxy (as [`crate::emulator::Emulator::aws_options`]).
    pub fn aws_options(&self) -> AwsOptions {
        AwsOptions {
            endpoint_url: Some(self.url.clone()),
            max_attempts: 2,
            region: Some("us-east-1".into()),
            credentials: Some(Credentials::new("testing", "testing", None, None, "proxy")),
        }
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<AwsCall> {
        self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = describe(&method, &uri, &headers, &body);
    let (service, operation) = (call.service.clone(), call.operation.clone());
    // Recorded on arrival: a long poll cut short at shutdown still counts.
    state.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(call);
    match service.as_str() {
        "comprehend" | "textract" | "bedrock" => answer_ai(&operation, &body),
        _ => forward(&state, &method, &uri, &headers, body).await,
    }
}

async fn forward(state: &State, method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Response {
    let target = format!("{}{}", state.emulator, uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = state.http.request(method, target).body(body);
    for (name, value) in headers {
        if !matches!(name.as_str(), "host" | "content-length") {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    match request.send().await {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut out = HeaderMap::new();
            for (name, value) in r.headers() {
                if matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection") {
                    continue;
                }
                if let (Ok(name), Ok(value)) =
                    (axum::http::HeaderName::from_bytes(name.as_str().as_bytes()), axum::http::HeaderValue::from_bytes(value.as_bytes()))
                {
                    out.insert(name, value);
                }
            }
            let bytes = r.bytes().await.unwrap_or_default();
            (status, out, bytes).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// The signing name from `Authorization: AWS4-HMAC-SHA256 Credential=key/date/region/service/aws4_request`.
fn signing_service(headers: &HeaderMap) -> String {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let credential = authorization.split("Credential=").nth(1).unwrap_or_default();
    credential.split(['/', ',']).nth(3).unwrap_or_default().to_owned()
}

fn percent_decoded(s: &str) -> String {
    let url = reqwest::Url::parse(&format!("http://x/?v={}", s.replace('&', "%26"))).ok();
    url.and_then(|u| u.query_pairs().next().map(|(_, v)| v.into_owned())).unwrap_or_else(|| s.to_owned())
}

/// What a request is: its service, operation and the resources it names.
fn describe(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> AwsCall {
    let service = signing_service(headers);
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(|t| t.rsplit('.').next().unwrap_or(t).to_owned());
    let path = uri.path();
    let mut resources = Vec::new();
    let operation = match service.as_str() {
        "sqs" => {
            if let Some(url) = json["QueueUrl"].as_str() {
                resources.push(Resource::Queue(url.rsplit('/').next().unwrap_or(url).to_owned()));
            }
            if let Some(name) = json["QueueName"].as_str() {
                resources.push(Resource::Queue(name.to_owned()));
            }
            target.unwrap_or_default()
        }
        "sns" => {
            let form = reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(body))).ok();
            let pairs: Vec<(String, String)> = form.map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default();
            let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            match (field("TopicArn"), field("PhoneNumber")) {
                (Some(arn), _) => resources.push(Resource::Topic(arn)),
                (None, Some(_)) => resources.push(Resource::PhoneNumber),
                (None, None) => {}
            }
            field("Action").or(target).unwrap_or_default()
        }
        "dynamodb" => {
            let mut table = |value: &Value| {
                if let Some(table) = value["TableName"].as_str() {
                    resources.push(Resource::Table { table: table.to_owned(), index: value["IndexName"].as_str().map(str::to_owned) });
                }
            };
            table(&json);
            for item in json["TransactItems"].as_array().into_iter().flatten() {
                for kind in ["Put", "Update", "Delete", "ConditionCheck", "Get"] {
                    table(&item[kind]);
                }
            }
            if let Some(tables) = json["RequestItems"].as_object() {
                for name in tables.keys() {
                    resources.push(Resource::Table { table: name.clone(), index: None });
                }
            }
            target.unwrap_or_default()
        }
        "s3" => {
            let mut parts = path.trim_start_matches('/').splitn(2, '/');
            let bucket = parts.next().unwrap_or_default().to_owned();
            let key = parts.next().unwrap_or_default().to_owned();
            let operation = match (method.as_str(), key.is_empty()) {
                ("PUT", false) => "PutObject",
                ("GET", false) => "GetObject",
                ("HEAD", false) => "HeadObject",
                ("DELETE", false) => "DeleteObject",
                ("PUT", true) => "CreateBucket",
                ("HEAD", true) => "HeadBucket",
                _ => "Unknown",
            };
            resources.push(Resource::Object { bucket, key: percent_decoded(&key) });
            operation.to_owned()
        }
        "ses" => {
            if let Some(from) = json["FromEmailAddress"].as_str() {
                resources.push(Resource::EmailIdentity(from.to_owned()));
            }
            if path.ends_with("/outbound-emails") { "SendEmail".to_owned() } else { path.to_owned() }
        }
        "bedrock" => {
            let model = path.strip_prefix("/model/").and_then(|rest| rest.rsplit_once('/')).map(|(model, _)| percent_decoded(model));
            resources.extend(model.map(Resource::Model));
            if path.ends_with("/converse") { "Converse".to_owned() } else { path.rsplit('/').next().unwrap_or_default().to_owned() }
        }
        _ => target.unwrap_or_default(),
    };
    AwsCall { service, operation, resources }
}

/// A 200 answer in the JSON protocol Comprehend and Textract speak.
pub fn amz_json(body: Value) -> Response {
    (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], body.to_string()).into_response()
}

/// A Bedrock Converse answer saying `text`, billed 900 prompt and 40
/// completion tokens.
pub fn converse(text: &str) -> Response {
    let body = json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": text }] } },
        "stopReason": "end_turn",
        "usage": { "inputTokens": 900, "outputTokens": 40, "totalTokens": 940 }
    });
    (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
}

fn is_korean(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

fn sentiment(text: &str) -> Value {
    let angry = ["furious", "rude", "angry"].iter().any(|w| text.to_lowercase().contains(w));
    let (label, negative, neutral) = if angry { ("NEGATIVE", 0.95, 0.03) } else { ("NEUTRAL", 0.02, 0.95) };
    json!({ "Sentiment": label, "SentimentScore": { "Positive": 0.01, "Negative": negative, "Neutral": neutral, "Mixed": 0.01 } })
}

fn language(text: &str) -> Value {
    json!({ "Languages": [{ "LanguageCode": if is_korean(text) { "ko" } else { "en" }, "Score": 0.99 }] })
}

/// Well-formed answers of Comprehend, Textract and Bedrock Runtime: the
/// engines take them as the services' own; what they say matters little
/// here (the pipeline's paths are chosen by the inquiries' words).
fn answer_ai(operation: &str, body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = request["Text"].as_str().unwrap_or_default();
    let each = |f: &dyn Fn(&str) -> Value| -> Value {
        let results: Vec<Value> = request["TextList"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| {
                let mut result = f(t.as_str().unwrap_or_default());
                result["Index"] = json!(i);
                result
            })
            .collect();
        json!({ "ResultList": results, "ErrorList": [] })
    };
    match operation {
        "DetectDominantLanguage" => amz_json(language(text)),
        "BatchDetectDominantLanguage" => amz_json(each(&language)),
        "DetectSentiment" => amz_json(sentiment(text)),
        "BatchDetectSentiment" => amz_json(each(&sentiment)),
        "DetectKeyPhrases" => amz_json(json!({ "KeyPhrases": [] })),
        "BatchDetectKeyPhrases" => amz_json(each(&|_: &str| json!({ "KeyPhrases": [] }))),
        "DetectPiiEntities" => amz_json(json!({ "Entities": [] })),
        "DetectDocumentText" | "AnalyzeDocument" => amz_json(json!({
            "DocumentMetadata": { "Pages": 1 },
            "Blocks": [{ "BlockType": "LINE", "Id": "l1", "Text": "ADMIT ONE" }]
        })),
        "Converse" => {
            let content = &request["messages"][0]["content"];
            if content.as_array().into_iter().flatten().any(|c| c.get("image").is_some()) {
                converse(r#"{"description":"A small test image.","labels":["test"]}"#)
            } else {
                let user = content[0]["text"].as_str().unwrap_or_default();
                let answer = if is_korean(user) { "체크인은 오후 3시부터입니다." } else { "Check-in starts at 3 pm." };
                converse(&json!({ "answer": answer, "confidence": 0.9, "escalate": false, "reason": null }).to_string())
            }
        }
        other => (StatusCode::BAD_REQUEST, format!("the proxy does not answer {other}")).into_response(),
    }
}
