//! CloudEvents on queues and topics: the envelope is the body, the routing
//! attributes ride as message attributes.

use crate::{OutgoingMessage, Publication, ReceivedMessage};
use switchboard_domain::CloudEvent;

/// Why a message body is not a usable event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CloudEvents 1.0 JSON event: {0}")]
pub struct MalformedEvent(pub String);

/// The publication of `event` on the topic.
pub fn publication(event: &CloudEvent) -> Publication {
    Publication { body: body(event), attributes: event.routing_attributes() }
}

/// `event` as a message sent straight to a queue.
pub fn outgoing(event: &CloudEvent) -> OutgoingMessage {
    OutgoingMessage::new(body(event), event.routing_attributes())
}

fn body(event: &CloudEvent) -> String {
    // A CloudEvent is plain data; serialising it cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

/// Parses a received message's body as a CloudEvent.
pub fn parse(message: &ReceivedMessage) -> Result<CloudEvent, MalformedEvent> {
    let event: CloudEvent = serde_json::from_str(&message.body).map_err(|e| MalformedEvent(e.to_string()))?;
    if event.specversion != "1.0" {
        return Err(MalformedEvent(format!("specversion {:?} is not 1.0", event.specversion)));
    }
    if event.id.trim().is_empty() {
        return Err(MalformedEvent("id is empty".into()));
    }
    Ok(event)
}
