//! One conformance suite for both storage and channel backends: the same
//! property functions run against the embedded adapters (SQLite store,
//! files for blobs, the SQLite outbox) and against the AWS adapters
//! (DynamoDB, S3, SNS, SES on the local emulator, moto), so services can
//! rely on the same semantics whichever backend the composition root picks.
//!
//! Each property is one `async fn` taking a fresh [`Fixture`] (its own
//! temporary directory, or its own table, bucket and sender under a unique
//! prefix); the `conformance!` macro turns each into `on_embedded::<property>`
//! and `on_aws::<property>` tests. What was really sent is read back from
//! the outbox, or from moto's `/moto-api/data.json`.

use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_channels::ses::{SesEmail, ensure_sender};
use switchboard_channels::sns::SnsSms;
use switchboard_channels::sqlite::SqliteOutbox;
use switchboard_channels::{Delivery, EmailMessage, EmailSender, SmsMessage, SmsSender};
use switchboard_domain::fixtures::{self, InquiryBuilder};
use switchboard_domain::webhook::{
    AttemptResult, DeliveryAttempt, EventFilter, SecretRing, WebhookEndpoint, WebhookEndpointId, WebhookMessage, WebhookSecret, WebhookUrl,
};
use switchboard_domain::{
    Channel, Classification, CloudEvent, EmailAddress, Escalation, EventType, FaqEntry, Inquiry, InquiryId, InquiryStatus, Intent,
    Language, MediaType, Message, MessageChannel, PartnerOutcome, PartnerRequest, PhoneNumber, Reservation, ReservationNumber, Sentiment,
    Sla, SlaPolicy, SlaState, Tenant, TenantId, TimelineEvent, Urgency,
};
use switchboard_sqlite::{Database, Durability};
use switchboard_store::blob::{BlobStore, FilesystemBlobs};
use switchboard_store::dynamodb::{DynamoStore, ensure_table};
use switchboard_store::keys;
use switchboard_store::s3::{S3Blobs, ensure_bucket};
use switchboard_store::sqlite::SqliteStore;
use switchboard_store::{
    AiResponseRecord, Appended, AttachmentRecord, Created, OutboxEntry, Page, PageRequest, ReservationMigration, ReservationStore, Store,
    StoreError, TokenRecord, TransitionError, TransitionOutcome, conversation_page, transition, transition_from, whole_conversation,
};
use switchboard_tests::emulator::{emulator, unique_prefix};

/// Which backend a fixture stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Embedded,
    Aws,
}

/// A fresh set of storage and channel adapters, as the services see them.
struct Fixture {
    backend: Backend,
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    sms: Arc<dyn SmsSender>,
    email: Arc<dyn EmailSender>,
    /// Embedded: where "sent" messages are recorded.
    outbox: Option<Arc<SqliteOutbox>>,
    /// Makes message bodies unique to this fixture, so counting what moto
    /// received ignores other tests sharing the emulator.
    marker: String,
    /// The table under the store, to leave items as an older version wrote them.
    raw: Raw,
    /// Keeps the embedded database's directory alive.
    _dir: Option<tempfile::TempDir>,
}

/// Direct access to a fixture's table, around its store.
enum Raw {
    Embedded(Database),
    Aws { dynamodb: aws_sdk_dynamodb::Client, table: String },
}

impl Backend {
    async fn provision(self, test: &str) -> Fixture {
        let prefix = unique_prefix(test);
        match self {
            Backend::Embedded => {
                let dir = tempfile::tempdir().expect("temp dir");
                let db = Database::open(&dir.path().join("sb.db"), Durability::Normal).expect("database opens");
                let store = SqliteStore::open(db.clone()).await.expect("store opens");
                let outbox = Arc::new(SqliteOutbox::open(db.clone()).await.expect("outbox opens"));
                Fixture {
                    backend: self,
                    store: Arc::new(store),
                    blobs: Arc::new(FilesystemBlobs::new(&dir.path().join("blobs"))),
                    sms: outbox.clone(),
                    email: outbox.clone(),
                    outbox: Some(outbox),
                    marker: prefix,
                    raw: Raw::Embedded(db),
                    _dir: Some(dir),
                }
            }
            Backend::Aws => {
                let config = emulator().sdk_config().await;
                let dynamodb = aws_sdk_dynamodb::Client::new(&config);
                // Emulators serve buckets by path, not by host name.
                let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
                let sns = aws_sdk_sns::Client::new(&config);
                let ses = aws_sdk_sesv2::Client::new(&config);
                let (table, bucket, from) = (prefix.clone(), format!("{prefix}-attachments"), format!("noreply@{prefix}.example"));
                assert!(ensure_table(&dynamodb, &table).await.expect("table ensured"), "a new table is a change");
                assert!(ensure_bucket(&s3, &bucket).await.expect("bucket ensured"), "a new bucket is a change");
                assert!(ensure_sender(&ses, &from).await.expect("sender ensured"), "a new sender is a change");
                Fixture {
                    backend: self,
                    store: Arc::new(DynamoStore::new(dynamodb.clone(), table.clone())),
                    blobs: Arc::new(S3Blobs::new(s3, bucket)),
                    sms: Arc::new(SnsSms::new(sns, dynamodb.clone(), table.clone())),
                    email: Arc::new(SesEmail::new(ses, dynamodb.clone(), table.clone(), from)),
                    outbox: None,
                    marker: prefix,
                    raw: Raw::Aws { dynamodb, table },
                    _dir: None,
                }
            }
        }
    }
}

impl Fixture {
    /// Writes `body` (a JSON object of strings) at `key`, bypassing the
    /// store: an item as an older version left it.
    async fn put_raw(&self, key: &keys::Key, body: &Value) {
        match &self.raw {
            Raw::Embedded(db) => {
                let (key, body) = (key.clone(), body.to_string());
                db.write(move |tx| {
                    tx.execute("INSERT INTO items (pk, sk, body) VALUES (?1, ?2, ?3)", (&key.pk, &key.sk, &body))
                        .map_err(switchboard_sqlite::DbError::from)
                })
                .await
                .expect("raw item written");
            }
            Raw::Aws { dynamodb, table } => {
                use aws_sdk_dynamodb::types::AttributeValue;
                let fields = body.as_object().expect("a JSON object");
                let map = fields.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.as_str().expect("a string").to_owned()))).collect();
                dynamodb
                    .put_item()
                    .table_name(table)
                    .item("pk", AttributeValue::S(key.pk.clone()))
                    .item("sk", AttributeValue::S(key.sk.clone()))
                    .item("body", AttributeValue::M(map))
                    .send()
                    .await
                    .expect("raw item written");
            }
        }
    }

    /// Whether an item is stored at `key`, whatever it holds.
    async fn has_raw(&self, key: &keys::Key) -> bool {
        match &self.raw {
            Raw::Embedded(db) => {
                let key = key.clone();
                db.read(move |c| {
                    c.query_row("SELECT count(*) FROM items WHERE pk = ?1 AND sk = ?2", (&key.pk, &key.sk), |r| r.get::<_, i64>(0))
                        .map_err(switchboard_sqlite::DbError::from)
                })
                .await
                .expect("raw item read")
                    == 1
            }
            Raw::Aws { dynamodb, table } => {
                use aws_sdk_dynamodb::types::AttributeValue;
                let out = dynamodb
                    .get_item()
                    .table_name(table)
                    .key("pk", AttributeValue::S(key.pk.clone()))
                    .key("sk", AttributeValue::S(key.sk.clone()))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("raw item read");
                out.item.is_some()
            }
        }
    }

    /// Texts really sent whose body contains `needle`.
    async fn sms_sent(&self, needle: &str) -> Vec<String> {
        match &self.outbox {
            Some(outbox) => outbox_bodies(outbox, "sms", needle).await,
            None => moto_bodies(&["sns", "SMS"], "message", needle).await,
        }
    }

    /// E-mails really sent whose body contains `needle`.
    async fn emails_sent(&self, needle: &str) -> Vec<String> {
        match &self.outbox {
            Some(outbox) => outbox_bodies(outbox, "email", needle).await,
            None => moto_bodies(&["ses", "Message"], "body", needle).await,
        }
    }
}

async fn outbox_bodies(outbox: &SqliteOutbox, channel: &str, needle: &str) -> Vec<String> {
    let entries = outbox.entries(None).await.expect("outbox readable");
    entries.into_iter().filter(|e| e.channel == channel && e.body.contains(needle)).map(|e| e.body).collect()
}

