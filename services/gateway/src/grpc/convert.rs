//! Between domain values and the `switchboard.v1` messages.

use crate::error::ApiError;
use crate::listing::ListQuery;
use crate::ops::StatusReport;
use crate::watch::Watched;
use base64::Engine;
use jiff::Timestamp;
use serde_json::Value;
use switchboard_domain::submission::AttachmentInput;
use switchboard_domain::{
    Channel, FieldError, Inquiry, InquiryStatus, PartnerOutcome, SubmitInquiry, TenantId, TimelineEvent, Urgency, ValidationErrors,
};
use switchboard_partner_dispatcher::ConfirmationView;
use switchboard_proto::v1 as pb;

pub fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.as_second(), nanos: t.subsec_nanosecond() }
}

fn from_timestamp(t: &prost_types::Timestamp, field: &str) -> Result<Timestamp, FieldError> {
    Timestamp::new(t.seconds, t.nanos).map_err(|_| FieldError::new(field, "is not a valid timestamp"))
}

pub fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration { seconds: d.as_secs().min(i64::MAX as u64) as i64, nanos: d.subsec_nanos() as i32 }
}

pub fn status(s: InquiryStatus) -> pb::InquiryStatus {
    match s {
        InquiryStatus::Received => pb::InquiryStatus::Received,
        InquiryStatus::Analyzing => pb::InquiryStatus::Analyzing,
        InquiryStatus::Classified => pb::InquiryStatus::Classified,
        InquiryStatus::AwaitingPartner => pb::InquiryStatus::AwaitingPartner,
        InquiryStatus::Answered => pb::InquiryStatus::Answered,
        InquiryStatus::Escalated => pb::InquiryStatus::Escalated,
        InquiryStatus::Resolved => pb::InquiryStatus::Resolved,
        InquiryStatus::Failed => pb::InquiryStatus::Failed,
    }
}

fn from_status(value: i32) -> Result<Option<InquiryStatus>, FieldError> {
    let parsed = pb::InquiryStatus::try_from(value).map_err(|_| FieldError::new("status", "is not an InquiryStatus"))?;
    Ok(match parsed {
        pb::InquiryStatus::Unspecified => None,
        pb::InquiryStatus::Received => Some(InquiryStatus::Received),
        pb::InquiryStatus::Analyzing => Some(InquiryStatus::Analyzing),
        pb::InquiryStatus::Classified => Some(InquiryStatus::Classified),
        pb::InquiryStatus::AwaitingPartner => Some(InquiryStatus::AwaitingPartner),
        pb::InquiryStatus::Answered => Some(InquiryStatus::Answered),
        pb::InquiryStatus::Escalated => Some(InquiryStatus::Escalated),
        pb::InquiryStatus::Resolved => Some(InquiryStatus::Resolved),
        pb::InquiryStatus::Failed => Some(InquiryStatus::Failed),
    })
}

fn urgency(u: Urgency) -> pb::Urgency {
    match u {
        Urgency::Low => pb::Urgency::Low,
        Urgency::Medium => pb::Urgency::Medium,
        Urgency::High => pb::Urgency::High,
    }
}

fn from_urgency(value: i32) -> Result<Option<Urgency>, FieldError> {
    Ok(match pb::Urgency::try_from(value).map_err(|_| FieldError::new("urgency", "is not an Urgency"))? {
        pb::Urgency::Unspecified => None,
        pb::Urgency::Low => Some(Urgency::Low),
        pb::Urgency::Medium => Some(Urgency::Medium),
        pb::Urgency::High => Some(Urgency::High),
    })
}

