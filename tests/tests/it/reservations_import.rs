//! `switchboard reservations import`: CSV and JSON lines through the real
//! binary, bad lines reported by number, good ones stored.

use std::process::Command;
use switchboard::Ports;
use switchboard_domain::{Language, PhoneNumber, Reservation, ReservationNumber, TenantId};
use switchboard_tests::process::binary;
use switchboard_tests::{Options, test_config};

fn import(data_dir: &std::path::Path, file: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(["reservations", "import"])
        .arg(file)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("switchboard runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn csv_and_json_lines_files_are_imported_and_each_bad_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("reservations.csv");
    std::fs::write(
        &csv,
        "reservation_number,customer_name,customer_phone,partner_id,partner_name,partner_phone,partner_locale,service_type,reservation_date,tenant_id\n\
         SP-20261201,\"Lee, Jiwoo\",010-5555-6666,seoul-spa,서울 스파,+821022223333,ko,spa,2026-12-01T14:00,demo\n\
         SP-20261202,Park,not a phone,seoul-spa,서울 스파,+821022223333,ko,spa,2026-12-02,demo\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = import(dir.path(), &csv);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("imported 1 reservations, skipped 1"), "{stdout}");
    assert!(stderr.contains("skipped line 3: customer_phone: must be an E.164 number"), "{stderr}");

    // No extension: JSON lines recognised by content.
    let jsonl = dir.path().join("more");
    std::fs::write(
        &jsonl,
        r#"{"reservation_number":"SP-20261203","customer_name":"Kim","customer_phone":"+821077776666","partner_id":"seoul-spa","partner_name":"Seoul Spa","partner_phone":"+821022223333","partner_locale":"en","service_type":"spa","reservation_date":"2026-12-03","tenant_id":"demo"}"#,
    )
    .unwrap();
    let (ok, stdout, stderr) = import(dir.path(), &jsonl);
    assert!(ok && stdout.contains("imported 1 reservations, skipped 0"), "{stdout}{stderr}");

    let config = test_config(dir.path(), &Options::default());
    let ports = Ports::embedded(&config).await.unwrap();
    let demo = TenantId::parse("demo").unwrap();
    let stored = ports.store.get_reservation(&demo, &ReservationNumber::parse("SP-20261201").unwrap()).await.unwrap().expect("imported");
    assert_eq!((stored.customer_name.as_str(), stored.customer_phone.as_str()), ("Lee, Jiwoo", "+821055556666"));
    assert!(ports.store.get_reservation(&demo, &ReservationNumber::parse("SP-20261202").unwrap()).await.unwrap().is_none());
    assert!(ports.store.get_reservation(&demo, &ReservationNumber::parse("SP-20261203").unwrap()).await.unwrap().is_some());
}

#[tokio::test]
async fn a_csv_file_without_a_required_column_imports_nothing_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "reservation_number,customer_name\nSP-20261201,Lee\n").unwrap();
    let (ok, _, stderr) = import(dir.path(), &csv);
    assert!(!ok);
    assert!(stderr.contains("the CSV header lacks column(s) tenant_id, customer_phone"), "{stderr}");
}

/// On DynamoDB the move from the legacy `RES#{number}` keys is a command,
/// run once after the upgrade: it moves each item to its tenant's key, and
/// a second run finds nothing to do.
#[tokio::test]
async fn reservations_migrate_moves_legacy_dynamodb_items_to_their_tenants_keys_once() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use switchboard_store::ReservationStore;
    use switchboard_store::dynamodb::{DynamoStore, ensure_table};
    use switchboard_tests::emulator::{emulator, unique_prefix};

    let prefix = unique_prefix("resv-migrate");
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().sdk_config().await);
    ensure_table(&dynamodb, &prefix).await.unwrap();
    let old = Reservation {
        reservation_number: ReservationNumber::parse("SP-20261201").unwrap(),
        tenant_id: TenantId::parse("acme").unwrap(),
        customer_name: "Lee".into(),
        customer_phone: PhoneNumber::parse("+821055556666").unwrap(),
        partner_id: "seoul-spa".into(),
        partner_name: "Seoul Spa".into(),
        partner_phone: PhoneNumber::parse("+821022223333").unwrap(),
        partner_locale: Language::En,
        service_type: "spa".into(),
        reservation_date: "2026-12-01".into(),
    };
    // As versions before tenant keys wrote it: every field a string.
    let fields = serde_json::to_value(&old).unwrap();
    let body = fields.as_object().unwrap().iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.as_str().unwrap().to_owned()))).collect();
    let legacy = switchboard_store::keys::legacy_reservation(&old.reservation_number);
    dynamodb
        .put_item()
        .table_name(&prefix)
        .item("pk", AttributeValue::S(legacy.pk))
        .item("sk", AttributeValue::S(legacy.sk))
        .item("body", AttributeValue::M(body))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let migrate = || {
        let out = Command::new(binary())
            .args(["reservations", "migrate", "--data-dir"])
            .arg(dir.path())
            .envs(emulator().process_env())
            .env("SWITCHBOARD_BACKEND", "aws")
            .env("SWITCHBOARD_RESOURCE_PREFIX", &prefix)
            .env("SWITCHBOARD_TOKEN_KEYS", "6b6579206f66207468652061777320636c7573746572207465737420303030303030")
            .output()
            .expect("switchboard runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{text}");
        text
    };
    let first = migrate();
    assert!(first.contains("moved 1 reservations to their tenants' keys, removed 0 already there, left 0"), "{first}");
    let again = migrate();
    assert!(again.contains("moved 0 reservations to their tenants' keys, removed 0 already there, left 0"), "{again}");
    let store = DynamoStore::new(dynamodb, prefix.clone());
    assert_eq!(store.get_reservation(&old.tenant_id, &old.reservation_number).await.unwrap(), Some(old));
}
