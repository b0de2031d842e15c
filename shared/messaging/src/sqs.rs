//! The [`Queue`] port on Amazon SQS (standard queues), and idempotent
//! provisioning of a queue with its dead-letter queue.
//!
//! SQS counts time in whole seconds: delays, waits and visibility timeouts
//! are rounded up, never down, so nothing becomes visible earlier than the
//! caller asked. Only String (and Number) message attributes are read and
//! written: filter policies match strings, and the local emulator mishandles
//! Binary attributes.

use crate::aws::{self, classify, is_stale_receipt, whole_seconds};
use crate::{
    Attributes, BatchFailure, FAILURE_REASON_ATTRIBUTE, MAX_BATCH, MAX_DELAY, MAX_WAIT, MessagingError, OutgoingMessage, Queue, QueueStats,
    ReceiveOptions, ReceivedMessage,
};
use async_trait::async_trait;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName,
};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// Longest visibility timeout SQS allows.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// Highest `maxReceiveCount` a redrive policy may name.
pub const MAX_RECEIVE_COUNT: u32 = 1000;

/// How long a dead-letter queue keeps messages: SQS's maximum (14 days).
/// For standard queues a message keeps its original enqueue time when it is
/// moved, so a dead-letter queue with the source's retention would let
/// dead letters expire before anyone looks at them.
const DEAD_LETTER_RETENTION_SECS: u32 = 14 * 24 * 3600;

/// One SQS queue, with the URL of its dead-letter queue when it has one.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    name: String,
    url: String,
    dead_letter_url: Option<String>,
}

