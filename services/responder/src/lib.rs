//! Responder: turns a classified inquiry (or a partner's outcome) into an
//! answer for the customer, or escalates it to a person (see [`decision`]).
//! A reopened inquiry (a customer's follow-up, classified again) is
//! answered the same way, from the follow-up's text; a conversation whose
//! mood is worsening goes to a person instead. An answer starts its wait
//! for the customer's reply ([`auto_close`]).

pub mod auto_close;
pub mod decision;

pub use auto_close::AutoClose;

use async_trait::async_trait;
use decision::Decision;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_ai::{AnswerDrafter, DraftRequest};
use switchboard_domain::reentry::{PARTNER_FOLLOW_UP, WORSENING_SENTIMENT};
use switchboard_domain::{Author, Escalation, EventType, Inquiry, InquiryStatus, Message, SentimentTrend, Tenant};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::{OrRetry, Stage};
use switchboard_store::{AiResponseRecord, TenantStore, whole_conversation};
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
    /// Where an answer's wait for a reply is timed; `None`: answers never close by themselves.
    auto_close: Option<AutoClose>,
}

impl Responder {
    /// The responder; its answers wait for replies forever until [`Self::with_auto_close`].
    pub fn new(stage: Stage, tenants: Arc<dyn TenantStore>, drafter: Arc<dyn AnswerDrafter>, budget: Duration) -> Self {
        Self { stage, tenants, drafter, budget, auto_close: None }
    }

    /// The same responder closing answers nobody replied to (see [`auto_close`]).
    pub fn with_auto_close(self, auto_close: AutoClose) -> Self {
        Self { auto_close: Some(auto_close), ..self }
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
                inquiry.answer.as_ref().map(|text| Message::reply(inquiry, Author::Ai, &inquiry.step("answer"), text.as_str(), now))
            }
            InquiryStatus::Escalated => inquiry
                .escalation
                .as_ref()
                .map(|e| Message::reply(inquiry, Author::System, &inquiry.step("escalated"), e.customer_message.as_str(), now)),
            _ => None,
        };
        if let Some(reply) = reply {
            self.stage.inquiries.append_message(&reply, &[]).await.or_retry()?;
        }
        Ok(())
    }

    /// Records the reply and publishes the outcome of an inquiry that has
    /// one (also on a redelivery); an answer starts its wait for a reply.
    /// `tenant`: the inquiry's, when the caller has read it.
    async fn announce(&self, inquiry: &Inquiry, tenant: Option<&Tenant>) -> Result<(), Outcome> {
        self.record_reply(inquiry).await?;
        let event_type = match inquiry.status {
            InquiryStatus::Answered => EventType::InquiryAnswered,
            InquiryStatus::Escalated => EventType::InquiryEscalated,
            _ => return Ok(()),
        };
        if inquiry.status == InquiryStatus::Answered && self.auto_close.is_some() {
            let tenant = match tenant {
                Some(t) => t.clone(),
                None => self.tenant(inquiry).await?,
            };
            self.schedule_auto_close(inquiry, &tenant).await?;
        }
        let data = json!({ "status": inquiry.status, "follow_up": inquiry.follow_up.as_ref().map(|r| r.sequence) });
        let event = self.stage.event(event_type, inquiry, &inquiry.step("1"), data);
        self.stage.publish(&[event]).await
    }

    async fn tenant(&self, inquiry: &Inquiry) -> Result<Tenant, Outcome> {
        let tenant = self.tenants.get_tenant(&inquiry.tenant_id).await.or_retry()?;
        tenant.ok_or_else(|| Outcome::reject(format!("tenant {} does not exist", inquiry.tenant_id)))
    }

    /// Whether the customer's mood worsens across the conversation. Read
    /// for a reopened inquiry only: a first answer's conversation is the
    /// inquiry alone (a follow-up that came meanwhile is taken up after
    /// the answer), and the read is spared on every inquiry.
    async fn worsening(&self, inquiry: &Inquiry) -> Result<bool, Outcome> {
        if inquiry.follow_up.is_none() {
            return Ok(false);
        }
        let conversation = whole_conversation(self.stage.inquiries.as_ref(), inquiry).await.or_retry()?;
        Ok(SentimentTrend::of(&conversation) == SentimentTrend::Worsening)
    }

    /// Answers or escalates the inquiry of an `inquiry.classified`,
    /// `partner.responded` or `partner.timed_out` message and publishes
    /// `inquiry.answered` or `inquiry.escalated`.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        if let Ok(event) = switchboard_messaging::events::parse(message)
            && event.kind() == Some(EventType::AutoClose)
            && self.hop(&event).await?
        {
            return Ok(());
        }
        let (event, inquiry) = self.stage.load(message).await?;
        if event.kind() == Some(EventType::AutoClose) {
            return self.on_auto_close(&event, inquiry).await;
        }
        if !DECIDES_FROM.contains(&inquiry.status) {
            return self.announce(&inquiry, None).await;
        }
        // A follow-up's round is about the follow-up: the partner's answer
        // was to the question before.
        let partner_outcome = match inquiry.follow_up {
            Some(_) => None,
            None => inquiry.partner.as_ref().and_then(|p| p.outcome.clone()),
        };
        if inquiry.status == InquiryStatus::AwaitingPartner && partner_outcome.is_none() {
            // The outcome event overtook its own write; it will be there on the next try.
            return Err(Outcome::retry("partner outcome not recorded yet"));
        }
        let tenant = self.tenant(&inquiry).await?;
        let language = inquiry.reply_language();
        let question = question(&inquiry);
        let request =
            DraftRequest { tenant: tenant.clone(), inquiry: question.clone(), partner_outcome: partner_outcome.clone(), language };

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
        // A worsening conversation goes to a person even when it could be
        // answered, before it boils over; so does a follow-up asking for a
        // reservation change (the partner was asked about the question before).
        let escalate_first = if self.worsening(&inquiry).await? {
            Some(WORSENING_SENTIMENT)
        } else if inquiry.follow_up.is_some() && question.classification.as_ref().is_some_and(|c| c.needs_partner()) {
            Some(PARTNER_FOLLOW_UP)
        } else {
            None
        };
        let decision = match escalate_first {
            Some(reason) => Decision::Escalate { reason: reason.to_owned(), customer_message: decision::holding_message(language) },
            None => decision::decide(
                question.classification.as_ref(),
                partner_outcome.as_ref(),
                drafted.as_ref().map_err(|e| e.as_str()),
                language,
            ),
        };

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
            .advance_from_read(&inquiry, &DECIDES_FROM, to, details, |i| match &decision {
                Decision::Answer { text } => i.answer = Some(text.clone()),
                Decision::Escalate { reason, customer_message } => {
                    i.escalation = Some(Escalation { reason: reason.clone(), customer_message: customer_message.clone() })
                }
            })
            .await?;
        // `None`: someone else moved it on (an operator escalated or resolved it).
        let Some(responded) = moved else { return Ok(()) };
        info!(inquiry_id = %inquiry.id, status = %to, "responded");
        self.announce(&responded, Some(&tenant)).await
    }
}

/// What the responder answers: the inquiry itself, or in a follow-up's
/// round the follow-up's text and classification on the inquiry's context
/// (customer, reservation, tenant).
fn question(inquiry: &Inquiry) -> Inquiry {
    let mut question = inquiry.clone();
    if let Some(round) = &inquiry.follow_up {
        question.title = None;
        question.content = round.text.clone();
        if round.classification.is_some() {
            question.classification = round.classification.clone();
        }
    }
    question
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
mod follow_up_tests;
#[cfg(test)]
mod tests;
