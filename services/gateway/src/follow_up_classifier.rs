//! The port that classifies a customer's follow-up, so its sentiment can
//! join the conversation's trend (`conversation.rs`).

use async_trait::async_trait;
use switchboard_domain::{Classification, Language, TenantId};

/// Classifies one customer message (the composition root wires the
/// classifier the pipeline uses: local, or Comprehend).
#[async_trait]
pub trait FollowUpClassifier: Send + Sync {
    /// The verdict on `text`, written by a customer of `tenant` in
    /// `language` when the client said. The error says why there is none,
    /// without the text (it goes to the log).
    async fn classify(&self, tenant: &TenantId, text: &str, language: Option<Language>) -> Result<Classification, String>;
}