/// Bodies of what moto recorded under `path` (e.g. `sns.SMS`) containing `needle`.
async fn moto_bodies(path: &[&str], field: &str, needle: &str) -> Vec<String> {
    let data: Value = emulator().recorded().await;
    let records = path.iter().fold(&data, |v, key| &v[*key]);
    records
        .as_array()
        .map(|all| all.iter().filter_map(|r| r[field].as_str()).filter(|b| b.contains(needle)).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Generates `on_embedded::<property>` and `on_aws::<property>` for each property.
macro_rules! conformance {
    ($($property:ident),* $(,)?) => {
        mod on_embedded {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::Backend::Embedded.provision(stringify!($property)).await).await;
                }
            )*
        }
        mod on_aws {
            $(
                #[tokio::test]
                async fn $property() {
                    super::$property(super::Backend::Aws.provision(stringify!($property)).await).await;
                }
            )*
        }
    };
}

conformance!(
    an_inquiry_round_trips_with_every_field,
    the_same_idempotency_key_returns_the_first_inquiry_per_tenant,
    a_write_with_a_stale_version_is_a_conflict,
    the_outbox_holds_an_announcement_from_its_write_until_it_is_cleared,
    a_transition_writes_status_and_timeline_together_and_only_once,
    a_guarded_transition_writes_nothing_once_the_inquiry_left_the_expected_statuses,
    timeline_events_are_deduplicated_by_key_and_read_oldest_first,
    tenant_listings_are_newest_first_across_pages_and_bad_tokens_are_rejected,
    status_listing_follows_transitions,
    a_token_is_consumed_once,
    an_inquiry_has_one_partner_link_and_a_redelivery_gets_the_first,
    a_link_is_voided_only_while_unused_and_only_once,
    closing_an_inquiry_voids_its_open_link_in_the_same_write,
    tenants_are_found_by_api_key_hash,
    a_tenant_update_is_conditional_on_the_version_read,
    reservations_round_trip,
    a_reservation_number_imported_by_two_tenants_keeps_each_tenants_own_record,
    a_reservation_under_its_legacy_key_is_moved_to_its_tenants_key_once,
    attachments_and_ai_responses_round_trip,
    blobs_round_trip_and_a_missing_blob_is_not_found,
    an_sms_id_is_sent_once_however_often_it_is_asked,
    an_email_id_is_sent_once_however_often_it_is_asked,
    messages_are_numbered_after_the_original_in_append_order_and_a_repeated_key_stores_one,
    a_conversation_is_paged_oldest_first_with_every_message_once,
    a_customers_inquiries_are_found_by_phone_newest_first_within_their_tenant,
    a_tenants_reservations_are_listed_by_number_and_no_other_tenants,
    a_console_session_is_found_by_its_hash_until_it_expires_or_is_deleted,
    webhook_endpoints_are_per_tenant_and_changed_only_at_the_version_read,
    a_webhook_message_is_stored_once_and_changed_only_at_the_version_read,
    the_delivery_log_is_read_newest_first_bounded_and_forgets_what_expired,
    the_sla_queue_lists_escalated_inquiries_by_deadline_and_follows_their_changes,
);

/// Embedded mode needs no command: every process opening the data file
/// moves the legacy reservations before it serves anything.
#[tokio::test]
async fn opening_the_embedded_store_moves_legacy_reservations_to_their_tenants_keys() {
    let f = Backend::Embedded.provision("legacy_reservations_on_open").await;
    let old = reservation("a", "HT-20481123", "2024-11-23");
    let legacy = keys::legacy_reservation(&old.reservation_number);
    f.put_raw(&legacy, &serde_json::to_value(&old).unwrap()).await;
    let Raw::Embedded(db) = &f.raw else { unreachable!("an embedded fixture") };
    let reopened = SqliteStore::open(db.clone()).await.expect("store opens");
    assert_eq!(ReservationStore::get_reservation(&reopened, &old.tenant_id, &old.reservation_number).await.unwrap(), Some(old));
    assert!(!f.has_raw(&legacy).await, "the legacy item is gone");
}

// ---------------------------------------------------------------------------
// Builders

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).expect("valid time")
}

fn tenant_id(id: &str) -> TenantId {
    TenantId::parse(id).expect("valid tenant id")
}

/// A freshly received inquiry of `tenant`, created at `second`.
fn inquiry(tenant: &str, second: i64) -> Inquiry {
    InquiryBuilder::new().tenant(tenant_id(tenant)).created_at(at(second), second as u8).build()
}

fn received_event(i: &Inquiry) -> TimelineEvent {
    TimelineEvent::once("status.received", "intake", i.created_at, Value::Null)
}

async fn create(store: &dyn Store, i: &Inquiry) {
    let created = store.create_inquiry(i, None, &received_event(i), &[]).await.expect("created");
    assert!(matches!(created, Created::New(_)));
}

