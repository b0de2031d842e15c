//! First-response SLA timers. The notifier owns them: it is the service
//! every escalation reaches (whoever escalated: the responder, the
//! classifier, the dispatcher, an API call), it already tells the
//! operators, and the breach is one more thing to tell them.
//!
//! On `inquiry.escalated` (not a follow-up for the operators) it starts the
//! escalation's clock: the deadline from the tenant's [`SlaPolicy`] (else
//! the default), counted from the escalation (the inquiry's `updated_at`),
//! written on the inquiry with a conditional write, and an
//! `inquiry.sla_check` message sent to its own queue. A queue delays a
//! message 15 minutes at most, so the check hops, re-sending itself until
//! it is due, as the partner deadline and the auto-close timer do: no cron,
//! no scan. When it is due and the inquiry is still escalated in the same
//! round with its clock pending, it marks the clock breached (conditional:
//! once, however often the check is delivered and however many workers
//! race), and re-notifies the operators once (a deterministic message id).
//!
//! "First response" is a person's answer to this escalation: the resolve
//! that takes the inquiry out of `escalated` (the only way out). An inquiry
//! that left `escalated` ends the timer quietly. A re-escalation (the
//! customer wrote again after the answer) is a new round with a new clock
//! ([`Inquiry::step`]), so the old round's check finds it is not its round.

use crate::Notifier;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::EmailMessage;
use switchboard_domain::event::deterministic_id;
use switchboard_domain::{CloudEvent, EventType, Inquiry, InquiryStatus, Sla, SlaPolicy, SlaState, TimelineEvent, Urgency};
use switchboard_messaging::{MAX_DELAY, Queue, events};
use switchboard_pipeline::OrRetry;
use switchboard_pipeline::sla::{breach_event, breach_recorded};
use switchboard_store::{StoreError, TenantStore};
use switchboard_worker::Outcome;
use tracing::{debug, info};

/// Where SLA checks go and where policies come from.
#[derive(Clone)]
pub struct SlaTimer {
    /// The notifier's own queue.
    pub queue: Arc<dyn Queue>,
    /// The tenants, for their policies.
    pub tenants: Arc<dyn TenantStore>,
}

/// Lost races of a clock's write are retried this many times.
const WRITE_ATTEMPTS: usize = 5;

/// The round of the escalation `inquiry` is in: its clock's key.
fn round(inquiry: &Inquiry) -> String {
    inquiry.step("sla")
}

/// The urgency the escalation's target is taken for: the classification of
/// the round (the follow-up's, in a follow-up's round), else medium.
fn urgency(inquiry: &Inquiry) -> Urgency {
    let round = inquiry.follow_up.as_ref().and_then(|r| r.classification.as_ref());
    round.or(inquiry.classification.as_ref()).map_or(Urgency::Medium, |c| c.urgency)
}

/// The check's round and deadline, as its data says.
fn check_data(event: &CloudEvent) -> Result<(String, Timestamp), Outcome> {
    let round = event.data.get("round").and_then(Value::as_str).map(str::to_owned);
    let due_at = event.data.get("due_at").cloned().map(serde_json::from_value::<Timestamp>);
    match (round, due_at) {
        (Some(round), Some(Ok(due_at))) => Ok((round, due_at)),
        _ => Err(Outcome::reject("inquiry.sla_check without a round and a due_at")),
    }
}

/// How long a check waits to land just past `due_at` (a clock is breached
/// once the time is *past* its deadline; queues delay in whole seconds),
/// at most one queue delay.
fn delay_until(now: Timestamp, due_at: Timestamp) -> Duration {
    let wait = due_at.duration_since(now).max(SignedDuration::ZERO);
    let secs = u64::try_from(wait.as_secs()).unwrap_or(u64::MAX).saturating_add(1);
    Duration::from_secs(secs).min(MAX_DELAY)
}

