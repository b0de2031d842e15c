//! Retention in embedded mode, through the binary: `switchboard up` removes
//! the operational rows past their age on its own, and nothing still
//! needed (an unexpired key or token, a message still to be handled, an
//! inquiry and its timeline).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use jiff::{SignedDuration, Timestamp};
use std::path::Path;
use std::time::Duration;
use switchboard_channels::{SmsMessage, SmsSender};
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{PhoneNumber, Service, TenantId, TimelineEvent};
use switchboard_messaging::OutgoingMessage;
use switchboard_sqlite::rusqlite::{Connection, OpenFlags};
use switchboard_store::{ConsoleSession, TokenRecord};
use switchboard_tests::process::{Process, free_port};

fn token(inquiry: &switchboard_domain::Inquiry, hash: &str, expires_at: Timestamp) -> TokenRecord {
    TokenRecord {
        token_hash: hash.into(),
        inquiry_id: inquiry.id,
        partner_id: "p".into(),
        expires_at,
        deadline_at: expires_at,
        issued_at: None,
        used: false,
        outcome: None,
        used_at: None,
        opened_at: None,
        voided_at: None,
    }
}

/// How many rows `sql` counts in the data directory's database.
fn count(data_dir: &Path, sql: &str) -> i64 {
    let conn = Connection::open_with_flags(data_dir.join("switchboard.db"), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_running_switchboard_removes_rows_past_their_age_and_keeps_everything_still_needed() {
    let dir = tempfile::tempdir().unwrap();
    let day = SignedDuration::from_hours(24);
    let now = Timestamp::now();
    let tenant = TenantId::parse("demo").unwrap();
    let (old, fresh) = {
        let config = switchboard::Config { data_dir: dir.path().to_owned(), ..switchboard::Config::default() };
        let ports = switchboard::Ports::embedded(&config).await.unwrap();
        // An inquiry of ten days ago, whose idempotency key expired nine days
        // ago, and one of now, whose key is within its window.
        let old = InquiryBuilder::new().tenant(tenant.clone()).created_at(now - day * 10, 1).build();
        let fresh = InquiryBuilder::new().tenant(tenant.clone()).created_at(now, 2).build();
        for (inquiry, key) in [(&old, "old-key"), (&fresh, "fresh-key")] {
            let event = TimelineEvent::once("status.received", "intake", inquiry.created_at, serde_json::Value::Null);
            ports.store.create_inquiry(inquiry, Some(key), &event, &[]).await.unwrap();
        }
        ports.store.put_token(&token(&old, "expired-token", now - day * 3)).await.unwrap();
        ports.store.put_token(&token(&fresh, "live-token", now + SignedDuration::from_mins(10))).await.unwrap();
        let session = ConsoleSession { operator: "o".into(), csrf_token: "c".into(), created_at: now - day * 3, expires_at: now - day * 2 };
        ports.store.put_session("expired-session", &session).await.unwrap();
        let outbox = ports.outbox.clone().unwrap();
        for id in ["sent-long-ago", "sent-now"] {
            let sms = SmsMessage { id: id.into(), to: PhoneNumber::parse("+821012345678").unwrap(), body: "hi".into(), inquiry_id: None };
            outbox.send_sms(&sms).await.unwrap();
        }
        // A dead letter of last month, and a message of last month still
        // waiting (delayed) in a service's queue.
        let dead_letters = ports.dead_letter_queue(Service::Classifier).unwrap();
        dead_letters.send(OutgoingMessage::new("{\"dead\":true}", Default::default())).await.unwrap();
        let mut waiting = OutgoingMessage::new("{\"waiting\":true}", Default::default());
        waiting.delay = Duration::from_secs(15 * 60);
        ports.queue(Service::Classifier).unwrap().send(waiting).await.unwrap();
        (old, fresh)
    };
    let conn = Connection::open(dir.path().join("switchboard.db")).unwrap();
    let month_ago = (now - day * 30).to_string();
    conn.execute("UPDATE outbox SET sent_at = ?1 WHERE id = 'sent-long-ago'", [&month_ago]).unwrap();
    conn.execute("UPDATE queue_messages SET sent_at = ?1", [(now - day * 30).as_millisecond()]).unwrap();
    drop(conn);

    let mut process = Process::start(dir.path(), free_port(), &[("SWITCHBOARD_RETENTION_EVERY_SECS", "1")]).await;
    let expired_key = "SELECT COUNT(*) FROM items WHERE pk LIKE 'IDEM#demo#old-key'";
    for _ in 0..600 {
        if count(dir.path(), expired_key) == 0 && count(dir.path(), "SELECT COUNT(*) FROM outbox WHERE id = 'sent-long-ago'") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let items = |pk: &str| count(dir.path(), &format!("SELECT COUNT(*) FROM items WHERE pk = '{pk}'"));
    assert_eq!(items("IDEM#demo#old-key"), 0, "an idempotency key past its window and grace is gone");
    assert_eq!(items("TOKEN#expired-token"), 0, "a token past its expiry and grace is gone");
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM items WHERE pk LIKE 'SESSION#%'"), 0, "an expired session is gone");
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM outbox WHERE id = 'sent-long-ago'"), 0, "a message sent a month ago is forgotten");
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM queue_messages WHERE body = '{\"dead\":true}'"), 0, "an old dead letter is gone");

    assert_eq!(items("IDEM#demo#fresh-key"), 1, "an idempotency key within its window stays");
    assert_eq!(items("TOKEN#live-token"), 1, "a live token stays");
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM outbox WHERE id = 'sent-now'"), 1, "a message sent now stays on record");
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM queue_messages WHERE body = '{\"waiting\":true}'"),
        1,
        "a message still to be handled stays"
    );
    for inquiry in [&old, &fresh] {
        let pk = format!("INQUIRY#{}", inquiry.id);
        let kept = |sk: &str| count(dir.path(), &format!("SELECT COUNT(*) FROM items WHERE pk = '{pk}' AND sk LIKE '{sk}'"));
        assert_eq!(kept("METADATA"), 1, "the inquiry stays");
        assert!(kept("EVENT#%") >= 1, "its timeline stays");
        assert_eq!(kept("PARTNER_TOKEN"), 1, "its link pointer stays");
    }
    process.terminate();
    process.wait_exit(Duration::from_secs(30)).await;
}
