//! The correction store's contract, on both backends: the SQLite table and
//! DynamoDB on the emulator hold operators' corrections the same way (one
//! per inquiry, a repeated resolve replaces it, each tenant's apart, read
//! back oldest first).

use jiff::Timestamp;
use std::sync::Arc;
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{Correction, FaqEntryId, Intent, Language, TenantId, Urgency};
use switchboard_sqlite::{Database, Durability};
use switchboard_store::CorrectionStore;
use switchboard_store::dynamodb::{DynamoStore, ensure_table};
use switchboard_store::sqlite::SqliteStore;
use switchboard_tests::emulator::{emulator, unique_prefix};

/// A fresh correction store, and what keeps it alive.
struct Fixture {
    store: Arc<dyn CorrectionStore>,
    _dir: Option<tempfile::TempDir>,
}

async fn embedded() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(&dir.path().join("sb.db"), Durability::Normal).expect("database opens");
    Fixture { store: Arc::new(SqliteStore::open(db).await.expect("store opens")), _dir: Some(dir) }
}

async fn aws(test: &str) -> Fixture {
    let config = emulator().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_prefix(test);
    assert!(ensure_table(&dynamodb, &table).await.expect("table ensured"));
    Fixture { store: Arc::new(DynamoStore::new(dynamodb, table)), _dir: None }
}

macro_rules! on_both_backends {
    ($($property:ident),* $(,)?) => {
        mod on_embedded {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::embedded().await).await;
                }
            )*
        }
        mod on_aws {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::aws(stringify!($property)).await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    corrections_read_back_oldest_first_whatever_their_inquiry_ids,
    a_repeated_resolve_replaces_the_correction_of_its_inquiry,
    one_tenants_corrections_are_not_anothers,
);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).expect("valid time")
}

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("valid tenant id")
}

/// A correction of a fresh inquiry of `tenant` (created at `created`), made at `made`.
fn correction(tenant_id: &str, created: i64, made: i64, text: &str) -> Correction {
    let inquiry = InquiryBuilder::new().tenant(tenant(tenant_id)).created_at(at(created), created as u8).content(text).build();
    Correction {
        tenant_id: inquiry.tenant_id.clone(),
        inquiry_id: inquiry.id,
        at: at(made),
        text: switchboard_domain::correction::memory_text(&inquiry),
        language: Language::En,
        original_intent: Intent::GeneralQuestion,
        original_urgency: Urgency::Low,
        corrected_intent: Some(Intent::TroubleReport),
        corrected_urgency: Some(Urgency::High),
        faq_entry_id: Some(FaqEntryId::derive(Language::En, text)),
    }
}

async fn corrections_read_back_oldest_first_whatever_their_inquiry_ids(f: Fixture) {
    // The newer inquiry was resolved first: time order is the resolution's, not the id's.
    let later = correction("hotel", 1, 50, "The heater is broken");
    let earlier = correction("hotel", 2, 10, "No hot water in the shower");
    f.store.put_correction(&later).await.unwrap();
    f.store.put_correction(&earlier).await.unwrap();

    let read = f.store.corrections(&tenant("hotel")).await.unwrap();
    assert_eq!(read, vec![earlier, later], "every field round-trips, oldest first");
}

async fn a_repeated_resolve_replaces_the_correction_of_its_inquiry(f: Fixture) {
    let first = correction("hotel", 1, 10, "The heater is broken");
    f.store.put_correction(&first).await.unwrap();
    f.store.put_correction(&first).await.unwrap();
    assert_eq!(f.store.corrections(&tenant("hotel")).await.unwrap(), vec![first.clone()], "a retry writes the same record once");

    let second = Correction { corrected_intent: Some(Intent::Complaint), corrected_urgency: None, faq_entry_id: None, ..first };
    f.store.put_correction(&second).await.unwrap();
    assert_eq!(f.store.corrections(&tenant("hotel")).await.unwrap(), vec![second], "the later feedback wins");
}

async fn one_tenants_corrections_are_not_anothers(f: Fixture) {
    let ours = correction("hotel", 1, 10, "The heater is broken");
    let theirs = correction("tours", 2, 11, "The heater is broken");
    f.store.put_correction(&ours).await.unwrap();
    f.store.put_correction(&theirs).await.unwrap();

    assert_eq!(f.store.corrections(&tenant("hotel")).await.unwrap(), vec![ours]);
    assert_eq!(f.store.corrections(&tenant("tours")).await.unwrap(), vec![theirs]);
    assert!(f.store.corrections(&tenant("nobody")).await.unwrap().is_empty());
}
