//! The OpenAPI 3.1 document at `/openapi.json`, generated from the handlers'
//! annotations and the response types (utoipa), so it cannot drift from
//! the code. Routes owned elsewhere (the partner endpoints, health) are
//! described here by documentation-only functions.

use crate::chat::{ChatRequest, ChatResponse};
use crate::inquiries::{EscalateRequest, ResolveRequest};
use crate::problem::Problem;
use crate::schemas::{AttachmentDoc, ConfirmationDoc, FieldErrorDoc, InquiryStatusDoc, ReservationInputDoc, RespondDoc, SubmitInquiryDoc};
use crate::views::{
    InquiryView, ListResponse, MaskedContact, PartnerStepView, ReservationView, StatusView, SubmitResponse, TimelineItem, WatchedEvent,
};
use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

/// The partner confirmation request behind a link (no API key: the token is the credential).
#[utoipa::path(
    get, path = "/confirm/{token}", tag = "partners",
    params(("token" = String, Path, description = "The link id from the partner's SMS link (22 characters), or a signed token texted before link ids")),
    responses(
        (status = 200, description = "The request", body = ConfirmationDoc),
        (status = 401, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No link was issued under this link id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, or the inquiry went to a person or failed (the link is void)", body = Problem, content_type = "application/problem+json"),
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
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No link was issued under this link id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, or the inquiry went to a person or failed (the link is void)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited per address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn respond_doc() {}

/// The partner's web page (HTML form posting back to the same path).
#[utoipa::path(
    get, path = "/r/{token}", tag = "partners",
    params(("token" = String, Path, description = "The link id from the partner's SMS link (22 characters), or a signed token texted before link ids")),
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 401, description = "Invalid or expired link", content_type = "text/html"),
        (status = 404, description = "No link was issued under this link id", content_type = "text/html"),
        (status = 429, description = "Rate limited per address or per link (a page; retry after `Retry-After`)", content_type = "text/html"),
        (status = 503, description = "Confirmations are unavailable (a page), or too many requests at once or past the request timeout (a problem)", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[allow(dead_code)]
fn page_doc() {}

/// The page's form posted back: the partner's answer, accepted once. Every
/// answer is a page in the partner's language (in Korean and English
/// without a valid link).
#[utoipa::path(
    post, path = "/r/{token}", tag = "partners",
    params(("token" = String, Path, description = "The link id from the partner's SMS link (22 characters), or a signed token texted before link ids")),
    request_body(content = crate::schemas::AnswerFormDoc, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Recorded (a page)", content_type = "text/html"),
        (status = 400, description = "A bad answer: the request shown again with why", content_type = "text/html"),
        (status = 401, description = "Invalid or expired link", content_type = "text/html"),
        (status = 404, description = "No link was issued under this link id", content_type = "text/html"),
        (status = 409, description = "Already answered, or the inquiry went to a person or failed", content_type = "text/html"),
        (status = 413, description = "The form is larger than the partner routes take", content_type = "text/html"),
        (status = 415, description = "Not sent as `application/x-www-form-urlencoded`", content_type = "text/html"),
        (status = 422, description = "The form could not be read", content_type = "text/html"),
        (status = 429, description = "Rate limited per address or per link (retry after `Retry-After`)", content_type = "text/html"),
        (status = 503, description = "Confirmations are unavailable (a page), or too many requests at once or past the request timeout (a problem)", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[allow(dead_code)]
fn page_answer_doc() {}

/// The customer's page: their conversation, its status and ETA, a reply
/// form. In the inquiry's language; in Korean and English without a valid link.
#[utoipa::path(
    get, path = "/c/{token}", tag = "customers",
    params(("token" = String, Path, description = "The token from the link in the customer's notification")),
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 401, description = "Invalid, expired or another kind of link (a partner's)", content_type = "text/html"),
        (status = 429, description = "Rate limited per address or per link (a page; retry after `Retry-After`)", content_type = "text/html"),
        (status = 503, description = "The conversation cannot be read now (a page), or too many requests at once or past the request timeout (a problem)", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[allow(dead_code)]
fn customer_page_doc() {}

/// The customer page's form posted back: a follow-up, stored as
/// `POST /api/inquiries/{id}/messages` stores one, once per form key.
#[utoipa::path(
    post, path = "/c/{token}/reply", tag = "customers",
    params(("token" = String, Path, description = "The token from the link in the customer's notification")),
    request_body(content = crate::schemas::ReplyFormDoc, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Stored (or stored before under this form key): back to the page"),
        (status = 400, description = "A blank or too long message: the page again with why", content_type = "text/html"),
        (status = 401, description = "Invalid, expired or another kind of link", content_type = "text/html"),
        (status = 403, description = "Not this page's form for this link, or a cross-site post", content_type = "text/html"),
        (status = 409, description = "The inquiry failed and takes no more messages: the page again", content_type = "text/html"),
        (status = 413, description = "The form is larger than the reply takes", content_type = "text/html"),
        (status = 415, description = "Not sent as `application/x-www-form-urlencoded`", content_type = "text/html"),
        (status = 422, description = "The form could not be read", content_type = "text/html"),
        (status = 429, description = "Rate limited per address or per link (retry after `Retry-After`)", content_type = "text/html"),
        (status = 503, description = "The reply cannot be stored now (a page), or too many requests at once or past the request timeout (a problem)", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[allow(dead_code)]
fn customer_reply_doc() {}

/// The customer page's "did this help?" once the inquiry is answered or
/// resolved: kept in the inquiry's timeline (`satisfaction.rated`), its
/// latest shown as the inquiry's `satisfaction`.
#[utoipa::path(
    post, path = "/c/{token}/rating", tag = "customers",
    params(("token" = String, Path, description = "The token from the link in the customer's notification")),
    request_body(content = crate::schemas::RatingFormDoc, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Kept (or kept before, the same rating under this form key): back to the page"),
        (status = 400, description = "No or an unknown rating, or a comment too long: the page again with why", content_type = "text/html"),
        (status = 401, description = "Invalid, expired or another kind of link", content_type = "text/html"),
        (status = 403, description = "Not this page's form for this link, or a cross-site post", content_type = "text/html"),
        (status = 409, description = "The inquiry is neither answered nor resolved: the page again with why", content_type = "text/html"),
        (status = 413, description = "The form is larger than the page takes", content_type = "text/html"),
        (status = 415, description = "Not sent as `application/x-www-form-urlencoded`", content_type = "text/html"),
        (status = 422, description = "The form could not be read", content_type = "text/html"),
        (status = 429, description = "Rate limited per address or per link (retry after `Retry-After`)", content_type = "text/html"),
        (status = 503, description = "The rating cannot be kept now (a page), or too many requests at once or past the request timeout (a problem)", content(
            (String = "text/html"),
            (Problem = "application/problem+json"),
        )),
    )
)]
#[allow(dead_code)]
fn customer_rating_doc() {}

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
pub(crate) async fn serve() -> Json<utoipa::openapi::OpenApi> {
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

/// The answers of the layers every route passes through, added to each
/// operation they apply to (an operation's own description is kept):
/// any route but health's may be turned away by the concurrency cap or the
/// request timeout, or find a dependency down (503); a route that takes an
/// API key answers 401 without a good one and 429 past the per-key or
/// per-address rate; a route that takes a body answers 413 past its limit.
struct SharedLayerResponses;

/// A problem+json response described as `description`.
fn problem_response(description: &str) -> RefOr<Response> {
    let content = Content::new(Some(Ref::from_schema_name("Problem")));
    RefOr::T(Response::builder().description(description).content("application/problem+json", content).build())
}

impl SharedLayerResponses {
    fn complete(operation: &mut Operation) {
        let responses = &mut operation.responses.responses;
        let mut add = |status: &str, description: &str| {
            responses.entry(status.to_owned()).or_insert_with(|| problem_response(description));
        };
        let health = operation.tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t == "health"));
        if !health {
            add("503", "Too many requests at once, past the request timeout, or a dependency is down (retry after `Retry-After`)");
        }
        if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
            add("401", "No or unknown API key");
            add("429", "Rate limited per key or per address (retry after `Retry-After`)");
        }
        if operation.request_body.is_some() {
            add("413", "The body is larger than this route takes");
        }
    }
}

impl Modify for SharedLayerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                Self::complete(operation);
            }
        }
    }
}

