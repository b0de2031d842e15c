//! Liveness and readiness.
//!
//! `/readyz` is unauthenticated and reachable through the load balancer, so
//! it neither runs the dependency checks for every caller (they are cached
//! for [`READINESS_TTL`], one check at a time) nor tells the caller more
//! than which dependency is not ready; the cause goes to the log.

use crate::problem::Problem;
use crate::state::{NotReady, Readiness};
use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::warn;

/// How long a readiness check or a queue sample is reused.
pub const READINESS_TTL: Duration = Duration::from_secs(2);

/// Alive: the process answers.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the dependencies answer too.
pub(crate) async fn readyz(State(gateway): State<crate::state::Gateway>) -> Result<Json<Value>, Problem> {
    gateway.readiness.check().await.map_err(|not_ready| {
        warn!(dependency = %not_ready.dependency, cause = %not_ready.cause, "not ready");
        Problem::unavailable(format!("{} is not ready", not_ready.dependency))
    })?;
    Ok(Json(json!({ "status": "ready" })))
}

/// A [`Readiness`] whose check and queue sample run at most once per
/// `ttl`, whoever asks: concurrent callers wait for the one run.
pub struct CachedReadiness {
    inner: Arc<dyn Readiness>,
    ttl: Duration,
    checked: Mutex<Option<(Instant, Result<(), NotReady>)>>,
    sampled: Mutex<Option<Instant>>,
}

impl CachedReadiness {
    /// `inner`, cached for `ttl`.
    pub fn new(inner: Arc<dyn Readiness>, ttl: Duration) -> Self {
        Self { inner, ttl, checked: Mutex::new(None), sampled: Mutex::new(None) }
    }
}

#[async_trait]
impl Readiness for CachedReadiness {
    async fn check(&self) -> Result<(), NotReady> {
        let mut checked = self.checked.lock().await;
        if let Some((at, result)) = checked.as_ref()
            && at.elapsed() < self.ttl
        {
            return result.clone();
        }
        let result = self.inner.check().await;
        *checked = Some((Instant::now(), result.clone()));
        result
    }

    async fn sample_queues(&self) {
        let mut sampled = self.sampled.lock().await;
        if sampled.is_some_and(|at| at.elapsed() < self.ttl) {
            return;
        }
        self.inner.sample_queues().await;
        *sampled = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counting {
        checks: AtomicUsize,
        samples: AtomicUsize,
    }

    #[async_trait]
    impl Readiness for Counting {
        async fn check(&self) -> Result<(), NotReady> {
            self.checks.fetch_add(1, Ordering::SeqCst);
            Err(NotReady { dependency: "store".into(), cause: "connection refused to 10.0.0.7".into() })
        }
        async fn sample_queues(&self) {
            self.samples.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hundred_probes_within_the_ttl_run_one_check_and_one_sample() {
        let counting = Arc::new(Counting::default());
        let cached = Arc::new(CachedReadiness::new(counting.clone(), READINESS_TTL));
        let probes = (0..100).map(|_| {
            let cached = cached.clone();
            async move {
                let _ = cached.check().await;
                cached.sample_queues().await;
            }
        });
        futures::future::join_all(probes).await;
        assert_eq!((counting.checks.load(Ordering::SeqCst), counting.samples.load(Ordering::SeqCst)), (1, 1));
        tokio::time::advance(READINESS_TTL).await;
        assert!(cached.check().await.is_err());
        assert_eq!(counting.checks.load(Ordering::SeqCst), 2, "checked again once the result is stale");
    }
}
