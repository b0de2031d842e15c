//! First-response SLAs end to end: a tenant's policy set by an operator, an
//! escalated inquiry's clock on the inquiry (REST and gRPC), its breach
//! once the target passes unanswered (the operators re-notified once, a
//! metric counted), met when a person answers in time, business hours
//! respected, the escalation queue by deadline; and the same breach in AWS
//! mode with every service its own process on the emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::aws_pipeline::{Cluster, emulator_sent};
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_domain::{CloudEvent, EventType, InquiryId, Service, TenantId};
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{bad_fields, channel, expect_code, keyed};
use switchboard_tests::{API_KEY, OPERATOR_KEY, PATIENCE, TestApp};
use tonic::Code;

const TENANT: &str = "demo";
const COMPLAINT: &str =
    "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!";

fn around_the_clock(secs: u32) -> Value {
    json!({ "first_response_secs": { "high": secs, "medium": secs, "low": secs }, "time_zone": "UTC" })
}

async fn put_policy(app: &TestApp, key: &str, policy: &Value) -> reqwest::Response {
    app.http.put(app.url(&format!("/api/tenants/{TENANT}/sla"))).header("x-api-key", key).json(policy).send().await.unwrap()
}

async fn set_policy(app: &TestApp, policy: Value) {
    let response = put_policy(app, OPERATOR_KEY, &policy).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
}

/// Submits the angry complaint (escalated by the pipeline) and waits until its clock runs.
async fn escalated(app: &TestApp) -> String {
    let id = app.submit_ok(&json!({ "content": COMPLAINT, "customer_phone": "+12135550149" })).await;
    assert_eq!(app.wait_terminal(&id).await["status"], "escalated");
    wait_sla(app, &id, |sla| !sla.is_null()).await;
    id
}

