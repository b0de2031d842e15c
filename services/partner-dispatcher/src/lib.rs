//! Partner-dispatcher: seed 002's confirmation workflow without a workflow engine.
//!
//! On `inquiry.classified` (needs a partner) it verifies the reservation,
//! issues a signed single-use link, texts it to the partner, moves the
//! inquiry to `awaiting_partner` and schedules the deadline as a delayed
//! message to its own queue. The partner answers through the gateway
//! ([`PartnerDispatcher::respond`]); whichever comes first, the answer or
//! the deadline, uses the token (a conditional update), so exactly one
//! outcome is published: `partner.responded` or `partner.timed_out`.

mod confirmation;
mod sms_text;

pub use confirmation::{ConfirmError, ConfirmationView};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::{ChannelError, SmsMessage, SmsSender};
use switchboard_domain::event::deterministic_id;
use switchboard_domain::token::{CONFIRM_SCOPE, TokenClaims, TokenKeys, token_hash};
use switchboard_domain::{CloudEvent, EventType, Inquiry, InquiryStatus, PartnerOutcome, PartnerRequest, Reservation, TimelineEvent};
use switchboard_messaging::{MAX_DELAY, Queue, ReceivedMessage, events};
use switchboard_pipeline::Stage;
use switchboard_store::{ReservationStore, StoreError, TokenRecord, TokenStore, TransitionError, transition};
use switchboard_worker::{Handler, Outcome};
use tracing::{debug, info};

/// Attempts at texting the partner before the inquiry fails: seed 002's
/// "retries ×2, then `failed`". The composition root gives the
/// dispatcher's worker this receive limit (other services keep theirs);
/// on the last failed attempt the message is dead-lettered and
/// [`Handler::on_dead_letter`] fails the inquiry, which tells the customer.
pub const SMS_ATTEMPTS: u32 = 3;

/// Settings of the dispatcher.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// How long the partner has to answer (DESIGN: 300 s).
    pub deadline: Duration,
    /// How long a link stays valid (DESIGN: 10 minutes; never shorter than the deadline).
    pub token_validity: Duration,
    /// Base of partner links, e.g. `http://127.0.0.1:8080`.
    pub public_base_url: String,
}

/// The partner-dispatcher service.
#[derive(Clone)]
pub struct PartnerDispatcher {
    stage: Stage,
    reservations: Arc<dyn ReservationStore>,
    tokens: Arc<dyn TokenStore>,
    sms: Arc<dyn SmsSender>,
    own_queue: Arc<dyn Queue>,
    keys: TokenKeys,
    config: DispatcherConfig,
}

impl PartnerDispatcher {
    pub fn new(
        stage: Stage,
        reservations: Arc<dyn ReservationStore>,
        tokens: Arc<dyn TokenStore>,
        sms: Arc<dyn SmsSender>,
        own_queue: Arc<dyn Queue>,
        keys: TokenKeys,
        config: DispatcherConfig,
    ) -> Self {
        Self { stage, reservations, tokens, sms, own_queue, keys, config }
    }

