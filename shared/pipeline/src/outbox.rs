//! The outbox's relay. A state change that no queue message will repeat
//! (an accepted submission, an operator's escalation or answer, a
//! dead-lettered inquiry marked failed) is stored with the events that
//! announce it, in one transaction ([`switchboard_store::InquiryStore`]).
//! [`Relay::deliver`] publishes them right after the commit and clears
//! them; [`Relay::run`] publishes what a crash between the two left behind.
//! Event ids are deterministic, and every consumer is idempotent, so an
//! event published by both (a slow first publish) is a repeat, never a
//! second event.

use crate::Clock;
use crate::crash_point;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::CloudEvent;
use switchboard_messaging::{MessagingError, Topic, events};
use switchboard_store::{InquiryStore, StoreError};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Entries relayed per store read.
const BATCH: u32 = 100;

/// Why events could not be relayed (they stay in the outbox).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Publishing failed.
    #[error("publishing failed: {0}")]
    Publish(#[from] MessagingError),
    /// Reading the outbox failed.
    #[error("the outbox could not be read: {0}")]
    Store(#[from] StoreError),
}

/// Publishes outbox entries and clears them.
#[derive(Clone)]
pub struct Relay {
    inquiries: Arc<dyn InquiryStore>,
    topic: Arc<dyn Topic>,
}

impl Relay {
    /// A relay from the inquiries' outbox to `topic`.
    pub fn new(inquiries: Arc<dyn InquiryStore>, topic: Arc<dyn Topic>) -> Self {
        Self { inquiries, topic }
    }

    /// Publishes events just committed with their state change, then clears
    /// them from the outbox. On an error they stay there and [`Self::run`]
    /// publishes them later: the change itself is done either way. Safe to
    /// call again with the same events (a retried API call).
    pub async fn deliver(&self, events: &[CloudEvent]) -> Result<(), RelayError> {
        crash_point::reached(crash_point::BEFORE_PUBLISH);
        events::publish(self.topic.as_ref(), events).await?;
        for event in events {
            if let Some(inquiry) = event.inquiry_id() {
                self.clear(inquiry, &event.id).await;
            }
        }
        Ok(())
    }

    /// Publishes and clears up to one batch of the entries stored before
    /// `before`, oldest first; returns how many.
    pub async fn deliver_pending(&self, before: Timestamp) -> Result<usize, RelayError> {
        let pending = self.inquiries.pending_events(before, BATCH).await?;
        for entry in &pending {
            events::publish(self.topic.as_ref(), std::slice::from_ref(&entry.event)).await?;
            self.clear(entry.inquiry_id, &entry.event.id).await;
        }
        Ok(pending.len())
    }

    /// A published event left in the outbox is published once more by the
    /// relay: a repeat, not a loss, so a failed clear is only logged.
    async fn clear(&self, inquiry: switchboard_domain::InquiryId, event_id: &str) {
        if let Err(e) = self.inquiries.clear_event(inquiry, event_id).await {
            warn!(inquiry_id = %inquiry, event_id, error = %e, "a published event stays in the outbox");
        }
    }

    /// Until `shutdown`: at once everything in the outbox (a restart after
    /// a crash), then every `every` the entries older than `grace` (their
    /// own [`Self::deliver`] should have cleared them by then).
    pub async fn run(self, clock: Arc<dyn Clock>, every: Duration, grace: Duration, shutdown: CancellationToken) {
        let grace = SignedDuration::try_from(grace).unwrap_or(SignedDuration::ZERO);
        let mut cutoff = clock.now();
        loop {
            let relayed = self.drain(cutoff).await;
            if relayed > 0 {
                info!(relayed, "outbox events published by the relay");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            cutoff = clock.now() - grace;
        }
    }

    /// Relays batches until the entries before `cutoff` are gone or a call fails.
    async fn drain(&self, cutoff: Timestamp) -> usize {
        let mut relayed = 0;
        loop {
            match self.deliver_pending(cutoff).await {
                Ok(n) => {
                    relayed += n;
                    if n < BATCH as usize {
                        return relayed;
                    }
                }
                Err(e) => {
                    warn!(error = %e, "the outbox relay will try again");
                    return relayed;
                }
            }
        }
    }
}
