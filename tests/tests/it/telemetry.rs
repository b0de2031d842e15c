//! Telemetry end to end: the real binary exports its spans over OTLP to an
//! in-process collector (a tonic server on the OTLP trace proto), and the
//! tests check the traces, the JSON logs and the metrics of full pipeline
//! runs: one X-Ray-valid trace per inquiry through every service it
//! visited, consumers children of (and linked to) their producers, and no
//! phone number, e-mail address or message content anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use base64::Engine;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_tests::emulator::{emulator, unique_prefix};
use switchboard_tests::process::{Process, binary, free_port};
use switchboard_tests::{API_KEY, PATIENCE, token_in};

// ---------------------------------------------------------------- collector

/// A span as the collector received it, with its resource's `service.name`.
#[derive(Debug, Clone)]
struct Collected {
    service_name: String,
    span: Span,
}

/// An OTLP/gRPC trace collector in this test process.
struct Collector {
    endpoint: String,
    spans: Arc<Mutex<Vec<Collected>>>,
    resources: Arc<Mutex<Vec<Vec<KeyValue>>>>,
}

#[derive(Clone)]
struct Receiver {
    spans: Arc<Mutex<Vec<Collected>>>,
    resources: Arc<Mutex<Vec<Vec<KeyValue>>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        for resource_spans in request.into_inner().resource_spans {
            let attributes = resource_spans.resource.map(|r| r.attributes).unwrap_or_default();
            let service_name = string_of(&attributes, "service.name").unwrap_or_default();
            self.resources.lock().unwrap().push(attributes);
            let mut spans = self.spans.lock().unwrap();
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans.into_iter().map(|span| Collected { service_name: service_name.clone(), span }));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

impl Collector {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Receiver { spans: Arc::default(), resources: Arc::default() };
        let (spans, resources) = (receiver.spans.clone(), receiver.resources.clone());
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(receiver))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
        Self { endpoint, spans, resources }
    }

    fn spans(&self) -> Vec<Collected> {
        self.spans.lock().unwrap().clone()
    }

    /// Every text the collector received: names, attribute values, events, resources.
    fn all_text(&self) -> String {
        let mut out = String::new();
        for c in self.spans() {
            out.push_str(&c.span.name);
            out.push('\n');
            push_values(&mut out, &c.span.attributes);
            for event in &c.span.events {
                out.push_str(&event.name);
                out.push('\n');
                push_values(&mut out, &event.attributes);
            }
            if let Some(status) = &c.span.status {
                out.push_str(&status.message);
                out.push('\n');
            }
        }
        for resource in self.resources.lock().unwrap().iter() {
            push_values(&mut out, resource);
        }
        out
    }
}

fn text_of(value: &Option<AnyValue>) -> Option<String> {
    match value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn push_values(out: &mut String, attributes: &[KeyValue]) {
    for kv in attributes {
        out.push_str(&format!("{}={}\n", kv.key, text_of(&kv.value).unwrap_or_default()));
    }
}

fn string_of(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| text_of(&kv.value))
}

