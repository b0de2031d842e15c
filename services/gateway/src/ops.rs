//! What every API call does, whatever the protocol. REST handlers
//! (`inquiries.rs`, `reservations.rs`, `chat.rs`) and the gRPC services
//! (`grpc/`) parse their input, call these, and render the result, so both
//! behave the same and fail with the same [`ApiError`].

use crate::error::ApiError;
use crate::eta::Estimate;
use crate::feedback::FeedbackInput;
use crate::limits::MAX_HUMAN_ANSWER_CHARS;
use crate::principal::Principal;
use crate::state::Gateway;
use crate::status_cache::LastStatus;
use jiff::Timestamp;
use serde_json::json;
use switchboard_domain::{
    Author, Channel, CloudEvent, Escalation, EventType, Inquiry, InquiryId, InquiryStatus, Language, Message, Reservation,
    ReservationInput, SlaState, SubmitInquiry, TimelineEvent,
};
use switchboard_intake::{Accepted, SubmitError};
use switchboard_pipeline::sla::{breach_event, breach_recorded};
use switchboard_store::{TransitionError, TransitionOutcome, transition_announced};
use tracing::{Instrument, info, warn};

/// Longest accepted idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest escalation reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// The CloudEvents source of the events the gateway publishes.
const SOURCE: &str = "switchboard/gateway";
/// Marks an escalation the API made (so a retried call re-announces it,
/// while one the pipeline made is left to the pipeline).
const REQUESTED: &str = "escalated on request";

/// A client's idempotency key, checked.
pub fn idempotency_key(raw: Option<&str>, field: &str) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(key) if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || key.chars().any(|c| c.is_control()) => {
            Err(ApiError::field(field, "must be 1 to 255 visible characters"))
        }
        Some(key) => Ok(Some(key.to_owned())),
    }
}

/// Takes in an inquiry for the caller's tenant.
pub async fn submit(
    gateway: &Gateway,
    principal: &Principal,
    request: SubmitInquiry,
    idempotency_key: Option<&str>,
    default_channel: Channel,
) -> Result<Accepted, ApiError> {
    let tenant = principal.tenant()?;
    // Run to the end even if the caller goes away (a dropped connection, the
    // request timeout): stopping between storing the inquiry and publishing
    // its event would leave it accepted but never processed.
    let (intake, tenant_id, key) = (gateway.intake.clone(), tenant.id.clone(), idempotency_key.map(str::to_owned));
    let submitted =
        tokio::spawn(async move { intake.submit(&tenant_id, request, key.as_deref(), default_channel).await }.in_current_span())
            .await
            .map_err(|e| ApiError::Unavailable(format!("the submission failed: {e}")))?;
    submitted.map_err(|e| match e {
        SubmitError::Invalid(errors) => ApiError::Invalid(errors),
        SubmitError::UnknownTenant(t) => ApiError::Unauthenticated(format!("unknown tenant {t}")),
        SubmitError::Unavailable(why) => ApiError::Unavailable(why),
        SubmitError::SmsQuota { per_hour, retry_after } => ApiError::RateLimited {
            detail: format!("this tenant's quota of {per_hour} submissions an hour that send text messages is used up"),
            retry_after,
        },
    })
}

