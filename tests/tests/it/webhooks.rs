//! Tenants' webhooks (issue 18), end to end on the embedded mode: a
//! receiver on 127.0.0.1 (allowed explicitly, as a deployment would allow
//! an internal range) verifies every signature with the Standard Webhooks
//! reference library; failing receivers are retried on the schedule,
//! endpoints are disabled after failed messages and the tenant is
//! e-mailed; internal targets are refused; deliveries are replayed with
//! their webhook-id; after a rotation both secrets sign.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard::Config;
use switchboard_tests::webhook_receiver::{Received, Receiver};
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, TestApp};

/// The schedule of these tests: tiny, growing waits.
const SCHEDULE: &str = "150ms,300ms";

fn allowing_loopback(config: &mut Config) {
    config.webhook_allow_private_cidrs = "127.0.0.0/8".into();
    config.webhook_allow_http = true;
    config.webhook_retry_schedule = SCHEDULE.into();
    config.webhook_disable_after = 2;
}

async fn spawn() -> TestApp {
    TestApp::spawn_configured(Options::default(), allowing_loopback, |_| {}).await
}

async fn call(app: &TestApp, method: &str, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let url = app.url(path);
    let request = match method {
        "GET" => app.http.get(url),
        "POST" => app.http.post(url),
        "PATCH" => app.http.patch(url),
        "DELETE" => app.http.delete(url),
        other => panic!("no method {other}"),
    };
    let request = request.header("x-api-key", key);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Registers `url` for `events` with the demo tenant's key; returns (id, secret).
async fn register(app: &TestApp, url: &str, events: &[&str]) -> (String, String) {
    let (status, body) = call(app, "POST", "/api/webhooks", API_KEY, Some(json!({ "url": url, "events": events }))).await;
    assert_eq!(status, 201, "{body}");
    (body["webhook"]["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
}

/// Verifies a post with the specification's reference library.
fn verify(secret: &str, post: &Received) -> bool {
    standardwebhooks::Webhook::new(secret).unwrap().verify(post.body.as_bytes(), &post.headers).is_ok()
}

const ANSWERED: &str = "Is there parking at the hotel, and what does it cost?";

async fn answered_inquiry(app: &TestApp) -> String {
    let id = app.submit_ok(&json!({ "content": ANSWERED, "customer_email": "guest@example.com" })).await;
    assert_eq!(app.wait_terminal(&id).await["status"], "answered");
    id
}

#[tokio::test]
async fn an_answer_reaches_the_tenants_webhook_signed_per_the_standard_webhooks_specification() {
    let app = spawn().await;
    let receiver = Receiver::start(&[], 204).await;
    let (_, secret) = register(&app, &receiver.url, &["inquiry.answered"]).await;
    assert!(secret.starts_with("whsec_"));
    let id = answered_inquiry(&app).await;

    let post = receiver.wait_for(1).await.remove(0);
    assert!(verify(&secret, &post), "the reference library verifies the signature: {post:?}");
    assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &post), "another secret does not");
    assert!(post.header("webhook-id").starts_with("msg_"));
    let body = post.json();
    assert_eq!((body["type"].as_str(), body["data"]["inquiry_id"].as_str()), (Some("inquiry.answered"), Some(id.as_str())));
    assert!(body["data"]["answer"].as_str().unwrap().contains("car park"));
    assert!(body["timestamp"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_receives_only_the_event_types_of_its_filter() {
    let app = spawn().await;
    let (everything, escalations) = (Receiver::start(&[], 200).await, Receiver::start(&[], 200).await);
    register(&app, &everything.url, &["*"]).await;
    let (escalations_id, _) = register(&app, &escalations.url, &["inquiry.escalated"]).await;
    answered_inquiry(&app).await;
    let angry = json!({
        "content": "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!",
        "customer_phone": "+12135550149",
    });
    let escalated = app.submit_ok(&angry).await;
    assert_eq!(app.wait_terminal(&escalated).await["status"], "escalated");

    let all: Vec<String> = everything.wait_for(2).await.iter().map(|p| p.json()["type"].as_str().unwrap().to_owned()).collect();
    assert!(all.contains(&"inquiry.answered".to_owned()) && all.contains(&"inquiry.escalated".to_owned()), "{all:?}");
    let only = escalations.wait_for(1).await;
    assert!(only.iter().all(|p| p.json()["type"] == "inquiry.escalated"), "{only:?}");
    let (_, log) = call(&app, "GET", &format!("/api/webhooks/{escalations_id}/deliveries"), API_KEY, None).await;
    assert!(log["deliveries"].as_array().unwrap().iter().all(|d| d["event_type"] == "inquiry.escalated"), "{log}");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_growing_waits_under_one_webhook_id() {
    let app = spawn().await;
    let receiver = Receiver::start(&[500, 503], 200).await;
    let (hook, secret) = register(&app, &receiver.url, &["*"]).await;
    answered_inquiry(&app).await;

    let posts = receiver.wait_for(3).await;
    let ids: Vec<String> = posts.iter().map(|p| p.header("webhook-id")).collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "one message, three attempts: {ids:?}");
    assert!(posts.iter().all(|p| verify(&secret, p)));
    let gaps = [posts[1].at - posts[0].at, posts[2].at - posts[1].at];
    assert!(gaps[0] >= Duration::from_millis(150), "the first retry waits at least 150 ms: {gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(300), "the second at least 300 ms: {gaps:?}");

    let (status, log) = call(&app, "GET", &format!("/api/webhooks/{hook}/deliveries"), API_KEY, None).await;
    assert_eq!(status, 200, "{log}");
    let attempts: Vec<(u64, Value)> =
        log["deliveries"].as_array().unwrap().iter().rev().map(|d| (d["attempt"].as_u64().unwrap(), d["status_code"].clone())).collect();
    assert_eq!(attempts, [(1, json!(500)), (2, json!(503)), (3, json!(200))], "{log}");
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_every_attempt_of_two_messages_is_disabled_and_the_tenant_is_emailed() {
    let app = spawn().await;
    let (status, tenant) = call(&app, "PATCH", "/api/tenant", API_KEY, Some(json!({ "contact_email": "dev@hanbit.example" }))).await;
    assert_eq!((status, tenant["contact_email"].as_str()), (200, Some("dev@hanbit.example")), "{tenant}");
    let receiver = Receiver::start(&[], 500).await;
    let (hook, _) = register(&app, &receiver.url, &["*"]).await;
    answered_inquiry(&app).await;
    receiver.wait_for(3).await;
    answered_inquiry(&app).await;
    receiver.wait_for(6).await;

    let deadline = tokio::time::Instant::now() + switchboard_tests::PATIENCE;
    let endpoint = loop {
        let (_, endpoint) = call(&app, "GET", &format!("/api/webhooks/{hook}"), API_KEY, None).await;
        if endpoint["enabled"] == false {
            break endpoint;
        }
        assert!(tokio::time::Instant::now() < deadline, "never disabled: {endpoint}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(endpoint["consecutive_failures"], 2);
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("failed"));
    let mails = loop {
        let all = app.ports.outbox.as_ref().unwrap().entries(None).await.unwrap();
        let mails: Vec<_> = all.into_iter().filter(|m| m.to == "dev@hanbit.example").collect();
        if !mails.is_empty() {
            break mails;
        }
        assert!(tokio::time::Instant::now() < deadline, "the tenant was never e-mailed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body.contains(&hook), "{}", mails[0].body);

    // Webhooks are handed out before the customer is told: once told, nothing more comes.
    let third = answered_inquiry(&app).await;
    app.notified(&third).await;
    assert_eq!(receiver.received().len(), 6, "nothing is posted to a disabled endpoint");
    app.stop().await;
}

#[tokio::test]
async fn internal_targets_are_refused_at_registration_unless_allowed() {
    let app = TestApp::spawn_configured(Options::default(), |c| c.webhook_allow_http = true, |_| {}).await;
    for target in [
        "http://10.1.2.3/hook",
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",
    ] {
        let (status, problem) = call(&app, "POST", "/api/webhooks", API_KEY, Some(json!({ "url": target }))).await;
        assert_eq!(status, 400, "{target}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "url", "{problem}");
        assert!(problem["errors"][0]["reason"].as_str().unwrap().contains("may not reach"), "{problem}");
    }
    let (status, problem) = call(&app, "POST", "/api/webhooks", API_KEY, Some(json!({ "url": "ftp://example.com/" }))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (400, Some("url")));
    app.stop().await;
}

#[tokio::test]
async fn a_replay_delivers_the_same_webhook_id_again_also_after_the_endpoint_is_enabled_again() {
    let app = spawn().await;
    let receiver = Receiver::start(&[], 200).await;
    let (hook, secret) = register(&app, &receiver.url, &["*"]).await;
    answered_inquiry(&app).await;
    let first = receiver.wait_for(1).await.remove(0);
    let message = first.header("webhook-id");

    let (status, _) = call(&app, "PATCH", &format!("/api/webhooks/{hook}"), API_KEY, Some(json!({ "enabled": false }))).await;
    assert_eq!(status, 200);
    let replay = format!("/api/webhooks/{hook}/deliveries/{message}/replay");
    let (status, problem) = call(&app, "POST", &replay, API_KEY, None).await;
    assert_eq!(status, 409, "a disabled endpoint is enabled first: {problem}");
    let (status, endpoint) = call(&app, "PATCH", &format!("/api/webhooks/{hook}"), API_KEY, Some(json!({ "enabled": true }))).await;
    assert_eq!((status, endpoint["enabled"].as_bool()), (200, Some(true)));

    let (status, replayed) = call(&app, "POST", &replay, API_KEY, None).await;
    assert_eq!((status, replayed["round"].as_u64()), (202, Some(2)), "{replayed}");
    let again = receiver.wait_for(2).await.remove(1);
    assert_eq!(again.header("webhook-id"), message);
    assert_eq!(again.body, first.body, "the same message");
    assert!(verify(&secret, &again));
    let (status, _) = call(&app, "POST", &format!("/api/webhooks/{hook}/deliveries/msg_unknown/replay"), API_KEY, None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_until_the_old_one_expires() {
    let app = spawn().await;
    let receiver = Receiver::start(&[], 200).await;
    let (hook, old) = register(&app, &receiver.url, &["*"]).await;
    let (status, rotated) = call(&app, "POST", &format!("/api/webhooks/{hook}/rotate-secret"), API_KEY, None).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["webhook"]["previous_secret_expires_at"].is_string());
    answered_inquiry(&app).await;

    let post = receiver.wait_for(1).await.remove(0);
    assert_eq!(post.header("webhook-signature").split(' ').count(), 2, "{post:?}");
    assert!(verify(&new, &post) && verify(&old, &post), "either secret verifies during the grace period");
    app.stop().await;
}

#[tokio::test]
async fn tenants_manage_only_their_own_endpoints_and_operators_name_the_tenant() {
    let app = spawn().await;
    let receiver = Receiver::start(&[], 200).await;
    let (hook, _) = register(&app, &receiver.url, &["*"]).await;
    let (status, listed) = call(&app, "GET", "/api/webhooks?tenant=demo", OPERATOR_KEY, None).await;
    assert_eq!((status, listed["webhooks"][0]["id"].as_str()), (200, Some(hook.as_str())), "{listed}");
    let (status, problem) = call(&app, "GET", "/api/webhooks", OPERATOR_KEY, None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (400, Some("tenant")), "{problem}");
    let (status, _) = call(&app, "GET", "/api/webhooks?tenant=someone-else", API_KEY, None).await;
    assert_eq!(status, 404, "a tenant key sees only its own");
    let (status, _) =
        call(&app, "PATCH", &format!("/api/webhooks/{hook}?tenant=demo"), OPERATOR_KEY, Some(json!({ "description": "orders" }))).await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, "DELETE", &format!("/api/webhooks/{hook}"), API_KEY, None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, "GET", &format!("/api/webhooks/{hook}"), API_KEY, None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_grpc_webhook_service_does_what_the_rest_routes_do() {
    use switchboard_proto::v1 as pb;
    use switchboard_proto::v1::webhook_service_client::WebhookServiceClient;
    use switchboard_tests::grpc::{bad_fields, channel, expect_code, keyed};
    use tonic::Code;

    let app = spawn().await;
    let receiver = Receiver::start(&[], 200).await;
    let mut hooks = WebhookServiceClient::new(channel(&app).await);
    let create = pb::CreateWebhookRequest { url: receiver.url.clone(), events: vec!["inquiry.answered".into()], ..Default::default() };
    let created = hooks.create_webhook(keyed(API_KEY, create)).await.unwrap().into_inner();
    let webhook = created.webhook.unwrap();
    assert!(created.secret.starts_with("whsec_"));
    assert_eq!((webhook.events.as_slice(), webhook.enabled), (&["inquiry.answered".to_owned()][..], true));

    let listed = hooks.list_webhooks(keyed(OPERATOR_KEY, pb::ListWebhooksRequest { tenant_id: "demo".into() })).await.unwrap().into_inner();
    assert_eq!(listed.webhooks.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), [webhook.id.as_str()]);
    let missing = hooks.list_webhooks(keyed(OPERATOR_KEY, pb::ListWebhooksRequest::default())).await;
    assert_eq!(bad_fields(&expect_code(missing, Code::InvalidArgument)), ["tenant"]);

    let refused = pb::CreateWebhookRequest { url: "http://169.254.169.254/latest".into(), ..Default::default() };
    assert_eq!(bad_fields(&expect_code(hooks.create_webhook(keyed(API_KEY, refused)).await, Code::InvalidArgument)), ["url"]);

    let rotate = pb::RotateWebhookSecretRequest { id: webhook.id.clone(), ..Default::default() };
    let rotated = hooks.rotate_webhook_secret(keyed(API_KEY, rotate)).await.unwrap().into_inner();
    assert!(rotated.webhook.unwrap().previous_secret_expires_at.is_some());

    answered_inquiry(&app).await;
    let post = receiver.wait_for(1).await.remove(0);
    assert!(verify(&rotated.secret, &post) && verify(&created.secret, &post));
    let log_request = pb::ListWebhookDeliveriesRequest { id: webhook.id.clone(), ..Default::default() };
    let log = hooks.list_webhook_deliveries(keyed(API_KEY, log_request)).await.unwrap().into_inner();
    assert_eq!(log.deliveries[0].message_id, post.header("webhook-id"));
    let replay = pb::ReplayWebhookDeliveryRequest { id: webhook.id.clone(), message_id: post.header("webhook-id"), ..Default::default() };
    assert_eq!(hooks.replay_webhook_delivery(keyed(API_KEY, replay)).await.unwrap().into_inner().round, 2);
    assert_eq!(receiver.wait_for(2).await[1].header("webhook-id"), post.header("webhook-id"));

    let disable = pb::UpdateWebhookRequest { id: webhook.id.clone(), enabled: Some(false), ..Default::default() };
    assert!(!hooks.update_webhook(keyed(API_KEY, disable)).await.unwrap().into_inner().enabled);
    let delete = pb::DeleteWebhookRequest { id: webhook.id.clone(), ..Default::default() };
    hooks.delete_webhook(keyed(API_KEY, delete)).await.unwrap();
    let gone = pb::GetWebhookRequest { id: webhook.id.clone(), ..Default::default() };
    expect_code(hooks.get_webhook(keyed(API_KEY, gone)).await, Code::NotFound);
    app.stop().await;
}

/// The same flow in AWS mode: every service its own process on the
/// emulator; the notifier's delivery orders travel through its SQS queue
/// (delays in whole seconds), the log lives in DynamoDB.
#[tokio::test]
async fn on_aws_a_failing_receiver_is_retried_through_the_notifiers_queue_and_a_replay_repeats_the_webhook_id() {
    let env = [
        ("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE_CIDRS", "127.0.0.0/8".to_owned()),
        ("SWITCHBOARD_WEBHOOK_ALLOW_HTTP", "true".to_owned()),
        ("SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE", "1s".to_owned()),
    ];
    let cluster = crate::aws_pipeline::Cluster::start_with("webhooks", 300, &env).await;
    let http = reqwest::Client::new();
    let api =
        |method: reqwest::Method, path: &str| http.request(method, format!("{}{path}", cluster.base_url)).header("x-api-key", API_KEY);
    let receiver = Receiver::start(&[500], 200).await;
    let created: Value = api(reqwest::Method::POST, "/api/webhooks")
        .json(&json!({ "url": receiver.url, "events": ["*"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (hook, secret) = (created["webhook"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned());

    cluster.submit(&json!({ "content": ANSWERED, "customer_email": "guest@example.com" })).await;
    let posts = receiver.wait_for(2).await;
    assert_eq!(posts[0].header("webhook-id"), posts[1].header("webhook-id"), "one message, two attempts");
    assert!(posts[1].at - posts[0].at >= Duration::from_secs(1), "the retry waits the schedule's second");
    assert!(posts.iter().all(|p| verify(&secret, p)), "signed per the specification");
    assert_eq!(posts[1].json()["type"], "inquiry.answered");

    let log: Value = api(reqwest::Method::GET, &format!("/api/webhooks/{hook}/deliveries")).send().await.unwrap().json().await.unwrap();
    let statuses: Vec<Value> = log["deliveries"].as_array().unwrap().iter().rev().map(|d| d["status_code"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(200)], "{log}");
    let message = posts[0].header("webhook-id");
    let replayed = api(reqwest::Method::POST, &format!("/api/webhooks/{hook}/deliveries/{message}/replay")).send().await.unwrap();
    assert_eq!(replayed.status(), 202);
    assert_eq!(receiver.wait_for(3).await[2].header("webhook-id"), message);
}
