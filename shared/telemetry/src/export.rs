//! Span exporters that wrap another: one `service.name` per component,
//! and masking of personal data before anything leaves the process.

use crate::redact::redact;
use crate::service::SERVICE_ATTRIBUTE;
use opentelemetry::trace::Status;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::borrow::Cow;
use std::time::Duration;

/// Sends each span through the exporter of its component (the span's
/// `switchboard.service` attribute), whose resource names that component
/// as `service.name`. An OTLP request carries one resource per group of
/// spans, so one process running several components needs one exporter
/// per component to report them as separate services.
#[derive(Debug)]
pub(crate) struct PerService<E> {
    /// (component, its `service.name`, its exporter).
    components: Vec<(String, String, E)>,
    /// Spans of no listed component.
    fallback: E,
}

impl<E: SpanExporter> PerService<E> {
    /// `make` builds one exporter; it is called once per component and once
    /// for the fallback. `naming` gives a component's `service.name`.
    pub(crate) fn new<Err>(
        components: &[String],
        naming: impl Fn(&str) -> String,
        mut make: impl FnMut() -> Result<E, Err>,
    ) -> Result<Self, Err> {
        let mut built = Vec::with_capacity(components.len());
        for component in components {
            built.push((component.clone(), naming(component), make()?));
        }
        Ok(Self { components: built, fallback: make()? })
    }

    fn index_of(&self, span: &SpanData) -> Option<usize> {
        let service = span.attributes.iter().find(|kv| kv.key.as_str() == SERVICE_ATTRIBUTE)?;
        let service = service.value.as_str();
        self.components.iter().position(|(name, _, _)| *name == service)
    }
}

impl<E: SpanExporter> SpanExporter for PerService<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut groups: Vec<Vec<SpanData>> = (0..=self.components.len()).map(|_| Vec::new()).collect();
        let fallback = self.components.len();
        for span in batch {
            let index = self.index_of(&span).unwrap_or(fallback);
            groups[index].push(span);
        }
        let mut result = Ok(());
        for (index, group) in groups.into_iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            let exporter = self.components.get(index).map(|(_, _, e)| e).unwrap_or(&self.fallback);
            // Keep going: one failed group must not drop the others.
            if let Err(e) = exporter.export(group).await {
                result = Err(e);
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let mut result = self.fallback.shutdown_with_timeout(timeout);
        for (_, _, exporter) in &self.components {
            if let Err(e) = exporter.shutdown_with_timeout(timeout) {
                result = Err(e);
            }
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        let mut result = self.fallback.force_flush();
        for (_, _, exporter) in &self.components {
            if let Err(e) = exporter.force_flush() {
                result = Err(e);
            }
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.fallback.set_resource(resource);
        for (_, service_name, exporter) in &mut self.components {
            exporter.set_resource(&renamed(resource, service_name));
        }
    }
}

/// `resource` with another `service.name`.
pub(crate) fn renamed(resource: &Resource, service_name: &str) -> Resource {
    Resource::builder_empty()
        .with_attributes(resource.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())))
        .with_service_name(service_name.to_owned())
        .build()
}

/// Masks phone numbers and e-mail addresses in span names, string
/// attributes, events and status messages before the inner exporter sees them.
#[derive(Debug)]
pub(crate) struct Redacting<E>(pub(crate) E);

fn redacted_value(value: Value) -> Value {
    match value {
        Value::String(s) => match redact(s.as_str()) {
            Cow::Borrowed(_) => Value::String(s),
            Cow::Owned(masked) => Value::String(masked.into()),
        },
        other => other,
    }
}

fn redacted_attributes(attributes: Vec<KeyValue>) -> Vec<KeyValue> {
    attributes.into_iter().map(|kv| KeyValue::new(kv.key, redacted_value(kv.value))).collect()
}

fn redacted_text(text: Cow<'static, str>) -> Cow<'static, str> {
    match redact(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(masked) => Cow::Owned(masked),
    }
}

/// `span` with personal data masked.
pub(crate) fn redact_span(mut span: SpanData) -> SpanData {
    span.name = redacted_text(span.name);
    span.attributes = redacted_attributes(span.attributes);
    for event in span.events.events.iter_mut() {
        event.name = redacted_text(std::mem::take(&mut event.name));
        event.attributes = redacted_attributes(std::mem::take(&mut event.attributes));
    }
    if let Status::Error { description } = span.status {
        span.status = Status::Error { description: redacted_text(description) };
    }
    span
}

impl<E: SpanExporter> SpanExporter for Redacting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.export(batch.into_iter().map(redact_span).collect()).await
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}
