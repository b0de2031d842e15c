//! The SVG chart of a run: latency percentiles per second (log scale),
//! throughput per second, and the server's memory when it was watched.

use crate::report::{Report, SecondReport};
use plotters::prelude::*;
use std::path::Path;

/// Why the chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

/// A line of a chart: its legend, the value it plots from each second, its colour.
type Series<T> = (&'static str, fn(&SecondReport) -> T, RGBColor);

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// Draws `report` into an SVG file at `path`.
pub fn write_svg(report: &Report, path: &Path) -> Result<(), ChartError> {
    let with_memory = report.timeline.iter().any(|s| s.server_rss_mb.is_some());
    let height = if with_memory { 960 } else { 720 };
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let title = format!(
        "switchboard loadtest: {} req/s for {:.0} s — accepted {}, completed {}, errors {}",
        report.rate, report.duration_secs, report.accepted, report.completed, report.errors
    );
    let root = root.titled(&title, ("sans-serif", 20)).map_err(err)?;
    let panels = root.split_evenly((if with_memory { 3 } else { 2 }, 1));
    let seconds = report.timeline.len().max(1) as f64;

    // Latency, log scale: p50 and p99 of submit and of automatic end-to-end time.
    let series: [Series<f64>; 5] = [
        ("submit p50", |s| s.submit_p50_ms, RGBColor(120, 170, 230)),
        ("submit p99", |s| s.submit_p99_ms, RGBColor(20, 80, 180)),
        ("e2e (no partner) p50", |s| s.e2e_auto_p50_ms, RGBColor(240, 160, 90)),
        ("e2e (no partner) p99", |s| s.e2e_auto_p99_ms, RGBColor(200, 80, 0)),
        ("e2e (all) p99", |s| s.e2e_p99_ms, RGBColor(150, 150, 150)),
    ];
    let highest = report.timeline.iter().flat_map(|s| series.iter().map(move |(_, f, _)| f(s))).fold(1.0f64, f64::max);
    let mut latency = ChartBuilder::on(&panels[0])
        .caption("latency per second (ms, log scale)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..seconds, (0.1f64..highest * 1.5).log_scale())
        .map_err(err)?;
    latency.configure_mesh().x_desc("second of the run").y_desc("ms").draw().map_err(err)?;
    for (name, value, color) in series {
        let points: Vec<(f64, f64)> =
            report.timeline.iter().filter(|s| value(s) > 0.0).map(|s| (s.second as f64 + 0.5, value(s))).collect();
        latency
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    latency.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(err)?;

    // Throughput: sent and accepted by due second, completed by completion second.
    let most = report.timeline.iter().map(|s| s.sent.max(s.completed).max(s.accepted)).max().unwrap_or(1).max(1) as f64;
    let mut throughput = ChartBuilder::on(&panels[1])
        .caption("throughput per second", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..seconds, 0f64..most * 1.15)
        .map_err(err)?;
    throughput.configure_mesh().x_desc("second of the run").y_desc("inquiries/s").draw().map_err(err)?;
    let counts: [Series<u64>; 4] = [
        ("sent", |s| s.sent, RGBColor(150, 150, 150)),
        ("accepted", |s| s.accepted, RGBColor(20, 80, 180)),
        ("completed (terminal)", |s| s.completed, RGBColor(200, 80, 0)),
        ("errors", |s| s.errors, RGBColor(200, 0, 0)),
    ];
    for (name, value, color) in counts {
        let points: Vec<(f64, f64)> = report.timeline.iter().map(|s| (s.second as f64 + 0.5, value(s) as f64)).collect();
        throughput
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    throughput.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(err)?;

    if with_memory {
        let peak = report.timeline.iter().filter_map(|s| s.server_rss_mb).fold(1.0f64, f64::max);
        let mut memory = ChartBuilder::on(&panels[2])
            .caption("server resident memory (MB)", ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..seconds, 0f64..peak * 1.2)
            .map_err(err)?;
        memory.configure_mesh().x_desc("second of the run").y_desc("MB").draw().map_err(err)?;
        let points: Vec<(f64, f64)> = report.timeline.iter().filter_map(|s| s.server_rss_mb.map(|m| (s.second as f64 + 0.5, m))).collect();
        memory.draw_series(LineSeries::new(points, RGBColor(60, 140, 60).stroke_width(2))).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SecondReport;

    #[test]
    fn a_chart_is_an_svg_file_with_every_series() {
        let report = Report {
            rate: 10.0,
            duration_secs: 3.0,
            timeline: (0..3)
                .map(|i| SecondReport {
                    second: i,
                    sent: 10,
                    accepted: 10,
                    completed: 9,
                    submit_p50_ms: 2.0,
                    submit_p99_ms: 5.0,
                    e2e_auto_p50_ms: 30.0,
                    e2e_auto_p99_ms: 80.0,
                    e2e_p99_ms: 900.0,
                    server_rss_mb: Some(40.0),
                    ..SecondReport::default()
                })
                .collect(),
            ..Report::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        write_svg(&report, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for label in ["submit p99", "completed (terminal)", "server resident memory"] {
            assert!(svg.contains(label), "{label} missing");
        }
    }

    #[test]
    fn an_empty_run_still_draws() {
        let dir = tempfile::tempdir().unwrap();
        write_svg(&Report::default(), &dir.path().join("empty.svg")).unwrap();
    }
}
