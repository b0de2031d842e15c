//! A customer's follow-up (`inquiry.message_received`) re-entering the
//! pipeline. On an answered (or resolved) inquiry the follow-up is
//! classified with the conversation as context and judged
//! ([`reentry::judge`]): thanks close the inquiry (`resolved`), rising anger
//! hands it to a person (`escalated`, `worsening_sentiment`), anything else
//! reopens it (`reopened → classified`, then the responder as for a new
//! inquiry). On an escalated inquiry the operators are told. On an inquiry
//! waiting for the customer's reply to a question about its booking
//! (`awaiting_customer`), the follow-up is the reply ([`Classifier::take_up_reply`]):
//! a reservation number in it resumes the partner flow. A follow-up
//! that arrives while the pipeline is still working on the inquiry moves
//! nothing: the pending decision reads the conversation as it is by then.
//!
//! Every move is conditional on the status it was decided on and records
//! the follow-up's round on the inquiry, and every event and reply of the
//! round is keyed by the follow-up's sequence, so a redelivered message
//! announces the same round again and changes nothing twice.

use crate::Classifier;
use serde_json::{Value, json};
use switchboard_ai::ClassifyRequest;
use switchboard_domain::reentry::{self, CUSTOMER_CLOSED, Verdict, closing_message};
use switchboard_domain::{
    Author, CloudEvent, Escalation, EventType, FollowUpRound, Inquiry, InquiryStatus, Message, ReservationNumber, SentimentTrend,
};
use switchboard_pipeline::OrRetry;
use switchboard_store::whole_conversation;
use switchboard_worker::Outcome;
use tracing::{debug, info};

impl Classifier {
    /// Takes up the follow-up of an `inquiry.message_received` event.
    pub(crate) async fn follow_up(&self, event: &CloudEvent, inquiry: Inquiry, receive_count: u32) -> Result<(), Outcome> {
        let message_id = event.data.get("message_id").and_then(Value::as_str);
        let message_id = message_id.ok_or_else(|| Outcome::reject("inquiry.message_received without a message_id"))?;
        let conversation = whole_conversation(self.stage.inquiries.as_ref(), &inquiry).await.or_retry()?;
        // Stored in the write that announced it: a missing message is not coming.
        let position = conversation.iter().position(|m| m.id == message_id);
        let position = position.ok_or_else(|| Outcome::reject(format!("message {message_id} is not in the conversation")))?;
        let sequence = conversation[position].sequence;
        let round = inquiry.follow_up.as_ref().map(|r| r.sequence);
        let this_round = round == Some(sequence);
        if round.is_some_and(|r| r > sequence) {
            debug!(inquiry_id = %inquiry.id, sequence, "a later follow-up was taken up already");
            return Ok(());
        }
        if let Some(question) = &inquiry.customer_question {
            if question.reply == Some(sequence) {
                // Taken up by an earlier delivery: announce what it came to again.
                return self.announce_reply(&inquiry).await;
            }
            // Only a message after the question answers it.
            let question_id = question.as_message(&inquiry).id;
            let asked = conversation[..position].iter().any(|m| m.id == question_id);
            if inquiry.status == InquiryStatus::AwaitingCustomer && question.reply.is_none() && asked {
                return self.take_up_reply(inquiry, &conversation[position]).await;
            }
        }
        match inquiry.status {
            InquiryStatus::Escalated if !this_round => self.tell_operators(&inquiry, sequence).await,
            InquiryStatus::Answered | InquiryStatus::Resolved if !this_round => {
                self.take_up(inquiry, &conversation[..=position], receive_count).await
            }
            // Reopened by an earlier delivery that stopped short: go on.
            InquiryStatus::Reopened if this_round => self.go_on(inquiry, &conversation[..=position]).await,
            _ if this_round => self.announce_round(&inquiry).await,
            _ => {
                debug!(inquiry_id = %inquiry.id, status = %inquiry.status, "follow-up while the pipeline works on the inquiry: context for its decision");
                Ok(())
            }
        }
    }

