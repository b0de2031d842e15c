//! The record of what the AWS channels sent: one `SENT#{message id}` item
//! per message in the single table, so a redelivered notification is not
//! sent twice.
//!
//! SNS and SES cannot take part in a DynamoDB transaction, so the protocol
//! is: claim the id (one conditional update, refused when the message is on
//! record as sent), send, then mark it sent. The only window in which a
//! message goes out twice is the one call between the provider taking it
//! and the mark: a process killed there, a mark that fails, or a send that
//! timed out after the provider took it leaves a claim without `sent_at`,
//! and the redelivery, finding it, cannot know whether the message went
//! out, so it sends again rather than risk losing it. Such a claim is *in
//! doubt*; it is logged, and the item keeps the count (`attempts - failed
//! - 1` once sent), so these duplicates can be counted apart from any other.

use crate::ChannelError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_sns::config::http::HttpResponse;
use jiff::Timestamp;
use std::collections::HashMap;
use switchboard_domain::InquiryId;
use switchboard_store::keys::{self, Key};

/// Records are kept longer than any redelivery can come (SQS keeps a
/// message at most 14 days), then DynamoDB's TTL removes them.
const RECORD_TTL_SECS: i64 = 30 * 24 * 3600;

/// Whether a failed send certainly did not go out: the request was never
/// made, or the provider answered it with a client error (4xx: invalid,
/// throttled, refused). A timeout, a broken connection or a server error
/// may come after the provider took the message, so those stay in doubt.
pub(crate) fn provider_refused<E>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ConstructionFailure(_) => true,
        SdkError::ServiceError(_) => e.raw_response().is_some_and(|r| r.status().is_client_error()),
        _ => false,
    }
}

/// What claiming a message id found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Nobody tried to send it before: send.
    Fresh,
    /// An earlier attempt claimed it and neither marked it sent nor saw
    /// the provider refuse it: it may be out already. Send again.
    InDoubt,
    /// It is on record as sent: do not send.
    AlreadySent,
}

/// `SENT#` items of one table.
#[derive(Debug, Clone)]
pub(crate) struct SentLedger {
    client: Client,
    table: String,
}

fn unavailable<E, R>(op: &str, e: SdkError<E, R>) -> ChannelError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    ChannelError::Unavailable(format!("DynamoDB {op}: {}", DisplayErrorContext(&e)))
}

/// The ledger item's key, in the single table's layout.
fn key(id: &str) -> HashMap<String, AttributeValue> {
    let Key { pk, sk } = keys::sent_message(id);
    HashMap::from([("pk".to_owned(), AttributeValue::S(pk)), ("sk".to_owned(), AttributeValue::S(sk))])
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl SentLedger {
    pub(crate) fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// Claims message `id` before sending it on `channel`: one conditional
    /// update that counts the attempt, refused when the message is marked sent.
    pub(crate) async fn claim(&self, id: &str, channel: &str, inquiry_id: Option<InquiryId>) -> Result<Claim, ChannelError> {
        // No recipient or content: the record proves sending, and the
        // table must not become a second copy of customers' contacts.
        let expires = Timestamp::now().as_second() + RECORD_TTL_SECS;
        let set = if inquiry_id.is_some() {
            "SET #channel = :channel, expires_at = :expires, inquiry_id = :inquiry"
        } else {
            "SET #channel = :channel, expires_at = :expires"
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression(format!("{set} ADD attempts :one"))
            .condition_expression("attribute_not_exists(sent_at)")
            .expression_attribute_names("#channel", "channel")
            .expression_attribute_values(":channel", AttributeValue::S(channel.to_owned()))
            .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::AllOld);
        if let Some(inquiry) = inquiry_id {
            update = update.expression_attribute_values(":inquiry", AttributeValue::S(inquiry.to_string()));
        }
        match update.send().await {
            Ok(out) => {
                let before = out.attributes.unwrap_or_default();
                let unsettled = number(&before, "attempts") - number(&before, "failed");
                Ok(if unsettled > 0 { Claim::InDoubt } else { Claim::Fresh })
            }
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") => Ok(Claim::AlreadySent),
            Err(e) => Err(unavailable("UpdateItem", e)),
        }
    }

    /// Marks message `id` sent, with the provider's id for it.
    pub(crate) async fn mark_sent(&self, id: &str, provider_message_id: Option<&str>) -> Result<(), ChannelError> {
        let set = if provider_message_id.is_some() { "SET sent_at = :now, provider_message_id = :provider" } else { "SET sent_at = :now" };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression(set)
            .expression_attribute_values(":now", AttributeValue::S(Timestamp::now().to_string()));
        if let Some(provider) = provider_message_id {
            update = update.expression_attribute_values(":provider", AttributeValue::S(provider.to_owned()));
        }
        update.send().await.map(drop).map_err(|e| unavailable("UpdateItem", e))
    }

    /// Notes that an attempt certainly failed without sending (see
    /// [`provider_refused`]), so the next attempt is not taken for one in doubt.
    pub(crate) async fn mark_failed(&self, id: &str) -> Result<(), ChannelError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression("ADD failed :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .map(drop)
            .map_err(|e| unavailable("UpdateItem", e))
    }
}
