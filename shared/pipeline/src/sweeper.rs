//! The sweeper: finds inquiries whose status has not moved for longer than
//! their stage allows and hands each again to the stage that moves it on.
//! Queues redeliver what a crashed worker dropped, and the outbox
//! ([`crate::Relay`]) publishes what a crashed API call committed; the
//! sweeper is the last net, for a message that was lost all the same (a
//! dead-letter queue emptied by hand, a queue purged, a redrive gone wrong).
//!
//! It re-announces with the stage's own event id, and every stage is
//! idempotent, so an inquiry that was only slow sees a repeat, not a second
//! run:
//!
//! | stuck in | handed to | with |
//! |---|---|---|
//! | `received`, `analyzing` | the topic (routed as at intake) | `inquiry.received` |
//! | `classified` | the classifier's queue (it announces its verdict again) | `inquiry.received` |
//! | `awaiting_partner`, past its deadline | the partner dispatcher's queue (it closes the request) | `inquiry.classified` |
//! | `awaiting_customer`, past its question's deadline | the partner dispatcher's queue (it announces the question again, and its deadline, which escalates) | `inquiry.classified` |
//! | `reopened` | the classifier's queue (it classifies the follow-up) | the latest follow-up's `inquiry.message_received` |

use crate::{Clock, follow_up, received_event};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::message::ORIGINAL_SEQUENCE;
use switchboard_domain::{Author, CloudEvent, EventType, Inquiry, InquiryId, InquiryStatus};
use switchboard_messaging::{MessagingError, Queue, Topic, events};
use switchboard_store::{InquiryStore, PageRequest, StoreError, whole_conversation};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The CloudEvents source of the sweeper's re-announcements.
const SOURCE: &str = "switchboard/sweeper";
/// Most inquiries of one status looked at per sweep, so a huge backlog
/// costs a bounded read (the rest wait for the next sweep).
const MAX_PER_STATUS: usize = 10_000;