    /// Classifies and judges a follow-up to an answered or resolved inquiry.
    async fn take_up(&self, inquiry: Inquiry, conversation: &[Message], receive_count: u32) -> Result<(), Outcome> {
        let Some(message) = conversation.last() else { return Ok(()) };
        // The latest message alone decides its mood and intent (earlier
        // text would lend it theirs); the conversation gives the reservation
        // and language it does not repeat, and the trend.
        let request = ClassifyRequest {
            title: None,
            content: message.text.clone(),
            language_hint: message.language.or(inquiry.language),
            reservation_hint: inquiry.reservation_number.clone(),
            attachment_texts: Vec::new(),
        };
        let classification = self.verdict(&inquiry, &request, receive_count).await?;
        let round = FollowUpRound { sequence: message.sequence, text: message.text.clone(), classification: Some(classification) };
        let verdict = judge(conversation, &round);
        info!(inquiry_id = %inquiry.id, sequence = round.sequence, ?verdict, "follow-up taken up");
        match verdict {
            Verdict::Close if inquiry.status == InquiryStatus::Resolved => Ok(()),
            Verdict::Close => {
                let details = json!({ "reason": CUSTOMER_CLOSED, "follow_up": round.sequence });
                let closed = self
                    .stage
                    .advance_from(inquiry.id, &[InquiryStatus::Answered], InquiryStatus::Resolved, details, |i| {
                        i.follow_up = Some(round.clone());
                        i.status_reason = Some(CUSTOMER_CLOSED.to_owned());
                    })
                    .await?;
                match closed {
                    Some(i) => self.announce_round(&i).await,
                    None => Ok(()),
                }
            }
            Verdict::Escalate(_) | Verdict::Reopen => {
                let details = json!({ "follow_up": round.sequence });
                let from = [InquiryStatus::Answered, InquiryStatus::Resolved];
                let reopened = self
                    .stage
                    .advance_from(inquiry.id, &from, InquiryStatus::Reopened, details, |i| i.follow_up = Some(round.clone()))
                    .await?;
                match reopened {
                    Some(i) => self.go_on(i, conversation).await,
                    None => Ok(()),
                }
            }
        }
    }

    /// Moves a reopened inquiry on: to a person when anger rises, else to
    /// `classified` for the responder.
    async fn go_on(&self, inquiry: Inquiry, conversation: &[Message]) -> Result<(), Outcome> {
        let Some(round) = inquiry.follow_up.clone() else { return Ok(()) };
        let (to, details) = match judge(conversation, &round) {
            Verdict::Escalate(reason) => (InquiryStatus::Escalated, json!({ "reason": reason, "follow_up": round.sequence })),
            Verdict::Close | Verdict::Reopen => {
                let c = round.classification.as_ref();
                let details = json!({
                    "follow_up": round.sequence,
                    "intent": c.map(|c| c.intent),
                    "urgency": c.map(|c| c.urgency),
                    "sentiment": c.map(|c| c.sentiment),
                });
                (InquiryStatus::Classified, details)
            }
        };
        let reason = details.get("reason").and_then(Value::as_str).map(str::to_owned);
        let language = inquiry.reply_language();
        let moved = self
            .stage
            .advance_from(inquiry.id, &[InquiryStatus::Reopened], to, details, |i| {
                if let Some(reason) = &reason {
                    i.escalation = Some(Escalation { reason: reason.clone(), customer_message: Escalation::holding_message(language) });
                }
            })
            .await?;
        match moved {
            Some(i) => self.announce_round(&i).await,
            None => Ok(()),
        }
    }

    /// Publishes what this round of the inquiry came to (again, on a
    /// redelivery: the same event ids), with the notice the customer is
    /// sent added to the conversation.
    async fn announce_round(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let Some(round) = &inquiry.follow_up else { return Ok(()) };
        let now = self.stage.now();
        let data = json!({ "status": inquiry.status, "follow_up": round.sequence });
        let (event, reply) = match inquiry.status {
            InquiryStatus::Classified => {
                // A follow-up is answered or escalated, never sent to a partner: the
                // responder hands a reservation change in a follow-up to a person.
                let event = self.stage.event(EventType::InquiryClassified, inquiry, &inquiry.step("1"), data).with_needs_partner(false);
                (event, None)
            }
            InquiryStatus::Escalated => {
                let Some(escalation) = &inquiry.escalation else { return Ok(()) };
                let reply = Message::reply(inquiry, Author::System, &inquiry.step("escalated"), escalation.customer_message.as_str(), now);
                (self.stage.event(EventType::InquiryEscalated, inquiry, &inquiry.step("1"), data), Some(reply))
            }
            InquiryStatus::Resolved if inquiry.status_reason.as_deref() == Some(CUSTOMER_CLOSED) => {
                let text = closing_message(inquiry.reply_language(), CUSTOMER_CLOSED);
                let reply = Message::reply(inquiry, Author::System, &inquiry.step("closed"), text, now);
                let data = json!({ "status": inquiry.status, "follow_up": round.sequence, "reason": CUSTOMER_CLOSED });
                (self.stage.event(EventType::InquiryResolved, inquiry, &inquiry.step("closed"), data), Some(reply))
            }
            _ => return Ok(()),
        };
        if let Some(reply) = reply {
            self.stage.inquiries.append_message(&reply, &[]).await.or_retry()?;
        }
        self.stage.publish(&[event]).await
    }