/// Polls the inquiry until its `sla` satisfies `done`; returns the inquiry.
async fn wait_sla(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let inquiry = app.inquiry(id).await;
        if done(&inquiry["sla"]) {
            return inquiry;
        }
        assert!(tokio::time::Instant::now() < deadline, "inquiry {id}'s SLA stuck at {}", inquiry["sla"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the notifier's queue holds nothing (no check waiting, delayed or in flight).
async fn notifier_idle(app: &TestApp) {
    let queue = app.ports.queue(Service::Notifier).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stats = queue.stats().await.unwrap();
        if stats.visible + stats.in_flight + stats.delayed == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the notifier's queue never drained: {stats:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn kinds(inquiry: &Value, kind: &str) -> usize {
    inquiry["timeline"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).count()
}

async fn breach_mails(app: &TestApp, id: &str) -> usize {
    let sent = app.outbox(id).await;
    sent.iter().filter(|m| m.to == app.config.operator_email && m.subject.as_deref().unwrap_or_default().contains("SLA breached")).count()
}

fn time(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_escalated_inquiry_unanswered_past_its_target_is_breached_and_the_operators_renotified_once() {
    let app = TestApp::spawn().await;
    set_policy(&app, around_the_clock(2)).await;
    let id = escalated(&app).await;

    let breached = wait_sla(&app, &id, |sla| sla["state"] == "breached").await;
    let sla = &breached["sla"];
    assert_eq!(breached["status"], "escalated", "still waiting for a person");
    assert_eq!(time(&sla["due_at"]), time(&sla["started_at"]) + SignedDuration::from_secs(2));
    assert!(time(&sla["breached_at"]) > time(&sla["due_at"]));
    assert!(sla["responded_at"].is_null());

    let told = app.wait_for_timeline(&id, "notification.operators.sla_breached").await;
    assert_eq!(kinds(&told, "sla.breached"), 1);

    // The same check delivered again (a redelivery) neither breaches nor tells twice.
    let check = CloudEvent::for_inquiry(
        EventType::SlaCheck,
        InquiryId::parse(&id).unwrap(),
        &TenantId::parse(TENANT).unwrap(),
        "again",
        "switchboard/notifier",
        Timestamp::now(),
        json!({ "round": "sla", "due_at": sla["due_at"] }),
    );
    switchboard_messaging::events::send(app.ports.queue(Service::Notifier).unwrap().as_ref(), &check, Duration::ZERO).await.unwrap();
    notifier_idle(&app).await;
    assert_eq!(breach_mails(&app, &id).await, 1, "the operators are re-notified exactly once");
    let after = app.inquiry(&id).await;
    assert_eq!((kinds(&after, "sla.breached"), kinds(&after, "notification.operators.sla_breached")), (1, 1));
    assert_eq!(after["sla"], breached["sla"], "the breach is recorded once");

    // gRPC shows the same clock.
    let mut grpc = pb::inquiry_service_client::InquiryServiceClient::new(channel(&app).await);
    let got = grpc.get_inquiry(keyed(API_KEY, pb::GetInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    let clock = got.sla.unwrap();
    assert_eq!(clock.state, pb::SlaState::Breached as i32);
    assert!(clock.breached_at.is_some() && clock.responded_at.is_none());

    // The escalation queue shows it, breached, and the metric counts it.
    let queue: Value = app
        .http
        .get(app.url("/api/inquiries?sort=sla_due&sla_state=breached"))
        .header("x-api-key", OPERATOR_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(queue["inquiries"].as_array().unwrap().iter().any(|i| i["inquiry_id"] == id.as_str()), "{queue}");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("switchboard_sla_breaches_total{urgency="), "{metrics}");

    // A late answer leaves it breached, with the time of the answer.
    let resolve = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/resolve")))
        .header("x-api-key", OPERATOR_KEY)
        .json(&json!({ "human_answer": "We are sorry; a manager will call you today." }))
        .send()
        .await
        .unwrap();
    assert_eq!(resolve.status(), 200);
    let resolved = app.inquiry(&id).await;
    assert_eq!(resolved["sla"]["state"], "breached");
    assert!(!resolved["sla"]["responded_at"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn an_inquiry_answered_in_time_is_met_and_never_breached() {
    let app = TestApp::spawn().await;
    set_policy(&app, around_the_clock(10)).await;
    let id = escalated(&app).await;
    let resolve = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/resolve")))
        .header("x-api-key", OPERATOR_KEY)
        .json(&json!({ "human_answer": "We are sorry; a manager will call you today." }))
        .send()
        .await
        .unwrap();
    assert_eq!(resolve.status(), 200);
    let answered: Value = resolve.json().await.unwrap();
    assert_eq!(answered["sla"]["state"], "met");
    assert!(time(&answered["sla"]["responded_at"]) <= time(&answered["sla"]["due_at"]));

    // The check comes after the deadline and ends quietly.
    notifier_idle(&app).await;
    let after = app.inquiry(&id).await;
    assert_eq!(after["sla"]["state"], "met");
    assert_eq!(kinds(&after, "sla.breached"), 0);
    assert_eq!(breach_mails(&app, &id).await, 0);
    let queue: Value =
        app.http.get(app.url("/api/inquiries?sort=sla_due")).header("x-api-key", OPERATOR_KEY).send().await.unwrap().json().await.unwrap();
    assert!(!queue["inquiries"].as_array().unwrap().iter().any(|i| i["inquiry_id"] == id.as_str()), "answered: out of the queue");
    app.stop().await;
}

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Monday, "mon"),
    (Weekday::Tuesday, "tue"),
    (Weekday::Wednesday, "wed"),
    (Weekday::Thursday, "thu"),
    (Weekday::Friday, "fri"),
    (Weekday::Saturday, "sat"),
    (Weekday::Sunday, "sun"),
];

#[tokio::test]
async fn business_hours_are_respected_and_the_queue_is_ordered_by_deadline() {
    let app = TestApp::spawn().await;
    // Open one hour a week, three days from today (UTC): closed whenever the test runs.
    let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
    let open_day = today.checked_add(3.days()).unwrap();
    let name = DAYS.iter().find(|(d, _)| *d == open_day.weekday()).unwrap().1;
    set_policy(
        &app,
        json!({
            "first_response_secs": { "high": 60, "medium": 60, "low": 60 },
            "time_zone": "UTC",
            "business_hours": [{ "days": [name], "open": "09:00", "close": "10:00" }]
        }),
    )
    .await;
    let later = escalated(&app).await;
    let clock = app.inquiry(&later).await["sla"].clone();
    // The minute counts from the next opening, whenever the escalation came.
    let started = time(&clock["started_at"]).to_zoned(TimeZone::UTC);
    let mut opening = started.date();
    while opening.weekday() != open_day.weekday() || opening == started.date() {
        opening = opening.tomorrow().unwrap();
    }
    let expected = opening.at(9, 1, 0, 0).to_zoned(TimeZone::UTC).unwrap().timestamp();
    assert_eq!(time(&clock["due_at"]), expected);
    assert_eq!(clock["state"], "pending");

    // Another escalation under a 24/7 policy of a day is due sooner: first in the queue.
    set_policy(&app, around_the_clock(24 * 3600)).await;
    let sooner = escalated(&app).await;
    let queue: Value = app
        .http
        .get(app.url(&format!("/api/inquiries?sort=sla_due&status=escalated&tenant_id={TENANT}")))
        .header("x-api-key", OPERATOR_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order: Vec<&str> = queue["inquiries"].as_array().unwrap().iter().map(|i| i["inquiry_id"].as_str().unwrap()).collect();
    assert_eq!(order, [sooner.as_str(), later.as_str()]);
    let own: Value =
        app.http.get(app.url("/api/inquiries?sort=sla_due")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
    assert_eq!(own["inquiries"].as_array().unwrap().len(), 2, "a tenant's own queue");
    app.stop().await;
}

#[tokio::test]
async fn a_policy_is_set_by_operators_read_by_its_tenant_and_every_bad_field_is_named() {
    let app = TestApp::spawn().await;
    let read = |key: &'static str| {
        let request = app.http.get(app.url(&format!("/api/tenants/{TENANT}/sla"))).header("x-api-key", key);
        async move { request.send().await.unwrap() }
    };
    let default: Value = read(API_KEY).await.json().await.unwrap();
    assert_eq!((default["default"].clone(), default["first_response_secs"]["high"].clone()), (json!(true), json!(3600)));

    assert_eq!(put_policy(&app, API_KEY, &around_the_clock(60)).await.status(), 403, "a tenant key does not set its SLA");
    let bad = json!({
        "first_response_secs": { "high": 0, "medium": 60, "low": 60 },
        "time_zone": "Mars/Olympus",
        "business_hours": [{ "days": ["mon"], "open": "18:00", "close": "09:00" }]
    });
    let refused = put_policy(&app, OPERATOR_KEY, &bad).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let problem: Value = refused.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["first_response_secs.high", "time_zone", "business_hours[0].close"]);

    set_policy(&app, around_the_clock(60)).await;
    let own: Value = read(API_KEY).await.json().await.unwrap();
    assert_eq!((own["default"].clone(), own["first_response_secs"]["low"].clone()), (json!(false), json!(60)));
    let other = app.http.get(app.url("/api/tenants/other/sla")).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(other.status(), 403, "another tenant's SLA is not a tenant key's to read");

    // gRPC: the same rules.
    let mut sla = pb::sla_service_client::SlaServiceClient::new(channel(&app).await);
    let bad = pb::SetSlaPolicyRequest { tenant_id: TENANT.into(), time_zone: "UTC".into(), ..Default::default() };
    let status = expect_code(sla.set_sla_policy(keyed(OPERATOR_KEY, bad)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["first_response_secs.high", "first_response_secs.medium", "first_response_secs.low"]);
    let set = pb::SetSlaPolicyRequest {
        tenant_id: TENANT.into(),
        first_response_secs: Some(pb::SlaTargets { high: 30, medium: 60, low: 90 }),
        time_zone: "Asia/Seoul".into(),
        business_hours: vec![pb::OpeningPeriod { days: vec!["mon".into(), "fri".into()], open: "09:00".into(), close: "18:00".into() }],
    };
    expect_code(sla.set_sla_policy(keyed(API_KEY, set.clone())).await, Code::PermissionDenied);
    let stored = sla.set_sla_policy(keyed(OPERATOR_KEY, set)).await.unwrap().into_inner();
    assert_eq!((stored.is_default, stored.time_zone.as_str()), (false, "Asia/Seoul"));
    let got = sla.get_sla_policy(keyed(API_KEY, pb::GetSlaPolicyRequest { tenant_id: TENANT.into() })).await.unwrap().into_inner();
    assert_eq!(got, stored);
    app.stop().await;
}

#[tokio::test]
async fn an_escalated_inquiry_breaches_its_sla_with_every_service_its_own_process_on_the_emulator() {
    let cluster = Cluster::start_with("sla", 300, &[]).await;
    cluster.cli(&["tenant", "set", "--id", TENANT, "--sla", &around_the_clock(2).to_string()]);
    let id = cluster.submit(&json!({ "content": COMPLAINT, "customer_phone": "+12135550149" })).await;

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let breached = loop {
        let inquiry = cluster.inquiry(&id).await;
        let told = inquiry["timeline"].as_array().is_some_and(|t| t.iter().any(|e| e["kind"] == "notification.operators.sla_breached"));
        if told {
            break inquiry;
        }
        assert!(tokio::time::Instant::now() < deadline, "inquiry {id} never breached: {}", inquiry["sla"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(breached["status"], "escalated");
    assert_eq!(breached["sla"]["state"], "breached");
    assert_eq!(time(&breached["sla"]["due_at"]), time(&breached["sla"]["started_at"]) + SignedDuration::from_secs(2));
    assert_eq!(kinds(&breached, "sla.breached"), 1);
    let (_, mail) = emulator_sent().await;
    let renotified = mail.iter().filter(|(_, subject, _)| subject.contains("SLA breached") && subject.contains(&id)).count();
    assert_eq!(renotified, 1, "the operators are re-notified once");
}
