//! The JSON shapes of the REST API (and their OpenAPI schemas).

use crate::message_views::MessageView;
use crate::ops::StatusReport;
use crate::watch::Watched;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_domain::{
    Channel, Inquiry, InquiryStatus, PartnerStep, Reservation, Satisfaction, SentimentTrend, Sla, SlaState, TimelineEvent, Urgency,
};
use utoipa::ToSchema;

/// `202` of `POST /api/inquiries`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    pub inquiry_id: String,
    #[schema(value_type = crate::schemas::InquiryStatusDoc)]
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
    #[schema(value_type = crate::schemas::InquiryStatusDoc)]
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
            inquiry_id: r.last.inquiry_id.to_string(),
            status: r.last.status,
            stage: r.stage,
            stages: r.stages,
            progress: r.progress,
            estimated_seconds_remaining: ms.div_ceil(1000),
            estimated_ms_remaining: ms,
            estimate_samples: r.estimate.samples,
            queue_depth: r.estimate.queue_depth,
            terminal: r.last.status.is_terminal(),
            updated_at: r.last.updated_at,
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
    #[schema(value_type = Option<crate::schemas::InquiryStatusDoc>)]
    pub status: Option<InquiryStatus>,
    /// The last event: the stream ends after it.
    pub terminal: bool,
    /// The message a `message.*` event added to the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageView>,
}

impl From<Watched> for WatchedEvent {
    fn from(w: Watched) -> Self {
        let message = MessageView::of_event(&w.event);
        Self {
            inquiry_id: w.inquiry_id.to_string(),
            at: w.event.at,
            kind: w.event.kind,
            actor: w.event.actor,
            details: w.event.details,
            message,
            status: w.status,
            terminal: w.terminal,
        }
    }
}

/// The customer's contact, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaskedContact {
    /// e.g. `+********5678`.
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
    #[schema(value_type = crate::schemas::InquiryStatusDoc)]
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
    /// The partner's steps (`Created`, `SMSSent`, `Opened`, `Responded`/`Timeout`, `Failed`),
    /// detail only, when the inquiry needs a partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_steps: Option<Vec<PartnerStepView>>,
    /// Messages in its conversation, the inquiry's text included (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_count: Option<u32>,
    /// The customer's mood across the conversation: `improving`, `steady`
    /// or `worsening` (detail only). The latest classified customer
    /// message against the mean of the earlier ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schemas::SentimentTrendDoc>)]
    pub sentiment_trend: Option<SentimentTrend>,
    /// The customer's latest rating of the answer (`rating`: `helpful` or
    /// `not_helpful`, `comment`, `answered_by`: `ai` or `human`, `intent`,
    /// `rated_at`), detail only, once rated.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub satisfaction: Option<Satisfaction>,
    /// The first-response SLA of its latest escalation; `null` if it was never escalated.
    pub sla: Option<SlaView>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An escalation's first-response SLA: when a person must answer, and
/// whether they did in time.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaView {
    /// When a person must have first answered (the target counted in the tenant's business hours).
    pub due_at: Timestamp,
    /// `pending` (waiting, in time so far), `met` or `breached`.
    #[schema(value_type = crate::schemas::SlaStateDoc)]
    pub state: SlaState,
    /// When the breach was recorded.
    pub breached_at: Option<Timestamp>,
    /// When the inquiry was escalated (the clock's start).
    pub started_at: Timestamp,
    /// When a person first answered.
    pub responded_at: Option<Timestamp>,
    /// The urgency whose target applies.
    #[schema(value_type = crate::schemas::UrgencyDoc)]
    pub urgency: Urgency,
}

impl From<Sla> for SlaView {
    fn from(s: Sla) -> Self {
        Self {
            due_at: s.due_at,
            state: s.state,
            breached_at: s.breached_at,
            started_at: s.started_at,
            responded_at: s.responded_at,
            urgency: s.urgency,
        }
    }
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
            message_count: None,
            sentiment_trend: None,
            satisfaction: None,
            sla: inquiry.sla.map(SlaView::from),
            created_at: inquiry.created_at,
            updated_at: inquiry.updated_at,
        }
    }

    /// With the timeline, the conversation's size and trend and, when a
    /// partner is involved, the partner steps.
    pub fn detail(inquiry: Inquiry, timeline: Vec<TimelineEvent>, message_count: u32, trend: SentimentTrend) -> Self {
        let steps = partner_steps(&inquiry, &timeline);
        let mut view = Self::summary(inquiry);
        view.message_count = Some(message_count);
        view.sentiment_trend = Some(trend);
        view.satisfaction = Satisfaction::latest(&timeline);
        view.timeline = Some(timeline.into_iter().map(TimelineItem::from).collect());
        view.partner_steps = steps;
        view
    }
}

/// One step of a partner confirmation, as the timeline recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PartnerStepView {
    /// `Created`, `SMSSent`, `Opened`, `Responded`, `Timeout` or `Failed`.
    #[schema(value_type = String, example = "SMSSent")]
    pub step: PartnerStep,
    /// When it happened.
    pub at: Timestamp,
    /// The timeline event it comes from, e.g. `partner.sms_sent`.
    pub kind: String,
}

/// The partner part of the timeline, in order, for an inquiry that needs
/// a partner (`None` for one that does not). REST and gRPC both show it.
pub fn partner_steps(inquiry: &Inquiry, timeline: &[TimelineEvent]) -> Option<Vec<PartnerStepView>> {
    let needs_partner = inquiry.classification.as_ref().is_some_and(|c| c.needs_partner());
    needs_partner.then(|| {
        timeline
            .iter()
            .filter_map(|e| PartnerStep::from_timeline_kind(&e.kind).map(|step| PartnerStepView { step, at: e.at, kind: e.kind.clone() }))
            .collect()
    })
}

/// A stored reservation, as returned: the phone numbers masked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReservationView {
    pub reservation_number: String,
    pub tenant_id: String,
    pub customer_name: String,
    /// Masked, e.g. `+********5678`.
    pub customer_phone: String,
    pub partner_id: String,
    pub partner_name: String,
    /// Masked.
    pub partner_phone: String,
    /// `ko` or `en`.
    pub partner_locale: String,
    pub service_type: String,
    pub reservation_date: String,
}

impl From<Reservation> for ReservationView {
    fn from(r: Reservation) -> Self {
        Self {
            reservation_number: r.reservation_number.to_string(),
            tenant_id: r.tenant_id.to_string(),
            customer_name: r.customer_name,
            customer_phone: r.customer_phone.masked(),
            partner_id: r.partner_id,
            partner_name: r.partner_name,
            partner_phone: r.partner_phone.masked(),
            partner_locale: r.partner_locale.as_str().to_owned(),
            service_type: r.service_type,
            reservation_date: r.reservation_date,
        }
    }
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