fn kinds(events: &[TimelineEvent]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

fn token(hash: &str, inquiry_id: InquiryId) -> TokenRecord {
    TokenRecord {
        token_hash: hash.into(),
        inquiry_id,
        partner_id: "partner-1".into(),
        expires_at: at(600),
        deadline_at: at(300),
        issued_at: Some(at(0)),
        used: false,
        outcome: None,
        used_at: None,
        opened_at: None,
        voided_at: None,
    }
}

/// A received change request for a reservation: one a partner is asked about.
fn change_request(tenant: &str, second: i64) -> Inquiry {
    let mut i = inquiry(tenant, second);
    i.classification = Some(Classification {
        reservation_number: ReservationNumber::parse("HT-20481123").ok(),
        ..fixtures::classification(Language::En, Intent::ReservationChange)
    });
    i
}

fn tenant(id: &str, key_hash: &str) -> Tenant {
    Tenant {
        id: tenant_id(id),
        name: format!("Tenant {id}"),
        api_key_hash: key_hash.into(),
        domain_context: "A hotel in Seoul.".into(),
        faq: vec![FaqEntry::new(Language::En, "Check-in?", "From 3 pm.")],
        tier: "standard".into(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    }
}

// ---------------------------------------------------------------------------
// Store properties

async fn an_inquiry_round_trips_with_every_field(f: Fixture) {
    let mut i = inquiry("t", 1);
    i.customer.email = EmailAddress::parse("guest@example.com").ok();
    i.channel = Channel::Web;
    i.title = Some("객실 변경".into());
    i.content = "다음주 금요일 객실 데코 추가 가능할까요? 예약번호 HS-330192847".into();
    i.language = Some(Language::Ko);
    i.reservation_number = ReservationNumber::parse("HS-330192847").ok();
    i.attachment_count = 2;
    i.classification = Some(Classification {
        language: Language::Ko,
        intent: Intent::AddonRequest,
        urgency: Urgency::Medium,
        sentiment: Sentiment::Neutral,
        reservation_number: ReservationNumber::parse("HS-330192847").ok(),
        key_phrases: vec!["객실 데코".into(), String::new()],
        pii: vec![],
        engine: "local".into(),
        certainty: None,
        unsure: None,
    });
    i.status_reason = Some(String::new());
    i.partner = Some(PartnerRequest {
        partner_id: "p-1".into(),
        partner_name: "Hotel".into(),
        requested_at: at(2),
        deadline_at: at(302),
        outcome: Some(PartnerOutcome::Rejected { reason: None }),
        responded_at: Some(at(3)),
    });
    i.answer = Some("네, 가능합니다.".into());
    i.escalation = Some(Escalation { reason: "low confidence".into(), customer_message: "곧 답변드리겠습니다.".into() });
    i.human_answer = None;
    // The question asked about the booking (issue 17), with the reply it was answered by.
    i.customer_question = Some(switchboard_domain::CustomerQuestion {
        unverified: switchboard_domain::Unverified::PhoneMismatch,
        message: "예약번호를 확인해 주세요.".into(),
        asked_at: at(1),
        deadline_at: at(86_401),
        reply: Some(3),
    });
    i.updated_at = Timestamp::from_millisecond(1_700_000_003_456).expect("valid time");
    create(f.store.as_ref(), &i).await;
    assert_eq!(f.store.get_inquiry(i.id).await.unwrap(), Some(i.clone()));
    assert_eq!(f.store.get_inquiry(inquiry("t", 2).id).await.unwrap(), None);
    // Creating the same inquiry again is a conflict, not a silent overwrite.
    let again = f.store.create_inquiry(&i, None, &received_event(&i), &[]).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

async fn the_same_idempotency_key_returns_the_first_inquiry_per_tenant(f: Fixture) {
    let s = f.store.as_ref();
    let (first, second) = (inquiry("t", 1), inquiry("t", 2));
    assert!(matches!(s.create_inquiry(&first, Some("k"), &received_event(&first), &[]).await.unwrap(), Created::New(_)));
    match s.create_inquiry(&second, Some("k"), &received_event(&second), &[]).await.unwrap() {
        Created::Existing(i) => assert_eq!(i, first),
        other => panic!("expected Existing, got {other:?}"),
    }
    assert!(s.get_inquiry(second.id).await.unwrap().is_none());
    assert_eq!(kinds(&s.timeline(second.id).await.unwrap()), Vec::<&str>::new());
    // Keys are per tenant.
    let other = inquiry("u", 3);
    assert!(matches!(s.create_inquiry(&other, Some("k"), &received_event(&other), &[]).await.unwrap(), Created::New(_)));
    // Without a key nothing is deduplicated.
    assert!(matches!(s.create_inquiry(&second, None, &received_event(&second), &[]).await.unwrap(), Created::New(_)));
}

async fn a_write_with_a_stale_version_is_a_conflict(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    let mut next = i.clone();
    next.status = InquiryStatus::Classified;
    let stored = s.update_inquiry(&next, 1, None, &[]).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(s.get_inquiry(i.id).await.unwrap(), Some(stored.clone()));
    let event = TimelineEvent::once("status.escalated", "responder", at(5), Value::Null);
    assert!(matches!(s.update_inquiry(&next, 1, Some(&event), &[]).await, Err(StoreError::Conflict(_))));
    // The losing write left nothing behind: neither the record nor the event.
    assert_eq!(s.get_inquiry(i.id).await.unwrap(), Some(stored));
    assert_eq!(kinds(&s.timeline(i.id).await.unwrap()), ["status.received"]);
    // An inquiry that does not exist cannot be updated either.
    let ghost = inquiry("t", 9);
    assert!(matches!(s.update_inquiry(&ghost, 1, None, &[]).await, Err(StoreError::Conflict(_))));
}

/// An event about `i`, as the API or intake announces one.
fn announcement(i: &Inquiry, event_type: EventType, step: &str) -> CloudEvent {
    CloudEvent::for_inquiry(event_type, i.id, &i.tenant_id, step, "switchboard/test", i.updated_at, json!({ "inquiry_id": i.id }))
}

async fn the_outbox_holds_an_announcement_from_its_write_until_it_is_cleared(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    let received = announcement(&i, EventType::InquiryReceived, "1");
    let created = s.create_inquiry(&i, Some("k"), &received_event(&i), std::slice::from_ref(&received)).await.unwrap();
    assert!(matches!(created, Created::New(_)));
    // A repeat of the submission writes nothing, its announcement included.
    let repeat = inquiry("t", 2);
    let again =
        s.create_inquiry(&repeat, Some("k"), &received_event(&repeat), &[announcement(&repeat, EventType::InquiryReceived, "1")]).await;
    assert!(matches!(again.unwrap(), Created::Existing(_)));
    let ids = |entries: Vec<OutboxEntry>| entries.into_iter().map(|e| e.event.id).collect::<Vec<_>>();

    assert!(s.pending_events(at(1), 10).await.unwrap().is_empty(), "only entries stored before the cutoff");
    let pending = s.pending_events(at(100), 10).await.unwrap();
    assert_eq!(pending, [OutboxEntry { inquiry_id: i.id, stored_at: at(1), event: received.clone() }]);

    // An update stores its announcement with it; a losing update stores none.
    let mut next = i.clone();
    next.status = InquiryStatus::Escalated;
    next.updated_at = at(5);
    let escalated = announcement(&next, EventType::InquiryEscalated, "gateway");
    let lost = s.update_inquiry(&next, 7, None, std::slice::from_ref(&escalated)).await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    assert_eq!(ids(s.pending_events(at(100), 10).await.unwrap()), [received.id.as_str()], "the losing write stored no announcement");
    s.update_inquiry(&next, 1, None, std::slice::from_ref(&escalated)).await.unwrap();
    assert_eq!(ids(s.pending_events(at(100), 10).await.unwrap()), [received.id.as_str(), escalated.id.as_str()], "oldest first");
    assert_eq!(ids(s.pending_events(at(100), 1).await.unwrap()), [received.id.as_str()], "at most the limit");

    s.clear_event(i.id, &received.id).await.unwrap();
    s.clear_event(i.id, &received.id).await.unwrap();
    assert_eq!(ids(s.pending_events(at(100), 10).await.unwrap()), [escalated.id.as_str()], "cleared once, idempotently");
    // The inquiry and its timeline are untouched by the outbox.
    assert_eq!(s.get_inquiry(i.id).await.unwrap().map(|i| i.status), Some(InquiryStatus::Escalated));
}

async fn a_transition_writes_status_and_timeline_together_and_only_once(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    let now = at(100);
    let out = transition(s, i.id, InquiryStatus::Classified, "classifier", now, json!({"intent": "refund"}), |n| {
        n.language = Some(Language::En);
    })
    .await
    .unwrap();
    let TransitionOutcome::Applied(applied) = out else { panic!("expected Applied, got {out:?}") };
    assert_eq!((applied.status, applied.version, applied.language), (InquiryStatus::Classified, 2, Some(Language::En)));
    assert_eq!(s.get_inquiry(i.id).await.unwrap(), Some(applied));
    let again = transition(s, i.id, InquiryStatus::Classified, "classifier", now, Value::Null, |_| {}).await.unwrap();
    assert!(matches!(again, TransitionOutcome::AlreadyDone(_)));
    let timeline = s.timeline(i.id).await.unwrap();
    assert_eq!(kinds(&timeline), ["status.received", "status.classified"]);
    assert_eq!((timeline[1].actor.as_str(), &timeline[1].details), ("classifier", &json!({"intent": "refund"})));
    let back = transition(s, i.id, InquiryStatus::Received, "x", now, Value::Null, |_| {}).await;
    assert!(matches!(back, Err(TransitionError::Invalid { current: InquiryStatus::Classified, .. })), "{back:?}");
    let missing = transition(s, inquiry("t", 2).id, InquiryStatus::Classified, "x", now, Value::Null, |_| {}).await;
    assert!(matches!(missing, Err(TransitionError::NotFound(_))));
}

async fn a_guarded_transition_writes_nothing_once_the_inquiry_left_the_expected_statuses(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    let from = [InquiryStatus::Classified, InquiryStatus::AwaitingPartner];
    transition(s, i.id, InquiryStatus::Classified, "classifier", at(100), Value::Null, |_| {}).await.unwrap();
    transition_from(s, i.id, &from, InquiryStatus::Answered, "responder", at(101), Value::Null, |_| {}).await.unwrap();
    // Answered → escalated is a move the status machine allows (an operator
    // may escalate an answer), but not one a decision made on the
    // classified inquiry may make.
    let late = transition_from(s, i.id, &from, InquiryStatus::Escalated, "responder", at(102), Value::Null, |_| {}).await;
    assert!(matches!(late, Err(TransitionError::Invalid { current: InquiryStatus::Answered, .. })), "{late:?}");
    assert_eq!(s.get_inquiry(i.id).await.unwrap().unwrap().status, InquiryStatus::Answered);
    assert_eq!(kinds(&s.timeline(i.id).await.unwrap()), ["status.received", "status.classified", "status.answered"]);
    // The same move without the guard is allowed.
    let operator = transition(s, i.id, InquiryStatus::Escalated, "operator", at(103), Value::Null, |_| {}).await.unwrap();
    assert!(matches!(operator, TransitionOutcome::Applied(_)));
}

async fn timeline_events_are_deduplicated_by_key_and_read_oldest_first(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    let sms = TimelineEvent {
        at: at(10),
        kind: "partner.sms_sent".into(),
        actor: "partner-dispatcher".into(),
        details: json!({"attempt": 1, "score": 0.75, "tags": ["a", "b"], "nested": {"ok": true, "none": null}}),
        trace_id: Some("1-5759e988-bd862e3fe1be46a994272793".into()),
        key: "partner.sms_sent#1".into(),
    };
    assert!(s.append_event(i.id, &sms).await.unwrap());
    assert!(!s.append_event(i.id, &sms).await.unwrap(), "the same key twice");
    // Two events in the same millisecond keep the order they were written in.
    let opened = TimelineEvent::once("partner.opened", "partner", at(20), Value::Null);
    let answered = TimelineEvent::once("partner.answered", "partner", at(20), Value::Null);
    assert!(s.append_event(i.id, &opened).await.unwrap());
    assert!(s.append_event(i.id, &answered).await.unwrap());
    // Written earlier in time after the others: sorted in by its time.
    let late_write = TimelineEvent::once("intake.note", "intake", at(5), Value::Null);
    assert!(s.append_event(i.id, &late_write).await.unwrap());
    // An update whose event key is already on the timeline still applies,
    // and the duplicate event is dropped.
    let mut next = i.clone();
    next.answer = Some("hi".into());
    let stored = s.update_inquiry(&next, 1, Some(&received_event(&i)), &[]).await.unwrap();
    assert_eq!(s.get_inquiry(i.id).await.unwrap(), Some(stored));
    let timeline = s.timeline(i.id).await.unwrap();
    assert_eq!(kinds(&timeline), ["status.received", "intake.note", "partner.sms_sent", "partner.opened", "partner.answered"]);
    assert_eq!(timeline[2], sms, "an event round-trips exactly");
}

async fn tenant_listings_are_newest_first_across_pages_and_bad_tokens_are_rejected(f: Fixture) {
    let s = f.store.as_ref();
    for n in 0..5 {
        create(s, &inquiry("t", n)).await;
    }
    create(s, &inquiry("u", 9)).await;
    let t = tenant_id("t");
    let first = s.list_by_tenant(&t, &PageRequest::first(2)).await.unwrap();
    let second = s.list_by_tenant(&t, &PageRequest { limit: 2, after: first.next.clone() }).await.unwrap();
    let third = s.list_by_tenant(&t, &PageRequest { limit: 2, after: second.next.clone() }).await.unwrap();
    let secs = |p: &Page<Inquiry>| p.items.iter().map(|i| i.created_at.as_second() - 1_700_000_000).collect::<Vec<_>>();
    assert_eq!((secs(&first), secs(&second), secs(&third)), (vec![4, 3], vec![2, 1], vec![0]));
    assert!(first.next.is_some() && second.next.is_some());
    assert!(third.next.is_none(), "the last page says so");
    let exact = s.list_by_tenant(&t, &PageRequest::first(5)).await.unwrap();
    assert_eq!((exact.items.len(), exact.next), (5, None), "a page that ends the listing has no token");
    assert_eq!(secs(&s.list_by_tenant(&tenant_id("u"), &PageRequest::first(10)).await.unwrap()), vec![9]);
    assert!(s.list_by_tenant(&tenant_id("nobody"), &PageRequest::first(10)).await.unwrap().items.is_empty());
    // Not base64url, and base64url of bytes that are not text. (The DynamoDB
    // adapter also refuses well-formed tokens of another listing; SQLite
    // reads any text as a position, so that is not a shared property.)
    for bad in ["!!", "_w"] {
        let request = PageRequest { limit: 2, after: Some(bad.into()) };
        assert!(matches!(s.list_by_tenant(&t, &request).await, Err(StoreError::InvalidPageToken)), "{bad}");
    }
}

async fn status_listing_follows_transitions(f: Fixture) {
    let s = f.store.as_ref();
    let (a, b) = (inquiry("t", 1), inquiry("u", 2));
    create(s, &a).await;
    create(s, &b).await;
    let received = s.list_by_status(InquiryStatus::Received, &PageRequest::first(10)).await.unwrap();
    assert_eq!(received.items.iter().map(|i| i.id).collect::<Vec<_>>(), [b.id, a.id], "newest first, every tenant");
    transition(s, a.id, InquiryStatus::Escalated, "responder", at(100), Value::Null, |_| {}).await.unwrap();
    let received = s.list_by_status(InquiryStatus::Received, &PageRequest::first(10)).await.unwrap();
    assert_eq!(received.items.iter().map(|i| i.id).collect::<Vec<_>>(), [b.id]);
    let escalated = s.list_by_status(InquiryStatus::Escalated, &PageRequest::first(10)).await.unwrap();
    assert_eq!(escalated.items.len(), 1);
    assert_eq!((escalated.items[0].id, escalated.items[0].status), (a.id, InquiryStatus::Escalated));
    let first = s.list_by_status(InquiryStatus::Received, &PageRequest::first(1)).await.unwrap();
    assert!(first.next.is_none(), "one received inquiry is one page");
}

async fn a_token_is_consumed_once(f: Fixture) {
    let s = f.store.as_ref();
    let record = token("h", inquiry("t", 1).id);
    assert_eq!(s.put_token(&record).await.unwrap(), record);
    assert_eq!(s.get_token("h").await.unwrap(), Some(record.clone()));
    assert!(s.mark_token_opened("h", at(10)).await.unwrap());
    assert!(!s.mark_token_opened("h", at(11)).await.unwrap(), "only the first opening counts");
    let outcome = PartnerOutcome::Alternative { proposed_time: "2024-11-23T15:00".into() };
    let used = s.consume_token("h", &outcome, at(20)).await.unwrap();
    let expected = TokenRecord { used: true, outcome: Some(outcome), used_at: Some(at(20)), opened_at: Some(at(10)), ..record.clone() };
    assert_eq!(used, expected);
    assert!(matches!(s.consume_token("h", &PartnerOutcome::TimedOut, at(30)).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.get_token("h").await.unwrap(), Some(expected.clone()));
    // Storing again (a redelivered dispatcher) keeps the used record.
    assert_eq!(s.put_token(&record).await.unwrap(), expected);
    assert_eq!(s.get_token("nope").await.unwrap(), None);
    assert!(matches!(s.consume_token("nope", &PartnerOutcome::Accepted, at(30)).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.mark_token_opened("nope", at(30)).await, Err(StoreError::NotFound(_))));
}

async fn an_inquiry_has_one_partner_link_and_a_redelivery_gets_the_first(f: Fixture) {
    let s = f.store.as_ref();
    let id = inquiry("t", 1).id;
    let first = token("first", id);
    assert_eq!(s.put_token(&first).await.unwrap(), first);
    // A redelivery issues at a later time, so under another hash: the first link wins.
    let later = TokenRecord { token_hash: "later".into(), issued_at: Some(at(60)), deadline_at: at(360), ..token("later", id) };
    assert_eq!(s.put_token(&later).await.unwrap(), first);
    assert_eq!(s.get_token("later").await.unwrap(), None, "no second link is stored");
    let other = token("other", inquiry("t", 2).id);
    assert_eq!(s.put_token(&other).await.unwrap(), other, "another inquiry has its own");
}

async fn a_link_is_voided_only_while_unused_and_only_once(f: Fixture) {
    let s = f.store.as_ref();
    let (open, answered) = (inquiry("t", 1).id, inquiry("t", 2).id);
    assert!(!s.void_tokens(open, at(10)).await.unwrap(), "no link issued: nothing to void");
    s.put_token(&token("open", open)).await.unwrap();
    s.put_token(&token("answered", answered)).await.unwrap();
    let accepted = s.consume_token("answered", &PartnerOutcome::Accepted, at(5)).await.unwrap();

    assert!(s.void_tokens(open, at(10)).await.unwrap());
    let voided = TokenRecord { used: true, voided_at: Some(at(10)), ..token("open", open) };
    assert_eq!(s.get_token("open").await.unwrap(), Some(voided.clone()));
    assert!(!s.void_tokens(open, at(20)).await.unwrap(), "voiding again changes nothing");
    assert_eq!(s.get_token("open").await.unwrap(), Some(voided));
    assert!(
        matches!(s.consume_token("open", &PartnerOutcome::Accepted, at(30)).await, Err(StoreError::Conflict(_))),
        "a void link takes no answer"
    );

    assert!(!s.void_tokens(answered, at(10)).await.unwrap(), "an answer that came first stands");
    assert_eq!(s.get_token("answered").await.unwrap(), Some(accepted));
}

async fn closing_an_inquiry_voids_its_open_link_in_the_same_write(f: Fixture) {
    let s = f.store.as_ref();
    let (waiting, answered) = (change_request("t", 1), change_request("t", 2));
    for i in [&waiting, &answered] {
        create(s, i).await;
        s.put_token(&token(&format!("link-{}", i.id), i.id)).await.unwrap();
    }
    let accepted = s.consume_token(&format!("link-{}", answered.id), &PartnerOutcome::Accepted, at(5)).await.unwrap();
    for i in [&waiting, &answered] {
        transition(s, i.id, InquiryStatus::Escalated, "operator", at(10), Value::Null, |_| {}).await.unwrap();
    }

    let voided = s.get_token(&format!("link-{}", waiting.id)).await.unwrap().unwrap();
    assert_eq!((voided.used, voided.outcome.clone(), voided.voided_at), (true, None, Some(at(10))));
    assert_eq!(s.get_token(&format!("link-{}", answered.id)).await.unwrap(), Some(accepted), "the partner answered first");

    // Resolving later (another closing write) leaves the void link as it was.
    transition(s, waiting.id, InquiryStatus::Resolved, "operator", at(20), Value::Null, |_| {}).await.unwrap();
    assert_eq!(s.get_token(&format!("link-{}", waiting.id)).await.unwrap(), Some(voided));
}

async fn tenants_are_found_by_api_key_hash(f: Fixture) {
    let s = f.store.as_ref();
    let (b, a) = (tenant("b-hotel", "hash-b"), tenant("a-shop", "hash-a"));
    s.put_tenant(&b).await.unwrap();
    s.put_tenant(&a).await.unwrap();
    assert_eq!(s.tenant_by_api_key_hash("hash-a").await.unwrap(), Some(a.clone()));
    assert_eq!(s.tenant_by_api_key_hash("nope").await.unwrap(), None);
    assert_eq!(s.get_tenant(&b.id).await.unwrap(), Some(b.clone()));
    assert_eq!(s.get_tenant(&tenant_id("nobody")).await.unwrap(), None);
    // Inquiries share the table and must not show up as tenants.
    create(s, &inquiry("a-shop", 1)).await;
    assert_eq!(s.list_tenants().await.unwrap(), vec![a.clone(), b.clone()]);
    // A rotated key: the old hash finds nothing, the new one the tenant.
    let rotated = Tenant { api_key_hash: "hash-b2".into(), ..b };
    s.put_tenant(&rotated).await.unwrap();
    assert_eq!(s.tenant_by_api_key_hash("hash-b").await.unwrap(), None);
    assert_eq!(s.tenant_by_api_key_hash("hash-b2").await.unwrap(), Some(rotated));
}

async fn a_tenant_update_is_conditional_on_the_version_read(f: Fixture) {
    let s = f.store.as_ref();
    s.put_tenant(&tenant("faq-hotel", "hash-faq")).await.unwrap();
    let read = s.get_tenant(&tenant_id("faq-hotel")).await.unwrap().unwrap();
    let mut first = read.clone();
    first.faq.push(FaqEntry::new(Language::En, "Parking?", "Free."));
    let stored = s.update_tenant(&first, read.version).await.unwrap();
    assert_eq!(stored.version, read.version + 1);
    // A writer that read the same version loses and changes nothing.
    let mut second = read.clone();
    second.name = "Renamed".into();
    assert!(matches!(s.update_tenant(&second, read.version).await, Err(StoreError::Conflict(_))));
    let now = s.get_tenant(&read.id).await.unwrap().unwrap();
    assert_eq!((now.version, now.faq.len(), now.name.as_str()), (stored.version, 2, "Tenant faq-hotel"));
    let mut ghost = read.clone();
    ghost.id = tenant_id("nobody");
    assert!(matches!(s.update_tenant(&ghost, 0).await, Err(StoreError::NotFound(_))));
    // Two concurrent read-change-writes both land: the loser retries.
    let add = |question: &'static str| {
        switchboard_store::edit_tenant(s, &read.id, move |t: &mut Tenant| {
            t.faq.push(FaqEntry::new(Language::En, question, "Yes."));
            Ok::<_, std::convert::Infallible>(())
        })
    };
    let (a, b) = tokio::join!(add("Wifi?"), add("Pool?"));
    assert!(a.unwrap().is_ok() && b.unwrap().is_ok());
    let last = s.get_tenant(&read.id).await.unwrap().unwrap();
    assert_eq!((last.version, last.faq.len()), (stored.version + 2, 4));
}

fn reservation(tenant: &str, number: &str, date: &str) -> Reservation {
    Reservation {
        reservation_number: ReservationNumber::parse(number).unwrap(),
        tenant_id: tenant_id(tenant),
        customer_name: "김민수".into(),
        customer_phone: PhoneNumber::parse("+821012345678").unwrap(),
        partner_id: "p-1".into(),
        partner_name: "Hotel".into(),
        partner_phone: PhoneNumber::parse("+821098765432").unwrap(),
        partner_locale: Language::Ko,
        service_type: "room".into(),
        reservation_date: date.into(),
    }
}

async fn reservations_round_trip(f: Fixture) {
    let s = f.store.as_ref();
    let mut reservation = reservation("t", "HT-20481123", "2024-11-23");
    let (t, number) = (reservation.tenant_id.clone(), reservation.reservation_number.clone());
    s.put_reservation(&reservation).await.unwrap();
    assert_eq!(s.get_reservation(&t, &number).await.unwrap(), Some(reservation.clone()));
    reservation.reservation_date = "2024-11-24T15:00".into();
    s.put_reservation(&reservation).await.unwrap();
    assert_eq!(s.get_reservation(&t, &number).await.unwrap(), Some(reservation));
    assert_eq!(s.get_reservation(&t, &ReservationNumber::parse("HT-99999999").unwrap()).await.unwrap(), None);
    assert_eq!(s.get_reservation(&tenant_id("u"), &number).await.unwrap(), None, "another tenant has no such reservation");
}

async fn a_tenants_reservations_are_listed_by_number_and_no_other_tenants(f: Fixture) {
    let s = f.store.as_ref();
    let (second, first) = (reservation("a", "HT-20481124", "2024-11-24"), reservation("a", "HT-20481123", "2024-11-23"));
    for r in [&second, &first, &reservation("b", "HT-20481125", "2024-11-25")] {
        s.put_reservation(r).await.unwrap();
    }
    assert_eq!(s.reservations(&tenant_id("a")).await.unwrap(), vec![first, second]);
    assert_eq!(s.reservations(&tenant_id("c")).await.unwrap(), vec![]);
}

async fn a_console_session_is_found_by_its_hash_until_it_expires_or_is_deleted(f: Fixture) {
    let s = f.store.as_ref();
    let now = Timestamp::now();
    let session = switchboard_store::ConsoleSession {
        operator: "ops".into(),
        csrf_token: "csrf".into(),
        created_at: now,
        expires_at: now + jiff::SignedDuration::from_hours(8),
    };
    s.put_session("h1", &session).await.unwrap();
    assert_eq!(s.get_session("h1", now).await.unwrap(), Some(session.clone()));
    assert!(matches!(s.put_session("h1", &session).await, Err(StoreError::Conflict(_))), "a session id is never reused");
    let later = session.expires_at + jiff::SignedDuration::from_secs(1);
    assert_eq!(s.get_session("h1", later).await.unwrap(), None, "an expired session is no session, whatever the TTL has not deleted yet");
    assert_eq!(s.get_session("h2", now).await.unwrap(), None);
    s.delete_session("h1").await.unwrap();
    assert_eq!(s.get_session("h1", now).await.unwrap(), None);
    s.delete_session("h1").await.unwrap();
}

async fn a_reservation_number_imported_by_two_tenants_keeps_each_tenants_own_record(f: Fixture) {
    let s = f.store.as_ref();
    let mut first = reservation("a", "HT-20481123", "2024-11-23");
    first.partner_locale = Language::En;
    let second = reservation("b", "HT-20481123", "2025-01-05");
    s.put_reservation(&first).await.unwrap();
    s.put_reservation(&second).await.unwrap();
    let number = &first.reservation_number.clone();
    assert_eq!(s.get_reservation(&tenant_id("a"), number).await.unwrap(), Some(first), "the second import did not replace the first");
    assert_eq!(s.get_reservation(&tenant_id("b"), number).await.unwrap(), Some(second));
    assert_eq!(s.get_reservation(&tenant_id("c"), number).await.unwrap(), None);
}

/// Versions before reservations were keyed by tenant stored them under
/// `RES#{number}`. The migration moves each to its tenant's key, keeps a
/// newer import already there, leaves (and names) an item that names no
/// tenant, and finds nothing more to do when run again.
async fn a_reservation_under_its_legacy_key_is_moved_to_its_tenants_key_once(f: Fixture) {
    let s = f.store.as_ref();
    let old = reservation("a", "HT-20481123", "2024-11-23");
    let stale = reservation("b", "HT-20481124", "2024-12-01");
    let newer = reservation("b", "HT-20481124", "2024-12-02");
    let legacy = |r: &Reservation| keys::legacy_reservation(&r.reservation_number);
    f.put_raw(&legacy(&old), &serde_json::to_value(&old).unwrap()).await;
    f.put_raw(&legacy(&stale), &serde_json::to_value(&stale).unwrap()).await;
    s.put_reservation(&newer).await.unwrap();
    let damaged = keys::legacy_reservation(&ReservationNumber::parse("ZZ-00000001").unwrap());
    f.put_raw(&damaged, &json!({ "reservation_number": "ZZ-00000001" })).await;
    assert_eq!(s.get_reservation(&old.tenant_id, &old.reservation_number).await.unwrap(), None, "nothing reads a legacy key");

    let first = s.migrate_legacy_reservations().await.unwrap();
    assert_eq!(first, ReservationMigration { moved: 1, superseded: 1, unreadable: vec![damaged.pk.clone()] });
    assert_eq!(s.get_reservation(&old.tenant_id, &old.reservation_number).await.unwrap(), Some(old.clone()));
    assert_eq!(
        s.get_reservation(&newer.tenant_id, &newer.reservation_number).await.unwrap(),
        Some(newer.clone()),
        "the newer import is kept"
    );
    assert_eq!(s.get_reservation(&tenant_id("b"), &old.reservation_number).await.unwrap(), None, "moved to its own tenant only");
    assert!(!f.has_raw(&legacy(&old)).await && !f.has_raw(&legacy(&stale)).await, "the legacy items are gone");
    assert!(f.has_raw(&damaged).await, "an item naming no tenant is left where nothing reads it");

    let again = s.migrate_legacy_reservations().await.unwrap();
    assert_eq!(again, ReservationMigration { moved: 0, superseded: 0, unreadable: vec![damaged.pk.clone()] });
    assert_eq!(s.get_reservation(&old.tenant_id, &old.reservation_number).await.unwrap(), Some(old));
}

async fn attachments_and_ai_responses_round_trip(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    let mut records: Vec<_> = [2u32, 0, 10, 1]
        .into_iter()
        .map(|index| AttachmentRecord {
            inquiry_id: i.id,
            index,
            object_key: format!("attachments/{}/{index}.png", i.id),
            filename: format!("사진 {index}.png"),
            media_type: MediaType::Png,
            size: 1_048_576 + u64::from(index),
            analysis: None,
        })
        .collect();
    for r in &records {
        s.put_attachment(r).await.unwrap();
    }
    // Replacing one keeps a single record for its index.
    records[0].analysis = Some(json!({"text": "영수증", "labels": ["receipt"], "confidence": 0.5, "problems": []}));
    s.put_attachment(&records[0]).await.unwrap();
    records.sort_by_key(|r| r.index);
    assert_eq!(s.attachments(i.id).await.unwrap(), records);

    let response = |second, score, fallback| AiResponseRecord {
        inquiry_id: i.id,
        at: at(second),
        model: "local-faq".into(),
        prompt_tokens: 120,
        completion_tokens: 48,
        latency_ms: 37,
        quality_score: score,
        fallback_used: fallback,
    };
    let (late, early) = (response(20, 0.83, false), response(10, 0.1, true));
    s.put_ai_response(&late).await.unwrap();
    s.put_ai_response(&early).await.unwrap();
    // The first record at an instant wins.
    s.put_ai_response(&response(20, 0.0, true)).await.unwrap();
    assert_eq!(s.ai_responses(i.id).await.unwrap(), [early, late]);
    // Neither kind leaks into the timeline.
    assert_eq!(kinds(&s.timeline(i.id).await.unwrap()), ["status.received"]);
    assert!(s.attachments(inquiry("t", 2).id).await.unwrap().is_empty());
}

async fn blobs_round_trip_and_a_missing_blob_is_not_found(f: Fixture) {
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 255, 7];
    f.blobs.put("attachments/1/0.png", &png, "image/png").await.unwrap();
    assert_eq!(f.blobs.get("attachments/1/0.png").await.unwrap(), png);
    f.blobs.put("attachments/1/0.png", b"%PDF-1.7", "application/pdf").await.unwrap();
    assert_eq!(f.blobs.get("attachments/1/0.png").await.unwrap(), b"%PDF-1.7", "a put replaces");
    f.blobs.put("attachments/1/empty", b"", "application/octet-stream").await.unwrap();
    assert_eq!(f.blobs.get("attachments/1/empty").await.unwrap(), b"");
    assert!(matches!(f.blobs.get("attachments/2/0.png").await, Err(StoreError::NotFound(_))));
    assert!(f.blobs.put("../evil", b"x", "text/plain").await.is_err(), "keys that climb out are refused");
}

// ---------------------------------------------------------------------------
// Channel properties

async fn an_sms_id_is_sent_once_however_often_it_is_asked(f: Fixture) {
    let body = format!("Your answer is ready ({})", f.marker);
    let sms = SmsMessage {
        id: format!("{}-sms-1", f.marker),
        to: PhoneNumber::parse("+821012345678").unwrap(),
        body: body.clone(),
        inquiry_id: Some(inquiry("t", 1).id),
    };
    assert_eq!(f.sms.send_sms(&sms).await.unwrap(), Delivery::Sent);
    for _ in 0..3 {
        assert_eq!(f.sms.send_sms(&sms).await.unwrap(), Delivery::AlreadySent);
    }
    assert_eq!(f.sms_sent(&f.marker).await, [body], "{:?}: one text went out", f.backend);
    // Deduplication is by id, not by content.
    let another = SmsMessage { id: format!("{}-sms-2", f.marker), inquiry_id: None, ..sms };
    assert_eq!(f.sms.send_sms(&another).await.unwrap(), Delivery::Sent);
    assert_eq!(f.sms_sent(&f.marker).await.len(), 2);
}

async fn an_email_id_is_sent_once_however_often_it_is_asked(f: Fixture) {
    let body = format!("안녕하세요. Your answer is ready ({})", f.marker);
    let email = EmailMessage {
        id: format!("{}-email-1", f.marker),
        to: EmailAddress::parse("guest@example.com").unwrap(),
        subject: "문의 답변 / Your inquiry".into(),
        body: body.clone(),
        inquiry_id: Some(inquiry("t", 1).id),
    };
    assert_eq!(f.email.send_email(&email).await.unwrap(), Delivery::Sent);
    for _ in 0..3 {
        assert_eq!(f.email.send_email(&email).await.unwrap(), Delivery::AlreadySent);
    }
    assert_eq!(f.emails_sent(&f.marker).await, [body], "{:?}: one e-mail went out", f.backend);
    let another = EmailMessage { id: format!("{}-email-2", f.marker), ..email };
    assert_eq!(f.email.send_email(&another).await.unwrap(), Delivery::Sent);
    assert_eq!(f.emails_sent(&f.marker).await.len(), 2);
}

// ---------------------------------------------------------------------------
// AWS-only: the sent-message ledger's window

/// A `SENT#` item as a process leaves it: claimed `attempts` times, `failed`
/// of them refused by the provider, never marked sent.
async fn leave_claim(dynamodb: &aws_sdk_dynamodb::Client, table: &str, id: &str, attempts: u32, failed: u32) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let key = keys::sent_message(id);
    dynamodb
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(key.pk))
        .item("sk", AttributeValue::S(key.sk))
        .item("channel", AttributeValue::S("sms".into()))
        .item("attempts", AttributeValue::N(attempts.to_string()))
        .item("failed", AttributeValue::N(failed.to_string()))
        .send()
        .await
        .unwrap();
}

