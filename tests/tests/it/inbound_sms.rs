//! The customer's way back by text message (issue 17): a two-way SMS
//! number's inbound messages on the intake queue join the sender's newest
//! open inquiry. Embedded mode has no SMS transport, so the tests put the
//! JSON End User Messaging SMS publishes on the intake queue, as its SNS
//! topic's raw delivery does in AWS mode; the AWS test publishes it to a
//! real topic subscribed to the intake queue.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::aws_pipeline::Cluster;
use serde_json::json;
use std::time::Duration;
use switchboard_domain::{Author, Inquiry, InquiryId, InquiryStatus, MessageChannel, Service};
use switchboard_messaging::{Attributes, OutgoingMessage, ReceiveOptions};
use switchboard_tests::emulator::emulator;
use switchboard_tests::{Options, PATIENCE, TestApp, inquiry_body};

/// The demo tenant's two-way number.
const OUR_NUMBER: &str = "+15550001111";
const QUESTION: &str = "What time is check-in?";
const PARKING: &str = "Is there parking at the hotel, and what does it cost?";

/// What End User Messaging SMS publishes when `from` texts our number.
fn inbound_sms(from: &str, id: &str, text: &str) -> String {
    json!({
        "originationNumber": from, "destinationNumber": OUR_NUMBER, "messageKeyword": "KEYWORD_123456789012",
        "messageBody": text, "inboundMessageId": id, "previousPublishedMessageId": "prev-published-1",
    })
    .to_string()
}

fn configure(config: &mut switchboard::Config) {
    config.inbound_sms_numbers = format!("{OUR_NUMBER}=demo");
}

async fn spawn() -> (TestApp, switchboard_tests::published::Published) {
    let mut published = switchboard_tests::published::Published::default();
    let app = TestApp::spawn_configured(Options::default(), configure, |ports| {
        let (topic, recorded) = switchboard_tests::published::RecordingTopic::wrap(ports.topic.clone());
        ports.topic = topic;
        published = recorded;
    })
    .await;
    (app, published)
}

async fn put_on_intake_queue(app: &TestApp, body: String) {
    let queue = app.ports.queue(Service::Intake).unwrap();
    queue.send(OutgoingMessage::new(body, Attributes::new())).await.unwrap();
}

/// Waits until intake has handled everything on its queue.
async fn intake_drained(app: &TestApp) {
    let queue = app.ports.queue(Service::Intake).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stats = queue.stats().await.unwrap();
        if stats.visible + stats.in_flight == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the intake queue never drained");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stored(app: &TestApp, id: &str) -> Inquiry {
    app.ports.store.get_inquiry(InquiryId::parse(id).unwrap()).await.unwrap().unwrap()
}

/// The customer's messages after the inquiry's own text: `(text, channel)`.
async fn customer_follow_ups(app: &TestApp, id: &str) -> Vec<(String, MessageChannel)> {
    let inquiry = stored(app, id).await;
    let messages = switchboard_store::whole_conversation(app.ports.store.as_ref(), &inquiry).await.unwrap();
    messages.into_iter().skip(1).filter(|m| m.author == Author::Customer).map(|m| (m.text, m.channel)).collect()
}

