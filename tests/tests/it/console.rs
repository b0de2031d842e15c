//! The operators' console (issue 18) over HTTP: signing in with an
//! operator key (a strict, HTTP-only session cookie; forms carry a CSRF
//! token), the queue of escalated inquiries and its filters, an inquiry
//! answered and resolved from the console with a suggested reply, the
//! live queue's event stream, the FAQ and reservations, the dashboard,
//! signing out. The same pages in a real browser: `console_browser.rs`.

use reqwest::header::{COOKIE, LOCATION};
use serde_json::Value;
use switchboard_tests::console::{ConsoleClient, browser, hidden, set_cookies};
use switchboard_tests::{API_KEY, OPERATOR_KEY, PATIENCE, TestApp, inquiry_body};

const CUSTOMER: &str = "+12135550149";
const REFUND: &str = "I cancelled my booking two weeks before arrival and I want my full refund now. This is unacceptable.";

async fn escalated_refund(app: &TestApp) -> String {
    let id = app.submit_ok(&inquiry_body(REFUND, CUSTOMER)).await;
    assert_eq!(app.wait_terminal(&id).await["status"], "escalated");
    id
}

/// Posts the sign-in form with `key` and the form's own value: the response.
async fn sign_in_with(app: &TestApp, key: &str, extra_headers: &[(&str, &str)]) -> reqwest::Response {
    let http = browser();
    let form = http.get(app.url("/console/sign-in")).send().await.unwrap();
    let cookie = set_cookies(&form)[0].split(';').next().unwrap().to_owned();
    let nonce = hidden(&form.text().await.unwrap(), "nonce").unwrap();
    let mut post =
        http.post(app.url("/console/sign-in")).header(COOKIE, cookie).form(&[("key", key), ("nonce", &nonce), ("next", "/console")]);
    for (name, value) in extra_headers {
        post = post.header(*name, *value);
    }
    post.send().await.unwrap()
}

#[tokio::test]
async fn an_operator_key_signs_in_to_a_strict_http_only_session_cookie_and_other_keys_do_not() {
    let app = TestApp::spawn().await;
    for wrong in [API_KEY, "not-a-key"] {
        let refused = sign_in_with(&app, wrong, &[]).await;
        assert_eq!(refused.status(), 401, "a tenant's key or garbage is not an operator key");
        assert!(set_cookies(&refused).iter().all(|c| !c.starts_with("switchboard_console=")), "no session for a wrong key");
    }
    let signed_in = sign_in_with(&app, OPERATOR_KEY, &[]).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()[LOCATION], "/console");
    let session = set_cookies(&signed_in).into_iter().find(|c| c.starts_with("switchboard_console=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP on loopback: a Secure cookie would never come back");
    assert!(!session.contains(OPERATOR_KEY), "the key is not the cookie");

    // Behind the load balancer's TLS the cookie is Secure.
    let behind_tls = sign_in_with(&app, OPERATOR_KEY, &[("x-forwarded-proto", "https")]).await;
    let session = set_cookies(&behind_tls).into_iter().find(|c| c.starts_with("switchboard_console=")).unwrap();
    assert!(session.contains("Secure"), "{session}");
}

#[tokio::test]
async fn a_sign_in_form_posted_without_its_own_value_is_refused() {
    let app = TestApp::spawn().await;
    let http = browser();
    // A foreign page posting the key it wants the operator signed in with has no form value.
    let forged = http.post(app.url("/console/sign-in")).form(&[("key", OPERATOR_KEY), ("nonce", "guess")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert!(set_cookies(&forged).iter().all(|c| !c.starts_with("switchboard_console=")));
}

#[tokio::test]
async fn every_console_page_without_a_session_sends_the_browser_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let http = browser();
    for path in ["/console", "/console/dashboard", "/console/faq", "/console/reservations", "/console/queue/rows"] {
        let response = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with("/console/sign-in?next=/console"), "{path}: {location}");
    }
    // An API key in the header is not a session.
    let with_key = http.get(app.url("/console")).header("x-api-key", OPERATOR_KEY).send().await.unwrap();
    assert_eq!(with_key.status(), 303);
    // A cookie the store never issued is not one either.
    let forged = http.get(app.url("/console")).header(COOKIE, "switchboard_console=forged").send().await.unwrap();
    assert_eq!(forged.status(), 303);
}

