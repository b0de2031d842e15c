//! Image-analyzer: for inquiries with attachments, reads each one (text,
//! dimensions, a description of what it shows), stores the findings on the
//! attachment record and publishes `inquiry.attachments_analyzed`.

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::json;
use std::sync::Arc;
use switchboard_ai::{AttachmentAnalysis, AttachmentAnalyzer};
use switchboard_domain::{EventType, InquiryStatus};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::Stage;
use switchboard_store::blob::BlobStore;
use switchboard_store::{StoreError, TransitionError, transition};
use switchboard_worker::{Handler, Outcome};
use tracing::{debug, warn};

/// The image-analyzer service.
#[derive(Clone)]
pub struct ImageAnalyzer {
    stage: Stage,
    blobs: Arc<dyn BlobStore>,
    analyzer: Arc<dyn AttachmentAnalyzer>,
}

impl ImageAnalyzer {
    pub fn new(stage: Stage, blobs: Arc<dyn BlobStore>, analyzer: Arc<dyn AttachmentAnalyzer>) -> Self {
        Self { stage, blobs, analyzer }
    }
}

#[async_trait]
impl Handler for ImageAnalyzer {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        let (_, inquiry) = match self.stage.load(message).await {
            Ok(loaded) => loaded,
            Err(outcome) => return outcome,
        };
        let moved = transition(
            self.stage.inquiries.as_ref(),
            inquiry.id,
            InquiryStatus::Analyzing,
            self.stage.service.name(),
            Timestamp::now(),
            json!({ "attachments": inquiry.attachment_count }),
            |_| {},
        )
        .await;
        let inquiry = match moved {
            Ok(outcome) => outcome.inquiry().clone(),
            // Already classified or further: a redelivery after the work was done.
            Err(TransitionError::Invalid { current, .. }) => {
                debug!(inquiry_id = %inquiry.id, %current, "attachments already analyzed");
                return Outcome::Done;
            }
            Err(e) => return Outcome::retry(e),
        };

        let records = match self.stage.inquiries.attachments(inquiry.id).await {
            Ok(r) => r,
            Err(e) => return Outcome::retry(e),
        };
        for mut record in records.into_iter().filter(|r| r.analysis.is_none()) {
            let bytes = match self.blobs.get(&record.object_key).await {
                Ok(b) => b,
                Err(StoreError::NotFound(key)) => return Outcome::reject(format!("attachment body {key} is missing")),
                Err(e) => return Outcome::retry(e),
            };
            // An engine failure is a finding, not a reason to stall the inquiry.
            let analysis = self.analyzer.analyze(record.media_type, &bytes, &inquiry.content).await.unwrap_or_else(|e| {
                warn!(inquiry_id = %inquiry.id, error = %switchboard_ai::pii::redact(&e.to_string()), "attachment analysis failed");
                AttachmentAnalysis { problems: vec![format!("analysis failed: {e}")], engine: "none".into(), ..Default::default() }
            });
            record.analysis = serde_json::to_value(&analysis).ok();
            if let Err(e) = self.stage.inquiries.put_attachment(&record).await {
                return Outcome::retry(e);
            }
        }

        let event = self.stage.event(EventType::AttachmentsAnalyzed, &inquiry, "1", json!({ "attachments": inquiry.attachment_count }));
        match self.stage.publish(&[event]).await {
            Ok(()) => Outcome::Done,
            Err(outcome) => outcome,
        }
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}
