//! `/api/inquiries`: submit, read, status, list, escalate, resolve, and the
//! server-sent timeline. Each handler authenticates, parses, calls
//! [`crate::ops`] and renders; errors are problem+json.

use crate::conversation::{self, REST_FIELDS};
use crate::error::ApiError;
use crate::feedback::FeedbackInput;
use crate::limits::MAX_SMALL_BODY_BYTES;
use crate::listing::{self, ListParams};
use crate::message_views::{AddMessageResponse, MessageView, MessagesPage};
use crate::ops;
use crate::principal::Principal;
use crate::problem::{Problem, from_json_rejection};
use crate::state::Gateway;
use crate::suggestions;
use crate::views::{InquiryView, ListResponse, StatusView, SubmitResponse, WatchedEvent};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use switchboard_domain::{Channel, SubmitFollowUp, SubmitInquiry, Suggestions};
use utoipa::ToSchema;

/// The `Idempotency-Key` header, checked.
pub(crate) fn idempotency_header(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let raw = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| Problem::field("Idempotency-Key", "must be visible ASCII"))?),
    };
    Ok(ops::idempotency_key(raw, "Idempotency-Key")?)
}

/// Takes in a customer's inquiry (tenant key). The pipeline starts at once.
#[utoipa::path(
    post, path = "/api/inquiries", tag = "inquiries",
    request_body = crate::schemas::SubmitInquiryDoc,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"\S", description = "Makes the call safe to retry: the same key returns the first inquiry (1–255 visible characters)")),
    responses(
        (status = 202, description = "Accepted", body = SubmitResponse),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An operator key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 40 MB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is down, or overloaded (shed; retry after `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn submit(
    State(gateway): State<Gateway>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Json<SubmitInquiry>, JsonRejection>,
) -> Result<(StatusCode, Json<SubmitResponse>), Problem> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let key = idempotency_header(&headers)?;
    let accepted = ops::submit(&gateway, &principal, request, key.as_deref(), Channel::Api).await?;
    let id = accepted.inquiry.id;
    Ok((
        StatusCode::ACCEPTED,
        Json(SubmitResponse {
            inquiry_id: id.to_string(),
            status: accepted.inquiry.status,
            status_url: format!("/api/inquiries/{id}/status"),
            duplicate: accepted.duplicate,
        }),
    ))
}

/// Everything known about one inquiry, with its timeline.
#[utoipa::path(
    get, path = "/api/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)")),
    responses(
        (status = 200, description = "The inquiry", body = InquiryView),
        (status = 400, description = "Not an inquiry id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn get(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<InquiryView>, Problem> {
    let id = path_id(id)?;
    let (inquiry, timeline) = ops::detail(&gateway, &principal, &id, "id").await?;
    let summary = conversation::summary(&gateway, &inquiry).await?;
    Ok(Json(InquiryView::detail(inquiry, timeline, summary.message_count, summary.trend)))
}

/// Status, progress and the estimated time to answer.
#[utoipa::path(
    get, path = "/api/inquiries/{id}/status", tag = "inquiries",
    params(("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)")),
    responses(
        (status = 200, description = "Where it stands", body = StatusView),
        (status = 400, description = "Not an inquiry id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn status(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<StatusView>, Problem> {
    let id = path_id(id)?;
    Ok(Json(ops::status(&gateway, &principal, &id, "id").await?.into()))
}

/// Inquiries newest first. A tenant key lists its own; an operator key lists
/// by `status` (the escalation queue: `status=escalated`) or `tenant_id`.
#[utoipa::path(
    get, path = "/api/inquiries", tag = "inquiries",
    params(ListParams),
    responses(
        (status = 200, description = "One page", body = ListResponse),
        (status = 400, description = "A filter or the page token is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A tenant key asking for another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list(
    State(gateway): State<Gateway>,
    principal: Principal,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ListResponse>, Problem> {
    let Query(params) =
        query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "The query string is invalid", e.body_text()))?;
    let page = listing::list(gateway.inquiries.as_ref(), &principal, params.parse()?).await?;
    Ok(Json(ListResponse {
        inquiries: page.inquiries.into_iter().map(InquiryView::summary).collect(),
        next_page_token: page.next_page_token,
    }))
}

/// A customer's follow-up to their inquiry (tenant key): added to its
/// conversation after the messages so far and announced as
/// `inquiry.message_received`. Any inquiry but a failed one takes it.
#[utoipa::path(
    post, path = "/api/inquiries/{id}/messages", tag = "inquiries",
    params(
        ("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)"),
        ("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, pattern = r"\S", description = "Required: the same key on the same inquiry returns the first message (1–255 visible characters)"),
    ),
    request_body = crate::schemas::FollowUpDoc,
    responses(
        (status = 202, description = "Added (or added before with this key)", body = AddMessageResponse),
        (status = 400, description = "A field is invalid, or no Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The inquiry failed: it takes no follow-up", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn add_message(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<SubmitFollowUp>, JsonRejection>,
) -> Result<(StatusCode, Json<AddMessageResponse>), Problem> {
    let id = path_id(id)?;
    let Json(request) = body.map_err(from_json_rejection)?;
    let key = idempotency_header(&headers)?;
    let added = conversation::add(&gateway, &principal, &id, request, key.as_deref(), &REST_FIELDS).await?;
    Ok((StatusCode::ACCEPTED, Json(AddMessageResponse { message: added.message.into(), duplicate: added.duplicate })))
}

/// The query of `GET /api/inquiries/{id}/messages`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Messages per page, 1–1000 (50 when absent).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The inquiry's conversation, oldest first, in pages: message 1 is the
/// inquiry's own text, then follow-ups, the automatic answer, operators'
/// answers and system notices as they were added.
#[utoipa::path(
    get, path = "/api/inquiries/{id}/messages", tag = "inquiries",
    params(
        ("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)"),
        MessagesQuery,
    ),
    responses(
        (status = 200, description = "One page", body = MessagesPage),
        (status = 400, description = "Not an inquiry id, a bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list_messages(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<MessagesQuery>, QueryRejection>,
) -> Result<Json<MessagesPage>, Problem> {
    let id = path_id(id)?;
    let Query(query) =
        query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "The query string is invalid", e.body_text()))?;
    let page = conversation::list(&gateway, &principal, &id, query.limit, query.cursor, &REST_FIELDS).await?;
    Ok(Json(MessagesPage { messages: page.items.into_iter().map(MessageView::from).collect(), next_cursor: page.next }))
}

/// Three reply drafts for an escalated inquiry, careful to direct.
#[utoipa::path(
    get, path = "/api/inquiries/{id}/suggestions", tag = "inquiries",
    params(
        ("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)"),
    ),
    responses(
        (status = 200, description = "Three drafts (`careful`, `balanced`, `direct`), each with `commits_to` and the FAQ entries it is `grounded_on`", body = Object),
        (status = 400, description = "Not an inquiry id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The inquiry is not escalated", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The drafts cannot be made now", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn suggestions(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Suggestions>, Problem> {
    let id = path_id(id)?;
    Ok(Json(suggestions::suggest(&gateway, &principal, &id, "id").await?))
}

/// Body of `POST /api/inquiries/{id}/escalate` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct EscalateRequest {
    /// Why a person should look at it, at most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Body of `POST /api/inquiries/{id}/resolve`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResolveRequest {
    /// The operator's answer, sent to the customer as written (1–10,000 characters).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub human_answer: Option<String>,
    /// Optional: the intent the inquiry really had (`trouble_report`, …);
    /// the tenant's next inquiries close to this one take it.
    #[serde(default)]
    pub corrected_intent: Option<String>,
    /// Optional: the urgency it really had (`low`, `medium`, `high`).
    #[serde(default)]
    #[schema(value_type = Option<crate::schemas::UrgencyDoc>)]
    pub corrected_urgency: Option<String>,
    /// Optional: an entry of the tenant's FAQ (in the inquiry's language)
    /// that answers it; the inquiry's question becomes one of its variants.
    #[serde(default)]
    #[schema(pattern = r"^(faq-[0-9a-f]{12})?$")]
    pub faq_entry_id: Option<String>,
    /// Optional: save the answer as a new FAQ entry with the inquiry's
    /// question. Not with `faq_entry_id`.
    #[serde(default)]
    pub save_as_faq: bool,
    /// Optional, with `save_as_faq`: the new entry's answer, when not `human_answer`.
    #[serde(default)]
    pub faq_answer: Option<String>,
    /// Optional: the reply suggestion the answer started from
    /// (`GET /api/inquiries/{id}/suggestions`), recorded with the resolution.
    #[serde(default)]
    #[schema(pattern = r"^(careful|balanced|direct)?$")]
    pub suggestion_used: Option<String>,
}

impl ResolveRequest {
    /// The feedback fields, for `ops::resolve`.
    fn feedback(&self) -> FeedbackInput {
        FeedbackInput {
            corrected_intent: self.corrected_intent.clone(),
            corrected_urgency: self.corrected_urgency.clone(),
            faq_entry_id: self.faq_entry_id.clone(),
            save_as_faq: self.save_as_faq,
            faq_answer: self.faq_answer.clone(),
            suggestion_used: self.suggestion_used.clone(),
        }
    }
}

/// The id in the path; one that does not even decode is a bad id.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    id.map(|Path(id)| id).map_err(|_| Problem::field("id", "is not an inquiry id (a UUID)"))
}

/// A JSON body that may be empty (or `null`).
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: Result<Bytes, BytesRejection>) -> Result<T, Problem> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::from(ApiError::TooLarge(format!("the limit is {} bytes", MAX_SMALL_BODY_BYTES)))
        } else {
            Problem::new(StatusCode::BAD_REQUEST, "invalid-body", "The body could not be read", rejection.body_text())
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // `null` is no body too (the documented body is optional).
    serde_json::from_slice::<Option<T>>(&body)
        .map(Option::unwrap_or_default)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-json", "The body is not valid JSON for this request", e.to_string()))
}

/// Hands the inquiry to a person (tenant: its own; operator: any).
#[utoipa::path(
    post, path = "/api/inquiries/{id}/escalate", tag = "inquiries",
    params(("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)")),
    request_body(content = Option<EscalateRequest>, description = "Optional reason"),
    responses(
        (status = 200, description = "Escalated (or already was)", body = InquiryView),
        (status = 400, description = "Bad id or reason", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Resolved or failed: cannot be escalated", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn escalate(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<InquiryView>, Problem> {
    let id = path_id(id)?;
    let request: EscalateRequest = optional_json(body)?;
    let inquiry = ops::escalate(&gateway, &principal, &id, request.reason.as_deref(), "id").await?;
    Ok(Json(InquiryView::summary(inquiry)))
}

/// An operator's answer: resolves the inquiry; the customer is sent `human_answer`.
#[utoipa::path(
    post, path = "/api/inquiries/{id}/resolve", tag = "operators",
    params(("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "Resolved", body = InquiryView),
        (status = 400, description = "Bad id, missing human_answer, or bad feedback (an unknown intent or urgency, faq_entry_id with save_as_faq)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown inquiry, or faq_entry_id not in the tenant's FAQ (the detail names the field)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not answered or escalated, or resolved with another answer", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn resolve(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<InquiryView>, Problem> {
    let id = path_id(id)?;
    let request: ResolveRequest = optional_json(body)?;
    let inquiry = ops::resolve(&gateway, &principal, &id, request.human_answer.as_deref(), &request.feedback(), "id").await?;
    Ok(Json(InquiryView::summary(inquiry)))
}

/// The timeline as server-sent events: `event: timeline` per event (data:
/// [`WatchedEvent`] JSON), oldest first, then `event: end` after the event
/// that made the inquiry terminal, and the stream closes. `event: error`
/// (data: a problem) ends it early (shutdown, store down).
#[utoipa::path(
    get, path = "/api/inquiries/{id}/events", tag = "inquiries",
    params(("id" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$", description = "The inquiry id (a UUID)")),
    responses(
        (status = 200, description = "text/event-stream of timeline events", body = WatchedEvent, content_type = "text/event-stream"),
        (status = 400, description = "Not an inquiry id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another tenant's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn events(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Problem> {
    let id = path_id(id)?;
    let inquiry = ops::load(&gateway, &principal, &id, "id").await?;
    let slot = gateway.api.stream_slot(&principal.actor())?;
    let stream = crate::watch::watch(gateway.clone(), inquiry.id, None, slot);
    let stream = stream.flat_map(|item| {
        let events: Vec<Result<Event, Infallible>> = match item {
            Ok(watched) => {
                let terminal = watched.terminal;
                // An SSE id may not hold line breaks or NULs; keys never should, but a panic is no answer.
                let key: String = watched.event.key.chars().filter(|c| !c.is_control()).collect();
                let data = serde_json::to_string(&WatchedEvent::from(watched)).unwrap_or_default();
                let mut out = vec![Ok(Event::default().event("timeline").id(key).data(data))];
                if terminal {
                    out.push(Ok(Event::default().event("end").data("{}")));
                }
                out
            }
            Err(e) => {
                let problem = Problem::from(e);
                vec![Ok(Event::default().event("error").data(serde_json::to_string(&problem).unwrap_or_default()))]
            }
        };
        futures::stream::iter(events)
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
