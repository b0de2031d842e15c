//! The OpenAPI 3.1 document at `/openapi.json`, generated from the handlers'
//! annotations and the response types (utoipa), so it cannot drift from
//! the code. Routes owned elsewhere (the partner endpoints, health) are
//! described here by documentation-only functions.

use crate::Problem;
use crate::chat::{ChatRequest, ChatResponse};
use crate::inquiries::{EscalateRequest, ResolveRequest};
use crate::ops::ReservationInput;
use crate::rest::ReservationView;
use crate::views::{InquiryView, ListResponse, MaskedContact, StatusView, SubmitResponse, TimelineItem, WatchedEvent};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// An inquiry status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum InquiryStatusDoc {
    Received,
    Analyzing,
    Classified,
    AwaitingPartner,
    Answered,
    Escalated,
    Resolved,
    Failed,
}

/// One field that failed validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    /// e.g. `customer_phone`, `attachments[0].content_base64`.
    pub field: String,
    pub reason: String,
}

/// A file sent with an inquiry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentDoc {
    pub filename: Option<String>,
    /// JPEG, PNG or PDF, at most 5 MB before encoding.
    pub content_base64: String,
}

/// Body of `POST /api/inquiries`. Only `content` and one of
/// `customer_phone`/`customer_email` are required.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitInquiryDoc {
    /// At most 200 characters.
    pub title: Option<String>,
    /// 1–10,000 characters.
    pub content: String,
    /// E.164 (`+821012345678`) or Korean domestic (`010-1234-5678`).
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    /// e.g. `HT-20481123`; detected in the content when absent.
    pub reservation_number: Option<String>,
    /// `web`, `api`, `chat` or `event`; `api` when absent.
    pub channel: Option<String>,
    /// `ko` or `en`; detected when absent.
    pub language: Option<String>,
    /// At most 5.
    pub attachments: Option<Vec<AttachmentDoc>>,
}

/// Body of `POST /respond`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RespondDoc {
    /// The token from the partner's link.
    pub token: String,
    /// `accept`, `reject` or `alternative`.
    pub answer: String,
    /// For `reject`: why (optional).
    pub reason: Option<String>,
    /// For `alternative`: the proposed time (required).
    pub proposed_time: Option<String>,
}

/// What the partner sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationDoc {
    pub inquiry_id: String,
    pub partner_name: String,
    pub language: String,
    pub intent: Option<String>,
    pub title: Option<String>,
    pub question: String,
    pub reservation_number: Option<String>,
    pub reservation_date: Option<String>,
    pub service_type: Option<String>,
    pub deadline_at: String,
    /// `pending`, or the recorded outcome.
    pub status: String,
}

/// The partner confirmation request behind a link (no API key: the token is the credential).
#[utoipa::path(
    get, path = "/confirm/{token}", tag = "partners",
    params(("token" = String, Path, description = "The token from the partner's SMS link")),
    responses(
        (status = 200, description = "The request", body = ConfirmationDoc),
        (status = 401, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited per address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn confirm_doc() {}

/// The partner's answer, accepted once.
#[utoipa::path(
    post, path = "/respond", tag = "partners",
    request_body = RespondDoc,
    responses(
        (status = 200, description = "Recorded", body = ConfirmationDoc),
        (status = 400, description = "Bad answer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited per address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn respond_doc() {}

/// The partner's web page (HTML form posting back to the same path).
#[utoipa::path(
    get, path = "/r/{token}", tag = "partners",
    params(("token" = String, Path, description = "The token from the partner's SMS link")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 401, description = "Invalid or expired link", content_type = "text/html"))
)]
#[allow(dead_code)]
fn page_doc() {}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive")))]
#[allow(dead_code)]
fn healthz_doc() {}

/// Readiness: the store and queues answer.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Ready"), (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"))
)]
#[allow(dead_code)]
fn readyz_doc() {}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "health", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

struct ApiKeyHeader;

impl Modify for ApiKeyHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "A tenant key (its own inquiries) or an operator key (every tenant's, escalation queue, resolve, reservations)",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard",
        description = "Customer-inquiry automation: submit inquiries, follow their status, estimated time and timeline, list, escalate and resolve them; the partner confirmation endpoints. Errors are RFC 9457 problem+json. The same API is served over gRPC (package switchboard.v1, reflection enabled).",
        license(name = "Apache-2.0"),
    ),
    paths(
        crate::inquiries::submit,
        crate::inquiries::list,
        crate::inquiries::get,
        crate::inquiries::status,
        crate::inquiries::events,
        crate::inquiries::escalate,
        crate::inquiries::resolve,
        crate::chat::chat,
        crate::rest::put_reservation,
        confirm_doc,
        respond_doc,
        page_doc,
        healthz_doc,
        readyz_doc,
        serve,
    ),
    components(schemas(
        Problem, FieldErrorDoc, InquiryStatusDoc, SubmitInquiryDoc, AttachmentDoc, SubmitResponse, StatusView, InquiryView,
        MaskedContact, TimelineItem, WatchedEvent, ListResponse, EscalateRequest, ResolveRequest, ChatRequest, ChatResponse,
        ReservationInput, ReservationView, RespondDoc, ConfirmationDoc,
    )),
    modifiers(&ApiKeyHeader),
    tags(
        (name = "inquiries", description = "Tenant API clients (operators may read and escalate too)"),
        (name = "operators", description = "Operator key only"),
        (name = "partners", description = "The partner's confirmation, by the token in the SMS link"),
        (name = "health", description = "Liveness, readiness, this document"),
    )
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
