//! How the timeline streams end: `WatchInquiry` (gRPC) and
//! `GET /api/inquiries/{id}/events` (server-sent events) deliver the event
//! that makes a watched inquiry terminal and then close; a client that goes
//! away takes the server's work for it along (the store read the stream was
//! waiting on is dropped), and the next watch is served as usual.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use serde_json::Value;
use switchboard_proto::v1 as pb;
use switchboard_tests::grpc::{inquiries, keyed, partners};
use switchboard_tests::outage::Outage;
use switchboard_tests::{API_KEY, Options, PATIENCE, TestApp, token_in};

/// Needs the partner's confirmation, so the inquiry waits until the test answers for the partner.
const CHANGE: &str = "예약 날짜를 12월 25일로 변경하고 싶습니다. 예약번호 HT-20481123 입니다.";
const CUSTOMER: &str = "010-1234-5678";
const PARTNER_PHONE: &str = "+821098765432";

fn change_request() -> Value {
    switchboard_tests::inquiry_body(CHANGE, CUSTOMER)
}

/// Submits the change request and waits until the partner has been asked.
async fn awaiting_partner(app: &TestApp) -> String {
    let id = app.submit_ok(&change_request()).await;
    app.wait_for(&id, |s| s == "awaiting_partner").await;
    id
}

/// The partner accepts through the partner API.
async fn partner_accepts(app: &TestApp, id: &str) {
    let sms = app.outbox(id).await.into_iter().find(|m| m.to == PARTNER_PHONE).expect("the partner's SMS");
    let accept =
        pb::RespondConfirmationRequest { token: token_in(&sms.body), answer: pb::PartnerAnswer::Accept as i32, ..Default::default() };
    assert_eq!(partners(app).await.respond_confirmation(accept).await.unwrap().into_inner().status, "accepted");
}

fn watch_request(id: &str) -> tonic::Request<pb::WatchInquiryRequest> {
    keyed(API_KEY, pb::WatchInquiryRequest { inquiry_id: id.into() })
}

/// One server-sent event: its `event:` name and parsed `data:`.
#[derive(Debug)]
struct Sse {
    event: String,
    data: Value,
}

/// Reads server-sent events until `until` holds for the last one read or the stream ends.
async fn read_events(response: &mut reqwest::Response, buffer: &mut String, until: impl Fn(&Sse) -> bool) -> Vec<Sse> {
    let mut events = Vec::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::to_owned);
            let Some(event) = field("event: ") else { continue }; // a keep-alive comment
            let data = field("data: ").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null);
            events.push(Sse { event, data });
            if events.last().is_some_and(&until) {
                return events;
            }
        }
        match tokio::time::timeout(PATIENCE, response.chunk()).await.expect("the stream moves on").unwrap() {
            Some(chunk) => buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
            None => return events,
        }
    }
}

