//! AI ports and the local engines that make Switchboard work with no cloud
//! account. The AWS engines (Comprehend, Bedrock, Textract) implement the
//! same traits.

pub mod local;

use async_trait::async_trait;
use std::time::Duration;
use switchboard_domain::{Classification, Inquiry, Language, MediaType, PartnerOutcome, Tenant};

/// An AI engine failure. The services fall back (local result, fallback
/// message, escalation) rather than fail the inquiry.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    #[error("the engine is unavailable: {0}")]
    Unavailable(String),
    #[error("the engine was throttled")]
    Throttled,
    #[error("the engine took longer than {0:?}")]
    Timeout(Duration),
    #[error("the engine answered something unusable: {0}")]
    InvalidOutput(String),
    #[error("the input cannot be processed: {0}")]
    UnsupportedInput(String),
}

/// What the classifier is given.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyRequest {
    pub title: Option<String>,
    pub content: String,
    /// The client's language, if it said.
    pub language_hint: Option<Language>,
    /// The client's reservation number, if it gave one.
    pub reservation_hint: Option<switchboard_domain::ReservationNumber>,
    /// Text read from attachments (OCR, PDF text, image descriptions).
    pub attachment_texts: Vec<String>,
}

/// Language, sentiment, intent, urgency and reservation number of an inquiry.
#[async_trait]
pub trait Classifier: Send + Sync {
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError>;
}

/// What the answer drafter is given.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRequest {
    pub tenant: Tenant,
    pub inquiry: Inquiry,
    /// The partner's answer, when the inquiry went to one: the draft is then
    /// the customer's notification of that outcome.
    pub partner_outcome: Option<PartnerOutcome>,
    pub language: Language,
}

/// A drafted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Text for the customer, in the requested language.
    pub text: String,
    /// 0.0–1.0: how well the tenant's material supports the answer.
    pub confidence: f32,
    /// Set when the engine itself judges a human must answer.
    pub escalate: Option<String>,
    /// Engine or model id, e.g. `local-faq-bm25`.
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// Drafts answers grounded in the tenant's FAQ and the partner outcome.
#[async_trait]
pub trait AnswerDrafter: Send + Sync {
    async fn draft(&self, request: &DraftRequest) -> Result<Draft, AiError>;
}

/// What was learned from one attachment.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct AttachmentAnalysis {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub page_count: Option<u32>,
    /// Text found in the file (PDF text layer, OCR).
    pub extracted_text: Option<String>,
    /// What the image shows, when an engine can tell.
    pub description: Option<String>,
    pub labels: Vec<String>,
    /// Problems found: unreadable, suspiciously small, type mismatch.
    pub problems: Vec<String>,
    pub engine: String,
}

/// Reads attachments.
#[async_trait]
pub trait AttachmentAnalyzer: Send + Sync {
    /// `context` is the inquiry's text, so a description can say what matters to it.
    async fn analyze(&self, media_type: MediaType, bytes: &[u8], context: &str) -> Result<AttachmentAnalysis, AiError>;
}