#[tokio::test]
async fn an_escalated_inquiry_waits_in_the_queue_and_leaves_it_when_resolved_with_a_suggested_reply() {
    let app = TestApp::spawn().await;
    let id = escalated_refund(&app).await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;

    let queue = console.page("/console").await;
    assert!(queue.contains(&format!("/console/inquiries/{id}")), "the escalated inquiry is in the queue");
    assert!(console.page("/console?tenant=demo&intent=refund").await.contains(&id), "filtered to its tenant and intent it stays");
    assert!(!console.page("/console?intent=trouble_report").await.contains(&id), "filtered to another intent it goes");
    assert!(!console.page("/console?age=24").await.contains(&id), "it has not waited a day");

    let page = console.page(&format!("/console/inquiries/{id}")).await;
    assert!(page.contains(REFUND), "the conversation is shown");
    assert!(page.contains("refund") && page.contains("confidence"), "the classification and how sure it was");
    for level in ["careful", "balanced", "direct"] {
        assert!(page.contains(&format!("id=\"suggestion-{level}\"")), "the {level} suggestion is offered");
    }
    let direct = hidden(&page, "suggestion_text_direct").expect("the direct draft's text");
    let csrf = hidden(&page, "csrf").unwrap();

    // Without the session's token nothing happens.
    let resolve = format!("/console/inquiries/{id}/resolve");
    let (status, _, body) = console.post(&resolve, &[("suggestion_used", "direct"), ("csrf", "forged")]).await;
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = console.post(&resolve, &[("suggestion_used", "direct")]).await;
    assert_eq!(status, 403);
    assert_eq!(app.inquiry(&id).await["status"], "escalated", "a refused form changed nothing");

    // The operator sends the direct draft as it is (the answer box left
    // empty; the form carries each draft as shown) and corrects the urgency.
    let direct_text = html_unescape(&direct);
    let fields = [
        ("csrf", csrf.as_str()),
        ("suggestion_used", "direct"),
        ("suggestion_text_direct", direct_text.as_str()),
        ("answer", ""),
        ("corrected_urgency", "high"),
    ];
    let (status, location, body) = console.post(&resolve, &fields).await;
    assert_eq!((status, location.as_deref()), (303, Some("/console")), "{body}");
    let resolved = app.inquiry(&id).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["human_answer"], direct_text.as_str(), "the chosen draft was sent");
    let timeline = resolved["timeline"].as_array().unwrap();
    let event = timeline.iter().find(|e| e["kind"] == "status.resolved").unwrap();
    assert_eq!(event["details"]["suggestion_used"], "direct");
    assert_eq!(event["details"]["resolved_by"], "operator:demo-operator", "the console acts as the signed-in operator: {event}");
    assert!(!console.page("/console").await.contains(&id), "it left the queue");
}

