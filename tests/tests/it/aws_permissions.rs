//! Least privilege, checked against behaviour: each component runs alone on
//! the emulator with its own request counter and its own recording proxy
//! (`switchboard_tests::aws_traffic`), with the AWS AI engines (Comprehend,
//! Textract, Bedrock Runtime, answered by the proxy) in place of the local
//! ones. The pipeline's paths are driven through them, and every AWS call
//! a component made must be granted to it by the permission table the
//! deployment's IAM roles are generated from
//! (`services/switchboard/src/permissions.rs`): the action, and the
//! resource the grant's target names (its own queue and dead-letter queue,
//! the Switchboard queues, the events topic, the table and its indexes,
//! the attachments bucket's objects). The roles carry no conditions; the
//! targets granted on `*` (phone numbers, AI calls without a resource)
//! or on any identity or foundation model are checked for the kind of
//! resource only.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use base64::Engine;
use serde_json::json;
use std::time::Duration;
use switchboard::aws::ResourceNames;
use switchboard::aws::{Clients, ports_with};
use switchboard::config::AiMode;
use switchboard::permissions::{COMPONENTS, Target, actions_for_operation, granted_actions, grants};
use switchboard::{App, Selection};
use switchboard_aws::RequestCounter;
use switchboard_domain::{InquiryId, Service};
use switchboard_store::InquiryStore;
use switchboard_store::dynamodb::DynamoStore;
use switchboard_tests::aws_traffic::{AwsCall, AwsTraffic, Resource};
use switchboard_tests::emulator::{emulator, unique_prefix};
use switchboard_tests::{API_KEY, Options, PATIENCE, test_config};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn every_aws_call_a_component_makes_is_granted_to_its_role() {
    // Another test texts the same demo customer; this one counts those texts.
    let _texts = switchboard_tests::emulator::DEMO_RESERVATION_TEXTS.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), &Options { partner_deadline_secs: 30, ..Options::default() });
    config.backend = switchboard::config::Backend::Aws;
    config.resource_prefix = unique_prefix("iam");
    config.token_keys = Some("69616d207465737420686d6163206b6579206f662033322062797465732e2e2e".into());
    // The AWS AI engines, each model call a Bedrock one: the analyzer's
    // vision model, the classifier's intent model, the responder's.
    config.ai = AiMode::Aws;
    config.bedrock_model_id = MODEL.into();
    config.bedrock_vision_model_id = MODEL.into();
    config.bedrock_classifier_model_id = Some(MODEL.into());
    config.inbound_sms_numbers = "+15550001111=demo".into();
    // Provisioning and seeding are an operator's work, not a component's: uncounted.
    let admin = Clients::new(&emulator().aws_options(), None).await;
    switchboard::provision::run(&admin, &config).await.unwrap();
    let (topic, _) = switchboard_messaging::sns::ensure_topic(&admin.sns, &format!("{}-events", config.resource_prefix)).await.unwrap();
    config.events_topic_arn = Some(topic);
    let admin_store = DynamoStore::new(admin.dynamodb.clone(), config.resource_prefix.clone());
    switchboard::demo::seed(&admin_store, &admin_store, API_KEY).await.unwrap();

    let stop = CancellationToken::new();
    let mut counters = Vec::new();
    let mut gateway_url = String::new();
    let mut running = Vec::new();
    for component in COMPONENTS {
        let counter = RequestCounter::new();
        let traffic = AwsTraffic::start(&emulator().endpoint).await;
        let clients = Clients::new(&traffic.aws_options(), Some(counter.clone())).await;
        let mut ports = ports_with(&clients, &config, false).await.unwrap();
        ports.ai = switchboard::ai::engines(&config, &traffic.aws_options(), Some(counter.clone())).await.unwrap();
        let selection = match Service::parse(component) {
            Some(service) => Selection { services: vec![service], gateway: false, provision: false },
            None => Selection { services: vec![], gateway: true, provision: false },
        };
        let app = App::build_with(config.clone(), &selection, ports).await.unwrap();
        if selection.gateway {
            gateway_url = format!("http://{}", app.http_addr());
        }
        counters.push((component, counter, traffic));
        running.push(tokio::spawn(app.run(stop.clone())));
    }

    // Every path: FAQ answer (with a photo, so the analyzer reads S3),
    // escalation (operators' e-mail), partner request that times out (SMS,
    // deadline message), and a partner answer through the gateway.
    let http = reqwest::Client::new();
    let png = base64::engine::general_purpose::STANDARD.encode([
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0, 0, 0,
        0, 0,
    ]);
    let bodies = [
        json!({ "content": "What time is check-in?", "customer_phone": "+12135550149", "attachments": [{ "filename": "a.png", "content_base64": png }] }),
        json!({ "content": "The staff were rude and I am furious, call me now!", "customer_email": "guest@example.com" }),
        json!({ "content": "Please move my booking TR-55501234 to the afternoon", "customer_phone": "+12135550149" }),
        // Not HT-20481123's customer: aws_pipeline counts the SMS that
        // customer gets on the shared emulator.
        json!({ "content": "예약번호 CR-31092847 날짜를 변경하고 싶어요", "customer_phone": "010-7777-8888" }),
    ];
    let mut ids = Vec::new();
    for body in &bodies {
        let r = http.post(format!("{gateway_url}/api/inquiries")).header("x-api-key", API_KEY).json(body).send().await.unwrap();
        assert_eq!(r.status(), 202);
        ids.push(InquiryId::parse(r.json::<serde_json::Value>().await.unwrap()["inquiry_id"].as_str().unwrap()).unwrap());
    }
    // Answer the Korean partner request through the gateway before its
    // deadline (a generous one: reading the shared emulator's record of
    // sent texts slows as other tests fill it).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let token = 'found: loop {
        let data = emulator().recorded().await;
        let texts = data["sns"]["SMS"].as_array().into_iter().flatten().filter_map(|m| m["message"].as_str().filter(|t| t.contains("/r/")));
        for text in texts {
            // A link id names nothing itself: its record in this test's table does.
            let token = switchboard_tests::token_in(text);
            if emulator().link_inquiry(&config.resource_prefix, &token).await == Some(ids[3].to_string()) {
                break 'found token;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no partner SMS");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let r = http.post(format!("{gateway_url}/respond")).json(&json!({ "token": token, "answer": "accept" })).send().await.unwrap();
    let status = r.status();
    assert_eq!(status, 200, "{}", r.text().await.unwrap_or_default());
    let r = http.get(format!("{gateway_url}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    for id in &ids {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !admin_store.timeline(*id).await.unwrap().iter().any(|e| e.kind.starts_with("notification.customer.")) {
            assert!(tokio::time::Instant::now() < deadline, "inquiry {id} never finished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // A customer's text back (as the inbound-SMS topic delivers it raw):
    // intake finds their inquiry by phone and appends to it (the newest
    // open one of the two this phone submitted: which depends on how the
    // partner request ended).
    let intake_queue = admin.sqs.get_queue_url().queue_name(format!("{}-intake", config.resource_prefix)).send().await.unwrap();
    let text = json!({ "originationNumber": "+12135550149", "destinationNumber": "+15550001111", "messageBody": "Thanks!",
        "inboundMessageId": "iam-sms-1" });
    admin.sqs.send_message().queue_url(intake_queue.queue_url.unwrap()).message_body(text.to_string()).send().await.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut joined = false;
    while !joined {
        for id in [ids[0], ids[2]] {
            joined |= admin_store.messages(id, 0, 100).await.unwrap().iter().any(|m| m.text == "Thanks!");
        }
        assert!(joined || tokio::time::Instant::now() < deadline, "the text back never joined the inquiry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    for r in running {
        r.await.unwrap().unwrap();
    }

    let names = ResourceNames::new(&config.resource_prefix);
    let topic_arn = config.events_topic_arn.clone().unwrap_or_default();
    let mut report = Vec::new();
    for (component, counter, traffic) in &counters {
        let granted = granted_actions(component);
        for (service, operation) in counter.snapshot().keys() {
            for action in actions_for_operation(service, operation) {
                assert!(
                    granted.contains(&action.as_str()),
                    "{component} called {service}.{operation}, which needs {action}, but its role does not grant it"
                );
            }
            report.push(format!("{component}: {service}.{operation}"));
        }
        let calls = traffic.calls();
        // The proxy saw what the counter counted (it parses the wire; the
        // counter names what the SDK sent).
        assert_eq!(calls.len() as u64, counter.snapshot().values().sum::<u64>(), "{component}: proxy and counter disagree: {calls:?}");
        let scope = Scope { component, prefix: &config.resource_prefix, topic_arn: &topic_arn, names: &names };
        for call in &calls {
            scope.assert_granted(call);
        }
    }
    // Each component did real work through its own clients, and the AI
    // engines ran through theirs.
    for component in COMPONENTS {
        assert!(report.iter().any(|r| r.starts_with(&format!("{component}:"))), "{component} made no AWS call");
    }
    let ai_calls: Vec<(&str, String)> = counters
        .iter()
        .flat_map(|(component, _, traffic)| {
            traffic
                .calls()
                .into_iter()
                .filter(|c| ["comprehend", "textract", "bedrock"].contains(&c.service.as_str()))
                .map(|c| (*component, c.service))
        })
        .collect();
    for (component, service) in [
        ("classifier", "comprehend"),
        ("classifier", "bedrock"),
        ("image-analyzer", "textract"),
        ("image-analyzer", "bedrock"),
        ("responder", "bedrock"),
    ] {
        assert!(ai_calls.iter().any(|(c, s)| *c == component && s == service), "{component} never called {service}: {ai_calls:?}");
    }
}

/// The model every Bedrock call of this test names.
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// What one component's role lets it touch.
struct Scope<'a> {
    component: &'a str,
    prefix: &'a str,
    topic_arn: &'a str,
    names: &'a ResourceNames,
}

impl Scope<'_> {
    /// Whether `target` covers `resource`, as the generated policy's
    /// `Resource` for that target would.
    fn covers(&self, target: Target, resource: &Resource) -> bool {
        match (target, resource) {
            (Target::OwnQueue, Resource::Queue(name)) => *name == format!("{}-{}", self.prefix, self.component),
            (Target::OwnDeadLetterQueue, Resource::Queue(name)) => *name == format!("{}-{}-dlq", self.prefix, self.component),
            (Target::AllQueues, Resource::Queue(name)) => name.starts_with(&format!("{}-", self.prefix)),
            (Target::Topic, Resource::Topic(arn)) => arn == self.topic_arn,
            (Target::Table, Resource::Table { table, .. }) => *table == self.names.table,
            (Target::BucketObjects, Resource::Object { bucket, key }) => *bucket == self.names.bucket && !key.is_empty(),
            (Target::PhoneNumbers, Resource::PhoneNumber) => true,
            (Target::EmailIdentities, Resource::EmailIdentity(from)) => !from.is_empty(),
            (Target::FoundationModels, Resource::Model(model)) => model == MODEL,
            _ => false,
        }
    }

    /// Every action the call needs is granted on a target covering every
    /// resource it names (or, for calls naming none, on a target that has none).
    fn assert_granted(&self, call: &AwsCall) {
        let grants = grants(self.component);
        for action in actions_for_operation(&call.service, &call.operation) {
            let targets: Vec<Target> = grants.iter().filter(|g| g.actions.contains(&action.as_str())).map(|g| g.target).collect();
            let allowed = if call.resources.is_empty() {
                targets.contains(&Target::AiServices)
            } else {
                call.resources.iter().all(|r| targets.iter().any(|t| self.covers(*t, r)))
            };
            assert!(
                allowed,
                "{} called {}.{} needing {action} on {:?}, but its role grants that action only on {targets:?}",
                self.component, call.service, call.operation, call.resources
            );
        }
    }
}
