//! A tenant's webhook endpoints in the console: the list (URL, the events
//! it takes, enabled or disabled and why, failures in a row), a form to
//! register one (its secret is shown once, on the page the form leads
//! to), and per endpoint: enable or disable, rotate the secret, delete, and
//! the newest delivery attempts with a replay button. Everything goes
//! through `webhook_ops` as the operator, the REST and gRPC operations.

use super::page::{Chrome, html, message, problem_text};
use super::session::{SignedIn, form_refused};
use super::tenant_choice::choose;
use crate::state::Gateway;
use crate::webhook_ops;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use switchboard_domain::webhook::{AttemptResult, WEBHOOK_EVENT_TYPES, WebhookInput};

/// Attempts shown per endpoint.
const ATTEMPTS_SHOWN: u32 = 10;

/// `?tenant=…&saved=1`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WebhooksQuery {
    tenant: Option<String>,
    saved: Option<String>,
}

/// A delivery attempt, as listed.
struct AttemptRow {
    message_id: String,
    event_type: String,
    attempt: u32,
    at: String,
    result: String,
    ok: bool,
    latency_ms: u64,
}

/// An endpoint, as listed.
struct EndpointRow {
    id: String,
    url: String,
    events: String,
    description: String,
    enabled: bool,
    disabled_reason: String,
    failures: u32,
    attempts: Vec<AttemptRow>,
}

/// The page.
#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    tenants: Vec<String>,
    tenant: Option<String>,
    endpoints: Vec<EndpointRow>,
    event_types: Vec<&'static str>,
    /// A secret to show once (just created or rotated), with its endpoint.
    secret: Option<(String, String)>,
    saved: bool,
    problem: Option<String>,
}

/// `GET /console/webhooks`.
pub(crate) async fn show(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<WebhooksQuery>,
) -> Response {
    render(&gateway, &signed_in, &headers, query.tenant.as_deref(), StatusCode::OK, None, query.saved.is_some(), None).await
}

#[allow(clippy::too_many_arguments, reason = "one page, rendered from every handler's outcome")]
async fn render(
    gateway: &Gateway,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    tenant: Option<&str>,
    status: StatusCode,
    secret: Option<(String, String)>,
    saved: bool,
    problem: Option<String>,
) -> Response {
    let chrome = signed_in.chrome(headers, "/console/webhooks", "webhooks");
    let (tenants, chosen) = match choose(gateway, tenant).await {
        Ok(found) => found,
        Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.webhooks, &e.to_string()),
    };
    let principal = signed_in.principal();
    let mut endpoints = Vec::new();
    if let Some(t) = &chosen {
        let tenant = Some(t.id.as_str());
        let listed = match webhook_ops::list(gateway, &principal, tenant).await {
            Ok(listed) => listed,
            Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.webhooks, &problem_text(e).1),
        };
        for e in listed {
            let attempts =
                webhook_ops::deliveries(gateway, &principal, tenant, e.id.as_str(), Some(ATTEMPTS_SHOWN)).await.unwrap_or_default();
            endpoints.push(EndpointRow {
                id: e.id.as_str().to_owned(),
                url: e.url.as_str().to_owned(),
                events: e.events.names().join(", "),
                description: e.description.clone(),
                enabled: e.enabled(),
                disabled_reason: e.disabled.as_ref().map(|d| d.reason.clone()).unwrap_or_default(),
                failures: e.consecutive_failures,
                attempts: attempts
                    .into_iter()
                    .map(|a| AttemptRow {
                        ok: a.result.succeeded(),
                        result: match &a.result {
                            AttemptResult::Status(code) => code.to_string(),
                            AttemptResult::Error(why) => why.clone(),
                        },
                        message_id: a.message_id,
                        event_type: a.event_type,
                        attempt: a.attempt,
                        at: a.at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        latency_ms: a.latency_ms,
                    })
                    .collect(),
            });
        }
    }
    let page = WebhooksPage {
        chrome,
        tenants,
        tenant: chosen.map(|t| t.id.to_string()),
        endpoints,
        event_types: WEBHOOK_EVENT_TYPES.iter().map(|t| t.as_str()).collect(),
        secret,
        saved,
        problem,
    };
    html(status, &page)
}

/// What the page's forms post. `events` repeats (one checkbox each), so
/// the body is read as pairs.
#[derive(Debug, Default)]
struct WebhookForm {
    csrf: Option<String>,
    tenant: String,
    /// `create`, `enable`, `disable`, `rotate`, `delete` or `replay`.
    action: String,
    id: String,
    url: String,
    description: String,
    events: Vec<String>,
    message_id: String,
}

impl WebhookForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => form.csrf = Some(value),
                "tenant" => form.tenant = value,
                "action" => form.action = value,
                "id" => form.id = value,
                "url" => form.url = value,
                "description" => form.description = value,
                "events" => form.events.push(value),
                "message_id" => form.message_id = value,
                _ => {}
            }
        }
        form
    }
}

/// `POST /console/webhooks`: one change, then the page again (a new
/// secret shown once, right there).
pub(crate) async fn save(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let w = Chrome::words_for(&headers);
    let form = WebhookForm::from_pairs(pairs);
    if !signed_in.form_ok(&headers, form.csrf.as_deref()) {
        return form_refused(w);
    }
    let principal = signed_in.principal();
    let tenant = Some(form.tenant.as_str());
    let toggle = |enabled: bool| WebhookInput { enabled: Some(enabled), ..WebhookInput::default() };
    let outcome = match form.action.as_str() {
        "create" => {
            let input = WebhookInput {
                url: Some(form.url.clone()),
                events: Some(if form.events.is_empty() { vec!["*".to_owned()] } else { form.events.clone() }),
                description: Some(form.description.clone()).filter(|d| !d.trim().is_empty()),
                enabled: None,
            };
            webhook_ops::create(&gateway, &principal, tenant, &input).await.map(|(e, secret)| Some((e.id.as_str().to_owned(), secret)))
        }
        "rotate" => {
            webhook_ops::rotate(&gateway, &principal, tenant, &form.id).await.map(|(e, secret)| Some((e.id.as_str().to_owned(), secret)))
        }
        "enable" => webhook_ops::update(&gateway, &principal, tenant, &form.id, &toggle(true)).await.map(|_| None),
        "disable" => webhook_ops::update(&gateway, &principal, tenant, &form.id, &toggle(false)).await.map(|_| None),
        "delete" => webhook_ops::delete(&gateway, &principal, tenant, &form.id).await.map(|_| None),
        "replay" => webhook_ops::replay(&gateway, &principal, tenant, &form.id, &form.message_id).await.map(|_| None),
        _ => Err(crate::error::ApiError::field("action", "must be create, enable, disable, rotate, delete or replay")),
    };
    match outcome {
        // A secret is shown on this response only, never behind a redirect or a link.
        Ok(Some(secret)) => render(&gateway, &signed_in, &headers, tenant, StatusCode::OK, Some(secret), true, None).await,
        Ok(None) => Redirect::to(&format!("/console/webhooks?tenant={}&saved=1", form.tenant)).into_response(),
        Err(e) => {
            let (status, text) = problem_text(e);
            render(&gateway, &signed_in, &headers, tenant, status, None, false, Some(text)).await
        }
    }
}
