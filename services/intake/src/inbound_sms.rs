//! A customer's text message back: AWS End User Messaging SMS (formerly
//! Pinpoint SMS) publishes what a two-way number receives to an SNS topic,
//! which delivers it raw to the intake queue as
//!
//! ```json
//! {"originationNumber":"+14255550182","destinationNumber":"+12125550101",
//!  "messageKeyword":"JOIN","messageBody":"Could I stay until 1 pm?",
//!  "inboundMessageId":"cae173d2-66b9-564c-8309-21f858e9fb84",
//!  "previousPublishedMessageId":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
//! ```
//!
//! The number it was sent to names the tenant ([`InboundSmsNumbers`],
//! `SWITCHBOARD_INBOUND_SMS_NUMBERS`); the sender's phone finds that
//! tenant's newest inquiry from them that is neither resolved nor failed
//! ([`newest_open_inquiry_by_phone`]), and the text joins it as the API
//! stores a follow-up (`switchboard_pipeline::follow_up`), channel `sms`,
//! keyed by `inboundMessageId` (a redelivered message stores one message).
//! A text that matches no inquiry is dropped with a log line naming
//! neither the number nor the text; one of the wrong shape, or to a number
//! no tenant owns, is dead-lettered with the reason. Embedded mode has no
//! SMS transport, but takes the same message from its intake queue.

use crate::Intake;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::HashMap;
use switchboard_domain::{FollowUp, Message, MessageChannel, PhoneNumber, SubmitFollowUp, TenantId};
use switchboard_messaging::events::{self, MAX_EVENT_ID_CHARS};
use switchboard_pipeline::OrRetry;
use switchboard_pipeline::follow_up::append_follow_up;
use switchboard_store::newest_open_inquiry_by_phone;
use switchboard_worker::Outcome;
use tracing::info;

/// The CloudEvents source of the follow-up's announcement.
const SOURCE: &str = "switchboard/intake/sms";

/// Why `SWITCHBOARD_INBOUND_SMS_NUMBERS` cannot be read. Names the entry by
/// its position: the numbers are the business's own, but a typo is easier
/// to find by its place than by its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundNumbersError {
    /// An entry is not `number=tenant`.
    #[error("entry {0} is not number=tenant (e.g. +15550001111=tenant-a)")]
    NotAPair(usize),
    /// An entry's number is not E.164.
    #[error("entry {0}: the number is not an E.164 number such as +15550001111")]
    BadNumber(usize),
    /// An entry's tenant is not a tenant id.
    #[error("entry {0}: the tenant is not a tenant id (lowercase letters, digits, '-')")]
    BadTenant(usize),
    /// A number is given twice.
    #[error("entry {0}: the number is given twice")]
    Repeated(usize),
}

/// Which tenant each two-way SMS number belongs to: a text sent to one of
/// them is a reply from that tenant's customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundSmsNumbers {
    tenants: HashMap<PhoneNumber, TenantId>,
}

impl InboundSmsNumbers {
    /// Parses comma-separated `number=tenant` entries
    /// (`+15550001111=tenant-a,+821055500000=tenant-b`); empty: no number.
    /// A tenant may have several numbers; a number has one tenant.
    pub fn parse(input: &str) -> Result<Self, InboundNumbersError> {
        let mut tenants = HashMap::new();
        for (index, entry) in input.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let position = index + 1;
            let (number, tenant) = entry.split_once('=').ok_or(InboundNumbersError::NotAPair(position))?;
            let number = PhoneNumber::parse(number).map_err(|_| InboundNumbersError::BadNumber(position))?;
            let tenant = TenantId::parse(tenant.trim()).map_err(|_| InboundNumbersError::BadTenant(position))?;
            if tenants.insert(number, tenant).is_some() {
                return Err(InboundNumbersError::Repeated(position));
            }
        }
        Ok(Self { tenants })
    }

    /// The tenant owning `number`, if any.
    pub fn tenant(&self, number: &PhoneNumber) -> Option<&TenantId> {
        self.tenants.get(number)
    }

    /// How many numbers are configured.
    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    /// No number is configured.
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }
}

/// Just enough of a message body to tell an inbound text from a CloudEvent.
#[derive(Deserialize)]
struct Recognised {
    #[serde(rename = "originationNumber")]
    origination: Option<IgnoredAny>,
    specversion: Option<IgnoredAny>,
}

/// Whether the intake queue's message `body` is an inbound text message
/// (a JSON object with `originationNumber` and no `specversion`) rather
/// than an upstream CloudEvent.
pub(crate) fn recognised(body: &str) -> bool {
    serde_json::from_str::<Recognised>(body).is_ok_and(|r| r.origination.is_some() && r.specversion.is_none())
}

