//! Log lines: JSON objects carrying the trace and span ids of the
//! OpenTelemetry span they were written in (so a log line leads to its
//! trace in X-Ray, and back), and a writer that masks personal data in
//! every line, JSON or text.

use crate::redact::redact;
use crate::service::ServiceTag;
use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use std::fmt;
use std::io;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// One JSON object per event: `timestamp`, `level`, `target`, `fields`
/// (with `message`), `span` (the current span's name and fields),
/// `service`, `trace_id`, `span_id`.
pub(crate) struct JsonLines;

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(jiff::Timestamp::now().to_string()));
        line.insert("level".into(), Value::String(meta.level().as_str().to_owned()));
        line.insert("target".into(), Value::String(meta.target().to_owned()));
        line.insert("fields".into(), Value::Object(fields));
        if let Some(span) = ctx.lookup_current() {
            let mut described = Map::new();
            described.insert("name".into(), Value::String(span.name().to_owned()));
            // The span's fields as the JSON field formatter stored them.
            if let Some(stored) = span.extensions().get::<FormattedFields<N>>()
                && let Ok(Value::Object(recorded)) = serde_json::from_str::<Value>(stored)
            {
                described.extend(recorded);
            }
            line.insert("span".into(), Value::Object(described));
        }
        // The OpenTelemetry layer makes the entered span's context current.
        let cx = opentelemetry::Context::current();
        let span_context = cx.span().span_context().clone();
        if span_context.is_valid() {
            line.insert("trace_id".into(), Value::String(span_context.trace_id().to_string()));
            line.insert("span_id".into(), Value::String(span_context.span_id().to_string()));
        }
        if let Some(tag) = cx.get::<ServiceTag>() {
            line.insert("service".into(), Value::String(tag.0.to_string()));
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// A [`MakeWriter`] whose writers mask phone numbers and e-mail addresses.
/// The fmt layer writes each formatted event in one call, so each call is
/// masked as a whole line.
pub(crate) struct RedactingWriter<M>(pub(crate) M);

pub(crate) struct Redacted<W>(W);

impl<W: io::Write> io::Write for Redacted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => {
                self.0.write_all(redact(text).as_bytes())?;
                Ok(buf.len())
            }
            // Not text: nothing a pattern could find without decoding.
            Err(_) => self.0.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingWriter<M> {
    type Writer = Redacted<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Redacted(self.0.make_writer())
    }
}