impl SqsQueue {
    /// A handle on an existing queue (see [`ensure_queue`] to create one).
    pub fn new(client: aws_sdk_sqs::Client, name: String, url: String, dead_letter_url: Option<String>) -> Self {
        Self { client, name, url, dead_letter_url }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The dead-letter queue's URL, when the queue has one.
    pub fn dead_letter_url(&self) -> Option<&str> {
        self.dead_letter_url.as_deref()
    }

    /// Sends `body` with `attributes` (and, optionally, an X-Ray header) to `url`.
    async fn send_to(
        &self,
        url: &str,
        body: &str,
        attributes: &Attributes,
        delay: Duration,
        trace_header: Option<&str>,
    ) -> Result<String, MessagingError> {
        if delay > MAX_DELAY {
            return Err(MessagingError::Invalid(format!("delay {delay:?} exceeds the 15-minute maximum")));
        }
        aws::check_attributes(attributes)?;
        let mut request = self.client.send_message().queue_url(url).message_body(body).delay_seconds(whole_seconds(delay));
        for (name, value) in attributes {
            request = request.message_attributes(name, string_attribute(value)?);
        }
        if let Some(header) = trace_header {
            let value = MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(header)
                .build()
                .map_err(|e| MessagingError::Invalid(e.to_string()))?;
            request = request.message_system_attributes(MessageSystemAttributeNameForSends::AwsTraceHeader, value);
        }
        let output = request.send().await.map_err(|e| classify("SendMessage", url, e))?;
        // SQS always returns an id on success; an empty one would only
        // make the caller's logs less useful, never lose the message.
        Ok(output.message_id().unwrap_or_default().to_owned())
    }

    /// Approximate counts of one queue: (visible, in flight, delayed).
    async fn counts(&self, url: &str) -> Result<(u64, u64, u64), MessagingError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", url, e))?;
        let attributes = output.attributes();
        let count = |name: QueueAttributeName| -> u64 { attributes.and_then(|a| a.get(&name)).and_then(|v| v.parse().ok()).unwrap_or(0) };
        Ok((
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        ))
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, MessagingError> {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().map_err(|e| MessagingError::Invalid(e.to_string()))
}

/// The port's view of a received SQS message.
fn received(message: aws_sdk_sqs::types::Message) -> Result<ReceivedMessage, MessagingError> {
    let system = message.attributes();
    let system_attribute = |name: MessageSystemAttributeName| system.and_then(|a| a.get(&name)).cloned();
    let receipt = message
        .receipt_handle()
        .ok_or_else(|| MessagingError::Unavailable("ReceiveMessage returned a message without a receipt handle".into()))?
        .to_owned();
    let attributes: Attributes = message
        .message_attributes()
        .into_iter()
        .flatten()
        // Number attributes travel as strings too; Binary ones have no
        // string form and are left out (the port carries strings only).
        .filter_map(|(name, value)| value.string_value().map(|v| (name.clone(), v.to_owned())))
        .collect();
    Ok(ReceivedMessage {
        message_id: message.message_id().unwrap_or_default().to_owned(),
        receipt,
        body: message.body().unwrap_or_default().to_owned(),
        attributes,
        // Requested explicitly below; should SQS ever omit it, the message
        // has still been received at least this once.
        receive_count: system_attribute(MessageSystemAttributeName::ApproximateReceiveCount).and_then(|c| c.parse().ok()).unwrap_or(1),
        trace_header: system_attribute(MessageSystemAttributeName::AwsTraceHeader),
    })
}

#[async_trait]
impl Queue for SqsQueue {
    fn name(&self) -> &str {
        &self.name
    }

    fn system(&self) -> &'static str {
        "aws_sqs"
    }

    async fn send(&self, message: OutgoingMessage) -> Result<String, MessagingError> {
        self.send_to(&self.url, &message.body, &message.attributes, message.delay, message.trace_header.as_deref()).await
    }

    async fn receive(&self, options: ReceiveOptions) -> Result<Vec<ReceivedMessage>, MessagingError> {
        if options.max_messages == 0 || options.max_messages > MAX_BATCH {
            return Err(MessagingError::Invalid(format!("max_messages must be 1 to {MAX_BATCH}")));
        }
        if options.wait > MAX_WAIT {
            return Err(MessagingError::Invalid("wait must be at most 20 s".into()));
        }
        if options.visibility > MAX_VISIBILITY {
            return Err(MessagingError::Invalid("visibility timeout must be at most 12 hours".into()));
        }
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(options.max_messages as i32)
            // Rounded up: a sub-second wait still long-polls, and a short
            // poll (0 s) samples only some SQS servers, so it can come back
            // empty while messages wait.
            .wait_time_seconds(whole_seconds(options.wait))
            .visibility_timeout(whole_seconds(options.visibility))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
            .send()
            .await
            .map_err(|e| classify("ReceiveMessage", &self.name, e))?;
        output.messages.unwrap_or_default().into_iter().map(received).collect()
    }

    async fn delete_batch(&self, receipts: &[String]) -> Result<Vec<BatchFailure>, MessagingError> {
        if receipts.len() > MAX_BATCH {
            return Err(MessagingError::Invalid(format!("at most {MAX_BATCH} receipts a batch")));
        }
        if receipts.is_empty() {
            // SQS rejects an empty batch; there is nothing to do.
            return Ok(Vec::new());
        }
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .build()
                    .map_err(|e| MessagingError::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| classify("DeleteMessageBatch", &self.name, e))?;
        // The call answers 200 even when entries failed: every entry must be
        // accounted for, and one that is in neither list counts as failed.
        let succeeded: BTreeSet<&str> = output.successful().iter().map(|s| s.id()).collect();
        let failed: HashMap<&str, String> =
            output.failed().iter().map(|f| (f.id(), format!("{}: {}", f.code(), f.message().unwrap_or("no message")))).collect();
        let failures = receipts
            .iter()
            .enumerate()
            .filter_map(|(i, receipt)| {
                let id = i.to_string();
                let reason = match failed.get(id.as_str()) {
                    Some(reason) => reason.clone(),
                    None if succeeded.contains(id.as_str()) => return None,
                    None => "DeleteMessageBatch returned no result for this entry".to_owned(),
                };
                Some(BatchFailure { receipt: receipt.clone(), reason })
            })
            .collect();
        Ok(failures)
    }

    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), MessagingError> {
        if timeout > MAX_VISIBILITY {
            return Err(MessagingError::Invalid("visibility timeout must be at most 12 hours".into()));
        }
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(whole_seconds(timeout))
            .send()
            .await
            .map_err(|e| {
                if is_stale_receipt(&e) { MessagingError::StaleReceipt } else { classify("ChangeMessageVisibility", &self.name, e) }
            })?;
        Ok(())
    }

