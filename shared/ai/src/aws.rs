//! The AWS engines together: building their SDK clients from one SDK
//! configuration, and what every call to Comprehend, Textract and Bedrock
//! shares (time budget, one retry on throttling, content-free errors, text
//! truncation on UTF-8 boundaries).

use crate::bedrock::{BedrockAnswerDrafter, BedrockIntentClassifier, BedrockVision, Converse};
use crate::comprehend::ComprehendClassifier;
use crate::textract::TextractAnalyzer;
use crate::{AiError, Engines};
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchboard_aws::RequestCounter;

/// What the AWS engines are configured with: model ids and time budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsAiSettings {
    /// Bedrock model for answers and customer notifications (Converse).
    pub answer_model_id: String,
    /// Bedrock model that describes photos; `None`: no image descriptions.
    pub vision_model_id: Option<String>,
    /// Bedrock model that decides intent, urgency and reservation number
    /// as strict JSON; `None`: the local rules decide (enriched by Comprehend).
    pub classifier_model_id: Option<String>,
    /// Budget of each classification call (Comprehend, Bedrock intent).
    pub classify_timeout: Duration,
    /// Budget of one answer or notification, its one retry included.
    pub answer_timeout: Duration,
    /// Budget of each attachment call (Textract, Bedrock vision).
    pub attachment_timeout: Duration,
}

/// The SDK clients of the AI engines, built alike: from one SDK
/// configuration, SDK retries off (each engine retries a throttled call
/// once itself, within its budget, and otherwise falls back), and
/// `counter`, when given, seeing every request (what an inquiry costs).
#[derive(Debug, Clone)]
pub struct AwsAiClients {
    /// Amazon Comprehend (AWS JSON 1.1).
    pub comprehend: aws_sdk_comprehend::Client,
    /// Amazon Textract (AWS JSON 1.1).
    pub textract: aws_sdk_textract::Client,
    /// Amazon Bedrock Runtime (REST-JSON Converse).
    pub bedrock: aws_sdk_bedrockruntime::Client,
}

impl AwsAiClients {
    /// The three clients from one SDK configuration.
    pub fn new(sdk: &SdkConfig, counter: Option<RequestCounter>) -> Self {
        macro_rules! client {
            ($sdk_crate:ident) => {{
                let mut builder = $sdk_crate::config::Builder::from(sdk).retry_config($sdk_crate::config::retry::RetryConfig::disabled());
                if let Some(counter) = &counter {
                    builder = builder.interceptor(counter.clone());
                }
                $sdk_crate::Client::from_conf(builder.build())
            }};
        }
        Self { comprehend: client!(aws_sdk_comprehend), textract: client!(aws_sdk_textract), bedrock: client!(aws_sdk_bedrockruntime) }
    }
}

/// The AWS engines as the services' ports: Comprehend (and optionally
/// Bedrock) classifies, Bedrock answers and writes notifications, Textract
/// and Bedrock vision read attachments.
pub fn engines(clients: &AwsAiClients, settings: &AwsAiSettings) -> Engines {
    let mut classifier = ComprehendClassifier::new(clients.comprehend.clone(), settings.classify_timeout);
    if let Some(model) = &settings.classifier_model_id {
        let converse = Converse::new(clients.bedrock.clone(), settings.classify_timeout);
        classifier = classifier.with_intent_model(BedrockIntentClassifier::new(converse, model.clone()));
    }
    let drafter =
        BedrockAnswerDrafter::new(Converse::new(clients.bedrock.clone(), settings.answer_timeout), settings.answer_model_id.clone());
    let mut analyzer = TextractAnalyzer::new(clients.textract.clone(), settings.attachment_timeout);
    if let Some(model) = &settings.vision_model_id {
        let converse = Converse::new(clients.bedrock.clone(), settings.attachment_timeout);
        analyzer = analyzer.with_vision(BedrockVision::new(converse, model.clone()));
    }
    Engines { classifier: Arc::new(classifier), drafter: Arc::new(drafter), analyzer: Arc::new(analyzer) }
}

/// Pause before the one retry of a throttled call: long enough for a
/// token bucket to refill a little, short against a 3 s budget.
pub(crate) const THROTTLE_PAUSE: Duration = Duration::from_millis(200);

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
pub(crate) async fn within_budget<T, F, Fut>(budget: Duration, mut attempt: F) -> Result<T, AiError>
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
pub(crate) fn sdk_failure<E: ProvideErrorMetadata>(service: &str, operation: &str, error: &SdkError<E, HttpResponse>) -> AiError {
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

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary (AWS limits are in bytes of UTF-8; a Hangul
/// syllable is three).
pub(crate) fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The first `max` characters of `text`.
pub(crate) fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Byte range of the characters `[start, end)` of `text` (Comprehend
/// reports offsets in characters), or `None` when out of range.
pub(crate) fn char_range_to_bytes(text: &str, start: i32, end: i32) -> Option<(usize, usize)> {
    let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
    if start >= end {
        return None;
    }
    let mut offsets = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len()));
    let begin = offsets.nth(start)?;
    let finish = offsets.nth(end - start - 1)?;
    Some((begin, finish))
}

/// A model's JSON reply without the Markdown fence models like to add
/// (```json … ```). Nothing else is forgiven: prose around the object
/// makes the reply invalid.
pub(crate) fn unfenced(reply: &str) -> &str {
    let trimmed = reply.trim();
    let Some(inner) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let inner = inner.strip_prefix("json").unwrap_or(inner);
    inner.strip_suffix("```").map_or(trimmed, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn truncation_never_splits_a_character() {
        let text = "가나다"; // 9 bytes
        assert_eq!(truncate_bytes(text, 7), "가나");
        assert_eq!(truncate_bytes(text, 6), "가나");
        assert_eq!(truncate_bytes(text, 100), text);
        assert_eq!(truncate_chars("가나다abc", 4), "가나다a");
        assert_eq!(truncate_chars("ab", 4), "ab");
    }

    #[test]
    fn character_offsets_become_byte_offsets() {
        let text = "전화 010";
        assert_eq!(char_range_to_bytes(text, 3, 6), Some((7, 10)));
        assert_eq!(char_range_to_bytes(text, 0, 2), Some((0, 6)));
        assert_eq!(char_range_to_bytes(text, 3, 7), None, "past the end");
        assert_eq!(char_range_to_bytes(text, 2, 2), None, "empty");
        assert_eq!(char_range_to_bytes(text, -1, 2), None);
    }

    #[test]
    fn a_json_fence_is_removed_but_prose_is_kept() {
        assert_eq!(unfenced("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(unfenced("  {\"a\":1} "), "{\"a\":1}");
        assert_eq!(unfenced("Sure! {\"a\":1}"), "Sure! {\"a\":1}");
    }

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
