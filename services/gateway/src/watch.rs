//! Following an inquiry's timeline as it happens (`WatchInquiry`, and
//! `GET /api/inquiries/{id}/events` as server-sent events).
//!
//! Workers may run in other processes (AWS mode), so the gateway cannot be
//! told of new events: it reads the timeline, first at once, then at an
//! interval that starts short and grows while nothing happens (so a slow
//! partner costs few reads) and shrinks again when something does. Events
//! are handed out once each (by their dedupe key), oldest first, up to and
//! including the one that puts the inquiry in a terminal status; then the
//! stream ends. The client's deadline, the stream's longest lifetime
//! (`SWITCHBOARD_STREAM_LIFETIME_SECS`) and the server's shutdown end it
//! early. Each stream holds one of its caller's slots (`stream_slots.rs`)
//! until it ends.

use crate::error::ApiError;
use crate::state::Gateway;
use crate::stream_slots::StreamSlot;
use futures::Stream;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use switchboard_domain::{InquiryId, InquiryStatus, TimelineEvent};
use tokio::time::Instant;

/// The longest pause between two reads of a quiet timeline.
const MAX_POLL: Duration = Duration::from_secs(2);

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
    sent: HashSet<String>,
    pending: VecDeque<Watched>,
    done: bool,
    first: bool,
    pause: Duration,
    deadline: Instant,
    /// Whether `deadline` is the client's rather than the stream's lifetime.
    client_deadline: bool,
    _slot: StreamSlot,
}

/// The status a `status.*` event records.
pub fn event_status(event: &TimelineEvent) -> Option<InquiryStatus> {
    event.kind.strip_prefix("status.").and_then(InquiryStatus::parse)
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
    let first_pause = settings.watch_poll;
    let lifetime = Instant::now() + settings.stream_lifetime;
    let (deadline, client_deadline) = match deadline {
        Some(at) if at <= lifetime => (at, true),
        _ => (lifetime, false),
    };
    let state = State {
        gateway,
        id,
        sent: HashSet::new(),
        pending: VecDeque::new(),
        done: false,
        first: true,
        pause: first_pause,
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
            if !state.first {
                let stop = state.gateway.api.streams_stopping();
                let sleep = tokio::time::sleep(state.pause);
                let deadline = tokio::time::sleep_until(state.deadline);
                tokio::select! {
                    _ = sleep => {}
                    _ = stop.cancelled() => {
                        state.done = true;
                        return Some((Err(ApiError::Unavailable("the server is shutting down; watch again".into())), state));
                    }
                    _ = deadline => {
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
            state.first = false;
            let timeline = match state.gateway.inquiries.timeline(state.id).await {
                Ok(t) => t,
                Err(e) => {
                    state.done = true;
                    return Some((Err(e.into()), state));
                }
            };
            let mut news = false;
            // An answered inquiry may be escalated and resolved later: only
            // the latest status change can end the stream.
            let last_status = timeline.iter().rposition(|e| event_status(e).is_some());
            for (index, event) in timeline.into_iter().enumerate() {
                if !state.sent.insert(event.key.clone()) {
                    continue;
                }
                news = true;
                let status = event_status(&event);
                let terminal = status.is_some_and(InquiryStatus::is_terminal) && Some(index) == last_status;
                state.pending.push_back(Watched { inquiry_id: state.id, event, status, terminal });
                if terminal {
                    // What follows (notifications) belongs to the next chapter.
                    state.done = true;
                    break;
                }
            }
            let base = state.gateway.api.settings().watch_poll;
            state.pause = if news { base } else { (state.pause.mul_f32(1.5)).min(MAX_POLL).max(base) };
        }
    })
}
