//! One inquiry as an operator works it: the conversation, the
//! classification and how sure it was, attachments and the text read from
//! them, the partner's steps, the timeline, the trace, and (while it waits
//! for a person) the answer form with the suggested replies and the
//! feedback controls the API's resolve takes (`feedback.rs`).

use super::page::{Chrome, html, message, problem_text};
use super::session::{SignedIn, form_refused};
use crate::error::ApiError;
use crate::feedback::FeedbackInput;
use crate::state::Gateway;
use crate::traces::TraceView;
use crate::{ops, suggestions};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use switchboard_domain::{Author, FaqEntry, Inquiry, InquiryStatus, Intent, Suggestion, Urgency};
use switchboard_store::whole_conversation;
use tracing::warn;

/// A message of the conversation, ready to show.
struct MessageRow {
    author: &'static str,
    class: &'static str,
    channel: &'static str,
    at: String,
    text: String,
}

/// An attachment and what was read from it.
struct AttachmentRow {
    filename: String,
    media_type: String,
    size: u64,
    extracted_text: Option<String>,
    notes: Vec<String>,
}

/// A timeline event, ready to show.
struct EventRow {
    at: String,
    kind: String,
    actor: String,
    details: String,
}

/// What the answer form was filled with, kept when it is shown again with a problem.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResolveForm {
    csrf: Option<String>,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    suggestion_used: String,
    #[serde(default)]
    suggestion_text_careful: String,
    #[serde(default)]
    suggestion_text_balanced: String,
    #[serde(default)]
    suggestion_text_direct: String,
    #[serde(default)]
    corrected_intent: String,
    #[serde(default)]
    corrected_urgency: String,
    #[serde(default)]
    faq_entry_id: String,
    save_as_faq: Option<String>,
}

impl ResolveForm {
    /// The answer to send: what the operator wrote, or, left empty, the
    /// chosen suggestion as it was shown.
    fn answer(&self) -> &str {
        if !self.answer.trim().is_empty() {
            return &self.answer;
        }
        match self.suggestion_used.as_str() {
            "careful" => &self.suggestion_text_careful,
            "balanced" => &self.suggestion_text_balanced,
            "direct" => &self.suggestion_text_direct,
            _ => "",
        }
    }

    fn feedback(&self) -> FeedbackInput {
        let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        FeedbackInput {
            corrected_intent: given(&self.corrected_intent),
            corrected_urgency: given(&self.corrected_urgency),
            faq_entry_id: given(&self.faq_entry_id),
            save_as_faq: self.save_as_faq.is_some(),
            faq_answer: None,
            suggestion_used: given(&self.suggestion_used),
        }
    }
}

/// The inquiry page.
#[derive(Template)]
#[template(path = "console/inquiry.html")]
struct InquiryPage {
    chrome: Chrome,
    inquiry: Inquiry,
    classification: Option<ClassificationRow>,
    messages: Vec<MessageRow>,
    attachments: Vec<AttachmentRow>,
    partner_steps: Vec<(String, String)>,
    events: Vec<EventRow>,
    trace: TraceView,
    waiting: bool,
    suggestions: Option<Vec<Suggestion>>,
    faq: Vec<FaqEntry>,
    intents: Vec<&'static str>,
    urgencies: Vec<&'static str>,
    form: ResolveForm,
    problem: Option<String>,
}

/// The classification, as shown.
struct ClassificationRow {
    intent: &'static str,
    urgency: &'static str,
    sentiment: &'static str,
    language: &'static str,
    reservation: Option<String>,
    certainty: Option<(String, String, String)>,
    unsure: Option<String>,
    engine: String,
}

fn time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn author(w: &super::words::Words, a: Author) -> (&'static str, &'static str) {
    match a {
        Author::Customer => (w.author_customer, "customer"),
        Author::Ai => (w.author_ai, "ai"),
        Author::Operator => (w.author_operator, "operator"),
        Author::System => (w.author_system, "system"),
    }
}

