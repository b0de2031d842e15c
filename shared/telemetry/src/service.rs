//! Which Switchboard component a span belongs to.
//!
//! `switchboard up` runs every component in one process, so the process's
//! resource cannot say which one did the work. The component is carried as
//! a value in the OpenTelemetry context instead: [`in_service`] puts it on
//! a span's parent context, every span below inherits the context, and
//! [`ServiceTagProcessor`] writes it onto each span as the
//! `switchboard.service` attribute when the span starts. The exporter then
//! gives each component its own `service.name` (see `export.rs`).

use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use std::sync::Arc;
use std::time::Duration;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The span attribute naming the component (`classifier`, `gateway`, …).
pub const SERVICE_ATTRIBUTE: &str = "switchboard.service";

/// The component, as a value in an OpenTelemetry [`Context`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTag(pub Arc<str>);

/// Makes `span` (not yet entered) and everything below it belong to
/// `service`. Its parent is `parent` when given (a context extracted from
/// a message or a stored `traceparent`), else the current span.
///
/// Does nothing when no OpenTelemetry layer is installed (unit tests).
pub fn in_service(span: &tracing::Span, service: &str, parent: Option<Context>) {
    let parent = parent.unwrap_or_else(|| tracing::Span::current().context());
    // Fails only when the span was already started or is disabled: then it
    // keeps the parent it has, which is what a caller would want anyway.
    let _ = span.set_parent(parent.with_value(ServiceTag(Arc::from(service))));
}

/// The component of the current span, if any.
pub fn current_service() -> Option<Arc<str>> {
    tracing::Span::current().context().get::<ServiceTag>().map(|t| t.0.clone())
}

/// Writes the context's [`ServiceTag`] onto each span as it starts.
#[derive(Debug, Default)]
pub struct ServiceTagProcessor;

impl SpanProcessor for ServiceTagProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(tag) = cx.get::<ServiceTag>() {
            use opentelemetry::trace::Span as _;
            span.set_attribute(KeyValue::new(SERVICE_ATTRIBUTE, tag.0.to_string()));
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}
