//! The [`Topic`] port on Amazon SNS, and idempotent provisioning of the
//! topic and of its SQS subscriptions with filter policies.
//!
//! Subscriptions use raw message delivery, so a queue receives the
//! publication's body and String attributes exactly as published and the
//! same code reads messages from SNS and from upstream senders.

use crate::aws::{self, classify};
use crate::sqs::EnsuredQueue;
use crate::{MAX_BATCH, MessagingError, Publication, Topic};
use async_trait::async_trait;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use switchboard_domain::FilterPolicy;

/// Largest message, and largest batch in total, SNS accepts (256 KiB).
pub const MAX_PAYLOAD: usize = 256 * 1024;

/// Pause before publishing failed entries again: SNS fails an entry for
/// throttling or an internal error, and an immediate retry meets the same.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The events topic on SNS.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsTopic {
    /// A handle on an existing topic (see [`ensure_topic`] to create one).
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }

    /// The topic's ARN.
    pub fn arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publishes one batch; returns the entries SNS did not accept, with
    /// why and whether SNS blames the request (a sender fault never
    /// succeeds on a retry).
    async fn publish_batch(
        &self,
        entries: Vec<PublishBatchRequestEntry>,
    ) -> Result<Vec<(PublishBatchRequestEntry, String, bool)>, MessagingError> {
        let output = self
            .client
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(entries.clone()))
            .send()
            .await
            .map_err(|e| classify("PublishBatch", &self.topic_arn, e))?;
        // The call answers 200 even when entries failed: every entry must be
        // accounted for, and one in neither list counts as failed.
        let succeeded: BTreeSet<&str> = output.successful().iter().filter_map(|s| s.id()).collect();
        let failed: HashMap<&str, (String, bool)> = output
            .failed()
            .iter()
            .map(|f| (f.id(), (format!("{}: {}", f.code(), f.message().unwrap_or("no message")), f.sender_fault())))
            .collect();
        Ok(entries
            .into_iter()
            .filter_map(|entry| {
                let (reason, sender_fault) = match failed.get(entry.id()) {
                    Some(failure) => failure.clone(),
                    None if succeeded.contains(entry.id()) => return None,
                    None => ("PublishBatch returned no result for this entry".to_owned(), false),
                };
                Some((entry, reason, sender_fault))
            })
            .collect())
    }
}

/// Bytes SNS counts for a publication: body, attribute names, types and values.
pub(crate) fn payload_size(publication: &Publication) -> usize {
    publication.body.len() + publication.attributes.iter().map(|(k, v)| k.len() + "String".len() + v.len()).sum::<usize>()
}

/// Splits publications into batches of at most [`MAX_BATCH`] entries and
/// [`MAX_PAYLOAD`] bytes in total (SNS limits both).
fn batches(publications: &[Publication]) -> Vec<&[Publication]> {
    let mut batches = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, publication) in publications.iter().enumerate() {
        let this = payload_size(publication);
        if i > start && (i - start == MAX_BATCH || size + this > MAX_PAYLOAD) {
            batches.push(&publications[start..i]);
            (start, size) = (i, 0);
        }
        size += this;
    }
    if start < publications.len() {
        batches.push(&publications[start..]);
    }
    batches
}

fn entry(id: usize, publication: &Publication) -> Result<PublishBatchRequestEntry, MessagingError> {
    let mut builder = PublishBatchRequestEntry::builder().id(id.to_string()).message(&publication.body);
    for (name, value) in &publication.attributes {
        let value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| MessagingError::Invalid(e.to_string()))?;
        builder = builder.message_attributes(name, value);
    }
    builder.build().map_err(|e| MessagingError::Invalid(e.to_string()))
}

fn describe(failures: &[(PublishBatchRequestEntry, String, bool)]) -> String {
    failures.iter().map(|(entry, reason, _)| format!("entry {}: {reason}", entry.id())).collect::<Vec<_>>().join("; ")
}

#[async_trait]
impl Topic for SnsTopic {
    fn name(&self) -> &str {
        self.topic_arn.rsplit(':').next().unwrap_or(&self.topic_arn)
    }

