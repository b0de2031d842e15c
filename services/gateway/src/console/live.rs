//! The queue's live update: `GET /console/queue/events` is a server-sent
//! event stream that says `changed` whenever the rows the operator's
//! filters select are not the ones it last saw (an inquiry escalated,
//! answered, moved on). The script (`console.js`) then fetches the rows
//! and swaps them in; without the script the page is still whole, and a
//! reload shows the same.
//!
//! Each stream re-reads the queue every `SWITCHBOARD_CONSOLE_POLL_MS`
//! (one listing read; operators are few), lives at most as long as the
//! API's watch streams, and ends when the server stops.

use super::queue::{QueueFilter, rows};
use super::session::SignedIn;
use crate::state::Gateway;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use std::convert::Infallible;
use std::hash::{DefaultHasher, Hash, Hasher};
use tokio::time::Instant;
use tracing::warn;

/// What the stream compares: the rows' ids and versions, in order.
async fn fingerprint(gateway: &Gateway, filter: &QueueFilter) -> Option<u64> {
    match rows(gateway, filter).await {
        Ok((rows, _)) => {
            let mut h = DefaultHasher::new();
            for row in &rows {
                (row.id.as_str(), row.version, row.sla_state).hash(&mut h);
            }
            Some(h.finish())
        }
        Err(e) => {
            warn!(error = %e, "console queue could not be read for its live update");
            None
        }
    }
}

/// `GET /console/queue/events`.
pub(crate) async fn events(State(gateway): State<Gateway>, _signed_in: SignedIn, Query(filter): Query<QueueFilter>) -> Response {
    Sse::new(changes(gateway, filter)).keep_alive(KeepAlive::default()).into_response()
}

struct Watching {
    gateway: Gateway,
    filter: QueueFilter,
    last: Option<u64>,
    until: Instant,
}

fn changes(gateway: Gateway, filter: QueueFilter) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let until = Instant::now() + gateway.api.settings().stream_lifetime;
    let start = Watching { gateway, filter, last: None, until };
    futures::stream::unfold(start, |mut state| async move {
        loop {
            let now = fingerprint(&state.gateway, &state.filter).await;
            let first = state.last.is_none();
            if now.is_some() && now != state.last {
                state.last = now;
                // The page was rendered with the rows of the first reading.
                if !first {
                    return Some((Ok(Event::default().event("changed").data("queue")), state));
                }
            }
            let stop = state.gateway.api.streams_stopping();
            let pause = state.gateway.api.settings().console_poll;
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => return None,
                _ = tokio::time::sleep_until(state.until) => return None,
            }
        }
    })
}
