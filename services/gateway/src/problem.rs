//! RFC 9457 problem details: every error the API returns.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_domain::{FieldError, ValidationErrors};

/// An error response (`application/problem+json`).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self { kind: format!("/problems/{kind}"), title: title.into(), status: status.as_u16(), detail: detail.into(), errors: vec![] }
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
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A JSON body that could not be read, as a problem naming why.
pub fn from_json_rejection(rejection: axum::extract::rejection::JsonRejection) -> Problem {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(status, "too-large", "The request body is too large", format!("the limit is {} bytes", crate::MAX_BODY_BYTES));
    }
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return Problem::new(status, "unsupported-media-type", "Send JSON", "set Content-Type: application/json");
    }
    Problem::new(StatusCode::BAD_REQUEST, "invalid-json", "The body is not valid JSON for this request", rejection.body_text())
}

pub async fn not_found() -> Problem {
    Problem::not_found("no such route")
}
