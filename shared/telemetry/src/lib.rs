//! Telemetry for every Switchboard process, set up by one call from the
//! binary ([`init`]):
//!
//! - **traces**: `tracing` spans exported with OpenTelemetry in X-Ray form
//!   (X-Ray trace ids, W3C + X-Ray propagation), over OTLP/gRPC when the
//!   standard `OTEL_*` variables ask for it, and into the embedded SQLite
//!   file in embedded mode (`switchboard trace`). Each component's spans
//!   carry `switchboard.service` and are exported under its own
//!   `service.name`, even when `up` runs them all in one process;
//! - **logs**: JSON lines (or text) with trace and span ids, phone numbers
//!   and e-mail addresses masked in every line;
//! - **metrics**: Prometheus counters and histograms ([`metrics`]), served
//!   by the gateway at `/metrics`.
//!
//! Logs and span attributes never carry message content in clear: the
//! services log ids only, and [`redact`] masks contacts as a safety net.

mod export;
pub mod local;
mod logfmt;
pub mod metrics;
pub mod propagation;
pub mod redact;
mod service;
mod settings;

pub use local::INQUIRY_ATTRIBUTE;
pub use metrics::metrics;
pub use service::{SERVICE_ATTRIBUTE, ServiceTag, ServiceTagProcessor, current_service, in_service};
pub use settings::{DEFAULT_SERVICE_NAME, Settings, TraceExport, sampler_from};

use export::{PerService, Redacting};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use std::time::Duration;
use tracing::Subscriber;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with trace and span ids (for log shippers).
    Json,
    /// Compact text for a terminal.
    Text,
}

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A variable has a value Switchboard cannot use.
    #[error("{variable}: {message}")]
    Config { variable: &'static str, message: String },
    #[error("cannot build the OTLP span exporter: {0}")]
    Exporter(String),
    #[error("cannot record spans in {path}: {message}")]
    LocalStore { path: String, message: String },
    #[error("a global tracing subscriber is already installed")]
    AlreadyInitialised,
}

/// The log filter when `RUST_LOG` is unset: HTTP request noise at `warn`.
pub const DEFAULT_LOG_FILTER: &str = "info,tower_http=warn";

/// Keeps the tracer provider alive; flushes and shuts it down when
/// [`Self::shutdown`] is called or it is dropped.
#[must_use = "dropping the guard shuts telemetry down"]
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Exports every finished span now (blocks until done or timed out).
    pub fn force_flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(e) = provider.force_flush()
        {
            eprintln!("switchboard: flushing spans failed: {e}");
        }
    }

    /// Flushes finished spans and stops the exporters. Blocks: from async
    /// code, call it on a blocking thread (the OTLP exporter needs the
    /// runtime to make progress meanwhile).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Logging is being torn down with it: say it on stderr.
            if let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(10)) {
                eprintln!("switchboard: shutting telemetry down: {e}");
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sets up traces and logs for this process and installs the global
/// subscriber and propagator. Call once, from the binary, inside the tokio
/// runtime (the OTLP channel is driven by it).
pub fn init(settings: Settings) -> Result<TelemetryGuard, TelemetryError> {
    let (subscriber, guard) = subscriber(&settings, std::io::stderr)?;
    tracing::subscriber::set_global_default(subscriber).map_err(|_| TelemetryError::AlreadyInitialised)?;
    opentelemetry::global::set_text_map_propagator(propagation::propagator());
    Ok(guard)
}

/// The subscriber [`init`] installs, writing logs to `writer`, for tests
/// that install it for one scope (`tracing::subscriber::set_default`).
pub fn subscriber<W>(settings: &Settings, writer: W) -> Result<(impl Subscriber + Send + Sync + 'static, TelemetryGuard), TelemetryError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let provider = tracer_provider(settings)?;
    let tracer = provider.tracer("switchboard");
    // Spans are exported whatever RUST_LOG says: they are the trace, not log noise.
    let span_filter = Targets::new().with_target("switchboard", tracing::Level::INFO);
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false)
        .with_target(false)
        .with_filter(span_filter);
    let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let writer = logfmt::RedactingWriter(writer);
    let logs = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(logfmt::JsonLines)
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().compact().with_writer(writer).with_filter(log_filter).boxed(),
    };
    let subscriber = Registry::default().with(otel).with(logs);
    Ok((subscriber, TelemetryGuard { provider: Some(provider) }))
}

/// The `service.name` of a component's spans.
fn component_service_name(settings: &Settings, component: &str) -> String {
    match &settings.service_name {
        Some(name) => name.clone(),
        None => format!("{DEFAULT_SERVICE_NAME}-{component}"),
    }
}

fn resource(settings: &Settings) -> Resource {
    let mut attributes = vec![KeyValue::new("service.version", settings.service_version.clone())];
    // OTEL_RESOURCE_ATTRIBUTES (read by the builder's detectors) wins.
    let overridden = std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| v.contains("deployment.environment"));
    if !overridden {
        attributes.push(KeyValue::new("deployment.environment", settings.environment.clone()));
    }
    Resource::builder()
        .with_service_name(settings.service_name.clone().unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned()))
        .with_attributes(attributes)
        .build()
}

fn otlp_exporter(endpoint: &Option<String>) -> Result<opentelemetry_otlp::SpanExporter, TelemetryError> {
    let mut builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    builder.build().map_err(|e| TelemetryError::Exporter(e.to_string()))
}

fn tracer_provider(settings: &Settings) -> Result<SdkTracerProvider, TelemetryError> {
    let mut builder = SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator::default())
        .with_sampler(settings.sampler.clone())
        .with_resource(resource(settings))
        .with_span_processor(ServiceTagProcessor);
    if let TraceExport::Otlp { endpoint } = &settings.export {
        if settings.service_name.is_some() || settings.components.is_empty() {
            // One name for the whole process.
            builder = builder.with_span_processor(BatchSpanProcessor::builder(Redacting(otlp_exporter(endpoint)?)).build());
        } else {
            let exporter = PerService::new(&settings.components, |c| component_service_name(settings, c), || otlp_exporter(endpoint))?;
            builder = builder.with_span_processor(BatchSpanProcessor::builder(Redacting(exporter)).build());
        }
    }
    if let Some(path) = &settings.local_spans {
        let exporter = local::SqliteSpanExporter::open(path, settings.local_span_retention)?;
        builder = builder.with_span_processor(BatchSpanProcessor::builder(Redacting(exporter)).build());
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests;
