//! An answer the customer never replies to closes itself: when the answer
//! goes out, the responder sends itself a delayed `inquiry.auto_close`
//! message, due after the tenant's wait ([`Tenant::auto_close_days`], else
//! the deployment's default). A queue delays a message 15 minutes at most,
//! so the message hops, re-sending itself until it is due, as the partner
//! dispatcher's deadline does; no cron, no scan. When it is due it closes
//! the inquiry (`answered → resolved`, reason `no_reply`) only if nothing
//! happened meanwhile: the inquiry is still answered in the same round,
//! and the customer did not write after the answer.

use crate::Responder;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::reentry::{NO_REPLY, closing_message};
use switchboard_domain::{Author, CloudEvent, EventType, Inquiry, InquiryStatus, Message, Tenant};
use switchboard_messaging::{MAX_DELAY, Queue, events};
use switchboard_pipeline::OrRetry;
use switchboard_store::whole_conversation;
use switchboard_worker::Outcome;
use tracing::{debug, info};

/// Where the timer goes and how long an answer waits by default.
#[derive(Clone)]
pub struct AutoClose {
    /// The responder's own queue.
    pub queue: Arc<dyn Queue>,
    /// The wait of a tenant that sets none.
    pub default_wait: Duration,
}

impl AutoClose {
    /// How long `tenant`'s answers wait for a reply.
    pub fn wait(&self, tenant: &Tenant) -> Duration {
        tenant.auto_close_days.map_or(self.default_wait, |days| Duration::from_secs(u64::from(days) * 24 * 60 * 60))
    }
}

/// When the timer `event` is due.
fn due_at(event: &CloudEvent) -> Result<Timestamp, Outcome> {
    let due_at = event.data.get("due_at").cloned().map(serde_json::from_value::<Timestamp>);
    match due_at {
        Some(Ok(due_at)) => Ok(due_at),
        _ => Err(Outcome::reject("inquiry.auto_close without a due_at")),
    }
}

/// The timer's step: one per round, so a reopened and answered again
/// inquiry has a timer of its own and the old one finds it is not its round.
fn step(inquiry: &Inquiry) -> String {
    inquiry.step("auto-close")
}

impl Responder {
    /// Starts the wait of an answered inquiry for its customer's reply.
    pub(crate) async fn schedule_auto_close(&self, inquiry: &Inquiry, tenant: &Tenant) -> Result<(), Outcome> {
        let Some(auto_close) = &self.auto_close else { return Ok(()) };
        let wait = jiff::SignedDuration::try_from(auto_close.wait(tenant)).unwrap_or(jiff::SignedDuration::MAX);
        // Counted from the answer, so a redelivered announcement sets the same time.
        let due_at = inquiry.updated_at.checked_add(wait).unwrap_or(Timestamp::MAX);
        self.send_timer(auto_close, inquiry, &step(inquiry), due_at).await
    }

    async fn send_timer(&self, auto_close: &AutoClose, inquiry: &Inquiry, step: &str, due_at: Timestamp) -> Result<(), Outcome> {
        let now = self.stage.now();
        let delay = Duration::try_from(due_at.duration_since(now)).unwrap_or(Duration::ZERO).min(MAX_DELAY);
        let event = CloudEvent::for_inquiry(
            EventType::AutoClose,
            inquiry.id,
            &inquiry.tenant_id,
            &format!("{step}/{}", due_at.as_second()),
            &self.stage.source(),
            now,
            json!({ "step": step, "due_at": due_at }),
        );
        events::send(auto_close.queue.as_ref(), &event, delay).await?;
        Ok(())
    }

    /// The timer came before it is due: it hops on as it is, without a
    /// read (a week's wait is hundreds of hops). `Ok(false)`: it is due.
    pub(crate) async fn hop(&self, event: &CloudEvent) -> Result<bool, Outcome> {
        let due_at = due_at(event)?;
        let now = self.stage.now();
        let Some(auto_close) = &self.auto_close else { return Ok(false) };
        if now >= due_at {
            return Ok(false);
        }
        let delay = Duration::try_from(due_at.duration_since(now)).unwrap_or(Duration::ZERO).min(MAX_DELAY);
        events::send(auto_close.queue.as_ref(), event, delay).await?;
        Ok(true)
    }

    /// The timer is due: close the inquiry, or do nothing.
    pub(crate) async fn on_auto_close(&self, event: &CloudEvent, inquiry: Inquiry) -> Result<(), Outcome> {
        let timer_step = event.data.get("step").and_then(Value::as_str).unwrap_or_default();
        let due_at = due_at(event)?;
        if step(&inquiry) != timer_step {
            debug!(inquiry_id = %inquiry.id, "the customer wrote after this answer: its timer does nothing");
            return Ok(());
        }
        match inquiry.status {
            InquiryStatus::Answered => {}
            // Closed by an earlier delivery that stopped short of announcing it.
            InquiryStatus::Resolved if inquiry.status_reason.as_deref() == Some(NO_REPLY) => return self.announce_closed(&inquiry).await,
            _ => return Ok(()),
        }
        if self.stage.now() < due_at {
            let Some(auto_close) = &self.auto_close else { return Ok(()) };
            return self.send_timer(auto_close, &inquiry, timer_step, due_at).await;
        }
        // A reply the classifier has not taken up yet: it reopens or closes the inquiry.
        let conversation = whole_conversation(self.stage.inquiries.as_ref(), &inquiry).await.or_retry()?;
        if conversation.last().is_some_and(|m| m.author == Author::Customer) {
            debug!(inquiry_id = %inquiry.id, "the customer's reply is on its way: no auto-close");
            return Ok(());
        }
        let details = json!({ "reason": NO_REPLY });
        let closed = self
            .stage
            .advance_from(inquiry.id, &[InquiryStatus::Answered], InquiryStatus::Resolved, details, |i| {
                i.status_reason = Some(NO_REPLY.to_owned());
            })
            .await?;
        match closed {
            Some(closed) if closed.status_reason.as_deref() == Some(NO_REPLY) => {
                info!(inquiry_id = %inquiry.id, "no reply to the answer: closed");
                self.announce_closed(&closed).await
            }
            _ => Ok(()),
        }
    }

    /// Tells the conversation and the notifier that the inquiry closed for want of a reply.
    async fn announce_closed(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let step = inquiry.step("no-reply");
        let text = closing_message(inquiry.reply_language(), NO_REPLY);
        let reply = Message::reply(inquiry, Author::System, &step, text, self.stage.now());
        self.stage.inquiries.append_message(&reply, &[]).await.or_retry()?;
        let data = json!({ "status": inquiry.status, "reason": NO_REPLY, "follow_up": inquiry.follow_up.as_ref().map(|r| r.sequence) });
        let event = self.stage.event(EventType::InquiryResolved, inquiry, &step, data);
        self.stage.publish(&[event]).await
    }
}
