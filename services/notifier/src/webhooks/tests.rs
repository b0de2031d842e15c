//! Webhook delivery by the notifier's handler, on the embedded backends
//! with a scripted receiver.

use super::*;
use crate::tests::{answered, answered_seeded, setup};
use std::sync::Mutex;
use switchboard_channels::webhook::WebhookResponse;
use switchboard_domain::webhook::{AttemptResult, EventFilter, SecretRing, WebhookEndpointId, WebhookSecret, WebhookUrl};
use switchboard_domain::{EmailAddress, Service};
use switchboard_pipeline::Clock;
use switchboard_pipeline::testing::{TestPipeline, delivery};
use switchboard_store::InquiryStore;

/// Answers each post with the next scripted status (the last one forever).
struct Receiver {
    script: Vec<u16>,
    posts: Mutex<Vec<WebhookRequest>>,
}

#[async_trait::async_trait]
impl WebhookSender for Receiver {
    async fn post(&self, request: &WebhookRequest) -> WebhookResponse {
        let mut posts = self.posts.lock().unwrap();
        posts.push(request.clone());
        let status = self.script.get(posts.len() - 1).or(self.script.last()).copied().unwrap_or(200);
        WebhookResponse { result: AttemptResult::Status(status), latency: Duration::from_millis(3) }
    }
}

impl Receiver {
    fn answering(script: &[u16]) -> Arc<Self> {
        Arc::new(Self { script: script.to_vec(), posts: Mutex::new(vec![]) })
    }

    fn ids(&self) -> Vec<String> {
        self.posts.lock().unwrap().iter().map(|p| p.signed.id.clone()).collect()
    }
}

async fn endpoint(pipeline: &TestPipeline, events: EventFilter) -> WebhookEndpoint {
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        tenant_id: switchboard_domain::TenantId::parse(switchboard_pipeline::testing::TENANT).unwrap(),
        url: WebhookUrl::parse("https://hooks.example.com/in", false).unwrap(),
        events,
        description: String::new(),
        secrets: SecretRing::new(WebhookSecret::from_bytes(&[5; 32]).unwrap()),
        disabled: None,
        consecutive_failures: 0,
        created_at: pipeline.clock.now(),
        version: 0,
    };
    pipeline.store.create_endpoint(&endpoint).await.unwrap();
    endpoint
}

fn webhooks(pipeline: &TestPipeline, receiver: Arc<Receiver>, schedule: &str, disable_after: u32) -> Webhooks {
    Webhooks {
        store: pipeline.store.clone(),
        tenants: pipeline.store.clone(),
        sender: receiver,
        queue: pipeline.queue(Service::Notifier),
        schedule: RetrySchedule::parse(schedule).unwrap(),
        disable_after,
    }
}

/// Hands the notifier every order waiting on its queue until none is left.
async fn run_orders(pipeline: &TestPipeline, notifier: &Notifier) -> usize {
    let mut handled = 0;
    loop {
        let orders = pipeline.take(Service::Notifier).await;
        if orders.is_empty() {
            return handled;
        }
        for order in orders.iter().filter(|e| is_order(e)) {
            notifier.try_handle(&delivery(order, 1)).await.unwrap();
            handled += 1;
        }
    }
}

async fn publish(pipeline: &TestPipeline, notifier: &Notifier, inquiry: &Inquiry, kind: EventType) {
    if pipeline.store.get_inquiry(inquiry.id).await.unwrap().is_none() {
        pipeline.store_inquiry(inquiry).await;
    }
    let event = pipeline.stage(Service::Responder).event(kind, inquiry, "1", json!({}));
    notifier.try_handle(&delivery(&event, 1)).await.unwrap();
}

#[tokio::test]
async fn an_answer_reaches_each_endpoint_that_takes_it_once_however_often_it_is_announced() {
    let (pipeline, notifier) = setup().await;
    let receiver = Receiver::answering(&[204]);
    let notifier = notifier.with_webhooks(webhooks(&pipeline, receiver.clone(), "0ms", 5));
    let answers = endpoint(&pipeline, EventFilter::Only(vec![EventType::InquiryAnswered])).await;
    endpoint(&pipeline, EventFilter::Only(vec![EventType::InquiryEscalated])).await;
    let inquiry = answered();
    publish(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await;
    publish(&pipeline, &notifier, &inquiry, EventType::InquiryAnswered).await;
    run_orders(&pipeline, &notifier).await;

    let posts = receiver.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "one endpoint takes answers, and it hears of this one once");
    assert_eq!(posts[0].url, answers.url);
    let body: Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["data"]["inquiry_id"].as_str()),
        (Some("inquiry.answered"), Some(inquiry.id.to_string().as_str()))
    );
    assert_eq!(body["data"]["answer"], "Parking is free for guests.");
    let log = pipeline.store.attempts(&answers.id, 10, pipeline.clock.now()).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].attempt, &log[0].result, log[0].latency_ms), (1, &AttemptResult::Status(204), 3));
}

