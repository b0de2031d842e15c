//! Between domain values and the `switchboard.v1` messages.

use crate::conversation::Summary;
use crate::error::ApiError;
use crate::listing::ListParams;
use crate::message_views::carried_message;
use crate::ops::StatusReport;
use crate::views::{PartnerStepView, ReservationView, partner_steps};
use crate::watch::{Watched, event_status};
use base64::Engine;
use jiff::Timestamp;
use serde_json::Value;
use switchboard_domain::submission::AttachmentInput;
use switchboard_domain::{
    Author, Channel, Classification, Inquiry, InquiryStatus, Message, PartnerOutcome, ReservationInput, Satisfaction, SentimentTrend, Sla,
    SlaState, SubmitInquiry, Suggestions, TimelineEvent, Urgency,
};
use switchboard_partner_dispatcher::ConfirmationView;
use switchboard_proto::v1 as pb;

pub(crate) fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.as_second(), nanos: t.subsec_nanosecond() }
}

pub(crate) fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration { seconds: d.as_secs().min(i64::MAX as u64) as i64, nanos: d.subsec_nanos() as i32 }
}

pub(crate) fn status(s: InquiryStatus) -> pb::InquiryStatus {
    match s {
        InquiryStatus::Received => pb::InquiryStatus::Received,
        InquiryStatus::Analyzing => pb::InquiryStatus::Analyzing,
        InquiryStatus::Classified => pb::InquiryStatus::Classified,
        InquiryStatus::AwaitingPartner => pb::InquiryStatus::AwaitingPartner,
        InquiryStatus::AwaitingCustomer => pb::InquiryStatus::AwaitingCustomer,
        InquiryStatus::Answered => pb::InquiryStatus::Answered,
        InquiryStatus::Escalated => pb::InquiryStatus::Escalated,
        InquiryStatus::Reopened => pb::InquiryStatus::Reopened,
        InquiryStatus::Resolved => pb::InquiryStatus::Resolved,
        InquiryStatus::Failed => pb::InquiryStatus::Failed,
    }
}

fn urgency(u: Urgency) -> pb::Urgency {
    match u {
        Urgency::Low => pb::Urgency::Low,
        Urgency::Medium => pb::Urgency::Medium,
        Urgency::High => pb::Urgency::High,
    }
}

fn channel(c: Channel) -> pb::Channel {
    match c {
        Channel::Web => pb::Channel::Web,
        Channel::Api => pb::Channel::Api,
        Channel::Chat => pb::Channel::Chat,
        Channel::Event => pb::Channel::Event,
    }
}

/// `None` for an empty (or blank) proto string.
pub(crate) fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

