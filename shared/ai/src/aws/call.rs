//! What every call to Comprehend, Textract and Bedrock shares: its time
//! budget with one retry on throttling, and errors that name the call but
//! never carry its content.

use crate::AiError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::time::Duration;

/// Pause before the one retry of a throttled call: long enough for a
/// token bucket to refill a little, short against a 3 s budget.
const THROTTLE_PAUSE: Duration = Duration::from_millis(200);

/// Error codes AWS services use for "slow down" (Comprehend answers HTTP
/// 400 `TooManyRequestsException`, Bedrock 429 `ThrottlingException`,
/// Textract 400 `ProvisionedThroughputExceededException`).
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

/// Runs `attempt` within `budget`; a throttled attempt is retried once,
/// after [`THROTTLE_PAUSE`], if the budget allows. Anything else (a 5xx,
/// a validation error, a malformed answer) is returned at once: the
/// caller's fallback is better than a second wait.
pub(super) async fn within_budget<T, F, Fut>(budget: Duration, mut attempt: F) -> Result<T, AiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AiError>>,
{
    let deadline = tokio::time::Instant::now() + budget;
    match tokio::time::timeout_at(deadline, attempt()).await {
        Err(_) => Err(AiError::Timeout(budget)),
        Ok(Err(AiError::Throttled)) => {
            let retry = async {
                tokio::time::sleep(THROTTLE_PAUSE).await;
                attempt().await
            };
            tokio::time::timeout_at(deadline, retry).await.unwrap_or(Err(AiError::Timeout(budget)))
        }
        Ok(done) => done,
    }
}

/// An SDK error as an [`AiError`], naming the service, operation, error
/// code and HTTP status only: AWS messages may echo the input (a
/// validation message quoting the text), so they are never kept.
pub(super) fn sdk_failure<E: ProvideErrorMetadata>(service: &str, operation: &str, error: &SdkError<E, HttpResponse>) -> AiError {
    match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = context.err().code().unwrap_or("unknown error");
            if status == 429 || THROTTLING_CODES.contains(&code) {
                AiError::Throttled
            } else {
                AiError::Unavailable(format!("{service} {operation}: {code} (HTTP {status})"))
            }
        }
        SdkError::TimeoutError(_) => AiError::Unavailable(format!("{service} {operation}: the request timed out")),
        SdkError::DispatchFailure(_) => AiError::Unavailable(format!("{service} {operation}: the endpoint cannot be reached")),
        SdkError::ResponseError(_) => AiError::InvalidOutput(format!("{service} {operation}: the response cannot be read")),
        // Missing credentials or region surface here, before anything is sent.
        SdkError::ConstructionFailure(_) => {
            AiError::Unavailable(format!("{service} {operation}: the request cannot be built or signed (credentials? region?)"))
        }
        _ => AiError::Unavailable(format!("{service} {operation}: the call failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_throttled_call_is_retried_once_and_no_more() {
        let calls = AtomicU32::new(0);
        let result: Result<(), AiError> = within_budget(Duration::from_secs(30), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(AiError::Throttled) }
        })
        .await;
        assert!(matches!(result, Err(AiError::Throttled)));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn other_failures_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), AiError> = within_budget(Duration::from_secs(30), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(AiError::Unavailable("HTTP 500".into())) }
        })
        .await;
        assert!(matches!(result, Err(AiError::Unavailable(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_call_past_its_budget_is_a_timeout() {
        let result: Result<(), AiError> = within_budget(Duration::from_millis(50), || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        })
        .await;
        assert!(matches!(result, Err(AiError::Timeout(_))));
    }
}
