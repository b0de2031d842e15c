//! The partner's side: opening the link and answering it.

use crate::{PartnerDispatcher, claims, record_outcome};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use switchboard_domain::token::{TokenError, is_link_id, token_hash};
use switchboard_domain::{
    EventType, Inquiry, InquiryStatus, Intent, Language, PartnerAnswer, PartnerOutcome, TextField, TimelineEvent, pii,
    refuses_partner_answers,
};
use switchboard_store::{StoreError, TokenRecord};
use switchboard_telemetry::propagation;
use tracing::{Instrument, info};

/// Why a link cannot be shown or answered, with the HTTP status each one
/// is shown with.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// 401: forged, malformed or unknown.
    #[error("this link is not valid")]
    Invalid,
    /// 404: a link id no link was issued under (it says nothing more).
    #[error("this link is not valid")]
    Unknown,
    /// 401: past its validity or the answer deadline.
    #[error("this link has expired")]
    Expired,
    /// 409: the partner already answered. (A link the deadline used up is `Expired`.)
    #[error("this request was already answered")]
    AlreadyAnswered { outcome: Option<PartnerOutcome> },
    /// 409: the inquiry no longer takes the partner's answer: a person has
    /// it (escalated, resolved) or it failed. Its link is void.
    #[error("this request is closed: the inquiry was {status}")]
    Closed { status: InquiryStatus },
    /// 400: the answer itself is unusable.
    #[error("invalid answer: {0}")]
    BadAnswer(String),
    /// 503.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for ConfirmError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// What the partner sees (on the page, over REST and gRPC): the request,
/// never the customer's contact details, not even those typed into it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfirmationView {
    pub inquiry_id: String,
    pub partner_name: String,
    pub language: Language,
    pub intent: Option<Intent>,
    pub title: Option<String>,
    pub question: String,
    pub reservation_number: Option<String>,
    pub reservation_date: Option<String>,
    pub service_type: Option<String>,
    pub deadline_at: Timestamp,
    /// `pending`, or the recorded outcome.
    pub status: String,
}

/// A field of the inquiry as a partner may see it: the personal data the
/// detector finds in it, and what the classifier recorded (names that
/// Comprehend found), replaced by its kind (`[PHONE]`, `[EMAIL]`). The
/// partner needs the request, not the customer's contacts; reservation
/// numbers and dates are not personal data and stay.
fn for_partner(inquiry: &Inquiry, field: TextField, text: &str) -> String {
    let mut spans = pii::detect(field, text);
    if let Some(classification) = &inquiry.classification {
        spans.extend(classification.pii.iter().filter(|span| span.field == field).cloned());
    }
    pii::mask(text, field, &pii::merge(spans))
}

impl PartnerDispatcher {
    /// Loads the record of a link: a link id's (an unknown one is
    /// [`ConfirmError::Unknown`]; the record's own expiry applies), or a
    /// signed token's, texted before link ids ([`Self::checked_token`]).
    /// A link id must still derive from one of the configured keys, so
    /// dropping a leaked key voids its links as it voids signed tokens.
    async fn checked_record(&self, link: &str, now: Timestamp) -> Result<TokenRecord, ConfirmError> {
        if !is_link_id(link) {
            return self.checked_token(link, now).await;
        }
        let record = self.tokens.get_token(&token_hash(link)).await?.ok_or(ConfirmError::Unknown)?;
        if self.keys.reissue_link_id(&claims(&record), &record.token_hash).is_none() {
            return Err(ConfirmError::Invalid);
        }
        // The same second-resolution rule a signed token's expiry follows.
        if now.as_second() >= record.expires_at.as_second() {
            return Err(ConfirmError::Expired);
        }
        Ok(record)
    }

