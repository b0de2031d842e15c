//! The AWS backend: SQS, SNS, DynamoDB, S3 and SES behind the same ports,
//! named from `SWITCHBOARD_RESOURCE_PREFIX` ([`ResourceNames`], and
//! `{prefix}-{service}` queues), the names the CloudFormation template in
//! `deploy/cloudformation/` creates.

use crate::config::Config;
use crate::startup::Ports;
use anyhow::{Context, anyhow};
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_aws::{AwsOptions, RequestCounter};
use switchboard_channels::ses::SesEmail;
use switchboard_channels::sns::SnsSms;
use switchboard_domain::Service;
use switchboard_messaging::Queue;
use switchboard_messaging::coalescing::{CoalescingTopic, DEFAULT_LINGER};
use switchboard_messaging::sns::SnsTopic;
use switchboard_messaging::sqs::SqsQueue;
use switchboard_store::dynamodb::DynamoStore;
use switchboard_store::s3::S3Blobs;

/// The names of everything Switchboard uses under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    pub topic: String,
    pub table: String,
    pub bucket: String,
}

impl ResourceNames {
    pub fn new(prefix: &str) -> Self {
        Self { topic: format!("{prefix}-events"), table: prefix.to_owned(), bucket: format!("{prefix}-attachments") }
    }
}

/// One client per AWS service, from the standard configuration.
#[derive(Clone)]
pub struct Clients {
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_sesv2::Client,
}

impl Clients {
    /// Clients configured from the standard AWS sources.
    pub async fn from_env() -> Self {
        Self::new(&AwsOptions::default(), None).await
    }

    /// Clients with explicit options; `counter` sees every request.
    pub async fn new(options: &AwsOptions, counter: Option<RequestCounter>) -> Self {
        let sdk = switchboard_aws::sdk_config(options).await;
        macro_rules! client {
            ($sdk_crate:ident $(, $extra:ident($arg:expr))*) => {{
                // Every call is a client span of the trace it runs in.
                let mut builder = $sdk_crate::config::Builder::from(&sdk).interceptor(switchboard_aws::ClientSpans);
                if let Some(counter) = &counter {
                    builder = builder.interceptor(counter.clone());
                }
                $sdk_crate::Client::from_conf(builder$(.$extra($arg))*.build())
            }};
        }
        Self {
            sqs: client!(aws_sdk_sqs),
            sns: client!(aws_sdk_sns),
            dynamodb: client!(aws_sdk_dynamodb),
            // Emulators and custom endpoints serve buckets by path, not by host name.
            s3: client!(aws_sdk_s3, force_path_style(true)),
            ses: client!(aws_sdk_sesv2),
        }
    }
}

/// The AWS ports from the standard configuration. With `provision`,
/// missing resources are created first.
pub async fn ports(config: &Config, provision: bool) -> anyhow::Result<Ports> {
    ports_with(&Clients::from_env().await, config, provision).await
}

/// The table alone, for admin commands that need nothing else (no queue
/// or topic has to exist): `switchboard reservations migrate`.
pub async fn store(config: &Config) -> DynamoStore {
    let clients = Clients::from_env().await;
    DynamoStore::new(clients.dynamodb, ResourceNames::new(&config.resource_prefix).table)
}

/// The AWS ports on the given clients.
pub async fn ports_with(clients: &Clients, config: &Config, provision: bool) -> anyhow::Result<Ports> {
    let clients = clients.clone();
    if provision {
        let report = crate::provision::run(&clients, config).await?;
        for line in &report.changes {
            tracing::info!(change = %line, "provisioned");
        }
    }
    let names = ResourceNames::new(&config.resource_prefix);
    let prefix = &config.resource_prefix;
    let mut queues: BTreeMap<Service, Arc<dyn Queue>> = BTreeMap::new();
    let mut dead_letter_queues: BTreeMap<Service, Arc<dyn Queue>> = BTreeMap::new();
    for service in Service::ALL {
        let (name, dlq) = (service.queue_name(prefix), service.dead_letter_queue_name(prefix));
        let url = queue_url(&clients.sqs, &name).await?;
        let dlq_url = queue_url(&clients.sqs, &dlq).await?;
        queues.insert(service, Arc::new(SqsQueue::new(clients.sqs.clone(), name, url, Some(dlq_url.clone()))));
        dead_letter_queues.insert(service, Arc::new(SqsQueue::new(clients.sqs.clone(), dlq, dlq_url, None)));
    }
    let topic_arn = match &config.events_topic_arn {
        Some(arn) => arn.clone(),
        None => find_topic(&clients.sns, &names.topic).await?,
    };
    let store: Arc<DynamoStore> = Arc::new(DynamoStore::new(clients.dynamodb.clone(), names.table.clone()));
    Ok(Ports {
        api_store: store.clone(),
        store,
        blobs: Arc::new(S3Blobs::new(clients.s3.clone(), names.bucket.clone())),
        sms: Arc::new(SnsSms::new(clients.sns.clone(), clients.dynamodb.clone(), names.table.clone())),
        email: Arc::new(SesEmail::new(clients.ses.clone(), clients.dynamodb.clone(), names.table.clone(), config.email_from.clone())),
        // Concurrent handlers' publishes share PublishBatch calls (see
        // deploy/README.md, "What an inquiry costs").
        topic: Arc::new(CoalescingTopic::new(Arc::new(SnsTopic::new(clients.sns.clone(), topic_arn)), DEFAULT_LINGER)),
        queues,
        dead_letter_queues,
        outbox: None,
        database: None,
        retention: None,
        ai: switchboard_ai::Engines::local(),
        // The spans are in X-Ray; the console links there.
        traces: Arc::new(switchboard_gateway::XRayTraces {
            region: clients.dynamodb.config().region().map_or_else(|| "us-east-1".to_owned(), ToString::to_string),
        }),
    })
}

async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    let found = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .with_context(|| format!("queue {name} not found: run `switchboard provision` (or deploy the stack) first"))?;
    found.queue_url.ok_or_else(|| anyhow!("queue {name} has no URL"))
}

/// The events topic's ARN, found by name (SNS has no get-by-name call).
async fn find_topic(sns: &aws_sdk_sns::Client, name: &str) -> anyhow::Result<String> {
    let suffix = format!(":{name}");
    let mut pages = sns.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.context("cannot list SNS topics")?;
        if let Some(arn) = page.topics().iter().filter_map(|t| t.topic_arn()).find(|arn| arn.ends_with(&suffix)) {
            return Ok(arn.to_owned());
        }
    }
    Err(anyhow!("topic {name} not found: run `switchboard provision`, or set SWITCHBOARD_EVENTS_TOPIC_ARN"))
}
