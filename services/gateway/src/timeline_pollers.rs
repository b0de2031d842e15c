//! One reader of each watched inquiry's timeline, shared by all its
//! watchers (`watch.rs`): however many follow an inquiry, the store is read
//! once per pause for it. The reader starts with the first watcher and
//! stops when the inquiry is finished, nobody watches any more (a read
//! nobody waits for is dropped), or the server stops streams.

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::{InquiryId, InquiryStatus, TimelineEvent};
use switchboard_store::InquiryStore;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The longest pause between two reads of a quiet timeline.
const MAX_POLL: Duration = Duration::from_secs(2);

/// The status a `status.*` event records.
pub fn event_status(event: &TimelineEvent) -> Option<InquiryStatus> {
    event.kind.strip_prefix("status.").and_then(InquiryStatus::parse)
}

/// The last read of a timeline: none yet, the events, or why it failed.
pub(crate) type Reading = Option<Result<Arc<Vec<TimelineEvent>>, String>>;

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
    pub(crate) fn follow(
        &self,
        inquiries: Arc<dyn InquiryStore>,
        every: Duration,
        stop: CancellationToken,
        id: InquiryId,
    ) -> watch::Receiver<Reading> {
        let mut live = self.live();
        if let Some(sender) = live.get(&id) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        let sender = Arc::new(sender);
        live.insert(id, sender.clone());
        tokio::spawn(poll(inquiries, every, stop, self.clone(), id, sender));
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
/// nobody watches, or the server stops streams (`stop`); `base` is the
/// shortest pause between two reads.
async fn poll(
    inquiries: Arc<dyn InquiryStore>,
    base: Duration,
    stop: CancellationToken,
    pollers: Pollers,
    id: InquiryId,
    sender: Arc<watch::Sender<Reading>>,
) {
    let mut pause = base;
    let mut seen = 0;
    loop {
        // A read nobody waits for any more is dropped, not finished.
        let reading = tokio::select! {
            reading = inquiries.timeline(id) => reading,
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