/// The inquiry `id` if the caller may see it. Another tenant's inquiry is
/// "not found": its existence is not theirs to learn.
pub async fn load(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<Inquiry, ApiError> {
    let id = inquiry_id(id, field)?;
    gateway.inquiries.get_inquiry(id).await?.filter(|i| principal.may_see(i)).ok_or_else(|| not_found(id))
}

fn inquiry_id(id: &str, field: &str) -> Result<InquiryId, ApiError> {
    InquiryId::parse(id).map_err(|e| ApiError::field(field, &e.to_string()))
}

fn not_found(id: InquiryId) -> ApiError {
    ApiError::NotFound(format!("inquiry {id} not found"))
}

/// How many times [`detail`] reads an inquiry that keeps moving again.
const DETAIL_READS: usize = 3;

/// An inquiry with its timeline (oldest first), as of one version.
pub async fn detail(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<(Inquiry, Vec<TimelineEvent>), ApiError> {
    let mut inquiry = load(gateway, principal, id, field).await?;
    // A change commits with its event, but the inquiry and its timeline are
    // two reads: the pair is consistent when the inquiry has not moved
    // between them (else an event could show without the state it wrote,
    // or the state without its event). Read until it holds still.
    let mut timeline = gateway.inquiries.timeline(inquiry.id).await?;
    for _ in 0..DETAIL_READS {
        let Some(again) = gateway.inquiries.get_inquiry(inquiry.id).await? else { break };
        if again.version == inquiry.version {
            break;
        }
        inquiry = again;
        timeline = gateway.inquiries.timeline(inquiry.id).await?;
    }
    Ok((inquiry, timeline))
}

/// Status, progress and the estimated time to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// The inquiry's status as it stands (or stood, within the status
    /// cache's staleness bound), and whose it is.
    pub last: LastStatus,
    /// Its stage (1 received … 5 done).
    pub stage: u32,
    /// How many stages there are.
    pub stages: u32,
    /// `stage / stages`.
    pub progress: f32,
    /// The estimated time to a terminal status.
    pub estimate: Estimate,
}

/// Where an inquiry stands and how long it should take to finish. An
/// inquiry the pipeline is done with is answered from the status cache
/// when it is there (`status_cache.rs`); one still on its way is read from
/// the store, and asks for the ETA's refresh in the background.
pub async fn status(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<StatusReport, ApiError> {
    let id = inquiry_id(id, field)?;
    let api = &gateway.api;
    let (last, estimate) = match api.statuses().get(id) {
        // Only terminal statuses are cached: nothing is left of them.
        Some(last) => (last, api.eta().nothing_left()),
        None => {
            let inquiry = gateway.inquiries.get_inquiry(id).await?.ok_or_else(|| not_found(id))?;
            api.statuses().remember(&inquiry);
            if !inquiry.status.is_terminal() && principal.may_see(&inquiry) {
                api.refresh_eta(&gateway.inquiries);
            }
            (LastStatus::of(&inquiry), api.eta().estimate(&inquiry, Timestamp::now()))
        }
    };
    if !principal.may_see_tenant(&last.tenant_id) {
        return Err(not_found(id));
    }
    let stage = last.status.stage();
    Ok(StatusReport { stage, stages: InquiryStatus::STAGES, progress: stage as f32 / InquiryStatus::STAGES as f32, estimate, last })
}

/// What the customer is told while a person takes over.
fn escalation_message(language: Language) -> String {
    match language {
        Language::Ko => "문의가 담당자에게 전달되었습니다. 담당자가 확인 후 직접 답변드리겠습니다.".into(),
        Language::En => "Your inquiry has been passed to our team. A person will reply to you shortly.".into(),
    }
}

fn transition_error(e: TransitionError, what: &str) -> ApiError {
    match e {
        TransitionError::NotFound(id) => ApiError::NotFound(format!("inquiry {id} not found")),
        TransitionError::Invalid { current, .. } => {
            ApiError::FailedPrecondition { detail: format!("the inquiry is {current}: it cannot be {what}"), current: Some(current) }
        }
        TransitionError::Store(e) => e.into(),
    }
}

/// The event announcing the API's move of `inquiry`. The step is the same
/// on a retried call: consumers see a repeat, not a second event.
fn announcement(event_type: EventType, inquiry: &Inquiry, data: serde_json::Value) -> CloudEvent {
    CloudEvent::for_inquiry(event_type, inquiry.id, &inquiry.tenant_id, "gateway", SOURCE, inquiry.updated_at, data)
}

/// Publishes an announcement the move stored in the outbox (or, for a
/// retried call, announces it again). The move is done either way: what
/// cannot be published now, the outbox relay publishes later.
pub(crate) async fn announce(gateway: &Gateway, event: CloudEvent) {
    if let Err(e) = gateway.api.relay().deliver(std::slice::from_ref(&event)).await {
        warn!(event_type = %event.event_type, subject = ?event.subject, error = %e, "announcement left to the outbox relay");
    }
}

/// Hands an inquiry to a person (tenant: its own; operator: any).
pub async fn escalate(gateway: &Gateway, principal: &Principal, id: &str, reason: Option<&str>, field: &str) -> Result<Inquiry, ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::field("reason", &format!("must be at most {MAX_REASON_CHARS} characters")));
    }
    let inquiry = load(gateway, principal, id, field).await?;
    let why = match reason {
        Some(r) => format!("{REQUESTED} by {}: {r}", principal.actor()),
        None => format!("{REQUESTED} by {}", principal.actor()),
    };
    let message = escalation_message(inquiry.reply_language());
    let details = json!({ "requested_by": principal.actor() });
    let escalated = |i: &Inquiry| announcement(EventType::InquiryEscalated, i, json!({ "reason": "requested" }));
    let outcome = transition_announced(
        gateway.inquiries.as_ref(),
        inquiry.id,
        InquiryStatus::Escalated,
        &principal.actor(),
        Timestamp::now(),
        details,
        |i| i.escalation = Some(Escalation { reason: why.clone(), customer_message: message.clone() }),
        |i| vec![escalated(i)],
    )
    .await
    .map_err(|e| transition_error(e, "escalated"))?;
    let (inquiry, announce_it) = match outcome {
        TransitionOutcome::Applied(i) => (i, true),
        // Escalated through this API before (a retried call): announce again
        // in case the first announcement was lost; the event id is the same.
        // Escalated by the pipeline: the responder announced it.
        TransitionOutcome::AlreadyDone(i) => {
            let ours = i.escalation.as_ref().is_some_and(|e| e.reason.starts_with(REQUESTED));
            (i, ours)
        }
    };
    if announce_it {
        announce(gateway, escalated(&inquiry)).await;
        if let Some(e) = &inquiry.escalation {
            // The same key as the responder's notice: one per conversation.
            let notice = Message::reply(&inquiry, Author::System, "escalated", e.customer_message.as_str(), inquiry.updated_at);
            gateway.inquiries.append_message(&notice, &[]).await?;
        }
    }
    info!(inquiry_id = %inquiry.id, actor = %principal.actor(), "inquiry escalated through the API");
    Ok(inquiry)
}

