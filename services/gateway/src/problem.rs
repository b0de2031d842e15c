//! RFC 9457 problem details: every error the API returns.

use crate::error::{ApiError, retry_after_secs};
use crate::limits::{MAX_BODY_BYTES, MAX_PARTNER_BODY_BYTES, MAX_SMALL_BODY_BYTES};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_domain::{FieldError, ValidationErrors};

/// An error response (`application/problem+json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<crate::schemas::FieldErrorDoc>)]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: vec![],
            retry_after: None,
        }
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        let mut p = Self::new(StatusCode::BAD_REQUEST, "invalid-request", "The request is invalid", errors.to_string());
        p.errors = errors.0;
        p
    }

    pub fn field(field: &str, reason: &str) -> Self {
        Self::invalid(ValidationErrors::single(field, reason))
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Not authenticated", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "A dependency is unavailable", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let self_retry_after = self.retry_after;
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self_retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        let retry_after = e.retry_after().map(retry_after_secs);
        let status = e.http_status();
        let mut problem = match e {
            ApiError::Invalid(errors) => Self::invalid(errors),
            ApiError::Unauthenticated(d) => Self::unauthorized(d),
            ApiError::PermissionDenied(d) => Self::new(status, "forbidden", "Not allowed with this key", d),
            ApiError::NotFound(d) => Self::not_found(d),
            ApiError::FailedPrecondition { detail, .. } => {
                Self::new(status, "invalid-transition", "The inquiry's status does not allow this", detail)
            }
            ApiError::AlreadyExists(d) => Self::conflict(d),
            ApiError::TooLarge(d) => Self::new(status, "too-large", "The request is too large", d),
            ApiError::RateLimited { detail, .. } => Self::new(status, "rate-limited", "Too many requests", detail),
            ApiError::DeadlineExceeded(d) => Self::new(status, "timeout", "The request took too long", d),
            ApiError::Unavailable(cause) => Self::unavailable(hidden_cause(&cause)),
            ApiError::Overloaded { detail, .. } => Self::new(status, "overloaded", "Switchboard is overloaded", detail),
        };
        problem.retry_after = retry_after;
        problem
    }
}

/// What any caller is told of a dependency's failure: the cause (store and
/// AWS error text, host names) goes to the log only.
pub(crate) fn hidden_cause(cause: &str) -> &'static str {
    tracing::warn!(cause, "a dependency is unavailable");
    UNAVAILABLE_DETAIL
}

/// The detail of every 503 for a failed dependency.
pub(crate) const UNAVAILABLE_DETAIL: &str = "a dependency of Switchboard is unavailable; retry shortly";

/// A JSON body that could not be read, as a problem naming why.
pub(crate) fn from_json_rejection(rejection: axum::extract::rejection::JsonRejection) -> Problem {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(
            status,
            "too-large",
            "The request body is too large",
            format!(
                "the body is larger than this endpoint accepts: {} bytes for inquiries (attachments included), {} for partner answers, {} for other calls",
                MAX_BODY_BYTES, MAX_PARTNER_BODY_BYTES, MAX_SMALL_BODY_BYTES
            ),
        );
    }
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return Problem::new(status, "unsupported-media-type", "Send JSON", "set Content-Type: application/json");
    }
    Problem::new(StatusCode::BAD_REQUEST, "invalid-json", "The body is not valid JSON for this request", rejection.body_text())
}

pub(crate) async fn not_found() -> Problem {
    Problem::not_found("no such route")
}

/// A known path with a method it does not serve.
pub(crate) async fn method_not_allowed() -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", "this path does not serve this method")
}
