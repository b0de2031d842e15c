//! The JSON shapes of an inquiry's conversation (and their OpenAPI schemas).

use jiff::Timestamp;
use serde::Serialize;
use switchboard_domain::{Author, Message, MessageChannel, TimelineEvent};
use utoipa::ToSchema;

/// One message of an inquiry's conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    /// Stable: a repeated call returns the same id.
    pub message_id: String,
    pub inquiry_id: String,
    /// Its place in the conversation, from 1 (the inquiry's text).
    pub sequence: u32,
    /// `customer`, `ai`, `operator` or `system`.
    #[schema(value_type = String, example = "customer")]
    pub author: Author,
    /// `api`, `web`, `chat`, `upstream`, `sms` or `email`.
    #[schema(value_type = String, example = "api")]
    pub channel: MessageChannel,
    /// `ko` or `en`, when known.
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Option<switchboard_domain::Language>,
    pub text: String,
    pub created_at: Timestamp,
    /// The message's own classification (language, intent, urgency,
    /// sentiment…), where it was classified.
    #[schema(value_type = Option<Object>)]
    pub classification: Option<switchboard_domain::Classification>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            message_id: m.id,
            inquiry_id: m.inquiry_id.to_string(),
            sequence: m.sequence,
            author: m.author,
            channel: m.channel,
            language: m.language,
            text: m.text,
            created_at: m.created_at,
            classification: m.classification,
        }
    }
}

impl MessageView {
    /// The message a `message.*` timeline event carries, if it is one.
    pub fn of_event(event: &TimelineEvent) -> Option<Self> {
        carried_message(event).map(Self::from)
    }
}

/// The message a `message.*` timeline event carries in `details.message`
/// (`switchboard_store::message_event`), if it is one. REST and gRPC both read it here.
pub fn carried_message(event: &TimelineEvent) -> Option<Message> {
    if !event.kind.starts_with("message.") {
        return None;
    }
    serde_json::from_value(event.details.get("message")?.clone()).ok()
}

/// `202` of `POST /api/inquiries/{id}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddMessageResponse {
    pub message: MessageView,
    /// The `Idempotency-Key` had been used on this inquiry: this is the earlier message.
    pub duplicate: bool,
}

/// `GET /api/inquiries/{id}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagesPage {
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
