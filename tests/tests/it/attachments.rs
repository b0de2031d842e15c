//! Attachment bodies, on both backends (files and S3 on the emulator): a
//! repeated submission stores nothing, and the sweep deletes the bodies no
//! inquiry references once they are older than the grace period, and no
//! others. And hostile attachments through the whole pipeline: a
//! compression bomb is rejected with a reason, and the inquiry and the
//! process carry on.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use switchboard_domain::{Channel, InquiryId, MediaType, SubmitInquiry, TenantId};
use switchboard_intake::Intake;
use switchboard_intake::attachments::{self, GRACE, PREFIX};
use switchboard_messaging::sqlite::SqliteBroker;
use switchboard_pipeline::Relay;
use switchboard_sqlite::{Database, Durability};
use switchboard_store::blob::{BlobStore, FilesystemBlobs};
use switchboard_store::dynamodb::{DynamoStore, ensure_table};
use switchboard_store::s3::{S3Blobs, ensure_bucket};
use switchboard_store::sqlite::SqliteStore;
use switchboard_store::{AttachmentRecord, InquiryStore, Store};
use switchboard_tests::TestApp;
use switchboard_tests::bombs::{pdf_bomb, png_declaring};
use switchboard_tests::emulator::{emulator, unique_prefix};

/// A store and a blob store of one backend, and an intake writing to them.
struct Backend {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    intake: Intake,
    _dir: tempfile::TempDir,
}

impl Backend {
    async fn embedded() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("sb.db"), Durability::Normal).unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db).await.unwrap());
        Self::with(store, Arc::new(FilesystemBlobs::new(&dir.path().join("blobs"))), dir).await
    }

    async fn aws(test: &str) -> Self {
        let prefix = unique_prefix(test);
        let config = emulator().sdk_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
        let bucket = format!("{prefix}-attachments");
        ensure_table(&dynamodb, &prefix).await.unwrap();
        ensure_bucket(&s3, &bucket).await.unwrap();
        let store: Arc<dyn Store> = Arc::new(DynamoStore::new(dynamodb, prefix));
        Self::with(store, Arc::new(S3Blobs::new(s3, bucket)), tempfile::tempdir().unwrap()).await
    }

    /// Intake on these stores; its announcements go to an embedded topic
    /// nobody reads (what is announced is not under test here).
    async fn with(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>, dir: tempfile::TempDir) -> Self {
        let events = Database::open(&dir.path().join("events.db"), Durability::Normal).unwrap();
        let topic = Arc::new(SqliteBroker::open(events).await.unwrap().topic(Vec::new()));
        let intake = Intake::new(store.clone(), store.clone(), blobs.clone(), Relay::new(store.clone(), topic));
        Self { store, blobs, intake, _dir: dir }
    }

    async fn submit_with_photo(&self, idempotency_key: Option<&str>) -> InquiryId {
        let request: SubmitInquiry = serde_json::from_value(serde_json::json!({
            "content": "Where does the tour start? My ticket is attached.",
            "customer_phone": "+12135550149",
            "attachments": [{ "filename": "ticket.png", "content_base64": base64::engine::general_purpose::STANDARD.encode(tiny_png()) }],
        }))
        .unwrap();
        let tenant = TenantId::parse("demo").unwrap();
        self.intake.submit(&tenant, request, idempotency_key, Channel::Api).await.unwrap().inquiry.id
    }

    async fn stored_keys(&self) -> Vec<String> {
        self.blobs.list(PREFIX, "").await.unwrap().into_iter().map(|b| b.key).collect()
    }
}

/// A 2×3 PNG: signature, IHDR, IEND.
fn tiny_png() -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}

async fn a_repeated_submission_stores_its_attachment_once(backend: Backend) {
    let first = backend.submit_with_photo(Some("retry-1")).await;
    let again = backend.submit_with_photo(Some("retry-1")).await;
    assert_eq!(again, first, "the repeat is the first inquiry");
    assert_eq!(backend.stored_keys().await, [attachments::key(first, 0, MediaType::Png)], "one body, the first inquiry's");
}

