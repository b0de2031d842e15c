//! One error type for every API operation, mapped to problem+json for REST
//! (`problem.rs`) and to gRPC status codes (`grpc/status.rs`), so both
//! protocols fail the same way for the same reason.

use axum::http::StatusCode;
use std::time::Duration;
use switchboard_domain::{InquiryStatus, ValidationErrors};
use switchboard_partner_dispatcher::ConfirmError;
use switchboard_store::StoreError;

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 400 / INVALID_ARGUMENT: the fields at fault, each with a reason.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// 401 / UNAUTHENTICATED: no key, an unknown key, a bad or expired link.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403 / PERMISSION_DENIED: the key's role may not make this call.
    #[error("{0}")]
    PermissionDenied(String),
    /// 404 / NOT_FOUND: unknown, or another tenant's (indistinguishable on purpose).
    #[error("{0}")]
    NotFound(String),
    /// 409 / FAILED_PRECONDITION: the inquiry's status does not allow the change.
    #[error("{detail}")]
    FailedPrecondition { detail: String, current: Option<InquiryStatus> },
    /// 409 / ALREADY_EXISTS: a single-use thing (a partner link) was used.
    #[error("{0}")]
    AlreadyExists(String),
    /// 413 / RESOURCE_EXHAUSTED: the request is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// 429 / RESOURCE_EXHAUSTED with a retry delay.
    #[error("{detail}")]
    RateLimited { detail: String, retry_after: Duration },
    /// 503 / DEADLINE_EXCEEDED: the request's deadline passed first.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// 503 / UNAVAILABLE: a dependency (store, queues) is down; worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// 503 / UNAVAILABLE: the pipeline's backlog is past its bound, so a new
    /// submission is shed (`admission.rs`); retry after the advised wait.
    #[error("{detail}")]
    Overloaded { detail: String, retry_after: Duration },
}

impl From<crate::rate_limits::Limited> for ApiError {
    fn from(limited: crate::rate_limits::Limited) -> Self {
        Self::RateLimited { detail: format!("too many requests from {}", limited.what), retry_after: limited.wait }
    }
}

impl ApiError {
    /// One wrong field.
    pub fn field(field: &str, reason: &str) -> Self {
        Self::Invalid(ValidationErrors::single(field, reason))
    }

    /// The HTTP status of this error.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::FailedPrecondition { .. } | Self::AlreadyExists(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DeadlineExceeded(_) | Self::Unavailable(_) | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable machine-readable reason (gRPC `ErrorInfo.reason`, problem `type`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "INVALID_REQUEST",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::PermissionDenied(_) => "PERMISSION_DENIED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::FailedPrecondition { .. } => "INVALID_TRANSITION",
            Self::AlreadyExists(_) => "ALREADY_USED",
            Self::TooLarge(_) => "TOO_LARGE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::DeadlineExceeded(_) => "DEADLINE_EXCEEDED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Overloaded { .. } => "OVERLOADED",
        }
    }

    /// How long a client should wait before retrying, when retrying helps.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Overloaded { retry_after, .. } => Some(*retry_after),
            Self::Unavailable(_) | Self::DeadlineExceeded(_) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidPageToken => Self::field("page_token", "is not a token this API issued"),
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// A partner confirmation that cannot go on: a bad or expired link is
/// UNAUTHENTICATED (the token is the partner's credential), a link id no
/// link was issued under NOT_FOUND (saying nothing else), an answered one
/// ALREADY_EXISTS, one whose inquiry went to a person or failed
/// FAILED_PRECONDITION, a bad answer names the `answer` field.
impl From<ConfirmError> for ApiError {
    fn from(e: ConfirmError) -> Self {
        match e {
            ConfirmError::Invalid => Self::Unauthenticated("the link is not valid".into()),
            ConfirmError::Unknown => Self::NotFound("the link is not valid".into()),
            ConfirmError::Expired => Self::Unauthenticated("the link has expired".into()),
            ConfirmError::AlreadyAnswered { outcome } => {
                Self::AlreadyExists(format!("this request was already answered ({})", outcome.map(|o| o.as_str()).unwrap_or("answered")))
            }
            ConfirmError::Closed { status } => Self::FailedPrecondition {
                detail: format!("this request is closed: the inquiry was {status}, so the partner's answer is no longer taken"),
                current: Some(status),
            },
            ConfirmError::BadAnswer(why) => Self::field("answer", &why),
            ConfirmError::Unavailable(why) => Self::Unavailable(why),
        }
    }
}

/// Whole seconds to wait, rounded up and never zero (`Retry-After`).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::PartnerOutcome;

    #[test]
    fn partner_confirmation_errors_keep_their_status_on_both_protocols() {
        let cases = [
            (ConfirmError::Invalid, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            (ConfirmError::Unknown, StatusCode::NOT_FOUND, "NOT_FOUND"),
            (ConfirmError::Expired, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            (ConfirmError::AlreadyAnswered { outcome: Some(PartnerOutcome::Accepted) }, StatusCode::CONFLICT, "ALREADY_USED"),
            (ConfirmError::Closed { status: InquiryStatus::Escalated }, StatusCode::CONFLICT, "INVALID_TRANSITION"),
            (ConfirmError::BadAnswer("no".into()), StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
            (ConfirmError::Unavailable("down".into()), StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
        ];
        for (confirm, status, reason) in cases {
            let e = ApiError::from(confirm);
            assert_eq!((e.http_status(), e.reason()), (status, reason), "{e:?}");
        }
        let answered = ApiError::from(ConfirmError::AlreadyAnswered { outcome: Some(PartnerOutcome::Accepted) });
        assert_eq!(answered.to_string(), "this request was already answered (accepted)");
        assert_eq!(ApiError::from(ConfirmError::BadAnswer("no".into())), ApiError::field("answer", "no"));
    }
}