impl Notifier {
    /// Starts the first-response clock of an escalated inquiry (or finds
    /// the one a previous delivery started) and sends its check.
    pub(crate) async fn start_sla(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let Some(timer) = &self.sla else { return Ok(()) };
        let Some(started) = self.write_clock(timer, inquiry).await? else { return Ok(()) };
        let Some(sla) = &started.sla else { return Ok(()) };
        self.send_check(timer, &started, &sla.round, sla.due_at).await
    }

    /// Writes a pending clock for the inquiry's round unless it has one;
    /// `None` when the inquiry is no longer escalated.
    async fn write_clock(&self, timer: &SlaTimer, inquiry: &Inquiry) -> Result<Option<Inquiry>, Outcome> {
        let round = round(inquiry);
        let tenant = timer.tenants.get_tenant(&inquiry.tenant_id).await.or_retry()?;
        let policy = tenant.map(|t| t.sla_policy()).unwrap_or_else(SlaPolicy::default);
        let mut current = inquiry.clone();
        for _ in 0..WRITE_ATTEMPTS {
            if current.status != InquiryStatus::Escalated {
                return Ok(None);
            }
            if current.sla.as_ref().is_some_and(|s| s.round == round) {
                return Ok(Some(current));
            }
            let mut next = current.clone();
            // Counted from the escalation: the write that escalated set
            // `updated_at`, and a clock's own writes leave it, so every
            // delivery computes the same deadline.
            let sla = Sla::start(&policy, round.clone(), urgency(&current), current.updated_at);
            let details = json!({ "due_at": sla.due_at, "urgency": sla.urgency, "round": round });
            next.sla = Some(sla);
            let mut started = TimelineEvent::once("sla.started", self.stage.service.name(), self.stage.now(), details);
            started.key = format!("sla.started/{round}");
            match self.stage.inquiries.update_inquiry(&next, current.version, Some(&started), &[]).await {
                Ok(stored) => return Ok(Some(stored)),
                Err(StoreError::Conflict(_)) => current = self.reread(inquiry).await?,
                Err(e) => return Err(Outcome::retry(e)),
            }
        }
        Err(Outcome::retry("the inquiry kept changing while its SLA clock was started"))
    }

    async fn reread(&self, inquiry: &Inquiry) -> Result<Inquiry, Outcome> {
        let reread = self.stage.inquiries.get_inquiry(inquiry.id).await.or_retry()?;
        reread.ok_or_else(|| Outcome::reject("inquiry vanished"))
    }

    async fn send_check(&self, timer: &SlaTimer, inquiry: &Inquiry, round: &str, due_at: Timestamp) -> Result<(), Outcome> {
        let now = self.stage.now();
        let event = CloudEvent::for_inquiry(
            EventType::SlaCheck,
            inquiry.id,
            &inquiry.tenant_id,
            &format!("{round}/{}", due_at.as_second()),
            &self.stage.source(),
            now,
            json!({ "round": round, "due_at": due_at }),
        );
        events::send(timer.queue.as_ref(), &event, delay_until(now, due_at)).await?;
        Ok(())
    }

    /// The check came before it is due: it hops on as it is, without a
    /// read (a day's target is about a hundred hops). `Ok(false)`: it is due.
    pub(crate) async fn hop_sla(&self, event: &CloudEvent) -> Result<bool, Outcome> {
        let Some(timer) = &self.sla else { return Ok(false) };
        let (_, due_at) = check_data(event)?;
        let now = self.stage.now();
        if now > due_at {
            return Ok(false);
        }
        events::send(timer.queue.as_ref(), event, delay_until(now, due_at)).await?;
        Ok(true)
    }

    /// The check is due: breach the clock and tell the operators, or do nothing.
    pub(crate) async fn on_sla_check(&self, event: &CloudEvent, inquiry: Inquiry) -> Result<(), Outcome> {
        let (round, _) = check_data(event)?;
        let breached = match self.breach(&inquiry, &round).await? {
            Some(breached) => breached,
            None => return Ok(()),
        };
        self.tell_operators_of_breach(&breached).await
    }

