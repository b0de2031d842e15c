//! `/api/faq…`: the caller's FAQ over REST. Responses carry the tenant's
//! FAQ version as an `ETag`; a write with `If-Match` only applies if the
//! FAQ is still at that version (409 otherwise).

use crate::faq_ops::{self, Versioned};
use crate::principal::Principal;
use crate::problem::{Problem, from_json_rejection};
use crate::state::Gateway;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchboard_domain::FaqEntry;
use switchboard_domain::faq::FaqEntryInput;
use utoipa::ToSchema;

/// One FAQ entry as returned.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FaqEntryView {
    /// `faq-` and 12 hex digits.
    pub id: String,
    /// `ko` or `en`.
    pub language: String,
    pub question: String,
    /// Other ways customers ask it.
    pub variants: Vec<String>,
    pub answer: String,
}

impl From<FaqEntry> for FaqEntryView {
    fn from(e: FaqEntry) -> Self {
        Self {
            id: e.id.to_string(),
            language: e.language.as_str().to_owned(),
            question: e.question,
            variants: e.variants,
            answer: e.answer,
        }
    }
}

/// `GET /api/faq`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqListView {
    /// The FAQ's version (also the `ETag`).
    pub version: u64,
    pub entries: Vec<FaqEntryView>,
}

/// Body of `POST /api/faq/{id}/variants`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VariantInput {
    /// Another way customers ask the entry's question (1–500 characters).
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub text: String,
}

/// The version a client read, from `If-Match` (`"7"`, `W/"7"` or `7`).
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim().trim_start_matches("W/").trim_matches('"');
    text.parse().map(Some).map_err(|_| Problem::field("If-Match", "must be the ETag of an earlier response"))
}

/// The entry id in the path; one that does not even decode (bytes that
/// are not UTF-8) is a bad id, named, not a plain-text rejection.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    id.map(|Path(id)| id).map_err(|_| Problem::field("id", "is not an FAQ entry id (`faq-` and 12 hex digits)"))
}

fn tagged<T: Serialize>(status: StatusCode, (body, version): Versioned<T>) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(ETAG, tag);
    }
    response
}

fn entry((entry, version): Versioned<FaqEntry>) -> Versioned<FaqEntryView> {
    (FaqEntryView::from(entry), version)
}

