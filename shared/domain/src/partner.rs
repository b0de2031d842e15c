//! The partner's side of a reservation change: what was asked and what came back.

use crate::{InquiryStatus, Language};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Whether an inquiry in `status` no longer takes a partner's answer: a
/// person has it (escalated, resolved) or the pipeline gave up (failed).
/// Moving there voids its open link, and a late answer is refused.
pub fn refuses_partner_answers(status: InquiryStatus) -> bool {
    matches!(status, InquiryStatus::Escalated | InquiryStatus::Resolved | InquiryStatus::Failed)
}

/// A partner's answer on the confirmation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum PartnerAnswer {
    /// The partner confirms the request as asked.
    Accept,
    /// The partner declines.
    Reject {
        /// Why, if the partner said.
        #[serde(default)]
        reason: Option<String>,
    },
    /// The partner proposes another time.
    Alternative {
        /// The time the partner proposes, as written.
        proposed_time: String,
    },
}

/// How a partner request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PartnerOutcome {
    /// The partner confirmed.
    Accepted,
    /// The partner declined.
    Rejected {
        /// Why, if the partner said.
        #[serde(default)]
        reason: Option<String>,
    },
    /// The partner proposed another time.
    Alternative {
        /// The time the partner proposed, as written.
        proposed_time: String,
    },
    /// The deadline passed without an answer.
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
    /// The wire name, e.g. `timed_out`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::Alternative { .. } => "alternative",
            Self::TimedOut => "timed_out",
        }
    }

    /// The conversation's system notice of the outcome, in the customer's
    /// language. It names neither the partner nor their reason (the page
    /// and messages the customer reads never show the partner); the
    /// answer that follows says what it means for the customer.
    pub fn notice(&self, language: Language) -> String {
        match (self, language) {
            (Self::Accepted, Language::Ko) => "파트너사가 요청을 수락했습니다.".into(),
            (Self::Accepted, Language::En) => "The partner accepted the request.".into(),
            (Self::Rejected { .. }, Language::Ko) => "파트너사가 요청을 거절했습니다.".into(),
            (Self::Rejected { .. }, Language::En) => "The partner declined the request.".into(),
            (Self::Alternative { proposed_time }, Language::Ko) => format!("파트너사가 다른 일정을 제안했습니다: {proposed_time}"),
            (Self::Alternative { proposed_time }, Language::En) => format!("The partner proposed another time: {proposed_time}"),
            (Self::TimedOut, Language::Ko) => "파트너사가 기한 내에 답하지 않았습니다. 담당자가 확인하겠습니다.".into(),
            (Self::TimedOut, Language::En) => "The partner did not answer in time; a member of our team will follow up.".into(),
        }
    }
}

/// The partner request attached to an inquiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRequest {
    /// The partner's id.
    pub partner_id: String,
    /// The partner's name, as shown to the customer.
    pub partner_name: String,
    /// When the partner was asked.
    pub requested_at: Timestamp,
    /// After this the partner's answer no longer counts.
    pub deadline_at: Timestamp,
    /// How it ended, once it has.
    pub outcome: Option<PartnerOutcome>,
    /// When the partner answered.
    pub responded_at: Option<Timestamp>,
}

/// The steps of a partner confirmation under the names the API shows
/// (`partner_steps`), so the timeline reads as
/// `Created, SMSSent, Opened, Responded | Timeout, Failed`.
///
/// The timeline keeps its own event kinds (`partner.sms_sent`, ...); this
/// maps them to the step names instead of storing a second copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PartnerStep {
    /// The customer's request was taken in (`status.received`).
    Created,
    /// The partner's text message went out (`partner.sms_sent`).
    #[serde(rename = "SMSSent")]
    SmsSent,
    /// The partner opened the link (`partner.opened`).
    Opened,
    /// The partner answered (`partner.responded`).
    Responded,
    /// The deadline passed without an answer (`partner.timed_out`).
    Timeout,
    /// The request could not be carried out (`status.failed`).
    Failed,
}

impl PartnerStep {
    /// Every step, in the order they can happen.
    pub const ALL: [Self; 6] = [Self::Created, Self::SmsSent, Self::Opened, Self::Responded, Self::Timeout, Self::Failed];

    /// The step's name: `Created`, `SMSSent`, `Opened`, `Responded`, `Timeout`, `Failed`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::SmsSent => "SMSSent",
            Self::Opened => "Opened",
            Self::Responded => "Responded",
            Self::Timeout => "Timeout",
            Self::Failed => "Failed",
        }
    }

    /// The step a timeline event kind stands for, if it is one.
    pub fn from_timeline_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "status.received" => Self::Created,
            "partner.sms_sent" => Self::SmsSent,
            "partner.opened" => Self::Opened,
            "partner.responded" => Self::Responded,
            "partner.timed_out" => Self::Timeout,
            "status.failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl std::fmt::Display for PartnerStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_its_name_and_one_timeline_kind() {
        let kinds = ["status.received", "partner.sms_sent", "partner.opened", "partner.responded", "partner.timed_out", "status.failed"];
        let labels: Vec<_> = kinds.iter().map(|k| PartnerStep::from_timeline_kind(k).map(PartnerStep::label)).collect();
        assert_eq!(labels, ["Created", "SMSSent", "Opened", "Responded", "Timeout", "Failed"].map(Some));
        for step in PartnerStep::ALL {
            assert_eq!(serde_json::to_value(step).unwrap(), step.label());
        }
    }

    #[test]
    fn only_a_person_or_a_failure_closes_the_door_on_a_partners_answer() {
        let refusing: Vec<_> = InquiryStatus::ALL.into_iter().filter(|s| refuses_partner_answers(*s)).collect();
        assert_eq!(refusing, [InquiryStatus::Escalated, InquiryStatus::Resolved, InquiryStatus::Failed]);
    }

    #[test]
    fn other_timeline_kinds_are_not_partner_steps() {
        for kind in ["status.classified", "status.awaiting_partner", "notification.customer.inquiry.answered", ""] {
            assert_eq!(PartnerStep::from_timeline_kind(kind), None, "{kind}");
        }
    }
}
