//! `POST /chat`: the customer chat submit of the chat widget that came
//! before this API, kept in that widget's shape (camelCase fields,
//! `requestId`, status `Created`) on top of the same intake as
//! `POST /api/inquiries` (channel `chat`, tenant key).

use crate::inquiries::idempotency_header;
use crate::ops;
use crate::principal::Principal;
use crate::problem::{Problem, from_json_rejection};
use crate::state::Gateway;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use switchboard_domain::{Channel, SubmitInquiry};
use utoipa::ToSchema;

/// The chat widget's message.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatRequest {
    /// The business's own customer id; accepted for compatibility, not stored.
    #[serde(default)]
    #[allow(dead_code)]
    pub customer_id: Option<String>,
    /// Required unless `customerEmail` is given.
    #[serde(default)]
    #[schema(pattern = r"^(\+[1-9][0-9]{7,14}|01[0-9]-?[0-9]{3,4}-?[0-9]{4})?$")]
    pub customer_phone: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = r"^([^@\s\u0000-\u001f\u007f-\u009f]+@[^@\s.\u0000-\u001f\u007f-\u009f]([^@\s\u0000-\u001f\u007f-\u009f]*\.)+[^@\s.\u0000-\u001f\u007f-\u009f]+)?$"
    )]
    pub customer_email: Option<String>,
    /// Detected in the message when absent.
    #[serde(default)]
    #[schema(pattern = r"^([A-Za-z]{2,4}-?[0-9]{6,12})?$")]
    pub reservation_number: Option<String>,
    /// The customer's message (1–10,000 characters, not blank).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub message: Option<String>,
}

/// The chat widget's answer, plus the inquiry id and status URL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatResponse {
    /// The inquiry id.
    pub request_id: String,
    /// Always `Created`.
    pub status: String,
    /// "요청이 접수되었습니다" (the request was received).
    pub message: String,
    #[serde(rename = "inquiry_id")]
    pub inquiry_id: String,
    #[serde(rename = "status_url")]
    pub status_url: String,
}

/// Submits a customer's chat message as an inquiry (channel `chat`).
#[utoipa::path(
    post, path = "/chat", tag = "inquiries",
    request_body = ChatRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"\S", description = "Makes the call safe to retry (1–255 visible characters)")),
    responses(
        (status = 202, description = "Accepted", body = ChatResponse),
        (status = 400, description = "A field is invalid (named in camelCase)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down, or overloaded (shed; retry after `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn chat(
    State(gateway): State<Gateway>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ChatResponse>), Problem> {
    let Json(chat) = body.map_err(from_json_rejection)?;
    let key = idempotency_header(&headers)?;
    let request = SubmitInquiry {
        content: chat.message,
        customer_phone: chat.customer_phone,
        customer_email: chat.customer_email,
        reservation_number: chat.reservation_number,
        channel: Some("chat".into()),
        ..Default::default()
    };
    let accepted = ops::submit(&gateway, &principal, request, key.as_deref(), Channel::Chat).await.map_err(|e| {
        let mut problem = Problem::from(e);
        // The client sent the widget's names: report the fields by them.
        for error in &mut problem.errors {
            error.field = match error.field.as_str() {
                "content" => "message".into(),
                "customer_phone" => "customerPhone".into(),
                "customer_email" => "customerEmail".into(),
                "reservation_number" => "reservationNumber".into(),
                other => other.to_owned(),
            };
        }
        problem
    })?;
    let id = accepted.inquiry.id.to_string();
    Ok((
        StatusCode::ACCEPTED,
        Json(ChatResponse {
            status_url: format!("/api/inquiries/{id}/status"),
            request_id: id.clone(),
            inquiry_id: id,
            status: "Created".into(),
            message: "요청이 접수되었습니다".into(),
        }),
    ))
}
