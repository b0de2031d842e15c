//! A webhook receiver for the tests: an HTTP server on 127.0.0.1 that
//! records every post (headers, body, when) and answers each with the
//! next status of its script, then its default.

use crate::PATIENCE;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One post as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

impl Received {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    script: VecDeque<u16>,
    default: u16,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:{port}/hook`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

async fn record(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut inner = inner.lock().unwrap();
    inner.received.push(Received { headers, body: String::from_utf8_lossy(&body).into_owned(), at: Instant::now() });
    let status = inner.script.pop_front().unwrap_or(inner.default);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// A receiver answering `script` in turn, then `default` forever.
    pub async fn start(script: &[u16], default: u16) -> Self {
        let inner = Arc::new(Mutex::new(Inner { received: vec![], script: script.iter().copied().collect(), default }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().fallback(record).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, inner }
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.inner.lock().unwrap().default = status;
    }

    /// Waits until at least `n` posts came; panics after [`PATIENCE`].
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(Instant::now() < deadline, "the receiver got {} posts, not {n}", received.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