/// The few entities askama escapes in attribute values.
fn html_unescape(s: &str) -> String {
    s.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[tokio::test]
async fn a_resolve_the_api_refuses_shows_the_form_again_with_the_field_and_why() {
    let app = TestApp::spawn().await;
    let id = escalated_refund(&app).await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let csrf = console.csrf().await;
    let (status, _, body) = console.post(&format!("/console/inquiries/{id}/resolve"), &[("csrf", &csrf), ("answer", "  ")]).await;
    assert_eq!(status, 400);
    assert!(body.contains("human_answer: is required and must not be blank"), "{body}");
    assert_eq!(app.inquiry(&id).await["status"], "escalated");
}

#[tokio::test]
async fn the_live_queue_says_changed_when_an_inquiry_is_escalated() {
    let app = TestApp::spawn().await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let stream = console.http.get(app.url("/console/queue/events")).header(COOKIE, &console.cookie).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut body = stream;
    let id = escalated_refund(&app).await;
    let mut seen = String::new();
    let changed = tokio::time::timeout(PATIENCE, async {
        while let Some(chunk) = body.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: changed") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(changed, Ok(true), "the stream announced the change: {seen}");
    assert!(console.page("/console/queue/rows").await.contains(&id), "the rows the script fetches hold the new inquiry");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_needs_the_forms_token() {
    let app = TestApp::spawn().await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let (status, _, _) = console.post("/console/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(status, 403, "a foreign page cannot sign the operator out");
    assert_eq!(console.get("/console").await.0, 200, "still signed in");
    let csrf = console.csrf().await;
    let (status, location, _) = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((status, location.as_deref()), (303, Some("/console/sign-in")));
    assert_eq!(console.get("/console").await.0, 303, "the old cookie opens nothing: the store forgot the session");
}

#[tokio::test]
async fn the_faq_is_searched_and_edited_from_the_console_as_the_api_sees_it() {
    let app = TestApp::spawn().await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let page = console.page("/console/faq?tenant=demo&q=breakfast").await;
    assert!(page.contains("When and where is breakfast served?") && !page.contains("check-in and check-out"), "searched");
    let csrf = hidden(&page, "csrf").unwrap();
    let version = hidden(&page, "version").unwrap();
    let question = "Can I bring my dog?";
    let fields = [
        ("csrf", csrf.as_str()),
        ("tenant", "demo"),
        ("action", "add"),
        ("version", version.as_str()),
        ("language", "en"),
        ("question", question),
        ("answer", "Dogs under 10 kg stay free."),
        ("variants", "Are pets allowed?\nCan my puppy stay?"),
    ];
    let (status, location, body) = console.post("/console/faq", &fields).await;
    assert_eq!((status, location.as_deref()), (303, Some("/console/faq?tenant=demo&saved=1")), "{body}");
    let faq: Value = app.http.get(app.url("/api/faq")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
    let added = faq["entries"].as_array().unwrap().iter().find(|e| e["question"] == question).expect("the tenant's API sees the entry");
    assert_eq!(added["variants"], serde_json::json!(["Are pets allowed?", "Can my puppy stay?"]));

    // The same form again at the version it was rendered with: the FAQ changed meanwhile.
    let (status, _, body) = console.post("/console/faq", &fields).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("read it again"), "{body}");
    // A blank answer is refused naming the field.
    let page = console.page("/console/faq?tenant=demo").await;
    let version = hidden(&page, "version").unwrap();
    let (status, _, body) = console
        .post(
            "/console/faq",
            &[("csrf", &csrf), ("tenant", "demo"), ("action", "add"), ("version", &version), ("language", "en"), ("question", "Gym?")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("answer:"), "{body}");
}

#[tokio::test]
async fn reservations_are_listed_masked_and_added_from_the_console() {
    let app = TestApp::spawn().await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let csrf = console.csrf().await;
    let reservation = [
        ("csrf", csrf.as_str()),
        ("tenant_id", "demo"),
        ("reservation_number", "HT-77001122"),
        ("customer_name", "Kim Minji"),
        ("customer_phone", "+821012345678"),
        ("partner_id", "p-9"),
        ("partner_name", "Seaside Tours"),
        ("partner_phone", "+821098765432"),
        ("partner_locale", "ko"),
        ("service_type", "boat tour"),
        ("reservation_date", "2026-12-24"),
    ];
    let (status, location, body) = console.post("/console/reservations", &reservation).await;
    assert_eq!((status, location.as_deref()), (303, Some("/console/reservations?tenant=demo&saved=1")), "{body}");
    let page = console.page("/console/reservations?tenant=demo&q=seaside").await;
    assert!(page.contains("HT-77001122") && page.contains("boat tour"), "{page}");
    assert!(!page.contains("+821012345678") && page.contains("5678"), "phones are shown masked");

    let mut bad = reservation;
    bad[7] = ("partner_phone", "not a phone");
    let (status, _, body) = console.post("/console/reservations", &bad).await;
    assert_eq!(status, 400);
    assert!(body.contains("partner_phone"), "the field at fault is named: {body}");
}

#[tokio::test]
async fn the_dashboard_shows_the_days_automation_rate_and_escalation_reasons() {
    let app = TestApp::spawn().await;
    let answered = app.submit_ok(&inquiry_body("When and where is breakfast served?", CUSTOMER)).await;
    assert_eq!(app.wait_terminal(&answered).await["status"], "answered");
    let escalated = escalated_refund(&app).await;
    let reason = app.inquiry(&escalated).await["escalation"]["reason"].as_str().unwrap().to_owned();
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let page = console.page("/console/dashboard").await;
    assert!(page.contains("<strong id=\"automation-rate\">50.0 %</strong>"), "one of two answered without a person: {page}");
    assert!(page.contains(&reason), "the escalation's reason is charted");
    assert!(page.contains("<svg"), "with charts");
}

#[tokio::test]
async fn the_console_speaks_korean_when_asked_and_keeps_the_choice() {
    let app = TestApp::spawn().await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    assert!(console.page("/console").await.contains("<html lang=\"en\""));
    let switched = console.http.get(app.url("/console/language/ko?next=/console")).header(COOKIE, &console.cookie).send().await.unwrap();
    assert_eq!(switched.status(), 303);
    let lang = set_cookies(&switched)[0].split(';').next().unwrap().to_owned();
    let korean = console.http.get(app.url("/console")).header(COOKIE, format!("{}; {lang}", console.cookie)).send().await.unwrap();
    let page = korean.text().await.unwrap();
    assert!(page.contains("<html lang=\"ko\"") && page.contains("대기열"), "{page}");
    let by_header = browser().get(app.url("/console/sign-in")).header("accept-language", "ko-KR,ko;q=0.9").send().await.unwrap();
    assert!(by_header.text().await.unwrap().contains("운영자 키"), "a Korean browser gets Korean before choosing");
}

#[tokio::test]
async fn console_pages_forbid_framing_and_foreign_scripts() {
    let app = TestApp::spawn().await;
    let response = browser().get(app.url("/console/sign-in")).send().await.unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn in_aws_mode_the_console_keeps_its_sessions_in_dynamodb_and_links_the_trace_in_x_ray() {
    let cluster =
        crate::aws_pipeline::Cluster::start_with("console", 300, &[("SWITCHBOARD_DEMO_OPERATOR_KEY", OPERATOR_KEY.to_owned())]).await;
    let id = cluster.submit(&inquiry_body(REFUND, CUSTOMER)).await;
    assert_eq!(cluster.wait_terminal(&id).await["status"], "escalated");
    let console = ConsoleClient::sign_in(&cluster.base_url, OPERATOR_KEY).await;
    assert!(console.page("/console").await.contains(&id), "the queue reads DynamoDB's status index");
    let page = console.page(&format!("/console/inquiries/{id}")).await;
    assert!(
        page.contains(&format!(
            "xray/home?region=us-east-1#/traces?timeRange=P3D&#38;filter=annotation.switchboard_inquiry_id%20%3D%20%22{id}%22"
        )),
        "the traces are found in X-Ray by the inquiry: {page}"
    );
    let csrf = hidden(&page, "csrf").unwrap();
    let (status, _, body) =
        console.post(&format!("/console/inquiries/{id}/resolve"), &[("csrf", &csrf), ("answer", "We refunded you in full today.")]).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(cluster.inquiry(&id).await["status"], "resolved");
    let (status, _, _) = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(console.get("/console").await.0, 303, "signed out: the session item is gone from the table");
}

#[tokio::test]
async fn the_queue_shows_each_response_target_and_a_breached_one_first_when_filtered() {
    let app = TestApp::spawn().await;
    let policy = serde_json::json!({ "first_response_secs": { "high": 1, "medium": 1, "low": 1 }, "time_zone": "UTC" });
    let set = app.http.put(app.url("/api/tenants/demo/sla")).header("x-api-key", OPERATOR_KEY).json(&policy).send().await.unwrap();
    assert_eq!(set.status(), 200);
    let id = escalated_refund(&app).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app.inquiry(&id).await["sla"]["state"] != "breached" {
        assert!(tokio::time::Instant::now() < deadline, "the one-second target was never breached");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let breached = console.page("/console?sla=breached").await;
    assert!(breached.contains(&id) && breached.contains("<span class=\"tag breached\">breached</span>"), "{breached}");
    assert!(!console.page("/console?sla=pending").await.contains(&id), "on track it is not");
    let page = console.page(&format!("/console/inquiries/{id}")).await;
    assert!(page.contains("id=\"sla-state\">breached</span>"), "the inquiry page shows the breach");
}

#[tokio::test]
async fn a_webhook_is_registered_from_the_console_its_secret_shown_once_and_disabled_again() {
    let app = TestApp::spawn_configured(
        switchboard_tests::Options::default(),
        |c| {
            c.webhook_allow_private_cidrs = "127.0.0.0/8".into();
            c.webhook_allow_http = true;
        },
        |_| {},
    )
    .await;
    let receiver = switchboard_tests::webhook_receiver::Receiver::start(&[], 204).await;
    let console = ConsoleClient::sign_in(&app.base_url, OPERATOR_KEY).await;
    let csrf = console.csrf().await;
    let create = [
        ("csrf", csrf.as_str()),
        ("tenant", "demo"),
        ("action", "create"),
        ("url", receiver.url.as_str()),
        ("description", "orders"),
        ("events", "inquiry.answered"),
        ("events", "inquiry.escalated"),
    ];
    let (status, _, page) = console.post("/console/webhooks", &create).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"webhook-secret\"") && page.contains("whsec_"), "the secret is shown on the answer to the form");
    let listed = console.page("/console/webhooks?tenant=demo").await;
    assert!(listed.contains(&receiver.url) && listed.contains("inquiry.answered, inquiry.escalated"), "{listed}");
    assert!(!listed.contains("whsec_"), "and never again");

    // The endpoint is the API's: an escalation reaches it.
    escalated_refund(&app).await;
    receiver.wait_for(1).await;
    let attempts = console.page("/console/webhooks?tenant=demo").await;
    assert!(attempts.contains("value=\"replay\""), "its delivery is logged with a replay button: {attempts}");

    let endpoint = hidden(&listed, "id").expect("the endpoint's id in its forms");
    let (status, _, _) =
        console.post("/console/webhooks", &[("csrf", &csrf), ("tenant", "demo"), ("id", &endpoint), ("action", "disable")]).await;
    assert_eq!(status, 303);
    let hooks: Value = app.http.get(app.url("/api/webhooks")).header("x-api-key", API_KEY).send().await.unwrap().json().await.unwrap();
    assert_eq!(hooks["webhooks"][0]["enabled"], false, "{hooks}");

    // An internal target is refused naming the field.
    let (status, _, body) = console
        .post("/console/webhooks", &[("csrf", &csrf), ("tenant", "demo"), ("action", "create"), ("url", "http://169.254.169.254/latest")])
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("url: resolves to"), "{body}");
}
