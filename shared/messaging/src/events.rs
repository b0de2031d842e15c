//! CloudEvents on queues and topics: the envelope is the body, the routing
//! attributes ride as message attributes.

use crate::{MessagingError, OutgoingMessage, Publication, Queue, ReceivedMessage, Topic};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_path_to_error::Segment;
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

/// Parses a received message's body as a CloudEvent. Like every parse of
/// an event, the error names fields, never their values.
pub fn parse(message: &ReceivedMessage) -> Result<CloudEvent, MalformedEvent> {
    let event: CloudEvent = from_json(&message.body).map_err(|e| MalformedEvent(e.to_string()))?;
    if event.specversion != "1.0" {
        return Err(MalformedEvent("specversion: must be 1.0".into()));
    }
    if event.id.trim().is_empty() {
        return Err(MalformedEvent("id is empty".into()));
    }
    if event.id.chars().count() > MAX_EVENT_ID_CHARS {
        return Err(MalformedEvent(format!("id is longer than {MAX_EVENT_ID_CHARS} characters")));
    }
    Ok(event)
}

/// The event's `data` as `T`, or where (`data.…`) and how it does not fit.
pub fn data<T: DeserializeOwned>(event: &CloudEvent) -> Result<T, ShapeError> {
    serde_path_to_error::deserialize(&event.data).map_err(|e| ShapeError::of("data", &e))
}

/// `T` from JSON text, or where and how the text does not fit.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ShapeError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| ShapeError::of("", &e))?;
    // Trailing characters after the document.
    deserializer.end().map_err(|e| ShapeError::not_json(&e))?;
    Ok(value)
}

/// Where a JSON document does not have the expected shape, and what kind of
/// problem it is, but never the offending value: serde's own messages quote
/// it (``invalid type: integer `821012345678`, expected a string``), and an
/// upstream system's values can be a customer's phone number or e-mail
/// address, which must not reach logs, span fields or dead-letter reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{problem}", .path, if .path.is_empty() { "" } else { ": " })]
pub struct ShapeError {
    /// The field, e.g. `data.customer_phone` or `data.attachments[0].filename`;
    /// empty when the text is not JSON at all (the problem gives the position).
    pub path: String,
    /// The kind of problem, e.g. `invalid type, expected a string`.
    pub problem: String,
}

/// serde's messages for data of the wrong shape start with one of these
/// (`serde::de::Error`'s provided methods); what follows quotes the value.
const DATA_PROBLEMS: &[&str] =
    &["invalid type", "invalid value", "invalid length", "unknown variant", "unknown field", "missing field", "duplicate field"];

/// What a JSON error says, with the sender's values left out.
enum Problem {
    /// The text is not JSON; the position is in the description.
    NotJson(String),
    /// JSON of the wrong shape at the error's path. `field` names a missing
    /// (or repeated) field of the expected shape: a name from the type,
    /// not from the sender.
    Data { field: Option<String>, kind: String },
}

impl ShapeError {
    /// The error at `error`'s path under `prefix` (where the deserialised
    /// document sits in the event; empty for the event itself).
    fn of(prefix: &str, error: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let (field, kind) = match problem(error.inner()) {
            // The position says where; a path could end in a key of the sender's.
            Problem::NotJson(problem) => return Self { path: String::new(), problem },
            Problem::Data { field, kind } => (field, kind),
        };
        let mut path = prefix.to_owned();
        for segment in error.path() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => push_field(&mut path, key),
                Segment::Unknown => push_field(&mut path, "?"),
            }
        }
        if let Some(field) = field {
            push_field(&mut path, &field);
        }
        if path.is_empty() {
            path.push('.');
        }
        Self { path, problem: kind }
    }

    /// An error with no path: the text is not JSON, or not only JSON.
    fn not_json(error: &serde_json::Error) -> Self {
        let problem = match problem(error) {
            Problem::NotJson(problem) | Problem::Data { kind: problem, .. } => problem,
        };
        Self { path: String::new(), problem }
    }
}

/// Appends a path segment. A key that does not look like a field name came
/// from the sender's data (a map's key) and could be anything: `?` instead.
fn push_field(path: &mut String, key: &str) {
    let field_like = key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(if field_like { key } else { "?" });
}

/// The kind of problem `error` reports, without the value it quotes.
fn problem(error: &serde_json::Error) -> Problem {
    match error.classify() {
        Category::Syntax => Problem::NotJson(format!("malformed JSON at line {} column {}", error.line(), error.column())),
        Category::Eof => Problem::NotJson("truncated JSON".to_owned()),
        Category::Io => Problem::NotJson("unreadable JSON".to_owned()),
        Category::Data => {
            let message = error.to_string();
            let position = format!(" at line {} column {}", error.line(), error.column());
            let message = message.strip_suffix(&position).unwrap_or(&message);
            let Some(kind) = DATA_PROBLEMS.iter().find(|kind| message.starts_with(**kind)) else {
                // The type's own message (a timestamp that does not parse…),
                // which may quote the value too.
                return Problem::Data { field: None, kind: "invalid value".to_owned() };
            };
            let field =
                matches!(*kind, "missing field" | "duplicate field").then(|| message.split('`').nth(1).map(str::to_owned)).flatten();
            // What was expected comes last and is the type's own wording
            // (`a string`, `one of ...`), never the sender's; a type with
            // no fields or variants says so instead, and then a ", expected"
            // could only be the sender's.
            let expects_nothing = message.ends_with(", there are no fields") || message.ends_with(", there are no variants");
            let kind = match message.rfind(", expected ").filter(|_| !expects_nothing) {
                Some(at) => format!("{kind}{}", &message[at..]),
                None => (*kind).to_owned(),
            };
            Problem::Data { field, kind }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only the parse is under test")]
    struct Shape {
        phone: String,
        #[serde(default)]
        tags: BTreeMap<String, u8>,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Sms,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Nothing {}

    fn shape_error<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
        match from_json::<T>(text) {
            Err(e) => e.to_string(),
            Ok(value) => panic!("{text} parsed as {value:?}"),
        }
    }

    #[test]
    fn a_parse_error_names_the_field_and_the_problem_never_the_value() {
        for (text, error) in [
            (r#"{"phone": 821012345678}"#, "phone: invalid type, expected a string"),
            (r#"{}"#, "phone: missing field"),
            (r#"{"phone": "x", "phone": "y"}"#, "phone: duplicate field"),
            (r#"{"phone": "x", "kind": "kim.minji@example.co.kr"}"#, "kind: unknown variant, expected `sms`"),
            (r#"{"phone": "x", "kim.minji@example.co.kr": 1}"#, "?: unknown field, expected one of `phone`, `tags`, `kind`"),
            (r#"{"phone": "x", "tags": {"01012345678": "010-1234-5678"}}"#, "tags.?: invalid type, expected u8"),
            (r#"{"phone": "x"} 821012345678"#, "malformed JSON at line 1 column 16"),
            (r#"{"phone": "821012345678"#, "truncated JSON"),
        ] {
            assert_eq!(shape_error::<Shape>(text), error, "{text}");
        }
        // With no field to expect, a `, expected` could only be the sender's.
        assert_eq!(shape_error::<Nothing>(r#"{"a, expected 821012345678": 1}"#), "?: unknown field");
    }
}