fn attr(c: &Collected, key: &str) -> Option<String> {
    string_of(&c.span.attributes, key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kind(c: &Collected) -> SpanKind {
    SpanKind::try_from(c.span.kind).unwrap_or(SpanKind::Unspecified)
}

fn now_secs() -> u64 {
    jiff::Timestamp::now().as_second() as u64
}

// ------------------------------------------------------------ trace checks

/// The one trace of `inquiry_id`, checked: exactly one trace id, X-Ray
/// valid, a single root (the gateway's server span), no span whose parent
/// is missing, every span's `service.name` its component's, every consumer
/// the child of a producer span and linked to it, with the messaging
/// attributes. Returns the trace's spans.
fn checked_trace(spans: &[Collected], inquiry_id: &str, started_secs: u64, root_service: &str) -> Vec<Collected> {
    let trace_ids: BTreeSet<String> =
        spans.iter().filter(|c| attr(c, "switchboard.inquiry_id").as_deref() == Some(inquiry_id)).map(|c| hex(&c.span.trace_id)).collect();
    assert_eq!(trace_ids.len(), 1, "inquiry {inquiry_id} must be exactly one trace: {trace_ids:?}");
    let trace_id = trace_ids.into_iter().next().unwrap();
    let epoch = u64::from_str_radix(&trace_id[..8], 16).unwrap();
    assert!(
        epoch + 5 >= started_secs && epoch <= now_secs() + 5,
        "trace id {trace_id} does not start with the time it was made (X-Ray would refuse it)"
    );

    let trace: Vec<Collected> = spans.iter().filter(|c| hex(&c.span.trace_id) == trace_id).cloned().collect();
    let by_id: BTreeMap<String, &Collected> = trace.iter().map(|c| (hex(&c.span.span_id), c)).collect();
    let roots: Vec<&Collected> = trace.iter().filter(|c| c.span.parent_span_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "one root per trace: {:?}", roots.iter().map(|c| &c.span.name).collect::<Vec<_>>());
    assert_eq!(kind(roots[0]), SpanKind::Server, "the trace starts with the gateway's request span");
    assert_eq!(roots[0].service_name, format!("switchboard-{root_service}"));
    for c in &trace {
        if !c.span.parent_span_id.is_empty() {
            assert!(by_id.contains_key(&hex(&c.span.parent_span_id)), "span {} has a parent outside its trace", c.span.name);
        }
        let component = attr(c, "switchboard.service").unwrap_or_else(|| panic!("span {} has no switchboard.service", c.span.name));
        assert_eq!(c.service_name, format!("switchboard-{component}"), "span {} exported under another service", c.span.name);
    }
    for consumer in trace.iter().filter(|c| kind(c) == SpanKind::Consumer) {
        let parent = by_id[&hex(&consumer.span.parent_span_id)];
        assert_eq!(kind(parent), SpanKind::Producer, "{} is not the child of a producer span", consumer.span.name);
        assert!(
            consumer.span.links.iter().any(|l| l.span_id == parent.span.span_id && l.trace_id == parent.span.trace_id),
            "{} is not linked to its producer",
            consumer.span.name
        );
        for key in ["messaging.system", "messaging.destination.name", "messaging.message.id"] {
            assert!(attr(consumer, key).is_some(), "{} lacks {key}", consumer.span.name);
        }
        assert_eq!(attr(consumer, "messaging.operation.type").as_deref(), Some("process"));
    }
    trace
}

fn services_of(trace: &[Collected]) -> BTreeSet<String> {
    trace.iter().filter_map(|c| attr(c, "switchboard.service")).collect()
}

fn assert_services(trace: &[Collected], expected: &[&str]) {
    let services = services_of(trace);
    for service in expected {
        assert!(services.contains(*service), "no {service} span in the trace; services: {services:?}");
    }
}

fn assert_client_span(trace: &[Collected], name: &str) {
    assert!(
        trace.iter().any(|c| c.span.name == name && kind(c) == SpanKind::Client),
        "no {name} client span in the trace: {:?}",
        trace.iter().map(|c| &c.span.name).collect::<Vec<_>>()
    );
}

/// Asserts none of `secrets` appears in `text` (named `what` in the failure).
fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        if let Some(at) = text.find(secret) {
            let start = text[..at].char_indices().rev().nth(120).map(|(i, _)| i).unwrap_or(0);
            let end = (at + secret.len() + 120).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            panic!("{what} contains {secret:?}: …{}…", &text[start..end]);
        }
    }
}

// ------------------------------------------------------------------ helpers

fn tiny_png() -> String {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    base64::engine::general_purpose::STANDARD.encode(png)
}

