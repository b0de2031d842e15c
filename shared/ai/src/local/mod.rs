//! Local engines: a trained classifier, rules, lexicons and FAQ retrieval,
//! no network.
//!
//! They make Switchboard work with no cloud account (the embedded mode of
//! `switchboard up`) and are the fallback when a cloud engine fails:
//!
//! - [`LocalClassifier`]: a trained model (see [`crate::model`]) for
//!   intent, urgency and sentiment, reading the keyword rules' evidence
//!   among its features, for Korean and English; patterns for language,
//!   personal data and the reservation number.
//! - [`LocalAnswerDrafter`]: BM25 retrieval over the tenant's FAQ, and
//!   templated notifications of a partner's answer.
//! - [`LocalReplySuggester`]: three drafts for operators from templates
//!   and the FAQ entries related to the conversation.
//! - [`LocalAttachmentAnalyzer`]: image dimensions, PDF pages and text layer,
//!   and the problems a human should know about (corrupt, tiny, scanned).

pub(crate) mod attachments;
pub(crate) mod classifier;
pub mod faq;
pub mod suggestions;

pub use attachments::{ANALYSIS_TIMEOUT, LocalAttachmentAnalyzer, MAX_IMAGE_PIXELS, MAX_PAGES_READ, MAX_PDF_EXPANDED_BYTES};
pub use classifier::{ENGINE as CLASSIFIER_ENGINE, LocalClassifier, MAX_KEY_PHRASES, RULES_ENGINE, Signals, classify_with_model};
pub use faq::{CONFIDENCE_THRESHOLD, LocalAnswerDrafter, MODEL as DRAFTER_MODEL, NO_FAQ_MATCH, retrieve as retrieve_faq};
pub use suggestions::LocalReplySuggester;
