//! The port that drafts operators' reply suggestions (`suggestions.rs`
//! serves them); the composition root wires it to the AI engine.

use async_trait::async_trait;
use switchboard_domain::{Inquiry, Language, Message, Suggestions, Tenant};

/// Drafts the three replies for one inquiry.
#[async_trait]
pub trait ReplySuggestions: Send + Sync {
    /// The drafts for `inquiry` of `tenant`, in `language`, from its
    /// `conversation` (oldest first). The error says why there are none,
    /// without the conversation's text.
    async fn suggest(
        &self,
        tenant: &Tenant,
        inquiry: &Inquiry,
        conversation: Vec<Message>,
        language: Language,
    ) -> Result<Suggestions, String>;
}
