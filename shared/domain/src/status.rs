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
    /// Waiting for the customer's reply to a question: the booking the
    /// inquiry names could not be found or verified, and the customer was
    /// asked (once) to check the reservation number. The reply goes back
    /// to `classified` for the partner flow; no usable reply in time goes
    /// to a person.
    AwaitingCustomer,
    /// Answered automatically.
    Answered,
    /// Handed to a human.
    Escalated,
    /// Answered (or resolved) until the customer wrote again: the follow-up
    /// goes through the pipeline as a new inquiry would, from the classifier.
    Reopened,
    /// Closed: by an operator, by the customer's thanks, or by the customer's
    /// silence. A later follow-up reopens it, as a helpdesk ticket reopens.
    Resolved,
    /// The pipeline gave up on it.
    Failed,
}

use InquiryStatus::*;

/// Every legal move. Anything not listed is a [`TransitionError`].
const TRANSITIONS: &[(InquiryStatus, &[InquiryStatus])] = &[
    (Received, &[Analyzing, Classified, Escalated, Failed]),
    (Analyzing, &[Classified, Escalated, Failed]),
    (Classified, &[AwaitingPartner, AwaitingCustomer, Answered, Escalated, Failed]),
    (AwaitingPartner, &[Answered, Escalated, Failed]),
    // The reply names a number: verified again (an inquiry asks once, so
    // this loop runs at most once); else, or in silence, a person.
    (AwaitingCustomer, &[Classified, Escalated, Failed]),
    // A customer or operator may escalate an answer they find wanting; the
    // customer's thanks (or silence) resolves it; a new question reopens it.
    (Answered, &[Reopened, Escalated, Resolved]),
    // A follow-up on an escalated inquiry leaves it with the person (who is told).
    (Escalated, &[Resolved]),
    // The follow-up is classified as a new inquiry would be, unless its
    // anger sends it straight to a person.
    (Reopened, &[Classified, Escalated, Failed]),
    // A customer writing after the close reopens it (a helpdesk reopens a
    // ticket rather than make the customer start over).
    (Resolved, &[Reopened]),
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
    pub const ALL: [InquiryStatus; 10] =
        [Received, Analyzing, Classified, AwaitingPartner, AwaitingCustomer, Answered, Escalated, Reopened, Resolved, Failed];

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

    /// Nothing can move it on any more (a resolved inquiry can be reopened
    /// by the customer's follow-up, so only a failed one is final).
    pub fn is_final(self) -> bool {
        matches!(self, Failed)
    }

    /// Still open to the customer's reply by text message: neither closed
    /// (resolved) nor given up (failed). An inbound SMS joins the newest
    /// open inquiry of its sender (`services/intake`, `inbound_sms.rs`).
    pub fn takes_sms_reply(self) -> bool {
        !matches!(self, Resolved | Failed)
    }

    /// The wire name, e.g. `awaiting_partner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Received => "received",
            Analyzing => "analyzing",
            Classified => "classified",
            AwaitingPartner => "awaiting_partner",
            AwaitingCustomer => "awaiting_customer",
            Answered => "answered",
            Escalated => "escalated",
            Reopened => "reopened",
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
            // A reopened inquiry waits for the classifier, as an analysed one does.
            Analyzing | Reopened => 2,
            Classified => 3,
            // Both wait on someone outside before the answer.
            AwaitingPartner | AwaitingCustomer => 4,
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
    fn every_status_but_resolved_and_failed_takes_a_text_back() {
        let closed: Vec<_> = InquiryStatus::ALL.into_iter().filter(|s| !s.takes_sms_reply()).collect();
        assert_eq!(closed, [Resolved, Failed]);
    }

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
    fn a_failed_inquiry_accepts_nothing() {
        for to in InquiryStatus::ALL {
            assert!(!Failed.can_become(to));
        }
    }

    #[test]
    fn a_follow_up_reopens_an_answered_or_resolved_inquiry_which_goes_on_as_a_new_one() {
        let paths: &[&[InquiryStatus]] = &[
            &[Answered, Reopened, Classified, Answered],
            &[Answered, Reopened, Classified, AwaitingPartner, Answered],
            &[Answered, Reopened, Escalated, Resolved],
            &[Resolved, Reopened, Classified, Escalated],
            &[Answered, Resolved, Reopened, Classified, Answered, Resolved],
        ];
        for path in paths {
            for pair in path.windows(2) {
                assert!(pair[0].can_become(pair[1]), "{} -> {}", pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn only_answered_and_resolved_inquiries_reopen() {
        let reopens: Vec<_> = InquiryStatus::ALL.into_iter().filter(|s| s.can_become(Reopened)).collect();
        assert_eq!(reopens, [Answered, Resolved]);
        assert!(!Escalated.can_become(Reopened), "an escalated inquiry stays with its person");
    }

    #[test]
    fn a_reopened_inquiry_is_not_answered_without_being_classified_again() {
        assert!(!Reopened.can_become(Answered));
        assert!(!Reopened.can_become(AwaitingPartner));
        assert!(!Reopened.is_terminal());
        assert!(Reopened.can_become(Failed));
    }

    #[test]
    fn thanks_or_silence_resolve_an_answer() {
        assert!(Answered.can_become(Resolved));
        assert!(!Resolved.is_final());
    }

    #[test]
    fn every_non_terminal_status_can_fail() {
        for from in InquiryStatus::ALL.into_iter().filter(|s| !s.is_terminal()) {
            assert!(from.can_become(Failed), "{from}");
        }
    }

    #[test]
    fn a_booking_that_cannot_be_verified_asks_the_customer_and_the_reply_goes_back_to_the_partner_flow() {
        let paths: &[&[InquiryStatus]] = &[
            &[Received, Classified, AwaitingCustomer, Classified, AwaitingPartner, Answered],
            &[Received, Classified, AwaitingCustomer, Classified, Escalated],
            &[Received, Classified, AwaitingCustomer, Escalated, Resolved],
        ];
        for path in paths {
            for pair in path.windows(2) {
                assert!(pair[0].can_become(pair[1]), "{} -> {}", pair[0], pair[1]);
            }
        }
        let asks: Vec<_> = InquiryStatus::ALL.into_iter().filter(|s| s.can_become(AwaitingCustomer)).collect();
        assert_eq!(asks, [Classified], "only the partner flow asks the customer");
        assert!(!AwaitingCustomer.can_become(AwaitingPartner), "a reply is verified again before a partner is asked");
        assert!(!AwaitingCustomer.can_become(Answered));
        assert!(!AwaitingCustomer.is_terminal(), "its deadline moves it on");
    }

    #[test]
    fn names_round_trip() {
        for s in InquiryStatus::ALL {
            assert_eq!(InquiryStatus::parse(s.as_str()), Some(s));
        }
    }
}
