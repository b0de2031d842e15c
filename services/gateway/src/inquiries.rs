//! `/api/inquiries`: submit, read, status.

use crate::problem::from_json_rejection;
use crate::{Gateway, Problem, auth};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_domain::{Channel, Inquiry, InquiryId, InquiryStatus, PartnerStep, SubmitInquiry, Tenant, TimelineEvent};
use switchboard_intake::SubmitError;

/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// `POST /api/inquiries` → 202 with the new inquiry's id and status URL.
pub async fn submit(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<SubmitInquiry>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let tenant = auth::tenant(&gateway, &headers).await?;
    let Json(request) = body.map_err(from_json_rejection)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v.to_str().map_err(|_| Problem::field("Idempotency-Key", "must be visible ASCII"))?.trim();
            if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
                return Err(Problem::field("Idempotency-Key", "must be 1 to 255 characters"));
            }
            Some(key.to_owned())
        }
    };
    let accepted = gateway.intake.submit(&tenant.id, request, key.as_deref(), Channel::Api).await.map_err(|e| match e {
        SubmitError::Invalid(errors) => Problem::invalid(errors),
        SubmitError::UnknownTenant(t) => Problem::unauthorized(format!("unknown tenant {t}")),
        SubmitError::Unavailable(why) => Problem::unavailable(why),
    })?;
    let id = accepted.inquiry.id;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "inquiry_id": id,
            "status": accepted.inquiry.status,
            "status_url": format!("/api/inquiries/{id}/status"),
            "duplicate": accepted.duplicate,
        })),
    ))
}

/// Loads an inquiry the tenant may see. Another tenant's inquiry is "not
/// found": its existence is not theirs to learn.
async fn owned_inquiry(gateway: &Gateway, tenant: &Tenant, id: &str) -> Result<Inquiry, Problem> {
    let id = InquiryId::parse(id).map_err(|e| Problem::field("id", &e.to_string()))?;
    gateway
        .inquiries
        .get_inquiry(id)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .filter(|i| i.tenant_id == tenant.id)
        .ok_or_else(|| Problem::not_found(format!("inquiry {id} not found")))
}

/// `GET /api/inquiries/{id}`: everything known, with the timeline.
pub async fn get(State(gateway): State<Gateway>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let tenant = auth::tenant(&gateway, &headers).await?;
    let inquiry = owned_inquiry(&gateway, &tenant, &id).await?;
    let timeline = gateway.inquiries.timeline(inquiry.id).await.map_err(|e| Problem::unavailable(e.to_string()))?;
    let partner_steps = inquiry.classification.as_ref().is_some_and(|c| c.needs_partner()).then(|| partner_steps(&timeline));
    let timeline: Vec<Value> = timeline
        .into_iter()
        .map(|e| json!({ "at": e.at, "kind": e.kind, "actor": e.actor, "details": e.details }))
        .collect();
    Ok(Json(json!({
        "inquiry_id": inquiry.id,
        "tenant_id": inquiry.tenant_id,
        "status": inquiry.status,
        "status_reason": inquiry.status_reason,
        "channel": inquiry.channel,
        "title": inquiry.title,
        "content": inquiry.content,
        "language": inquiry.language,
        "reservation_number": inquiry.reservation_number,
        // Masked: the tenant knows its customer; responses travel through logs and proxies.
        "customer": {
            "phone": inquiry.customer.phone.as_ref().map(|p| p.masked()),
            "email": inquiry.customer.email.as_ref().map(|e| e.masked()),
        },
        "attachment_count": inquiry.attachment_count,
        "classification": inquiry.classification,
        "answer": inquiry.answer,
        "escalation": inquiry.escalation,
        "human_answer": inquiry.human_answer,
        "partner": inquiry.partner.as_ref().map(|p| json!({
            "partner_name": p.partner_name,
            "requested_at": p.requested_at,
            "deadline_at": p.deadline_at,
            "outcome": p.outcome,
            "responded_at": p.responded_at,
        })),
        "timeline": timeline,
        "partner_steps": partner_steps,
        "created_at": inquiry.created_at,
        "updated_at": inquiry.updated_at,
    })))
}

/// The partner part of the timeline in seed 002's words (`Created`,
/// `SMSSent`, `Opened`, `Responded` or `Timeout`, `Failed`), in order, each
/// with its time.
fn partner_steps(timeline: &[TimelineEvent]) -> Vec<Value> {
    timeline
        .iter()
        .filter_map(|e| PartnerStep::from_timeline_kind(&e.kind).map(|step| json!({ "step": step, "at": e.at, "kind": e.kind })))
        .collect()
}

/// `GET /api/inquiries/{id}/status`.
#[derive(Debug, Serialize)]
pub struct StatusView {
    pub inquiry_id: InquiryId,
    pub status: InquiryStatus,
    /// Stage `stage` of `stages` (1-based).
    pub stage: u32,
    pub stages: u32,
    /// `stage / stages`, 0.0–1.0.
    pub progress: f32,
    pub estimated_seconds_remaining: u64,
    pub terminal: bool,
    pub updated_at: Timestamp,
}

pub async fn status(State(gateway): State<Gateway>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<StatusView>, Problem> {
    let tenant = auth::tenant(&gateway, &headers).await?;
    let inquiry = owned_inquiry(&gateway, &tenant, &id).await?;
    let stage = inquiry.status.stage();
    Ok(Json(StatusView {
        inquiry_id: inquiry.id,
        status: inquiry.status,
        stage,
        stages: InquiryStatus::STAGES,
        progress: stage as f32 / InquiryStatus::STAGES as f32,
        estimated_seconds_remaining: estimate_remaining(&inquiry, Timestamp::now()),
        terminal: inquiry.status.is_terminal(),
        updated_at: inquiry.updated_at,
    }))
}

/// Seconds until the inquiry is likely to reach a terminal status. While a
/// partner is asked, the deadline bounds it; the automatic stages take about
/// a second each.
fn estimate_remaining(inquiry: &Inquiry, now: Timestamp) -> u64 {
    match inquiry.status {
        s if s.is_terminal() => 0,
        InquiryStatus::AwaitingPartner => inquiry
            .partner
            .as_ref()
            .map(|p| p.deadline_at.duration_since(now).as_secs().max(0) as u64 + 1)
            .unwrap_or(1),
        s => (InquiryStatus::STAGES - s.stage()) as u64,
    }
}