    /// Verifies a signed token and loads its record. A genuine signature is
    /// not enough: the link must also have been issued (a record under its
    /// hash) for exactly the inquiry and partner it names.
    async fn checked_token(&self, token: &str, now: Timestamp) -> Result<TokenRecord, ConfirmError> {
        let claims = self.keys.verify(token, now).map_err(|e| match e {
            TokenError::Expired => ConfirmError::Expired,
            _ => ConfirmError::Invalid,
        })?;
        let record = self.tokens.get_token(&token_hash(token)).await?.ok_or(ConfirmError::Invalid)?;
        if record.inquiry_id.to_string() != claims.inquiry_id || record.partner_id != claims.partner_id {
            return Err(ConfirmError::Invalid);
        }
        Ok(record)
    }

    /// Why the link can no longer be answered, if it cannot: the partner
    /// answered it, the deadline used it up (a late answer is told the link
    /// expired, not that it was used), or the inquiry left
    /// `awaiting_partner` for a person or a failure.
    fn refusal(record: &TokenRecord, inquiry: &Inquiry, now: Timestamp) -> Option<ConfirmError> {
        match &record.outcome {
            Some(PartnerOutcome::TimedOut) => return Some(ConfirmError::Expired),
            Some(outcome) => return Some(ConfirmError::AlreadyAnswered { outcome: Some(outcome.clone()) }),
            None => {}
        }
        if refuses_partner_answers(inquiry.status) {
            return Some(ConfirmError::Closed { status: inquiry.status });
        }
        if record.used {
            return Some(ConfirmError::AlreadyAnswered { outcome: None });
        }
        (now >= record.deadline_at).then_some(ConfirmError::Expired)
    }

    async fn inquiry(&self, record: &TokenRecord) -> Result<Inquiry, ConfirmError> {
        self.stage.inquiries.get_inquiry(record.inquiry_id).await?.ok_or(ConfirmError::Invalid)
    }

    async fn view(&self, record: &TokenRecord) -> Result<ConfirmationView, ConfirmError> {
        self.view_of(record, self.inquiry(record).await?).await
    }

    async fn view_of(&self, record: &TokenRecord, inquiry: Inquiry) -> Result<ConfirmationView, ConfirmError> {
        // The inquiry's own tenant's booking, never another tenant's with the same number.
        let reservation = match &inquiry.reservation_number {
            Some(n) => self.reservations.get_reservation(&inquiry.tenant_id, n).await?.filter(|r| r.tenant_id == inquiry.tenant_id),
            None => None,
        };
        Ok(ConfirmationView {
            inquiry_id: inquiry.id.to_string(),
            partner_name: inquiry.partner.as_ref().map(|p| p.partner_name.clone()).unwrap_or_default(),
            language: reservation.as_ref().map(|r| r.partner_locale).unwrap_or(Language::Ko),
            intent: inquiry.classification.as_ref().map(|c| c.intent),
            title: inquiry.title.as_deref().map(|title| for_partner(&inquiry, TextField::Title, title)),
            question: for_partner(&inquiry, TextField::Content, &inquiry.content),
            reservation_number: inquiry.reservation_number.as_ref().map(|n| n.to_string()),
            reservation_date: reservation.as_ref().map(|r| r.reservation_date.clone()),
            service_type: reservation.as_ref().map(|r| r.service_type.clone()),
            deadline_at: record.deadline_at,
            status: record.outcome.as_ref().map(|o| o.as_str()).unwrap_or("pending").to_owned(),
        })
    }

    /// Shows the request behind a link and records the first opening.
    /// A used or expired link is an error, so the page can say which.
    pub async fn open(&self, token: &str) -> Result<ConfirmationView, ConfirmError> {
        let now = self.stage.now();
        let record = self.checked_record(token, now).await?;
        let inquiry = self.inquiry(&record).await?;
        if let Some(refused) = Self::refusal(&record, &inquiry, now) {
            return Err(refused);
        }
        if self.tokens.mark_token_opened(&record.token_hash, now).await? {
            let opened = TimelineEvent::once("partner.opened", "partner", now, json!({}));
            self.stage.inquiries.append_event(record.inquiry_id, &opened).await?;
        }
        // The opening is a timeline event, not a change of the inquiry: the one read serves.
        self.view_of(&record, inquiry).await
    }

