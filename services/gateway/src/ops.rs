//! What every API call does, whatever the protocol. REST handlers
//! (`inquiries.rs`, `rest.rs`, `chat.rs`) and the gRPC services
//! (`grpc/`) parse their input, call these, and render the result, so both
//! behave the same and fail with the same [`ApiError`].

use crate::error::ApiError;
use crate::{Api, Gateway};
use jiff::Timestamp;
use serde_json::json;
use std::net::IpAddr;
use subtle::ConstantTimeEq;
use switchboard_domain::tenant::hash_api_key;
use switchboard_domain::{
    Channel, CloudEvent, Escalation, EventType, FieldError, Inquiry, InquiryId, InquiryStatus, Language, PhoneNumber, Reservation,
    ReservationNumber, SubmitInquiry, Tenant, TenantId, TimelineEvent, ValidationErrors,
};
use switchboard_intake::{Accepted, SubmitError};
use switchboard_messaging::events;
use switchboard_store::{TransitionError, TransitionOutcome, transition};
use tracing::info;

/// Longest accepted idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest escalation reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest human answer, in characters.
pub const MAX_HUMAN_ANSWER_CHARS: usize = 10_000;
/// The CloudEvents source of the events the gateway publishes.
const SOURCE: &str = "switchboard/gateway";
/// Marks an escalation the API made (so a retried call re-announces it,
/// while one the pipeline made is left to the pipeline).
const REQUESTED: &str = "escalated on request";

/// Who is calling: a tenant's API client or an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    Tenant(Tenant),
    Operator { name: String },
}

impl Principal {
    /// The timeline's `actor` for changes this caller makes.
    pub fn actor(&self) -> String {
        match self {
            Self::Tenant(t) => format!("tenant:{}", t.id),
            Self::Operator { name } => format!("operator:{name}"),
        }
    }

    /// The tenant, or PERMISSION_DENIED for an operator.
    pub fn tenant(&self) -> Result<&Tenant, ApiError> {
        match self {
            Self::Tenant(t) => Ok(t),
            Self::Operator { .. } => {
                Err(ApiError::PermissionDenied("operator keys do not submit inquiries: use the tenant's API key".into()))
            }
        }
    }

    /// Ok for an operator, PERMISSION_DENIED for a tenant key.
    pub fn operator(&self, what: &str) -> Result<&str, ApiError> {
        match self {
            Self::Operator { name } => Ok(name),
            Self::Tenant(_) => Err(ApiError::PermissionDenied(format!("{what} needs an operator key"))),
        }
    }

    /// Whether this caller may see `inquiry`.
    pub fn may_see(&self, inquiry: &Inquiry) -> bool {
        match self {
            Self::Tenant(t) => t.id == inquiry.tenant_id,
            Self::Operator { .. } => true,
        }
    }
}

/// Counts a request from `client` against the per-address limit.
pub fn check_client(api: &Api, client: Option<IpAddr>) -> Result<(), ApiError> {
    match client {
        Some(ip) => api.limits().check_ip(ip),
        // No address (a router driven directly in tests): only the key limit applies.
        None => Ok(()),
    }
}

/// The caller behind an API key, counted against the per-key limit.
pub async fn authenticate(gateway: &Gateway, key: Option<&str>) -> Result<Principal, ApiError> {
    let key =
        key.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| ApiError::Unauthenticated("the x-api-key header is required".into()))?;
    let principal = if let Some(name) = gateway.api.operators().find(key) {
        Principal::Operator { name: name.to_owned() }
    } else {
        // Looked up by hash: the key itself is never stored. The stored hash
        // is compared again in constant time, so a lookup that matched on
        // anything but the whole hash can never let a key in.
        let hash = hash_api_key(key);
        let tenant = gateway
            .tenants
            .tenant_by_api_key_hash(&hash)
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?
            .filter(|t| bool::from(t.api_key_hash.as_bytes().ct_eq(hash.as_bytes())))
            .ok_or_else(|| ApiError::Unauthenticated("the API key is not valid".into()))?;
        Principal::Tenant(tenant)
    };
    gateway.api.limits().check_key(&principal.actor())?;
    Ok(principal)
}

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
    gateway.intake.submit(&tenant.id, request, idempotency_key, default_channel).await.map_err(|e| match e {
        SubmitError::Invalid(errors) => ApiError::Invalid(errors),
        SubmitError::UnknownTenant(t) => ApiError::Unauthenticated(format!("unknown tenant {t}")),
        SubmitError::Unavailable(why) => ApiError::Unavailable(why),
    })
}