/// Moves `id` to `status` as an operator's resolve (or a give-up) would,
/// once the pipeline has left it alone.
async fn set_status(app: &TestApp, id: &str, status: InquiryStatus) {
    for _ in 0..20 {
        let current = stored(app, id).await;
        let next = Inquiry { status, ..current.clone() };
        match app.ports.store.update_inquiry(&next, current.version, None, &[]).await {
            Ok(_) => return,
            // A late step of the pipeline wrote first: read again.
            Err(switchboard_store::StoreError::Conflict(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("inquiry {id} never held still");
}

fn no_dead_letters_expected() -> ReceiveOptions {
    ReceiveOptions { max_messages: 10, wait: Duration::from_millis(200), visibility: Duration::from_secs(60) }
}

#[tokio::test]
async fn an_sms_reply_joins_the_customers_newest_open_inquiry_once_and_re_enters_the_pipeline() {
    let (app, published) = spawn().await;
    let customer = "+12135550149";
    let older = app.submit_ok(&inquiry_body(QUESTION, customer)).await;
    app.wait_terminal(&older).await;
    let newer = app.submit_ok(&inquiry_body(QUESTION, customer)).await;
    app.wait_terminal(&newer).await;

    let text = inbound_sms(customer, "sms-in-1", PARKING);
    put_on_intake_queue(&app, text.clone()).await;
    put_on_intake_queue(&app, text).await;
    intake_drained(&app).await;

    assert_eq!(customer_follow_ups(&app, &newer).await, [(PARKING.to_owned(), MessageChannel::Sms)], "one message, by SMS");
    assert!(customer_follow_ups(&app, &older).await.is_empty(), "only the newest open inquiry takes it");
    published.assert_announced_once(&newer, "inquiry.message_received").await;
    // Re-entered like every follow-up: reopened and answered from the FAQ.
    app.wait_for_timeline(&newer, "status.reopened").await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let inquiry = stored(&app, &newer).await;
        let messages = switchboard_store::whole_conversation(app.ports.store.as_ref(), &inquiry).await.unwrap();
        if messages.iter().any(|m| m.author == Author::Ai && m.text.contains("car park")) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the SMS question was never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn an_sms_reply_skips_resolved_and_failed_inquiries_and_from_a_stranger_stores_nothing_without_a_dead_letter() {
    let (app, _published) = spawn().await;
    // One customer's older open inquiry behind a newer resolved one.
    let customer = "+12135550150";
    let open = app.submit_ok(&inquiry_body(QUESTION, customer)).await;
    app.wait_terminal(&open).await;
    let resolved = app.submit_ok(&inquiry_body(QUESTION, customer)).await;
    app.wait_terminal(&resolved).await;
    set_status(&app, &resolved, InquiryStatus::Resolved).await;
    // Another customer whose only inquiry failed.
    let given_up = "+12135550151";
    let failed = app.submit_ok(&inquiry_body(QUESTION, given_up)).await;
    app.wait_terminal(&failed).await;
    set_status(&app, &failed, InquiryStatus::Failed).await;

    put_on_intake_queue(&app, inbound_sms(customer, "sms-in-1", "Is breakfast included?")).await;
    put_on_intake_queue(&app, inbound_sms(given_up, "sms-in-2", "Hello?")).await;
    put_on_intake_queue(&app, inbound_sms("+12135550199", "sms-in-3", "Who is this?")).await;
    intake_drained(&app).await;

    assert_eq!(customer_follow_ups(&app, &open).await, [("Is breakfast included?".to_owned(), MessageChannel::Sms)]);
    assert!(customer_follow_ups(&app, &resolved).await.is_empty(), "a resolved inquiry is skipped");
    assert!(customer_follow_ups(&app, &failed).await.is_empty(), "a failed inquiry takes no reply");
    let dlq = app.ports.dead_letter_queue(Service::Intake).unwrap();
    assert!(dlq.receive(no_dead_letters_expected()).await.unwrap().is_empty(), "unmatched texts are dropped, not retried or dead-lettered");
    app.stop().await;
}

/// AWS mode: End User Messaging SMS publishes to an SNS topic subscribed
/// to the intake queue with raw delivery (the setup services/README.md
/// describes); the reply is stored on the inquiry in DynamoDB.
#[tokio::test]
async fn aws_an_sms_published_to_the_inbound_topic_joins_the_inquiry_in_dynamodb() {
    let extra = [("SWITCHBOARD_INBOUND_SMS_NUMBERS", format!("{OUR_NUMBER}=demo"))];
    let cluster = Cluster::start_with("inbound-sms", 300, &extra).await;
    let customer = "+12135550160";
    let id = InquiryId::parse(&cluster.submit(&inquiry_body(QUESTION, customer)).await).unwrap();

    let sdk = emulator().sdk_config().await;
    let (sns, sqs) = (aws_sdk_sns::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
    let prefix = cluster.prefix().to_owned();
    let topic = sns.create_topic().name(format!("{prefix}-inbound-sms")).send().await.unwrap().topic_arn.unwrap();
    let queue_url = sqs.get_queue_url().queue_name(format!("{prefix}-intake")).send().await.unwrap().queue_url.unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).attributes("RawMessageDelivery", "true").send().await.unwrap();
    let text = inbound_sms(customer, "sms-aws-1", "Is breakfast included?");
    // Twice, as SNS may deliver: one message.
    for _ in 0..2 {
        sns.publish().topic_arn(&topic).message(&text).send().await.unwrap();
    }

    let store = switchboard_store::dynamodb::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), prefix.clone());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = switchboard_store::InquiryStore::messages(&store, id, 0, 100).await.unwrap();
        let from_sms: Vec<_> = messages.iter().filter(|m| m.channel == MessageChannel::Sms && m.author == Author::Customer).collect();
        if !from_sms.is_empty() {
            assert_eq!(from_sms.len(), 1, "{from_sms:?}");
            assert_eq!(from_sms[0].text, "Is breakfast included?");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the SMS reply never reached the inquiry in DynamoDB");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The redelivered copy, handled meanwhile or later, adds nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let messages = switchboard_store::InquiryStore::messages(&store, id, 0, 100).await.unwrap();
    assert_eq!(messages.iter().filter(|m| m.channel == MessageChannel::Sms && m.author == Author::Customer).count(), 1);
}
