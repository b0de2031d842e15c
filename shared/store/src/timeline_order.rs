//! The order of an inquiry's timeline. Events are keyed by their dedupe
//! key (see [`crate::keys`]), not by time, so both adapters store each one
//! with the stamp of its writing and put the timeline in order when they
//! read it: by the event's time, then by that stamp, so events of the same
//! millisecond keep the order they were written in.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use switchboard_domain::TimelineEvent;

/// A timeline event as stored: the event, and when it was written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredEvent {
    #[serde(flatten)]
    pub(crate) event: TimelineEvent,
    /// [`write_stamp`] of the write; absent on events written before events
    /// were keyed by their key (their sort key held the order instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) written: Option<u64>,
}

impl StoredEvent {
    /// `event`, stamped now.
    pub(crate) fn new(event: &TimelineEvent) -> Self {
        Self { event: event.clone(), written: Some(write_stamp()) }
    }
}

/// The last stamp this process gave.
static LAST_STAMP: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since the epoch by the system clock, but always greater
/// than the stamp this process gave before: two writes in a row are in
/// order even if the clock stands still or steps back. (Writes of two
/// processes in the same millisecond of event time are ordered by their
/// clocks, which is as good as any order for events nobody ordered.)
fn write_stamp() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let previous = LAST_STAMP.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| Some(now.max(last.saturating_add(1))));
    // `fetch_update` returns the value it replaced; the closure never refuses.
    let last = previous.unwrap_or_else(|last| last);
    now.max(last.saturating_add(1))
}

/// The events read in key order, in timeline order: by time, then by
/// their stamps. The sort is stable: legacy events (no stamp) of the same
/// millisecond keep their key order, which was their written order.
pub(crate) fn in_order(mut stored: Vec<StoredEvent>) -> Vec<TimelineEvent> {
    stored.sort_by_key(|s| (s.event.at, s.written.unwrap_or(0)));
    stored.into_iter().map(|s| s.event).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    #[test]
    fn stamps_only_grow() {
        let stamps: Vec<u64> = (0..1000).map(|_| write_stamp()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn events_sort_by_time_then_by_writing() {
        let at = |ms| Timestamp::from_millisecond(ms).unwrap();
        let written_first = StoredEvent::new(&TimelineEvent::once("b", "x", at(20), serde_json::Value::Null));
        let written_second = StoredEvent::new(&TimelineEvent::once("a", "x", at(20), serde_json::Value::Null));
        let legacy = StoredEvent { event: TimelineEvent::once("y", "x", at(10), serde_json::Value::Null), written: None };
        let ordered = in_order(vec![written_second, written_first, legacy]);
        let kinds: Vec<&str> = ordered.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["y", "b", "a"], "time first, then the order of writing, whatever the key order");
    }
}
