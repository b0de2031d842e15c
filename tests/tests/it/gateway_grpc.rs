//! The gRPC API through its typed client: every RPC, its success and each
//! error it can return.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use std::time::Duration;
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{bad_fields, expect_code, inquiries, keyed, partners, reservations};
use switchboard_tests::{API_KEY, OPERATOR_KEY, Options, PATIENCE, TestApp, token_in};
use tonic::Code;

const FAQ_QUESTION: &str = "What time is check-in?";
const CUSTOMER: &str = "+12135550149";
const PARTNER_PHONE: &str = "+821098765432";
const CHANGE: &str = "예약 날짜를 12월 25일로 변경하고 싶습니다. 예약번호 HT-20481123 입니다.";
const COMPLAINT: &str =
    "This is the worst service ever. The room was filthy and the staff were rude. I am furious and I want someone to call me right now!";

fn submission(content: &str, phone: &str) -> pb::SubmitInquiryRequest {
    pb::SubmitInquiryRequest { content: content.into(), customer_phone: phone.into(), ..Default::default() }
}

async fn submit(app: &TestApp, content: &str, phone: &str) -> String {
    let mut client = inquiries(app).await;
    client.submit_inquiry(keyed(API_KEY, submission(content, phone))).await.expect("submitted").into_inner().inquiry_id
}

