//! The image-analyzer's handler, called directly on the embedded backends.

use super::*;
use switchboard_ai::AiError;
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{Inquiry, MediaType, Service};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};
use switchboard_store::{AttachmentRecord, InquiryStore};

/// Reads every attachment as a 640×480 picture, or fails.
struct Scripted {
    fails: bool,
}

#[async_trait]
impl AttachmentAnalyzer for Scripted {
    async fn analyze(&self, _media_type: MediaType, _bytes: &[u8], _context: &str) -> Result<AttachmentAnalysis, AiError> {
        if self.fails {
            return Err(AiError::Unavailable("engine down".into()));
        }
        Ok(AttachmentAnalysis { width: Some(640), height: Some(480), engine: "scripted".into(), ..Default::default() })
    }
}

async fn setup(fails: bool) -> (TestPipeline, ImageAnalyzer) {
    let pipeline = TestPipeline::new().await;
    let analyzer = ImageAnalyzer::new(pipeline.stage(Service::ImageAnalyzer), pipeline.blobs.clone(), Arc::new(Scripted { fails }));
    (pipeline, analyzer)
}

/// A received inquiry with one picture attached; its body is stored unless `body_lost`.
async fn with_attachment(pipeline: &TestPipeline, body_lost: bool) -> (Inquiry, String) {
    let mut inquiry = InquiryBuilder::new().created_at(START, 5).content("The shower is broken, see the photo").build();
    inquiry.attachment_count = 1;
    pipeline.store_inquiry(&inquiry).await;
    let key = format!("attachments/{}/0.png", inquiry.id);
    if !body_lost {
        pipeline.blobs.put(&key, b"\x89PNG", "image/png").await.unwrap();
    }
    let record = AttachmentRecord {
        inquiry_id: inquiry.id,
        index: 0,
        object_key: key.clone(),
        filename: "shower.png".into(),
        media_type: MediaType::Png,
        size: 4,
        analysis: None,
    };
    pipeline.store.put_attachment(&record).await.unwrap();
    (inquiry, key)
}

async fn received(pipeline: &TestPipeline, analyzer: &ImageAnalyzer, inquiry: &Inquiry) -> Result<(), Outcome> {
    let event = pipeline.stage(Service::Intake).event(EventType::InquiryReceived, inquiry, "1", json!({})).with_has_attachments(true);
    analyzer.try_handle(&delivery(&event, 1)).await
}

async fn findings(pipeline: &TestPipeline, inquiry: &Inquiry) -> AttachmentAnalysis {
    let records = pipeline.store.attachments(inquiry.id).await.unwrap();
    serde_json::from_value(records[0].analysis.clone().unwrap()).unwrap()
}

#[tokio::test]
async fn attachments_are_read_and_the_classifier_is_told() {
    let (pipeline, analyzer) = setup(false).await;
    let (inquiry, _) = with_attachment(&pipeline, false).await;
    received(&pipeline, &analyzer, &inquiry).await.unwrap();

    assert_eq!(pipeline.inquiry(inquiry.id).await.status, InquiryStatus::Analyzing);
    assert_eq!((findings(&pipeline, &inquiry).await.width, findings(&pipeline, &inquiry).await.height), (Some(640), Some(480)));
    let told: Vec<String> = pipeline.take(Service::Classifier).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["inquiry.attachments_analyzed"]);
}

#[tokio::test]
async fn an_engine_failure_is_a_finding_not_a_stalled_inquiry() {
    let (pipeline, analyzer) = setup(true).await;
    let (inquiry, _) = with_attachment(&pipeline, false).await;
    received(&pipeline, &analyzer, &inquiry).await.unwrap();

    let analysis = findings(&pipeline, &inquiry).await;
    assert_eq!(analysis.problems, ["analysis failed: the engine is unavailable: engine down"]);
    assert_eq!(pipeline.take(Service::Classifier).await.len(), 1);
}

#[tokio::test]
async fn an_attachment_whose_body_is_missing_is_rejected() {
    let (pipeline, analyzer) = setup(false).await;
    let (inquiry, key) = with_attachment(&pipeline, true).await;
    let outcome = received(&pipeline, &analyzer, &inquiry).await;
    assert_eq!(outcome, Err(Outcome::reject(format!("attachment body {key} is missing"))));
}

#[tokio::test]
async fn a_redelivery_after_classification_is_left_alone() {
    let (pipeline, analyzer) = setup(false).await;
    let (mut inquiry, _) = with_attachment(&pipeline, false).await;
    inquiry.status = InquiryStatus::Classified;
    let stored = pipeline.inquiry(inquiry.id).await;
    pipeline.store.update_inquiry(&inquiry, stored.version, None, &[]).await.unwrap();
    received(&pipeline, &analyzer, &inquiry).await.unwrap();

    assert!(pipeline.store.attachments(inquiry.id).await.unwrap()[0].analysis.is_none(), "nothing read again");
    assert!(pipeline.take(Service::Classifier).await.is_empty());
}