/// "A phone number or an e-mail address": a body schema with
/// `(phone, email)` becomes `allOf` (the body) and `anyOf` (one of the two,
/// not blank), so a client validating against it asks for a contact as the
/// server does.
struct ContactRequired;

impl ContactRequired {
    /// The schema of an object with `field`, not blank.
    fn with(field: &str) -> RefOr<Schema> {
        let not_blank = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"\S"));
        RefOr::T(Schema::Object(ObjectBuilder::new().property(field, not_blank).required(field).build()))
    }
}

impl Modify for ContactRequired {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, phone, email) in
            [("SubmitInquiryDoc", "customer_phone", "customer_email"), ("ChatRequest", "customerPhone", "customerEmail")]
        {
            let Some(body) = components.schemas.remove(name) else { continue };
            let contact = AnyOfBuilder::new().item(Self::with(phone)).item(Self::with(email)).build();
            let both = AllOfBuilder::new().item(body).item(Schema::AnyOf(contact)).build();
            components.schemas.insert(name.to_owned(), RefOr::T(Schema::AllOf(both)));
        }
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
        crate::inquiries::add_message,
        crate::inquiries::list_messages,
        crate::inquiries::suggestions,
        crate::inquiries::resolve,
        crate::chat::chat,
        crate::reservations::put_reservation,
        crate::sla_rest::get,
        crate::sla_rest::put,
        crate::faq_rest::list,
        crate::faq_rest::get,
        crate::faq_rest::add,
        crate::faq_rest::edit,
        crate::faq_rest::delete,
        crate::faq_rest::add_variant,
        crate::faq_rest::remove_variant,
        crate::tenant_rest::get,
        crate::tenant_rest::update,
        crate::webhook_rest::create,
        crate::webhook_rest::list,
        crate::webhook_rest::get,
        crate::webhook_rest::update,
        crate::webhook_rest::delete,
        crate::webhook_rest::rotate,
        crate::webhook_rest::deliveries,
        crate::webhook_rest::replay,
        confirm_doc,
        respond_doc,
        page_doc,
        page_answer_doc,
        customer_page_doc,
        customer_reply_doc,
        customer_rating_doc,
        healthz_doc,
        readyz_doc,
        serve,
    ),
    components(schemas(
        Problem, FieldErrorDoc, InquiryStatusDoc, SubmitInquiryDoc, AttachmentDoc, SubmitResponse, StatusView, InquiryView,
        MaskedContact, TimelineItem, PartnerStepView, WatchedEvent, ListResponse, EscalateRequest, ResolveRequest, ChatRequest,
        ChatResponse, ReservationInputDoc, ReservationView, RespondDoc, ConfirmationDoc,
        crate::schemas::AnswerFormDoc, crate::schemas::ReplyFormDoc, crate::schemas::RatingFormDoc, crate::schemas::LanguageDoc, crate::schemas::ChannelDoc, crate::schemas::PartnerAnswerDoc, crate::schemas::UrgencyDoc,
        crate::message_views::MessageView, crate::message_views::AddMessageResponse, crate::message_views::MessagesPage,
        crate::schemas::FollowUpDoc, crate::schemas::SentimentTrendDoc,
        crate::views::SlaView, crate::schemas::SlaStateDoc, crate::schemas::ListSortDoc, crate::sla_rest::SlaPolicyView, crate::schemas::SlaPolicyDoc, crate::schemas::SlaTargetsDoc, crate::schemas::OpeningDoc, crate::schemas::WeekdayDoc,
        crate::faq_rest::FaqEntryView, crate::faq_rest::FaqListView, crate::faq_rest::VariantInput, crate::schemas::FaqEntryInputDoc, crate::schemas::FaqEntryAddDoc, crate::schemas::VariantTextDoc,
        crate::tenant_rest::TenantView, crate::tenant_rest::TenantSettingsInput,
        crate::webhook_rest::WebhookView, crate::webhook_rest::WebhookWithSecret, crate::webhook_rest::WebhookList, crate::webhook_rest::DeliveryView,
        crate::webhook_rest::DeliveryList, crate::webhook_rest::ReplayView, crate::schemas::WebhookCreateDoc, crate::schemas::WebhookChangeDoc, crate::schemas::WebhookEventDoc,
    )),
    modifiers(&ApiKeyHeader, &SharedLayerResponses, &ContactRequired),
    tags(
        (name = "inquiries", description = "Tenant API clients (operators may read and escalate too)"),
        (name = "operators", description = "Operator key only"),
        (name = "faq", description = "The tenant's FAQ (tenant key): entries, their question variants"),
        (name = "tenant", description = "The tenant's settings: its contact e-mail (tenant key, or an operator key naming `tenant`)"),
        (name = "webhooks", description = "The tenant's webhook endpoints (Standard Webhooks): register, change, rotate the secret, read the delivery log, replay (tenant key, or an operator key naming `tenant`)"),
        (name = "partners", description = "The partner's confirmation, by the token in the SMS link"),
        (name = "customers", description = "The customer's conversation page, by the token in every notification's link"),
        (name = "health", description = "Liveness, readiness, this document"),
    )
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
