//! Partner-dispatcher: the partner's confirmation (ask over a signed link,
//! wait for the answer or the deadline) without a workflow engine.
//!
//! On `inquiry.classified` (needs a partner) it verifies the reservation
//! (one that cannot be found or is not the customer's: the customer is
//! asked once to check the number, `awaiting_customer`, see
//! [`customer_question`]; a second failure, silence or no phone to match
//! goes to a person: `escalated` with its reason, see [`Unverified`]),
//! issues a signed single-use link, texts it to the partner, moves the
//! inquiry to `awaiting_partner` and schedules the deadline as a delayed
//! message to its own queue. The deadline counts from the first attempt to
//! text the link and is kept on its record, so redeliveries reuse it; a
//! request whose deadline passed before the text could go times out
//! untexted. The partner answers through the gateway
//! ([`PartnerDispatcher::respond`]); whichever comes first, the answer, the
//! deadline or the inquiry going to a person (which voids the link), uses
//! the token (a conditional update), so at most one outcome is published:
//! `partner.responded` or `partner.timed_out`.

mod confirmation;
mod customer_question;
mod sms_text;

pub use confirmation::{ConfirmError, ConfirmationView};
pub use switchboard_domain::Unverified;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::{ChannelError, SmsMessage, SmsSender};
use switchboard_domain::event::deterministic_id;
use switchboard_domain::token::{CONFIRM_SCOPE, TokenClaims, TokenKeys, token_hash};
use switchboard_domain::verification::verify;
use switchboard_domain::{
    Author, CloudEvent, EventType, Inquiry, InquiryId, InquiryStatus, Message, PartnerOutcome, PartnerRequest, TimelineEvent,
};
use switchboard_messaging::{MAX_DELAY, Queue, ReceivedMessage, events};
use switchboard_pipeline::{OrRetry, Stage};
use switchboard_store::{ReservationStore, StoreError, TokenRecord, TokenStore};
use switchboard_worker::{Handler, Outcome};
use tracing::{debug, info};

/// Attempts at texting the partner before the inquiry fails: the first
/// send and two retries, then `failed`. The composition root gives the
/// dispatcher's worker this receive limit (other services keep theirs);
/// on the last failed attempt the message is dead-lettered and
/// [`Handler::on_dead_letter`] fails the inquiry, which tells the customer.
pub const SMS_ATTEMPTS: u32 = 3;

