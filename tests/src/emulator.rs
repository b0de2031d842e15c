//! The local AWS emulator (moto server) the AWS-backend tests talk to over
//! real HTTP with the real SDK clients.
//!
//! `tests/run` installs moto into the project's `.venv` and starts it
//! (through `tests/moto_server.py`, which makes its DynamoDB transactions
//! atomic under concurrent requests),
//! passing its address in `SWITCHBOARD_TEST_AWS_ENDPOINT`. When that is not
//! set (a plain `cargo test`), the first test that needs the emulator starts
//! the emulator the same way itself; it dies with the test process.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use switchboard_aws::{AwsOptions, Credentials};

/// Where the emulator listens.
#[derive(Debug)]
pub struct Emulator {
    pub endpoint: String,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

/// The shared emulator, started on first use.
pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("SWITCHBOARD_TEST_AWS_ENDPOINT") {
            return Emulator { endpoint };
        }
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_owned();
        let python = repo.join(".venv/bin/python");
        assert!(
            repo.join(".venv/bin/moto_server").exists(),
            "{} is missing: run `bash tests/run`, which installs the AWS emulator (moto) into .venv",
            repo.join(".venv/bin/moto_server").display()
        );
        let port = crate::process::free_port();
        // moto with DynamoDB requests serialised (see tests/moto_server.py).
        let mut command = Command::new(python);
        command
            .arg(repo.join("tests/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(|| nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM).map_err(std::io::Error::from));
            }
        }
        // PR_SET_PDEATHSIG fires when the *thread* that forked the child
        // ends, not the process. Tests run on short-lived threads, so the
        // emulator is forked from a thread that stays parked for the rest of
        // the test process's life.
        let (started, outcome) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("moto-parent".into())
            .spawn(move || {
                let spawned = command.spawn().map(drop);
                let alive = spawned.is_ok();
                let _ = started.send(spawned);
                if alive {
                    loop {
                        std::thread::park();
                    }
                }
            })
            .expect("emulator parent thread starts");
        outcome.recv().expect("emulator parent thread reports").expect("moto_server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Emulator { endpoint };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("moto_server did not start on port {port}");
    })
}

impl Emulator {
    /// SDK options aimed at the emulator: dummy keys, one region, few retries
    /// (unimplemented calls answer 500 and should fail fast).
    pub fn aws_options(&self) -> AwsOptions {
        AwsOptions {
            endpoint_url: Some(self.endpoint.clone()),
            max_attempts: 2,
            region: Some("us-east-1".into()),
            credentials: Some(Credentials::new("testing", "testing", None, None, "emulator")),
        }
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        switchboard_aws::sdk_config(&self.aws_options()).await
    }

    /// Everything the emulator recorded (`/moto-api/data.json`: sent SMS
    /// under `sns.SMS`, sent mail under `ses.Message`). Moto serialises its
    /// state while other requests change it and then answers 500 now and
    /// again under parallel tests, so a failed read is tried again.
    pub async fn recorded(&self) -> serde_json::Value {
        let url = format!("{}/moto-api/data.json", self.endpoint);
        let mut last_error = String::new();
        for _ in 0..20 {
            match reqwest::get(&url).await {
                Ok(r) => match r.json::<serde_json::Value>().await {
                    Ok(data) => return data,
                    Err(e) => last_error = e.to_string(),
                },
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the emulator's recorded data could not be read: {last_error}");
    }

    /// The inquiry the partner link `link` (the link id or signed token
    /// [`crate::token_in`] reads from a text) was issued for, from the
    /// token record in the table of resource prefix `prefix`; `None` if no
    /// link was issued under it there. A link id names nothing itself: its
    /// record does.
    pub async fn link_inquiry(&self, prefix: &str, link: &str) -> Option<String> {
        use switchboard_store::TokenStore;
        let client = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        let store = switchboard_store::dynamodb::DynamoStore::new(client, prefix.to_owned());
        let record = store.get_token(&switchboard_domain::token::token_hash(link)).await.ok()??;
        Some(record.inquiry_id.to_string())
    }

    /// Variables that point a child `switchboard` process at the emulator.
    pub fn process_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_MAX_ATTEMPTS", "2".into()),
        ]
    }
}

/// Held by the emulator tests that text the demo reservation's customer
/// (`HT-20481123`, +821012345678) and count those texts: the emulator's
/// record of sent SMS is shared by every test, and the phone number is the
/// reservation's, so two such tests at once would count each other's.
pub static DEMO_RESERVATION_TEXTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A resource-name prefix no other test uses (names of queues, topic,
/// table and bucket derive from it), so tests run in parallel.
pub fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let test: String = test.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect::<String>().to_ascii_lowercase();
    format!("sb{}-{n}-{test}", std::process::id())
}
