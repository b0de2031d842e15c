//! SMS through SNS (AWS mode), sent at most once per message id as far as
//! SNS allows ([`SnsSms`](crate::sns::SnsSms) names the window that remains).

use crate::sent::{Claim, SentLedger, provider_refused};
use crate::{ChannelError, Delivery, SmsMessage, SmsSender};
use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;

/// Texts customers and partners with SNS `Publish` to a phone number.
///
/// Before publishing it claims the `SENT#{message id}` item in the table
/// (refused when the message is on record as sent: [`Delivery::AlreadySent`]);
/// after publishing it marks the item sent. A crash in the one call between
/// the publish and the mark still sends twice, and that resend is logged
/// and counted on the item as one in doubt (see the `sent` module): SNS
/// cannot join a DynamoDB transaction, and never resending would lose messages.
#[derive(Debug, Clone)]
pub struct SnsSms {
    sns: aws_sdk_sns::Client,
    ledger: SentLedger,
}

impl SnsSms {
    /// A sender that records sent ids in `table` (the single table).
    pub fn new(sns: aws_sdk_sns::Client, dynamodb: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { sns, ledger: SentLedger::new(dynamodb, table) }
    }
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send_sms(&self, message: &SmsMessage) -> Result<Delivery, ChannelError> {
        match self.ledger.claim(&message.id, "sms", message.inquiry_id).await? {
            Claim::AlreadySent => return Ok(Delivery::AlreadySent),
            Claim::InDoubt => tracing::warn!(
                message_id = %message.id,
                "SMS sending again: an earlier attempt ended between sending and recording it, so it may have gone out"
            ),
            Claim::Fresh => {}
        }
        // Transactional: delivered with priority and to numbers that block
        // promotional traffic; these are answers the customer waits for.
        let sms_type = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| ChannelError::Rejected(format!("malformed SNS request: {e}")))?;
        let published = self
            .sns
            .publish()
            .phone_number(message.to.as_str())
            .message(&message.body)
            .message_attributes("AWS.SNS.SMS.SMSType", sms_type)
            .send()
            .await;
        let out = match published {
            Ok(out) => out,
            Err(e) => {
                // Error texts can quote the number: name only the code and a masked recipient.
                let code = e.code().unwrap_or("no error code").to_owned();
                let why = format!("SNS Publish to {}: {code}", message.to.masked());
                let permanent = matches!(
                    e.as_service_error(),
                    Some(
                        PublishError::InvalidParameterException(_)
                            | PublishError::InvalidParameterValueException(_)
                            | PublishError::EndpointDisabledException(_)
                            | PublishError::ValidationException(_)
                    )
                );
                // Certainly not sent: the next attempt is then no duplicate.
                // Should this note fail, that attempt only counts as one in doubt.
                if provider_refused(&e)
                    && let Err(e) = self.ledger.mark_failed(&message.id).await
                {
                    tracing::warn!(message_id = %message.id, error = %e, "could not note a failed send");
                }
                return Err(if permanent { ChannelError::Rejected(why) } else { ChannelError::Unavailable(why) });
            }
        };
        if let Err(e) = self.ledger.mark_sent(&message.id, out.message_id()).await {
            // The text is out; failing now would only make the caller send it again.
            tracing::warn!(message_id = %message.id, error = %e, "SMS sent but not recorded; a redelivery would send it again");
        }
        Ok(Delivery::Sent)
    }
}