/// The inquiry `id` if the caller may see it. Another tenant's inquiry is
/// "not found": its existence is not theirs to learn.
pub async fn load(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<Inquiry, ApiError> {
    let id = InquiryId::parse(id).map_err(|e| ApiError::field(field, &e.to_string()))?;
    gateway
        .inquiries
        .get_inquiry(id)
        .await?
        .filter(|i| principal.may_see(i))
        .ok_or_else(|| ApiError::NotFound(format!("inquiry {id} not found")))
}

/// An inquiry with its timeline (oldest first).
pub async fn detail(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<(Inquiry, Vec<TimelineEvent>), ApiError> {
    let inquiry = load(gateway, principal, id, field).await?;
    let timeline = gateway.inquiries.timeline(inquiry.id).await?;
    Ok((inquiry, timeline))
}

/// Status, progress and the estimated time to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub inquiry: Inquiry,
    pub stage: u32,
    pub stages: u32,
    pub progress: f32,
    pub estimate: crate::eta::Estimate,
}

pub async fn status(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<StatusReport, ApiError> {
    let inquiry = load(gateway, principal, id, field).await?;
    let api = &gateway.api;
    if !inquiry.status.is_terminal() {
        api.eta().refresh(gateway.inquiries.as_ref(), api.queues()).await;
    }
    let estimate = api.eta().estimate(&inquiry, Timestamp::now());
    let stage = inquiry.status.stage();
    Ok(StatusReport { stage, stages: InquiryStatus::STAGES, progress: stage as f32 / InquiryStatus::STAGES as f32, estimate, inquiry })
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

async fn announce(gateway: &Gateway, event_type: EventType, inquiry: &Inquiry, data: serde_json::Value) -> Result<(), ApiError> {
    // The same step id on a retried call: consumers see a repeat, not a second event.
    let event = CloudEvent::for_inquiry(event_type, inquiry.id, &inquiry.tenant_id, "gateway", SOURCE, Timestamp::now(), data);
    gateway.api.topic().publish(&[events::publication(&event)]).await.map_err(|e| ApiError::Unavailable(e.to_string()))
}

/// Hands an inquiry to a person (tenant: its own; operator: any).
pub async fn escalate(gateway: &Gateway, principal: &Principal, id: &str, reason: Option<&str>, field: &str) -> Result<Inquiry, ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::field("reason", "must be at most 500 characters"));
    }
    let inquiry = load(gateway, principal, id, field).await?;
    let why = match reason {
        Some(r) => format!("{REQUESTED} by {}: {r}", principal.actor()),
        None => format!("{REQUESTED} by {}", principal.actor()),
    };
    let message = escalation_message(inquiry.reply_language());
    let details = json!({ "requested_by": principal.actor() });
    let outcome =
        transition(gateway.inquiries.as_ref(), inquiry.id, InquiryStatus::Escalated, &principal.actor(), Timestamp::now(), details, |i| {
            i.escalation = Some(Escalation { reason: why.clone(), customer_message: message.clone() });
        })
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
        announce(gateway, EventType::InquiryEscalated, &inquiry, json!({ "reason": "requested" })).await?;
    }
    info!(inquiry_id = %inquiry.id, actor = %principal.actor(), "inquiry escalated through the API");
    Ok(inquiry)
}

/// An operator's answer: resolves the inquiry and has the customer told.
pub async fn resolve(
    gateway: &Gateway,
    principal: &Principal,
    id: &str,
    human_answer: Option<&str>,
    field: &str,
) -> Result<Inquiry, ApiError> {
    principal.operator("resolving an inquiry")?;
    let answer = human_answer.map(str::trim).unwrap_or_default();
    if answer.is_empty() {
        return Err(ApiError::field("human_answer", "is required and must not be blank"));
    }
    if answer.chars().count() > MAX_HUMAN_ANSWER_CHARS {
        return Err(ApiError::field("human_answer", "must be at most 10000 characters"));
    }
    let inquiry = load(gateway, principal, id, field).await?;
    let details = json!({ "resolved_by": principal.actor() });
    let outcome =
        transition(gateway.inquiries.as_ref(), inquiry.id, InquiryStatus::Resolved, &principal.actor(), Timestamp::now(), details, |i| {
            i.human_answer = Some(answer.to_owned());
        })
        .await
        .map_err(|e| transition_error(e, "resolved"))?;
    let inquiry = match outcome {
        TransitionOutcome::Applied(i) => i,
        // The same answer again is a retry; another answer is a conflict.
        TransitionOutcome::AlreadyDone(i) if i.human_answer.as_deref() == Some(answer) => i,
        TransitionOutcome::AlreadyDone(i) => {
            return Err(ApiError::FailedPrecondition {
                detail: "the inquiry is already resolved with another answer".into(),
                current: Some(i.status),
            });
        }
    };
    announce(gateway, EventType::InquiryResolved, &inquiry, json!({ "resolved_by": principal.actor() })).await?;
    info!(inquiry_id = %inquiry.id, actor = %principal.actor(), "inquiry resolved");
    Ok(inquiry)
}