/// A submission as intake reads it. Attachment bytes are encoded as the
/// REST body carries them, so both paths validate the same way.
pub(crate) fn submit_request(r: pb::SubmitInquiryRequest) -> Result<(SubmitInquiry, Option<String>), ApiError> {
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

/// A listing request written as the REST query string writes it, so both
/// are checked by one [`ListParams::parse`]. Unset fields (zero, the
/// UNSPECIFIED enum value) are absent; a value out of range is passed on as
/// written, to be named by the parse.
pub(crate) fn list_params(r: pb::ListInquiriesRequest) -> ListParams {
    let status = match pb::InquiryStatus::try_from(r.status) {
        Ok(pb::InquiryStatus::Unspecified) => None,
        Ok(s) => Some(from_status(s).map_or_else(|| r.status.to_string(), |s| s.as_str().to_owned())),
        Err(_) => Some(r.status.to_string()),
    };
    let urgency = match pb::Urgency::try_from(r.urgency) {
        Ok(pb::Urgency::Unspecified) => None,
        Ok(pb::Urgency::Low) => Some(Urgency::Low.as_str().to_owned()),
        Ok(pb::Urgency::Medium) => Some(Urgency::Medium.as_str().to_owned()),
        Ok(pb::Urgency::High) => Some(Urgency::High.as_str().to_owned()),
        Err(_) => Some(r.urgency.to_string()),
    };
    // A timestamp out of jiff's range is written so that it cannot parse.
    let time = |t: prost_types::Timestamp| Timestamp::new(t.seconds, t.nanos).map_or_else(|_| format!("{}s", t.seconds), |t| t.to_string());
    let sort = match pb::ListOrder::try_from(r.order) {
        Ok(pb::ListOrder::Unspecified) => None,
        Ok(pb::ListOrder::Created) => Some("created".to_owned()),
        Ok(pb::ListOrder::SlaDue) => Some("sla_due".to_owned()),
        Err(_) => Some(r.order.to_string()),
    };
    let sla_state = match pb::SlaState::try_from(r.sla_state) {
        Ok(pb::SlaState::Unspecified) => None,
        Ok(pb::SlaState::Pending) => Some(SlaState::Pending.as_str().to_owned()),
        Ok(pb::SlaState::Met) => Some(SlaState::Met.as_str().to_owned()),
        Ok(pb::SlaState::Breached) => Some(SlaState::Breached.as_str().to_owned()),
        Err(_) => Some(r.sla_state.to_string()),
    };
    ListParams {
        status,
        created_after: r.created_after.map(time),
        created_before: r.created_before.map(time),
        urgency,
        tenant_id: non_empty(r.tenant_id),
        sort,
        sla_state,
        page_size: (r.page_size != 0).then(|| r.page_size.to_string()),
        page_token: non_empty(r.page_token),
    }
}

fn from_status(s: pb::InquiryStatus) -> Option<InquiryStatus> {
    Some(match s {
        pb::InquiryStatus::Unspecified => return None,
        pb::InquiryStatus::Received => InquiryStatus::Received,
        pb::InquiryStatus::Analyzing => InquiryStatus::Analyzing,
        pb::InquiryStatus::Classified => InquiryStatus::Classified,
        pb::InquiryStatus::AwaitingPartner => InquiryStatus::AwaitingPartner,
        pb::InquiryStatus::AwaitingCustomer => InquiryStatus::AwaitingCustomer,
        pb::InquiryStatus::Answered => InquiryStatus::Answered,
        pb::InquiryStatus::Escalated => InquiryStatus::Escalated,
        pb::InquiryStatus::Reopened => InquiryStatus::Reopened,
        pb::InquiryStatus::Resolved => InquiryStatus::Resolved,
        pb::InquiryStatus::Failed => InquiryStatus::Failed,
    })
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

/// One timeline event of `inquiry_id`.
pub(crate) fn timeline_event(inquiry_id: &str, e: TimelineEvent, terminal: bool) -> pb::TimelineEvent {
    let status = event_status(&e).map(status).unwrap_or(pb::InquiryStatus::Unspecified);
    let carried = carried_message(&e).map(message);
    pb::TimelineEvent {
        inquiry_id: inquiry_id.to_owned(),
        at: Some(timestamp(e.at)),
        kind: e.kind,
        actor: e.actor,
        details: details(e.details),
        status: status as i32,
        terminal,
        message: carried,
    }
}

pub(crate) fn watched(w: Watched) -> pb::TimelineEvent {
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

fn partner_step(s: PartnerStepView) -> pb::PartnerStep {
    pb::PartnerStep { step: s.step.label().to_owned(), at: Some(timestamp(s.at)), kind: s.kind }
}

/// An inquiry with its timeline and partner steps (listings pass no timeline).
pub(crate) fn inquiry(i: Inquiry, timeline: Vec<TimelineEvent>) -> pb::Inquiry {
    let partner_steps = partner_steps(&i, &timeline).unwrap_or_default().into_iter().map(partner_step).collect();
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
        classification: i.classification.map(classification),
        answer: i.answer.unwrap_or_default(),
        escalation: i.escalation.map(|e| pb::Escalation { reason: e.reason, customer_message: e.customer_message }),
        human_answer: i.human_answer.unwrap_or_default(),
        partner: i.partner.as_ref().map(partner_request),
        timeline,
        created_at: Some(timestamp(i.created_at)),
        updated_at: Some(timestamp(i.updated_at)),
        partner_steps,
        message_count: 0,
        sentiment_trend: pb::SentimentTrend::Unspecified as i32,
        satisfaction: None,
        sla: i.sla.map(sla),
    }
}

/// An escalation's first-response clock.
fn sla(s: Sla) -> pb::Sla {
    pb::Sla {
        due_at: Some(timestamp(s.due_at)),
        state: sla_state(s.state) as i32,
        breached_at: s.breached_at.map(timestamp),
        started_at: Some(timestamp(s.started_at)),
        responded_at: s.responded_at.map(timestamp),
        urgency: urgency(s.urgency) as i32,
    }
}

fn sla_state(s: SlaState) -> pb::SlaState {
    match s {
        SlaState::Pending => pb::SlaState::Pending,
        SlaState::Met => pb::SlaState::Met,
        SlaState::Breached => pb::SlaState::Breached,
    }
}

/// [`inquiry`] with its conversation's size and trend (GetInquiry).
pub(crate) fn inquiry_detail(i: Inquiry, timeline: Vec<TimelineEvent>, summary: Summary) -> pb::Inquiry {
    let satisfaction = Satisfaction::latest(&timeline).map(|s| pb::Satisfaction {
        rating: s.rating.as_str().to_owned(),
        comment: s.comment.unwrap_or_default(),
        answered_by: s.answered_by.as_str().to_owned(),
        intent: s.intent.map(|i| i.as_str().to_owned()).unwrap_or_default(),
        rated_at: Some(timestamp(s.rated_at)),
    });
    pb::Inquiry { message_count: summary.message_count, sentiment_trend: trend(summary.trend) as i32, satisfaction, ..inquiry(i, timeline) }
}

/// Reply drafts (GetSuggestions).
pub(crate) fn suggestions(s: Suggestions) -> pb::GetSuggestionsResponse {
    pb::GetSuggestionsResponse {
        suggestions: s
            .suggestions
            .into_iter()
            .map(|d| pb::ReplySuggestion {
                level: d.level.as_str().to_owned(),
                text: d.text,
                commits_to: d.commits_to,
                grounded_on: d
                    .grounded_on
                    .into_iter()
                    .map(|g| pb::Grounding { faq_entry_id: g.faq_entry_id.to_string(), question: g.question })
                    .collect(),
            })
            .collect(),
        engine: s.engine,
    }
}

fn classification(c: Classification) -> pb::Classification {
    pb::Classification {
        language: c.language.as_str().to_owned(),
        intent: c.intent.as_str().to_owned(),
        urgency: urgency(c.urgency) as i32,
        sentiment: c.sentiment.as_str().to_owned(),
        reservation_number: c.reservation_number.map(|r| r.to_string()).unwrap_or_default(),
        key_phrases: c.key_phrases,
        engine: c.engine,
    }
}

fn trend(t: SentimentTrend) -> pb::SentimentTrend {
    match t {
        SentimentTrend::Improving => pb::SentimentTrend::Improving,
        SentimentTrend::Steady => pb::SentimentTrend::Steady,
        SentimentTrend::Worsening => pb::SentimentTrend::Worsening,
    }
}

fn author(a: Author) -> pb::Author {
    match a {
        Author::Customer => pb::Author::Customer,
        Author::Ai => pb::Author::Ai,
        Author::Operator => pb::Author::Operator,
        Author::System => pb::Author::System,
    }
}

/// One message of a conversation.
pub(crate) fn message(m: Message) -> pb::Message {
    pb::Message {
        message_id: m.id,
        inquiry_id: m.inquiry_id.to_string(),
        sequence: m.sequence,
        author: author(m.author) as i32,
        channel: m.channel.as_str().to_owned(),
        language: m.language.map(|l| l.as_str().to_owned()).unwrap_or_default(),
        text: m.text,
        created_at: Some(timestamp(m.created_at)),
        classification: m.classification.map(classification),
    }
}

pub(crate) fn status_view(r: StatusReport) -> pb::InquiryStatusView {
    pb::InquiryStatusView {
        inquiry_id: r.last.inquiry_id.to_string(),
        status: status(r.last.status) as i32,
        stage: r.stage,
        stages: r.stages,
        progress: r.progress,
        estimated_time_remaining: Some(duration(r.estimate.remaining)),
        terminal: r.last.status.is_terminal(),
        updated_at: Some(timestamp(r.last.updated_at)),
        estimate_samples: r.estimate.samples,
        queue_depth: r.estimate.queue_depth,
    }
}

pub(crate) fn confirmation(v: ConfirmationView) -> pb::Confirmation {
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

/// A reservation as sent: blank fields are absent.
pub(crate) fn reservation_input(r: Option<pb::Reservation>) -> ReservationInput {
    let r = r.unwrap_or_default();
    ReservationInput {
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

/// A stored reservation as REST shows it ([`ReservationView`]: masked), in
/// the message's shape.
pub(crate) fn reservation(v: ReservationView) -> pb::Reservation {
    pb::Reservation {
        reservation_number: v.reservation_number,
        tenant_id: v.tenant_id,
        customer_name: v.customer_name,
        customer_phone: v.customer_phone,
        partner_id: v.partner_id,
        partner_name: v.partner_name,
        partner_phone: v.partner_phone,
        partner_locale: v.partner_locale,
        service_type: v.service_type,
        reservation_date: v.reservation_date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::fixtures::InquiryBuilder;
    use switchboard_domain::{Classification, Intent, Language, ReservationNumber, Sentiment};

    fn event(kind: &str, second: i64) -> TimelineEvent {
        TimelineEvent {
            at: Timestamp::from_second(1_800_000_000 + second).unwrap(),
            kind: kind.into(),
            actor: "partner-dispatcher".into(),
            details: Value::Null,
            trace_id: None,
            key: format!("{kind}#{second}"),
        }
    }

    fn classified(intent: Intent) -> Inquiry {
        InquiryBuilder::new()
            .classification(Classification {
                language: Language::Ko,
                intent,
                urgency: Urgency::Medium,
                sentiment: Sentiment::Neutral,
                reservation_number: Some(ReservationNumber::parse("HT-20481123").unwrap()),
                key_phrases: vec![],
                pii: vec![],
                engine: "local-rules".into(),
                certainty: None,
                unsure: None,
            })
            .build()
    }

    fn timeline() -> Vec<TimelineEvent> {
        vec![event("status.received", 0), event("status.classified", 1), event("partner.sms_sent", 2), event("partner.opened", 3)]
    }

    #[test]
    fn an_inquiry_that_needs_a_partner_carries_the_same_partner_steps_as_rest() {
        let inquiry = classified(Intent::ReservationChange);
        let rest = crate::views::InquiryView::detail(inquiry.clone(), timeline(), 1, switchboard_domain::SentimentTrend::Steady)
            .partner_steps
            .unwrap();
        let grpc = super::inquiry(inquiry, timeline()).partner_steps;
        let steps: Vec<(&str, &str)> = grpc.iter().map(|s| (s.step.as_str(), s.kind.as_str())).collect();
        assert_eq!(steps, [("Created", "status.received"), ("SMSSent", "partner.sms_sent"), ("Opened", "partner.opened")]);
        assert_eq!(grpc.len(), rest.len());
        for (g, r) in grpc.iter().zip(&rest) {
            assert_eq!((g.step.as_str(), g.at, &g.kind), (r.step.label(), Some(timestamp(r.at)), &r.kind));
        }
    }

    #[test]
    fn an_inquiry_without_a_partner_has_no_partner_steps() {
        assert!(super::inquiry(classified(Intent::GeneralQuestion), timeline()).partner_steps.is_empty());
    }

    #[test]
    fn list_requests_are_written_as_the_rest_query_string() {
        let p = list_params(pb::ListInquiriesRequest {
            status: pb::InquiryStatus::Escalated as i32,
            urgency: pb::Urgency::High as i32,
            created_after: Some(prost_types::Timestamp { seconds: 1_800_000_000, nanos: 0 }),
            page_size: 0,
            ..Default::default()
        });
        assert_eq!(p.status.as_deref(), Some("escalated"));
        assert_eq!(p.urgency.as_deref(), Some("high"));
        assert_eq!(p.created_after.as_deref(), Some("2027-01-15T08:00:00Z"));
        assert_eq!(p.page_size, None);
        let bad = list_params(pb::ListInquiriesRequest { status: 99, page_size: 101, ..Default::default() }).parse();
        match bad {
            Err(ApiError::Invalid(errors)) => {
                let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["status", "page_size"]);
            }
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }
}