/// The test's inquiries: their contacts and content are the secrets
/// searched for afterwards.
const FAQ_PHONE: &str = "+12135550187";
const FAQ_CONTENT: &str = "What time is check-in? Zebracanary four four one two";
const ESCALATION_EMAIL: &str = "quokka.canary@example.org";
const ESCALATION_CONTENT: &str = "The staff were rude and I am furious, call me now! Quokkacanary";
const ATTACHMENT_PHONE: &str = "+12135550177";
const ATTACHMENT_CONTENT: &str = "Where does the hanok village tour start? Photo of my ticket attached. Lynxcanary";
const GRPC_PHONE: &str = "+12135550166";
const GRPC_CONTENT: &str = "Is breakfast included? Otercanary";
const PARTNER_CONTENT: &str = "예약 날짜를 12월 25일로 변경하고 싶습니다. 예약번호 HT-20481123 입니다. 부엉이카나리아";
/// The demo reservation's customer and partner.
const RESERVATION_CUSTOMER_PHONE: &str = "010-1234-5678";
const PARTNER_PHONE: &str = "+821098765432";

const SECRETS: &[&str] = &[
    FAQ_PHONE,
    "2135550187",
    "Zebracanary",
    ESCALATION_EMAIL,
    "quokka.canary",
    "Quokkacanary",
    ATTACHMENT_PHONE,
    "2135550177",
    "Lynxcanary",
    "부엉이카나리아",
    "변경하고 싶습니다",
    RESERVATION_CUSTOMER_PHONE,
    "+821012345678",
    "1012345678",
    PARTNER_PHONE,
    "1098765432",
    GRPC_PHONE,
    "2135550166",
    "Otercanary",
];

struct Client {
    base_url: String,
    http: reqwest::Client,
}

impl Client {
    async fn submit(&self, body: Value) -> String {
        let r = self.http.post(format!("{}/api/inquiries", self.base_url)).header("x-api-key", API_KEY).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
        r.json::<Value>().await.unwrap()["inquiry_id"].as_str().unwrap().to_owned()
    }

    async fn inquiry(&self, id: &str) -> Value {
        let r = self.http.get(format!("{}/api/inquiries/{id}", self.base_url)).header("x-api-key", API_KEY).send().await.unwrap();
        r.json().await.unwrap()
    }

