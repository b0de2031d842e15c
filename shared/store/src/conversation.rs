//! Reading and appending an inquiry's conversation on top of the
//! [`InquiryStore`] port: message 1 made from the inquiry, the stored
//! messages after it, pages and their tokens, and the timeline event each
//! appended message is announced with.

use crate::{InquiryStore, Page, PageRequest, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use switchboard_domain::message::ORIGINAL_SEQUENCE;
use switchboard_domain::{Inquiry, Message, TimelineEvent};

/// What appending a message did.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// The message was stored, with its sequence number.
    New(Message),
    /// A message with the same key was stored before: this one (nothing was written).
    Existing(Message),
}

impl Appended {
    /// The message as stored.
    pub fn message(&self) -> &Message {
        match self {
            Self::New(m) | Self::Existing(m) => m,
        }
    }
}

/// The timeline event announcing a stored message (with its sequence):
/// `message.{author}`, keyed by the message's key so it is appended once,
/// carrying the message itself, so whoever watches the timeline (the SSE
/// stream, `WatchInquiry`) receives the new message with it.
pub fn message_event(message: &Message) -> TimelineEvent {
    let mut event = TimelineEvent::once(
        format!("message.{}", message.author.as_str()),
        message.author.as_str(),
        message.created_at,
        json!({ "message": message }),
    );
    event.key = format!("message.{}", message.key);
    event
}

/// The page token of the page after the message numbered `sequence`.
fn token_after(sequence: u32) -> String {
    URL_SAFE_NO_PAD.encode(sequence.to_string())
}

/// The sequence number a page token continues after.
fn after_token(token: &str) -> Result<u32, StoreError> {
    let decoded = URL_SAFE_NO_PAD.decode(token).map_err(|_| StoreError::InvalidPageToken)?;
    let text = String::from_utf8(decoded).map_err(|_| StoreError::InvalidPageToken)?;
    text.parse::<u32>().map_err(|_| StoreError::InvalidPageToken)
}

/// One page of `inquiry`'s conversation, oldest first: message 1 (the
/// inquiry's text, [`Message::original`]) then the stored ones. The token
/// names the last sequence number returned, so a message appended while a
/// reader pages through is found on a later page, and none is read twice.
pub async fn conversation_page(store: &dyn InquiryStore, inquiry: &Inquiry, page: &PageRequest) -> Result<Page<Message>, StoreError> {
    let after = page.after.as_deref().map(after_token).transpose()?.unwrap_or(0);
    let size = page.size();
    let mut items = Vec::new();
    if after < ORIGINAL_SEQUENCE {
        items.push(Message::original(inquiry));
    }
    let wanted = size - items.len() as u32;
    // One more than the page holds: the last page says so (no empty page after it).
    let mut stored = store.messages(inquiry.id, after.max(ORIGINAL_SEQUENCE), wanted + 1).await?;
    let more = stored.len() as u32 > wanted;
    stored.truncate(wanted as usize);
    items.extend(stored);
    let next = if more { items.last().map(|m| token_after(m.sequence)) } else { None };
    Ok(Page { items, next })
}

/// The whole conversation of `inquiry`, oldest first (every page).
pub async fn whole_conversation(store: &dyn InquiryStore, inquiry: &Inquiry) -> Result<Vec<Message>, StoreError> {
    let mut all = vec![Message::original(inquiry)];
    loop {
        let after = all.last().map_or(ORIGINAL_SEQUENCE, |m| m.sequence);
        let page = store.messages(inquiry.id, after, PageRequest::MAX_SIZE).await?;
        let full = page.len() as u32 == PageRequest::MAX_SIZE;
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(after_token(&token_after(41)).unwrap(), 41);
        assert!(matches!(after_token("!!"), Err(StoreError::InvalidPageToken)));
        assert!(matches!(after_token(&URL_SAFE_NO_PAD.encode("x")), Err(StoreError::InvalidPageToken)));
    }
}