    /// The customer's reply to the question about their booking: a
    /// reservation number in it (found as in any inquiry's text) becomes
    /// the inquiry's and the inquiry goes back to `classified` for the
    /// partner flow, which verifies it again; a reply without one goes to
    /// a person with the question's reason. Only the number is taken: the
    /// booking is still matched against the phone the customer is reached
    /// on. Both moves are conditional on `awaiting_customer` and record the
    /// reply, so a redelivery announces the same outcome again.
    async fn take_up_reply(&self, inquiry: Inquiry, reply: &Message) -> Result<(), Outcome> {
        let Some(question) = inquiry.customer_question.clone() else { return Ok(()) };
        let sequence = reply.sequence;
        let from = [InquiryStatus::AwaitingCustomer];
        let moved = match ReservationNumber::extract(&reply.text) {
            Some(number) => {
                info!(inquiry_id = %inquiry.id, sequence, "the customer's reply names a reservation; verifying it again");
                let details = json!({ "reply": sequence, "reservation_number": number });
                self.stage
                    .advance_from(inquiry.id, &from, InquiryStatus::Classified, details, |i| {
                        i.reservation_number = Some(number.clone());
                        if let Some(c) = i.classification.as_mut() {
                            c.reservation_number = Some(number.clone());
                        }
                        if let Some(q) = i.customer_question.as_mut() {
                            q.reply = Some(sequence);
                        }
                    })
                    .await?
            }
            None => {
                info!(inquiry_id = %inquiry.id, sequence, "the customer's reply names no reservation; escalating");
                let escalation = question.unverified.escalation(&inquiry);
                let details = json!({ "reason": escalation.reason, "reply": sequence });
                self.stage
                    .advance_from(inquiry.id, &from, InquiryStatus::Escalated, details, |i| {
                        i.escalation = Some(escalation.clone());
                        if let Some(q) = i.customer_question.as_mut() {
                            q.reply = Some(sequence);
                        }
                    })
                    .await?
            }
        };
        match moved {
            Some(i) => self.announce_reply(&i).await,
            None => Ok(()),
        }
    }

    /// Publishes what the reply to the question came to: `inquiry.classified`
    /// for the dispatcher (keyed by the reply, so it is not the first
    /// classification's event), or the escalation. Nothing once the
    /// inquiry moved on from there.
    async fn announce_reply(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let Some(question) = &inquiry.customer_question else { return Ok(()) };
        let Some(sequence) = question.reply else { return Ok(()) };
        match inquiry.status {
            InquiryStatus::Classified => {
                let data = json!({ "classification": inquiry.classification, "reply": sequence });
                let event =
                    self.stage.event(EventType::InquiryClassified, inquiry, &format!("reply-{sequence}"), data).with_needs_partner(true);
                self.stage.publish(&[event]).await
            }
            InquiryStatus::Escalated if inquiry.escalation.as_ref().is_some_and(|e| e.reason == question.unverified.reason()) => {
                self.stage.announce_unverified(inquiry).await
            }
            _ => Ok(()),
        }
    }

    /// A follow-up on an escalated inquiry: the operators are told (the
    /// inquiry stays with its person).
    async fn tell_operators(&self, inquiry: &Inquiry, sequence: u32) -> Result<(), Outcome> {
        let data = json!({ "status": inquiry.status, "follow_up": sequence, "operators_only": true });
        let event = self.stage.event(EventType::InquiryEscalated, inquiry, &format!("follow-up-{sequence}"), data);
        info!(inquiry_id = %inquiry.id, sequence, "follow-up on an escalated inquiry; telling the operators");
        self.stage.publish(&[event]).await
    }
}

/// The verdict on `round`, the last message of `conversation`, with the
/// conversation's trend counting the round's classification.
fn judge(conversation: &[Message], round: &FollowUpRound) -> Verdict {
    let mut scored = conversation.to_vec();
    if let Some(last) = scored.last_mut() {
        last.classification = round.classification.clone().or(last.classification.take());
    }
    reentry::judge(&round.text, round.classification.as_ref(), SentimentTrend::of(&scored))
}
