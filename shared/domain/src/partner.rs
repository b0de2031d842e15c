//! The partner's side of a reservation change: what was asked and what came back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A partner's answer on the confirmation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum PartnerAnswer {
    Accept,
    Reject {
        #[serde(default)]
        reason: Option<String>,
    },
    Alternative {
        proposed_time: String,
    },
}

/// How a partner request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PartnerOutcome {
    Accepted,
    Rejected {
        #[serde(default)]
        reason: Option<String>,
    },
    Alternative {
        proposed_time: String,
    },
    TimedOut,
}

impl From<PartnerAnswer> for PartnerOutcome {
    fn from(answer: PartnerAnswer) -> Self {
        match answer {
            PartnerAnswer::Accept => Self::Accepted,
            PartnerAnswer::Reject { reason } => Self::Rejected { reason },
            PartnerAnswer::Alternative { proposed_time } => Self::Alternative { proposed_time },
        }
    }
}

impl PartnerOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::Alternative { .. } => "alternative",
            Self::TimedOut => "timed_out",
        }
    }
}

/// The partner request attached to an inquiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRequest {
    pub partner_id: String,
    pub partner_name: String,
    pub requested_at: Timestamp,
    /// After this the partner's answer no longer counts.
    pub deadline_at: Timestamp,
    pub outcome: Option<PartnerOutcome>,
    pub responded_at: Option<Timestamp>,
}