/// A reservation as a client sends it: nothing checked yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct ReservationInput {
    #[serde(default)]
    pub reservation_number: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_phone: Option<String>,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub partner_name: Option<String>,
    #[serde(default)]
    pub partner_phone: Option<String>,
    /// `ko` or `en`; `ko` when absent.
    #[serde(default)]
    pub partner_locale: Option<String>,
    #[serde(default)]
    pub service_type: Option<String>,
    #[serde(default)]
    pub reservation_date: Option<String>,
}

impl ReservationInput {
    /// Validates every field, reporting all problems at once.
    pub fn parse(self) -> Result<Reservation, ValidationErrors> {
        let mut errors = Vec::new();
        let mut text = |field: &str, value: Option<String>, max: usize| -> String {
            let value = value.map(|v| v.trim().to_owned()).unwrap_or_default();
            if value.is_empty() {
                errors.push(FieldError::new(field, "is required"));
            } else if value.chars().count() > max {
                errors.push(FieldError::new(field, format!("must be at most {max} characters")));
            }
            value
        };
        let number = text("reservation_number", self.reservation_number, 32);
        let tenant = text("tenant_id", self.tenant_id, 64);
        let customer_name = text("customer_name", self.customer_name, 200);
        let customer_phone = text("customer_phone", self.customer_phone, 32);
        let partner_id = text("partner_id", self.partner_id, 64);
        let partner_name = text("partner_name", self.partner_name, 200);
        let partner_phone = text("partner_phone", self.partner_phone, 32);
        let service_type = text("service_type", self.service_type, 64);
        let reservation_date = text("reservation_date", self.reservation_date, 64);
        let parsed_number = ReservationNumber::parse(&number).map_err(|e| FieldError::new("reservation_number", e.to_string()));
        let parsed_tenant = TenantId::parse(&tenant).map_err(|e| FieldError::new("tenant_id", e.to_string()));
        let parsed_customer_phone = PhoneNumber::parse(&customer_phone).map_err(|e| FieldError::new("customer_phone", e.to_string()));
        let parsed_partner_phone = PhoneNumber::parse(&partner_phone).map_err(|e| FieldError::new("partner_phone", e.to_string()));
        let locale = match self.partner_locale.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => Ok(Language::Ko),
            Some(l) => Language::parse(l).ok_or_else(|| FieldError::new("partner_locale", "must be ko or en")),
        };
        let required_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        // A missing field is reported once, as missing.
        let keep_errors = |e: FieldError, errors: &mut Vec<FieldError>| {
            if !required_fields.contains(&e.field) {
                errors.push(e);
            }
        };
        let n = parsed_number.map_err(|e| keep_errors(e, &mut errors)).ok();
        let t = parsed_tenant.map_err(|e| keep_errors(e, &mut errors)).ok();
        let cp = parsed_customer_phone.map_err(|e| keep_errors(e, &mut errors)).ok();
        let pp = parsed_partner_phone.map_err(|e| keep_errors(e, &mut errors)).ok();
        let l = locale.map_err(|e| keep_errors(e, &mut errors)).ok();
        match (n, t, cp, pp, l) {
            (Some(reservation_number), Some(tenant_id), Some(customer_phone), Some(partner_phone), Some(partner_locale))
                if errors.is_empty() =>
            {
                Ok(Reservation {
                    reservation_number,
                    tenant_id,
                    customer_name,
                    customer_phone,
                    partner_id,
                    partner_name,
                    partner_phone,
                    partner_locale,
                    service_type,
                    reservation_date,
                })
            }
            _ => Err(ValidationErrors(errors)),
        }
    }
}

/// Stores a reservation (operator key only).
pub async fn put_reservation(gateway: &Gateway, principal: &Principal, input: ReservationInput) -> Result<Reservation, ApiError> {
    principal.operator("adding reservations")?;
    let reservation = input.parse()?;
    gateway.api.reservations().put_reservation(&reservation).await?;
    info!(tenant_id = %reservation.tenant_id, actor = %principal.actor(), "reservation stored");
    Ok(reservation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ReservationInput {
        ReservationInput {
            reservation_number: Some("HT-20481123".into()),
            tenant_id: Some("demo".into()),
            customer_name: Some("Kim".into()),
            customer_phone: Some("010-1234-5678".into()),
            partner_id: Some("hotel".into()),
            partner_name: Some("Hotel".into()),
            partner_phone: Some("+821098765432".into()),
            partner_locale: None,
            service_type: Some("hotel".into()),
            reservation_date: Some("2026-12-24".into()),
        }
    }

    #[test]
    fn a_complete_reservation_parses_with_a_korean_partner_page_by_default() {
        let r = valid().parse().unwrap();
        assert_eq!((r.reservation_number.as_str(), r.partner_locale), ("HT-20481123", Language::Ko));
    }

    #[test]
    fn every_bad_reservation_field_is_named_once() {
        let input = ReservationInput {
            reservation_number: Some("nope".into()),
            customer_phone: None,
            partner_locale: Some("fr".into()),
            ..valid()
        };
        let fields: Vec<String> = input.parse().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["customer_phone", "reservation_number", "partner_locale"]);
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
