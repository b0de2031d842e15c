//! `switchboard tenant create|list|rotate-key|set` and `switchboard operator
//! create|list`: new keys are printed once, on the last line, and only
//! their hashes are kept.

// Test helpers panic on a failed step: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use switchboard_tests::process::binary;

fn run(data_dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(binary()).args(args).arg("--data-dir").arg(data_dir).output().expect("switchboard runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn last_line(text: &str) -> String {
    text.lines().last().unwrap_or_default().trim().to_owned()
}

#[test]
fn tenant_keys_are_shown_once_on_the_last_line_and_rotating_gives_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let created = last_line(&run(dir.path(), &["tenant", "create", "--name", "Seoul Bikes"]));
    assert!(created.starts_with("sb_") && created.len() > 40, "{created}");
    let listed = run(dir.path(), &["tenant", "list"]);
    assert!(listed.contains("\"seoul-bikes\"") && !listed.contains(&created), "{listed}");
    let rotated = last_line(&run(dir.path(), &["tenant", "rotate-key", "--id", "seoul-bikes"]));
    assert!(rotated.starts_with("sb_") && rotated != created);
    let failed = Command::new(binary()).args(["tenant", "rotate-key", "--id", "nobody", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("no tenant nobody"));
}

#[test]
fn a_tenants_auto_close_wait_is_set_checked_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["tenant", "create", "--name", "Seoul Bikes"]);
    let set = run(dir.path(), &["tenant", "set", "--id", "seoul-bikes", "--auto-close-days", "3"]);
    assert_eq!(last_line(&set), r#"{"auto_close_days":3,"id":"seoul-bikes"}"#);
    assert!(run(dir.path(), &["tenant", "list"]).contains(r#""auto_close_days":3"#));
    let refused = Command::new(binary())
        .args(["tenant", "set", "--id", "seoul-bikes", "--auto-close-days", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--auto-close-days: must be 1 to 365 days"));
    assert!(run(dir.path(), &["tenant", "list"]).contains(r#""auto_close_days":3"#), "a refused value changes nothing");
    let reset = run(dir.path(), &["tenant", "set", "--id", "seoul-bikes", "--default-auto-close"]);
    assert_eq!(last_line(&reset), r#"{"auto_close_days":null,"id":"seoul-bikes"}"#);
}

#[test]
fn a_tenants_contact_email_is_set_checked_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["tenant", "create", "--name", "Seoul Bikes"]);
    let set = run(dir.path(), &["tenant", "set", "--id", "seoul-bikes", "--contact-email", "dev@bikes.example"]);
    assert_eq!(last_line(&set), r#"{"auto_close_days":null,"contact_email":"dev@bikes.example","id":"seoul-bikes"}"#);
    let refused = Command::new(binary())
        .args(["tenant", "set", "--id", "seoul-bikes", "--contact-email", "nope", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--contact-email"));
    let removed = run(dir.path(), &["tenant", "set", "--id", "seoul-bikes", "--no-contact-email"]);
    assert_eq!(last_line(&removed), r#"{"auto_close_days":null,"id":"seoul-bikes"}"#);
}

#[test]
fn a_tenants_sla_is_set_checked_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["tenant", "create", "--name", "Seoul Bikes"]);
    let policy = r#"{"first_response_secs":{"high":1800,"medium":7200,"low":86400},"time_zone":"Asia/Seoul"}"#;
    let set = run(dir.path(), &["tenant", "set", "--id", "seoul-bikes", "--sla", policy]);
    assert!(last_line(&set).contains(r#""sla":{"business_hours":[],"first_response_secs":{"high":1800,"#), "{set}");
    let refused = Command::new(binary())
        .args([
            "tenant",
            "set",
            "--id",
            "seoul-bikes",
            "--sla",
            r#"{"first_response_secs":{"high":0,"medium":1,"low":1},"time_zone":"Nowhere"}"#,
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("first_response_secs.high") && stderr.contains("time_zone"), "{stderr}");
    let reset = run(dir.path(), &["tenant", "set", "--id", "seoul-bikes", "--default-sla"]);
    assert_eq!(last_line(&reset), r#"{"auto_close_days":null,"id":"seoul-bikes"}"#);
}

#[test]
fn operator_keys_are_shown_once_and_only_their_hashes_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["operator", "create", "--name", "alice"]);
    let key = last_line(&out);
    assert!(key.starts_with("sb_"), "{out}");
    assert!(out.contains("SWITCHBOARD_OPERATOR_KEY_HASHES: alice="), "{out}");
    let stored = std::fs::read_to_string(dir.path().join("operator-keys")).unwrap();
    assert!(stored.starts_with("alice=") && !stored.contains(&key), "{stored}");
    let keys = switchboard_gateway::OperatorKeys::parse(&stored).unwrap();
    assert_eq!(keys.find(&key), Some("alice"));
    assert!(run(dir.path(), &["operator", "list"]).contains("\"alice\""));
    let twice = Command::new(binary()).args(["operator", "create", "--name", "alice", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!twice.status.success(), "a name is used once");
}
