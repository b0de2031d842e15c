//! The last status of inquiries the pipeline is done with, so that a status
//! poll of one is answered without a store read.
//!
//! Status polls are the API's busiest call, and most of them ask about
//! inquiries that will not move again by themselves. An inquiry still in
//! the pipeline moves every few milliseconds and the poll is there to see
//! the move, so it is always read from the store and never kept here. A
//! terminal one (answered, escalated) moves only by a person's hand (an
//! answer escalated, an escalation resolved): its status is served from
//! here for up to the staleness bound (`SWITCHBOARD_STATUS_CACHE_MS`, 2 s by
//! default), so such a change shows in status polls at most that late; the
//! call that made it answers with the new state at once, and the inquiry
//! itself (`GET /api/inquiries/{id}`) is always read fresh. A final one
//! (resolved, failed) can never change and stays until newer entries push
//! it out. A bound of zero turns the cache off.

use jiff::Timestamp;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;
use switchboard_domain::{Inquiry, InquiryId, InquiryStatus, TenantId};
use tokio::time::Instant;

/// How long a terminal status is served from the cache by default.
pub const DEFAULT_STATUS_STALENESS: Duration = Duration::from_secs(2);

/// Inquiries remembered at most. An entry is about 100 bytes, so this is a
/// few megabytes at most.
pub const STATUS_CACHE_CAPACITY: usize = 32_768;

/// What a status poll shows of an inquiry, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastStatus {
    pub inquiry_id: InquiryId,
    /// Only this tenant (and operators) may see it.
    pub tenant_id: TenantId,
    pub status: InquiryStatus,
    /// When the status last changed.
    pub updated_at: Timestamp,
}

impl LastStatus {
    /// The status part of `inquiry`.
    pub fn of(inquiry: &Inquiry) -> Self {
        Self { inquiry_id: inquiry.id, tenant_id: inquiry.tenant_id.clone(), status: inquiry.status, updated_at: inquiry.updated_at }
    }
}

struct Entry {
    last: LastStatus,
    read_at: Instant,
}

/// The gateway's cache of last statuses, shared by REST and gRPC.
pub struct StatusCache {
    entries: Mutex<LruCache<InquiryId, Entry>>,
    staleness: Duration,
}

impl StatusCache {
    /// A cache serving a changeable status for at most `staleness` after it
    /// was read (zero: nothing is cached), holding at most `capacity` inquiries.
    pub fn new(staleness: Duration, capacity: usize) -> Self {
        Self { entries: Mutex::new(LruCache::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN))), staleness }
    }

    /// The remembered status of `id`, if one is remembered and still within
    /// the staleness bound (a final one always is).
    pub fn get(&self, id: InquiryId) -> Option<LastStatus> {
        if self.staleness.is_zero() {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(&id)?;
        if entry.last.status.is_final() || entry.read_at.elapsed() < self.staleness {
            return Some(entry.last.clone());
        }
        entries.pop(&id);
        None
    }

    /// Remembers `inquiry`'s status, just read from the store, if the
    /// pipeline is done with it; one still in the pipeline is forgotten.
    pub fn remember(&self, inquiry: &Inquiry) {
        if self.staleness.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if inquiry.status.is_terminal() {
            entries.put(inquiry.id, Entry { last: LastStatus::of(inquiry), read_at: Instant::now() });
        } else {
            entries.pop(&inquiry.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::fixtures::InquiryBuilder;

    const BOUND: Duration = Duration::from_secs(2);

    /// A distinct inquiry in `status`.
    fn inquiry(status: InquiryStatus) -> Inquiry {
        static SEED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
        let seed = SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InquiryBuilder::new().created_at(Timestamp::UNIX_EPOCH, seed).status(status).build()
    }

    #[tokio::test(start_paused = true)]
    async fn a_terminal_status_is_served_until_the_staleness_bound_then_read_again() {
        let cache = StatusCache::new(BOUND, 16);
        let answered = inquiry(InquiryStatus::Answered);
        cache.remember(&answered);
        tokio::time::advance(BOUND - Duration::from_millis(1)).await;
        assert_eq!(cache.get(answered.id), Some(LastStatus::of(&answered)));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(cache.get(answered.id), None, "past the bound the store is asked again");
    }

    #[tokio::test(start_paused = true)]
    async fn a_newer_read_replaces_the_remembered_status() {
        let cache = StatusCache::new(BOUND, 16);
        let mut inquiry = inquiry(InquiryStatus::Answered);
        cache.remember(&inquiry);
        inquiry.status = InquiryStatus::Escalated;
        cache.remember(&inquiry);
        assert_eq!(cache.get(inquiry.id).map(|l| l.status), Some(InquiryStatus::Escalated));
    }

    #[tokio::test(start_paused = true)]
    async fn an_inquiry_still_in_the_pipeline_is_never_served_from_the_cache() {
        let cache = StatusCache::new(BOUND, 16);
        for status in [
            InquiryStatus::Received,
            InquiryStatus::Analyzing,
            InquiryStatus::Classified,
            InquiryStatus::AwaitingPartner,
            InquiryStatus::AwaitingCustomer,
        ] {
            let i = inquiry(status);
            cache.remember(&i);
            assert_eq!(cache.get(i.id), None, "{status} moves on by itself");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_status_is_served_past_the_bound_and_a_resolved_one_is_read_again() {
        let cache = StatusCache::new(BOUND, 16);
        let (resolved, failed) = (inquiry(InquiryStatus::Resolved), inquiry(InquiryStatus::Failed));
        cache.remember(&resolved);
        cache.remember(&failed);
        tokio::time::advance(BOUND * 100).await;
        assert_eq!(cache.get(failed.id).map(|l| l.status), Some(InquiryStatus::Failed));
        // A follow-up may reopen a resolved inquiry.
        assert_eq!(cache.get(resolved.id), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_bound_caches_nothing() {
        let cache = StatusCache::new(Duration::ZERO, 16);
        let resolved = inquiry(InquiryStatus::Resolved);
        cache.remember(&resolved);
        assert_eq!(cache.get(resolved.id), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_least_recently_polled_inquiry_goes_first_when_full() {
        let cache = StatusCache::new(BOUND, 2);
        let [a, b, c] = [0; 3].map(|_| inquiry(InquiryStatus::Failed));
        cache.remember(&a);
        cache.remember(&b);
        assert!(cache.get(a.id).is_some());
        cache.remember(&c);
        assert!(cache.get(b.id).is_none(), "b was polled least recently");
        assert!(cache.get(a.id).is_some() && cache.get(c.id).is_some());
    }
}