    fn system(&self) -> &'static str {
        "aws_sns"
    }

    /// Publishes in batches; entries SNS fails through no fault of the
    /// request are published once more, and anything still failing is an
    /// error ([`MessagingError::Invalid`] when SNS blames the request,
    /// [`MessagingError::Unavailable`] otherwise). Batches before a failing
    /// one stay published.
    async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError> {
        for publication in publications {
            aws::check_attributes(&publication.attributes)?;
            if payload_size(publication) > MAX_PAYLOAD {
                return Err(MessagingError::Invalid(format!("a publication exceeds SNS's {MAX_PAYLOAD}-byte limit")));
            }
        }
        for batch in batches(publications) {
            let entries = batch.iter().enumerate().map(|(i, p)| entry(i, p)).collect::<Result<Vec<_>, _>>()?;
            let failures = self.publish_batch(entries).await?;
            if failures.is_empty() {
                continue;
            }
            let (refused, retryable): (Vec<_>, Vec<_>) = failures.into_iter().partition(|(_, _, sender_fault)| *sender_fault);
            if !refused.is_empty() {
                return Err(MessagingError::Invalid(format!("SNS refused publications: {}", describe(&refused))));
            }
            tokio::time::sleep(RETRY_PAUSE).await;
            let still_failing = self.publish_batch(retryable.into_iter().map(|(entry, _, _)| entry).collect()).await?;
            if still_failing.is_empty() {
                continue;
            }
            let message = format!("SNS failed publications twice: {}", describe(&still_failing));
            return Err(if still_failing.iter().any(|(_, _, sender_fault)| *sender_fault) {
                MessagingError::Invalid(message)
            } else {
                MessagingError::Unavailable(message)
            });
        }
        Ok(())
    }
}

/// Creates the topic `name` unless it exists: (topic ARN, whether it was created).
pub async fn ensure_topic(client: &aws_sdk_sns::Client, name: &str) -> Result<(String, bool), MessagingError> {
    let suffix = format!(":{name}");
    let mut topics = client.list_topics().into_paginator().items().send();
    while let Some(topic) = topics.try_next().await.map_err(|e| classify("ListTopics", name, e))? {
        if let Some(arn) = topic.topic_arn().filter(|arn| arn.ends_with(&suffix)) {
            return Ok((arn.to_owned(), false));
        }
    }
    // CreateTopic is itself idempotent, so a provisioner racing us ends
    // with the same ARN.
    let created = client.create_topic().name(name).send().await.map_err(|e| classify("CreateTopic", name, e))?;
    let arn = created.topic_arn().ok_or_else(|| MessagingError::Unavailable(format!("SNS returned no ARN for topic {name}")))?;
    Ok((arn.to_owned(), true))
}

/// Subscribes `queue` to the topic with `policy` as its filter policy on
/// message attributes and raw message delivery, after letting the topic
/// send to the queue in the queue's access policy. Idempotent: an existing
/// subscription is updated only where its attributes differ, the queue's
/// other policy statements are kept, and the result says whether anything
/// changed.
pub async fn ensure_subscription(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic_arn: &str,
    queue: &EnsuredQueue,
    policy: &FilterPolicy,
) -> Result<bool, MessagingError> {
    if *policy == FilterPolicy::new() {
        // SNS has no policy that matches nothing; subscribing without one
        // would deliver everything.
        return Err(MessagingError::Invalid(format!("an empty filter policy for {} would match nothing", queue.name)));
    }
    let mut changed = ensure_queue_policy(sqs, topic_arn, queue).await?;
    let filter_policy = policy.to_sns_json();
    let wanted = [
        // Scope before policy: SNS validates a policy against the scope in force.
        ("FilterPolicyScope", Value::String("MessageAttributes".into())),
        ("FilterPolicy", filter_policy.clone()),
        ("RawMessageDelivery", Value::Bool(true)),
    ];

    let mut existing = None;
    let mut subscriptions = sns.list_subscriptions_by_topic().topic_arn(topic_arn).into_paginator().items().send();
    while let Some(subscription) = subscriptions.try_next().await.map_err(|e| classify("ListSubscriptionsByTopic", topic_arn, e))? {
        if subscription.protocol() == Some("sqs") && subscription.endpoint() == Some(queue.arn.as_str()) {
            existing = subscription.subscription_arn().map(str::to_owned);
            break;
        }
    }

    let Some(subscription_arn) = existing else {
        let mut request = sns.subscribe().topic_arn(topic_arn).protocol("sqs").endpoint(&queue.arn).return_subscription_arn(true);
        for (name, value) in &wanted {
            request = request.attributes(*name, attribute_text(value));
        }
        request.send().await.map_err(|e| classify("Subscribe", topic_arn, e))?;
        return Ok(true);
    };

    let current = sns
        .get_subscription_attributes()
        .subscription_arn(&subscription_arn)
        .send()
        .await
        .map_err(|e| classify("GetSubscriptionAttributes", &subscription_arn, e))?
        .attributes
        .unwrap_or_default();
    for (name, value) in &wanted {
        if same_subscription_attribute(name, value, current.get(*name).map(String::as_str)) {
            continue;
        }
        sns.set_subscription_attributes()
            .subscription_arn(&subscription_arn)
            .attribute_name(*name)
            .attribute_value(attribute_text(value))
            .send()
            .await
            .map_err(|e| classify("SetSubscriptionAttributes", &subscription_arn, e))?;
        changed = true;
    }
    Ok(changed)
}

