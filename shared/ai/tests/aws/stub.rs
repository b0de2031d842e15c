//! A local HTTP stub speaking the AWS wire protocols the AI engines use:
//! AWS JSON 1.1 (Comprehend, Textract: `POST /` with `X-Amz-Target`) and
//! REST-JSON (Bedrock Runtime: `POST /model/{modelId}/converse`). The real
//! SDK clients are pointed at it by endpoint URL; it records every request
//! and answers what the test says.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_ai::aws::{AwsAiClients, AwsAiSettings};
use switchboard_aws::{AwsOptions, Credentials};

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Percent-decoded (`/model/anthropic.claude…-v1:0/converse`).
    pub path: String,
    /// `X-Amz-Target` (JSON 1.1 protocols), e.g. `Comprehend_20171127.DetectSentiment`.
    pub target: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Recorded {
    /// The operation: the target's part after the dot, or `Converse`.
    pub fn operation(&self) -> &str {
        match &self.target {
            Some(t) => t.rsplit('.').next().unwrap_or(t),
            None if self.path.ends_with("/converse") => "Converse",
            None => "",
        }
    }

    /// The Converse request's model id.
    pub fn model_id(&self) -> Option<&str> {
        self.path.strip_prefix("/model/")?.strip_suffix("/converse")
    }
}

/// What the stub answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Option<Duration>,
}

impl Reply {
    /// 200 with an AWS JSON 1.1 body.
    pub fn amz_json(body: Value) -> Self {
        Self { status: 200, headers: vec![("content-type", "application/x-amz-json-1.1".into())], body: body.to_string(), delay: None }
    }

    /// An AWS JSON 1.1 error (`__type`).
    pub fn amz_error(status: u16, kind: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/x-amz-json-1.1".into())],
            body: json!({ "__type": kind, "message": "stubbed failure" }).to_string(),
            delay: None,
        }
    }

    /// 200 with a REST-JSON body.
    pub fn json(body: Value) -> Self {
        Self { status: 200, headers: vec![("content-type", "application/json".into())], body: body.to_string(), delay: None }
    }

    /// A REST-JSON error (`x-amzn-ErrorType` header).
    pub fn rest_error(status: u16, kind: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into()), ("x-amzn-errortype", kind.into())],
            body: json!({ "message": "stubbed failure" }).to_string(),
            delay: None,
        }
    }

    /// A 200 whose body is not what the protocol promises.
    pub fn garbage() -> Self {
        Self { status: 200, headers: vec![("content-type", "application/json".into())], body: "<html>oops".into(), delay: None }
    }

    /// This reply, after a pause (longer than the engine's budget in timeout tests).
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// A Bedrock Converse answer whose text is `text`.
    pub fn converse(text: &str) -> Self {
        Self::json(json!({
            "output": { "message": { "role": "assistant", "content": [{ "text": text }] } },
            "stopReason": "end_turn",
            "usage": { "inputTokens": 812, "outputTokens": 64, "totalTokens": 876 },
            "metrics": { "latencyMs": 420 }
        }))
    }
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct State {
    requests: Arc<Mutex<Vec<Recorded>>>,
    handler: Arc<Handler>,
}

/// A running stub.
pub struct Stub {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let recorded = Recorded {
        method: method.to_string(),
        path: urlencoding::decode(uri.path()).map(|p| p.into_owned()).unwrap_or_else(|_| uri.path().to_owned()),
        target: header("x-amz-target"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    // Which call of this operation this is (0 = first), for "fail once" replies.
    let nth = {
        let mut requests = state.requests.lock().unwrap();
        let nth = requests.iter().filter(|r| r.operation() == recorded.operation()).count();
        requests.push(recorded.clone());
        nth
    };
    let reply = (state.handler)(&recorded, nth);
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

impl Stub {
    /// Starts on a free loopback port; `handler` gets each request and how
    /// many earlier requests had the same operation.
    pub async fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = State { requests: requests.clone(), handler: Arc::new(handler) };
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, requests, task }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests of one operation (`DetectSentiment`, `Converse`…).
    pub fn calls(&self, operation: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.operation() == operation).collect()
    }

    /// SDK clients aimed at the stub, built as production builds them.
    pub async fn clients(&self) -> AwsAiClients {
        let options = AwsOptions {
            endpoint_url: Some(self.url.clone()),
            max_attempts: 1,
            region: Some("us-east-1".into()),
            credentials: Some(Credentials::new("testing", "testing", None, None, "stub")),
        };
        AwsAiClients::new(&switchboard_aws::sdk_config(&options).await, None)
    }
}

/// Generous budgets: tests of the timeout path shorten the one they test.
pub fn settings() -> AwsAiSettings {
    AwsAiSettings {
        answer_model_id: "anthropic.claude-3-haiku-20240307-v1:0".into(),
        vision_model_id: Some("anthropic.claude-3-haiku-20240307-v1:0".into()),
        classifier_model_id: None,
        classify_timeout: Duration::from_secs(20),
        answer_timeout: Duration::from_secs(20),
        attachment_timeout: Duration::from_secs(20),
    }
}

/// A budget the stub's [`SLOW`] reply overruns.
pub const SHORT: Duration = Duration::from_millis(300);

/// Longer than [`SHORT`], shorter than a test's patience.
pub const SLOW: Duration = Duration::from_secs(5);

/// Captures log lines written while it is alive (on this thread: the
/// tests run on a current-thread runtime), to check what logs carry.
pub struct Logs {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn capture() -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Writer(buffer.clone());
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).json().finish();
        Self { buffer, _guard: tracing::subscriber::set_default(subscriber) }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}
