//! Classifier: decides language, sentiment, intent, urgency and the
//! reservation number, stores them (`classified`) and publishes
//! `inquiry.classified` with the `needs_partner` routing attribute.
//!
//! Beside the engine it consults the tenant's memory of operators'
//! corrections ([`tenant_memory`]): an inquiry close to one an operator
//! corrected takes the operator's intent and urgency, and is routed by them.

mod follow_up;
pub mod tenant_memory;

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_ai::local::LocalClassifier;
use switchboard_ai::{AttachmentAnalysis, Classifier as ClassifierEngine, ClassifyRequest};
use switchboard_domain::correction::memory_text;
use switchboard_domain::{Classification, EventType, Inquiry, InquiryStatus};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::{OrRetry, Stage};
use switchboard_worker::{Handler, Outcome};
use tenant_memory::TenantMemories;
use tracing::{debug, info, warn};

/// Deliveries that retry a failed engine before the local rules decide: a
/// blip passes with one retry, and an engine that stays down must not fail
/// the inquiry, only make its verdict rougher.
const ENGINE_ATTEMPTS: u32 = 2;

/// The classifier service.
#[derive(Clone)]
pub struct Classifier {
    stage: Stage,
    engine: Arc<dyn ClassifierEngine>,
    /// The verdict when the engine keeps failing: pure rules, no I/O.
    fallback: LocalClassifier,
    /// Tenants' corrections, consulted after the engine; none: the engine alone.
    memories: Option<Arc<TenantMemories>>,
}

impl Classifier {
    /// The service deciding with `engine` alone.
    pub fn new(stage: Stage, engine: Arc<dyn ClassifierEngine>) -> Self {
        Self { stage, engine, fallback: LocalClassifier::new(), memories: None }
    }

    /// The same service consulting each tenant's corrections after the engine.
    pub fn with_memory(self, memories: TenantMemories) -> Self {
        Self { memories: Some(Arc::new(memories)), ..self }
    }

    async fn request(&self, inquiry: &Inquiry) -> Result<ClassifyRequest, Outcome> {
        let mut attachment_texts = Vec::new();
        if inquiry.has_attachments() {
            let records = self.stage.inquiries.attachments(inquiry.id).await.or_retry()?;
            for analysis in records.into_iter().filter_map(|r| r.analysis) {
                if let Ok(a) = serde_json::from_value::<AttachmentAnalysis>(analysis) {
                    attachment_texts.extend(a.extracted_text);
                    attachment_texts.extend(a.description);
                }
            }
        }
        Ok(ClassifyRequest {
            title: inquiry.title.clone(),
            content: inquiry.content.clone(),
            language_hint: inquiry.language,
            reservation_hint: inquiry.reservation_number.clone(),
            attachment_texts,
        })
    }

    /// Classifies the inquiry of an `inquiry.received` or
    /// `inquiry.attachments_analyzed` message and publishes
    /// `inquiry.classified`. An engine that fails is retried once, then the
    /// local rules decide.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        let (event, inquiry) = self.stage.load(message).await?;
        if event.kind() == Some(EventType::MessageReceived) {
            return self.follow_up(&event, inquiry, message.receive_count).await;
        }
        if !matches!(inquiry.status, InquiryStatus::Received | InquiryStatus::Analyzing | InquiryStatus::Classified) {
            debug!(inquiry_id = %inquiry.id, status = %inquiry.status, "already past classification");
            return Ok(());
        }
        let classified = if inquiry.status == InquiryStatus::Classified {
            // Redelivered after the write: announce again (same event id).
            inquiry
        } else {
            let Some(classified) = self.classify(&inquiry, message.receive_count).await? else { return Ok(()) };
            classified
        };
        // An unsure verdict goes to the responder, which hands it to a person,
        // rather than to a partner on a guess.
        let needs_partner = classified.classification.as_ref().is_some_and(|c| c.needs_partner() && c.unsure.is_none());
        let event = self
            .stage
            .event(EventType::InquiryClassified, &classified, "1", json!({ "classification": classified.classification }))
            .with_needs_partner(needs_partner);
        self.stage.publish(&[event]).await
    }

    /// The engine's verdict on `request`; once it has failed on an earlier
    /// delivery, the local rules'.
    async fn verdict(&self, inquiry: &Inquiry, request: &ClassifyRequest, receive_count: u32) -> Result<Classification, Outcome> {
        match self.engine.classify(request).await {
            Ok(c) => Ok(c),
            Err(e) if receive_count < ENGINE_ATTEMPTS => Err(Outcome::retry(e)),
            Err(e) => {
                // Redacted, as the responder does: engine errors should carry no content, this is the safety net.
                warn!(inquiry_id = %inquiry.id, error = %switchboard_ai::pii::redact(&e.to_string()), "classifier engine failed again; the local rules decide");
                self.fallback.classify(request).await.map_err(Outcome::retry)
            }
        }
    }

    /// Decides and stores the classification; `None` when the inquiry moved
    /// on meanwhile.
    async fn classify(&self, inquiry: &Inquiry, receive_count: u32) -> Result<Option<Inquiry>, Outcome> {
        let request = self.request(inquiry).await?;
        let mut classification = self.verdict(inquiry, &request, receive_count).await?;
        let remembered = match &self.memories {
            Some(memories) => {
                let memory = memories.memory(&inquiry.tenant_id).await.or_retry()?;
                memory.consult(&memory_text(inquiry), &mut classification)
            }
            None => None,
        };
        if let Some(recall) = &remembered {
            info!(inquiry_id = %inquiry.id, like = %recall.inquiry_id, similarity = recall.similarity, "an operator's correction applies");
        }
        let details = json!({
            "intent": classification.intent,
            "urgency": classification.urgency,
            "sentiment": classification.sentiment,
            "language": classification.language,
            "needs_partner": classification.needs_partner(),
            "engine": classification.engine,
            "remembered": remembered.map(|r| r.inquiry_id),
        });
        let classified = self
            .stage
            .advance_from_read(inquiry, &InquiryStatus::ALL, InquiryStatus::Classified, details, |i| {
                i.language = Some(classification.language);
                if i.reservation_number.is_none() {
                    i.reservation_number = classification.reservation_number.clone();
                }
                i.classification = Some(classification.clone());
            })
            .await?;
        if let Some(i) = &classified {
            info!(inquiry_id = %i.id, intent = ?classification.intent, urgency = ?classification.urgency, "classified");
        }
        Ok(classified)
    }
}

#[async_trait]
impl Handler for Classifier {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}

#[cfg(test)]
mod follow_up_tests;
#[cfg(test)]
mod tests;
