//! The JSON shapes of the REST API (and their OpenAPI schemas).

use crate::ops::StatusReport;
use crate::watch::Watched;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_domain::{Channel, Inquiry, InquiryStatus, PartnerStep, TimelineEvent};
use utoipa::ToSchema;

/// `202` of `POST /api/inquiries`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    pub inquiry_id: String,
    #[schema(value_type = crate::openapi::InquiryStatusDoc)]
    pub status: InquiryStatus,
    /// `/api/inquiries/{id}/status`.
    pub status_url: String,
    /// The `Idempotency-Key` had been used: this is the earlier inquiry.
    pub duplicate: bool,
}

/// `GET /api/inquiries/{id}/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    pub inquiry_id: String,
    #[schema(value_type = crate::openapi::InquiryStatusDoc)]
    pub status: InquiryStatus,
    /// Stage `stage` of `stages` (1 received, 2 analyzing, 3 classified, 4 awaiting partner, 5 done).
    pub stage: u32,
    pub stages: u32,
    /// `stage / stages`, 0.0–1.0.
    pub progress: f32,
    /// Estimated seconds until a terminal status, rounded up; 0 when terminal.
    pub estimated_seconds_remaining: u64,
    /// The same estimate in milliseconds.
    pub estimated_ms_remaining: u64,
    /// Finished inquiries the estimate learned its stage latencies from (0: defaults).
    pub estimate_samples: u32,
    /// Messages queued ahead in the stages still to pass.
    pub queue_depth: u64,
    /// Answered, escalated, resolved or failed.
    pub terminal: bool,
    pub updated_at: Timestamp,
}

impl From<StatusReport> for StatusView {
    fn from(r: StatusReport) -> Self {
        let ms = r.estimate.remaining.as_millis().min(u128::from(u64::MAX)) as u64;
        Self {
            inquiry_id: r.inquiry.id.to_string(),
            status: r.inquiry.status,
            stage: r.stage,
            stages: r.stages,
            progress: r.progress,
            estimated_seconds_remaining: ms.div_ceil(1000),
            estimated_ms_remaining: ms,
            estimate_samples: r.estimate.samples,
            queue_depth: r.estimate.queue_depth,
            terminal: r.inquiry.status.is_terminal(),
            updated_at: r.inquiry.updated_at,
        }
    }
}

/// One timeline event.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    pub at: Timestamp,
    /// `status.{status}`, `partner.sms_sent`, `notification.customer.…`, …
    pub kind: String,
    /// A service, `partner`, `tenant:{id}` or `operator:{name}`.
    pub actor: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<TimelineEvent> for TimelineItem {
    fn from(e: TimelineEvent) -> Self {
        Self { at: e.at, kind: e.kind, actor: e.actor, details: e.details }
    }
}

/// One server-sent event of `GET /api/inquiries/{id}/events` (`event: timeline`).
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedEvent {
    pub inquiry_id: String,
    pub at: Timestamp,
    pub kind: String,
    pub actor: String,
    #[schema(value_type = Object)]
    pub details: Value,
    /// The status this event put the inquiry in, for `status.*` events.
    #[schema(value_type = Option<crate::openapi::InquiryStatusDoc>)]
    pub status: Option<InquiryStatus>,
    /// The last event: the stream ends after it.
    pub terminal: bool,
}

impl From<Watched> for WatchedEvent {
    fn from(w: Watched) -> Self {
        Self {
            inquiry_id: w.inquiry_id.to_string(),
            at: w.event.at,
            kind: w.event.kind,
            actor: w.event.actor,
            details: w.event.details,
            status: w.status,
            terminal: w.terminal,
        }
    }
}

/// The customer's contact, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaskedContact {
    /// e.g. `+8210****5678`.
    pub phone: Option<String>,
    /// e.g. `a***@example.com`.
    pub email: Option<String>,
}

