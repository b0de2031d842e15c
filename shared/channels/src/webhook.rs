//! Webhooks over HTTP: a signed POST to a tenant's endpoint, reached only
//! at an address the [`TargetPolicy`] allows. The host is resolved once,
//! every address it resolves to is checked, and the request connects to
//! those addresses (no second lookup a rebinding DNS server could answer
//! differently); redirects are not followed and no proxy is used.

use async_trait::async_trait;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use switchboard_domain::webhook::signature::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use switchboard_domain::webhook::{AttemptResult, Refused, Signed, TargetPolicy, WebhookUrl};
use url::Host;

/// One signed message to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Where.
    pub url: WebhookUrl,
    /// The three Standard Webhooks headers.
    pub signed: Signed,
    /// The JSON body, exactly as signed.
    pub body: String,
}

/// What one post got and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// The receiver's status, or why there was none.
    pub result: AttemptResult,
    /// From the lookup to the status line.
    pub latency: Duration,
}

/// Why a target may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// It resolves to an address the policy refuses.
    #[error("resolves to {0}")]
    Refused(Refused),
    /// The host does not resolve.
    #[error("the host does not resolve: {0}")]
    Unresolved(String),
}

/// The addresses `url` reaches, each allowed by `policy`: an address
/// literal is checked as it is, a name is resolved and every address it
/// resolves to must be allowed.
pub async fn resolve(url: &WebhookUrl, policy: &TargetPolicy) -> Result<Vec<SocketAddr>, TargetError> {
    let url = url.url();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::from((ip, port))],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::from((ip, port))],
        Some(Host::Domain(name)) => {
            tokio::net::lookup_host((name, port)).await.map_err(|e| TargetError::Unresolved(e.to_string()))?.collect()
        }
        None => return Err(TargetError::Unresolved("the URL names no host".into())),
    };
    if addresses.is_empty() {
        return Err(TargetError::Unresolved("no address".into()));
    }
    for address in &addresses {
        policy.check(address.ip()).map_err(TargetError::Refused)?;
    }
    Ok(addresses)
}

/// Posts webhook messages.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Posts `request` once; never fails: a refusal, a timeout or a
    /// connection error is the attempt's result.
    async fn post(&self, request: &WebhookRequest) -> WebhookResponse;
}

/// The HTTP sender.
#[derive(Debug, Clone)]
pub struct HttpWebhooks {
    policy: TargetPolicy,
    timeout: Duration,
}

impl HttpWebhooks {
    /// Posts only where `policy` allows, giving each post `timeout`.
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Self {
        Self { policy, timeout }
    }

    async fn send(&self, request: &WebhookRequest) -> Result<u16, String> {
        let addresses = resolve(&request.url, &self.policy).await.map_err(|e| e.to_string())?;
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent("Switchboard-Webhooks/1");
        if let Some(Host::Domain(name)) = request.url.url().host() {
            // Connect to the checked addresses only: no second DNS lookup.
            client = client.resolve_to_addrs(name, &addresses);
        }
        let client = client.build().map_err(|e| e.to_string())?;
        let response = client
            .post(request.url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ID_HEADER, &request.signed.id)
            .header(TIMESTAMP_HEADER, &request.signed.timestamp)
            .header(SIGNATURE_HEADER, &request.signed.signature)
            .body(request.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }
}

/// A failed post, said without the URL (which may carry a tenant's token).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.without_url().to_string()
    }
}

#[async_trait]
impl WebhookSender for HttpWebhooks {
    async fn post(&self, request: &WebhookRequest) -> WebhookResponse {
        let started = Instant::now();
        let result = match self.send(request).await {
            Ok(status) => AttemptResult::Status(status),
            Err(error) => AttemptResult::Error(error),
        };
        WebhookResponse { result, latency: started.elapsed() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> WebhookUrl {
        WebhookUrl::parse(s, true).unwrap()
    }

    #[tokio::test]
    async fn literal_and_resolved_internal_addresses_are_refused() {
        let policy = TargetPolicy::default();
        for target in [
            "http://10.0.0.1/",
            "http://127.0.0.1:9/",
            "http://169.254.169.254/latest",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/",
        ] {
            assert!(matches!(resolve(&url(target), &policy).await, Err(TargetError::Refused(_))), "{target}");
        }
        let allowed = TargetPolicy::parse("127.0.0.0/8").unwrap();
        assert_eq!(resolve(&url("http://127.0.0.1:9/"), &allowed).await.unwrap(), [SocketAddr::from(([127, 0, 0, 1], 9))]);
    }

    #[tokio::test]
    async fn a_refused_target_is_an_attempt_that_failed_without_a_request() {
        let sender = HttpWebhooks::new(TargetPolicy::default(), Duration::from_secs(1));
        let signed = Signed { id: "msg_1".into(), timestamp: "1".into(), signature: "v1,x".into() };
        let response = sender.post(&WebhookRequest { url: url("http://127.0.0.1:9/"), signed, body: "{}".into() }).await;
        assert_eq!(response.result, AttemptResult::Error("resolves to 127.0.0.1 is a loopback address".into()));
    }
}