/// The payload End User Messaging SMS publishes (fields it adds later are
/// ignored). `messageKeyword` and `previousPublishedMessageId` are not used:
/// the keyword is the number's registered one, and the message replied to
/// may be a partner's or a notice's, not the inquiry's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InboundSms {
    origination_number: String,
    destination_number: String,
    message_body: String,
    inbound_message_id: String,
}

impl Intake {
    /// Stores the inbound text message in `body` as a follow-up of its
    /// sender's newest open inquiry, or drops it when there is none.
    /// Reasons name fields, never the numbers or the text.
    pub(crate) async fn inbound_sms(&self, body: &str) -> Result<(), Outcome> {
        let sms: InboundSms = events::from_json(body).map_err(|e| Outcome::reject(format!("inbound SMS: {e}")))?;
        let destination = PhoneNumber::parse(&sms.destination_number)
            .map_err(|_| Outcome::reject("inbound SMS: destinationNumber is not an E.164 number"))?;
        // Our own number, so it may be named (masked, as everywhere in logs).
        let tenant = self.inbound_numbers.tenant(&destination).cloned().ok_or_else(|| {
            Outcome::reject(format!("inbound SMS to {}, a number not in SWITCHBOARD_INBOUND_SMS_NUMBERS", destination.masked()))
        })?;
        if self.tenants.get_tenant(&tenant).await.or_retry()?.is_none() {
            return Err(Outcome::reject(format!("inbound SMS: unknown tenant {tenant} (SWITCHBOARD_INBOUND_SMS_NUMBERS)")));
        }
        let sender = PhoneNumber::parse(&sms.origination_number)
            .map_err(|_| Outcome::reject("inbound SMS: originationNumber is not an E.164 number"))?;
        let id = sms.inbound_message_id.trim();
        if id.is_empty() || id.chars().count() > MAX_EVENT_ID_CHARS {
            return Err(Outcome::reject(format!("inbound SMS: inboundMessageId must be 1 to {MAX_EVENT_ID_CHARS} characters")));
        }
        let follow_up = FollowUp::parse(SubmitFollowUp { text: Some(sms.message_body), language: None })
            .map_err(|e| Outcome::reject(format!("inbound SMS: messageBody is not a follow-up: {e}")))?;

        let Some(inquiry) = newest_open_inquiry_by_phone(self.inquiries.as_ref(), &tenant, &sender).await.or_retry()? else {
            // Nothing to join, now or on a retry: a text from a stranger, or
            // from a customer whose inquiries are all closed. No number, no text.
            info!(tenant_id = %tenant, "inbound SMS matches no open inquiry of its sender: dropped");
            return Ok(());
        };
        let now = self.clock.now();
        let message = Message::follow_up(inquiry.id, &format!("sms:{id}"), follow_up, MessageChannel::Sms, now);
        append_follow_up(self.inquiries.as_ref(), &self.relay, &inquiry, &message, SOURCE, now).await.or_retry()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_map_to_their_tenants() {
        let numbers = InboundSmsNumbers::parse(" +15550001111=tenant-a, 010-5550-0000=tenant-b ,").unwrap();
        assert_eq!(numbers.len(), 2);
        assert_eq!(numbers.tenant(&PhoneNumber::parse("+15550001111").unwrap()), Some(&TenantId::parse("tenant-a").unwrap()));
        assert_eq!(numbers.tenant(&PhoneNumber::parse("+821055500000").unwrap()), Some(&TenantId::parse("tenant-b").unwrap()));
        assert_eq!(numbers.tenant(&PhoneNumber::parse("+15550002222").unwrap()), None);
        assert!(InboundSmsNumbers::parse("").unwrap().is_empty());
    }

    #[test]
    fn a_bad_entry_is_named_by_its_position() {
        assert_eq!(InboundSmsNumbers::parse("+15550001111"), Err(InboundNumbersError::NotAPair(1)));
        assert_eq!(InboundSmsNumbers::parse("+15550001111=a,5550001111=b"), Err(InboundNumbersError::BadNumber(2)));
        assert_eq!(InboundSmsNumbers::parse("+15550001111=Tenant A"), Err(InboundNumbersError::BadTenant(1)));
        assert_eq!(InboundSmsNumbers::parse("+15550001111=a,+15550001111=b"), Err(InboundNumbersError::Repeated(2)));
    }

    #[test]
    fn an_inbound_text_is_told_from_a_cloud_event() {
        assert!(recognised(r#"{"originationNumber":"+14255550182","messageBody":"hi"}"#));
        assert!(!recognised(r#"{"specversion":"1.0","originationNumber":"+14255550182"}"#));
        assert!(!recognised(r#"{"specversion":"1.0","id":"e","type":"inquiry.submitted"}"#));
        assert!(!recognised("not json"));
    }
}
