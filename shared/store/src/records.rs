//! Items of the single table that are not domain entities themselves.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::{InquiryId, MediaType, PartnerOutcome};

/// `INQUIRY#{id}` / `ATTACHMENT#{n}`: an attachment and what was read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub inquiry_id: InquiryId,
    pub index: u32,
    /// Where the bytes are (blob store key; derived from ids, never from the file name).
    pub object_key: String,
    pub filename: String,
    pub media_type: MediaType,
    pub size: u64,
    /// The analyzer's findings (extracted text, labels, description, problems).
    #[serde(default)]
    pub analysis: Option<serde_json::Value>,
}

/// `INQUIRY#{id}` / `AI_RESPONSE#{ts}`: one call to an answer engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiResponseRecord {
    pub inquiry_id: InquiryId,
    pub at: Timestamp,
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: u64,
    pub quality_score: f32,
    pub fallback_used: bool,
}

/// `TOKEN#{sha256(token)}`: a partner link's single-use state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub token_hash: String,
    pub inquiry_id: InquiryId,
    pub partner_id: String,
    pub expires_at: Timestamp,
    /// The partner's answer counts only before this.
    pub deadline_at: Timestamp,
    pub used: bool,
    pub outcome: Option<PartnerOutcome>,
    pub used_at: Option<Timestamp>,
    pub opened_at: Option<Timestamp>,
}
