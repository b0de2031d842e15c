//! Keeping a customer's rating of an answer (the customer page's "did this
//! help?"): which answer it rates is read from the conversation, the rating
//! joins the inquiry's timeline once per key and what was said, and each
//! new rating is counted by intent and by who answered.

use crate::error::ApiError;
use crate::state::Gateway;
use jiff::Timestamp;
use switchboard_domain::satisfaction::RateInput;
use switchboard_domain::{AnsweredBy, Inquiry, Satisfaction};
use switchboard_store::whole_conversation;
use switchboard_telemetry::metrics;

/// Keeps `input` as the customer's rating of `inquiry`'s answer, keyed by
/// `key` (a double submit is kept once). The caller has checked that the
/// inquiry can be rated.
pub(crate) async fn rate(gateway: &Gateway, inquiry: &Inquiry, input: &RateInput, key: &str) -> Result<Satisfaction, ApiError> {
    let conversation = whole_conversation(gateway.inquiries.as_ref(), inquiry).await?;
    let intent = inquiry.classification.as_ref().map(|c| c.intent);
    let satisfaction = Satisfaction::parse(input, AnsweredBy::of(&conversation), intent, Timestamp::now())?;
    if gateway.inquiries.append_event(inquiry.id, &satisfaction.event(key)).await? {
        let intent = intent.map_or("unknown", |i| i.as_str());
        metrics().satisfaction_rating(satisfaction.rating.as_str(), intent, satisfaction.answered_by.as_str());
    }
    Ok(satisfaction)
}