/// An inquiry: `GET /api/inquiries/{id}` (with `timeline`), listings and
/// escalate/resolve answers (without).
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryView {
    pub inquiry_id: String,
    pub tenant_id: String,
    #[schema(value_type = crate::openapi::InquiryStatusDoc)]
    pub status: InquiryStatus,
    pub status_reason: Option<String>,
    #[schema(value_type = String, example = "api")]
    pub channel: Channel,
    pub title: Option<String>,
    pub content: String,
    #[schema(value_type = Option<String>, example = "ko")]
    pub language: Option<switchboard_domain::Language>,
    #[schema(value_type = Option<String>, example = "HT-20481123")]
    pub reservation_number: Option<switchboard_domain::ReservationNumber>,
    /// Masked: the tenant knows its customer; responses travel through logs and proxies.
    pub customer: MaskedContact,
    pub attachment_count: u32,
    /// Language, intent, urgency, sentiment, reservation number, key phrases.
    #[schema(value_type = Option<Object>)]
    pub classification: Option<switchboard_domain::Classification>,
    /// The automatic answer sent to the customer.
    pub answer: Option<String>,
    /// Why it went to a person and what the customer was told.
    #[schema(value_type = Option<Object>)]
    pub escalation: Option<switchboard_domain::Escalation>,
    /// An operator's answer.
    pub human_answer: Option<String>,
    /// The partner confirmation, when one was asked.
    #[schema(value_type = Option<Object>)]
    pub partner: Option<Value>,
    /// Oldest first (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineItem>>,
    /// Seed 002's partner steps (`Created`, `SMSSent`, `Opened`, `Responded`/`Timeout`), detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub partner_steps: Option<Vec<Value>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl InquiryView {
    /// Without the timeline (listings, escalate, resolve).
    pub fn summary(inquiry: Inquiry) -> Self {
        Self {
            inquiry_id: inquiry.id.to_string(),
            tenant_id: inquiry.tenant_id.to_string(),
            status: inquiry.status,
            status_reason: inquiry.status_reason,
            channel: inquiry.channel,
            title: inquiry.title,
            content: inquiry.content,
            language: inquiry.language,
            reservation_number: inquiry.reservation_number,
            customer: MaskedContact {
                phone: inquiry.customer.phone.as_ref().map(|p| p.masked()),
                email: inquiry.customer.email.as_ref().map(|e| e.masked()),
            },
            attachment_count: inquiry.attachment_count,
            classification: inquiry.classification,
            answer: inquiry.answer,
            escalation: inquiry.escalation,
            human_answer: inquiry.human_answer,
            partner: inquiry.partner.as_ref().map(|p| {
                json!({
                    "partner_name": p.partner_name,
                    "requested_at": p.requested_at,
                    "deadline_at": p.deadline_at,
                    "outcome": p.outcome,
                    "responded_at": p.responded_at,
                })
            }),
            timeline: None,
            partner_steps: None,
            created_at: inquiry.created_at,
            updated_at: inquiry.updated_at,
        }
    }

    /// With the timeline and, when a partner is involved, the partner steps.
    pub fn detail(inquiry: Inquiry, timeline: Vec<TimelineEvent>) -> Self {
        let needs_partner = inquiry.classification.as_ref().is_some_and(|c| c.needs_partner());
        let steps = needs_partner.then(|| partner_steps(&timeline));
        let mut view = Self::summary(inquiry);
        view.timeline = Some(timeline.into_iter().map(TimelineItem::from).collect());
        view.partner_steps = steps;
        view
    }
}

/// The partner part of the timeline in seed 002's words, in order, each with its time.
fn partner_steps(timeline: &[TimelineEvent]) -> Vec<Value> {
    timeline
        .iter()
        .filter_map(|e| PartnerStep::from_timeline_kind(&e.kind).map(|step| json!({ "step": step, "at": e.at, "kind": e.kind })))
        .collect()
}

/// `GET /api/inquiries`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse {
    /// Newest first. May hold fewer than `page_size` (even none) when filters skip many.
    pub inquiries: Vec<InquiryView>,
    /// Pass as `page_token` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}