async fn ledger_item(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    id: &str,
) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let key = keys::sent_message(id);
    dynamodb
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(key.pk))
        .key("sk", AttributeValue::S(key.sk))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the message has a ledger item")
}

fn count(item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// A process killed between SNS accepting a text and the ledger marking it
/// sent leaves a claim without `sent_at`. The redelivery cannot know whether
/// the text went out, so it sends again (never lose a message) and the item
/// counts that resend as one in doubt; a claim whose send the provider
/// refused is no doubt at all.
#[tokio::test]
async fn a_claim_left_by_a_killed_sender_is_sent_again_and_counted_in_doubt() {
    let prefix = unique_prefix("in-doubt");
    let config = emulator().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    ensure_table(&dynamodb, &prefix).await.unwrap();
    let sms = SnsSms::new(aws_sdk_sns::Client::new(&config), dynamodb.clone(), prefix.clone());
    let text = |id: &str| SmsMessage {
        id: format!("{prefix}-{id}"),
        to: PhoneNumber::parse("+821012345678").unwrap(),
        body: format!("Your answer is ready ({prefix} {id})"),
        inquiry_id: None,
    };

    leave_claim(&dynamodb, &prefix, &format!("{prefix}-killed"), 1, 0).await;
    assert_eq!(sms.send_sms(&text("killed")).await.unwrap(), Delivery::Sent, "sent again, not dropped");
    let item = ledger_item(&dynamodb, &prefix, &format!("{prefix}-killed")).await;
    assert!(item.contains_key("sent_at"));
    assert_eq!(count(&item, "attempts") - count(&item, "failed") - 1, 1, "one resend in doubt");
    assert_eq!(sms.send_sms(&text("killed")).await.unwrap(), Delivery::AlreadySent);

    leave_claim(&dynamodb, &prefix, &format!("{prefix}-refused"), 1, 1).await;
    assert_eq!(sms.send_sms(&text("refused")).await.unwrap(), Delivery::Sent);
    let item = ledger_item(&dynamodb, &prefix, &format!("{prefix}-refused")).await;
    assert_eq!(count(&item, "attempts") - count(&item, "failed") - 1, 0, "a refused send leaves no doubt");

    assert_eq!(sms.send_sms(&text("fresh")).await.unwrap(), Delivery::Sent);
    let item = ledger_item(&dynamodb, &prefix, &format!("{prefix}-fresh")).await;
    assert_eq!((count(&item, "attempts"), count(&item, "failed")), (1, 0));
    assert!(!item.contains_key("to") && !item.contains_key("body"), "the ledger keeps no contact or content");
}

// ---------------------------------------------------------------------------
// AWS-only: provisioning

/// `ensure_*` report a change only when they made one.
#[tokio::test]
async fn provisioning_the_aws_resources_twice_changes_nothing_the_second_time() {
    let prefix = unique_prefix("provisioning");
    let config = emulator().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    let ses = aws_sdk_sesv2::Client::new(&config);
    let (bucket, from) = (format!("{prefix}-attachments"), format!("noreply@{prefix}.example"));
    assert!(ensure_table(&dynamodb, &prefix).await.unwrap());
    assert!(!ensure_table(&dynamodb, &prefix).await.unwrap());
    assert!(ensure_bucket(&s3, &bucket).await.unwrap());
    assert!(!ensure_bucket(&s3, &bucket).await.unwrap());
    assert!(ensure_sender(&ses, &from).await.unwrap());
    assert!(!ensure_sender(&ses, &from).await.unwrap());

    let table = dynamodb.describe_table().table_name(&prefix).send().await.unwrap();
    let table = table.table().unwrap();
    let mut indexes: Vec<_> = table.global_secondary_indexes().iter().filter_map(|i| i.index_name()).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, ["GSI1", "GSI2"]);
    assert_eq!(table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str()), Some("PAY_PER_REQUEST"));
    assert!(table.sse_description().is_some(), "encrypted at rest");
    let ttl = dynamodb.describe_time_to_live().table_name(&prefix).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|d| d.attribute_name()), Some("expires_at"));
    let block = s3.get_public_access_block().bucket(&bucket).send().await.unwrap();
    assert_eq!(block.public_access_block_configuration().and_then(|c| c.restrict_public_buckets()), Some(true));
    let encryption = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
    assert!(encryption.server_side_encryption_configuration().is_some_and(|c| !c.rules().is_empty()));
}