    /// Marks the round's clock breached if it is still pending and the
    /// inquiry still escalated; the inquiry when it is breached and still
    /// waiting for a person (also when an earlier delivery marked it and
    /// stopped short of telling the operators), else `None`.
    async fn breach(&self, inquiry: &Inquiry, round: &str) -> Result<Option<Inquiry>, Outcome> {
        let mut current = inquiry.clone();
        for _ in 0..WRITE_ATTEMPTS {
            let Some(sla) = current.sla.as_ref().filter(|s| s.round == round) else {
                debug!(inquiry_id = %inquiry.id, "re-escalated since: this check is not its round's");
                return Ok(None);
            };
            if current.status != InquiryStatus::Escalated {
                debug!(inquiry_id = %inquiry.id, "a person answered: the SLA check ends");
                return Ok(None);
            }
            match sla.state {
                SlaState::Breached => return Ok(Some(current)),
                SlaState::Met => return Ok(None),
                SlaState::Pending => {}
            }
            let now = self.stage.now();
            let mut next = current.clone();
            if !next.sla.as_mut().is_some_and(|s| s.breach(now)) {
                return Ok(None);
            }
            let event = breach_event(&next, self.stage.service.name(), now);
            match self.stage.inquiries.update_inquiry(&next, current.version, Some(&event), &[]).await {
                Ok(stored) => {
                    breach_recorded(&stored, self.stage.service.name());
                    return Ok(Some(stored));
                }
                Err(StoreError::Conflict(_)) => current = self.reread(inquiry).await?,
                Err(e) => return Err(Outcome::retry(e)),
            }
        }
        Err(Outcome::retry("the inquiry kept changing while its SLA breach was recorded"))
    }

    /// Re-notifies the operators of a breached inquiry, once per round: the
    /// message id is the round's, so a redelivery sends nothing.
    async fn tell_operators_of_breach(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let Some(sla) = &inquiry.sla else { return Ok(()) };
        let intent = inquiry.classification.as_ref().map(|c| c.intent.as_str()).unwrap_or("unclassified");
        let mail = EmailMessage {
            id: deterministic_id(&format!("{}/sla.breached/{}/operators", inquiry.id, sla.round)),
            to: self.operators.clone(),
            subject: format!("[Switchboard] SLA breached: {} {intent} inquiry {}", sla.urgency.as_str(), inquiry.id),
            body: format!(
                "Inquiry {id} of tenant {tenant} was escalated at {started} and has had no answer from a person by its first-response deadline {due} ({urgency} urgency).\n\n{content}\n\nResolve it with POST /api/inquiries/{id}/resolve.",
                id = inquiry.id,
                tenant = inquiry.tenant_id,
                started = sla.started_at,
                due = sla.due_at,
                urgency = sla.urgency.as_str(),
                content = inquiry.content,
            ),
            inquiry_id: Some(inquiry.id),
        };
        self.email.send_email(&mail).await.or_retry()?;
        let mut sent = TimelineEvent::once(
            "notification.operators.sla_breached",
            self.stage.service.name(),
            self.stage.now(),
            json!({ "channel": "email" }),
        );
        sent.key = format!("notification.operators.sla_breached/{}", sla.round);
        self.stage.inquiries.append_event(inquiry.id, &sent).await.or_retry()?;
        info!(inquiry_id = %inquiry.id, "operators re-notified of the SLA breach");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_lands_just_past_its_deadline_within_one_queue_delay() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(delay_until(now, now + SignedDuration::from_secs(5)), Duration::from_secs(6));
        assert_eq!(delay_until(now, now + SignedDuration::from_millis(300)), Duration::from_secs(1));
        assert_eq!(delay_until(now, now - SignedDuration::from_secs(5)), Duration::from_secs(1));
        assert_eq!(delay_until(now, now + SignedDuration::from_hours(3)), MAX_DELAY);
    }
}