fn channel(c: Channel) -> pb::Channel {
    match c {
        Channel::Web => pb::Channel::Web,
        Channel::Api => pb::Channel::Api,
        Channel::Chat => pb::Channel::Chat,
        Channel::Event => pb::Channel::Event,
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

/// A submission as intake reads it. Attachment bytes are encoded as the
/// REST body carries them, so both paths validate the same way.
pub fn submit_request(r: pb::SubmitInquiryRequest) -> Result<(SubmitInquiry, Option<String>), ApiError> {
    let channel = match pb::Channel::try_from(r.channel) {
        Ok(pb::Channel::Unspecified) => None,
        Ok(pb::Channel::Web) => Some("web"),
        Ok(pb::Channel::Api) => Some("api"),
        Ok(pb::Channel::Chat) => Some("chat"),
        Ok(pb::Channel::Event) => Some("event"),
        Err(_) => return Err(ApiError::field("channel", "is not a Channel")),
    };
    let attachments = r
        .attachments
        .into_iter()
        .map(|a| AttachmentInput {
            filename: non_empty(a.filename),
            content_base64: (!a.content.is_empty()).then(|| base64::engine::general_purpose::STANDARD.encode(&a.content)),
        })
        .collect();
    let request = SubmitInquiry {
        title: non_empty(r.title),
        content: Some(r.content),
        customer_phone: non_empty(r.customer_phone),
        customer_email: non_empty(r.customer_email),
        reservation_number: non_empty(r.reservation_number),
        channel: channel.map(str::to_owned),
        language: non_empty(r.language),
        attachments,
    };
    Ok((request, non_empty(r.idempotency_key)))
}

pub fn list_query(r: pb::ListInquiriesRequest) -> Result<ListQuery, ApiError> {
    let mut errors = Vec::new();
    let status = from_status(r.status).map_err(|e| errors.push(e)).ok().flatten();
    let urgency = from_urgency(r.urgency).map_err(|e| errors.push(e)).ok().flatten();
    let created_after =
        r.created_after.as_ref().map(|t| from_timestamp(t, "created_after")).transpose().map_err(|e| errors.push(e)).ok().flatten();
    let created_before =
        r.created_before.as_ref().map(|t| from_timestamp(t, "created_before")).transpose().map_err(|e| errors.push(e)).ok().flatten();
    let tenant_id = non_empty(r.tenant_id)
        .map(|t| TenantId::parse(t.trim()).map_err(|e| FieldError::new("tenant_id", e.to_string())))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Invalid(ValidationErrors(errors)));
    }
    if r.page_size > crate::listing::MAX_PAGE_SIZE {
        return Err(ApiError::field("page_size", "must be at most 100"));
    }
    Ok(ListQuery { status, created_after, created_before, urgency, tenant_id, page_size: r.page_size, page_token: non_empty(r.page_token) })
}

