//! When a write closes an inquiry's partner link: the one rule both
//! adapters apply in `update_inquiry`, so an answer is either in before
//! the inquiry leaves `awaiting_partner` or refused.

use switchboard_domain::{Inquiry, refuses_partner_answers};

/// Whether writing `next` must void its inquiry's open link: it moves to a
/// status that refuses partner answers, and it is an inquiry a partner was
/// (or is being) asked about. Others skip the lookup, which on DynamoDB
/// costs two reads.
pub(crate) fn closes_partner_link(next: &Inquiry) -> bool {
    refuses_partner_answers(next.status) && next.classification.as_ref().is_some_and(|c| c.needs_partner())
}
