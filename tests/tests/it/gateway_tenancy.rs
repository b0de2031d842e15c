//! One tenant's key never reaches another tenant's inquiry: every read and
//! write path, REST and gRPC, answers "not found" exactly as for an
//! inquiry that does not exist, and changes nothing.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{add_tenant, expect_code, inquiries, keyed};
use switchboard_tests::{TestApp, inquiry_body};
use tonic::Code;

const OTHER_KEY: &str = "other-tenant-key-0123";
const UNKNOWN: &str = "0190f5e2-7c3a-7b1e-8a4d-0123456789ab";

async fn status_and_body(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn another_tenants_inquiry_is_not_found_on_every_rest_path_and_is_left_unchanged() {
    let app = TestApp::spawn().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
    app.wait_terminal(&id).await;
    // Settled: answered and the customer told, so nothing else will append.
    let before = app.wait_for_timeline(&id, "notification.customer.").await;

    for (method, path) in [
        ("GET", format!("/api/inquiries/{id}")),
        ("GET", format!("/api/inquiries/{id}/status")),
        ("GET", format!("/api/inquiries/{id}/events")),
        ("POST", format!("/api/inquiries/{id}/escalate")),
    ] {
        let send = |path: String| {
            let request = if method == "GET" { app.http.get(app.url(&path)) } else { app.http.post(app.url(&path)).json(&json!({})) };
            request.header("x-api-key", OTHER_KEY).send()
        };
        let (theirs, body) = status_and_body(send(path.clone()).await.unwrap()).await;
        let (unknown, _) = status_and_body(send(path.replace(&id, UNKNOWN)).await.unwrap()).await;
        assert_eq!((theirs, unknown), (404, 404), "{method} {path}: {body}");
        assert_eq!(body["type"], "/problems/not-found");
    }
    // Resolving needs an operator key whoever owns the inquiry.
    let r = app
        .http
        .post(app.url(&format!("/api/inquiries/{id}/resolve")))
        .header("x-api-key", OTHER_KEY)
        .json(&json!({ "human_answer": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Listings: only its own (none), and never another tenant's by asking.
    let own: Value = app.http.get(app.url("/api/inquiries")).header("x-api-key", OTHER_KEY).send().await.unwrap().json().await.unwrap();
    assert!(own["inquiries"].as_array().unwrap().is_empty(), "{own}");
    let asked = app.http.get(app.url("/api/inquiries?tenant_id=demo")).header("x-api-key", OTHER_KEY).send().await.unwrap();
    assert_eq!(asked.status(), 403);
    let after = app.inquiry(&id).await;
    assert_eq!(
        (after["status"].clone(), after["timeline"].as_array().map(Vec::len)),
        (before["status"].clone(), before["timeline"].as_array().map(Vec::len))
    );
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_inquiry_is_not_found_on_every_grpc_call_and_is_left_unchanged() {
    let app = TestApp::spawn().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
    app.wait_terminal(&id).await;
    // Settled: answered and the customer told, so nothing else will append.
    let before = app.wait_for_timeline(&id, "notification.customer.").await;
    let mut client = inquiries(&app).await;

    for inquiry_id in [id.clone(), UNKNOWN.to_owned()] {
        let s = expect_code(
            client.get_inquiry(keyed(OTHER_KEY, pb::GetInquiryRequest { inquiry_id: inquiry_id.clone() })).await,
            Code::NotFound,
        );
        assert!(!s.message().contains("demo"), "nothing about the owner leaks: {s:?}");
        expect_code(
            client.get_inquiry_status(keyed(OTHER_KEY, pb::GetInquiryStatusRequest { inquiry_id: inquiry_id.clone() })).await,
            Code::NotFound,
        );
        let watch = client.watch_inquiry(keyed(OTHER_KEY, pb::WatchInquiryRequest { inquiry_id: inquiry_id.clone() })).await;
        match watch {
            Err(s) => assert_eq!(s.code(), Code::NotFound),
            Ok(stream) => {
                let first = stream.into_inner().next().await;
                assert!(matches!(first, Some(Err(ref s)) if s.code() == Code::NotFound), "{first:?}");
            }
        }
        let escalate = pb::EscalateInquiryRequest { inquiry_id: inquiry_id.clone(), reason: String::new() };
        expect_code(client.escalate_inquiry(keyed(OTHER_KEY, escalate)).await, Code::NotFound);
        let resolve = pb::ResolveInquiryRequest { inquiry_id, human_answer: "x".into(), ..Default::default() };
        expect_code(client.resolve_inquiry(keyed(OTHER_KEY, resolve)).await, Code::PermissionDenied);
    }
    let listing = client.list_inquiries(keyed(OTHER_KEY, pb::ListInquiriesRequest::default())).await.unwrap().into_inner();
    assert!(listing.inquiries.is_empty());
    let asked = pb::ListInquiriesRequest { tenant_id: "demo".into(), ..Default::default() };
    expect_code(client.list_inquiries(keyed(OTHER_KEY, asked)).await, Code::PermissionDenied);
    // A submission lands in the caller's own tenant, whatever it says.
    let mine = client
        .submit_inquiry(keyed(
            OTHER_KEY,
            pb::SubmitInquiryRequest { content: "Hello".into(), customer_phone: "+12135550149".into(), ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner();
    let theirs = client.get_inquiry(keyed(OTHER_KEY, pb::GetInquiryRequest { inquiry_id: mine.inquiry_id })).await.unwrap().into_inner();
    assert_eq!(theirs.tenant_id, "other");

    let after = app.inquiry(&id).await;
    assert_eq!(
        (after["status"].clone(), after["timeline"].as_array().map(Vec::len)),
        (before["status"].clone(), before["timeline"].as_array().map(Vec::len))
    );
    app.stop().await;
}

#[tokio::test]
async fn an_operator_reads_every_tenants_inquiries_and_a_rotated_tenant_key_stops_working() {
    let app = TestApp::spawn().await;
    add_tenant(&app, "other", OTHER_KEY).await;
    let id = app.submit_ok(&inquiry_body("What time is check-in?", "+12135550149")).await;
    let r =
        app.http.get(app.url(&format!("/api/inquiries/{id}"))).header("x-api-key", switchboard_tests::OPERATOR_KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let listing: Value = app
        .http
        .get(app.url("/api/inquiries?tenant_id=demo"))
        .header("x-api-key", switchboard_tests::OPERATOR_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listing["inquiries"][0]["inquiry_id"], id.as_str());

    // Rotating replaces the stored hash: the old key is refused at once.
    add_tenant(&app, "other", "other-tenant-new-key").await;
    let old = app.http.get(app.url("/api/inquiries")).header("x-api-key", OTHER_KEY).send().await.unwrap();
    assert_eq!(old.status(), 401);
    let new = app.http.get(app.url("/api/inquiries")).header("x-api-key", "other-tenant-new-key").send().await.unwrap();
    assert_eq!(new.status(), 200);
    app.stop().await;
}
