//! The load generator against an in-process Switchboard: a short, slow run
//! whose report must add up. Never a speed assertion: only bookkeeping.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use std::time::Duration;
use switchboard_loadtest::mix::MixConfig;
use switchboard_loadtest::{LoadConfig, run};
use switchboard_tests::{API_KEY, Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_load_run_follows_every_inquiry_and_its_report_adds_up() {
    short_run(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_run_over_grpc_adds_up_too() {
    short_run(true).await;
}

async fn short_run(grpc: bool) {
    let app = TestApp::spawn_with(Options { partner_deadline_secs: 2, ..Options::default() }).await;
    let mut config = LoadConfig::new(app.base_url.clone(), API_KEY, 10.0, Duration::from_secs(3));
    if grpc {
        config.grpc = Some(app.grpc_url.clone());
    }
    config.data_dir = Some(app.config.data_dir.clone());
    config.server_pid = Some(std::process::id());
    config.mix = MixConfig {
        partner_share: 0.3,
        attachment_share: 0.2,
        silent_share: 0.3,
        partner_delay: (Duration::from_millis(50), Duration::from_millis(300)),
        ..MixConfig::default()
    };
    // A poll load beside the submissions, reported apart.
    config.poll_load = Some(20.0);
    let report = run(config).await.expect("the run starts");

    assert!(report.inconsistencies().is_empty(), "{:?}", report.inconsistencies());
    assert_eq!(report.protocol, if grpc { "grpc" } else { "rest" });
    assert_eq!((report.scheduled, report.sent), (30, 30));
    assert_eq!(report.errors, 0, "{:?}", report.errors_by_kind);
    assert_eq!(report.accepted, report.completed + report.in_flight);
    assert_eq!(report.in_flight, 0, "every accepted inquiry reached a terminal status within the drain");
    assert_eq!(report.submit_latency_ms.count, report.accepted);
    assert_eq!(report.e2e_latency_ms.count, report.completed);
    assert!(report.e2e_latency_ms.p50 <= report.e2e_latency_ms.p99 && report.e2e_latency_ms.p99 <= report.e2e_latency_ms.max);

    // The simulated partner found every link and either answered or stayed silent.
    let p = &report.partner;
    assert!(p.requested > 0, "the mix asked partners: {p:?}");
    assert_eq!((p.links_missing, p.errors), (0, 0), "{p:?}");
    assert_eq!(p.requested, p.answered + p.silent + p.late, "{p:?}");
    assert_eq!(report.e2e_partner_latency_ms.count, p.requested);
    // `awaiting_customer`: an unverifiable booking was answered with a question back, where the followed path ends.
    let ends = ["answered", "escalated", "resolved", "failed", "awaiting_customer"];
    assert!(report.outcomes.keys().all(|s| ends.contains(&s.as_str())), "{:?}", report.outcomes);

    let polls = report.poll_load.as_ref().expect("the poll load is reported");
    assert_eq!(polls.scheduled, 60);
    assert_eq!(polls.sent + polls.skipped, polls.scheduled, "every due poll went out, or had no inquiry yet: {polls:?}");
    assert!(polls.ok > 0 && polls.ok == polls.sent, "every poll answered: {polls:?}");
    assert_eq!(polls.latency_ms.count, polls.ok);

    // The JSON carries the documented fields; the chart is an SVG.
    let json = serde_json::to_value(&report).unwrap();
    for field in ["accepted", "completed", "errors", "throughput_e2e"] {
        assert!(json[field].is_number(), "{field} missing");
    }
    for histogram in ["submit_latency_ms", "e2e_latency_ms"] {
        for p in ["p50", "p90", "p99", "max"] {
            assert!(json[histogram][p].is_number(), "{histogram}.{p} missing");
        }
    }
    assert!(json["poll_load"]["latency_ms"]["p99"].is_number(), "poll_load.latency_ms.p99 missing");
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    switchboard_loadtest::chart::write_svg(&report, &chart).unwrap();
    assert_chart_shows(&std::fs::read_to_string(&chart).unwrap(), &report);
    app.stop().await;
}

/// One per-second count of the report.
type Count = fn(&switchboard_loadtest::report::SecondReport) -> u64;

/// A line the chart drew: its colour and its points in pixels.
#[derive(Debug)]
struct Line {
    stroke: String,
    points: Vec<(f64, f64)>,
}

/// Every `<polyline>` of an SVG document, in drawing order.
fn lines(svg: &str) -> Vec<Line> {
    let attribute = |element: &str, name: &str| -> String {
        let start = element.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3);
        start.and_then(|s| element[s..].find('"').map(|e| element[s..s + e].to_owned())).unwrap_or_default()
    };
    svg.split("<polyline")
        .skip(1)
        .map(|rest| {
            let element = &rest[..rest.find("/>").unwrap_or(rest.len())];
            let points = attribute(element, "points")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap_or_else(|| panic!("a point: {p}"));
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            Line { stroke: attribute(element, "stroke").to_ascii_uppercase(), points }
        })
        .collect()
}

/// The chart shows this report: its totals in the title, every series
/// named, and the throughput lines plotting the report's per-second counts
/// on one shared scale (a bigger count is drawn higher, equal counts level).
fn assert_chart_shows(svg: &str, report: &switchboard_loadtest::report::Report) {
    assert!(svg.starts_with("<svg"), "not an SVG document");
    let totals = format!("accepted {}, completed {}, errors {}", report.accepted, report.completed, report.errors);
    assert!(svg.contains(&totals), "the title does not give the report's totals ({totals})");
    for label in ["submit p50", "submit p99", "e2e (no partner) p99", "sent", "accepted", "completed (terminal)", "errors"] {
        assert!(svg.contains(label), "the series {label:?} is not named");
    }
    assert!(svg.contains("server resident memory"), "the server was watched, but its memory is not drawn");

    let seconds = report.timeline.len();
    assert!(seconds >= 3, "a 3 s run covers at least 3 seconds: {seconds}");
    // Each throughput series is the last line drawn in its colour with a point
    // per second (the legend's sample lines have two points, the latency
    // lines sharing a colour are drawn before).
    let drawn = lines(svg);
    let series: [(&str, &str, Count); 4] = [
        ("sent", "#969696", |s| s.sent),
        ("accepted", "#1450B4", |s| s.accepted),
        ("completed", "#C85000", |s| s.completed),
        ("errors", "#C80000", |s| s.errors),
    ];
    let mut plotted: Vec<(u64, f64)> = Vec::new();
    for (name, colour, count) in series {
        let line = drawn
            .iter()
            .rev()
            .find(|l| l.stroke == colour && l.points.len() == seconds)
            .unwrap_or_else(|| panic!("no {name} line with a point for each of the {seconds} seconds"));
        assert!(line.points.windows(2).all(|w| w[0].0 < w[1].0), "{name}: seconds not left to right: {line:?}");
        plotted.extend(report.timeline.iter().map(count).zip(line.points.iter().map(|p| p.1)));
    }
    for (a, ya) in &plotted {
        for (b, yb) in &plotted {
            // SVG's y grows downwards; a pixel of rounding is allowed.
            let drawn_order = if (ya - yb).abs() <= 1.0 { std::cmp::Ordering::Equal } else { yb.total_cmp(ya) };
            assert_eq!(a.cmp(b), drawn_order, "counts {a} and {b} drawn at y {ya} and {yb}");
        }
    }
    let rss = report.timeline.iter().filter(|s| s.server_rss_mb.is_some()).count();
    assert!(drawn.iter().any(|l| l.stroke == "#3C8C3C" && l.points.len() == rss), "no memory line with a point per watched second");
}