    /// Sends a copy (same body and attributes, plus the reason) to the
    /// dead-letter queue, then deletes the original. Copy first, delete
    /// second: a failure in between leaves the message in both places
    /// (at-least-once), never in neither. If the delete finds the receipt
    /// stale (another consumer received the message meanwhile) the copy
    /// has already been sent and [`MessagingError::StaleReceipt`] is returned.
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), MessagingError> {
        let Some(dead_letter_url) = &self.dead_letter_url else {
            return Err(MessagingError::Invalid(format!("queue {} has no dead-letter queue", self.name)));
        };
        let mut attributes = message.attributes.clone();
        let reason = if reason.is_empty() { "unspecified".to_owned() } else { aws::sqs_safe_text(reason) };
        attributes.insert(FAILURE_REASON_ATTRIBUTE.into(), reason);
        // A message already carrying ten attributes cannot take the reason:
        // the send is refused (Invalid) and the redrive policy still moves
        // the message after its last receive, without a reason.
        self.send_to(dead_letter_url, &message.body, &attributes, Duration::ZERO, message.trace_header.as_deref()).await?;
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt)
            .send()
            .await
            .map_err(|e| if is_stale_receipt(&e) { MessagingError::StaleReceipt } else { classify("DeleteMessage", &self.name, e) })?;
        Ok(())
    }

    /// SQS's approximate counts of this queue and its dead-letter queue
    /// (every message there, whatever its visibility). `oldest_age` is
    /// always `None`: SQS publishes the oldest message's age only as the
    /// CloudWatch metric `ApproximateAgeOfOldestMessage`, not through its API.
    async fn stats(&self) -> Result<QueueStats, MessagingError> {
        let (visible, in_flight, delayed) = self.counts(&self.url).await?;
        let dead_lettered = match &self.dead_letter_url {
            Some(url) => {
                let (v, f, d) = self.counts(url).await?;
                v + f + d
            }
            None => 0,
        };
        Ok(QueueStats { visible, in_flight, delayed, dead_lettered, oldest_age: None })
    }
}

/// A queue made or confirmed by [`ensure_queue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnsuredQueue {
    /// The queue's name.
    pub name: String,
    /// The queue's URL, which every SQS call names it by.
    pub url: String,
    /// The queue's ARN, which subscriptions and access policies name it by.
    pub arn: String,
    /// The dead-letter queue's URL, when one was asked for.
    pub dead_letter_url: Option<String>,
    /// Whether anything was created or updated (false when it all existed
    /// with the wanted attributes).
    pub changed: bool,
}

impl EnsuredQueue {
    /// The [`Queue`] handle on this queue.
    pub fn queue(&self, client: aws_sdk_sqs::Client) -> SqsQueue {
        SqsQueue::new(client, self.name.clone(), self.url.clone(), self.dead_letter_url.clone())
    }
}

