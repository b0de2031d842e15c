//! What an inquiry costs in AWS requests: the whole pipeline in one process
//! on the emulator, every SDK request counted by an interceptor.

use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use switchboard::aws::{Clients, ports_with};
use switchboard::{App, Selection};
use switchboard_aws::RequestCounter;
use switchboard_domain::InquiryId;
use switchboard_store::InquiryStore;
use switchboard_store::dynamodb::DynamoStore;
use switchboard_tests::emulator::{emulator, unique_prefix};
use switchboard_tests::{API_KEY, Options, PATIENCE, test_config};
use tokio_util::sync::CancellationToken;

/// US East list prices, USD per million requests (2026): SQS standard,
/// SNS publish, DynamoDB on-demand write and read request units.
const SQS_PER_MILLION: f64 = 0.40;
const SNS_PER_MILLION: f64 = 0.50;
const DYNAMODB_WRITE_PER_MILLION: f64 = 0.625;
const DYNAMODB_READ_PER_MILLION: f64 = 0.125;

/// Requests per inquiry, receives excluded (their number depends on how long
/// the queues sit idle, not on the inquiry), must stay under this.
const BUDGET_PER_INQUIRY: f64 = 60.0;

struct Scenario {
    name: &'static str,
    body: serde_json::Value,
}

async fn run_scenario(
    app_url: &str,
    counter: &RequestCounter,
    watcher: &DynamoStore,
    scenario: &Scenario,
    n: usize,
) -> BTreeMap<(String, String), u64> {
    let http = reqwest::Client::new();
    counter.reset();
    let mut ids = Vec::new();
    for _ in 0..n {
        let r = http.post(format!("{app_url}/api/inquiries")).header("x-api-key", API_KEY).json(&scenario.body).send().await.unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<serde_json::Value>().await.unwrap()["inquiry_id"].as_str().unwrap().to_owned();
        ids.push(InquiryId::parse(&id).unwrap());
    }
    // Watched through uncounted clients, so the watching is not billed to the pipeline.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for id in &ids {
        loop {
            let timeline = watcher.timeline(*id).await.unwrap();
            if timeline.iter().any(|e| e.kind.starts_with("notification.customer.")) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{} inquiry {id} never finished", scenario.name);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    counter.snapshot()
}

fn report(name: &str, counts: &BTreeMap<(String, String), u64>, n: usize, out: &mut String) -> f64 {
    let per = |pred: &dyn Fn(&str, &str) -> bool| -> f64 {
        counts.iter().filter(|((s, o), _)| pred(s, o)).map(|(_, c)| *c as f64).sum::<f64>() / n as f64 + 0.0
    };
    let receives = per(&|s, o| s.eq_ignore_ascii_case("sqs") && o == "ReceiveMessage");
    let sqs = per(&|s, o| s.eq_ignore_ascii_case("sqs") && o != "ReceiveMessage");
    let sns = per(&|s, _| s.eq_ignore_ascii_case("sns"));
    let ddb_write = per(&|s, o| {
        s.to_ascii_lowercase().contains("dynamodb")
            && matches!(o, "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem")
    });
    let ddb_read = per(&|s, o| {
        s.to_ascii_lowercase().contains("dynamodb") && matches!(o, "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems")
    });
    let other = per(&|s, _| !["sqs", "sns"].contains(&s.to_ascii_lowercase().as_str()) && !s.to_ascii_lowercase().contains("dynamodb"));
    let total = sqs + sns + ddb_write + ddb_read + other + 0.0;
    // Request counts, not capacity units: a transaction of k items is 2k units; see the README.
    let usd = (sqs + receives) * SQS_PER_MILLION
        + sns * SNS_PER_MILLION
        + ddb_write * DYNAMODB_WRITE_PER_MILLION
        + ddb_read * DYNAMODB_READ_PER_MILLION;
    out.push_str(&format!(
        "aws requests per inquiry [{name}]: sqs {sqs:.1} (+ {receives:.1} receives), sns {sns:.1}, dynamodb writes {ddb_write:.1}, reads {ddb_read:.1}, other {other:.1}; total {total:.1} excluding receives; ≈ ${usd:.2} per million inquiries (SQS, SNS, DynamoDB request prices)\n"
    ));
    for ((service, operation), count) in counts {
        out.push_str(&format!("    {service}.{operation}: {:.2}\n", *count as f64 / n as f64));
    }
    total
}

#[tokio::test]
async fn aws_requests_per_inquiry_stay_within_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), &Options::default());
    config.backend = switchboard::config::Backend::Aws;
    config.resource_prefix = unique_prefix("costs");
    config.token_keys = Some("636f7374207465737420686d6163206b6579206f662033322062797465732e2e2e".into());
    let counter = RequestCounter::new();
    let clients = Clients::new(&emulator().aws_options(), Some(counter.clone())).await;
    let ports = ports_with(&clients, &config, true).await.unwrap();
    let uncounted = Clients::new(&emulator().aws_options(), None).await;
    let watcher = DynamoStore::new(uncounted.dynamodb.clone(), config.resource_prefix.clone());
    let app = App::build_with(config, &Selection::all(), ports).await.unwrap();
    switchboard::demo::seed(app.ports.store.as_ref(), app.ports.store.as_ref(), API_KEY).await.unwrap();
    let url = format!("http://{}", app.http_addr());
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.run(stop.clone()));

    let scenarios = [
        Scenario { name: "FAQ answer", body: json!({ "content": "What time is check-in?", "customer_phone": "+12135550149" }) },
        Scenario {
            name: "escalation",
            body: json!({ "content": "The staff were rude and I am furious, call me now!", "customer_phone": "+12135550149" }),
        },
    ];
    let n = 5;
    let mut out = String::new();
    for scenario in &scenarios {
        let counts = run_scenario(&url, &counter, &watcher, scenario, n).await;
        let total = report(scenario.name, &counts, n, &mut out);
        assert!(total <= BUDGET_PER_INQUIRY, "{}: {total:.1} requests per inquiry exceeds the budget", scenario.name);
        assert!(total > 0.0, "the counter saw the pipeline's requests");
    }
    // tests/run prints this after the suites (cargo test hides a passing test's output).
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("aws-requests-per-inquiry.txt"), &out).unwrap();
    print!("{out}");
    stop.cancel();
    running.await.unwrap().unwrap();
}