/// An operator's answer: resolves the inquiry and has the customer told;
/// the operator's feedback (a correction, an FAQ entry) is checked before
/// and applied after (`feedback.rs`), also when the call is a retry.
pub async fn resolve(
    gateway: &Gateway,
    principal: &Principal,
    id: &str,
    human_answer: Option<&str>,
    feedback: &FeedbackInput,
    field: &str,
) -> Result<Inquiry, ApiError> {
    principal.operator("resolving an inquiry")?;
    let answer = human_answer.map(str::trim).unwrap_or_default();
    if answer.is_empty() {
        return Err(ApiError::field("human_answer", "is required and must not be blank"));
    }
    if answer.chars().count() > MAX_HUMAN_ANSWER_CHARS {
        return Err(ApiError::field("human_answer", &format!("must be at most {MAX_HUMAN_ANSWER_CHARS} characters")));
    }
    let feedback = feedback.parse()?;
    let inquiry = load(gateway, principal, id, field).await?;
    feedback.check(gateway, &inquiry, answer).await?;
    // Which suggestion the answer started from, for learning which drafts operators send.
    let details = match feedback.suggestion_used {
        Some(level) => json!({ "resolved_by": principal.actor(), "suggestion_used": level.as_str() }),
        None => json!({ "resolved_by": principal.actor() }),
    };
    let resolved = |i: &Inquiry| announcement(EventType::InquiryResolved, i, json!({ "resolved_by": principal.actor() }));
    let now = Timestamp::now();
    let outcome = transition_announced(
        gateway.inquiries.as_ref(),
        inquiry.id,
        InquiryStatus::Resolved,
        &principal.actor(),
        now,
        details,
        |i| {
            i.human_answer = Some(answer.to_owned());
            // The person's first response to the escalation stops its SLA clock.
            if i.status == InquiryStatus::Escalated
                && let Some(sla) = i.sla.as_mut()
            {
                sla.respond(now);
            }
        },
        |i| vec![resolved(i)],
    )
    .await
    .map_err(|e| transition_error(e, "resolved"))?;
    let inquiry = match outcome {
        TransitionOutcome::Applied(i) => {
            record_late_answer(gateway, &i, &principal.actor(), now).await?;
            i
        }
        // The same answer again is a retry; another answer is a conflict.
        TransitionOutcome::AlreadyDone(i) if i.human_answer.as_deref() == Some(answer) => i,
        TransitionOutcome::AlreadyDone(i) => {
            return Err(ApiError::FailedPrecondition {
                detail: "the inquiry is already resolved with another answer".into(),
                current: Some(i.status),
            });
        }
    };
    feedback.apply(gateway, &inquiry, answer).await?;
    // Keyed by the step, so a retried call (the same answer) adds nothing.
    let reply = Message::reply(&inquiry, Author::Operator, "resolution", answer, inquiry.updated_at);
    gateway.inquiries.append_message(&reply, &[]).await?;
    announce(gateway, resolved(&inquiry)).await;
    info!(inquiry_id = %inquiry.id, actor = %principal.actor(), "inquiry resolved");
    Ok(inquiry)
}

