//! One way to build the AWS SDK configuration, used by the composition
//! root and the tests alike.
//!
//! Region, credentials and endpoint come from the standard sources
//! (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`…, `AWS_ENDPOINT_URL`),
//! never from code. Retries are adaptive (they back off on throttling) and
//! every call has an attempt timeout, because SQS long polls are known to
//! hang past `WaitTimeSeconds` without one.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
pub use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
mod client_spans;

/// The service and operation names of the call `cfg` belongs to (e.g.
/// `DynamoDB`, `PutItem`), as the SDK records them; `unknown` if absent.
fn operation(cfg: &aws_smithy_types::config_bag::ConfigBag) -> (String, String) {
    cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
        .map(|m| (m.service().to_owned(), m.name().to_owned()))
        .unwrap_or_else(|| ("unknown".into(), "unknown".into()))
}
mod request_counter;

pub use client_spans::ClientSpans;
pub use request_counter::RequestCounter;
use std::time::Duration;

/// Longest SQS long poll (20 s) plus slack: no single attempt may take longer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(25);

/// How the SDK should behave.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Overrides `AWS_ENDPOINT_URL` (an emulator in tests).
    pub endpoint_url: Option<String>,
    /// Attempts per call, first included (tests keep this low to fail fast).
    pub max_attempts: u32,
    /// Overrides `AWS_REGION`.
    pub region: Option<String>,
    /// Overrides the credential chain (an emulator's dummy keys in tests).
    pub credentials: Option<Credentials>,
}

impl Default for AwsOptions {
    fn default() -> Self {
        Self { endpoint_url: None, max_attempts: 5, region: None, credentials: None }
    }
}

/// Loads the SDK configuration from the environment with Switchboard's
/// HTTP client, retry and timeout settings.
pub async fn sdk_config(options: &AwsOptions) -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(RetryConfig::adaptive().with_max_attempts(options.max_attempts))
        .timeout_config(
            TimeoutConfig::builder().connect_timeout(Duration::from_secs(3)).operation_attempt_timeout(ATTEMPT_TIMEOUT).build(),
        );
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(credentials) = &options.credentials {
        loader = loader.credentials_provider(credentials.clone());
    }
    loader.load().await
}
