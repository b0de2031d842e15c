//! The part of every pipeline stage that is the same: read the inquiry an
//! event is about, move it through the status machine, publish the stage's
//! event, and when a message is given up on, mark its inquiry `failed` and
//! say so with `inquiry.failed`. Also the stages' [`Clock`], the rule
//! that a port's failure is retried ([`OrRetry`]), the outbox's
//! [`Relay`] and the [`Sweeper`] that re-announces inquiries that stopped
//! moving.

pub mod clock;
pub mod crash_point;
pub mod follow_up;
pub mod outbox;
mod retry;
pub mod sla;
pub mod sweeper;
#[cfg(feature = "testing")]
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use outbox::{Relay, RelayError};
pub use retry::{OrRetry, Transient};
pub use sweeper::{SweepError, Sweeper, SweeperParts};

use jiff::Timestamp;
use serde_json::json;
use std::sync::Arc;
use switchboard_domain::{Author, CloudEvent, EventType, Inquiry, InquiryId, InquiryStatus, Message, Service};
use switchboard_messaging::{ReceivedMessage, Topic, events};
use switchboard_store::{InquiryStore, TransitionError, TransitionOutcome, transition_announced, transition_from, transition_from_read};
use switchboard_worker::Outcome;
use tracing::{debug, info, warn};

/// A stage's view of the pipeline: which service it is, the inquiries, the
/// topic, and the clock it acts by.
#[derive(Clone)]
pub struct Stage {
    pub service: Service,
    pub inquiries: Arc<dyn InquiryStore>,
    pub topic: Arc<dyn Topic>,
    clock: Arc<dyn Clock>,
}

impl Stage {
    /// A stage on the system clock; [`Self::with_clock`] changes it.
    pub fn new(service: Service, inquiries: Arc<dyn InquiryStore>, topic: Arc<dyn Topic>) -> Self {
        Self { service, inquiries, topic, clock: Arc::new(SystemClock) }
    }

    /// The same stage acting by `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The time now, by this stage's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `switchboard/{service}`: the CloudEvents `source` of this stage's events.
    pub fn source(&self) -> String {
        format!("switchboard/{}", self.service.name())
    }

    /// An event of this stage about `inquiry`.
    pub fn event(&self, event_type: EventType, inquiry: &Inquiry, step: &str, data: serde_json::Value) -> CloudEvent {
        CloudEvent::for_inquiry(event_type, inquiry.id, &inquiry.tenant_id, step, &self.source(), self.now(), data)
    }

    /// Parses the message and loads its inquiry. Messages that can never be
    /// handled (malformed, unknown inquiry) are rejected; store outages retried.
    pub async fn load(&self, message: &ReceivedMessage) -> Result<(CloudEvent, Inquiry), Outcome> {
        let event = events::parse(message).map_err(Outcome::reject)?;
        let id = event.inquiry_id().ok_or_else(|| Outcome::reject("event subject is not an inquiry id"))?;
        let inquiry = self.inquiries.get_inquiry(id).await.or_retry()?;
        let inquiry = inquiry.ok_or_else(|| Outcome::reject(format!("inquiry {id} does not exist")))?;
        Ok((event, inquiry))
    }

    /// Moves inquiry `id` to `to` as this stage, now, applying `change`
    /// (see [`transition`]); returns the inquiry as stored. `Ok(None)` when
    /// the status machine does not allow it: someone else moved the inquiry
    /// on (an operator escalated or resolved it, or this stage already
    /// finished with it and a later one took over), so there is nothing
    /// left to do. Other failures are retried.
    pub async fn advance(
        &self,
        id: InquiryId,
        to: InquiryStatus,
        details: serde_json::Value,
        change: impl Fn(&mut Inquiry),
    ) -> Result<Option<Inquiry>, Outcome> {
        self.advance_from(id, &InquiryStatus::ALL, to, details, change).await
    }

    /// As [`Self::advance`], but only out of one of the statuses in `from`
    /// (see [`transition_from`]): for a decision made on the inquiry as this
    /// delivery read it, which must not land on a status another delivery
    /// of the same message reached meanwhile.
    pub async fn advance_from(
        &self,
        id: InquiryId,
        from: &[InquiryStatus],
        to: InquiryStatus,
        details: serde_json::Value,
        change: impl Fn(&mut Inquiry),
    ) -> Result<Option<Inquiry>, Outcome> {
        let moved = transition_from(self.inquiries.as_ref(), id, from, to, self.service.name(), self.now(), details, change).await;
        self.moved(id, to, moved)
    }

    /// As [`Self::advance_from`], starting from `read`, the inquiry as this
    /// delivery has just read it (see [`transition_from_read`]): the write
    /// is conditional on its version, so the inquiry is not read again
    /// unless it changed meanwhile.
    pub async fn advance_from_read(
        &self,
        read: &Inquiry,
        from: &[InquiryStatus],
        to: InquiryStatus,
        details: serde_json::Value,
        change: impl Fn(&mut Inquiry),
    ) -> Result<Option<Inquiry>, Outcome> {
        let moved = transition_from_read(self.inquiries.as_ref(), read, from, to, self.service.name(), self.now(), details, change).await;
        self.moved(read.id, to, moved)
    }

