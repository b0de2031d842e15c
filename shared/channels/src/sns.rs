//! SMS through SNS (AWS mode), sent at most once per message id as far as
//! SNS allows ([`SnsSms`](crate::sns::SnsSms) names the window that remains).

use crate::sent::{Recorded, SentLedger};
use crate::{ChannelError, Delivery, SmsMessage, SmsSender};
use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;

/// Texts customers and partners with SNS `Publish` to a phone number.
///
/// Before publishing it looks for a `SENT#{message id}` item in the table;
/// after publishing it writes one with a conditional put, and a message
/// whose record exists is answered with [`Delivery::AlreadySent`]. A crash
/// between the publish and the record (or two deliveries of one message
/// racing past the check) still sends twice: SNS cannot join a DynamoDB
/// transaction, and recording first would lose messages instead.
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
        if self.ledger.was_sent(&message.id).await? {
            return Ok(Delivery::AlreadySent);
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
                return Err(if permanent { ChannelError::Rejected(why) } else { ChannelError::Unavailable(why) });
            }
        };
        match self.ledger.record(&message.id, "sms", out.message_id(), message.inquiry_id).await {
            Ok(Recorded::First) => {}
            Ok(Recorded::Duplicate) => tracing::warn!(message_id = %message.id, "SMS sent twice: a concurrent delivery sent it too"),
            // The text is out; failing now would only make the caller send it again.
            Err(e) => tracing::warn!(message_id = %message.id, error = %e, "SMS sent but not recorded; a redelivery would send it again"),
        }
        Ok(Delivery::Sent)
    }
}
