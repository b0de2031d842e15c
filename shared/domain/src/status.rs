//! The inquiry status machine, as one transition table: every status an
//! inquiry can be in and the moves between them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an inquiry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    /// Taken in; nothing has been done with it yet.
    Received,
    /// Its attachments are being read.
    Analyzing,
    /// Classified; waiting for a partner or an answer.
    Classified,
    /// Waiting for a partner to confirm.
    AwaitingPartner,
    /// Answered automatically.
    Answered,
    /// Handed to a human.
    Escalated,
    /// Closed for good.
    Resolved,
    /// The pipeline gave up on it.
    Failed,
}

use InquiryStatus::*;

/// Every legal move. Anything not listed is a [`TransitionError`].
const TRANSITIONS: &[(InquiryStatus, &[InquiryStatus])] = &[
    (Received, &[Analyzing, Classified, Escalated, Failed]),
    (Analyzing, &[Classified, Escalated, Failed]),
    (Classified, &[AwaitingPartner, Answered, Escalated, Failed]),
    (AwaitingPartner, &[Answered, Escalated, Failed]),
    // A customer or operator may escalate an answer they find wanting.
    (Answered, &[Escalated, Resolved]),
    (Escalated, &[Resolved]),
    (Resolved, &[]),
    (Failed, &[]),
];

/// An attempt to move an inquiry somewhere the status machine forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an inquiry cannot go from {from} to {to}")]
pub struct TransitionError {
    /// Where the inquiry was.
    pub from: InquiryStatus,
    /// Where it was asked to go.
    pub to: InquiryStatus,
}

impl InquiryStatus {
    /// Every status.
    pub const ALL: [InquiryStatus; 8] = [Received, Analyzing, Classified, AwaitingPartner, Answered, Escalated, Resolved, Failed];

    /// Checks a move against the transition table.
    pub fn transition(self, to: InquiryStatus) -> Result<InquiryStatus, TransitionError> {
        let allowed = TRANSITIONS.iter().find(|(from, _)| *from == self).map(|(_, to)| *to).unwrap_or(&[]);
        if allowed.contains(&to) { Ok(to) } else { Err(TransitionError { from: self, to }) }
    }

    /// Whether the transition table allows moving to `to`.
    pub fn can_become(self, to: InquiryStatus) -> bool {
        self.transition(to).is_ok()
    }

    /// Terminal for the pipeline: no service will move it on by itself.
    pub fn is_terminal(self) -> bool {
        matches!(self, Answered | Escalated | Resolved | Failed)
    }

    /// Nothing can move it on any more.
    pub fn is_final(self) -> bool {
        matches!(self, Resolved | Failed)
    }

    /// The wire name, e.g. `awaiting_partner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Received => "received",
            Analyzing => "analyzing",
            Classified => "classified",
            AwaitingPartner => "awaiting_partner",
            Answered => "answered",
            Escalated => "escalated",
            Resolved => "resolved",
            Failed => "failed",
        }
    }

    /// The status with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// How far along the pipeline this status is: stage `n` of [`Self::STAGES`].
    pub fn stage(self) -> u32 {
        match self {
            Received => 1,
            Analyzing => 2,
            Classified => 3,
            AwaitingPartner => 4,
            Answered | Escalated | Resolved | Failed => 5,
        }
    }

    /// Number of stages reported by [`Self::stage`].
    pub const STAGES: u32 = 5;
}

impl fmt::Display for InquiryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_paths_of_the_pipeline_are_legal() {
        let paths: &[&[InquiryStatus]] = &[
            &[Received, Analyzing, Classified, AwaitingPartner, Answered, Resolved],
            &[Received, Classified, Answered],
            &[Received, Classified, Escalated, Resolved],
            &[Received, Analyzing, Failed],
        ];
        for path in paths {
            for pair in path.windows(2) {
                assert!(pair[0].can_become(pair[1]), "{} -> {}", pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn statuses_never_move_backwards() {
        assert_eq!(Classified.transition(Received), Err(TransitionError { from: Classified, to: Received }));
        assert!(!Answered.can_become(Classified));
        assert!(!AwaitingPartner.can_become(Classified));
    }

    #[test]
    fn final_statuses_accept_nothing() {
        for to in InquiryStatus::ALL {
            assert!(!Resolved.can_become(to));
            assert!(!Failed.can_become(to));
        }
    }

    #[test]
    fn every_non_terminal_status_can_fail() {
        for from in InquiryStatus::ALL.into_iter().filter(|s| !s.is_terminal()) {
            assert!(from.can_become(Failed), "{from}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in InquiryStatus::ALL {
            assert_eq!(InquiryStatus::parse(s.as_str()), Some(s));
        }
    }
}