#[tokio::test]
async fn a_watch_open_while_the_partner_is_asked_ends_with_the_answer_as_its_terminal_event() {
    let app = TestApp::spawn().await;
    let id = awaiting_partner(&app).await;
    let mut client = inquiries(&app).await;
    let mut stream = client.watch_inquiry(watch_request(&id)).await.unwrap().into_inner();
    let mut kinds = Vec::new();
    while !kinds.contains(&"status.awaiting_partner".to_owned()) {
        let event = tokio::time::timeout(PATIENCE, stream.next()).await.expect("the stream moves on").expect("open").expect("no error");
        assert!(!event.terminal, "{event:?}");
        kinds.push(event.kind);
    }

    partner_accepts(&app, &id).await;
    let rest: Vec<pb::TimelineEvent> = tokio::time::timeout(PATIENCE, stream.map(|e| e.expect("no error")).collect::<Vec<_>>())
        .await
        .expect("the stream ends by itself after the terminal event");
    let last = rest.last().expect("events after the partner answered");
    assert_eq!((last.kind.as_str(), last.status(), last.terminal), ("status.answered", pb::InquiryStatus::Answered, true), "{rest:?}");
    assert_eq!(rest.iter().filter(|e| e.terminal).count(), 1, "{rest:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_event_stream_open_while_the_partner_is_asked_ends_with_the_answer_and_an_end_event() {
    let app = TestApp::spawn().await;
    let id = awaiting_partner(&app).await;
    let mut response = app.http.get(app.url(&format!("/api/inquiries/{id}/events"))).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut buffer = String::new();
    let before = read_events(&mut response, &mut buffer, |e| e.data["kind"] == "status.awaiting_partner").await;
    assert_eq!(before.last().map(|e| &e.data["kind"]), Some(&Value::from("status.awaiting_partner")), "{before:?}");
    assert!(before.iter().all(|e| e.event == "timeline" && e.data["terminal"] == false), "{before:?}");

    partner_accepts(&app, &id).await;
    let rest = read_events(&mut response, &mut buffer, |_| false).await;
    let names: Vec<&str> = rest.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names.last(), Some(&"end"), "{rest:?}");
    let timeline: Vec<&Sse> = rest.iter().filter(|e| e.event == "timeline").collect();
    let last = timeline.last().expect("events after the partner answered");
    assert_eq!((&last.data["kind"], &last.data["terminal"]), (&Value::from("status.answered"), &Value::from(true)), "{rest:?}");
    assert!(buffer.trim().is_empty(), "nothing after the end: {buffer:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_watch_the_client_drops_releases_the_servers_read_and_the_next_watch_is_served() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |_| {}).await;
    let id = awaiting_partner(&app).await;
    let mut client = inquiries(&app).await;

    // The server's first read for the watcher hangs in the store.
    outage.timelines.hang();
    let stream = client.watch_inquiry(watch_request(&id)).await.unwrap().into_inner();
    outage.timelines.wait_held(1).await;
    drop(stream);
    outage.timelines.wait_held(0).await;

    outage.timelines.heal();
    let mut again = client.watch_inquiry(watch_request(&id)).await.unwrap().into_inner();
    let first = tokio::time::timeout(PATIENCE, again.next()).await.expect("the stream moves on").expect("open").expect("no error");
    assert_eq!(first.kind, "status.received");
    drop(again);
    app.stop().await;
}

#[tokio::test]
async fn an_event_stream_the_client_drops_releases_the_servers_read_and_the_next_one_is_served() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |_| {}).await;
    let id = awaiting_partner(&app).await;
    let url = app.url(&format!("/api/inquiries/{id}/events"));

    outage.timelines.hang();
    // A client of its own, so dropping it closes its connection.
    let client = reqwest::Client::new();
    let response = client.get(&url).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    outage.timelines.wait_held(1).await;
    drop(response);
    drop(client);
    outage.timelines.wait_held(0).await;

    outage.timelines.heal();
    let mut again = app.http.get(&url).header("x-api-key", API_KEY).send().await.unwrap();
    let mut buffer = String::new();
    let first = read_events(&mut again, &mut buffer, |_| true).await;
    assert_eq!(first.first().map(|e| &e.data["kind"]), Some(&Value::from("status.received")), "{first:?}");
    drop(again);
    app.stop().await;
}

#[tokio::test]
async fn a_key_past_its_open_streams_gets_429_until_one_closes_and_a_stream_ends_at_its_longest_lifetime() {
    let app = TestApp::spawn_configured(
        Options::default(),
        |c| {
            c.max_streams_per_key = 2;
            c.stream_lifetime_secs = 1;
        },
        |_| {},
    )
    .await;
    let id = awaiting_partner(&app).await;
    let mut client = inquiries(&app).await;
    let first = client.watch_inquiry(watch_request(&id)).await.unwrap().into_inner();
    let events = app.url(&format!("/api/inquiries/{id}/events"));
    let second = app.http.get(&events).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(second.status(), 200);
    // SSE and gRPC share the key's slots.
    let third = app.http.get(&events).header("x-api-key", API_KEY).send().await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let status = client.watch_inquiry(watch_request(&id)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");

    // The partner never answers here: the stream ends at its lifetime, telling the client to watch again.
    let mut first = first;
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match first.next().await {
                Some(Ok(_)) => continue,
                Some(Err(status)) => return Some(status),
                None => return None,
            }
        }
    })
    .await
    .expect("the stream ends");
    let status = ended.expect("ended with a status");
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("watch again"), "{status:?}");
    drop(second);
    // Both slots are free again once the streams are gone.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let again = app.http.get(&events).header("x-api-key", API_KEY).send().await.unwrap();
        if again.status() == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the slots were never freed: {}", again.status());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn watchers_of_one_inquiry_share_one_timeline_reader() {
    let outage = Outage::default();
    let app = outage.spawn(Options::default(), |_| {}).await;
    let watched = awaiting_partner(&app).await;
    let other = awaiting_partner(&app).await;
    outage.timelines.hang();
    let open = |id: String| {
        let request = app.http.get(app.url(&format!("/api/inquiries/{id}/events"))).header("x-api-key", API_KEY);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response
        }
    };
    let mut readers = Vec::new();
    for id in [&watched, &watched, &watched, &other] {
        let mut response = open(id.clone()).await;
        // Read as it comes, as a browser does.
        readers.push(tokio::spawn(async move { while let Ok(Some(_)) = response.chunk().await {} }));
    }
    outage.timelines.wait_held(2).await;
    // Time for any further read to start: with a reader per watcher there would be four.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(outage.timelines.held(), 2, "one timeline read per watched inquiry, whatever the watchers");
    outage.timelines.heal();
    for reader in readers {
        reader.abort();
    }
    app.stop().await;
}