    /// Waits until the timeline records `prefix` (a bound on waiting, not a speed claim).
    async fn wait_timeline(&self, id: &str, prefix: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let v = self.inquiry(id).await;
            let found =
                v["timeline"].as_array().is_some_and(|t| t.iter().any(|e| e["kind"].as_str().is_some_and(|k| k.starts_with(prefix))));
            if found {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} never recorded {prefix}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn metrics(&self) -> String {
        let r = self.http.get(format!("{}/metrics", self.base_url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }
}

/// `switchboard outbox` of the embedded data directory, for one inquiry.
fn outbox(dir: &Path, id: &str) -> Vec<Value> {
    let out = std::process::Command::new(binary()).args(["outbox", "--inquiry", id, "--data-dir"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn telemetry_env(collector: &Collector) -> Vec<(&'static str, &str)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()),
        ("SWITCHBOARD_LOG_FORMAT", "json"),
        // Our crates at debug: more log lines that could leak.
        ("RUST_LOG", "info,switchboard=debug"),
        ("SWITCHBOARD_GRPC_ADDR", "127.0.0.1:0"),
    ]
}

// -------------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_embedded_inquiry_is_one_x_ray_trace_through_its_services_and_nothing_personal_is_exported_or_logged() {
    let started = now_secs();
    let collector = Collector::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let grpc_addr = format!("127.0.0.1:{}", free_port());
    let mut env = telemetry_env(&collector);
    env.push(("SWITCHBOARD_GRPC_ADDR", grpc_addr.as_str()));
    let mut process = Process::start(dir.path(), port, &env).await;
    let client = Client { base_url: process.base_url.clone(), http: reqwest::Client::new() };

    let faq = client.submit(json!({ "content": FAQ_CONTENT, "customer_phone": FAQ_PHONE })).await;
    let escalation = client.submit(json!({ "content": ESCALATION_CONTENT, "customer_email": ESCALATION_EMAIL })).await;
    let attachment = client
        .submit(json!({
            "content": ATTACHMENT_CONTENT,
            "customer_phone": ATTACHMENT_PHONE,
            "attachments": [{ "filename": "ticket.png", "content_base64": tiny_png() }],
        }))
        .await;
    let partner = client.submit(json!({ "content": PARTNER_CONTENT, "customer_phone": RESERVATION_CUSTOMER_PHONE })).await;
    // Over gRPC too: the call's server span starts the trace.
    let channel = tonic::transport::Channel::from_shared(format!("http://{grpc_addr}")).unwrap().connect().await.unwrap();
    let mut grpc = switchboard_proto::v1::inquiry_service_client::InquiryServiceClient::new(channel);
    let request = switchboard_proto::v1::SubmitInquiryRequest {
        content: GRPC_CONTENT.into(),
        customer_phone: GRPC_PHONE.into(),
        ..Default::default()
    };
    let over_grpc = grpc.submit_inquiry(switchboard_tests::grpc::keyed(API_KEY, request)).await.unwrap().into_inner().inquiry_id;

    // The partner accepts through the link texted to them.
    client.wait_timeline(&partner, "partner.sms_sent").await;
    let sms = outbox(dir.path(), &partner).into_iter().find(|m| m["to"] == PARTNER_PHONE).expect("the partner's SMS");
    let token = token_in(sms["body"].as_str().unwrap());
    let answered =
        client.http.post(format!("{}/respond", client.base_url)).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    assert_eq!(answered.status(), 200);

    for id in [&faq, &escalation, &attachment, &partner, &over_grpc] {
        client.wait_timeline(id, "notification.customer.").await;
    }
    client.wait_timeline(&escalation, "notification.operators").await;
    let metrics = client.metrics().await;

    // SIGTERM: the process drains, then flushes its spans before exiting.
    process.terminate();
    let status = process.wait_exit(PATIENCE).await.expect("switchboard exits after SIGTERM");
    assert!(status.success(), "exit status {status:?}");

    let spans = collector.spans();
    let trace = checked_trace(&spans, &faq, started, "gateway");
    assert_services(&trace, &["gateway", "intake", "classifier", "responder", "notifier"]);
    assert_client_span(&trace, "ai classify");
    assert_client_span(&trace, "ai draft");
    let trace = checked_trace(&spans, &escalation, started, "gateway");
    assert_services(&trace, &["gateway", "intake", "classifier", "responder", "notifier"]);
    let trace = checked_trace(&spans, &over_grpc, started, "gateway");
    assert_services(&trace, &["gateway", "intake", "classifier", "responder", "notifier"]);
    assert!(trace.iter().any(|c| attr(c, "rpc.system").as_deref() == Some("grpc")), "the trace starts with the gRPC call");
    let trace = checked_trace(&spans, &attachment, started, "gateway");
    assert_services(&trace, &["gateway", "intake", "image-analyzer", "classifier", "responder", "notifier"]);
    assert_client_span(&trace, "ai analyze");
    let trace = checked_trace(&spans, &partner, started, "gateway");
    assert_services(&trace, &["gateway", "intake", "classifier", "partner-dispatcher", "responder", "notifier"]);
    // The deadline message to the dispatcher's own queue has its producer span too.
    assert!(trace.iter().any(|c| kind(c) == SpanKind::Producer && c.span.name.starts_with("send ")), "no deadline send span");
    // The partner's answer came on a request of its own, which the inquiry's trace links to.
    let respond = trace.iter().find(|c| c.span.name == "partner respond").expect("the partner's answer joins the inquiry's trace");
    assert!(!respond.span.links.is_empty(), "the answer links to the partner's request");

    // The local view: the same trace, as a tree, from the SQLite file.
    let out = std::process::Command::new(binary()).args(["trace", &partner, "--data-dir"]).arg(dir.path()).output().unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for service in ["gateway", "intake", "classifier", "partner-dispatcher", "responder", "notifier"] {
        assert!(tree.contains(&format!("[{service}]")), "`switchboard trace` lacks {service}:\n{tree}");
    }
    assert!(tree.contains("└─ ") && tree.contains(" ms"), "{tree}");

    // Metrics: the stages and AI calls were counted; nothing personal in them.
    for wanted in [
        "switchboard_stage_messages_total{service=\"classifier\",outcome=\"done\"}",
        "switchboard_stage_duration_seconds_count{service=\"notifier\"}",
        "switchboard_queue_messages{service=\"responder\",state=\"visible\"}",
        "switchboard_dead_letter_messages{service=\"notifier\"}",
        "switchboard_queue_oldest_message_age_seconds{service=\"intake\"}",
        "switchboard_ai_tokens_total{operation=\"draft\"",
        "switchboard_ai_duration_seconds_count{operation=\"classify\"}",
        "switchboard_events_published_total{event_type=\"inquiry.escalated\"}",
        "switchboard_partner_outcomes_total{outcome=\"accepted\"}",
        "switchboard_partner_response_seconds_count",
        "switchboard_http_requests_total{method=\"POST\",route=\"/api/inquiries\",status=\"202\"}",
    ] {
        assert!(metrics.contains(wanted), "/metrics lacks {wanted}");
    }

    // No personal data in the spans, the JSON logs or the metrics.
    let logs = std::fs::read_to_string(dir.path().join("up.log")).unwrap();
    let json_lines: Vec<Value> = logs.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(json_lines.iter().any(|l| l["trace_id"].as_str().is_some() && l["span_id"].as_str().is_some()), "log lines carry trace ids");
    assert_clean("the exported spans", &collector.all_text(), SECRETS);
    assert_clean("the logs", &logs, SECRETS);
    assert_clean("the metrics", &metrics, SECRETS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_aws_processes_on_the_emulator_continue_one_trace_per_inquiry_across_sns_and_sqs() {
    let started = now_secs();
    let collector = Collector::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(&'static str, String)> = emulator().process_env();
    env.extend([
        ("SWITCHBOARD_BACKEND", "aws".to_owned()),
        ("SWITCHBOARD_RESOURCE_PREFIX", unique_prefix("otel")),
        ("SWITCHBOARD_TOKEN_KEYS", "6b6579206f66207468652061777320636c7573746572207465737420303030303030".to_owned()),
        ("SWITCHBOARD_VISIBILITY_SECS", "4".to_owned()),
        ("SWITCHBOARD_DEMO_API_KEY", API_KEY.to_owned()),
        ("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "2".to_owned()),
    ]);
    env.extend(telemetry_env(&collector).into_iter().map(|(k, v)| (k, v.to_owned())));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let provisioned = std::process::Command::new(binary())
        .arg("provision")
        .arg("--data-dir")
        .arg(dir.path())
        .envs(pairs.iter().copied())
        .output()
        .unwrap();
    assert!(provisioned.status.success(), "{}", String::from_utf8_lossy(&provisioned.stderr));

    let services = ["intake", "image-analyzer", "classifier", "partner-dispatcher", "responder", "notifier"];
    let mut processes: Vec<Process> = services.iter().map(|s| Process::spawn(&["serve", s], dir.path(), &pairs, s)).collect();
    let port = free_port();
    let http_addr = format!("127.0.0.1:{port}");
    let gateway = Process::spawn(&["serve", "gateway", "--demo", "--http-addr", &http_addr], dir.path(), &pairs, "gateway");
    gateway.wait_until_ready(port).await;
    processes.push(gateway);
    let client = Client { base_url: format!("http://{http_addr}"), http: reqwest::Client::new() };

    let faq = client.submit(json!({ "content": FAQ_CONTENT, "customer_phone": FAQ_PHONE })).await;
    let attachment = client
        .submit(json!({
            "content": ATTACHMENT_CONTENT,
            "customer_phone": ATTACHMENT_PHONE,
            "attachments": [{ "filename": "ticket.png", "content_base64": tiny_png() }],
        }))
        .await;
    let escalation = client.submit(json!({ "content": ESCALATION_CONTENT, "customer_email": ESCALATION_EMAIL })).await;
    for id in [&faq, &attachment, &escalation] {
        client.wait_timeline(id, "notification.customer.").await;
    }

    for process in &processes {
        process.terminate();
    }
    for process in &mut processes {
        let status = process.wait_exit(PATIENCE).await.expect("every process exits after SIGTERM");
        assert!(status.success(), "exit status {status:?}");
    }

    let spans = collector.spans();
    for id in [&faq, &attachment, &escalation] {
        let trace = checked_trace(&spans, id, started, "gateway");
        assert_services(&trace, &["gateway", "intake", "classifier", "responder", "notifier"]);
        // The SDK calls are client spans of the trace.
        for call in ["SNS.Publish", "DynamoDB.GetItem"] {
            let named = |c: &&Collected| c.span.name.starts_with(call) && kind(c) == SpanKind::Client;
            assert!(trace.iter().any(|c| named(&c)), "no {call} client span: {:?}", trace.iter().map(|c| &c.span.name).collect::<Vec<_>>());
        }
        assert!(trace.iter().any(|c| attr(c, "messaging.system").as_deref() == Some("aws_sqs")), "consumers name SQS");
    }
    let trace = checked_trace(&spans, &attachment, started, "gateway");
    assert_services(&trace, &["image-analyzer"]);

    let mut logs = String::new();
    for name in services.iter().chain(["gateway"].iter()) {
        logs.push_str(&std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default());
    }
    assert_clean("the exported spans", &collector.all_text(), SECRETS);
    assert_clean("the logs", &logs, SECRETS);
}

#[tokio::test]
async fn a_message_sent_straight_to_sqs_carries_the_producer_trace_as_its_aws_trace_header() {
    use switchboard_messaging::{Queue, ReceiveOptions};
    let clients = switchboard::aws::Clients::new(&emulator().aws_options(), None).await;
    let name = unique_prefix("trace-header");
    let ensured = switchboard_messaging::sqs::ensure_queue(&clients.sqs, &name, None, Duration::from_secs(30)).await.unwrap();
    let queue = ensured.queue(clients.sqs.clone());
    let (subscriber, guard) = switchboard_telemetry::subscriber(
        &switchboard_telemetry::Settings::from_lookup(switchboard_telemetry::LogFormat::Json, "0", |_| None).unwrap(),
        std::io::sink,
    )
    .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    let event = switchboard_domain::CloudEvent::for_inquiry(
        switchboard_domain::EventType::PartnerDeadline,
        switchboard_domain::InquiryId::parse("0190f5e2-7c3a-7b1e-8a4d-0123456789ab").unwrap(),
        &switchboard_domain::TenantId::parse("demo").unwrap(),
        "1",
        "test",
        jiff::Timestamp::now(),
        json!({}),
    );
    let root = tracing::info_span!("test root");
    switchboard_telemetry::in_service(&root, "partner-dispatcher", None);
    tracing::Instrument::instrument(switchboard_messaging::events::send(&queue, &event, Duration::ZERO), root).await.unwrap();
    let received =
        queue.receive(ReceiveOptions { max_messages: 1, wait: Duration::from_secs(2), visibility: Duration::from_secs(5) }).await.unwrap();
    let message = &received[0];
    let header = message.trace_header.as_deref().expect("SQS returns the AWSTraceHeader system attribute");
    let envelope = switchboard_messaging::events::envelope_trace(&message.body);
    let traceparent = envelope.traceparent.expect("the envelope carries a traceparent");
    // Both carriers name the same producer span.
    let (from_header, from_envelope) = (
        switchboard_telemetry::propagation::from_xray_header(header).unwrap(),
        switchboard_telemetry::propagation::from_traceparent(&traceparent).unwrap(),
    );
    let (a, b) =
        (switchboard_telemetry::propagation::span_context(&from_header), switchboard_telemetry::propagation::span_context(&from_envelope));
    assert_eq!((a.trace_id(), a.span_id()), (b.trace_id(), b.span_id()));
    assert!(header.starts_with("Root=1-") && header.contains(";Parent=") && header.ends_with(";Sampled=1"), "{header}");
    drop(guard);
}
