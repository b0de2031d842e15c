//! The cap on requests served at once (`SWITCHBOARD_MAX_CONCURRENT_REQUESTS`),
//! REST and gRPC together: past it a request is answered 503 with
//! `Retry-After` (gRPC: UNAVAILABLE with `RetryInfo`) at once instead of
//! queueing, so a flood of slow requests (bodies trickled in, say) cannot
//! hold the gateway's memory and tasks. Streams are apart: they are long by
//! design and limited on their own.

use crate::error::ApiError;
use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The wait advised to a client turned away by the cap.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Slots for requests in progress, shared by every capped route.
#[derive(Clone)]
pub(crate) struct ConcurrencyCap(Arc<Semaphore>);

impl ConcurrencyCap {
    /// Room for `requests` at once (at least one).
    pub(crate) fn new(requests: usize) -> Self {
        Self(Arc::new(Semaphore::new(requests.max(1))))
    }

    /// A slot held until dropped, or OVERLOADED when every slot is taken.
    pub(crate) fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0.clone().try_acquire_owned().map_err(|_| ApiError::Overloaded {
            detail: "the gateway is serving as many requests as it takes at once; retry shortly".into(),
            retry_after: RETRY_AFTER,
        })
    }
}

/// The middleware: holds a slot for the whole request, or answers 503.
pub(crate) async fn cap(State(cap): State<ConcurrencyCap>, request: Request, next: Next) -> Response {
    match cap.slot() {
        Ok(_slot) => next.run(request).await,
        Err(e) => Problem::from(e).into_response(),
    }
}