/// A subscription attribute as SNS takes it: strings bare, the rest as JSON.
fn attribute_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a subscription's current attribute already says what we want.
/// Compared by meaning: the policy as JSON, booleans in any case, and an
/// absent scope as SNS's default (`MessageAttributes`).
fn same_subscription_attribute(name: &str, wanted: &Value, current: Option<&str>) -> bool {
    match (name, current) {
        ("FilterPolicyScope", None) => wanted == "MessageAttributes",
        ("FilterPolicy", Some(text)) => serde_json::from_str::<Value>(text).is_ok_and(|v| &v == wanted),
        ("RawMessageDelivery", Some(text)) => text.eq_ignore_ascii_case(&attribute_text(wanted)),
        (_, Some(text)) => text == attribute_text(wanted),
        (_, None) => false,
    }
}

/// The statement id of the grant for `topic_arn`: letters and digits only,
/// as IAM-style policies require, and distinct per topic.
fn statement_id(topic_arn: &str) -> String {
    let topic: String = topic_arn.rsplit(':').next().unwrap_or_default().chars().filter(char::is_ascii_alphanumeric).collect();
    format!("SwitchboardTopic{topic}")
}

/// Adds (or corrects) the statement that lets the topic send to the queue,
/// keeping any other statements. Returns whether the policy changed.
async fn ensure_queue_policy(sqs: &aws_sdk_sqs::Client, topic_arn: &str, queue: &EnsuredQueue) -> Result<bool, MessagingError> {
    let sid = statement_id(topic_arn);
    let statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": { "Service": "sns.amazonaws.com" },
        "Action": "sqs:SendMessage",
        "Resource": queue.arn,
        "Condition": { "ArnEquals": { "aws:SourceArn": topic_arn } },
    });
    let current = sqs
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .map_err(|e| classify("GetQueueAttributes", &queue.name, e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::Policy));
    let Some(policy) = merged_policy(current.as_deref(), &sid, statement) else {
        return Ok(false);
    };
    sqs.set_queue_attributes()
        .queue_url(&queue.url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .map_err(|e| classify("SetQueueAttributes", &queue.name, e))?;
    Ok(true)
}

