//! The inquiry record: what a customer asked and everything learned since.

use crate::classification::{Classification, Language};
use crate::contact::CustomerContact;
use crate::partner::PartnerRequest;
use crate::reentry::FollowUpRound;
use crate::reservation::ReservationNumber;
use crate::sla::Sla;
use crate::status::InquiryStatus;
use crate::submission::NewInquiry;
use crate::tenant::TenantId;
use crate::verification::CustomerQuestion;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// An inquiry's id: a UUIDv7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InquiryId(Uuid);

/// Why an inquiry id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not an inquiry id (a UUID)")]
pub struct InvalidInquiryId;

impl InquiryId {
    /// A new id whose leading bits are `now` (UUIDv7), with random low bits supplied by the caller.
    pub fn new(now: Timestamp, random: [u8; 10]) -> Self {
        let ms = now.as_millisecond().max(0) as u64;
        let ts = uuid::Timestamp::from_unix_time(ms / 1000, ((ms % 1000) * 1_000_000) as u32, 0, 0);
        let mut bytes = *Uuid::new_v7(ts).as_bytes();
        // Keep the timestamp (6 bytes) and the version/variant bits; fill the rest.
        bytes[6] = (bytes[6] & 0xF0) | (random[0] & 0x0F);
        bytes[7] = random[1];
        bytes[8] = (bytes[8] & 0xC0) | (random[2] & 0x3F);
        bytes[9..16].copy_from_slice(&random[3..10]);
        Self(Uuid::from_bytes(bytes))
    }

    /// Parses a UUID (surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Self, InvalidInquiryId> {
        Uuid::parse_str(s.trim()).map(Self).map_err(|_| InvalidInquiryId)
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The id of a UUID (one read back from a link, say).
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl TryFrom<String> for InquiryId {
    type Error = InvalidInquiryId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InquiryId> for String {
    fn from(value: InquiryId) -> Self {
        value.0.to_string()
    }
}

impl fmt::Display for InquiryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where an inquiry came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A web form.
    Web,
    /// The REST or gRPC API.
    Api,
    /// The chat widget.
    Chat,
    /// An upstream system's event.
    Event,
}

impl Channel {
    /// The channel with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "web" => Some(Self::Web),
            "api" => Some(Self::Api),
            "chat" => Some(Self::Chat),
            "event" => Some(Self::Event),
            _ => None,
        }
    }

    /// The wire name: `web`, `api`, `chat` or `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Api => "api",
            Self::Chat => "chat",
            Self::Event => "event",
        }
    }
}

/// Why an inquiry went to a human, and what the customer was told meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// Why it needs a human.
    pub reason: String,
    /// What the customer was told meanwhile.
    pub customer_message: String,
}

impl Escalation {
    /// What the customer hears when a person will answer.
    pub fn holding_message(language: Language) -> String {
        match language {
            Language::Ko => "문의해 주셔서 감사합니다. 담당자가 내용을 확인한 뒤 곧 직접 연락드리겠습니다.".into(),
            Language::En => "Thank you for reaching out. A member of our team is looking at your message and will reply shortly.".into(),
        }
    }
}

/// One inquiry and everything the pipeline has learned about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inquiry {
    /// The id.
    pub id: InquiryId,
    /// The tenant whose customer asked.
    pub tenant_id: TenantId,
    /// How to reach the customer.
    pub customer: CustomerContact,
    /// Where it came in.
    pub channel: Channel,
    /// The title, if the customer gave one.
    pub title: Option<String>,
    /// What the customer wrote.
    pub content: String,
    /// As given by the client, or detected by the classifier.
    pub language: Option<Language>,
    /// The reservation it is about, if any.
    pub reservation_number: Option<ReservationNumber>,
    /// How many attachments it carries.
    pub attachment_count: u32,
    /// The classifier's verdict, once there is one.
    pub classification: Option<Classification>,
    /// Where it stands.
    pub status: InquiryStatus,
    /// Why the inquiry is `failed` (or any other note on its last transition).
    pub status_reason: Option<String>,
    /// Incremented by every write; conditional writes expect the version they read.
    pub version: u64,
    /// The partner request, when a partner must confirm.
    pub partner: Option<PartnerRequest>,
    /// The automatic answer, once there is one.
    pub answer: Option<String>,
    /// Why it went to a human, if it did.
    pub escalation: Option<Escalation>,
    /// A human's answer, once there is one.
    pub human_answer: Option<String>,
    /// The customer's follow-up the inquiry was last reopened for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUpRound>,
    /// The question about its booking the customer was asked, if one was
    /// (at most once per inquiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_question: Option<CustomerQuestion>,
    /// The first-response clock of its latest escalation, if it was
    /// escalated (kept after a person answered: met or breached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Sla>,
    /// When it was received.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Inquiry {
    /// A freshly received inquiry.
    pub fn received(id: InquiryId, tenant_id: TenantId, new: &NewInquiry, now: Timestamp) -> Self {
        Self {
            id,
            tenant_id,
            customer: new.customer.clone(),
            channel: new.channel,
            title: new.title.clone(),
            content: new.content.clone(),
            language: new.language,
            reservation_number: new.reservation_number.clone(),
            attachment_count: new.attachments.len() as u32,
            classification: None,
            status: InquiryStatus::Received,
            status_reason: None,
            version: 1,
            partner: None,
            answer: None,
            escalation: None,
            human_answer: None,
            follow_up: None,
            customer_question: None,
            sla: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// `base` for the inquiry's first round, `{base}-{sequence}` for the
    /// round of a follow-up: the step of the round's events and replies,
    /// so each round's are distinct and each is the same on a redelivery.
    pub fn step(&self, base: &str) -> String {
        match &self.follow_up {
            None => base.to_owned(),
            Some(round) => format!("{base}-{}", round.sequence),
        }
    }

    /// Whether it carries attachments.
    pub fn has_attachments(&self) -> bool {
        self.attachment_count > 0
    }

    /// The language to answer in: the classifier's, else the client's, else detected.
    pub fn reply_language(&self) -> Language {
        self.classification.as_ref().map(|c| c.language).or(self.language).unwrap_or_else(|| Language::detect(&self.content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_time() {
        let early = InquiryId::new(Timestamp::from_second(1_700_000_000).unwrap(), [9; 10]);
        let late = InquiryId::new(Timestamp::from_second(1_700_000_001).unwrap(), [0; 10]);
        assert!(early < late);
        assert_eq!(InquiryId::parse(&early.to_string()), Ok(early));
        assert_eq!(early.as_uuid().get_version_num(), 7);
        assert!(InquiryId::parse("not-an-id").is_err());
    }
}
