//! Classifier: decides language, sentiment, intent, urgency and the
//! reservation number, stores them (`classified`) and publishes
//! `inquiry.classified` with the `needs_partner` routing attribute.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::json;
use std::sync::Arc;
use switchboard_ai::local::LocalClassifier;
use switchboard_ai::{AttachmentAnalysis, Classifier as ClassifierEngine, ClassifyRequest};
use switchboard_domain::{EventType, Inquiry, InquiryStatus};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::Stage;
use switchboard_store::{TransitionError, TransitionOutcome, transition};
use switchboard_worker::{Handler, Outcome};
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
}

impl Classifier {
    pub fn new(stage: Stage, engine: Arc<dyn ClassifierEngine>) -> Self {
        Self { stage, engine, fallback: LocalClassifier::new() }
    }

    async fn request(&self, inquiry: &Inquiry) -> Result<ClassifyRequest, Outcome> {
        let mut attachment_texts = Vec::new();
        if inquiry.has_attachments() {
            let records = self.stage.inquiries.attachments(inquiry.id).await.map_err(Outcome::retry)?;
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
}

#[async_trait]
impl Handler for Classifier {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        let (_, inquiry) = match self.stage.load(message).await {
            Ok(loaded) => loaded,
            Err(outcome) => return outcome,
        };
        if !matches!(inquiry.status, InquiryStatus::Received | InquiryStatus::Analyzing | InquiryStatus::Classified) {
            debug!(inquiry_id = %inquiry.id, status = %inquiry.status, "already past classification");
            return Outcome::Done;
        }
        let classified = if inquiry.status == InquiryStatus::Classified {
            // Redelivered after the write: announce again (same event id).
            inquiry
        } else {
            let request = match self.request(&inquiry).await {
                Ok(r) => r,
                Err(outcome) => return outcome,
            };
            let classification = match self.engine.classify(&request).await {
                Ok(c) => c,
                Err(e) if message.receive_count < ENGINE_ATTEMPTS => return Outcome::retry(e),
                Err(e) => {
                    // Redacted, as the responder does: engine errors should carry no content, this is the safety net.
                    warn!(inquiry_id = %inquiry.id, error = %switchboard_ai::pii::redact(&e.to_string()), "classifier engine failed again; the local rules decide");
                    match self.fallback.classify(&request).await {
                        Ok(c) => c,
                        Err(e) => return Outcome::retry(e),
                    }
                }
            };
            let details = json!({
                "intent": classification.intent,
                "urgency": classification.urgency,
                "sentiment": classification.sentiment,
                "language": classification.language,
                "needs_partner": classification.needs_partner(),
                "engine": classification.engine,
            });
            let written = transition(
                self.stage.inquiries.as_ref(),
                inquiry.id,
                InquiryStatus::Classified,
                self.stage.service.name(),
                Timestamp::now(),
                details,
                |i| {
                    i.language = Some(classification.language);
                    if i.reservation_number.is_none() {
                        i.reservation_number = classification.reservation_number.clone();
                    }
                    i.classification = Some(classification.clone());
                },
            )
            .await;
            match written {
                Ok(TransitionOutcome::Applied(i) | TransitionOutcome::AlreadyDone(i)) => {
                    info!(inquiry_id = %i.id, intent = ?classification.intent, urgency = ?classification.urgency, "classified");
                    i
                }
                Err(TransitionError::Invalid { .. }) => return Outcome::Done,
                Err(e) => return Outcome::retry(e),
            }
        };
        let needs_partner = classified.classification.as_ref().is_some_and(|c| c.needs_partner());
        let event = self
            .stage
            .event(EventType::InquiryClassified, &classified, "1", json!({ "classification": classified.classification }))
            .with_needs_partner(needs_partner);
        match self.stage.publish(&[event]).await {
            Ok(()) => Outcome::Done,
            Err(outcome) => outcome,
        }
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}
