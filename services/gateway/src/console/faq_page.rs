//! A tenant's FAQ in the console: the entries (searched by any phrasing
//! or the answer), a form to add one, and a form per entry to edit or
//! delete it. Changes go through `faq_ops` as the operator, conditional
//! on the FAQ's version the page showed (a change made meanwhile is
//! reported, not overwritten).

use super::page::{Chrome, html, message, problem_text};
use super::session::{SignedIn, form_refused};
use super::tenant_choice::{choose, matches};
use crate::faq_ops::{self, Editor};
use crate::state::Gateway;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use switchboard_domain::faq::FaqEntryInput;
use switchboard_domain::{FaqEntry, TenantId};

/// `?tenant=…&q=…&saved=1`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FaqQuery {
    tenant: Option<String>,
    #[serde(default)]
    q: String,
    saved: Option<String>,
}

/// The page.
#[derive(Template)]
#[template(path = "console/faq.html")]
struct FaqPage {
    chrome: Chrome,
    tenants: Vec<String>,
    tenant: Option<String>,
    q: String,
    entries: Vec<FaqEntry>,
    version: u64,
    saved: bool,
    problem: Option<String>,
}

/// `GET /console/faq`.
pub(crate) async fn show(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<FaqQuery>,
) -> Response {
    render(&gateway, &signed_in, &headers, &query, StatusCode::OK, None).await
}

async fn render(
    gateway: &Gateway,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    query: &FaqQuery,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let chrome = signed_in.chrome(headers, "/console/faq", "faq");
    let (tenants, chosen) = match choose(gateway, query.tenant.as_deref()).await {
        Ok(found) => found,
        Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.faq, &e.to_string()),
    };
    let (entries, version) = match &chosen {
        Some(t) => {
            (t.faq.iter().filter(|e| matches(&query.q, &[&e.question, &e.answer, &e.variants.join("\n")])).cloned().collect(), t.version)
        }
        None => (Vec::new(), 0),
    };
    let page = FaqPage {
        chrome,
        tenants,
        tenant: chosen.map(|t| t.id.to_string()),
        q: query.q.clone(),
        entries,
        version,
        saved: query.saved.is_some(),
        problem,
    };
    html(status, &page)
}

/// What the page's forms post.
#[derive(Debug, Deserialize)]
pub(crate) struct FaqForm {
    csrf: Option<String>,
    #[serde(default)]
    tenant: String,
    /// `add`, `edit` or `delete`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    answer: String,
    /// One phrasing per line.
    #[serde(default)]
    variants: String,
    version: Option<u64>,
}

impl FaqForm {
    fn input(&self) -> FaqEntryInput {
        let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        FaqEntryInput {
            language: given(&self.language),
            question: given(&self.question),
            answer: given(&self.answer),
            variants: Some(self.variants.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()),
        }
    }
}

/// `POST /console/faq`: adds, edits or deletes an entry, then shows the FAQ again.
pub(crate) async fn save(State(gateway): State<Gateway>, signed_in: SignedIn, headers: HeaderMap, Form(form): Form<FaqForm>) -> Response {
    let w = Chrome::words_for(&headers);
    if !signed_in.form_ok(&headers, form.csrf.as_deref()) {
        return form_refused(w);
    }
    let query = FaqQuery { tenant: Some(form.tenant.clone()), ..FaqQuery::default() };
    let Ok(tenant) = TenantId::parse(&form.tenant) else {
        return render(&gateway, &signed_in, &headers, &query, StatusCode::BAD_REQUEST, Some(format!("tenant: {}", w.choose_tenant))).await;
    };
    let editor = match Editor::operator_for(&signed_in.principal(), tenant.clone()) {
        Ok(editor) => editor,
        Err(e) => return render(&gateway, &signed_in, &headers, &query, StatusCode::FORBIDDEN, Some(e.to_string())).await,
    };
    let result = match form.action.as_str() {
        "add" => faq_ops::add(&gateway, &editor, &form.input(), form.version).await.map(|_| ()),
        "edit" => faq_ops::edit(&gateway, &editor, &form.id, &form.input(), form.version).await.map(|_| ()),
        "delete" => faq_ops::delete(&gateway, &editor, &form.id, form.version).await.map(|_| ()),
        _ => Err(crate::error::ApiError::field("action", "must be add, edit or delete")),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/console/faq?tenant={tenant}&saved=1")).into_response(),
        Err(e) => {
            let (status, text) = problem_text(e);
            render(&gateway, &signed_in, &headers, &query, status, Some(text)).await
        }
    }
}
