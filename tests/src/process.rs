//! The real `switchboard` binary as a child process, for kill and signal tests.

use crate::API_KEY;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// A running `switchboard up --demo`.
pub struct Process {
    child: Child,
    pub base_url: String,
}

/// `target/<profile>/switchboard`, next to this test binary's `deps/` folder.
/// The test command builds it first (`cargo build -p switchboard`).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = profile_dir.join("switchboard");
    assert!(binary.exists(), "{} is missing: run `cargo build -p switchboard` first (tests/run does)", binary.display());
    binary
}

/// The messages the embedded channels recorded in `data_dir`'s message
/// outbox, one JSON object each, read with `switchboard outbox` as an
/// operator would.
pub fn sent_messages(data_dir: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(binary()).args(["outbox", "--data-dir"]).arg(data_dir).output().expect("switchboard outbox runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect()
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Process {
    /// Starts `switchboard up --demo` on `data_dir` and waits until it is ready.
    pub async fn start(data_dir: &Path, port: u16, extra_env: &[(&str, &str)]) -> Self {
        let process = Self::launch(data_dir, port, extra_env);
        process.wait_until_ready(port).await;
        process
    }

    /// Starts `switchboard up --demo` on `data_dir` without waiting for it
    /// (a process told to crash may be gone before it could be seen ready).
    pub fn launch(data_dir: &Path, port: u16, extra_env: &[(&str, &str)]) -> Self {
        let http = format!("127.0.0.1:{port}");
        let args = ["up", "--demo", "--http-addr", &http];
        let (depth, age, writes, in_pipeline) = (
            crate::TEST_SHED_QUEUE_DEPTH.to_string(),
            crate::TEST_SHED_QUEUE_AGE_MS.to_string(),
            crate::TEST_SHED_PENDING_WRITES.to_string(),
            crate::TEST_SHED_IN_PIPELINE.to_string(),
        );
        let mut env: Vec<(&str, &str)> = vec![
            ("SWITCHBOARD_DEMO_API_KEY", API_KEY),
            ("SWITCHBOARD_RETRY_BASE_MS", "20"),
            ("SWITCHBOARD_MAX_RECEIVES", "5"),
            ("SWITCHBOARD_SHED_QUEUE_DEPTH", &depth),
            ("SWITCHBOARD_SHED_QUEUE_AGE_MS", &age),
            ("SWITCHBOARD_SHED_PENDING_WRITES", &writes),
            ("SWITCHBOARD_SHED_IN_PIPELINE", &in_pipeline),
        ];
        env.extend_from_slice(extra_env);
        let mut process = Self::spawn(&args, data_dir, &env, "up");
        process.base_url = format!("http://127.0.0.1:{port}");
        process
    }

    /// Starts `switchboard` with `args` on `data_dir`; output goes to
    /// `{data_dir}/{log}.log`. Does not wait for anything.
    pub fn spawn(args: &[&str], data_dir: &Path, env: &[(&str, &str)], log: &str) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join(format!("{log}.log"))).expect("log file");
        let mut command = Command::new(binary());
        command
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            // Any free port: several gateways run at once in the tests (a test may override it).
            .env("SWITCHBOARD_GRPC_ADDR", "127.0.0.1:0");
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("switchboard starts");
        Self { child, base_url: String::new() }
    }

    /// Waits until the gateway on `port` answers `/readyz`.
    pub async fn wait_until_ready(&self, port: u16) -> &Self {
        let url = format!("http://127.0.0.1:{port}/readyz");
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return self;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("switchboard did not become ready on {url}");
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// Whether the process is still running (it has not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGKILL).expect("SIGKILL sent");
        }
        let _ = self.child.wait();
    }

    /// SIGTERM: the graceful path.
    pub fn terminate(&self) {
        nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    }

    /// Waits for the process to exit by itself, up to `bound`.
    pub async fn wait_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + bound;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