/// The caller's FAQ entries.
#[utoipa::path(
    get, path = "/api/faq", tag = "faq",
    responses(
        (status = 200, description = "Every entry, both languages", body = FaqListView),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a tenant key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list(principal: Principal) -> Result<Response, Problem> {
    let (entries, version) = faq_ops::list(&principal)?;
    let view = FaqListView { version, entries: entries.into_iter().map(FaqEntryView::from).collect() };
    Ok(tagged(StatusCode::OK, (view, version)))
}

/// One entry.
#[utoipa::path(
    get, path = "/api/faq/{id}", tag = "faq",
    params(("id" = String, Path, pattern = r"^faq-[0-9a-f]{12}$", description = "The entry id (`faq-` and 12 hex digits)")),
    responses(
        (status = 200, description = "The entry", body = FaqEntryView),
        (status = 400, description = "The id does not decode", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn get(principal: Principal, id: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let id = path_id(id)?;
    Ok(tagged(StatusCode::OK, entry(faq_ops::get(&principal, &id)?)))
}

/// Adds an entry: `language`, `question` and `answer` required, `variants` optional.
#[utoipa::path(
    post, path = "/api/faq", tag = "faq",
    params(("If-Match" = Option<String>, Header, pattern = r#"^\s*(W/)?"?[0-9]{1,19}"?\s*$"#, description = "Apply only if the FAQ is still at this version (the `ETag` of an earlier response); 409 otherwise")),
    request_body = crate::schemas::FaqEntryAddDoc,
    responses(
        (status = 201, description = "Added", body = FaqEntryView),
        (status = 400, description = "A field is invalid (named in `errors`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`If-Match` is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn add(
    State(gateway): State<Gateway>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Json<FaqEntryInput>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(input) = body.map_err(from_json_rejection)?;
    let added = faq_ops::add(&gateway, &faq_ops::Editor::of(&principal)?, &input, if_match(&headers)?).await?;
    Ok(tagged(StatusCode::CREATED, entry(added)))
}

/// Changes an entry's question, answer or variants (fields left out stay).
#[utoipa::path(
    patch, path = "/api/faq/{id}", tag = "faq",
    params(("id" = String, Path, pattern = r"^faq-[0-9a-f]{12}$", description = "The entry id (`faq-` and 12 hex digits)"), ("If-Match" = Option<String>, Header, pattern = r#"^\s*(W/)?"?[0-9]{1,19}"?\s*$"#, description = "Apply only if the FAQ is still at this version (the `ETag` of an earlier response); 409 otherwise")),
    request_body = crate::schemas::FaqEntryInputDoc,
    responses(
        (status = 200, description = "Changed", body = FaqEntryView),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`If-Match` is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn edit(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<FaqEntryInput>, JsonRejection>,
) -> Result<Response, Problem> {
    let id = path_id(id)?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let edited = faq_ops::edit(&gateway, &faq_ops::Editor::of(&principal)?, &id, &input, if_match(&headers)?).await?;
    Ok(tagged(StatusCode::OK, entry(edited)))
}

/// Deletes an entry.
#[utoipa::path(
    delete, path = "/api/faq/{id}", tag = "faq",
    params(("id" = String, Path, pattern = r"^faq-[0-9a-f]{12}$", description = "The entry id (`faq-` and 12 hex digits)"), ("If-Match" = Option<String>, Header, pattern = r#"^\s*(W/)?"?[0-9]{1,19}"?\s*$"#, description = "Apply only if the FAQ is still at this version (the `ETag` of an earlier response); 409 otherwise")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id does not decode", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`If-Match` is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn delete(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let id = path_id(id)?;
    let version = faq_ops::delete(&gateway, &faq_ops::Editor::of(&principal)?, &id, if_match(&headers)?).await?;
    Ok(tagged(StatusCode::NO_CONTENT, ((), version)))
}

/// Adds a way customers ask an entry's question.
#[utoipa::path(
    post, path = "/api/faq/{id}/variants", tag = "faq",
    params(("id" = String, Path, pattern = r"^faq-[0-9a-f]{12}$", description = "The entry id (`faq-` and 12 hex digits)"), ("If-Match" = Option<String>, Header, pattern = r#"^\s*(W/)?"?[0-9]{1,19}"?\s*$"#, description = "Apply only if the FAQ is still at this version (the `ETag` of an earlier response); 409 otherwise")),
    request_body = VariantInput,
    responses(
        (status = 201, description = "The entry with the variant", body = FaqEntryView),
        (status = 400, description = "Blank, too long, or the entry has 20 variants", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`If-Match` is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn add_variant(
    State(gateway): State<Gateway>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<VariantInput>, JsonRejection>,
) -> Result<Response, Problem> {
    let id = path_id(id)?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let added = faq_ops::add_variant(&gateway, &faq_ops::Editor::of(&principal)?, &id, &input.text, if_match(&headers)?).await?;
    Ok(tagged(StatusCode::CREATED, entry(added)))
}

/// Removes an entry's variant by its position (0-based).
#[utoipa::path(
    delete, path = "/api/faq/{id}/variants/{index}", tag = "faq",
    params(("id" = String, Path, pattern = r"^faq-[0-9a-f]{12}$", description = "The entry id (`faq-` and 12 hex digits)"), ("index" = usize, Path, description = "The variant's position"), ("If-Match" = Option<String>, Header, pattern = r#"^\s*(W/)?"?[0-9]{1,19}"?\s*$"#, description = "Apply only if the FAQ is still at this version (the `ETag` of an earlier response); 409 otherwise")),
    responses(
        (status = 200, description = "The entry without the variant", body = FaqEntryView),
        (status = 400, description = "The id does not decode, or the index is not a position (0, 1, …)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry or variant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`If-Match` is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn remove_variant(
    State(gateway): State<Gateway>,
    principal: Principal,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Path((id, index)) = path.map_err(|_| Problem::field("id", "is not an FAQ entry id (`faq-` and 12 hex digits)"))?;
    let index: usize = index.parse().map_err(|_| Problem::field("index", "must be a variant's position (0, 1, …)"))?;
    let removed = faq_ops::remove_variant(&gateway, &faq_ops::Editor::of(&principal)?, &id, index, if_match(&headers)?).await?;
    Ok(tagged(StatusCode::OK, entry(removed)))
}
