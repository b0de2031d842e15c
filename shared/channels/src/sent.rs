//! The record of what the AWS channels sent: one `SENT#{message id}` item
//! per message in the single table, so a redelivered notification is not
//! sent twice.
//!
//! SNS and SES cannot take part in a DynamoDB transaction, so the protocol
//! is: look for the record, send, then record with a conditional put. Two
//! windows remain in which a message is sent twice: a crash (or a failed
//! record write) between the send and the record, and two deliveries of the
//! same message checking at the same moment. Both need a redelivery to land
//! exactly there; neither ever loses a message, which a claim written
//! before sending would risk when the sender dies holding it.

use crate::ChannelError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use std::collections::HashMap;
use switchboard_domain::InquiryId;

/// Records are kept longer than any redelivery can come (SQS keeps a
/// message at most 14 days), then DynamoDB's TTL removes them.
const RECORD_TTL_SECS: i64 = 30 * 24 * 3600;

/// What recording a sent message found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// This send is the one on record.
    First,
    /// Another delivery recorded the same id meanwhile: it was sent twice.
    Duplicate,
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

fn key(id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("SENT#{id}"))),
        ("sk".to_owned(), AttributeValue::S("METADATA".into())),
    ])
}

impl SentLedger {
    pub(crate) fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// Whether message `id` was sent before (a consistent read).
    pub(crate) async fn was_sent(&self, id: &str) -> Result<bool, ChannelError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .projection_expression("pk")
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        Ok(out.item.is_some_and(|i| !i.is_empty()))
    }

    /// Records that message `id` went out on `channel`.
    pub(crate) async fn record(
        &self,
        id: &str,
        channel: &str,
        provider_message_id: Option<&str>,
        inquiry_id: Option<InquiryId>,
    ) -> Result<Recorded, ChannelError> {
        let now = Timestamp::now();
        // No recipient or content: the record proves sending, and the
        // table must not become a second copy of customers' contacts.
        let mut item = key(id);
        item.insert("channel".into(), AttributeValue::S(channel.to_owned()));
        item.insert("sent_at".into(), AttributeValue::S(now.to_string()));
        item.insert("expires_at".into(), AttributeValue::N((now.as_second() + RECORD_TTL_SECS).to_string()));
        if let Some(provider) = provider_message_id {
            item.insert("provider_message_id".into(), AttributeValue::S(provider.to_owned()));
        }
        if let Some(inquiry) = inquiry_id {
            item.insert("inquiry_id".into(), AttributeValue::S(inquiry.to_string()));
        }
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)");
        match put.send().await {
            Ok(_) => Ok(Recorded::First),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") => {
                Ok(Recorded::Duplicate)
            }
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }
}