/// Records a breach this resolve found: the answer came after the deadline
/// while the clock was still pending (the notifier's check had not come
/// yet). The clock says so when the resolve's own write breached it.
async fn record_late_answer(gateway: &Gateway, resolved: &Inquiry, actor: &str, now: Timestamp) -> Result<(), ApiError> {
    let Some(sla) = &resolved.sla else { return Ok(()) };
    if sla.state == SlaState::Breached && sla.breached_at == Some(now) && sla.responded_at == Some(now) {
        gateway.inquiries.append_event(resolved.id, &breach_event(resolved, actor, now)).await?;
        breach_recorded(resolved, actor);
    }
    Ok(())
}

/// Stores a reservation (operator key only).
pub async fn put_reservation(gateway: &Gateway, principal: &Principal, input: ReservationInput) -> Result<Reservation, ApiError> {
    principal.operator("adding reservations")?;
    let reservation = input.parse()?;
    let countries = &gateway.api.settings().sms_countries;
    if !countries.allows(&reservation.partner_phone) {
        return Err(ApiError::field("partner_phone", &countries.refusal()));
    }
    gateway.api.reservations().put_reservation(&reservation).await?;
    info!(tenant_id = %reservation.tenant_id, actor = %principal.actor(), "reservation stored");
    Ok(reservation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escalation_text_with_the_longest_link_is_3_segments_in_korean_and_2_in_english() {
        use switchboard_domain::customer_link::with_link;
        use switchboard_domain::fixtures::longest_customer_link;
        for (language, segments) in [(Language::Ko, 3), (Language::En, 2)] {
            let texted = with_link(&escalation_message(language), &longest_customer_link(), language);
            assert_eq!(switchboard_domain::sms_segments(&texted), segments, "{texted}");
        }
    }

    #[test]
    fn idempotency_keys_are_bounded_and_visible() {
        assert_eq!(idempotency_key(Some(" k "), "f").unwrap().as_deref(), Some("k"));
        assert!(idempotency_key(Some(""), "f").is_err());
        assert!(idempotency_key(Some(&"k".repeat(256)), "f").is_err());
        assert!(idempotency_key(Some("a\u{7}b"), "f").is_err());
        assert_eq!(idempotency_key(None, "f").unwrap(), None);
    }
}