/// `current` with `statement` put in place of the one with the same `Sid`;
/// `None` when it is already there unchanged. An unreadable current policy
/// is replaced.
fn merged_policy(current: Option<&str>, sid: &str, statement: Value) -> Option<Value> {
    let mut policy = current
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({ "Version": "2012-10-17" }));
    let mut statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        // A policy may hold one statement as an object instead of a list.
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    match statements.iter().position(|s| s.get("Sid").and_then(Value::as_str) == Some(sid)) {
        Some(i) if statements[i] == statement => return None,
        Some(i) => statements[i] = statement,
        None => statements.push(statement),
    }
    policy["Statement"] = Value::Array(statements);
    if policy.get("Version").is_none() {
        policy["Version"] = json!("2012-10-17");
    }
    Some(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Attributes;

    fn publication(size: usize) -> Publication {
        Publication { body: "x".repeat(size), attributes: Attributes::new() }
    }

    #[test]
    fn batches_hold_at_most_ten_publications() {
        let many: Vec<_> = (0..23).map(|_| publication(10)).collect();
        let sizes: Vec<usize> = batches(&many).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 3]);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn batches_stay_under_the_total_payload_limit() {
        let large: Vec<_> = (0..4).map(|_| publication(100 * 1024)).collect();
        let sizes: Vec<usize> = batches(&large).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 2]);
    }

    #[test]
    fn the_queue_policy_statement_is_added_once_and_others_are_kept() {
        let statement = json!({ "Sid": "SwitchboardTopicevents", "Effect": "Allow" });
        let other = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Deny"}]}"#;
        let merged = merged_policy(Some(other), "SwitchboardTopicevents", statement.clone()).unwrap();
        assert_eq!(merged["Statement"].as_array().unwrap().len(), 2);
        assert!(merged_policy(Some(&merged.to_string()), "SwitchboardTopicevents", statement.clone()).is_none());
        let fresh = merged_policy(None, "SwitchboardTopicevents", statement).unwrap();
        assert_eq!(fresh["Version"], "2012-10-17");
    }

    #[test]
    fn subscription_attributes_compare_by_meaning() {
        let policy = json!({ "event_type": ["a", "b"] });
        assert!(same_subscription_attribute("FilterPolicy", &policy, Some(r#"{ "event_type" : ["a","b"] }"#)));
        assert!(!same_subscription_attribute("FilterPolicy", &policy, Some(r#"{"event_type":["a"]}"#)));
        assert!(same_subscription_attribute("FilterPolicyScope", &json!("MessageAttributes"), None));
        assert!(same_subscription_attribute("RawMessageDelivery", &json!(true), Some("True")));
        assert!(!same_subscription_attribute("RawMessageDelivery", &json!(true), Some("false")));
    }

    /// A stand-in for SNS on a loopback port: answers each request with the
    /// next canned PublishBatch result and records the request bodies.
    struct Stub {
        endpoint: String,
        requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    }

    /// A PublishBatch response: `ok` ids succeeded, `failed` are (id, sender fault).
    fn batch_result(ok: &[&str], failed: &[(&str, bool)]) -> String {
        let ok: String = ok.iter().map(|id| format!("<member><Id>{id}</Id><MessageId>m-{id}</MessageId></member>")).collect();
        let failed: String = failed
            .iter()
            .map(|(id, fault)| {
                format!("<member><Id>{id}</Id><Code>InternalError</Code><Message>boom</Message><SenderFault>{fault}</SenderFault></member>")
            })
            .collect();
        format!(
            r#"<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>{ok}</Successful><Failed>{failed}</Failed></PublishBatchResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishBatchResponse>"#
        )
    }

    async fn stub(responses: Vec<String>) -> Stub {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            for response in responses {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as many body bytes as Content-Length says.
                let body_start = loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    request.extend_from_slice(&buf[..n]);
                    if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
                let length: usize =
                    head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                while request.len() < body_start + length {
                    let n = socket.read(&mut buf).await.unwrap();
                    request.extend_from_slice(&buf[..n]);
                }
                seen.lock().unwrap().push(String::from_utf8_lossy(&request[body_start..]).into_owned());
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{response}",
                    response.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
            }
        });
        Stub { endpoint, requests }
    }

    async fn topic_at(endpoint: &str) -> SnsTopic {
        let options = switchboard_aws::AwsOptions {
            endpoint_url: Some(endpoint.to_owned()),
            max_attempts: 1,
            region: Some("us-east-1".into()),
            credentials: Some(switchboard_aws::Credentials::new("testing", "testing", None, None, "stub")),
        };
        let config = switchboard_aws::sdk_config(&options).await;
        SnsTopic::new(aws_sdk_sns::Client::new(&config), "arn:aws:sns:us-east-1:000000000000:events".into())
    }

    fn two() -> Vec<Publication> {
        ["a", "b"].map(|b| Publication { body: b.into(), attributes: [("event_type".to_owned(), "x".to_owned())].into() }).into()
    }

    #[tokio::test]
    async fn entries_sns_failed_are_published_once_more_and_alone() {
        let sns = stub(vec![batch_result(&["0"], &[("1", false)]), batch_result(&["1"], &[])]).await;
        topic_at(&sns.endpoint).await.publish(&two()).await.unwrap();
        let requests = sns.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 2);
        assert!(requests[1].contains("PublishBatchRequestEntries.member.1.Id=1"), "{}", requests[1]);
        assert!(!requests[1].contains("member.2"), "the retry repeats only the failed entry: {}", requests[1]);
    }

    #[tokio::test]
    async fn entries_failing_twice_are_reported_as_unavailable() {
        let sns = stub(vec![batch_result(&["0"], &[("1", false)]), batch_result(&[], &[("1", false)])]).await;
        let result = topic_at(&sns.endpoint).await.publish(&two()).await;
        assert!(matches!(&result, Err(MessagingError::Unavailable(m)) if m.contains("entry 1")), "{result:?}");
        assert_eq!(sns.requests.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn entries_sns_blames_on_the_request_are_reported_without_a_retry() {
        let sns = stub(vec![batch_result(&["0"], &[("1", true)])]).await;
        let result = topic_at(&sns.endpoint).await.publish(&two()).await;
        assert!(matches!(result, Err(MessagingError::Invalid(_))), "{result:?}");
        assert_eq!(sns.requests.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_entry_missing_from_both_lists_counts_as_failed() {
        let sns = stub(vec![batch_result(&["0"], &[]), batch_result(&[], &[])]).await;
        let result = topic_at(&sns.endpoint).await.publish(&two()).await;
        assert!(matches!(result, Err(MessagingError::Unavailable(_))), "{result:?}");
    }

    #[test]
    fn statement_ids_are_alphanumeric() {
        assert_eq!(statement_id("arn:aws:sns:us-east-1:123:sb-1-test-events"), "SwitchboardTopicsb1testevents");
    }
}