/// Everything the page shows of inquiry `id`.
async fn page(
    gateway: &Gateway,
    signed_in: &SignedIn,
    chrome: Chrome,
    id: &str,
    form: ResolveForm,
    problem: Option<String>,
) -> Result<InquiryPage, ApiError> {
    let principal = signed_in.principal();
    let (inquiry, timeline) = ops::detail(gateway, &principal, id, "id").await?;
    let w = chrome.w;
    let conversation = whole_conversation(gateway.inquiries.as_ref(), &inquiry).await?;
    let messages = conversation
        .iter()
        .map(|m| {
            let (author, class) = author(w, m.author);
            MessageRow { author, class, channel: m.channel.as_str(), at: time(m.created_at), text: m.text.clone() }
        })
        .collect();
    let attachments = gateway
        .inquiries
        .attachments(inquiry.id)
        .await?
        .into_iter()
        .map(|a| {
            let analysis = a.analysis.as_ref();
            let text = |field: &str| analysis.and_then(|v| v.get(field)).and_then(|v| v.as_str()).map(str::to_owned);
            let list = |field: &str| {
                analysis
                    .and_then(|v| v.get(field))
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            };
            let mut notes = list("problems");
            notes.extend(text("description"));
            AttachmentRow {
                filename: a.filename,
                media_type: a.media_type.as_str().to_owned(),
                size: a.size,
                extracted_text: text("extracted_text"),
                notes,
            }
        })
        .collect();
    let partner_steps =
        crate::views::partner_steps(&inquiry, &timeline).unwrap_or_default().into_iter().map(|s| (s.kind, time(s.at))).collect();
    let trace = gateway.traces.trace(inquiry.id, &timeline).await;
    let events = timeline
        .iter()
        .map(|e| EventRow {
            at: time(e.at),
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            details: if e.details.is_null() { String::new() } else { e.details.to_string() },
        })
        .collect();
    let waiting = inquiry.status == InquiryStatus::Escalated;
    let (suggestions, faq) = if waiting {
        let tenant = gateway.tenants.get_tenant(&inquiry.tenant_id).await?;
        let drafts = match &tenant {
            Some(tenant) => match suggestions::draft(gateway, tenant, &inquiry, conversation).await {
                Ok(s) => Some(s.suggestions),
                Err(e) => {
                    warn!(inquiry_id = %inquiry.id, error = %e, "no reply suggestions for the console");
                    None
                }
            },
            None => None,
        };
        (drafts, tenant.map(|t| t.faq).unwrap_or_default())
    } else {
        (None, Vec::new())
    };
    let classification = inquiry.classification.as_ref().map(|c| ClassificationRow {
        intent: c.intent.as_str(),
        urgency: c.urgency.as_str(),
        sentiment: c.sentiment.as_str(),
        language: c.language.as_str(),
        reservation: c.reservation_number.as_ref().map(ToString::to_string),
        certainty: c.certainty.as_ref().map(|k| {
            (format!("{:.0} %", k.intent * 100.0), format!("{:.0} %", k.urgency * 100.0), format!("{:.0} %", k.sentiment * 100.0))
        }),
        unsure: c.unsure.clone(),
        engine: c.engine.clone(),
    });
    Ok(InquiryPage {
        chrome,
        inquiry,
        classification,
        messages,
        attachments,
        partner_steps,
        events,
        trace,
        waiting,
        suggestions,
        faq,
        intents: Intent::ALL.into_iter().map(Intent::as_str).collect(),
        urgencies: [Urgency::High, Urgency::Medium, Urgency::Low].into_iter().map(Urgency::as_str).collect(),
        form,
        problem,
    })
}

/// The page for an error the operations returned.
fn failed(w: &'static super::words::Words, e: ApiError) -> Response {
    let (status, text) = problem_text(e);
    let title = if status == StatusCode::NOT_FOUND { w.not_found } else { w.inquiry };
    message(w, status, title, &text)
}

/// `GET /console/inquiries/{id}`.
pub(crate) async fn show(State(gateway): State<Gateway>, signed_in: SignedIn, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let chrome = signed_in.chrome(&headers, &format!("/console/inquiries/{id}"), "queue");
    let w = chrome.w;
    match page(&gateway, &signed_in, chrome, &id, ResolveForm::default(), None).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(e) => failed(w, e),
    }
}

/// `POST /console/inquiries/{id}/resolve`: answers the customer and
/// resolves the inquiry, with the operator's feedback; back to the queue.
/// A problem shows the page again with why, the answer kept.
pub(crate) async fn resolve(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Response {
    let w = Chrome::words_for(&headers);
    if !signed_in.form_ok(&headers, form.csrf.as_deref()) {
        return form_refused(w);
    }
    let answer = form.answer().to_owned();
    let result = ops::resolve(&gateway, &signed_in.principal(), &id, Some(&answer), &form.feedback(), "id").await;
    match result {
        Ok(_) => Redirect::to(super::page::ROOT).into_response(),
        Err(e) => {
            let (status, text) = problem_text(e);
            let chrome = signed_in.chrome(&headers, &format!("/console/inquiries/{id}"), "queue");
            match page(&gateway, &signed_in, chrome, &id, form, Some(text)).await {
                Ok(page) => html(status, &page),
                Err(e) => failed(w, e),
            }
        }
    }
}