#[tokio::test]
async fn a_repeated_order_posts_once() {
    let (pipeline, notifier) = setup().await;
    let receiver = Receiver::answering(&[200]);
    let notifier = notifier.with_webhooks(webhooks(&pipeline, receiver.clone(), "0ms", 5));
    endpoint(&pipeline, EventFilter::All).await;
    publish(&pipeline, &notifier, &answered(), EventType::InquiryAnswered).await;
    let orders = pipeline.take(Service::Notifier).await;
    let order = orders.iter().find(|e| is_order(e)).unwrap();
    notifier.try_handle(&delivery(order, 1)).await.unwrap();
    notifier.try_handle(&delivery(order, 1)).await.unwrap();
    assert_eq!(receiver.ids().len(), 1);
}

#[tokio::test]
async fn a_failing_receiver_gets_every_scheduled_attempt_then_the_message_counts_as_failed() {
    let (pipeline, notifier) = setup().await;
    let receiver = Receiver::answering(&[500, 503, 200]);
    let notifier = notifier.with_webhooks(webhooks(&pipeline, receiver.clone(), "0ms,0ms", 5));
    let hook = endpoint(&pipeline, EventFilter::All).await;
    publish(&pipeline, &notifier, &answered(), EventType::InquiryAnswered).await;
    run_orders(&pipeline, &notifier).await;

    let ids = receiver.ids();
    assert_eq!(ids.len(), 3, "two failures, then the third attempt delivers");
    assert!(ids.iter().all(|id| id == &ids[0]), "one webhook-id for every attempt");
    let log = pipeline.store.attempts(&hook.id, 10, pipeline.clock.now()).await.unwrap();
    let attempts: Vec<(u32, AttemptResult)> = log.iter().rev().map(|a| (a.attempt, a.result.clone())).collect();
    assert_eq!(attempts, [(1, AttemptResult::Status(500)), (2, AttemptResult::Status(503)), (3, AttemptResult::Status(200))]);
    let stored = pipeline.store.get_endpoint(&hook.tenant_id, &hook.id).await.unwrap().unwrap();
    assert_eq!(stored.consecutive_failures, 0, "delivered in the end: no failure counted");
}

#[tokio::test]
async fn an_endpoint_is_disabled_after_too_many_failed_messages_and_the_tenant_is_emailed_once() {
    let (pipeline, notifier) = setup().await;
    let mut tenant = pipeline.store.get_tenant(&switchboard_domain::TenantId::parse("demo").unwrap()).await.unwrap().unwrap();
    tenant.contact_email = Some(EmailAddress::parse("dev@tenant.example").unwrap());
    pipeline.store.put_tenant(&tenant).await.unwrap();
    let receiver = Receiver::answering(&[500]);
    let notifier = notifier.with_webhooks(webhooks(&pipeline, receiver.clone(), "0ms", 2));
    let hook = endpoint(&pipeline, EventFilter::All).await;
    let (first, second, third) = (answered_seeded(11), answered_seeded(12), answered_seeded(13));
    for inquiry in [&first, &second] {
        publish(&pipeline, &notifier, inquiry, EventType::InquiryAnswered).await;
        run_orders(&pipeline, &notifier).await;
    }
    let stored = pipeline.store.get_endpoint(&hook.tenant_id, &hook.id).await.unwrap().unwrap();
    assert_eq!(stored.consecutive_failures, 2);
    assert!(!stored.enabled(), "two messages failed every attempt");
    assert_eq!(receiver.ids().len(), 4, "two attempts each");

    publish(&pipeline, &notifier, &third, EventType::InquiryAnswered).await;
    run_orders(&pipeline, &notifier).await;
    assert_eq!(receiver.ids().len(), 4, "nothing goes to a disabled endpoint");

    let mails: Vec<_> = pipeline.outbox.entries(None).await.unwrap().into_iter().filter(|m| m.to == "dev@tenant.example").collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].body.contains(hook.id.as_str()));
}

#[tokio::test]
async fn a_message_for_a_disabled_endpoint_is_not_posted_and_can_be_replayed_once_it_is_enabled() {
    let (pipeline, notifier) = setup().await;
    let receiver = Receiver::answering(&[200]);
    let notifier = notifier.with_webhooks(webhooks(&pipeline, receiver.clone(), "0ms", 5));
    let hook = endpoint(&pipeline, EventFilter::All).await;
    publish(&pipeline, &notifier, &answered(), EventType::InquiryAnswered).await;
    // Disabled between the event and its delivery.
    let disabled =
        WebhookEndpoint { disabled: Some(Disabled { reason: "by the tenant".into(), at: pipeline.clock.now() }), ..hook.clone() };
    pipeline.store.update_endpoint(&disabled, 0).await.unwrap();
    run_orders(&pipeline, &notifier).await;
    assert!(receiver.ids().is_empty());

    assert!(pipeline.store.attempts(&hook.id, 10, pipeline.clock.now()).await.unwrap().is_empty(), "no attempt was made");
    let event = pipeline.stage(Service::Responder).event(EventType::InquiryAnswered, &answered(), "1", json!({}));
    let message = pipeline.store.get_message(&hook.id, &message_id(&event.id, &hook.id), pipeline.clock.now()).await.unwrap().unwrap();
    assert_eq!(message.state, MessageState::Failed, "ended, so a replay may send it");
}
