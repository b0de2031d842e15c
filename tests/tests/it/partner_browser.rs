//! The partner page in a real browser: Debian's Chromium, driven over
//! WebDriver (chromedriver) with fantoccini, against a running embedded
//! Switchboard. `tests/run` installs `chromium` and `chromium-driver`; a
//! machine without them fails this test with a message saying so, never
//! skips it.
//!
//! Screenshots go to `target/screenshots/` (the one in services/README.md is a copy
//! of `01-request.png`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use crate::partner::{CUSTOMER_PHONE, change_request, partner_sms, sms_to};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use switchboard_tests::process::free_port;
use switchboard_tests::{Options, PATIENCE, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A phone-sized window: the page is meant to be read on a phone.
const WINDOW: &str = "--window-size=412,915";

/// A chromedriver with one Chromium session. Dropping it ends both.
/// The customer page's browser test (`customer_page.rs`) drives it too.
pub(crate) struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start() -> Self {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: the browser test needs Debian's chromium and chromium-driver packages. \
                 `bash tests/run` installs them (apt-get install -y chromium chromium-driver); install them and run again."
            );
        }
        let port = free_port();
        let profile = tempfile::tempdir().expect("profile dir");
        let log = std::fs::File::create(profile.path().join("chromedriver.log")).expect("driver log");
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        // Its own process group, so dropping the browser ends Chromium's
        // helpers too, and only them.
        command.process_group(0);
        let driver = command.spawn().expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&format!("{url}/status")).await;

        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", WINDOW,
                    format!("--user-data-dir={}", profile.path().join("chromium").display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("Chromium did not start through {CHROMEDRIVER}: {e}"));
        Self { client: Some(client), driver, _profile: profile }
    }

    pub(crate) fn client(&self) -> &Client {
        self.client.as_ref().expect("open browser")
    }

    /// Opens `url` and returns the page's visible text.
    pub(crate) async fn open(&self, url: &str) -> String {
        self.client().goto(url).await.expect("page loads");
        self.text().await
    }

    pub(crate) async fn text(&self) -> String {
        self.client().find(Locator::Css("body")).await.expect("a body").text().await.expect("text")
    }

    pub(crate) async fn screenshot(&self, name: &str) {
        let png = self.client().screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(name), png).expect("screenshot written");
    }

    /// Clicks the submit button of the form with class `form` and waits for
    /// the page it leads to.
    pub(crate) async fn submit(&self, form: &str) -> String {
        let before = self.client().find(Locator::Css("body")).await.expect("a body");
        let button = self.client().find(Locator::Css(&format!("form.{form} button"))).await.expect("the form's button");
        button.click().await.expect("clicked");
        // The click returns before the next page replaces this one: wait
        // until this page's body is gone (its element goes stale).
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while before.text().await.is_ok() {
            assert!(tokio::time::Instant::now() < deadline, "the form's page never went away");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.client().wait().at_most(PATIENCE).for_element(Locator::Css("h1")).await.expect("the answer page");
        self.text().await
    }

    pub(crate) async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await.expect("browser session ends");
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends chromedriver and the Chromium it started: its own group, by id.
        let group = nix::unistd::Pid::from_raw(self.driver.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}

async fn wait_until_ready(status_url: &str) {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if http.get(status_url).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "chromedriver did not answer on {status_url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `target/screenshots`, beside this test binary's `debug/` folder (also
/// when `CARGO_TARGET_DIR` moves the target directory).
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe.ancestors().nth(3).expect("target/<profile>/deps/<test>");
    target.join("screenshots")
}

pub(crate) fn link_in(sms: &str) -> String {
    let start = sms.find("http").expect("a link in the SMS");
    sms[start..].split_whitespace().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_partner_answers_in_a_real_browser_and_every_page_state_shows() {
    let app = TestApp::spawn().await;
    let browser = Browser::start().await;

    // Open the SMS link: the request, in the partner's language, without the
    // customer's phone, nor the number and address they typed into the text.
    let mut request = change_request();
    let content = format!("{} 연락은 010-9876-5432 또는 kim.minji@example.co.kr 로 주세요.", request["content"].as_str().unwrap());
    request["content"] = json!(content);
    let id = app.submit_ok(&request).await;
    let link = link_in(&partner_sms(&app, &id).await);
    let page = browser.open(&link).await;
    assert!(page.contains("예약 변경 요청") && page.contains("HT-20481123") && page.contains("12월 25일"), "{page}");
    assert!(!page.contains("1234-5678") && !page.contains(CUSTOMER_PHONE), "the customer's phone never shows: {page}");
    for typed in ["9876-5432", "kim.minji", "example.co.kr"] {
        assert!(!page.contains(typed), "{typed}, typed by the customer, shows on the partner page: {page}");
    }
    assert!(page.contains("연락은 [PHONE] 또는 [EMAIL] 로 주세요."), "{page}");
    browser.screenshot("01-request.png").await;

    // Accept: the confirmation page.
    let done = browser.submit("accept").await;
    assert!(done.contains("응답이 전달되었습니다") && done.contains("요청을 수락하셨습니다"), "{done}");
    browser.screenshot("02-confirmed.png").await;
    assert_eq!(app.wait_terminal(&id).await["partner"]["outcome"]["outcome"], "accepted");

    // Open the link again: already answered.
    let again = browser.open(&link).await;
    assert!(again.contains("이미 응답한 요청입니다") && again.contains("already answered"), "{again}");
    browser.screenshot("03-already-answered.png").await;

    // Propose another time through the date-time input (an English-speaking partner).
    let en_id = app
        .submit_ok(&json!({
            "content": "Hello, I would like to change my tour booking TR-55501234 to December 28 please.",
            "customer_phone": "+12135550149",
        }))
        .await;
    let en_link = link_in(&sms_to(&app, &en_id, "+821055501234").await);
    let page = browser.open(&en_link).await;
    assert!(page.contains("Reservation change request") && page.contains("TR-55501234"), "{page}");
    let input = browser.client().find(Locator::Css("form.alt input[name=proposed_time]")).await.expect("the date-time input");
    assert_eq!(input.attr("type").await.expect("type").as_deref(), Some("datetime-local"));
    // A date-time input's typing order depends on the browser's locale; its
    // value is what the form sends, so set that.
    browser
        .client()
        .execute("arguments[0].value = arguments[1];", vec![serde_json::to_value(&input).expect("element"), json!("2026-12-28T09:30")])
        .await
        .expect("value set");
    assert_eq!(input.prop("value").await.expect("value").as_deref(), Some("2026-12-28T09:30"));
    let done = browser.submit("alt").await;
    assert!(done.contains("You proposed another time"), "{done}");
    browser.screenshot("04-alternative-sent.png").await;
    let inquiry = app.wait_terminal(&en_id).await;
    assert_eq!(inquiry["partner"]["outcome"]["proposed_time"], "2026-12-28 09:30");
    let told: Vec<_> = app.notified(&en_id).await.into_iter().filter(|m| m.to == "+12135550149").collect();
    assert_eq!(told.len(), 1);
    assert!(told[0].body.contains("2026-12-28 09:30"), "the customer hears the proposed time: {}", told[0].body);

    // An expired link: the deadline passed with no answer.
    let late_app = TestApp::spawn_with(Options { partner_deadline_secs: 1, ..Options::default() }).await;
    let late_id = late_app.submit_ok(&change_request()).await;
    let late_link = link_in(&partner_sms(&late_app, &late_id).await);
    late_app.wait_for_timeline(&late_id, "partner.timed_out").await;
    let expired = browser.open(&late_link).await;
    assert!(expired.contains("응답 기한이 지난 링크입니다") && expired.contains("This link has expired"), "{expired}");
    browser.screenshot("05-expired.png").await;

    browser.close().await;
    late_app.stop().await;
    app.stop().await;
}
