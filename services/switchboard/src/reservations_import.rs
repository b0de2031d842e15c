//! `switchboard reservations import FILE`: JSON lines of reservations.

use anyhow::Context;
use std::io::BufRead;
use switchboard_domain::Reservation;
use switchboard_store::ReservationStore;

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    /// `line N: why` for every line that was skipped.
    pub rejected: Vec<String>,
}

/// Imports every valid line; invalid lines are reported, not fatal.
pub async fn import(reader: impl BufRead, store: &dyn ReservationStore) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    for (n, line) in reader.lines().enumerate() {
        let line = line.context("cannot read the reservations file")?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Reservation>(&line) {
            Ok(reservation) => {
                store.put_reservation(&reservation).await?;
                report.imported += 1;
            }
            Err(e) => report.rejected.push(format!("line {}: {e}", n + 1)),
        }
    }
    Ok(report)
}
