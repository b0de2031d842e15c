//! A customer's follow-up joining an inquiry's conversation, whoever takes
//! it in: the gateway (the API, the customer's page) or intake (an upstream
//! `inquiry.message_received` event). One write stores the message with its
//! announcement in the outbox; then the relay publishes it.

use crate::outbox::Relay;
use jiff::Timestamp;
use serde_json::json;
use switchboard_domain::{CloudEvent, EventType, Inquiry, Message};
use switchboard_store::{Appended, InquiryStore, StoreError};
use tracing::{info, warn};

/// The announcement of a follow-up: its id derives from the message's
/// key, so a retried call (or a redelivered event) announces the same event.
pub fn received_event(inquiry: &Inquiry, message: &Message, source: &str, now: Timestamp) -> CloudEvent {
    let data = json!({ "inquiry_id": inquiry.id, "message_id": message.id });
    CloudEvent::for_inquiry(EventType::MessageReceived, inquiry.id, &inquiry.tenant_id, &message.key, source, now, data)
}

/// Stores `message` (a customer's follow-up to `inquiry`) in `store` with its
/// announcement, then publishes the announcement (what cannot be published
/// now, the outbox relay publishes later). A message whose key is there
/// already stores and announces nothing: the earlier one is returned.
pub async fn append_follow_up(
    store: &dyn InquiryStore,
    relay: &Relay,
    inquiry: &Inquiry,
    message: &Message,
    source: &str,
    now: Timestamp,
) -> Result<Appended, StoreError> {
    let announce = received_event(inquiry, message, source, now);
    let appended = store.append_message(message, std::slice::from_ref(&announce)).await?;
    if let Appended::New(stored) = &appended {
        if let Err(e) = relay.deliver(std::slice::from_ref(&announce)).await {
            warn!(inquiry_id = %inquiry.id, error = %e, "inquiry.message_received left to the outbox relay");
        }
        info!(inquiry_id = %inquiry.id, sequence = stored.sequence, channel = stored.channel.as_str(), "follow-up added");
    }
    Ok(appended)
}
