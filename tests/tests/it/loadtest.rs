//! The load generator against an in-process Switchboard: a short, slow run
//! whose report must add up. Never a speed assertion: only bookkeeping.

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
    assert!(report.outcomes.keys().all(|s| ["answered", "escalated", "resolved", "failed"].contains(&s.as_str())), "{:?}", report.outcomes);

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
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    switchboard_loadtest::chart::write_svg(&report, &chart).unwrap();
    assert!(std::fs::read_to_string(&chart).unwrap().starts_with("<svg"));
    app.stop().await;
}
