//! Local engines: rules, lexicons and FAQ retrieval, no network.
//!
//! They make Switchboard work with no cloud account (the embedded mode of
//! `switchboard up`) and are the fallback when a cloud engine fails:
//!
//! - [`LocalClassifier`]: keyword rules and a sentiment lexicon for Korean
//!   and English (language, intent, urgency, sentiment, reservation number).
//! - [`LocalAnswerDrafter`]: BM25 retrieval over the tenant's FAQ, and
//!   templated notifications of a partner's answer.
//! - [`LocalAttachmentAnalyzer`]: image dimensions, PDF pages and text layer,
//!   and the problems a human should know about (corrupt, tiny, scanned).

mod attachments;
mod classifier;
mod faq;

pub use attachments::LocalAttachmentAnalyzer;
pub use classifier::LocalClassifier;
pub use faq::LocalAnswerDrafter;
