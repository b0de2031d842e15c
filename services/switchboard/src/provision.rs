//! `switchboard provision`: creates or updates, idempotently, everything
//! the AWS mode needs under the configured prefix. Production deploys use
//! `deploy/`; this serves development accounts and emulators.

use crate::aws::{Clients, ResourceNames};
use crate::config::Config;
use switchboard_domain::Service;
use switchboard_messaging::{sns, sqs};
use switchboard_worker::redrive_max_receives;

/// What provisioning changed; empty when everything was already in place.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<String>,
}

/// Ensures topic, queues with dead-letter queues, subscriptions with the
/// routing table's filter policies, table and bucket, and the e-mail sender.
pub async fn run(clients: &Clients, config: &Config) -> anyhow::Result<Report> {
    let names = ResourceNames::new(&config.resource_prefix);
    let prefix = &config.resource_prefix;
    let mut report = Report::default();
    let (topic_arn, changed) = sns::ensure_topic(&clients.sns, &names.topic).await?;
    if changed {
        report.changes.push(format!("topic {}", names.topic));
    }
    for service in Service::ALL {
        let name = service.queue_name(prefix);
        let dlq = service.dead_letter_queue_name(prefix);
        let redrive = redrive_max_receives(config.max_receives);
        let queue = sqs::ensure_queue(&clients.sqs, &name, Some((&dlq, redrive)), config.visibility()).await?;
        if queue.changed {
            report.changes.push(format!("queue {name} (+ {dlq})"));
        }
        if let Some(policy) = service.subscription()
            && sns::ensure_subscription(&clients.sns, &clients.sqs, &topic_arn, &queue, &policy).await?
        {
            report.changes.push(format!("subscription {} -> {name}", names.topic));
        }
    }
    if switchboard_store::dynamodb::ensure_table(&clients.dynamodb, &names.table).await? {
        report.changes.push(format!("table {}", names.table));
    }
    if switchboard_store::s3::ensure_bucket(&clients.s3, &names.bucket).await? {
        report.changes.push(format!("bucket {}", names.bucket));
    }
    if switchboard_channels::ses::ensure_sender(&clients.ses, &config.email_from).await? {
        report.changes.push(format!("e-mail sender {}", config.email_from));
    }
    Ok(report)
}