async fn an_orphan_older_than_the_grace_is_collected_and_a_fresh_or_referenced_one_is_not(backend: Backend) {
    let referenced = attachments::key(backend.submit_with_photo(None).await, 0, MediaType::Png);
    // A body whose inquiry was never created: the process died in between.
    let never_created = InquiryId::new(Timestamp::now(), [7; 10]);
    let orphan = attachments::key(never_created, 0, MediaType::Png);
    backend.blobs.put(&orphan, &tiny_png(), "image/png").await.unwrap();
    let record = |id: InquiryId, object_key: &str| AttachmentRecord {
        inquiry_id: id,
        index: 0,
        object_key: object_key.to_owned(),
        filename: "ticket.png".into(),
        media_type: MediaType::Png,
        size: tiny_png().len() as u64,
        analysis: None,
    };
    backend.store.put_attachment(&record(never_created, &orphan)).await.unwrap();
    let (blobs, store) = (backend.blobs.as_ref(), backend.store.as_ref() as &dyn InquiryStore);

    let now = attachments::sweep(blobs, store, Timestamp::now(), GRACE, None).await.unwrap();
    assert!(now.deleted.is_empty(), "both bodies are younger than the grace: {now:?}");
    let mut both = vec![referenced.clone(), orphan.clone()];
    both.sort();
    assert_eq!(backend.stored_keys().await, both);

    let later = Timestamp::now() + GRACE + SignedDuration::from_secs(60);
    let swept = attachments::sweep(blobs, store, later, GRACE, None).await.unwrap();
    assert_eq!(swept.deleted, std::slice::from_ref(&orphan), "only the orphan goes");
    assert_eq!(swept.records_deleted, 1, "with its attachment record");
    assert!(backend.store.attachments(never_created).await.unwrap().is_empty());
    let referenced_id = attachments::inquiry_of(&referenced).unwrap();
    assert_eq!(backend.store.attachments(referenced_id).await.unwrap().len(), 1, "the referenced record stays");
    assert_eq!(backend.store.delete_orphan_attachments(referenced_id).await.unwrap(), 0, "nothing of an existing inquiry is deleted");
    assert_eq!(backend.stored_keys().await, std::slice::from_ref(&referenced));
    assert_eq!(backend.blobs.get(&referenced).await.unwrap(), tiny_png(), "the referenced body is intact");

    let again = attachments::sweep(blobs, store, later, GRACE, None).await.unwrap();
    assert!(again.deleted.is_empty(), "a second sweep finds nothing more: {again:?}");
}

macro_rules! on_both_backends {
    ($($property:ident),* $(,)?) => {
        mod on_embedded {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::Backend::embedded().await).await;
                }
            )*
        }
        mod on_aws {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::Backend::aws(stringify!($property)).await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_repeated_submission_stores_its_attachment_once,
    an_orphan_older_than_the_grace_is_collected_and_a_fresh_or_referenced_one_is_not
);

#[tokio::test]
async fn a_pdf_compression_bomb_is_rejected_with_a_reason_and_the_inquiry_and_the_process_carry_on() {
    let app = TestApp::spawn().await;
    let encode = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    let id = app
        .submit_ok(&serde_json::json!({
            "content": "Is there parking at the hotel, and what does it cost? My booking is attached.",
            "customer_email": "guest@example.com",
            "attachments": [
                { "filename": "booking.pdf", "content_base64": encode(pdf_bomb()) },
                { "filename": "photo.png", "content_base64": encode(png_declaring(100_000, 100_000)) },
            ],
        }))
        .await;

    let inquiry = app.wait_terminal(&id).await;
    assert!(matches!(inquiry["status"].as_str(), Some("answered" | "escalated")), "the inquiry carries on: {}", inquiry["status"]);
    let records = app.ports.store.attachments(InquiryId::parse(&id).unwrap()).await.unwrap();
    let problems = |index: usize| records[index].analysis.as_ref().expect("analysis stored")["problems"].to_string();
    assert!(problems(0).contains("the PDF expands past 64 MB when decompressed"), "{}", problems(0));
    assert!(problems(1).contains("more than the 100 megapixels allowed"), "{}", problems(1));

    // Still up, and still serving.
    let next =
        app.submit_ok(&serde_json::json!({ "content": "Is there parking at the hotel?", "customer_email": "guest@example.com" })).await;
    assert_eq!(app.wait_terminal(&next).await["status"], "answered");
    app.stop().await;
}