/// Settings of the dispatcher.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// How long the partner has to answer (300 s by default).
    pub deadline: Duration,
    /// How long a link stays valid (10 minutes in the composition root; never shorter than the deadline).
    pub token_validity: Duration,
    /// Base of partner links, e.g. `http://127.0.0.1:8080`.
    pub public_base_url: String,
    /// How long a customer asked to check their reservation number has to
    /// reply before a person takes over (a day by default).
    pub customer_reply: Duration,
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

    /// Asks the partner of an `inquiry.classified` inquiry to confirm:
    /// issues the link, texts it, moves the inquiry to `awaiting_partner`,
    /// schedules the deadline and publishes `partner.requested`. An inquiry
    /// whose reservation cannot be found or verified goes to a person
    /// instead ([`Self::escalate`]).
    async fn dispatch(&self, inquiry: Inquiry) -> Result<(), Outcome> {
        // Escalated: a redelivery after this stage escalated it may still
        // owe the announcement (see below).
        if !matches!(inquiry.status, InquiryStatus::Classified | InquiryStatus::AwaitingPartner | InquiryStatus::Escalated) {
            if inquiry.status == InquiryStatus::AwaitingCustomer {
                // A redelivery (or the sweeper) after the question was
                // asked: announce it again, its deadline included.
                return self.announce_question(&inquiry).await;
            }
            debug!(inquiry_id = %inquiry.id, status = %inquiry.status, "partner request no longer needed");
            return Ok(());
        }
        let found = match &inquiry.reservation_number {
            Some(number) => self.reservations.get_reservation(&inquiry.tenant_id, number).await.or_retry()?,
            None => None,
        };
        let reservation = match verify(&inquiry, found) {
            Ok(reservation) => reservation,
            // Asked once: a reply that still does not verify goes to a person.
            Err(unverified) if unverified.asks_customer() && inquiry.customer_question.is_none() => {
                return self.ask_customer(&inquiry, unverified).await;
            }
            Err(unverified) => return self.escalate(&inquiry, unverified, &[InquiryStatus::Classified]).await,
        };
        if inquiry.status == InquiryStatus::Escalated {
            debug!(inquiry_id = %inquiry.id, "escalated by someone else; no partner request");
            return Ok(());
        }

        // The link is issued once, on the first attempt to text it: its
        // deadline and expiry count from then (not from classification, so
        // a backed-up dispatcher never texts a stale link), and a
        // redelivery or a retried SMS reuses the same link and deadline.
        let now = self.stage.now();
        let record = self.issue(&inquiry, &reservation.partner_id, now).await?;
        let request = PartnerRequest {
            partner_id: record.partner_id.clone(),
            partner_name: reservation.partner_name.clone(),
            requested_at: record.issued_at.unwrap_or(now),
            deadline_at: record.deadline_at,
            outcome: None,
            responded_at: None,
        };
        let details = json!({ "partner_id": record.partner_id, "deadline_at": record.deadline_at });
        if now >= record.deadline_at {
            // The deadline passed before the text could go (the earlier
            // attempts failed or stalled): an expired link is not sent, and
            // the inquiry goes on as if the partner never answered.
            info!(inquiry_id = %inquiry.id, "partner deadline passed before the text could go; timing out");
            // Said on the timeline: operators (and the fault test) can tell
            // a partner never texted by design from one the pipeline lost.
            let details = json!({ "partner_id": record.partner_id, "deadline_at": record.deadline_at, "texted": false });
            let moved =
                self.stage.advance(inquiry.id, InquiryStatus::AwaitingPartner, details, |i| i.partner = Some(request.clone())).await?;
            let Some(inquiry) = moved else { return self.moved_on(inquiry.id, now).await };
            return self.close(&inquiry, &record.token_hash, now).await;
        }

        let link = partner_link(&self.config.public_base_url, &self.link(&record)?);
        let sms = SmsMessage {
            id: deterministic_id(&format!("{}/partner-request", inquiry.id)),
            to: reservation.partner_phone.clone(),
            // The time left, not the whole deadline: a retried text may go late.
            body: sms_text::partner_request(&reservation, &inquiry, remaining(now, record.deadline_at), &link),
            inquiry_id: Some(inquiry.id),
        };
        // The id is derived from the inquiry, so a redelivered message (or a
        // send whose success was lost) never texts the partner twice.
        self.sms.send_sms(&sms).await.map_err(|e| match e {
            // A refused number will be refused again: fail now, not after the retries.
            ChannelError::Rejected(_) => Outcome::reject(format!("the partner's SMS was refused: {e}")),
            _ => Outcome::retry(format!("the partner's SMS could not be sent: {e}")),
        })?;
        let sent = TimelineEvent::once(
            "partner.sms_sent",
            self.stage.service.name(),
            self.stage.now(),
            // The trace context lets the partner's answer, which arrives on
            // a request of its own, continue the inquiry's trace.
            json!({
                "partner_id": reservation.partner_id,
                "to": reservation.partner_phone.masked(),
                "traceparent": switchboard_telemetry::propagation::current_traceparent(),
            }),
        );
        self.stage.inquiries.append_event(inquiry.id, &sent).await.or_retry()?;

        let moved =
            self.stage.advance(inquiry.id, InquiryStatus::AwaitingPartner, details.clone(), |i| i.partner = Some(request.clone())).await?;
        let Some(inquiry) = moved else { return self.moved_on(inquiry.id, now).await };

        self.schedule_deadline(&inquiry, &record.token_hash, record.deadline_at).await?;
        let requested = self.stage.event(EventType::PartnerRequested, &inquiry, "1", details);
        self.stage.publish(&[requested]).await
    }

    /// The inquiry's link: issued now unless an earlier attempt issued one,
    /// in which case that one (its times, maybe its use) is returned.
    async fn issue(&self, inquiry: &Inquiry, partner_id: &str, now: Timestamp) -> Result<TokenRecord, Outcome> {
        let mut record = TokenRecord {
            token_hash: String::new(),
            inquiry_id: inquiry.id,
            partner_id: partner_id.to_owned(),
            expires_at: now + signed(self.config.token_validity.max(self.config.deadline)),
            deadline_at: now + signed(self.config.deadline),
            issued_at: Some(now),
            used: false,
            outcome: None,
            used_at: None,
            opened_at: None,
            voided_at: None,
        };
        // The record is kept under the hash of the link id the text carries.
        record.token_hash = token_hash(&self.keys.link_id(&claims(&record)));
        self.tokens.put_token(&record).await.or_retry()
    }

    /// What the link of an issued record carries, derived again by the key
    /// that issued it: its link id, or, for a record issued before link ids
    /// (a redelivery across the upgrade), the signed token it was issued for.
    fn link(&self, record: &TokenRecord) -> Result<String, Outcome> {
        let claims = claims(record);
        self.keys
            .reissue_link_id(&claims, &record.token_hash)
            .or_else(|| self.keys.reissue(&claims, &record.token_hash))
            .ok_or_else(|| Outcome::reject("the partner link was signed with a key no longer configured"))
    }

    /// Someone else moved the inquiry on (escalated or failed it) while the
    /// link was being issued: the link must not take an answer.
    async fn moved_on(&self, inquiry: InquiryId, now: Timestamp) -> Result<(), Outcome> {
        if self.tokens.void_tokens(inquiry, now).await.or_retry()? {
            info!(inquiry_id = %inquiry, "the inquiry moved on while the partner was asked; link voided");
        }
        Ok(())
    }

    /// Hands an inquiry whose reservation cannot be verified to a person:
    /// `classified` (or, when the question went unanswered,
    /// `awaiting_customer`: `from`) → `escalated` with the reason
    /// (conditional, so it never overrides a partner request or an
    /// operator), then `inquiry.escalated`, on which the notifier tells the
    /// customer what happens next and the operators what to check. A
    /// redelivery finds it escalated and announces it again; the event id
    /// and the notifications' ids are derived from the inquiry, so nobody
    /// is told twice.
    async fn escalate(&self, inquiry: &Inquiry, unverified: Unverified, from: &[InquiryStatus]) -> Result<(), Outcome> {
        info!(inquiry_id = %inquiry.id, reason = unverified.reason(), "reservation unverified; escalating");
        let escalation = unverified.escalation(inquiry);
        let details = json!({ "reason": escalation.reason });
        let moved = self
            .stage
            .advance_from(inquiry.id, from, InquiryStatus::Escalated, details, |i| i.escalation = Some(escalation.clone()))
            .await?;
        // `None`: a partner request or a person got there first.
        let Some(escalated) = moved else { return Ok(()) };
        self.stage.announce_unverified(&escalated).await
    }

    /// Sends the deadline message, delayed until the deadline or by the
    /// longest delay a queue allows (the message then re-delays itself).
    async fn schedule_deadline(&self, inquiry: &Inquiry, hash: &str, deadline_at: Timestamp) -> Result<(), Outcome> {
        let now = self.stage.now();
        let delay = remaining(now, deadline_at).min(MAX_DELAY);
        let event = CloudEvent::for_inquiry(
            EventType::PartnerDeadline,
            inquiry.id,
            &inquiry.tenant_id,
            &deadline_at.as_second().to_string(),
            &self.stage.source(),
            now,
            json!({ "token_hash": hash, "deadline_at": deadline_at }),
        );
        events::send(self.own_queue.as_ref(), &event, delay).await?;
        Ok(())
    }

    /// The deadline message: before the deadline it hops on (a deadline
    /// further away than one queue delay); at the deadline it uses the
    /// token, unless the partner did, and publishes the outcome.
    async fn on_deadline(&self, event: CloudEvent, inquiry: Inquiry) -> Result<(), Outcome> {
        let hash = event.data.get("token_hash").and_then(|h| h.as_str());
        let hash = hash.ok_or_else(|| Outcome::reject("deadline message without token_hash"))?;
        let record = self.tokens.get_token(hash).await.or_retry()?;
        let record = record.ok_or_else(|| Outcome::reject("deadline message for an unknown token"))?;
        let now = self.stage.now();
        if now < record.deadline_at {
            // Longer than one queue delay: hop again.
            return self.schedule_deadline(&inquiry, hash, record.deadline_at).await;
        }
        self.close(&inquiry, hash, now).await
    }

    /// Ends the request at its deadline: uses the token as timed out unless
    /// something used it first, and publishes the outcome. Never ends
    /// quietly while the inquiry still waits: a token used without an
    /// outcome (voided, but the write that closed the inquiry never landed)
    /// times the inquiry out.
    async fn close(&self, inquiry: &Inquiry, hash: &str, now: Timestamp) -> Result<(), Outcome> {
        let (outcome, at) = match self.tokens.consume_token(hash, &PartnerOutcome::TimedOut, now).await {
            Ok(_) => (PartnerOutcome::TimedOut, now),
            Err(StoreError::Conflict(_)) => {
                let used = self.tokens.get_token(hash).await.or_retry()?;
                let used = used.ok_or_else(|| Outcome::reject("deadline message for an unknown token"))?;
                match used.outcome {
                    // The partner answered first. Publish that answer again in
                    // case its first publication was lost; the event id dedupes it.
                    Some(outcome) => (outcome, used.used_at.unwrap_or(now)),
                    None => {
                        let current = self.stage.inquiries.get_inquiry(inquiry.id).await.or_retry()?;
                        let current = current.ok_or_else(|| Outcome::reject("inquiry vanished"))?;
                        match current.partner.as_ref().and_then(|p| p.outcome.clone()) {
                            Some(recorded) => (recorded, now),
                            None if current.status == InquiryStatus::AwaitingPartner => {
                                info!(inquiry_id = %inquiry.id, "partner link used without an outcome; timing out");
                                (PartnerOutcome::TimedOut, now)
                            }
                            None => {
                                info!(inquiry_id = %inquiry.id, status = %current.status, "partner link voided; nothing left to wait for");
                                return Ok(());
                            }
                        }
                    }
                }
            }
            Err(e) => return Err(Outcome::retry(e)),
        };
        self.settle(inquiry, outcome, at).await
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

    /// Handles an `inquiry.classified` (ask the partner) or
    /// `partner.deadline` (the time is up) message.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        let (event, inquiry) = self.stage.load(message).await?;
        match event.kind() {
            Some(EventType::InquiryClassified) => self.dispatch(inquiry).await,
            Some(EventType::PartnerDeadline) => self.on_deadline(event, inquiry).await,
            Some(EventType::ReplyDeadline) => self.on_reply_deadline(&event, inquiry).await,
            _ => Err(Outcome::reject(format!("partner-dispatcher does not handle {}", event.event_type))),
        }
    }
}

