//! Trace context across hops.
//!
//! Two carriers, one context: the W3C `traceparent` rides inside the
//! CloudEvents envelope (SNS has no trace attribute of its own), and the
//! X-Ray header (`Root=1-…;Parent=…;Sampled=…`) rides as SQS's
//! `AWSTraceHeader` system attribute. Both encode the same trace id, since
//! trace ids are generated in X-Ray form.

pub use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_aws::trace::XrayPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: &str = "traceparent";
const XRAY_HEADER: &str = "x-amzn-trace-id";

/// W3C trace context and X-Ray, for HTTP headers and anything else keyed by name.
pub fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![Box::new(TraceContextPropagator::new()), Box::new(XrayPropagator::new())])
}

fn inject(propagator: &dyn TextMapPropagator, cx: &Context, key: &str) -> Option<String> {
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    propagator.inject_context(cx, &mut carrier);
    carrier.remove(key)
}

fn extract(propagator: &dyn TextMapPropagator, key: &str, value: &str) -> Option<Context> {
    let carrier = HashMap::from([(key.to_owned(), value.to_owned())]);
    let cx = propagator.extract_with_context(&Context::new(), &carrier);
    cx.span().span_context().is_valid().then_some(cx)
}

/// The W3C `traceparent` of `cx`'s span, if it has a valid one.
pub fn traceparent(cx: &Context) -> Option<String> {
    inject(&TraceContextPropagator::new(), cx, TRACEPARENT)
}

/// The X-Ray trace header (SQS `AWSTraceHeader` form) of `cx`'s span.
pub fn xray_header(cx: &Context) -> Option<String> {
    inject(&XrayPropagator::new(), cx, XRAY_HEADER)
}

/// The current span's context (empty when no span or no telemetry).
pub fn current_context() -> Context {
    tracing::Span::current().context()
}

/// The current span's `traceparent`.
pub fn current_traceparent() -> Option<String> {
    traceparent(&current_context())
}

/// The current span's X-Ray header.
pub fn current_xray_header() -> Option<String> {
    xray_header(&current_context())
}

/// A remote parent context from a `traceparent` value.
pub fn from_traceparent(value: &str) -> Option<Context> {
    extract(&TraceContextPropagator::new(), TRACEPARENT, value)
}

/// A remote parent context from an X-Ray header value.
pub fn from_xray_header(value: &str) -> Option<Context> {
    extract(&XrayPropagator::new(), XRAY_HEADER, value)
}

/// The producer's context of a received message: the envelope's
/// `traceparent` when there is one (it names the producer span), else
/// SQS's `AWSTraceHeader` (an upstream system's X-Ray context).
pub fn message_parent(traceparent: Option<&str>, aws_trace_header: Option<&str>) -> Option<Context> {
    traceparent.and_then(from_traceparent).or_else(|| aws_trace_header.and_then(from_xray_header))
}

/// A remote context from HTTP headers (`traceparent` or `X-Amzn-Trace-Id`),
/// given a lookup by lower-case header name.
pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Context> {
    get(TRACEPARENT).and_then(from_traceparent).or_else(|| get(XRAY_HEADER).and_then(from_xray_header))
}

/// Links `span` (not yet entered) to the span of `cx`.
pub fn add_link(span: &tracing::Span, cx: &Context) {
    span.add_link(span_context(cx));
}

/// The span context of `cx`, for links.
pub fn span_context(cx: &Context) -> SpanContext {
    cx.span().span_context().clone()
}

/// Whether a trace id (32 hex digits) is one X-Ray accepts: its first 8
/// digits are the Unix time it was made, within `max_age_secs` of `now_secs`
/// (X-Ray refuses traces older than 30 days, or from the future).
pub fn is_xray_trace_id(trace_id: &str, now_secs: u64, max_age_secs: u64) -> bool {
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let Ok(epoch) = u64::from_str_radix(&trace_id[..8], 16) else { return false };
    epoch <= now_secs + 300 && now_secs.saturating_sub(epoch) <= max_age_secs
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    fn context() -> Context {
        let sc = SpanContext::new(
            TraceId::from_hex("6761a2b3aabbccddeeff001122334455").unwrap(),
            SpanId::from_hex("0102030405060708").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        Context::new().with_remote_span_context(sc)
    }

    #[test]
    fn both_carriers_encode_the_same_trace() {
        let cx = context();
        let w3c = traceparent(&cx).unwrap();
        assert_eq!(w3c, "00-6761a2b3aabbccddeeff001122334455-0102030405060708-01");
        let xray = xray_header(&cx).unwrap();
        assert_eq!(xray, "Root=1-6761a2b3-aabbccddeeff001122334455;Parent=0102030405060708;Sampled=1");
        for back in [from_traceparent(&w3c).unwrap(), from_xray_header(&xray).unwrap()] {
            assert_eq!(span_context(&back).trace_id(), span_context(&cx).trace_id());
            assert_eq!(span_context(&back).span_id(), span_context(&cx).span_id());
        }
    }

    #[test]
    fn the_envelope_wins_over_the_sqs_header_and_garbage_is_ignored() {
        let other = "Root=1-6761a2b3-000000000000000000000000;Parent=1111111111111111;Sampled=1";
        let cx = message_parent(Some("00-6761a2b3aabbccddeeff001122334455-0102030405060708-01"), Some(other)).unwrap();
        assert_eq!(span_context(&cx).span_id(), SpanId::from_hex("0102030405060708").unwrap());
        assert!(message_parent(Some("nonsense"), None).is_none());
        assert!(message_parent(Some("nonsense"), Some(other)).is_some());
        assert!(traceparent(&Context::new()).is_none());
    }

    #[test]
    fn xray_trace_ids_start_with_a_recent_timestamp() {
        let now = 0x6761a2b3;
        assert!(is_xray_trace_id("6761a2b3aabbccddeeff001122334455", now + 60, 3600));
        assert!(!is_xray_trace_id("00000001aabbccddeeff001122334455", now, 3600));
        assert!(!is_xray_trace_id("6761a2b3", now, 3600));
    }
}