/// Why a sweep stopped short.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Listing inquiries failed.
    #[error("the inquiries could not be listed: {0}")]
    Store(#[from] StoreError),
    /// Re-announcing failed.
    #[error("an inquiry could not be announced again: {0}")]
    Messaging(#[from] MessagingError),
}

/// Where the sweeper reads and re-announces.
pub struct SweeperParts {
    /// The inquiries.
    pub inquiries: Arc<dyn InquiryStore>,
    /// The pipeline's topic.
    pub topic: Arc<dyn Topic>,
    /// The classifier's queue.
    pub classifier: Arc<dyn Queue>,
    /// The partner dispatcher's queue.
    pub dispatcher: Arc<dyn Queue>,
    /// The clock "stuck for" is measured by.
    pub clock: Arc<dyn Clock>,
    /// How long an inquiry may stay in a working status (or past its
    /// partner deadline) before it is handed on again.
    pub stuck_after: Duration,
}

/// Re-announces inquiries that stopped moving.
pub struct Sweeper {
    parts: SweeperParts,
    stuck_after: SignedDuration,
    /// When each inquiry was last handed on: not again before another
    /// `stuck_after`, so a stage that is down is not flooded with repeats.
    handed_on: Mutex<HashMap<InquiryId, Timestamp>>,
}

/// The statuses an inquiry can get stuck in.
const WORKING: [InquiryStatus; 6] = [
    InquiryStatus::Received,
    InquiryStatus::Analyzing,
    InquiryStatus::Classified,
    InquiryStatus::AwaitingPartner,
    InquiryStatus::AwaitingCustomer,
    InquiryStatus::Reopened,
];

impl Sweeper {
    /// A sweeper over `parts`.
    pub fn new(parts: SweeperParts) -> Self {
        let stuck_after = SignedDuration::try_from(parts.stuck_after).unwrap_or(SignedDuration::MAX);
        Self { parts, stuck_after, handed_on: Mutex::new(HashMap::new()) }
    }

    /// Since when inquiry `inquiry` has been waiting on its stage: its last
    /// move, or for a partner request (a question to the customer) its
    /// deadline (it waits for the partner, or the customer, until then by design).
    fn waiting_since(inquiry: &Inquiry) -> Timestamp {
        match (&inquiry.status, &inquiry.partner, &inquiry.customer_question) {
            (InquiryStatus::AwaitingPartner, Some(request), _) => request.deadline_at.max(inquiry.updated_at),
            (InquiryStatus::AwaitingCustomer, _, Some(question)) => question.deadline_at.max(inquiry.updated_at),
            _ => inquiry.updated_at,
        }
    }

    /// One sweep: hands every inquiry stuck longer than allowed to its
    /// stage again; returns how many.
    pub async fn sweep(&self) -> Result<usize, SweepError> {
        let now = self.parts.clock.now();
        let mut stuck = Vec::new();
        for status in WORKING {
            let mut page = PageRequest::first(PageRequest::MAX_SIZE);
            let mut seen = 0;
            loop {
                let listed = self.parts.inquiries.list_by_status(status, &page).await?;
                seen += listed.items.len();
                // The listing is a secondary index: re-check the status it read.
                stuck.extend(
                    listed
                        .items
                        .into_iter()
                        .filter(|i| i.status == status && now.duration_since(Self::waiting_since(i)) > self.stuck_after),
                );
                match listed.next {
                    Some(next) if seen < MAX_PER_STATUS => page = PageRequest { after: Some(next), ..page },
                    _ => break,
                }
            }
        }
        let mut handed_on = 0;
        for inquiry in stuck {
            if !self.due(inquiry.id, now) {
                continue;
            }
            self.hand_on(&inquiry, now).await?;
            self.remember(inquiry.id, now);
            handed_on += 1;
        }
        Ok(handed_on)
    }

    fn due(&self, id: InquiryId, now: Timestamp) -> bool {
        let handed_on = self.handed_on.lock().unwrap_or_else(|p| p.into_inner());
        handed_on.get(&id).is_none_or(|at| now.duration_since(*at) > self.stuck_after)
    }

    fn remember(&self, id: InquiryId, now: Timestamp) {
        let mut handed_on = self.handed_on.lock().unwrap_or_else(|p| p.into_inner());
        // Forget what was handed on long ago: it moved on, or is due again anyway.
        let stuck_after = self.stuck_after;
        handed_on.retain(|_, at| now.duration_since(*at) <= stuck_after);
        handed_on.insert(id, now);
    }

    async fn hand_on(&self, inquiry: &Inquiry, now: Timestamp) -> Result<(), SweepError> {
        let waited = now.duration_since(Self::waiting_since(inquiry));
        info!(inquiry_id = %inquiry.id, status = %inquiry.status, waited_secs = waited.as_secs(), "inquiry stuck; handing it on again");
        match inquiry.status {
            InquiryStatus::Received | InquiryStatus::Analyzing => {
                events::publish(self.parts.topic.as_ref(), &[received_event(inquiry)]).await
            }
            InquiryStatus::Classified => {
                events::send(self.parts.classifier.as_ref(), &received_event(inquiry), Duration::ZERO).await.map(|_| ())
            }
            InquiryStatus::AwaitingPartner | InquiryStatus::AwaitingCustomer => {
                let event = CloudEvent::for_inquiry(
                    EventType::InquiryClassified,
                    inquiry.id,
                    &inquiry.tenant_id,
                    "1",
                    SOURCE,
                    now,
                    json!({ "classification": inquiry.classification }),
                );
                events::send(self.parts.dispatcher.as_ref(), &event, Duration::ZERO).await.map(|_| ())
            }
            // A follow-up took it back into the pipeline: the classifier
            // gets the latest customer message's announcement again (the
            // same event id as when it was stored).
            InquiryStatus::Reopened => {
                let conversation = whole_conversation(self.parts.inquiries.as_ref(), inquiry).await?;
                match conversation.iter().rev().find(|m| m.author == Author::Customer && m.sequence > ORIGINAL_SEQUENCE) {
                    Some(message) => {
                        let event = follow_up::received_event(inquiry, message, SOURCE, now);
                        events::send(self.parts.classifier.as_ref(), &event, Duration::ZERO).await.map(|_| ())
                    }
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }?;
        Ok(())
    }

    /// Sweeps every `every` until `shutdown`.
    pub async fn run(self, every: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            match self.sweep().await {
                Ok(0) => {}
                Ok(n) => info!(handed_on = n, "sweeper handed stuck inquiries on"),
                Err(e) => warn!(error = %e, "sweep stopped short; the next one carries on"),
            }
        }
    }
}