/// The conversation's key of the partner-outcome notice: one partner
/// request per inquiry, so one notice.
const OUTCOME_NOTICE_STEP: &str = "partner-outcome";

/// Writes the outcome onto the inquiry's partner request (conditional on
/// version, retried on a lost race) with its timeline event, then adds the
/// outcome to the conversation as a system notice. The notice is keyed by
/// the request, so a redelivery (or the deadline message mending an answer
/// whose recording was cut short) adds it once.
async fn record_outcome(
    stage: &Stage,
    inquiry: &Inquiry,
    outcome: &PartnerOutcome,
    at: Timestamp,
    event: &TimelineEvent,
) -> Result<Inquiry, Outcome> {
    let stored = write_outcome(stage, inquiry, outcome, at, event).await?;
    // The outcome as recorded: a redelivery may carry another (a deadline
    // that lost to the partner's answer).
    let recorded = stored.partner.as_ref().and_then(|p| p.outcome.as_ref()).unwrap_or(outcome);
    let notice = Message::reply(&stored, Author::System, OUTCOME_NOTICE_STEP, recorded.notice(stored.reply_language()), at);
    stage.inquiries.append_message(&notice, &[]).await.or_retry()?;
    Ok(stored)
}

/// The conditional write of [`record_outcome`].
async fn write_outcome(
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
        next.updated_at = stage.now();
        match stage.inquiries.update_inquiry(&next, current.version, Some(event), &[]).await {
            Ok(stored) => {
                // Time-outs count, but their wait is the deadline, not a response time.
                let waited = (*outcome != PartnerOutcome::TimedOut)
                    .then(|| current.partner.as_ref().and_then(|p| Duration::try_from(at.duration_since(p.requested_at)).ok()))
                    .flatten();
                switchboard_telemetry::metrics().partner_outcome(outcome.as_str(), waited);
                return Ok(stored);
            }
            Err(StoreError::Conflict(_)) => {
                let reread = stage.inquiries.get_inquiry(inquiry.id).await.or_retry()?;
                current = reread.ok_or_else(|| Outcome::reject("inquiry vanished"))?;
            }
            Err(e) => return Err(Outcome::retry(e)),
        }
    }
    Err(Outcome::retry("inquiry kept changing while recording the partner outcome"))
}

/// What a token record's link grants: its inquiry, for its partner, until it expires.
fn claims(record: &TokenRecord) -> TokenClaims {
    TokenClaims {
        inquiry_id: record.inquiry_id.to_string(),
        partner_id: record.partner_id.clone(),
        expires_at: record.expires_at.as_second(),
        scope: CONFIRM_SCOPE.into(),
    }
}

/// Where the partner's page lives: `/r/{id}`, for link ids and the signed
/// tokens texted before them alike (the gateway tells them apart).
pub const PARTNER_PAGE_PREFIX: &str = "/r/";

/// The whole link the partner is texted: `{base}/r/{id}`.
pub fn partner_link(public_base_url: &str, id: &str) -> String {
    format!("{}{PARTNER_PAGE_PREFIX}{id}", public_base_url.trim_end_matches('/'))
}

/// How long from `now` until `deadline_at`; zero once it has passed.
fn remaining(now: Timestamp, deadline_at: Timestamp) -> Duration {
    Duration::try_from(deadline_at.duration_since(now)).unwrap_or(Duration::ZERO)
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

#[async_trait]
impl Handler for PartnerDispatcher {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}

#[cfg(test)]
mod tests;
