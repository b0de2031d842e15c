//! Operators' console sessions: what a signed-in browser's cookie stands
//! for. The cookie holds a random id; the store keeps only its SHA-256
//! (a leaked table lists no usable session), under `SESSION#{hash}` with a
//! TTL, in both backends, so any gateway process behind the load balancer
//! knows every session and signing out ends it everywhere.

use crate::StoreError;
use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A signed-in operator's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    /// The operator, as the operator key list names them.
    pub operator: String,
    /// The token every form of this session must post back (CSRF).
    pub csrf_token: String,
    /// When the operator signed in.
    pub created_at: Timestamp,
    /// When the session ends, whatever happens before.
    pub expires_at: Timestamp,
}

/// Sessions by the hash of their id.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; CONFLICT if one has this hash already.
    async fn put_session(&self, hash: &str, session: &ConsoleSession) -> Result<(), StoreError>;
    /// The session, if it exists and has not expired at `now`.
    async fn get_session(&self, hash: &str, now: Timestamp) -> Result<Option<ConsoleSession>, StoreError>;
    /// Ends the session (nothing happens if it is gone already).
    async fn delete_session(&self, hash: &str) -> Result<(), StoreError>;
}