    /// Records the partner's answer, once. Returns the updated view.
    pub async fn respond(&self, token: &str, answer: PartnerAnswer) -> Result<ConfirmationView, ConfirmError> {
        if let PartnerAnswer::Alternative { proposed_time } = &answer
            && proposed_time.trim().is_empty()
        {
            return Err(ConfirmError::BadAnswer("proposed_time is required for an alternative".into()));
        }
        let now = self.stage.now();
        let record = self.checked_record(token, now).await?;
        let inquiry = self.inquiry(&record).await?;
        if let Some(refused) = Self::refusal(&record, &inquiry, now) {
            if matches!(refused, ConfirmError::Closed { .. }) {
                // The write that closed the inquiry voided its link; one
                // issued just after it (a dispatcher racing a person) is voided here.
                self.tokens.void_tokens(record.inquiry_id, now).await?;
            }
            return Err(refused);
        }
        let outcome = PartnerOutcome::from(answer);
        // The conditional use is where an answer and the inquiry's closing
        // meet: whichever used the token first stands.
        let record = match self.tokens.consume_token(&record.token_hash, &outcome, now).await {
            Ok(r) => r,
            Err(StoreError::Conflict(_)) => {
                let used = self.tokens.get_token(&record.token_hash).await?.ok_or(ConfirmError::Invalid)?;
                let inquiry = self.inquiry(&used).await?;
                return Err(Self::refusal(&used, &inquiry, now).unwrap_or(ConfirmError::AlreadyAnswered { outcome: None }));
            }
            Err(e) => return Err(e.into()),
        };
        info!(inquiry_id = %record.inquiry_id, outcome = outcome.as_str(), "partner answered");
        // The answer arrives on the partner's own HTTP request, a trace of
        // its own; recording and publishing it continue the inquiry's
        // trace instead (from the context the dispatcher kept when it
        // texted the partner), linked to the request.
        let span = tracing::info_span!(
            "partner respond",
            otel.kind = "internal",
            switchboard.inquiry_id = %record.inquiry_id,
            partner.outcome = outcome.as_str(),
        );
        propagation::add_link(&span, &propagation::current_context());
        let inquiry_trace = self.inquiry_trace(record.inquiry_id).await;
        switchboard_telemetry::in_service(&span, self.stage.service.name(), inquiry_trace);
        async {
            let inquiry = self.stage.inquiries.get_inquiry(record.inquiry_id).await?.ok_or(ConfirmError::Invalid)?;
            // If this fails after the token is used, the deadline message
            // republishes the answer (see `on_deadline`), so it is not lost.
            let event = TimelineEvent::once("partner.responded", "partner", now, json!({ "outcome": outcome }));
            let inquiry = record_outcome(&self.stage, &inquiry, &outcome, now, &event)
                .await
                .map_err(|o| ConfirmError::Unavailable(format!("{o:?}")))?;
            let published = self.stage.event(EventType::PartnerResponded, &inquiry, "1", json!({ "outcome": outcome }));
            self.stage.publish(&[published]).await.map_err(|o| ConfirmError::Unavailable(format!("{o:?}")))
        }
        .instrument(span)
        .await?;
        self.view(&record).await
    }

    /// The inquiry's trace context as the dispatcher recorded it on the
    /// `partner.sms_sent` timeline event, if it can be read.
    async fn inquiry_trace(&self, inquiry_id: switchboard_domain::InquiryId) -> Option<propagation::Context> {
        let timeline = self.stage.inquiries.timeline(inquiry_id).await.ok()?;
        let sent = timeline.iter().rev().find(|e| e.kind == "partner.sms_sent")?;
        propagation::from_traceparent(sent.details.get("traceparent")?.as_str()?)
    }
}
