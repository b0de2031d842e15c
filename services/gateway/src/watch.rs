//! Following an inquiry's timeline as it happens (`WatchInquiry`, and
//! `GET /api/inquiries/{id}/events` as server-sent events).
//!
//! Workers may run in other processes (AWS mode), so the gateway cannot be
//! told of new events: it reads the timeline, first at once, then at an
//! interval that starts short and grows while nothing happens (so a slow
//! partner costs few reads) and shrinks again when something does. One
//! poller reads each watched inquiry's timeline for all its watchers
//! (`timeline_pollers.rs`), however many there are, and stops when the inquiry is
//! finished or nobody watches it any more. Events
//! are handed out once each (by their dedupe key), oldest first, up to and
//! including the one that puts the inquiry in a terminal status; then the
//! stream ends. Messages added to the conversation (`message.*` events,
//! each carrying its message) are handed out like any event, and those
//! added after the inquiry finished come just before its terminal event,
//! so a watcher of an answered inquiry still sees the follow-ups. The
//! client's deadline, the stream's longest lifetime
//! (`SWITCHBOARD_STREAM_LIFETIME_SECS`) and the server's shutdown end it
//! early. Each stream holds one of its caller's slots (`stream_slots.rs`)
//! until it ends.

use crate::error::ApiError;
use crate::state::Gateway;
use crate::stream_slots::StreamSlot;
use crate::timeline_pollers::Reading;
pub use crate::timeline_pollers::event_status;
use futures::Stream;
use std::collections::{HashSet, VecDeque};
use switchboard_domain::{InquiryId, InquiryStatus, TimelineEvent};
use tokio::sync::watch;
use tokio::time::Instant;

/// The kind prefix of the events that add a message to the conversation
/// (`switchboard_store::message_event`).
const MESSAGE_EVENT_PREFIX: &str = "message.";

/// One event of a watched timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub inquiry_id: InquiryId,
    pub event: TimelineEvent,
    /// The status this event put the inquiry in (`status.*` events).
    pub status: Option<InquiryStatus>,
    /// The last event of the stream.
    pub terminal: bool,
}

struct State {
    gateway: Gateway,
    id: InquiryId,
    readings: watch::Receiver<Reading>,
    sent: HashSet<String>,
    pending: VecDeque<Watched>,
    done: bool,
    deadline: Instant,
    /// Whether `deadline` is the client's rather than the stream's lifetime.
    client_deadline: bool,
    _slot: StreamSlot,
}

impl State {
    /// Queues the events of `timeline` this watcher has not handed out,
    /// oldest first, up to the one that finishes the inquiry.
    fn take_news(&mut self, timeline: &[TimelineEvent]) {
        // An answered inquiry may be escalated and resolved later: only
        // the latest status change can end the stream.
        let last_status = timeline.iter().rposition(|e| event_status(e).is_some());
        for (index, event) in timeline.iter().enumerate() {
            if !self.sent.insert(event.key.clone()) {
                continue;
            }
            let status = event_status(event);
            let terminal = status.is_some_and(InquiryStatus::is_terminal) && Some(index) == last_status;
            self.pending.push_back(Watched { inquiry_id: self.id, event: event.clone(), status, terminal });
            if terminal {
                // What follows (notifications) belongs to the next chapter,
                // but the conversation goes on after an answer: the
                // messages added since are handed out before the end.
                self.take_later_messages(&timeline[index + 1..]);
                self.done = true;
                break;
            }
        }
    }

    /// Queues the `message.*` events of `rest` (the timeline after the
    /// terminal event) not handed out yet, before that terminal event, which
    /// stays the stream's last.
    fn take_later_messages(&mut self, rest: &[TimelineEvent]) {
        let Some(end) = self.pending.pop_back() else { return };
        for event in rest.iter().filter(|e| e.kind.starts_with(MESSAGE_EVENT_PREFIX)) {
            if self.sent.insert(event.key.clone()) {
                self.pending.push_back(Watched { inquiry_id: self.id, event: event.clone(), status: None, terminal: false });
            }
        }
        self.pending.push_back(end);
    }
}

/// The timeline of inquiry `id` (which the caller was allowed to see) as a
/// stream, holding `slot`. `deadline`: when the client stops waiting.
pub(crate) fn watch(
    gateway: Gateway,
    id: InquiryId,
    deadline: Option<Instant>,
    slot: StreamSlot,
) -> impl Stream<Item = Result<Watched, ApiError>> + Send + 'static {
    let settings = gateway.api.settings();
    let lifetime = Instant::now() + settings.stream_lifetime;
    let (deadline, client_deadline) = match deadline {
        Some(at) if at <= lifetime => (at, true),
        _ => (lifetime, false),
    };
    let readings = gateway.api.pollers().follow(gateway.inquiries.clone(), settings.watch_poll, gateway.api.streams_stopping(), id);
    let state = State {
        gateway,
        id,
        readings,
        sent: HashSet::new(),
        pending: VecDeque::new(),
        done: false,
        deadline,
        client_deadline,
        _slot: slot,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(next) = state.pending.pop_front() {
                return Some((Ok(next), state));
            }
            if state.done {
                return None;
            }
            let reading = state.readings.borrow_and_update().clone();
            match reading {
                None => {}
                Some(Err(cause)) => {
                    state.done = true;
                    return Some((Err(ApiError::Unavailable(cause)), state));
                }
                Some(Ok(timeline)) => {
                    state.take_news(&timeline);
                    if !state.pending.is_empty() {
                        continue;
                    }
                }
            }
            let stop = state.gateway.api.streams_stopping();
            tokio::select! {
                changed = state.readings.changed() => {
                    if changed.is_err() {
                        // The poller stopped before the inquiry finished (streams are being stopped).
                        state.done = true;
                        return Some((Err(ApiError::Unavailable("the server is shutting down; watch again".into())), state));
                    }
                }
                _ = stop.cancelled() => {
                    state.done = true;
                    return Some((Err(ApiError::Unavailable("the server is shutting down; watch again".into())), state));
                }
                _ = tokio::time::sleep_until(state.deadline) => {
                    state.done = true;
                    let why = if state.client_deadline {
                        "the deadline passed before the inquiry finished".to_owned()
                    } else {
                        let lifetime = state.gateway.api.settings().stream_lifetime.as_secs();
                        format!("the stream reached its longest lifetime ({lifetime} s) before the inquiry finished; watch again")
                    };
                    return Some((Err(ApiError::DeadlineExceeded(why)), state));
                }
            }
        }
    })
}
