//! Responder: turns a classified inquiry (or a partner's outcome) into an
//! answer for the customer, or escalates it to a person (see [`decision`]).

pub mod decision;

use async_trait::async_trait;
use decision::Decision;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_ai::{AnswerDrafter, DraftRequest};
use switchboard_domain::{Author, Escalation, EventType, Inquiry, InquiryStatus, Message};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::{OrRetry, Stage};
use switchboard_store::{AiResponseRecord, TenantStore};
use switchboard_worker::{Handler, Outcome};
use tracing::{info, warn};

/// The responder service.
#[derive(Clone)]
pub struct Responder {
    stage: Stage,
    tenants: Arc<dyn TenantStore>,
    drafter: Arc<dyn AnswerDrafter>,
    /// The answer engine's time budget (3 s by default): past it, the
    /// fallback message goes out and a person takes over.
    budget: Duration,
}

impl Responder {
    pub fn new(stage: Stage, tenants: Arc<dyn TenantStore>, drafter: Arc<dyn AnswerDrafter>, budget: Duration) -> Self {
        Self { stage, tenants, drafter, budget }
    }

    /// Adds what the customer is told to the inquiry's conversation: the
    /// AI answer, or the notice that a person takes over. Keyed by the
    /// outcome, so a redelivery (which comes through [`Self::announce`]
    /// again) adds nothing, and a crash between the status write and this
    /// append is mended by the redelivery.
    async fn record_reply(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let now = self.stage.now();
        let reply = match inquiry.status {
            InquiryStatus::Answered => {
                inquiry.answer.as_ref().map(|text| Message::reply(inquiry, Author::Ai, "answer", text.as_str(), now))
            }
            InquiryStatus::Escalated => {
                inquiry.escalation.as_ref().map(|e| Message::reply(inquiry, Author::System, "escalated", e.customer_message.as_str(), now))
            }
            _ => None,
        };
        if let Some(reply) = reply {
            self.stage.inquiries.append_message(&reply, &[]).await.or_retry()?;
        }
        Ok(())
    }

    /// Records the reply and publishes the outcome of an inquiry that has
    /// one (also on a redelivery).
    async fn announce(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        self.record_reply(inquiry).await?;
        let event_type = match inquiry.status {
            InquiryStatus::Answered => EventType::InquiryAnswered,
            InquiryStatus::Escalated => EventType::InquiryEscalated,
            _ => return Ok(()),
        };
        let event = self.stage.event(event_type, inquiry, "1", json!({ "status": inquiry.status }));
        self.stage.publish(&[event]).await
    }

    /// Answers or escalates the inquiry of an `inquiry.classified`,
    /// `partner.responded` or `partner.timed_out` message and publishes
    /// `inquiry.answered` or `inquiry.escalated`.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        let (_, inquiry) = self.stage.load(message).await?;
        if !DECIDES_FROM.contains(&inquiry.status) {
            return self.announce(&inquiry).await;
        }
        let partner_outcome = inquiry.partner.as_ref().and_then(|p| p.outcome.clone());
        if inquiry.status == InquiryStatus::AwaitingPartner && partner_outcome.is_none() {
            // The outcome event overtook its own write; it will be there on the next try.
            return Err(Outcome::retry("partner outcome not recorded yet"));
        }
        let tenant = self.tenants.get_tenant(&inquiry.tenant_id).await.or_retry()?;
        let tenant = tenant.ok_or_else(|| Outcome::reject(format!("tenant {} does not exist", inquiry.tenant_id)))?;
        let language = inquiry.reply_language();
        let request = DraftRequest { tenant, inquiry: inquiry.clone(), partner_outcome: partner_outcome.clone(), language };

        let started = Instant::now();
        let drafted = match tokio::time::timeout(self.budget, self.drafter.draft(&request)).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.budget)),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        if let Err(why) = &drafted {
            // Engine errors carry no content by design; redacting is the
            // safety net for any that picked up a phone number or address.
            warn!(inquiry_id = %inquiry.id, error = %switchboard_ai::pii::redact(why), "answer engine failed; using the fallback");
        }
        // Where the conversation's mood would weigh in (issue 17):
        // `SentimentTrend::of(&whole_conversation(..))` worsening should
        // escalate even an answerable inquiry, before it boils over. Not
        // wired yet: the responder decides once per inquiry, before any
        // follow-up, until follow-ups re-enter the pipeline.
        let decision =
            decision::decide(inquiry.classification.as_ref(), partner_outcome.as_ref(), drafted.as_ref().map_err(|e| e.as_str()), language);

        let record = AiResponseRecord {
            inquiry_id: inquiry.id,
            at: self.stage.now(),
            model: drafted.as_ref().map(|d| d.model.clone()).unwrap_or_else(|_| "fallback".into()),
            prompt_tokens: drafted.as_ref().map(|d| d.prompt_tokens).unwrap_or(0),
            completion_tokens: drafted.as_ref().map(|d| d.completion_tokens).unwrap_or(0),
            latency_ms,
            quality_score: drafted.as_ref().map(|d| d.confidence).unwrap_or(0.0),
            fallback_used: drafted.is_err(),
        };
        self.stage.inquiries.put_ai_response(&record).await.or_retry()?;

        let (to, details) = match &decision {
            Decision::Answer { .. } => (InquiryStatus::Answered, json!({ "confidence": record.quality_score, "model": record.model })),
            Decision::Escalate { reason, .. } => (InquiryStatus::Escalated, json!({ "reason": reason })),
        };
        // Only from the status the decision was made on: a concurrent
        // delivery of this message (a stalled handler outliving its
        // visibility) may have answered meanwhile, and answered → escalated
        // is a move the status machine allows, which would tell the
        // customer twice.
        let moved = self
            .stage
            .advance_from(inquiry.id, &DECIDES_FROM, to, details, |i| match &decision {
                Decision::Answer { text } => i.answer = Some(text.clone()),
                Decision::Escalate { reason, customer_message } => {
                    i.escalation = Some(Escalation { reason: reason.clone(), customer_message: customer_message.clone() })
                }
            })
            .await?;
        // `None`: someone else moved it on (an operator escalated or resolved it).
        let Some(responded) = moved else { return Ok(()) };
        info!(inquiry_id = %inquiry.id, status = %to, "responded");
        self.announce(&responded).await
    }
}

/// The statuses the responder decides in: classified (no partner needed)
/// or awaiting the partner (with the partner's outcome recorded).
const DECIDES_FROM: [InquiryStatus; 2] = [InquiryStatus::Classified, InquiryStatus::AwaitingPartner];

#[async_trait]
impl Handler for Responder {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}

#[cfg(test)]
mod faq_tests;
#[cfg(test)]
mod tests;
