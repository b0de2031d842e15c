//! Named points where a fault test can make the process die, to prove that
//! what was committed before the point is carried on after a restart (the
//! kill between commit and publish). `SWITCHBOARD_CRASH_AT=NAME` aborts the
//! process the first time point `NAME` is reached, `NAME:N` after letting
//! `N` passes go by. Without the variable (in production) a point is one
//! check of a value read once.
//!
//! Written here rather than with the `fail` crate: its points compile in
//! only under a cargo feature, so the binary the fault tests kill would not
//! be the binary that ships.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the point to crash at.
pub const VARIABLE: &str = "SWITCHBOARD_CRASH_AT";

/// Between storing a state change with its outbox entry and publishing it.
pub const BEFORE_PUBLISH: &str = "outbox.before-publish";

struct Plan {
    point: String,
    /// Passes still let through.
    passes: AtomicU64,
}

fn plan() -> Option<&'static Plan> {
    static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
    PLAN.get_or_init(|| parse(&std::env::var(VARIABLE).ok()?)).as_ref()
}

fn parse(setting: &str) -> Option<Plan> {
    let (point, passes) = match setting.split_once(':') {
        Some((point, passes)) => (point, passes.trim().parse().ok()?),
        None => (setting, 0),
    };
    let point = point.trim();
    (!point.is_empty()).then(|| Plan { point: point.to_owned(), passes: AtomicU64::new(passes) })
}

/// Aborts the process here if the fault test asked for a crash at `point`
/// and its passes are used up.
pub fn reached(point: &str) {
    let Some(plan) = plan() else { return };
    if plan.point != point {
        return;
    }
    let passes = plan.passes.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if passes.is_err() {
        eprintln!("{VARIABLE}: crash point {point} reached, aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_names_the_point_and_the_passes_to_let_by() {
        let plan = parse("outbox.before-publish:3").unwrap();
        assert_eq!(plan.point, "outbox.before-publish");
        assert_eq!(plan.passes.load(Ordering::SeqCst), 3);
        assert_eq!(parse("outbox.before-publish").unwrap().passes.load(Ordering::SeqCst), 0, "no count: the first pass crashes");
    }

    #[test]
    fn a_malformed_setting_crashes_nowhere() {
        assert!(parse("").is_none());
        assert!(parse("point:many").is_none());
        assert!(parse(":2").is_none());
    }
}