/// Creates `name` (and, with `dead_letter = Some((dlq_name, max_receives))`,
/// its dead-letter queue and a redrive policy moving a message there after
/// `max_receives` receives) with SQS-managed encryption and the given
/// default visibility timeout. Idempotent: existing queues are compared
/// attribute by attribute and updated only where they differ, and
/// `changed` says whether anything was created or updated. Without a
/// dead-letter queue an existing redrive policy is removed.
pub async fn ensure_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    dead_letter: Option<(&str, u32)>,
    visibility: Duration,
) -> Result<EnsuredQueue, MessagingError> {
    if visibility > MAX_VISIBILITY {
        return Err(MessagingError::Invalid("visibility timeout must be at most 12 hours".into()));
    }
    let mut changed = false;
    let mut wanted = vec![
        (QueueAttributeName::SqsManagedSseEnabled, "true".to_owned()),
        (QueueAttributeName::VisibilityTimeout, whole_seconds(visibility).to_string()),
    ];
    let dead_letter_url = match dead_letter {
        Some((dlq_name, max_receives)) => {
            if !(1..=MAX_RECEIVE_COUNT).contains(&max_receives) {
                return Err(MessagingError::Invalid(format!("max receives must be 1 to {MAX_RECEIVE_COUNT}")));
            }
            let dlq_wanted = vec![
                (QueueAttributeName::SqsManagedSseEnabled, "true".to_owned()),
                (QueueAttributeName::MessageRetentionPeriod, DEAD_LETTER_RETENTION_SECS.to_string()),
            ];
            let (dlq_url, dlq_arn, dlq_changed) = ensure_one(client, dlq_name, &dlq_wanted).await?;
            changed |= dlq_changed;
            let policy = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives });
            wanted.push((QueueAttributeName::RedrivePolicy, policy.to_string()));
            Some(dlq_url)
        }
        None => {
            // An empty redrive policy removes one left from before.
            wanted.push((QueueAttributeName::RedrivePolicy, String::new()));
            None
        }
    };
    let (url, arn, queue_changed) = ensure_one(client, name, &wanted).await?;
    Ok(EnsuredQueue { name: name.to_owned(), url, arn, dead_letter_url, changed: changed || queue_changed })
}

/// Makes one queue exist with `wanted` attributes: (url, arn, changed).
async fn ensure_one(
    client: &aws_sdk_sqs::Client,
    name: &str,
    wanted: &[(QueueAttributeName, String)],
) -> Result<(String, String, bool), MessagingError> {
    let (url, created) = match client.get_queue_url().queue_name(name).send().await {
        Ok(found) => (found.queue_url().unwrap_or_default().to_owned(), false),
        Err(e) if aws::is_missing_queue(&e) => {
            // Empty values mean "absent" and cannot be passed to CreateQueue.
            let attributes: HashMap<_, _> = wanted.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
            match client.create_queue().queue_name(name).set_attributes(Some(attributes)).send().await {
                Ok(created) => (created.queue_url().unwrap_or_default().to_owned(), true),
                // Another provisioner created it between our two calls, with
                // other attributes: reconcile it like any existing queue.
                Err(e) if aws::code_of(&e) == Some("QueueAlreadyExists") => {
                    let found = client.get_queue_url().queue_name(name).send().await.map_err(|e| classify("GetQueueUrl", name, e))?;
                    (found.queue_url().unwrap_or_default().to_owned(), false)
                }
                Err(e) => return Err(classify("CreateQueue", name, e)),
            }
        }
        Err(e) => return Err(classify("GetQueueUrl", name, e)),
    };
    if url.is_empty() {
        return Err(MessagingError::Unavailable(format!("SQS returned no URL for queue {name}")));
    }
    let current = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(|e| classify("GetQueueAttributes", name, e))?
        .attributes
        .unwrap_or_default();
    let arn = current
        .get(&QueueAttributeName::QueueArn)
        .cloned()
        .ok_or_else(|| MessagingError::Unavailable(format!("SQS returned no ARN for queue {name}")))?;
    let differing: HashMap<QueueAttributeName, String> = wanted
        .iter()
        .filter(|(attribute, value)| !same_attribute(attribute, value, current.get(attribute).map(String::as_str)))
        .cloned()
        .collect();
    if differing.is_empty() {
        return Ok((url, arn, created));
    }
    client
        .set_queue_attributes()
        .queue_url(&url)
        .set_attributes(Some(differing))
        .send()
        .await
        .map_err(|e| classify("SetQueueAttributes", name, e))?;
    Ok((url, arn, true))
}

