//! Items of the single table that are not domain entities themselves
//! (their keys are in [`crate::keys`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::{CloudEvent, InquiryId, MediaType, PartnerOutcome};

/// `INQUIRY#{id}` / `ATTACHMENT#{n}`: an attachment and what was read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    /// The inquiry it came with.
    pub inquiry_id: InquiryId,
    /// Its position among the inquiry's attachments, from 0.
    pub index: u32,
    /// Where the bytes are (blob store key; derived from ids, never from the file name).
    pub object_key: String,
    /// The client's file name, for display only.
    pub filename: String,
    /// The type detected from the bytes.
    pub media_type: MediaType,
    /// Size in bytes.
    pub size: u64,
    /// The analyzer's findings (extracted text, labels, description, problems).
    #[serde(default)]
    pub analysis: Option<serde_json::Value>,
}

/// `INQUIRY#{id}` / `AI_RESPONSE#{ts}`: one call to an answer engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiResponseRecord {
    /// The inquiry answered.
    pub inquiry_id: InquiryId,
    /// When the call was made.
    pub at: Timestamp,
    /// The engine's model, or `fallback` when the engine failed.
    pub model: String,
    /// Tokens sent.
    pub prompt_tokens: u32,
    /// Tokens received.
    pub completion_tokens: u32,
    /// How long the call took.
    pub latency_ms: u64,
    /// The engine's confidence in its draft, from 0 to 1 (0 when it failed).
    pub quality_score: f32,
    /// Whether the engine failed and the fallback answer was used.
    pub fallback_used: bool,
}

/// `TOKEN#{sha256(token)}`: a partner link's single-use state. Used once:
/// by the partner's answer, by the deadline (`outcome` timed out), or voided
/// when the inquiry no longer takes an answer (`voided_at`, no `outcome`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex: the token itself is never stored.
    pub token_hash: String,
    /// The inquiry the partner is asked about.
    pub inquiry_id: InquiryId,
    /// The partner the link went to.
    pub partner_id: String,
    /// When the link stops working (and the record may be deleted).
    pub expires_at: Timestamp,
    /// The partner's answer counts only before this.
    pub deadline_at: Timestamp,
    /// When the dispatcher first tried to text the link: the deadline and
    /// the expiry count from here, and a redelivery reuses them.
    #[serde(default)]
    pub issued_at: Option<Timestamp>,
    /// Whether it can no longer be used (answered, timed out or voided).
    pub used: bool,
    /// The partner's answer, once given.
    pub outcome: Option<PartnerOutcome>,
    /// When the partner answered.
    pub used_at: Option<Timestamp>,
    /// When the partner first opened the link.
    pub opened_at: Option<Timestamp>,
    /// When the inquiry left `awaiting_partner` for a person or a failure
    /// before any answer: the link is used up without an outcome.
    #[serde(default)]
    pub voided_at: Option<Timestamp>,
}

/// `INQUIRY#{id}` / `PARTNER_TOKEN`: which link was issued for an inquiry
/// (one per inquiry, the first issued wins), so a redelivery sends the same
/// link and closing the inquiry finds the link to void.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPointer {
    /// The hash the link's record is stored under.
    pub token_hash: String,
}

/// `INQUIRY#{id}` / `OUTBOX#{event id}`: an event stored in the same
/// transaction as the state change it announces, kept until it has been
/// published (see `InquiryStore::pending_events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The inquiry the event is about.
    pub inquiry_id: InquiryId,
    /// When the state change was written.
    pub stored_at: Timestamp,
    /// The event to publish.
    pub event: CloudEvent,
}
