//! Image-analyzer: for inquiries with attachments, reads each one (text,
//! dimensions, a description of what it shows), stores the findings on the
//! attachment record and publishes `inquiry.attachments_analyzed`.

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_ai::{AttachmentAnalysis, AttachmentAnalyzer};
use switchboard_domain::{EventType, InquiryStatus};
use switchboard_messaging::ReceivedMessage;
use switchboard_pipeline::{OrRetry, Stage};
use switchboard_store::StoreError;
use switchboard_store::blob::BlobStore;
use switchboard_worker::{Handler, Outcome};
use tracing::warn;

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

impl ImageAnalyzer {
    /// Reads the attachments of an `inquiry.received` inquiry that has
    /// some, stores the findings on each attachment record and publishes
    /// `inquiry.attachments_analyzed`.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        let (_, inquiry) = self.stage.load(message).await?;
        let moved =
            self.stage.advance(inquiry.id, InquiryStatus::Analyzing, json!({ "attachments": inquiry.attachment_count }), |_| {}).await?;
        // `None`: already classified or further, a redelivery after the work was done.
        let Some(inquiry) = moved else { return Ok(()) };

        let records = self.stage.inquiries.attachments(inquiry.id).await.or_retry()?;
        for mut record in records.into_iter().filter(|r| r.analysis.is_none()) {
            let bytes = match self.blobs.get(&record.object_key).await {
                Ok(b) => b,
                Err(StoreError::NotFound(key)) => return Err(Outcome::reject(format!("attachment body {key} is missing"))),
                Err(e) => return Err(Outcome::retry(e)),
            };
            // An engine failure is a finding, not a reason to stall the inquiry.
            let analysis = self.analyzer.analyze(record.media_type, &bytes, &inquiry.content).await.unwrap_or_else(|e| {
                warn!(inquiry_id = %inquiry.id, error = %switchboard_ai::pii::redact(&e.to_string()), "attachment analysis failed");
                AttachmentAnalysis { problems: vec![format!("analysis failed: {e}")], engine: "none".into(), ..Default::default() }
            });
            record.analysis = serde_json::to_value(&analysis).ok();
            self.stage.inquiries.put_attachment(&record).await.or_retry()?;
        }

        let event = self.stage.event(EventType::AttachmentsAnalyzed, &inquiry, "1", json!({ "attachments": inquiry.attachment_count }));
        self.stage.publish(&[event]).await
    }
}

#[async_trait]
impl Handler for ImageAnalyzer {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }

    async fn on_dead_letter(&self, message: &ReceivedMessage, reason: &str) {
        self.stage.fail_inquiry(message, reason).await;
    }
}

#[cfg(test)]
mod tests;
