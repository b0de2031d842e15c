//! CloudEvents on queues and topics: the envelope is the body, the routing
//! attributes ride as message attributes.

use crate::{MessagingError, OutgoingMessage, Publication, Queue, ReceivedMessage, Topic};
use std::time::Duration;
use switchboard_domain::CloudEvent;
use switchboard_telemetry::{INQUIRY_ATTRIBUTE, metrics, propagation};
use tracing::{Instrument, field};

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

/// A producer span for sending `events` to `destination`. The span is the
/// producer context consumers continue: [`publish`] and [`send`] put its
/// `traceparent` into each envelope while it is current.
fn producer_span(system: &'static str, destination: &str, operation: &'static str, events: &[CloudEvent]) -> tracing::Span {
    let single = (events.len() == 1).then(|| &events[0]);
    let span = tracing::info_span!(
        "publish",
        otel.name = %format!("{operation} {destination}"),
        otel.kind = "producer",
        otel.status_code = field::Empty,
        messaging.system = system,
        messaging.destination.name = %destination,
        messaging.operation.type = "send",
        messaging.operation.name = operation,
        messaging.batch.message_count = events.len(),
        messaging.message.id = field::Empty,
        cloudevents.event_type = field::Empty,
        switchboard.inquiry_id = field::Empty,
        error.type = field::Empty,
    );
    if let Some(event) = single {
        span.record("messaging.message.id", event.id.as_str());
        span.record("cloudevents.event_type", event.event_type.as_str());
        if let Some(inquiry) = event.inquiry_id() {
            span.record(INQUIRY_ATTRIBUTE, field::display(inquiry));
        }
    }
    span
}

/// `event` carrying the current span's `traceparent`.
fn traced(event: &CloudEvent) -> CloudEvent {
    let mut event = event.clone();
    if let Some(traceparent) = propagation::current_traceparent() {
        event.traceparent = Some(traceparent);
    }
    event
}

fn failed(span: &tracing::Span, error: &MessagingError) {
    let kind = match error {
        MessagingError::StaleReceipt => "stale_receipt",
        MessagingError::Invalid(_) => "invalid",
        MessagingError::UnknownQueue(_) => "unknown_queue",
        MessagingError::Unavailable(_) => "unavailable",
    };
    span.record("error.type", kind);
    span.record("otel.status_code", "error");
}

/// Publishes `events` on `topic` under a producer span, each envelope
/// carrying the span's `traceparent` so every consumer joins the trace.
pub async fn publish(topic: &dyn Topic, events: &[CloudEvent]) -> Result<(), MessagingError> {
    let span = producer_span(topic.system(), topic.name(), "publish", events);
    async {
        let publications: Vec<Publication> = events.iter().map(|e| publication(&traced(e))).collect();
        let published = topic.publish(&publications).await;
        match &published {
            Ok(()) => events.iter().for_each(|e| metrics().event_published(&e.event_type)),
            Err(e) => failed(&tracing::Span::current(), e),
        }
        published
    }
    .instrument(span)
    .await
}

/// Sends `event` straight to `queue` (after `delay`) under a producer span:
/// the envelope carries its `traceparent`, and SQS its X-Ray header as the
/// `AWSTraceHeader` system attribute.
pub async fn send(queue: &dyn Queue, event: &CloudEvent, delay: Duration) -> Result<String, MessagingError> {
    let span = producer_span(queue.system(), queue.name(), "send", std::slice::from_ref(event));
    async {
        let message = outgoing(&traced(event)).delayed(delay).with_trace_header(propagation::current_xray_header());
        let sent = queue.send(message).await;
        match &sent {
            Ok(_) => metrics().event_published(&event.event_type),
            Err(e) => failed(&tracing::Span::current(), e),
        }
        sent
    }
    .instrument(span)
    .await
}

/// What a consumer needs from an envelope before handling it: the
/// producer's `traceparent` and the inquiry id, read without parsing the
/// rest. `None` fields when the body is not an envelope.
#[derive(Debug, Default, serde::Deserialize)]
pub struct EnvelopeTrace {
    #[serde(default)]
    pub traceparent: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
}

/// The trace fields of a message body.
pub fn envelope_trace(body: &str) -> EnvelopeTrace {
    serde_json::from_str(body).unwrap_or_default()
}

/// The longest event id taken: ids key deduplication records in both
/// backends, and one past any sane producer's is a producer's bug, not a
/// reason to retry.
pub const MAX_EVENT_ID_CHARS: usize = 256;

/// Parses a received message's body as a CloudEvent.
pub fn parse(message: &ReceivedMessage) -> Result<CloudEvent, MalformedEvent> {
    let event: CloudEvent = serde_json::from_str(&message.body).map_err(|e| MalformedEvent(e.to_string()))?;
    if event.specversion != "1.0" {
        return Err(MalformedEvent(format!("specversion {:?} is not 1.0", event.specversion)));
    }
    if event.id.trim().is_empty() {
        return Err(MalformedEvent("id is empty".into()));
    }
    if event.id.chars().count() > MAX_EVENT_ID_CHARS {
        return Err(MalformedEvent(format!("id is longer than {MAX_EVENT_ID_CHARS} characters")));
    }
    Ok(event)
}
