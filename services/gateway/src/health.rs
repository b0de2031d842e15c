//! Liveness and readiness.

use crate::problem::Problem;
use crate::state::Gateway;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// Alive: the process answers.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the dependencies answer too.
pub(crate) async fn readyz(State(gateway): State<Gateway>) -> Result<Json<Value>, Problem> {
    gateway.readiness.check().await.map_err(Problem::unavailable)?;
    Ok(Json(json!({ "status": "ready" })))
}
