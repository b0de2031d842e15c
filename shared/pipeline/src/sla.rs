//! What recording an SLA breach means, wherever it is found (the
//! notifier's check when the deadline passes, the gateway's resolve when a
//! person answers late and the check has not come yet): a timeline event,
//! the `switchboard_sla_breaches_total` counter, and one log line the AWS
//! stack's metric filter counts for its alarm. Called only by the write
//! that marked the clock breached, so each breach is counted once.

use jiff::Timestamp;
use serde_json::json;
use switchboard_domain::{Inquiry, TimelineEvent};
use tracing::warn;

/// The log field and value of a breach's line: the CloudFormation metric
/// filter matches `{ $.fields.sla = "breached" }`.
pub const BREACH_LOG_FIELD: &str = "sla";
/// See [`BREACH_LOG_FIELD`].
pub const BREACH_LOG_VALUE: &str = "breached";

/// The timeline event of `inquiry`'s breach, once per escalation round.
pub fn breach_event(inquiry: &Inquiry, actor: &str, at: Timestamp) -> TimelineEvent {
    let details = match &inquiry.sla {
        Some(sla) => json!({ "due_at": sla.due_at, "urgency": sla.urgency, "round": sla.round }),
        None => json!({}),
    };
    let mut event = TimelineEvent::once("sla.breached", actor, at, details);
    if let Some(sla) = &inquiry.sla {
        event.key = format!("sla.breached/{}", sla.round);
    }
    event
}

/// Counts and logs the breach just recorded on `inquiry`.
pub fn breach_recorded(inquiry: &Inquiry, by: &str) {
    let Some(sla) = &inquiry.sla else { return };
    switchboard_telemetry::metrics().sla_breach(sla.urgency.as_str());
    // The field name must stay `sla` = "breached": the stack's alarm counts these lines.
    warn!(sla = BREACH_LOG_VALUE, inquiry_id = %inquiry.id, urgency = sla.urgency.as_str(), by, "first-response SLA breached");
}