// ---------------------------------------------------------------------------
// Conversations

fn follow_up(i: &Inquiry, key: &str, text: &str, second: i64) -> Message {
    let text = switchboard_domain::FollowUp { text: text.into(), language: None };
    Message::follow_up(i.id, key, text, MessageChannel::Api, at(second))
}

async fn messages_are_numbered_after_the_original_in_append_order_and_a_repeated_key_stores_one(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    let first = follow_up(&i, "customer#a", "Any news?", 10);
    let announced = announcement(&i, EventType::MessageReceived, &first.key);
    let stored = s.append_message(&first, std::slice::from_ref(&announced)).await.unwrap();
    assert!(matches!(&stored, Appended::New(m) if m.sequence == 2 && m.text == "Any news?"), "{stored:?}");
    // The same key again (a retried call, even with other text) stores nothing and returns the first.
    let again = s.append_message(&follow_up(&i, "customer#a", "Changed my mind", 11), &[]).await.unwrap();
    assert_eq!(again, Appended::Existing(stored.message().clone()));
    let reply = Message::reply(&i, switchboard_domain::Author::Ai, "answer", "Tomorrow.", at(12));
    assert_eq!(s.append_message(&reply, &[]).await.unwrap().message().sequence, 3);

    let listed = s.messages(i.id, 1, 10).await.unwrap();
    assert_eq!(listed.iter().map(|m| (m.sequence, m.text.as_str())).collect::<Vec<_>>(), [(2, "Any news?"), (3, "Tomorrow.")]);
    assert_eq!(s.messages(i.id, 2, 10).await.unwrap().len(), 1, "after a sequence number");
    // Each message is on the timeline once, carrying the message.
    let timeline = s.timeline(i.id).await.unwrap();
    assert_eq!(kinds(&timeline), ["status.received", "message.customer", "message.ai"]);
    assert_eq!(timeline[1].details["message"]["sequence"], 2);
    // The follow-up's announcement is in the outbox, once.
    let pending = s.pending_events(at(100), 10).await.unwrap();
    assert_eq!(pending.iter().map(|e| e.event.id.as_str()).collect::<Vec<_>>(), [announced.id.as_str()]);
    // Another inquiry's conversation is its own.
    let other = inquiry("t", 2);
    create(s, &other).await;
    assert!(s.messages(other.id, 1, 10).await.unwrap().is_empty());
    assert_eq!(s.append_message(&follow_up(&other, "customer#a", "x", 3), &[]).await.unwrap().message().sequence, 2);
}