/// Polls GetInquiryStatus until `done` holds for the status.
async fn wait_status(app: &TestApp, id: &str, done: impl Fn(pb::InquiryStatus) -> bool) -> pb::InquiryStatusView {
    let mut client = inquiries(app).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let view = client
            .get_inquiry_status(keyed(API_KEY, pb::GetInquiryStatusRequest { inquiry_id: id.into() }))
            .await
            .expect("status")
            .into_inner();
        if done(view.status()) {
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "inquiry {id} stuck in {:?}", view.status());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn terminal(s: pb::InquiryStatus) -> bool {
    matches!(s, pb::InquiryStatus::Answered | pb::InquiryStatus::Escalated | pb::InquiryStatus::Resolved | pb::InquiryStatus::Failed)
}

#[tokio::test]
async fn submit_inquiry_accepts_a_valid_inquiry_and_dedupes_on_the_idempotency_key() {
    let app = TestApp::spawn().await;
    let mut client = inquiries(&app).await;
    let request = pb::SubmitInquiryRequest { idempotency_key: "order-42".into(), ..submission(FAQ_QUESTION, CUSTOMER) };
    let first = client.submit_inquiry(keyed(API_KEY, request.clone())).await.unwrap().into_inner();
    assert_eq!(first.status(), pb::InquiryStatus::Received);
    assert!(!first.duplicate);
    assert_eq!(first.status_url, format!("/api/inquiries/{}/status", first.inquiry_id));
    let again = client.submit_inquiry(keyed(API_KEY, request)).await.unwrap().into_inner();
    assert!(again.duplicate);
    assert_eq!(again.inquiry_id, first.inquiry_id);
    let done = wait_status(&app, &first.inquiry_id, terminal).await;
    assert_eq!(done.status(), pb::InquiryStatus::Answered);
    app.stop().await;
}

#[tokio::test]
async fn submit_inquiry_names_every_invalid_field_and_refuses_bad_keys_and_operators() {
    let app = TestApp::spawn().await;
    let mut client = inquiries(&app).await;
    let bad = pb::SubmitInquiryRequest {
        content: "  ".into(),
        customer_phone: "call me maybe".into(),
        attachments: vec![pb::Attachment { filename: "x.gif".into(), content: b"GIF89a....".to_vec() }],
        ..Default::default()
    };
    let status = expect_code(client.submit_inquiry(keyed(API_KEY, bad)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["content", "customer_phone", "attachments[0].content"]);

    let status = expect_code(client.submit_inquiry(submission(FAQ_QUESTION, CUSTOMER)).await, Code::Unauthenticated);
    assert!(status.message().contains("x-api-key"), "{status:?}");
    expect_code(client.submit_inquiry(keyed("not-a-key", submission(FAQ_QUESTION, CUSTOMER))).await, Code::Unauthenticated);
    expect_code(client.submit_inquiry(keyed(OPERATOR_KEY, submission(FAQ_QUESTION, CUSTOMER))).await, Code::PermissionDenied);
    let long_key = pb::SubmitInquiryRequest { idempotency_key: "k".repeat(256), ..submission(FAQ_QUESTION, CUSTOMER) };
    let status = expect_code(client.submit_inquiry(keyed(API_KEY, long_key)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["idempotency_key"]);
    app.stop().await;
}

#[tokio::test]
async fn get_inquiry_returns_the_classification_answer_and_timeline_and_refuses_bad_ids() {
    let app = TestApp::spawn().await;
    let id = submit(&app, FAQ_QUESTION, CUSTOMER).await;
    wait_status(&app, &id, terminal).await;
    let mut client = inquiries(&app).await;
    let inquiry = client.get_inquiry(keyed(API_KEY, pb::GetInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    assert_eq!(inquiry.status(), pb::InquiryStatus::Answered);
    assert_eq!(inquiry.tenant_id, "demo");
    assert_eq!(inquiry.classification.as_ref().map(|c| c.intent.as_str()), Some("general_question"));
    assert!(inquiry.answer.contains("3 pm"), "{}", inquiry.answer);
    assert_eq!(inquiry.customer_phone_masked.len(), CUSTOMER.len());
    assert!(!inquiry.customer_phone_masked.contains("555"), "the phone is masked: {}", inquiry.customer_phone_masked);
    let kinds: Vec<&str> = inquiry.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"status.received"));
    assert!(kinds.contains(&"status.answered"), "{kinds:?}");

    let status =
        expect_code(client.get_inquiry(keyed(API_KEY, pb::GetInquiryRequest { inquiry_id: "nope".into() })).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["inquiry_id"]);
    let unknown = "0190f5e2-7c3a-7b1e-8a4d-0123456789ab".to_owned();
    expect_code(client.get_inquiry(keyed(API_KEY, pb::GetInquiryRequest { inquiry_id: unknown })).await, Code::NotFound);
    expect_code(client.get_inquiry(pb::GetInquiryRequest { inquiry_id: id }).await, Code::Unauthenticated);
    app.stop().await;
}

#[tokio::test]
async fn get_inquiry_status_reports_stage_progress_and_an_estimate_and_refuses_unknown_ids() {
    let app = TestApp::spawn().await;
    let id = submit(&app, FAQ_QUESTION, CUSTOMER).await;
    let mut client = inquiries(&app).await;
    let early =
        client.get_inquiry_status(keyed(API_KEY, pb::GetInquiryStatusRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    assert_eq!(early.stages, 5);
    assert!((1..=5).contains(&early.stage));
    assert!(early.estimated_time_remaining.is_some());
    let done = wait_status(&app, &id, terminal).await;
    assert_eq!((done.stage, done.progress, done.terminal), (5, 1.0, true));
    let left = done.estimated_time_remaining.unwrap();
    assert_eq!((left.seconds, left.nanos), (0, 0), "nothing is left of a finished inquiry");

    let unknown = "0190f5e2-7c3a-7b1e-8a4d-0123456789ab".to_owned();
    expect_code(client.get_inquiry_status(keyed(API_KEY, pb::GetInquiryStatusRequest { inquiry_id: unknown })).await, Code::NotFound);
    expect_code(client.get_inquiry_status(keyed(API_KEY, pb::GetInquiryStatusRequest::default())).await, Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn list_inquiries_pages_newest_first_and_filters_by_status_urgency_and_time() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(submit(&app, FAQ_QUESTION, CUSTOMER).await);
    }
    let complaint = submit(&app, COMPLAINT, CUSTOMER).await;
    for id in ids.iter().chain([&complaint]) {
        wait_status(&app, id, terminal).await;
    }
    let mut client = inquiries(&app).await;
    let first =
        client.list_inquiries(keyed(API_KEY, pb::ListInquiriesRequest { page_size: 3, ..Default::default() })).await.unwrap().into_inner();
    assert_eq!(first.inquiries.len(), 3);
    assert!(!first.next_page_token.is_empty());
    assert_eq!(first.inquiries[0].inquiry_id, complaint, "newest first");
    let second = client
        .list_inquiries(keyed(
            API_KEY,
            pb::ListInquiriesRequest { page_size: 3, page_token: first.next_page_token.clone(), ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.inquiries.len(), 1);
    assert!(second.next_page_token.is_empty(), "the last page has no token");
    assert_eq!(second.inquiries[0].inquiry_id, ids[0]);

    let escalated = pb::ListInquiriesRequest { status: pb::InquiryStatus::Escalated as i32, ..Default::default() };
    let page = client.list_inquiries(keyed(API_KEY, escalated)).await.unwrap().into_inner();
    assert_eq!(page.inquiries.iter().map(|i| i.inquiry_id.as_str()).collect::<Vec<_>>(), [complaint.as_str()]);
    let high = pb::ListInquiriesRequest { urgency: pb::Urgency::High as i32, ..Default::default() };
    let page = client.list_inquiries(keyed(API_KEY, high)).await.unwrap().into_inner();
    assert_eq!(
        page.inquiries.iter().map(|i| i.inquiry_id.as_str()).collect::<Vec<_>>(),
        [complaint.as_str()],
        "only the complaint is urgent"
    );
    assert_eq!(page.inquiries[0].classification.as_ref().map(|c| c.urgency()), Some(pb::Urgency::High));
    let future = prost_types::Timestamp { seconds: jiff::Timestamp::now().as_second() + 3600, nanos: 0 };
    let none = pb::ListInquiriesRequest { created_after: Some(future), ..Default::default() };
    assert!(client.list_inquiries(keyed(API_KEY, none)).await.unwrap().into_inner().inquiries.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn list_inquiries_refuses_foreign_page_tokens_bad_filters_and_other_tenants() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        submit(&app, FAQ_QUESTION, CUSTOMER).await;
    }
    let mut client = inquiries(&app).await;
    let first =
        client.list_inquiries(keyed(API_KEY, pb::ListInquiriesRequest { page_size: 1, ..Default::default() })).await.unwrap().into_inner();
    let replayed = pb::ListInquiriesRequest {
        page_size: 1,
        page_token: first.next_page_token,
        status: pb::InquiryStatus::Answered as i32,
        ..Default::default()
    };
    let status = expect_code(client.list_inquiries(keyed(API_KEY, replayed)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["page_token"]);
    let garbage = pb::ListInquiriesRequest { page_token: "garbage".into(), ..Default::default() };
    assert_eq!(bad_fields(&expect_code(client.list_inquiries(keyed(API_KEY, garbage)).await, Code::InvalidArgument)), ["page_token"]);
    let bad_enum = pb::ListInquiriesRequest { status: 99, urgency: 42, ..Default::default() };
    assert_eq!(
        bad_fields(&expect_code(client.list_inquiries(keyed(API_KEY, bad_enum)).await, Code::InvalidArgument)),
        ["status", "urgency"]
    );
    let too_big = pb::ListInquiriesRequest { page_size: 101, ..Default::default() };
    assert_eq!(bad_fields(&expect_code(client.list_inquiries(keyed(API_KEY, too_big)).await, Code::InvalidArgument)), ["page_size"]);
    let other = pb::ListInquiriesRequest { tenant_id: "other".into(), ..Default::default() };
    expect_code(client.list_inquiries(keyed(API_KEY, other)).await, Code::PermissionDenied);
    let unfiltered = pb::ListInquiriesRequest::default();
    assert_eq!(bad_fields(&expect_code(client.list_inquiries(keyed(OPERATOR_KEY, unfiltered)).await, Code::InvalidArgument)), ["status"]);
    expect_code(client.list_inquiries(pb::ListInquiriesRequest::default()).await, Code::Unauthenticated);
    app.stop().await;
}

#[tokio::test]
async fn watch_inquiry_streams_the_timeline_and_ends_at_the_terminal_status() {
    let app = TestApp::spawn().await;
    let id = submit(&app, FAQ_QUESTION, CUSTOMER).await;
    let mut client = inquiries(&app).await;
    let mut stream = client.watch_inquiry(keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id.clone() })).await.unwrap().into_inner();
    let mut events = Vec::new();
    while let Some(event) = tokio::time::timeout(PATIENCE, stream.next()).await.expect("the stream moves on") {
        events.push(event.expect("no error"));
    }
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"status.received"));
    assert_eq!(kinds.last(), Some(&"status.answered"), "{kinds:?}");
    assert_eq!(events.iter().map(|e| e.terminal).collect::<Vec<_>>(), [vec![false; events.len() - 1], vec![true]].concat(), "{kinds:?}");
    assert_eq!(events.last().unwrap().status(), pb::InquiryStatus::Answered);
    assert!(events.iter().all(|e| e.inquiry_id == id));

    // A finished inquiry: the whole timeline at once, then the end.
    let again: Vec<_> =
        client.watch_inquiry(keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id })).await.unwrap().into_inner().collect().await;
    assert_eq!(again.last().and_then(|e| e.as_ref().ok()).map(|e| e.kind.clone()), Some("status.answered".to_owned()));

    let unknown = "0190f5e2-7c3a-7b1e-8a4d-0123456789ab".to_owned();
    expect_code(client.watch_inquiry(keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: unknown })).await, Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn watch_inquiry_sends_the_timeline_then_ends_with_deadline_exceeded_when_the_clients_deadline_passes() {
    let app = TestApp::spawn().await;
    let id = submit(&app, CHANGE, "010-1234-5678").await;
    wait_status(&app, &id, |s| s == pb::InquiryStatus::AwaitingPartner).await;
    let mut client = inquiries(&app).await;
    let mut request = keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id });
    // Only sent as `grpc-timeout`: this client enforces no deadline itself,
    // so the code that ends the stream is the server's.
    request.set_timeout(Duration::from_secs(2));
    let stream = client.watch_inquiry(request).await.expect("the call is answered before its deadline").into_inner();
    let mut items: Vec<_> = tokio::time::timeout(PATIENCE, stream.collect::<Vec<_>>()).await.expect("the stream ends");
    let outcome = items.pop().expect("events, then an error").expect_err("the stream ends with the deadline, not normally");
    assert_eq!(outcome.code(), Code::DeadlineExceeded, "{outcome:?}");
    let kinds: Vec<String> = items.into_iter().map(|e| e.expect("events before the end").kind).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("status.received"));
    assert!(kinds.iter().any(|k| k == "status.awaiting_partner"), "{kinds:?}");
    app.stop().await;
}

