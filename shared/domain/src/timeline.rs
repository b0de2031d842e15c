//! Timeline events: the audit trail of one inquiry.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Something that happened to an inquiry: who, what, when, under which trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When it happened.
    pub at: Timestamp,
    /// What happened, e.g. `status.classified`, `partner.sms_sent`.
    pub kind: String,
    /// Who did it: a service name, `partner`, `operator`, `customer`.
    pub actor: String,
    /// Whatever else is worth keeping about it.
    #[serde(default)]
    pub details: serde_json::Value,
    /// The trace it happened under, if any.
    pub trace_id: Option<String>,
    /// Deterministic per step, so a redelivered handler cannot append it twice.
    pub key: String,
}

impl TimelineEvent {
    /// An event whose dedupe key is its kind: it happens at most once per inquiry.
    pub fn once(kind: impl Into<String>, actor: impl Into<String>, at: Timestamp, details: serde_json::Value) -> Self {
        let kind = kind.into();
        Self { at, key: kind.clone(), kind, actor: actor.into(), details, trace_id: None }
    }
}