async fn a_conversation_is_paged_oldest_first_with_every_message_once(f: Fixture) {
    let s = f.store.as_ref();
    let i = inquiry("t", 1);
    create(s, &i).await;
    for n in 0..5 {
        s.append_message(&follow_up(&i, &format!("customer#{n}"), &format!("m{n}"), 10 + n), &[]).await.unwrap();
    }
    for size in [1, 2, 3, 6, 7, 100] {
        let mut seen = Vec::new();
        let mut page = PageRequest::first(size);
        loop {
            let got = conversation_page(s, &i, &page).await.unwrap();
            assert!(got.items.len() as u32 <= size);
            seen.extend(got.items.into_iter().map(|m| m.sequence));
            match got.next {
                Some(next) => page = PageRequest { limit: size, after: Some(next) },
                None => break,
            }
        }
        assert_eq!(seen, [1, 2, 3, 4, 5, 6], "page size {size}");
    }
    let whole = whole_conversation(s, &i).await.unwrap();
    assert_eq!(whole[0].text, i.content, "message 1 is the inquiry's text");
    assert_eq!(whole.len(), 6);
    let bad = conversation_page(s, &i, &PageRequest { limit: 2, after: Some("garbage!".into()) }).await;
    assert!(matches!(bad, Err(StoreError::InvalidPageToken)), "{bad:?}");
}