    /// Finds the reservation and checks it belongs to this customer. The
    /// reason given on failure reveals nothing about the reservation.
    async fn verified_reservation(&self, inquiry: &Inquiry) -> Result<Result<Reservation, &'static str>, Outcome> {
        let Some(number) = &inquiry.reservation_number else {
            return Ok(Err("no reservation number was given"));
        };
        let reservation = self.reservations.get_reservation(number).await.map_err(Outcome::retry)?;
        let Some(reservation) = reservation.filter(|r| r.tenant_id == inquiry.tenant_id) else {
            return Ok(Err("reservation not found"));
        };
        if inquiry.customer.phone.as_ref() != Some(&reservation.customer_phone) {
            return Ok(Err("the reservation could not be verified for this customer"));
        }
        Ok(Ok(reservation))
    }

    async fn dispatch(&self, inquiry: Inquiry) -> Outcome {
        if !matches!(inquiry.status, InquiryStatus::Classified | InquiryStatus::AwaitingPartner) {
            debug!(inquiry_id = %inquiry.id, status = %inquiry.status, "partner request no longer needed");
            return Outcome::Done;
        }
        let reservation = match self.verified_reservation(&inquiry).await {
            Ok(Ok(r)) => r,
            Ok(Err(reason)) => {
                info!(inquiry_id = %inquiry.id, reason, "partner request impossible");
                return match self.stage.fail(inquiry.id, reason).await {
                    Ok(()) => Outcome::Done,
                    Err(outcome) => outcome,
                };
            }
            Err(outcome) => return outcome,
        };

        // Everything below is derived from the inquiry as classified, so a
        // redelivery issues the same token, text and events.
        let requested_at = inquiry.partner.as_ref().map(|p| p.requested_at).unwrap_or(inquiry.updated_at);
        let deadline_at = requested_at + signed(self.config.deadline);
        let expires_at = requested_at + signed(self.config.token_validity.max(self.config.deadline));
        let claims = TokenClaims {
            inquiry_id: inquiry.id.to_string(),
            partner_id: reservation.partner_id.clone(),
            expires_at: expires_at.as_second(),
            scope: CONFIRM_SCOPE.into(),
        };
        let token = self.keys.sign(&claims);
        let hash = token_hash(&token);
        let record = TokenRecord {
            token_hash: hash.clone(),
            inquiry_id: inquiry.id,
            partner_id: reservation.partner_id.clone(),
            expires_at,
            deadline_at,
            used: false,
            outcome: None,
            used_at: None,
            opened_at: None,
        };
        if let Err(e) = self.tokens.put_token(&record).await {
            return Outcome::retry(e);
        }

        let link = format!("{}/r/{token}", self.config.public_base_url.trim_end_matches('/'));
        let sms = SmsMessage {
            id: deterministic_id(&format!("{}/partner-request", inquiry.id)),
            to: reservation.partner_phone.clone(),
            body: sms_text::partner_request(&reservation, &inquiry, self.config.deadline, &link),
            inquiry_id: Some(inquiry.id),
        };
        // The id is derived from the inquiry, so a redelivered message (or a
        // send whose success was lost) never texts the partner twice.
        match self.sms.send_sms(&sms).await {
            Ok(_) => {}
            // A refused number will be refused again: fail now, not after the retries.
            Err(e @ ChannelError::Rejected(_)) => return Outcome::reject(format!("the partner's SMS was refused: {e}")),
            Err(e) => return Outcome::retry(format!("the partner's SMS could not be sent: {e}")),
        }
        let sent = TimelineEvent::once(
            "partner.sms_sent",
            self.stage.service.name(),
            Timestamp::now(),
            // The trace context lets the partner's answer, which arrives on
            // a request of its own, continue the inquiry's trace.
            json!({
                "partner_id": reservation.partner_id,
                "to": reservation.partner_phone.masked(),
                "traceparent": switchboard_telemetry::propagation::current_traceparent(),
            }),
        );
        if let Err(e) = self.stage.inquiries.append_event(inquiry.id, &sent).await {
            return Outcome::retry(e);
        }

        let request = PartnerRequest {
            partner_id: reservation.partner_id.clone(),
            partner_name: reservation.partner_name.clone(),
            requested_at,
            deadline_at,
            outcome: None,
            responded_at: None,
        };
        let details = json!({ "partner_id": reservation.partner_id, "deadline_at": deadline_at });
        let moved = transition(
            self.stage.inquiries.as_ref(),
            inquiry.id,
            InquiryStatus::AwaitingPartner,
            self.stage.service.name(),
            Timestamp::now(),
            details,
            |i| i.partner = Some(request.clone()),
        )
        .await;
        let inquiry = match moved {
            Ok(outcome) => outcome.inquiry().clone(),
            Err(TransitionError::Invalid { .. }) => return Outcome::Done,
            Err(e) => return Outcome::retry(e),
        };

        if let Err(e) = self.schedule_deadline(&inquiry, &hash, deadline_at).await {
            return e;
        }
        let requested = self.stage.event(
            EventType::PartnerRequested,
            &inquiry,
            "1",
            json!({ "partner_id": reservation.partner_id, "deadline_at": deadline_at }),
        );
        match self.stage.publish(&[requested]).await {
            Ok(()) => Outcome::Done,
            Err(outcome) => outcome,
        }
    }

    /// Sends the deadline message, delayed until the deadline or by the
    /// longest delay a queue allows (the message then re-delays itself).
    async fn schedule_deadline(&self, inquiry: &Inquiry, hash: &str, deadline_at: Timestamp) -> Result<(), Outcome> {
        let remaining = deadline_at.duration_since(Timestamp::now());
        let delay = Duration::try_from(remaining).unwrap_or(Duration::ZERO).min(MAX_DELAY);
        let event = CloudEvent::for_inquiry(
            EventType::PartnerDeadline,
            inquiry.id,
            &inquiry.tenant_id,
            &deadline_at.as_second().to_string(),
            &self.stage.source(),
            Timestamp::now(),
            json!({ "token_hash": hash, "deadline_at": deadline_at }),
        );
        events::send(self.own_queue.as_ref(), &event, delay).await.map(|_| ()).map_err(Outcome::retry)
    }

    async fn on_deadline(&self, event: CloudEvent, inquiry: Inquiry) -> Outcome {
        let Some(hash) = event.data.get("token_hash").and_then(|h| h.as_str()) else {
            return Outcome::reject("deadline message without token_hash");
        };
        let record = match self.tokens.get_token(hash).await {
            Ok(Some(r)) => r,
            Ok(None) => return Outcome::reject("deadline message for an unknown token"),
            Err(e) => return Outcome::retry(e),
        };
        let now = Timestamp::now();
        if now < record.deadline_at {
            // Longer than one queue delay: hop again.
            return match self.schedule_deadline(&inquiry, hash, record.deadline_at).await {
                Ok(()) => Outcome::Done,
                Err(outcome) => outcome,
            };
        }
        let outcome = match self.tokens.consume_token(hash, &PartnerOutcome::TimedOut, now).await {
            Ok(record) => record.outcome.unwrap_or(PartnerOutcome::TimedOut),
            // The partner answered first. Publish that answer again in case
            // its first publication was lost; the event id dedupes it.
            Err(StoreError::Conflict(_)) => match self.tokens.get_token(hash).await {
                Ok(Some(TokenRecord { outcome: Some(o), .. })) => o,
                Ok(_) => return Outcome::Done,
                Err(e) => return Outcome::retry(e),
            },
            Err(e) => return Outcome::retry(e),
        };
        match self.settle(&inquiry, outcome, record.used_at.unwrap_or(now)).await {
            Ok(()) => Outcome::Done,
            Err(outcome) => outcome,
        }
    }

    /// Records the partner outcome on the inquiry and publishes it.
    async fn settle(&self, inquiry: &Inquiry, outcome: PartnerOutcome, at: Timestamp) -> Result<(), Outcome> {
        let kind = if outcome == PartnerOutcome::TimedOut { "partner.timed_out" } else { "partner.responded" };
        let event = TimelineEvent::once(
            kind,
            if outcome == PartnerOutcome::TimedOut { self.stage.service.name() } else { "partner" },
            at,
            json!({ "outcome": outcome }),
        );
        let inquiry = record_outcome(&self.stage, inquiry, &outcome, at, &event).await?;
        let event_type = if outcome == PartnerOutcome::TimedOut { EventType::PartnerTimedOut } else { EventType::PartnerResponded };
        let published = self.stage.event(event_type, &inquiry, "1", json!({ "outcome": outcome }));
        self.stage.publish(&[published]).await
    }
}

