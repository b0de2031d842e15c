//! `switchboard attachments sweep`: deletes attachment bodies no inquiry
//! references (see `switchboard_intake::attachments`).
//!
//! A command rather than a loop in a service: it lists and deletes across
//! the whole bucket, which no service's role may do (intake and the gateway
//! only put, the image-analyzer only gets); an operator runs it, or a
//! scheduled task with its own role (`s3:ListBucket`, `s3:DeleteObject`,
//! `dynamodb:GetItem`, `Query`, `DeleteItem`, `ConditionCheckItem`).
//! Orphans are rare — a process killed between storing a body and creating
//! its inquiry, or the loser of two concurrent submissions with one
//! idempotency key — so a daily run is plenty.

use crate::{Config, Ports};
use jiff::{SignedDuration, Timestamp};
use switchboard_intake::attachments;

/// Sweeps the configured backend: bodies older than `grace`, of inquiries
/// created within the last `days` (every one when `None`). Prints what it
/// deleted, one key a line, and a summary.
pub async fn sweep(config: &Config, grace: SignedDuration, days: Option<u32>) -> anyhow::Result<()> {
    let ports = Ports::open(config, false).await?;
    let now = Timestamp::now();
    let since = days.map(|d| now - SignedDuration::from_hours(24 * i64::from(d)));
    let swept = attachments::sweep(ports.blobs.as_ref(), ports.store.as_ref(), now, grace, since).await?;
    for key in &swept.deleted {
        println!("deleted {key}");
    }
    println!(
        "examined {} attachment bodies, deleted {} unreferenced (and {} attachment records)",
        swept.examined,
        swept.deleted.len(),
        swept.records_deleted
    );
    Ok(())
}