    /// What a transition's result means for a stage: the inquiry as stored,
    /// `None` when it moved on meanwhile, a retry otherwise.
    fn moved(
        &self,
        id: InquiryId,
        to: InquiryStatus,
        result: Result<TransitionOutcome, TransitionError>,
    ) -> Result<Option<Inquiry>, Outcome> {
        match result {
            Ok(TransitionOutcome::Applied(inquiry) | TransitionOutcome::AlreadyDone(inquiry)) => Ok(Some(inquiry)),
            Err(TransitionError::Invalid { current, .. }) => {
                debug!(inquiry_id = %id, %current, to = %to, service = self.service.name(), "inquiry already moved on");
                Ok(None)
            }
            Err(e) => Err(Outcome::retry(e)),
        }
    }

    /// Publishes events under a producer span (each envelope carries its
    /// `traceparent`); a failure means "try the message again".
    pub async fn publish(&self, events: &[CloudEvent]) -> Result<(), Outcome> {
        Ok(events::publish(self.topic.as_ref(), events).await?)
    }

    /// Announces an inquiry escalated because its booking stays
    /// unverified (by the dispatcher, or by the classifier for a reply
    /// to the customer's question that names no number): the notice joins
    /// the conversation and `inquiry.escalated` goes out. Both are keyed by
    /// the inquiry's first round, so a redelivery adds and tells nothing twice.
    pub async fn announce_unverified(&self, escalated: &Inquiry) -> Result<(), Outcome> {
        if let Some(escalation) = &escalated.escalation {
            let notice = Message::reply(escalated, Author::System, "escalated", escalation.customer_message.as_str(), escalated.updated_at);
            self.inquiries.append_message(&notice, &[]).await.or_retry()?;
        }
        let event = self.event(EventType::InquiryEscalated, escalated, "1", json!({ "status": escalated.status }));
        self.publish(&[event]).await
    }

    /// Marks the message's inquiry `failed` with `reason` and publishes
    /// `inquiry.failed`, so the customer hears of it. Used when a message is
    /// dead-lettered: the inquiry must not sit in a working status forever.
    pub async fn fail_inquiry(&self, message: &ReceivedMessage, reason: &str) {
        let Ok(event) = events::parse(message) else { return };
        let Some(id) = event.inquiry_id() else { return };
        if let Err(e) = self.fail(id, reason).await {
            warn!(inquiry_id = %id, outcome = ?e, "could not mark inquiry failed");
        }
    }

    /// Moves inquiry `id` to `failed` with `reason` and publishes
    /// `inquiry.failed` through the outbox (the dead-lettered message that
    /// led here will not come again). An inquiry already finished is left
    /// alone.
    pub async fn fail(&self, id: InquiryId, reason: &str) -> Result<(), Outcome> {
        let details = json!({ "reason": reason, "service": self.service.name() });
        let failed_event = |i: &Inquiry| self.event(EventType::InquiryFailed, i, "1", json!({ "reason": i.status_reason }));
        let failed = transition_announced(
            self.inquiries.as_ref(),
            id,
            InquiryStatus::Failed,
            self.service.name(),
            self.now(),
            details,
            |i| i.status_reason = Some(reason.to_owned()),
            |i| vec![failed_event(i)],
        )
        .await;
        let inquiry = match failed {
            Ok(outcome) => outcome.inquiry().clone(),
            // Already terminal: someone else finished it; nothing to fail.
            Err(TransitionError::Invalid { .. }) | Err(TransitionError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(Outcome::retry(e)),
        };
        info!(inquiry_id = %id, service = self.service.name(), "inquiry failed");
        let relay = Relay::new(self.inquiries.clone(), self.topic.clone());
        if let Err(e) = relay.deliver(&[failed_event(&inquiry)]).await {
            // Stored in the outbox with the change: the relay publishes it.
            warn!(inquiry_id = %id, error = %e, "inquiry.failed left to the outbox relay");
        }
        Ok(())
    }
}

/// The `inquiry.received` event of an inquiry: what intake announces, and
/// what the sweeper announces again for an inquiry stuck before
/// classification. Routed to the image analyzer when it has attachments.
pub fn received_event(inquiry: &Inquiry) -> CloudEvent {
    CloudEvent::for_inquiry(
        EventType::InquiryReceived,
        inquiry.id,
        &inquiry.tenant_id,
        "1",
        "switchboard/intake",
        inquiry.created_at,
        json!({ "inquiry_id": inquiry.id, "tenant_id": inquiry.tenant_id }),
    )
    .with_has_attachments(inquiry.has_attachments())
}
