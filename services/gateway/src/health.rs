//! Liveness and readiness.

use crate::{Gateway, Problem};
use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// Whether the store and queues answer.
#[async_trait]
pub trait Readiness: Send + Sync {
    async fn check(&self) -> Result<(), String>;

    /// Samples the queues' depths, ages and dead-letter counts into the
    /// metrics (`/metrics` calls it on every scrape). Nothing by default.
    async fn sample_queues(&self) {}
}

/// Alive: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the dependencies answer too.
pub async fn readyz(State(gateway): State<Gateway>) -> Result<Json<Value>, Problem> {
    gateway.readiness.check().await.map_err(Problem::unavailable)?;
    Ok(Json(json!({ "status": "ready" })))
}