/// JSON as a protobuf `Value`.
fn value(v: Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue { values: items.into_iter().map(value).collect() }),
        Value::Object(map) => Kind::StructValue(structure(map)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn structure(map: serde_json::Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct { fields: map.into_iter().map(|(k, v)| (k, value(v))).collect() }
}

/// A timeline event's details as a `Struct` (anything but an object is wrapped as `{"value": …}`).
fn details(v: Value) -> Option<prost_types::Struct> {
    match v {
        Value::Null => None,
        Value::Object(map) => Some(structure(map)),
        other => Some(structure(serde_json::Map::from_iter([("value".to_owned(), other)]))),
    }
}

pub fn timeline_event(inquiry_id: &str, e: TimelineEvent, terminal: bool) -> pb::TimelineEvent {
    let status = crate::watch::event_status(&e).map(status).unwrap_or(pb::InquiryStatus::Unspecified);
    pb::TimelineEvent {
        inquiry_id: inquiry_id.to_owned(),
        at: Some(timestamp(e.at)),
        kind: e.kind,
        actor: e.actor,
        details: details(e.details),
        status: status as i32,
        terminal,
    }
}

pub fn watched(w: Watched) -> pb::TimelineEvent {
    timeline_event(&w.inquiry_id.to_string(), w.event, w.terminal)
}

fn partner_request(p: &switchboard_domain::PartnerRequest) -> pb::PartnerRequest {
    let (outcome, reason, proposed_time) = match &p.outcome {
        None => (String::new(), String::new(), String::new()),
        Some(o) => {
            let (reason, proposed) = match o {
                PartnerOutcome::Rejected { reason } => (reason.clone().unwrap_or_default(), String::new()),
                PartnerOutcome::Alternative { proposed_time } => (String::new(), proposed_time.clone()),
                _ => (String::new(), String::new()),
            };
            (o.as_str().to_owned(), reason, proposed)
        }
    };
    pb::PartnerRequest {
        partner_name: p.partner_name.clone(),
        requested_at: Some(timestamp(p.requested_at)),
        deadline_at: Some(timestamp(p.deadline_at)),
        outcome,
        reason,
        proposed_time,
        responded_at: p.responded_at.map(timestamp),
    }
}

pub fn inquiry(i: Inquiry, timeline: Vec<TimelineEvent>) -> pb::Inquiry {
    let id = i.id.to_string();
    let timeline = timeline.into_iter().map(|e| timeline_event(&id, e, false)).collect();
    pb::Inquiry {
        inquiry_id: id,
        tenant_id: i.tenant_id.to_string(),
        status: status(i.status) as i32,
        status_reason: i.status_reason.unwrap_or_default(),
        channel: channel(i.channel) as i32,
        title: i.title.unwrap_or_default(),
        content: i.content,
        language: i.language.map(|l| l.as_str().to_owned()).unwrap_or_default(),
        reservation_number: i.reservation_number.map(|r| r.to_string()).unwrap_or_default(),
        customer_phone_masked: i.customer.phone.as_ref().map(|p| p.masked()).unwrap_or_default(),
        customer_email_masked: i.customer.email.as_ref().map(|e| e.masked()).unwrap_or_default(),
        attachment_count: i.attachment_count,
        classification: i.classification.map(|c| pb::Classification {
            language: c.language.as_str().to_owned(),
            intent: c.intent.as_str().to_owned(),
            urgency: urgency(c.urgency) as i32,
            sentiment: c.sentiment.as_str().to_owned(),
            reservation_number: c.reservation_number.map(|r| r.to_string()).unwrap_or_default(),
            key_phrases: c.key_phrases,
            engine: c.engine,
        }),
        answer: i.answer.unwrap_or_default(),
        escalation: i.escalation.map(|e| pb::Escalation { reason: e.reason, customer_message: e.customer_message }),
        human_answer: i.human_answer.unwrap_or_default(),
        partner: i.partner.as_ref().map(partner_request),
        timeline,
        created_at: Some(timestamp(i.created_at)),
        updated_at: Some(timestamp(i.updated_at)),
    }
}

pub fn status_view(r: StatusReport) -> pb::InquiryStatusView {
    pb::InquiryStatusView {
        inquiry_id: r.inquiry.id.to_string(),
        status: status(r.inquiry.status) as i32,
        stage: r.stage,
        stages: r.stages,
        progress: r.progress,
        estimated_time_remaining: Some(duration(r.estimate.remaining)),
        terminal: r.inquiry.status.is_terminal(),
        updated_at: Some(timestamp(r.inquiry.updated_at)),
        estimate_samples: r.estimate.samples,
        queue_depth: r.estimate.queue_depth,
    }
}

pub fn confirmation(v: ConfirmationView) -> pb::Confirmation {
    pb::Confirmation {
        inquiry_id: v.inquiry_id,
        partner_name: v.partner_name,
        language: v.language.as_str().to_owned(),
        intent: v.intent.map(|i| i.as_str().to_owned()).unwrap_or_default(),
        title: v.title.unwrap_or_default(),
        question: v.question,
        reservation_number: v.reservation_number.unwrap_or_default(),
        reservation_date: v.reservation_date.unwrap_or_default(),
        service_type: v.service_type.unwrap_or_default(),
        deadline_at: Some(timestamp(v.deadline_at)),
        status: v.status,
    }
}

pub fn reservation_input(r: Option<pb::Reservation>) -> crate::ops::ReservationInput {
    let r = r.unwrap_or_default();
    crate::ops::ReservationInput {
        reservation_number: non_empty(r.reservation_number),
        tenant_id: non_empty(r.tenant_id),
        customer_name: non_empty(r.customer_name),
        customer_phone: non_empty(r.customer_phone),
        partner_id: non_empty(r.partner_id),
        partner_name: non_empty(r.partner_name),
        partner_phone: non_empty(r.partner_phone),
        partner_locale: non_empty(r.partner_locale),
        service_type: non_empty(r.service_type),
        reservation_date: non_empty(r.reservation_date),
    }
}

pub fn reservation(r: switchboard_domain::Reservation) -> pb::Reservation {
    pb::Reservation {
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
