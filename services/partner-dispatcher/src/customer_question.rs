//! A booking that cannot be found or verified is answered with a question
//! back: the inquiry waits for the customer (`awaiting_customer`), the
//! question joins the conversation and goes out to the customer
//! (`inquiry.awaiting_customer`, on which the notifier texts or e-mails
//! it), and a delayed `inquiry.reply_deadline` to the dispatcher's own
//! queue, re-delayed in hops like the partner's deadline, ends the wait.
//! The customer's reply is the classifier's (`follow_up.rs`): a number in
//! it goes back to `classified` for the partner flow, none goes to a
//! person. At the deadline, an inquiry still waiting goes to a person with
//! the reason, exactly as an unverified booking did before the question.
//! An inquiry asks once ([`Inquiry::customer_question`]).

use crate::{PartnerDispatcher, remaining, signed};
use serde_json::json;
use switchboard_domain::{CloudEvent, CustomerQuestion, EventType, Inquiry, InquiryStatus, Unverified};
use switchboard_messaging::{MAX_DELAY, events};
use switchboard_pipeline::OrRetry;
use switchboard_worker::Outcome;
use tracing::{debug, info};

impl PartnerDispatcher {
    /// Asks the customer of a `classified` inquiry whose booking is
    /// `unverified` to check the reservation number: `awaiting_customer`
    /// with the question recorded (conditional, so a redelivery finds it
    /// asked and announces it again, with the deadline it was asked with).
    pub(crate) async fn ask_customer(&self, inquiry: &Inquiry, unverified: Unverified) -> Result<(), Outcome> {
        info!(inquiry_id = %inquiry.id, reason = unverified.reason(), "reservation unverified; asking the customer");
        let now = self.stage.now();
        let question = CustomerQuestion {
            unverified,
            message: unverified.question(inquiry.reply_language(), inquiry.reservation_number.as_ref()),
            asked_at: now,
            deadline_at: now + signed(self.config.customer_reply),
            reply: None,
        };
        let details = json!({ "reason": unverified.reason(), "deadline_at": question.deadline_at });
        let moved = self
            .stage
            .advance_from(inquiry.id, &[InquiryStatus::Classified], InquiryStatus::AwaitingCustomer, details, |i| {
                i.customer_question = Some(question.clone())
            })
            .await?;
        // `None`: a person got there first.
        let Some(asking) = moved else { return Ok(()) };
        self.announce_question(&asking).await
    }

    /// Adds the question to the conversation, starts the wait for the reply
    /// and publishes `inquiry.awaiting_customer` (again, on a redelivery:
    /// the message is keyed by the question, the event id by the inquiry
    /// and the notification by the event, so nothing is said twice).
    pub(crate) async fn announce_question(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let Some(question) = &inquiry.customer_question else {
            return Err(Outcome::reject("an inquiry awaiting the customer without a question"));
        };
        self.stage.inquiries.append_message(&question.as_message(inquiry), &[]).await.or_retry()?;
        self.schedule_reply_deadline(inquiry, question).await?;
        let data = json!({ "status": inquiry.status, "reason": question.unverified });
        let event = self.stage.event(EventType::InquiryAwaitingCustomer, inquiry, "1", data);
        self.stage.publish(&[event]).await
    }

    /// Sends the reply deadline to the dispatcher's own queue, delayed
    /// until the deadline or by the longest delay a queue allows (it then
    /// hops on, see [`Self::on_reply_deadline`]).
    async fn schedule_reply_deadline(&self, inquiry: &Inquiry, question: &CustomerQuestion) -> Result<(), Outcome> {
        let now = self.stage.now();
        let delay = remaining(now, question.deadline_at).min(MAX_DELAY);
        let event = CloudEvent::for_inquiry(
            EventType::ReplyDeadline,
            inquiry.id,
            &inquiry.tenant_id,
            &question.deadline_at.as_second().to_string(),
            &self.stage.source(),
            now,
            json!({ "deadline_at": question.deadline_at }),
        );
        events::send(self.own_queue.as_ref(), &event, delay).await?;
        Ok(())
    }

    /// The reply deadline: before it, hops on; at it, an inquiry still
    /// waiting for the customer goes to a person with the question's
    /// reason and the operators are told. One the reply (or a person)
    /// moved on is left alone; one this deadline escalated already is
    /// announced again (its announcement may have been lost).
    pub(crate) async fn on_reply_deadline(&self, event: &CloudEvent, inquiry: Inquiry) -> Result<(), Outcome> {
        let deadline_at = event.data.get("deadline_at").cloned().map(serde_json::from_value::<jiff::Timestamp>);
        let Some(Ok(deadline_at)) = deadline_at else {
            return Err(Outcome::reject("inquiry.reply_deadline without a deadline_at"));
        };
        let Some(question) = inquiry.customer_question.clone() else {
            return Err(Outcome::reject("inquiry.reply_deadline for an inquiry that asked nothing"));
        };
        if question.deadline_at != deadline_at {
            debug!(inquiry_id = %inquiry.id, "a reply deadline of another question");
            return Ok(());
        }
        let unanswered = question.reply.is_none();
        match inquiry.status {
            InquiryStatus::AwaitingCustomer if self.stage.now() < deadline_at => self.schedule_reply_deadline(&inquiry, &question).await,
            InquiryStatus::AwaitingCustomer => {
                info!(inquiry_id = %inquiry.id, "no reply to the question in time");
                self.escalate(&inquiry, question.unverified, &[InquiryStatus::AwaitingCustomer]).await
            }
            // Escalated by this deadline on an earlier delivery that stopped short of announcing it.
            InquiryStatus::Escalated
                if unanswered && inquiry.escalation.as_ref().is_some_and(|e| e.reason == question.unverified.reason()) =>
            {
                self.stage.announce_unverified(&inquiry).await
            }
            _ => {
                debug!(inquiry_id = %inquiry.id, status = %inquiry.status, "the question was answered or a person took it");
                Ok(())
            }
        }
    }
}