/// The lookup an inbound text message needs (issue 17): a query of the
/// phone's partition, newest first, never another tenant's; the reply goes
/// to the newest that is neither resolved nor failed.
async fn a_customers_inquiries_are_found_by_phone_newest_first_within_their_tenant(f: Fixture) {
    let phone = PhoneNumber::parse("+821012345678").unwrap();
    let from = |tenant: &str, second: i64, phone: Option<PhoneNumber>| {
        InquiryBuilder::new().tenant(tenant_id(tenant)).phone(phone).created_at(at(second), second as u8).build()
    };
    let (first, second, third) = (from("a", 1, Some(phone.clone())), from("a", 2, Some(phone.clone())), from("a", 3, Some(phone.clone())));
    let elsewhere = from("b", 4, Some(phone.clone()));
    let other_phone = from("a", 5, Some(PhoneNumber::parse("+12135550150").unwrap()));
    let no_phone = from("a", 6, None);
    for i in [&second, &first, &third, &elsewhere, &other_phone, &no_phone] {
        create(f.store.as_ref(), i).await;
    }
    // Typed the Korean way or in E.164, a number is the same number.
    let typed = PhoneNumber::parse("010-1234-5678").unwrap();
    let found = f.store.inquiries_by_phone(&tenant_id("a"), &typed, 10).await.unwrap();
    assert_eq!(found, [third.id, second.id, first.id], "newest first, only tenant a's, only this phone's");
    assert_eq!(f.store.inquiries_by_phone(&tenant_id("a"), &phone, 2).await.unwrap(), [third.id, second.id], "a small limit");
    assert_eq!(f.store.inquiries_by_phone(&tenant_id("b"), &phone, 10).await.unwrap(), [elsewhere.id]);
    assert!(f.store.inquiries_by_phone(&tenant_id("c"), &phone, 10).await.unwrap().is_empty());

    let newest_open = || switchboard_store::newest_open_inquiry_by_phone(f.store.as_ref(), &third.tenant_id, &phone);
    assert_eq!(newest_open().await.unwrap().map(|i| i.id), Some(third.id));
    for (i, status) in [(&third, InquiryStatus::Resolved), (&second, InquiryStatus::Failed)] {
        let next = Inquiry { status, ..i.clone() };
        f.store.update_inquiry(&next, i.version, None, &[]).await.unwrap();
    }
    assert_eq!(newest_open().await.unwrap().map(|i| i.id), Some(first.id), "past the resolved and the failed one");
    let next = Inquiry { status: InquiryStatus::Resolved, ..first.clone() };
    f.store.update_inquiry(&next, first.version, None, &[]).await.unwrap();
    assert_eq!(newest_open().await.unwrap(), None, "nothing open: no match");
}

fn webhook_endpoint(tenant: &str, second: i64) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        tenant_id: tenant_id(tenant),
        url: WebhookUrl::parse("https://hooks.example.com/in", false).unwrap(),
        events: EventFilter::Only(vec![EventType::InquiryAnswered]),
        description: "orders".into(),
        secrets: SecretRing::new(WebhookSecret::from_bytes(&[9; 32]).unwrap()),
        disabled: None,
        consecutive_failures: 0,
        created_at: at(second),
        version: 0,
    }
}