#[tokio::test]
async fn escalate_inquiry_hands_an_answer_to_a_person_and_the_customer_is_told() {
    let app = TestApp::spawn().await;
    let id = submit(&app, FAQ_QUESTION, CUSTOMER).await;
    wait_status(&app, &id, terminal).await;
    let mut client = inquiries(&app).await;
    let request = pb::EscalateInquiryRequest { inquiry_id: id.clone(), reason: "the customer wants a call".into() };
    let inquiry = client.escalate_inquiry(keyed(API_KEY, request.clone())).await.unwrap().into_inner();
    assert_eq!(inquiry.status(), pb::InquiryStatus::Escalated);
    let escalation = inquiry.escalation.unwrap();
    assert!(escalation.reason.contains("tenant:demo") && escalation.reason.contains("wants a call"), "{}", escalation.reason);
    // Again: nothing changes, nobody is told twice.
    let again = client.escalate_inquiry(keyed(API_KEY, request)).await.unwrap().into_inner();
    assert_eq!(again.status(), pb::InquiryStatus::Escalated);
    app.wait_for_timeline(&id, "notification.customer.inquiry.answered").await;
    app.wait_for_timeline(&id, "notification.customer.inquiry.escalated").await;
    app.wait_for_timeline(&id, "notification.operators").await;
    let to_customer: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == CUSTOMER).collect();
    assert_eq!(to_customer.len(), 2, "the answer, then 'a person will reply': {to_customer:?}");
    assert_eq!(to_customer.iter().filter(|m| m.body.contains("A person will reply")).count(), 1, "{to_customer:?}");

    let long = pb::EscalateInquiryRequest { inquiry_id: id, reason: "x".repeat(501) };
    assert_eq!(bad_fields(&expect_code(client.escalate_inquiry(keyed(API_KEY, long)).await, Code::InvalidArgument)), ["reason"]);
    let unknown = pb::EscalateInquiryRequest { inquiry_id: "0190f5e2-7c3a-7b1e-8a4d-0123456789ab".into(), reason: String::new() };
    expect_code(client.escalate_inquiry(keyed(API_KEY, unknown)).await, Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn resolve_inquiry_stores_the_human_answer_tells_the_customer_and_refuses_invalid_transitions() {
    let app = TestApp::spawn().await;
    let id = submit(&app, COMPLAINT, CUSTOMER).await;
    let waiting = submit(&app, CHANGE, "010-1234-5678").await;
    wait_status(&app, &id, terminal).await;
    wait_status(&app, &waiting, |s| s == pb::InquiryStatus::AwaitingPartner).await;
    let mut client = inquiries(&app).await;

    // The operator finds it in the escalation queue.
    let queue = pb::ListInquiriesRequest { status: pb::InquiryStatus::Escalated as i32, ..Default::default() };
    let page = client.list_inquiries(keyed(OPERATOR_KEY, queue)).await.unwrap().into_inner();
    assert!(page.inquiries.iter().any(|i| i.inquiry_id == id), "the complaint is in the escalation queue");

    let answer = "We are very sorry. The manager will call you within the hour and your stay is refunded.";
    let resolve = pb::ResolveInquiryRequest { inquiry_id: id.clone(), human_answer: answer.into(), ..Default::default() };
    expect_code(client.resolve_inquiry(keyed(API_KEY, resolve.clone())).await, Code::PermissionDenied);
    let resolved = client.resolve_inquiry(keyed(OPERATOR_KEY, resolve.clone())).await.unwrap().into_inner();
    assert_eq!((resolved.status(), resolved.human_answer.as_str()), (pb::InquiryStatus::Resolved, answer));
    assert_eq!(
        client.resolve_inquiry(keyed(OPERATOR_KEY, resolve)).await.unwrap().into_inner().status(),
        pb::InquiryStatus::Resolved,
        "the same answer again is a retry"
    );
    let other = pb::ResolveInquiryRequest { inquiry_id: id.clone(), human_answer: "Something else".into(), ..Default::default() };
    let status = expect_code(client.resolve_inquiry(keyed(OPERATOR_KEY, other)).await, Code::FailedPrecondition);
    assert!(status.message().contains("already resolved"), "{status:?}");

    app.wait_for_timeline(&id, "notification.customer.inquiry.resolved").await;
    let to_customer: Vec<_> = app.outbox(&id).await.into_iter().filter(|m| m.to == CUSTOMER).collect();
    assert_eq!(
        to_customer.iter().filter(|m| m.body.starts_with(answer)).count(),
        1,
        "the customer gets the human answer once: {to_customer:?}"
    );

    let early = pb::ResolveInquiryRequest { inquiry_id: waiting, human_answer: answer.into(), ..Default::default() };
    expect_code(client.resolve_inquiry(keyed(OPERATOR_KEY, early)).await, Code::FailedPrecondition);
    let blank = pb::ResolveInquiryRequest { inquiry_id: id.clone(), human_answer: "  ".into(), ..Default::default() };
    assert_eq!(bad_fields(&expect_code(client.resolve_inquiry(keyed(OPERATOR_KEY, blank)).await, Code::InvalidArgument)), ["human_answer"]);
    let escalate_resolved = pb::EscalateInquiryRequest { inquiry_id: id, reason: String::new() };
    expect_code(client.escalate_inquiry(keyed(API_KEY, escalate_resolved)).await, Code::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn put_reservation_stores_a_reservation_for_operators_only_and_names_bad_fields() {
    let app = TestApp::spawn().await;
    let mut client = reservations(&app).await;
    let reservation = pb::Reservation {
        reservation_number: "TR-77700001".into(),
        tenant_id: "demo".into(),
        customer_name: "Alex Morgan".into(),
        customer_phone: CUSTOMER.into(),
        partner_id: "jeonju-tours".into(),
        partner_name: "Jeonju Day Tours".into(),
        partner_phone: "+821055501234".into(),
        partner_locale: "en".into(),
        service_type: "tour".into(),
        reservation_date: "2026-12-28T10:00".into(),
    };
    let request = || pb::PutReservationRequest { reservation: Some(reservation.clone()) };
    expect_code(client.put_reservation(keyed(API_KEY, request())).await, Code::PermissionDenied);
    let stored = client.put_reservation(keyed(OPERATOR_KEY, request())).await.unwrap().into_inner();
    assert_eq!(stored.reservation_number, "TR-77700001");
    assert_ne!(stored.customer_phone, CUSTOMER, "phones come back masked");
    let (demo, number) =
        (switchboard_domain::TenantId::parse("demo").unwrap(), switchboard_domain::ReservationNumber::parse("TR-77700001").unwrap());
    let found = switchboard_store::ReservationStore::get_reservation(app.ports.store.as_ref(), &demo, &number).await.unwrap();
    assert_eq!(found.map(|r| r.partner_name), Some("Jeonju Day Tours".to_owned()));

    let bad = pb::PutReservationRequest {
        reservation: Some(pb::Reservation { reservation_number: "nope".into(), partner_phone: String::new(), ..reservation.clone() }),
    };
    let status = expect_code(client.put_reservation(keyed(OPERATOR_KEY, bad)).await, Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["partner_phone", "reservation_number"]);
    app.stop().await;
}

#[tokio::test]
async fn partner_service_shows_and_answers_a_confirmation_once() {
    let app = TestApp::spawn().await;
    let id = submit(&app, CHANGE, "010-1234-5678").await;
    wait_status(&app, &id, |s| s == pb::InquiryStatus::AwaitingPartner).await;
    let sms = app.outbox(&id).await.into_iter().find(|m| m.to == PARTNER_PHONE).expect("the partner's SMS");
    let token = token_in(&sms.body);
    let mut client = partners(&app).await;

    let view = client.get_confirmation(pb::GetConfirmationRequest { token: token.clone() }).await.unwrap().into_inner();
    assert_eq!((view.reservation_number.as_str(), view.status.as_str()), ("HT-20481123", "pending"));
    assert!(view.question.contains("12월 25일"));
    let alternative =
        pb::RespondConfirmationRequest { token: token.clone(), answer: pb::PartnerAnswer::Alternative as i32, ..Default::default() };
    assert_eq!(bad_fields(&expect_code(client.respond_confirmation(alternative).await, Code::InvalidArgument)), ["proposed_time"]);
    let unspecified = pb::RespondConfirmationRequest { token: token.clone(), ..Default::default() };
    assert_eq!(bad_fields(&expect_code(client.respond_confirmation(unspecified).await, Code::InvalidArgument)), ["answer"]);

    let accept = pb::RespondConfirmationRequest { token: token.clone(), answer: pb::PartnerAnswer::Accept as i32, ..Default::default() };
    let answered = client.respond_confirmation(accept.clone()).await.unwrap().into_inner();
    assert_eq!(answered.status, "accepted");
    expect_code(client.respond_confirmation(accept).await, Code::AlreadyExists);
    expect_code(client.get_confirmation(pb::GetConfirmationRequest { token: token.clone() }).await, Code::AlreadyExists);
    expect_code(client.get_confirmation(pb::GetConfirmationRequest { token: "eyJ4IjoxfQ.AAAA".into() }).await, Code::Unauthenticated);
    assert_eq!(
        bad_fields(&expect_code(client.get_confirmation(pb::GetConfirmationRequest::default()).await, Code::InvalidArgument)),
        ["token"]
    );
    assert_eq!(wait_status(&app, &id, terminal).await.status(), pb::InquiryStatus::Answered);
    app.stop().await;
}

#[tokio::test]
async fn a_partner_answer_after_escalation_is_a_failed_precondition_over_grpc() {
    let app = TestApp::spawn().await;
    let id = submit(&app, CHANGE, "010-1234-5678").await;
    wait_status(&app, &id, |s| s == pb::InquiryStatus::AwaitingPartner).await;
    let sms = app.outbox(&id).await.into_iter().find(|m| m.to == PARTNER_PHONE).expect("the partner's SMS");
    let token = token_in(&sms.body);
    let request = pb::EscalateInquiryRequest { inquiry_id: id.clone(), reason: "the customer called".into() };
    inquiries(&app).await.escalate_inquiry(keyed(API_KEY, request)).await.unwrap();

    let mut client = partners(&app).await;
    let accept = pb::RespondConfirmationRequest { token: token.clone(), answer: pb::PartnerAnswer::Accept as i32, ..Default::default() };
    let refused = expect_code(client.respond_confirmation(accept).await, Code::FailedPrecondition);
    assert!(refused.message().contains("the inquiry was escalated"), "{}", refused.message());
    expect_code(client.get_confirmation(pb::GetConfirmationRequest { token }).await, Code::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn a_key_over_its_rate_gets_resource_exhausted_with_a_retry_delay() {
    let app = TestApp::spawn_with(Options { api_rate_per_key: 2, ..Options::default() }).await;
    let mut client = inquiries(&app).await;
    let unknown = || keyed(API_KEY, pb::GetInquiryStatusRequest { inquiry_id: "0190f5e2-7c3a-7b1e-8a4d-0123456789ab".into() });
    // Sent at once, so they land within the limiter's second however slow the machine is.
    let calls = (0..10).map(|_| {
        let mut client = client.clone();
        async move { client.get_inquiry_status(unknown()).await.expect_err("an unknown id or the limit") }
    });
    let statuses = futures::future::join_all(calls).await;
    let codes: Vec<Code> = statuses.iter().map(|s| s.code()).collect();
    assert!(codes.iter().all(|c| matches!(c, Code::NotFound | Code::ResourceExhausted)), "{codes:?}");
    assert!(codes.contains(&Code::NotFound), "the first calls pass the limit: {codes:?}");
    let status = statuses.into_iter().find(|s| s.code() == Code::ResourceExhausted).expect("calls over the rate are limited");
    let retry_after: u64 =
        status.metadata().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("retry-after");
    assert!(retry_after >= 1);
    let details = switchboard_gateway::grpc::status::details(&status).expect("details");
    assert!(details.details.iter().any(|d| d.type_url.ends_with("google.rpc.RetryInfo")));
    // The operator's key has its own budget.
    let queue = pb::ListInquiriesRequest { status: pb::InquiryStatus::Escalated as i32, ..Default::default() };
    client.list_inquiries(keyed(OPERATOR_KEY, queue)).await.expect("another key is not limited");
    app.stop().await;
}

#[tokio::test]
async fn the_standard_health_service_reports_serving() {
    let app = TestApp::spawn().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(switchboard_tests::grpc::channel(&app).await);
    for service in ["", "switchboard.v1.InquiryService", "switchboard.v1.PartnerService"] {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let status =
                health.check(tonic_health::pb::HealthCheckRequest { service: service.into() }).await.map(|r| r.into_inner().status());
            if status.as_ref().is_ok_and(|s| *s == tonic_health::pb::health_check_response::ServingStatus::Serving) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{service} never served: {status:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn shutdown_ends_an_open_watch_with_unavailable_and_does_not_wait_for_it() {
    let app = TestApp::spawn().await;
    let id = submit(&app, CHANGE, "010-1234-5678").await;
    wait_status(&app, &id, |s| s == pb::InquiryStatus::AwaitingPartner).await;
    let mut client = inquiries(&app).await;
    let mut stream = client.watch_inquiry(keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id })).await.unwrap().into_inner();
    // Everything so far arrives; the partner has 300 s, so the stream stays open.
    let first = stream.next().await.expect("an event").expect("no error");
    assert_eq!(first.kind, "status.received");
    let reader = tokio::spawn(async move {
        let mut last = None;
        while let Some(item) = stream.next().await {
            last = Some(item);
        }
        last
    });
    tokio::time::timeout(PATIENCE, app.stop()).await.expect("shutdown does not wait for the watcher");
    let last = tokio::time::timeout(PATIENCE, reader).await.expect("the stream ended").expect("reader");
    match last {
        Some(Err(status)) => assert_eq!(status.code(), Code::Unavailable, "the server's own code, not a broken connection: {status:?}"),
        other => panic!("the watch should end with an error, got {other:?}"),
    }
}
