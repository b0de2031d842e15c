//! Moving an inquiry through the status machine with a conditional write.

use crate::{InquiryStore, StoreError};
use jiff::Timestamp;
use switchboard_domain::{CloudEvent, Inquiry, InquiryId, InquiryStatus, TimelineEvent};

/// What a [`transition`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionOutcome {
    /// This call moved the inquiry.
    Applied(Inquiry),
    /// The inquiry was already in the target status: a redelivered message.
    AlreadyDone(Inquiry),
}

impl TransitionOutcome {
    /// The inquiry as stored now.
    pub fn inquiry(&self) -> &Inquiry {
        match self {
            Self::Applied(i) | Self::AlreadyDone(i) => i,
        }
    }
}

/// Why a transition did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    /// There is no such inquiry.
    #[error("inquiry {0} does not exist")]
    NotFound(InquiryId),
    /// The inquiry is somewhere the status machine cannot go on from.
    #[error("inquiry is {current}: {source}")]
    Invalid {
        /// Where the inquiry is.
        current: InquiryStatus,
        /// The move the status machine refused.
        source: switchboard_domain::TransitionError,
    },
    /// Reading or writing the inquiry failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Lost races are retried this many times before giving up with a conflict.
const ATTEMPTS: usize = 5;

/// Moves inquiry `id` to `to`, applying `change` to the record, and appends
/// a `status.{to}` timeline event by `actor` in the same write. Idempotent:
/// if the inquiry is already in `to`, nothing is written.
pub async fn transition(
    store: &dyn InquiryStore,
    id: InquiryId,
    to: InquiryStatus,
    actor: &str,
    now: Timestamp,
    details: serde_json::Value,
    change: impl Fn(&mut Inquiry),
) -> Result<TransitionOutcome, TransitionError> {
    transition_from(store, id, &InquiryStatus::ALL, to, actor, now, details, change).await
}

/// As [`transition`], but only out of one of the statuses in `from`: for a
/// decision made on the inquiry as it was read (an automatic answer made on
/// a classified inquiry must not land on one that another delivery of the
/// same message has answered or escalated meanwhile, which the status
/// machine alone would allow). From any other status it is
/// [`TransitionError::Invalid`] and nothing is written.
#[allow(clippy::too_many_arguments)] // transition's arguments and the guard
pub async fn transition_from(
    store: &dyn InquiryStore,
    id: InquiryId,
    from: &[InquiryStatus],
    to: InquiryStatus,
    actor: &str,
    now: Timestamp,
    details: serde_json::Value,
    change: impl Fn(&mut Inquiry),
) -> Result<TransitionOutcome, TransitionError> {
    apply(store, id, None, from, to, actor, now, details, change, |_| Vec::new()).await
}

/// As [`transition_from`], starting from `read`, the inquiry as the caller
/// has just read it, instead of reading it again: the write is conditional
/// on `read`'s version, so a change made meanwhile only costs the read
/// after all (the lost race is retried from a fresh read). Whether the
/// move is done already or not allowed is always decided on a fresh read,
/// never on `read`.
#[allow(clippy::too_many_arguments)] // transition_from's arguments, with the inquiry for the id
pub async fn transition_from_read(
    store: &dyn InquiryStore,
    read: &Inquiry,
    from: &[InquiryStatus],
    to: InquiryStatus,
    actor: &str,
    now: Timestamp,
    details: serde_json::Value,
    change: impl Fn(&mut Inquiry),
) -> Result<TransitionOutcome, TransitionError> {
    apply(store, read.id, Some(read.clone()), from, to, actor, now, details, change, |_| Vec::new()).await
}

/// As [`transition`], storing the events `announce` makes of the moved
/// inquiry in the outbox in the same write (see [`InquiryStore`]): for a
/// move that no queue message will repeat if its announcement is lost (an
/// API call, a dead-lettered message). Nothing is stored when the inquiry
/// was already in `to`; the caller announces again if it must.
#[allow(clippy::too_many_arguments)] // transition's arguments and the announcement
pub async fn transition_announced(
    store: &dyn InquiryStore,
    id: InquiryId,
    to: InquiryStatus,
    actor: &str,
    now: Timestamp,
    details: serde_json::Value,
    change: impl Fn(&mut Inquiry),
    announce: impl Fn(&Inquiry) -> Vec<CloudEvent>,
) -> Result<TransitionOutcome, TransitionError> {
    apply(store, id, None, &InquiryStatus::ALL, to, actor, now, details, change, announce).await
}

#[allow(clippy::too_many_arguments)] // the union of the public functions' arguments
async fn apply(
    store: &dyn InquiryStore,
    id: InquiryId,
    mut read: Option<Inquiry>,
    from: &[InquiryStatus],
    to: InquiryStatus,
    actor: &str,
    now: Timestamp,
    details: serde_json::Value,
    change: impl Fn(&mut Inquiry),
    announce: impl Fn(&Inquiry) -> Vec<CloudEvent>,
) -> Result<TransitionOutcome, TransitionError> {
    let mut last_conflict = None;
    for _ in 0..ATTEMPTS {
        // The caller's read, on the first attempt, when it leads to a write;
        // otherwise (and on every later attempt) a fresh one.
        let movable = |i: &Inquiry| i.id == id && i.status != to && from.contains(&i.status) && i.status.transition(to).is_ok();
        let current = match read.take().filter(movable) {
            Some(current) => current,
            None => store.get_inquiry(id).await?.ok_or(TransitionError::NotFound(id))?,
        };
        if current.status == to {
            return Ok(TransitionOutcome::AlreadyDone(current));
        }
        if !from.contains(&current.status) {
            let source = switchboard_domain::TransitionError { from: current.status, to };
            return Err(TransitionError::Invalid { current: current.status, source });
        }
        current.status.transition(to).map_err(|source| TransitionError::Invalid { current: current.status, source })?;
        let mut next = current.clone();
        change(&mut next);
        next.status = to;
        next.updated_at = now;
        let mut event = TimelineEvent::once(format!("status.{}", to.as_str()), actor, now, details.clone());
        // Once per round: a reopened inquiry goes through its statuses again.
        event.key = next.step(&event.key);
        let events = announce(&next);
        match store.update_inquiry(&next, current.version, Some(&event), &events).await {
            Ok(stored) => return Ok(TransitionOutcome::Applied(stored)),
            Err(StoreError::Conflict(why)) => last_conflict = Some(why),
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(last_conflict.unwrap_or_default()).into())
}