/// Writes the outcome onto the inquiry's partner request (conditional on
/// version, retried on a lost race) with its timeline event.
async fn record_outcome(
    stage: &Stage,
    inquiry: &Inquiry,
    outcome: &PartnerOutcome,
    at: Timestamp,
    event: &TimelineEvent,
) -> Result<Inquiry, Outcome> {
    let mut current = inquiry.clone();
    for _ in 0..5 {
        if current.partner.as_ref().is_some_and(|p| p.outcome.is_some()) {
            return Ok(current);
        }
        let mut next = current.clone();
        if let Some(p) = next.partner.as_mut() {
            p.outcome = Some(outcome.clone());
            p.responded_at = Some(at);
        }
        next.updated_at = Timestamp::now();
        match stage.inquiries.update_inquiry(&next, current.version, Some(event)).await {
            Ok(stored) => {
                // Time-outs count, but their wait is the deadline, not a response time.
                let waited = (*outcome != PartnerOutcome::TimedOut)
                    .then(|| current.partner.as_ref().and_then(|p| Duration::try_from(at.duration_since(p.requested_at)).ok()))
                    .flatten();
                switchboard_telemetry::metrics().partner_outcome(outcome.as_str(), waited);
                return Ok(stored);
            }
            Err(StoreError::Conflict(_)) => {
                current = match stage.inquiries.get_inquiry(inquiry.id).await {
                    Ok(Some(i)) => i,
                    Ok(None) => return Err(Outcome::reject("inquiry vanished")),
                    Err(e) => return Err(Outcome::retry(e)),
                };
            }
            Err(e) => return Err(Outcome::retry(e)),
        }
    }
    Err(Outcome::retry("inquiry kept changing while recording the partner outcome"))
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

#[async_trait]
impl Handler for PartnerDispatcher {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        let (event, inquiry) = match self.stage.load(message).await {
            Ok(loaded) => loaded,
            Err(outcome) => return outcome,
        };
        match event.kind() {
            Some(EventType::InquiryClassified) => self.dispatch(inquiry).await,
            Some(EventType::PartnerDeadline) => self.on_deadline(event, inquiry).await,
            _ => Outcome::reject(format!("partner-dispatcher does not handle {}", event.event_type)),
        }
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}