/// Whether a queue's current attribute value already says what `wanted`
/// does. Values are compared by meaning, not spelling: SQS may return
/// booleans in another case and a redrive policy's count as a string.
fn same_attribute(attribute: &QueueAttributeName, wanted: &str, current: Option<&str>) -> bool {
    let current = current.unwrap_or_default();
    match attribute {
        QueueAttributeName::RedrivePolicy => redrive_target(wanted) == redrive_target(current),
        QueueAttributeName::SqsManagedSseEnabled => wanted.eq_ignore_ascii_case(current),
        QueueAttributeName::VisibilityTimeout | QueueAttributeName::MessageRetentionPeriod => {
            wanted.parse::<u64>().ok() == current.parse::<u64>().ok()
        }
        _ => wanted == current,
    }
}

/// (dead-letter target ARN, max receive count) of a redrive policy; `None`
/// for an absent or empty one.
fn redrive_target(policy: &str) -> Option<(String, u64)> {
    let value: Value = serde_json::from_str(policy).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let count = match value.get("maxReceiveCount")? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((arn, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::config::{BehaviorVersion, Region};

    /// A client that is never called: these tests stop before the network.
    fn queue() -> SqsQueue {
        let config = aws_sdk_sqs::Config::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build();
        SqsQueue::new(aws_sdk_sqs::Client::from_conf(config), "q".into(), "http://127.0.0.1:9/q".into(), None)
    }

    #[tokio::test]
    async fn more_than_ten_attributes_are_refused_before_sending() {
        let attributes: Attributes = (0..11).map(|i| (format!("a{i}"), "v".to_owned())).collect();
        let result = queue().send(OutgoingMessage::new("x", attributes)).await;
        assert!(matches!(result, Err(MessagingError::Invalid(_))), "{result:?}");
    }

    #[tokio::test]
    async fn out_of_range_receive_options_are_refused() {
        let q = queue();
        let options = ReceiveOptions { max_messages: 11, wait: Duration::ZERO, visibility: Duration::from_secs(1) };
        assert!(matches!(q.receive(options).await, Err(MessagingError::Invalid(_))));
        let options = ReceiveOptions { max_messages: 1, wait: Duration::from_secs(21), visibility: Duration::from_secs(1) };
        assert!(matches!(q.receive(options).await, Err(MessagingError::Invalid(_))));
        assert!(matches!(
            q.send(OutgoingMessage::new("x", Attributes::new()).delayed(Duration::from_secs(901))).await,
            Err(MessagingError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn dead_lettering_without_a_dead_letter_queue_is_refused() {
        let message = ReceivedMessage {
            message_id: "m".into(),
            receipt: "r".into(),
            body: "b".into(),
            attributes: Attributes::new(),
            receive_count: 1,
            trace_header: None,
        };
        assert!(matches!(queue().dead_letter(&message, "why").await, Err(MessagingError::Invalid(_))));
    }

    #[tokio::test]
    async fn an_empty_delete_batch_makes_no_call() {
        assert!(queue().delete_batch(&[]).await.unwrap().is_empty());
    }

    #[test]
    fn redrive_policies_compare_by_meaning() {
        let ours = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:q-dlq","maxReceiveCount":5}"#;
        let theirs = r#"{"maxReceiveCount": "5", "deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:q-dlq"}"#;
        assert!(same_attribute(&QueueAttributeName::RedrivePolicy, ours, Some(theirs)));
        assert!(!same_attribute(&QueueAttributeName::RedrivePolicy, ours, Some(&theirs.replace('5', "6"))));
        assert!(same_attribute(&QueueAttributeName::RedrivePolicy, "", None));
        assert!(!same_attribute(&QueueAttributeName::RedrivePolicy, "", Some(ours)));
        assert!(same_attribute(&QueueAttributeName::SqsManagedSseEnabled, "true", Some("True")));
        assert!(!same_attribute(&QueueAttributeName::VisibilityTimeout, "30", Some("31")));
    }
}
