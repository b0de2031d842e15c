//! Where the console finds an inquiry's trace: in embedded mode the spans
//! the process recorded (`spans.db`), drawn as a waterfall; in AWS mode a
//! link to the trace in X-Ray (the spans live there). The composition
//! root picks one.

use async_trait::async_trait;
use std::path::PathBuf;
use switchboard_domain::InquiryId;
use switchboard_domain::TimelineEvent;

/// One bar of the waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceBar {
    /// The span's name.
    pub name: String,
    /// The service that recorded it.
    pub service: String,
    /// How deep it sits under its trace's root.
    pub depth: usize,
    /// Where it starts and how long it lasts, in per cent of the whole.
    pub offset_pct: f64,
    pub width_pct: f64,
    /// Its duration, for reading.
    pub millis: f64,
    /// Whether it ended in error.
    pub failed: bool,
}

/// What the console can show of an inquiry's trace.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceView {
    /// The recorded spans, as a waterfall.
    Waterfall(Vec<TraceBar>),
    /// Where to read it (X-Ray).
    Link(String),
    /// Nothing recorded.
    Nothing,
}

/// Finds the trace of an inquiry.
#[async_trait]
pub trait TraceSource: Send + Sync {
    /// The trace of `inquiry`, whose timeline is `timeline`.
    async fn trace(&self, inquiry: InquiryId, timeline: &[TimelineEvent]) -> TraceView;
}

/// Embedded mode: the spans of the local span file.
#[derive(Debug, Clone)]
pub struct RecordedTraces {
    /// The span file (`spans.db`).
    pub path: PathBuf,
}

#[async_trait]
impl TraceSource for RecordedTraces {
    async fn trace(&self, inquiry: InquiryId, _timeline: &[TimelineEvent]) -> TraceView {
        let path = self.path.clone();
        let id = inquiry.to_string();
        let spans = tokio::task::spawn_blocking(move || switchboard_telemetry::local::inquiry_spans(&path, &id)).await;
        match spans {
            Ok(Ok(spans)) if !spans.is_empty() => TraceView::Waterfall(waterfall(&spans)),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "recorded spans could not be read");
                TraceView::Nothing
            }
            _ => TraceView::Nothing,
        }
    }
}

/// The bars of `spans` (ordered by start): offsets against the earliest
/// start, widths against the whole, depth from the parent links.
fn waterfall(spans: &[switchboard_telemetry::local::RecordedSpan]) -> Vec<TraceBar> {
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(start);
    let whole = (end - start).max(1) as f64;
    let depth_of = |span: &switchboard_telemetry::local::RecordedSpan| {
        let mut depth = 0;
        let mut parent = span.parent_span_id.as_deref();
        while let Some(p) = parent {
            match spans.iter().find(|s| s.span_id == p && s.trace_id == span.trace_id) {
                Some(up) if depth < 32 => {
                    depth += 1;
                    parent = up.parent_span_id.as_deref();
                }
                _ => break,
            }
        }
        depth
    };
    spans
        .iter()
        .map(|s| TraceBar {
            name: s.name.clone(),
            service: s.service.clone().unwrap_or_default(),
            depth: depth_of(s),
            offset_pct: (s.start_unix_nano - start) as f64 * 100.0 / whole,
            width_pct: ((s.end_unix_nano - s.start_unix_nano) as f64 * 100.0 / whole).max(0.2),
            millis: s.duration().as_secs_f64() * 1000.0,
            failed: s.status == "error",
        })
        .collect()
}

/// AWS mode: a link to the trace in the X-Ray console of `region`.
#[derive(Debug, Clone)]
pub struct XRayTraces {
    /// The region the stack runs in.
    pub region: String,
}

#[async_trait]
impl TraceSource for XRayTraces {
    async fn trace(&self, inquiry: InquiryId, timeline: &[TimelineEvent]) -> TraceView {
        let region = &self.region;
        let link = match timeline.iter().find_map(|e| e.trace_id.as_deref()).and_then(xray_trace_id) {
            // One trace, when the timeline names it.
            Some(id) => format!("https://{region}.console.aws.amazon.com/xray/home?region={region}#/traces/{id}"),
            // Otherwise every trace that worked on the inquiry: the stack's
            // collector indexes the span attribute `switchboard.inquiry_id`
            // as this annotation (`cloudformation.rs`).
            None => format!(
                "https://{region}.console.aws.amazon.com/xray/home?region={region}#/traces?timeRange=P3D&filter=annotation.{XRAY_ANNOTATION}%20%3D%20%22{inquiry}%22"
            ),
        };
        TraceView::Link(link)
    }
}

/// The X-Ray annotation the collector makes of the span attribute `switchboard.inquiry_id`.
pub const XRAY_ANNOTATION: &str = "switchboard_inquiry_id";

/// A W3C trace id (32 hex digits) in X-Ray's form: `1-{8 hex}-{24 hex}`.
fn xray_trace_id(w3c: &str) -> Option<String> {
    let ok = w3c.len() == 32 && w3c.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| format!("1-{}-{}", &w3c[..8], &w3c[8..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_telemetry::local::RecordedSpan;

    fn span(id: &str, parent: Option<&str>, start: i64, end: i64) -> RecordedSpan {
        RecordedSpan {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(Into::into),
            name: id.into(),
            kind: "internal".into(),
            service: Some("gateway".into()),
            start_unix_nano: start,
            end_unix_nano: end,
            status: "ok".into(),
            error_type: None,
        }
    }

    #[test]
    fn a_waterfall_places_each_span_against_the_whole_trace() {
        let bars = waterfall(&[span("root", None, 0, 100), span("child", Some("root"), 50, 75)]);
        assert_eq!((bars[0].depth, bars[0].offset_pct, bars[0].width_pct), (0, 0.0, 100.0));
        assert_eq!((bars[1].depth, bars[1].offset_pct, bars[1].width_pct), (1, 50.0, 25.0));
    }

    #[tokio::test]
    async fn without_a_trace_id_the_link_searches_x_ray_by_the_inquiry_annotation() {
        let id = InquiryId::parse("01a2438f-6307-7216-b1ab-8e5301e6e3a1").unwrap();
        let view = XRayTraces { region: "ap-northeast-2".into() }.trace(id, &[]).await;
        let TraceView::Link(link) = view else { panic!("a link: {view:?}") };
        assert!(link.starts_with("https://ap-northeast-2.console.aws.amazon.com/xray/home?region=ap-northeast-2#/traces?"), "{link}");
        assert!(link.ends_with("filter=annotation.switchboard_inquiry_id%20%3D%20%2201a2438f-6307-7216-b1ab-8e5301e6e3a1%22"), "{link}");
    }

    #[test]
    fn w3c_trace_ids_become_xray_ids() {
        assert_eq!(xray_trace_id("5759e988bd862e3fe1be46a994272793").as_deref(), Some("1-5759e988-bd862e3fe1be46a994272793"));
        assert_eq!(xray_trace_id("not-a-trace"), None);
    }
}
