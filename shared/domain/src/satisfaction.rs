//! Customer satisfaction: after an inquiry is answered or resolved, the
//! customer may say whether it helped (👍/👎) and add a comment.
//!
//! A rating is an event of the inquiry, kept in its timeline (both
//! backends already store that under the inquiry's key, deduplicated by
//! the event's key), so it needs no store of its own: the inquiry's
//! satisfaction is its latest rating, and a customer who changes their
//! mind simply rates again. Which answer was rated (the automatic one or
//! the team's) and the inquiry's intent are recorded with the rating, so
//! CSAT can be told apart by both.

use crate::text::normalize;
use crate::{Author, FieldError, InquiryStatus, Intent, Message, TimelineEvent, ValidationErrors};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The timeline event a rating is kept as.
pub const RATED_EVENT: &str = "satisfaction.rated";
/// A comment's longest length, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Whether the answer helped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// 👍
    Helpful,
    /// 👎
    NotHelpful,
}

impl Rating {
    /// The wire name: `helpful` or `not_helpful`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Helpful => "helpful",
            Self::NotHelpful => "not_helpful",
        }
    }

    /// The rating a wire name names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "helpful" => Some(Self::Helpful),
            "not_helpful" => Some(Self::NotHelpful),
            _ => None,
        }
    }
}

/// Who wrote the answer that was rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    /// Switchboard's automatic answer alone.
    Ai,
    /// A person of the team answered in the conversation.
    Human,
}

impl AnsweredBy {
    /// The wire name: `ai` or `human`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ai => "ai",
            Self::Human => "human",
        }
    }

    /// A person answered if any operator message is in the conversation.
    pub fn of(conversation: &[Message]) -> Self {
        if conversation.iter().any(|m| m.author == Author::Operator) { Self::Human } else { Self::Ai }
    }
}

/// One rating, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Satisfaction {
    /// Whether it helped.
    pub rating: Rating,
    /// What the customer added, normalised; `None` when nothing.
    pub comment: Option<String>,
    /// Who wrote the rated answer.
    pub answered_by: AnsweredBy,
    /// The inquiry's intent when it was rated, when it was classified.
    pub intent: Option<Intent>,
    /// When the customer rated it.
    pub rated_at: Timestamp,
}

/// A rating as the customer sent it (the page's form, an API body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RateInput {
    /// `helpful` or `not_helpful`.
    pub rating: Option<String>,
    /// Optional text.
    pub comment: Option<String>,
}

/// Whether an inquiry in `status` can be rated: once it was answered or resolved.
pub fn can_be_rated(status: InquiryStatus) -> bool {
    matches!(status, InquiryStatus::Answered | InquiryStatus::Resolved)
}

impl Satisfaction {
    /// The rating `input` makes, or every field that is wrong with it.
    pub fn parse(
        input: &RateInput,
        answered_by: AnsweredBy,
        intent: Option<Intent>,
        rated_at: Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = Vec::new();
        let rating = match input.rating.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new("rating", "is required: `helpful` or `not_helpful`"));
                None
            }
            Some(s) => Rating::parse(s).or_else(|| {
                errors.push(FieldError::new("rating", "must be `helpful` or `not_helpful`"));
                None
            }),
        };
        let comment = input.comment.as_deref().map(normalize).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            errors.push(FieldError::new("comment", format!("must be at most {MAX_COMMENT_CHARS} characters")));
        }
        match rating {
            Some(rating) if errors.is_empty() => Ok(Self { rating, comment, answered_by, intent, rated_at }),
            _ => Err(ValidationErrors(errors)),
        }
    }

    /// The timeline event keeping this rating. Its key is made from the
    /// caller's key (the page's form key, an idempotency key) and what was
    /// said, so a double submit is kept once and a changed mind again.
    pub fn event(&self, idempotency_key: &str) -> TimelineEvent {
        let said = format!("{idempotency_key}\n{}\n{}", self.rating.as_str(), self.comment.as_deref().unwrap_or_default());
        let digest = Sha256::digest(said.as_bytes());
        let short: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let details = serde_json::to_value(self).unwrap_or_default();
        let mut event = TimelineEvent::once(RATED_EVENT, "customer", self.rated_at, details);
        event.key = format!("{RATED_EVENT}.{short}");
        event
    }

    /// The latest rating among `timeline`'s events, if any.
    pub fn latest(timeline: &[TimelineEvent]) -> Option<Self> {
        timeline
            .iter()
            .filter(|e| e.kind == RATED_EVENT)
            .filter_map(|e| serde_json::from_value::<Self>(e.details.clone()).ok())
            .max_by_key(|s| s.rated_at)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn input(rating: &str, comment: &str) -> RateInput {
        RateInput { rating: Some(rating.into()), comment: Some(comment.into()) }
    }

    #[test]
    fn a_rating_must_be_helpful_or_not_helpful_and_a_comment_short() {
        let at = Timestamp::UNIX_EPOCH;
        let ok = Satisfaction::parse(&input("helpful", "  "), AnsweredBy::Ai, None, at).unwrap();
        assert_eq!((ok.rating, ok.comment), (Rating::Helpful, None), "a blank comment is none");
        let missing = Satisfaction::parse(&RateInput::default(), AnsweredBy::Ai, None, at).unwrap_err();
        assert_eq!(missing.0[0].field, "rating");
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        let both = Satisfaction::parse(&input("great", &long), AnsweredBy::Ai, None, at).unwrap_err();
        let fields: Vec<&str> = both.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["rating", "comment"]);
    }

    #[test]
    fn the_same_rating_twice_is_one_event_and_a_changed_mind_is_the_latest() {
        let early = Timestamp::from_second(100).unwrap();
        let later = Timestamp::from_second(200).unwrap();
        let up = Satisfaction::parse(&input("helpful", "thanks"), AnsweredBy::Ai, Some(Intent::GeneralQuestion), early).unwrap();
        assert_eq!(up.event("k").key, up.event("k").key);
        let down = Satisfaction::parse(&input("not_helpful", ""), AnsweredBy::Ai, Some(Intent::GeneralQuestion), later).unwrap();
        assert_ne!(up.event("k").key, down.event("k").key);
        let timeline = vec![down.event("k"), up.event("k")];
        assert_eq!(Satisfaction::latest(&timeline), Some(down));
        assert_eq!(Satisfaction::latest(&[]), None);
    }

    #[test]
    fn only_answered_or_resolved_inquiries_can_be_rated() {
        let rateable: Vec<_> = InquiryStatus::ALL.into_iter().filter(|s| can_be_rated(*s)).collect();
        assert_eq!(rateable, [InquiryStatus::Answered, InquiryStatus::Resolved]);
    }
}
