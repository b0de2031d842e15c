//! How many watch streams (SSE and gRPC `WatchInquiry`) one caller may hold
//! open at once (`SWITCHBOARD_MAX_STREAMS_PER_KEY`): a stream holds a task
//! and reads the store until its inquiry finishes, so an unbounded number
//! from one key would be a cheap way to load the gateway.

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The wait advised to a caller with every slot taken.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Open streams per caller.
#[derive(Clone, Default)]
pub(crate) struct StreamSlots {
    open: Arc<Mutex<HashMap<String, usize>>>,
    per_caller: usize,
}

/// One open stream; dropping it (the stream ended or its client left) frees the slot.
pub(crate) struct StreamSlot {
    slots: StreamSlots,
    caller: String,
}

impl StreamSlots {
    /// At most `per_caller` streams per caller (at least one).
    pub(crate) fn new(per_caller: usize) -> Self {
        Self { open: Arc::default(), per_caller: per_caller.max(1) }
    }

    /// A slot for `caller` (`Principal::actor`), or 429 / RESOURCE_EXHAUSTED.
    pub(crate) fn take(&self, caller: &str) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(caller.to_owned()).or_default();
        if *count >= self.per_caller {
            return Err(ApiError::RateLimited {
                detail: format!("this API key already has {} streams open; close one first", self.per_caller),
                retry_after: RETRY_AFTER,
            });
        }
        *count += 1;
        Ok(StreamSlot { slots: self.clone(), caller: caller.to_owned() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.caller) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_holds_at_most_its_slots_and_a_closed_stream_frees_one() {
        let slots = StreamSlots::new(2);
        let first = slots.take("tenant:a").unwrap();
        let _second = slots.take("tenant:a").unwrap();
        assert!(matches!(slots.take("tenant:a"), Err(ApiError::RateLimited { .. })));
        assert!(slots.take("tenant:b").is_ok(), "other callers have their own");
        drop(first);
        assert!(slots.take("tenant:a").is_ok());
    }
}
