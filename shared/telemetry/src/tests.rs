use super::*;
use opentelemetry::trace::TraceContextExt;
use std::io;
use std::sync::{Arc, Mutex};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn settings(dir: &std::path::Path) -> Settings {
    Settings::from_lookup(LogFormat::Json, "9.9.9", |_| None)
        .unwrap()
        .with_components(["classifier", "gateway"])
        .with_local_spans(dir.join("spans.db"))
}

#[test]
fn child_spans_inherit_the_component_and_logs_carry_trace_ids_with_contacts_masked() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Captured::default();
    let (subscriber, guard) = subscriber(&settings(dir.path()), logs.clone()).unwrap();
    let (trace_id, traceparent) = tracing::subscriber::with_default(subscriber, || {
        let process = tracing::info_span!("process", otel.kind = "consumer", switchboard.inquiry_id = "inq-1");
        in_service(&process, "classifier", None);
        let _entered = process.enter();
        let child = tracing::info_span!("classify", otel.kind = "client");
        let _in_child = child.enter();
        tracing::info!(to = "010-1234-5678", mail = "kim@example.com", "sending");
        (process.context().span().span_context().trace_id().to_string(), propagation::current_traceparent())
    });
    guard.force_flush();

    let spans = local::inquiry_spans(&dir.path().join("spans.db"), "inq-1").unwrap();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert!(spans.iter().all(|s| s.service.as_deref() == Some("classifier")), "{spans:?}");
    assert!(spans.iter().all(|s| s.trace_id == trace_id));
    let now = jiff::Timestamp::now().as_second() as u64;
    assert!(propagation::is_xray_trace_id(&trace_id, now, 3600), "{trace_id} is not an X-Ray id");
    let child = spans.iter().find(|s| s.name == "classify").unwrap();
    assert_eq!(child.kind, "client");
    assert!(traceparent.unwrap().contains(child.span_id.as_str()), "the current traceparent names the current span");

    let text = logs.text();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["trace_id"], serde_json::json!(trace_id));
    assert_eq!(line["span_id"], serde_json::json!(child.span_id));
    assert_eq!(line["service"], "classifier");
    assert_eq!(line["fields"]["message"], "sending");
    assert!(!text.contains("010-1234-5678") && !text.contains("kim@example.com"), "{text}");
}

#[test]
fn a_remote_parent_continues_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (subscriber, guard) = subscriber(&settings(dir.path()), Captured::default()).unwrap();
    let producer = "00-6761a2b3aabbccddeeff001122334455-0102030405060708-01";
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("process", switchboard.inquiry_id = "inq-2");
        in_service(&span, "classifier", propagation::from_traceparent(producer));
        let _entered = span.enter();
    });
    guard.force_flush();
    let spans = local::inquiry_spans(&dir.path().join("spans.db"), "inq-2").unwrap();
    assert_eq!(spans[0].trace_id, "6761a2b3aabbccddeeff001122334455");
    assert_eq!(spans[0].parent_span_id.as_deref(), Some("0102030405060708"));
}
