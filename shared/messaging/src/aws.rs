//! What the SQS and SNS adapters share: one reading of SDK errors, the
//! attribute limits both services enforce, and whole-second rounding.

use crate::{Attributes, MessagingError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

/// Most message attributes SQS accepts on one message (SNS raw delivery to
/// SQS carries them over one for one, so the same limit applies there).
pub(crate) const MAX_ATTRIBUTES: usize = 10;

/// Codes that mean "slow down or come back later": the call may succeed
/// if repeated, so they map to [`MessagingError::Unavailable`].
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "KMS.ThrottlingException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
    "RequestTimeoutException",
    // A queue of the same name was deleted less than a minute ago.
    "QueueDeletedRecently",
];

/// Codes of a refused identity: not the request's fault, and not fixed by
/// changing it, so they count as the backend being unavailable to us.
const AUTH_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "ExpiredToken",
    "InvalidClientTokenId",
    "InvalidSecurity",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
];

/// SQS answers in JSON but keeps its old query-protocol codes
/// (`AWS.SimpleQueueService.NonExistentQueue`); strip the namespace so one
/// spelling matches both.
pub(crate) fn short_code(code: &str) -> &str {
    code.strip_prefix("AWS.SimpleQueueService.").unwrap_or(code)
}

/// The error code of a service error, if the service sent one.
pub(crate) fn code_of<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    err.as_service_error().and_then(ProvideErrorMetadata::code).map(short_code)
}

/// Whether the error says the queue does not exist.
pub(crate) fn is_missing_queue<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(code_of(err), Some("NonExistentQueue" | "QueueDoesNotExist"))
}

/// Whether the error says a receipt handle no longer names a received
/// message: malformed, from an earlier receive, or the message is gone.
/// SQS reports the last case as `InvalidParameterValue` naming the
/// receipt handle ("Message does not exist or is not available for
/// visibility timeout change"), so the message text is consulted too.
pub(crate) fn is_stale_receipt<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let Some(service) = err.as_service_error() else { return false };
    match service.code().map(short_code) {
        Some("ReceiptHandleIsInvalid" | "MessageNotInflight") => true,
        Some("InvalidParameterValue") => {
            service.message().is_some_and(|m| m.to_ascii_lowercase().replace(' ', "").contains("receipthandle"))
        }
        _ => false,
    }
}

/// Maps an SDK error to the port's error: throttling, 5xx, timeouts and
/// connection failures are [`MessagingError::Unavailable`] (worth retrying),
/// a missing queue is [`MessagingError::UnknownQueue`], and whatever else
/// the service rejected is [`MessagingError::Invalid`].
pub(crate) fn classify<E>(operation: &str, resource: &str, err: SdkError<E, HttpResponse>) -> MessagingError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_missing_queue(&err) {
        return MessagingError::UnknownQueue(resource.to_owned());
    }
    let detail = format!("{operation} on {resource}: {}", DisplayErrorContext(&err));
    match &err {
        // The SDK could not even build the request: the input is at fault.
        SdkError::ConstructionFailure(_) => MessagingError::Invalid(detail),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().map(short_code).unwrap_or_default();
            let transient = TRANSIENT_CODES.contains(&code) || status >= 500 || status == 429;
            let refused = AUTH_CODES.contains(&code) || status == 401 || status == 403;
            if transient || refused { MessagingError::Unavailable(detail) } else { MessagingError::Invalid(detail) }
        }
        // Timeouts, dispatch failures, unreadable responses, and whatever
        // variant a later SDK adds: the backend did not answer usefully.
        _ => MessagingError::Unavailable(detail),
    }
}

/// Checks attributes against the limits SQS and SNS share: at most
/// [`MAX_ATTRIBUTES`], no empty names or values (both services reject an
/// empty String value).
pub(crate) fn check_attributes(attributes: &Attributes) -> Result<(), MessagingError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(MessagingError::Invalid(format!("{} message attributes; at most {MAX_ATTRIBUTES} are allowed", attributes.len())));
    }
    if let Some((name, _)) = attributes.iter().find(|(k, v)| k.is_empty() || v.is_empty()) {
        return Err(MessagingError::Invalid(format!("message attribute {name:?} has an empty name or value")));
    }
    Ok(())
}

/// `duration` in whole seconds, rounded up: SQS counts in seconds, and
/// rounding down would make a delay or visibility timeout shorter than asked.
pub(crate) fn whole_seconds(duration: Duration) -> i32 {
    let seconds = duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0));
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

/// Replaces characters SQS refuses in bodies and attribute values (it
/// accepts only XML's character set) so text we compose ourselves, such as a
/// failure reason quoting a parser error, cannot make a send fail.
pub(crate) fn sqs_safe_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// A service error as the SDK would surface it.
    fn service_error(status: u16, code: &str, message: &str) -> SdkError<ErrorMetadata, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(meta, raw)
    }

    #[test]
    fn throttling_and_server_errors_are_unavailable() {
        for (status, code) in [(400, "RequestThrottled"), (400, "ThrottlingException"), (500, "InternalError"), (503, "Whatever")] {
            let err = classify("SendMessage", "q", service_error(status, code, "slow down"));
            assert!(matches!(err, MessagingError::Unavailable(_)), "{status} {code}: {err:?}");
        }
    }

    #[test]
    fn validation_errors_are_invalid() {
        let err = classify("SendMessage", "q", service_error(400, "InvalidParameterValue", "DelaySeconds is invalid"));
        assert!(matches!(err, MessagingError::Invalid(_)), "{err:?}");
    }

    #[test]
    fn refused_credentials_are_unavailable_not_invalid() {
        let err = classify("SendMessage", "q", service_error(403, "AccessDenied", "no"));
        assert!(matches!(err, MessagingError::Unavailable(_)), "{err:?}");
    }

    #[test]
    fn a_missing_queue_is_reported_by_name_in_either_code_spelling() {
        for code in ["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"] {
            let err = classify("GetQueueUrl", "orders", service_error(400, code, "gone"));
            assert!(matches!(&err, MessagingError::UnknownQueue(q) if q == "orders"), "{code}: {err:?}");
        }
    }

    #[test]
    fn receipt_errors_are_recognised_as_stale_receipts() {
        assert!(is_stale_receipt(&service_error(400, "ReceiptHandleIsInvalid", "bad")));
        assert!(is_stale_receipt(&service_error(400, "AWS.SimpleQueueService.MessageNotInflight", "not in flight")));
        assert!(is_stale_receipt(&service_error(
            400,
            "InvalidParameterValue",
            "Value abc for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
        )));
        assert!(!is_stale_receipt(&service_error(400, "InvalidParameterValue", "VisibilityTimeout is invalid")));
    }

    #[test]
    fn durations_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 0);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn attribute_limits_match_sqs() {
        let eleven: Attributes = (0..11).map(|i| (format!("a{i}"), "v".to_owned())).collect();
        assert!(matches!(check_attributes(&eleven), Err(MessagingError::Invalid(_))));
        let empty: Attributes = [("a".to_owned(), String::new())].into();
        assert!(matches!(check_attributes(&empty), Err(MessagingError::Invalid(_))));
        let ten: Attributes = (0..10).map(|i| (format!("a{i}"), "v".to_owned())).collect();
        assert!(check_attributes(&ten).is_ok());
    }

    #[test]
    fn text_sqs_refuses_is_replaced() {
        assert_eq!(sqs_safe_text("bad\u{0}byte\ttab"), "bad\u{FFFD}byte\ttab");
    }
}
