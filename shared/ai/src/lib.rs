//! AI ports and the local engines that make Switchboard work with no cloud
//! account. The AWS engines (Comprehend, Bedrock, Textract) implement the
//! same traits; [`aws::engines`] builds them, [`Engines::local`] the
//! default. Which one runs is configuration, chosen in the composition root.
//!
//! What falls back to what:
//! - classifier: Comprehend (+ optional Bedrock intent model) → the local
//!   rules, per inquiry, logged without content;
//! - answer drafter: Bedrock errors (timeout, throttled twice, 5xx,
//!   invalid JSON, wrong language) → the responder's fallback message and
//!   an escalation to a person;
//! - attachment analyzer: Textract and Bedrock vision failures → problems
//!   recorded on the analysis, the local checks kept.

pub mod aws;
mod engines;
pub mod faults;
pub mod local;
pub mod memory;
pub mod model;
/// Personal data in inquiry text: the domain's one detector.
pub use switchboard_domain::pii;

pub use engines::Engines;

use async_trait::async_trait;
use std::time::Duration;
use switchboard_domain::{Classification, Inquiry, Language, MediaType, Message, PartnerOutcome, Suggestions, Tenant};

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
    /// The verdict on one inquiry.
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError>;

    /// Verdicts on several inquiries, in order. Engines with batch APIs
    /// override this to make fewer calls; by default, one at a time.
    async fn classify_batch(&self, requests: &[ClassifyRequest]) -> Vec<Result<Classification, AiError>> {
        let mut out = Vec::with_capacity(requests.len());
        for request in requests {
            out.push(self.classify(request).await);
        }
        out
    }
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

/// What the reply suggester is given: an inquiry a person answers, its
/// conversation so far and the tenant (its FAQ is the only source of facts).
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestRequest {
    pub tenant: Tenant,
    pub inquiry: Inquiry,
    /// Oldest first, the inquiry's own text as message 1.
    pub conversation: Vec<Message>,
    /// The language the drafts are written in (the customer's).
    pub language: Language,
}

/// Drafts replies for operators at three risk levels
/// ([`switchboard_domain::RiskLevel`]), each grounded only in the tenant's FAQ.
#[async_trait]
pub trait ReplySuggester: Send + Sync {
    async fn suggest(&self, request: &SuggestRequest) -> Result<Suggestions, AiError>;
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