/// Issue 18: endpoints live in their tenant's partition; every change is
/// conditional on the version read.
async fn webhook_endpoints_are_per_tenant_and_changed_only_at_the_version_read(f: Fixture) {
    let s = f.store.as_ref();
    let (a1, a2, b1) = (webhook_endpoint("a", 1), webhook_endpoint("a", 2), webhook_endpoint("b", 3));
    for e in [&a1, &a2, &b1] {
        s.create_endpoint(e).await.unwrap();
    }
    assert!(matches!(s.create_endpoint(&a1).await, Err(StoreError::Conflict(_))), "an id is registered once");
    let mut listed: Vec<_> = s.endpoints(&tenant_id("a")).await.unwrap().into_iter().map(|e| e.id).collect();
    listed.sort();
    let mut expected = vec![a1.id.clone(), a2.id.clone()];
    expected.sort();
    assert_eq!(listed, expected, "only tenant a's");
    assert_eq!(s.get_endpoint(&tenant_id("a"), &a1.id).await.unwrap(), Some(a1.clone()));
    assert_eq!(s.get_endpoint(&tenant_id("b"), &a1.id).await.unwrap(), None, "not through another tenant");

    let failing = WebhookEndpoint { consecutive_failures: 1, ..a1.clone() };
    let stored = s.update_endpoint(&failing, 0).await.unwrap();
    assert_eq!((stored.version, stored.consecutive_failures), (1, 1));
    assert!(matches!(s.update_endpoint(&failing, 0).await, Err(StoreError::Conflict(_))), "a stale version loses");
    assert_eq!(s.get_endpoint(&tenant_id("a"), &a1.id).await.unwrap().unwrap().version, 1);

    assert!(s.delete_endpoint(&tenant_id("a"), &a1.id).await.unwrap());
    assert!(!s.delete_endpoint(&tenant_id("a"), &a1.id).await.unwrap(), "gone already");
    assert!(matches!(s.update_endpoint(&stored, 1).await, Err(StoreError::NotFound(_))));
}

/// A redelivered event finds its message stored; attempts are claimed by
/// conditional updates, so two deliveries cannot claim the same one.
async fn a_webhook_message_is_stored_once_and_changed_only_at_the_version_read(f: Fixture) {
    let s = f.store.as_ref();
    let endpoint = webhook_endpoint("a", 1);
    let first = WebhookMessage::new("msg_1".into(), endpoint.id.clone(), tenant_id("a"), "inquiry.answered", "{\"a\":1}".into(), at(10));
    assert_eq!(s.create_message(&first).await.unwrap(), first);
    let again = WebhookMessage { payload: "{\"a\":2}".into(), ..first.clone() };
    assert_eq!(s.create_message(&again).await.unwrap().payload, "{\"a\":1}", "the first stays");

    let claimed = WebhookMessage { attempts: 1, ..first.clone() };
    let stored = s.update_message(&claimed, 0).await.unwrap();
    assert_eq!((stored.version, stored.attempts), (1, 1));
    assert!(matches!(s.update_message(&claimed, 0).await, Err(StoreError::Conflict(_))), "claimed once");
    assert_eq!(s.get_message(&endpoint.id, "msg_1", at(11)).await.unwrap(), Some(stored.clone()));
    assert_eq!(s.get_message(&endpoint.id, "msg_1", stored.expires_at).await.unwrap(), None, "expired");
    assert_eq!(s.get_message(&endpoint.id, "msg_2", at(11)).await.unwrap(), None);
}

/// The delivery log of issue 18: each attempt once, newest first, at most
/// the page asked for, and nothing past its expiry.
async fn the_delivery_log_is_read_newest_first_bounded_and_forgets_what_expired(f: Fixture) {
    let s = f.store.as_ref();
    let endpoint = webhook_endpoint("a", 1);
    let attempt = |n: u32, second: i64, expires: i64| DeliveryAttempt {
        message_id: "msg_1".into(),
        endpoint_id: endpoint.id.clone(),
        event_type: "inquiry.answered".into(),
        round: 1,
        attempt: n,
        at: at(second),
        result: if n == 3 { AttemptResult::Status(200) } else { AttemptResult::Error("connection refused".into()) },
        latency_ms: 12,
        expires_at: at(expires),
    };
    let old = attempt(1, 10, 100);
    s.log_attempt(&old, at(20)).await.unwrap();
    for a in [attempt(2, 20, 1000), attempt(3, 30, 1000), attempt(3, 30, 1000)] {
        s.log_attempt(&a, at(40)).await.unwrap();
    }
    let log = s.attempts(&endpoint.id, 10, at(50)).await.unwrap();
    assert_eq!(log.iter().map(|a| a.attempt).collect::<Vec<_>>(), [3, 2, 1], "newest first, the repeat once");
    assert_eq!(log[0].result, AttemptResult::Status(200));
    assert_eq!(s.attempts(&endpoint.id, 1, at(50)).await.unwrap().len(), 1);
    assert_eq!(s.attempts(&endpoint.id, 10, at(100)).await.unwrap().iter().map(|a| a.attempt).collect::<Vec<_>>(), [3, 2], "expired");
    assert!(s.attempts(&webhook_endpoint("a", 2).id, 10, at(50)).await.unwrap().is_empty(), "another endpoint's log");
}

/// Escalates `i` (created at its second) and gives it an SLA clock due at `due`.
async fn escalate_with_clock(s: &dyn Store, i: &Inquiry, due: i64) -> Inquiry {
    create(s, i).await;
    let escalated = transition(s, i.id, InquiryStatus::Escalated, "responder", at(50), Value::Null, |_| {}).await.unwrap();
    let mut next = escalated.inquiry().clone();
    let mut sla = Sla::start(&SlaPolicy::default(), "sla".into(), Urgency::High, at(50));
    sla.due_at = at(due);
    next.sla = Some(sla);
    s.update_inquiry(&next, next.version, None, &[]).await.unwrap()
}

fn ids(page: &Page<Inquiry>) -> Vec<InquiryId> {
    page.items.iter().map(|i| i.id).collect()
}

async fn the_sla_queue_lists_escalated_inquiries_by_deadline_and_follows_their_changes(f: Fixture) {
    let s = f.store.as_ref();
    let late = escalate_with_clock(s, &inquiry("t", 1), 300).await;
    let soon = escalate_with_clock(s, &inquiry("u", 2), 100).await;
    let middle = escalate_with_clock(s, &inquiry("t", 3), 200).await;
    let unclocked = inquiry("t", 4);
    create(s, &unclocked).await;
    transition(s, unclocked.id, InquiryStatus::Escalated, "responder", at(60), Value::Null, |_| {}).await.unwrap();

    let everyone = s.sla_queue(None, &PageRequest::first(10)).await.unwrap();
    assert_eq!(ids(&everyone), [soon.id, middle.id, late.id], "earliest deadline first, every tenant, only inquiries with a clock");
    assert_eq!(everyone.items[0], soon, "the entry is the inquiry as it stands");
    assert_eq!(ids(&s.sla_queue(Some(&tenant_id("t")), &PageRequest::first(10)).await.unwrap()), [middle.id, late.id]);
    assert!(s.sla_queue(Some(&tenant_id("nobody")), &PageRequest::first(10)).await.unwrap().items.is_empty());

    let first = s.sla_queue(None, &PageRequest::first(2)).await.unwrap();
    let second = s.sla_queue(None, &PageRequest { limit: 2, after: first.next.clone() }).await.unwrap();
    assert_eq!((ids(&first), ids(&second), second.next), (vec![soon.id, middle.id], vec![late.id], None));
    let garbage = PageRequest { limit: 1, after: Some("!!".into()) };
    assert!(matches!(s.sla_queue(None, &garbage).await, Err(StoreError::InvalidPageToken)));

    // A breach and a new deadline show in the queue at once.
    let mut breached = late.clone();
    if let Some(sla) = breached.sla.as_mut() {
        sla.due_at = at(10);
        sla.breach(at(20));
    }
    let breached = s.update_inquiry(&breached, breached.version, None, &[]).await.unwrap();
    let everyone = s.sla_queue(None, &PageRequest::first(10)).await.unwrap();
    assert_eq!(ids(&everyone), [late.id, soon.id, middle.id]);
    assert_eq!(everyone.items[0].sla.as_ref().map(|c| c.state), Some(SlaState::Breached));

    // A person's answer takes it out of the queue; the clock stays on the inquiry.
    transition(s, breached.id, InquiryStatus::Resolved, "operator", at(400), Value::Null, |_| {}).await.unwrap();
    assert_eq!(ids(&s.sla_queue(None, &PageRequest::first(10)).await.unwrap()), [soon.id, middle.id]);
    let resolved = s.get_inquiry(breached.id).await.unwrap().unwrap();
    assert_eq!(resolved.sla.map(|c| c.state), Some(SlaState::Breached));
}
