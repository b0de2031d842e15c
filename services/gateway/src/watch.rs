//! Following an inquiry's timeline as it happens (`WatchInquiry`, and
//! `GET /api/inquiries/{id}/events` as server-sent events).
//!
//! Workers may run in other processes (AWS mode), so the gateway cannot be
//! told of new events: it reads the timeline, first at once, then at an
//! interval that starts short and grows while nothing happens (so a slow
//! partner costs few reads) and shrinks again when something does. One
//! poller reads each watched inquiry's timeline for all its watchers
//! ([`Pollers`]), however many there are, and stops when the inquiry is
//! finished or nobody watches it any more. Events
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
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::{InquiryId, InquiryStatus, TimelineEvent};
use tokio::sync::watch;
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

/// The last read of a timeline: none yet, the events, or why it failed.
type Reading = Option<Result<Arc<Vec<TimelineEvent>>, String>>;

/// The pollers of the inquiries being watched, one per inquiry.
#[derive(Clone, Default)]
pub(crate) struct Pollers {
    live: Arc<Mutex<HashMap<InquiryId, Arc<watch::Sender<Reading>>>>>,
}

impl Pollers {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<InquiryId, Arc<watch::Sender<Reading>>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The readings of inquiry `id`'s timeline, from its poller (started now if none runs).
    fn follow(&self, gateway: &Gateway, id: InquiryId) -> watch::Receiver<Reading> {
        let mut live = self.live();
        if let Some(sender) = live.get(&id) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        let sender = Arc::new(sender);
        live.insert(id, sender.clone());
        tokio::spawn(poll(gateway.clone(), self.clone(), id, sender));
        receiver
    }

    /// Ends `sender`'s poller's entry. Under the lock, `unless_watched`
    /// keeps it if a watcher joined meanwhile (then the poller goes on):
    /// a watcher never joins a poller that is about to stop.
    fn forget(&self, id: InquiryId, sender: &Arc<watch::Sender<Reading>>, unless_watched: bool) -> bool {
        let mut live = self.live();
        if unless_watched && sender.receiver_count() > 0 {
            return false;
        }
        if live.get(&id).is_some_and(|s| Arc::ptr_eq(s, sender)) {
            live.remove(&id);
        }
        true
    }
}

/// Whether the latest status change of `timeline` is terminal: nothing
/// more to watch.
fn finished(timeline: &[TimelineEvent]) -> bool {
    timeline.iter().rev().find_map(event_status).is_some_and(InquiryStatus::is_terminal)
}

/// Reads inquiry `id`'s timeline for its watchers until it is finished,
/// nobody watches, or the server stops streams.
async fn poll(gateway: Gateway, pollers: Pollers, id: InquiryId, sender: Arc<watch::Sender<Reading>>) {
    let base = gateway.api.settings().watch_poll;
    let stop = gateway.api.streams_stopping();
    let mut pause = base;
    let mut seen = 0;
    loop {
        // A read nobody waits for any more is dropped, not finished.
        let reading = tokio::select! {
            reading = gateway.inquiries.timeline(id) => reading,
            _ = sender.closed() => {
                if pollers.forget(id, &sender, true) {
                    return;
                }
                continue;
            }
            _ = stop.cancelled() => {
                pollers.forget(id, &sender, false);
                return;
            }
        };
        let (news, last) = match &reading {
            Ok(timeline) => (timeline.len() != seen, finished(timeline)),
            Err(_) => (false, true),
        };
        if let Ok(timeline) = &reading {
            seen = timeline.len();
        }
        sender.send_replace(Some(reading.map(Arc::new).map_err(|e| ApiError::from(e).to_string())));
        if last {
            pollers.forget(id, &sender, false);
            return;
        }
        pause = if news { base } else { pause.mul_f32(1.5).min(MAX_POLL).max(base) };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = sender.closed() => {}
            _ = stop.cancelled() => {
                pollers.forget(id, &sender, false);
                return;
            }
        }
        if pollers.forget(id, &sender, true) {
            return;
        }
    }
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
                // What follows (notifications) belongs to the next chapter.
                self.done = true;
                break;
            }
        }
    }
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
    let lifetime = Instant::now() + settings.stream_lifetime;
    let (deadline, client_deadline) = match deadline {
        Some(at) if at <= lifetime => (at, true),
        _ => (lifetime, false),
    };
    let readings = gateway.api.pollers().follow(&gateway, id);
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
