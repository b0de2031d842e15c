//! The conversation of an inquiry: its messages in order, and how the
//! customer's mood moves across them.
//!
//! Message 1 is always the inquiry's own text. It is not stored as a
//! message: [`Message::original`] makes it from the inquiry whenever the
//! conversation is read, so it always carries the inquiry's current
//! classification and inquiries stored before conversations existed have
//! one too. Later messages (a customer's follow-up, the AI answer, an
//! operator's answer, a system notice) are stored in the inquiry's
//! partition and numbered from 2 by the store, in the order they were
//! appended.

use crate::classification::{Classification, Language, Sentiment};
use crate::contact::CustomerContact;
use crate::event::deterministic_id;
use crate::field_error::{FieldError, ValidationErrors};
use crate::inquiry::{Channel, Inquiry, InquiryId};
use crate::submission::{client_language, customer_text};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The sequence number of an inquiry's original text, the first message.
pub const ORIGINAL_SEQUENCE: u32 = 1;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    /// The customer (the original text and every follow-up).
    Customer,
    /// The automatic answer.
    Ai,
    /// A person answering for the tenant.
    Operator,
    /// Switchboard itself: a notice such as an escalation.
    System,
}

impl Author {
    /// The wire name: `customer`, `ai`, `operator` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Ai => "ai",
            Self::Operator => "operator",
            Self::System => "system",
        }
    }
}

/// Where a message came in or went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageChannel {
    /// The REST or gRPC API.
    Api,
    /// A web form.
    Web,
    /// The chat widget.
    Chat,
    /// An upstream system's event.
    Upstream,
    /// A text message to (or from) the customer.
    Sms,
    /// An e-mail to (or from) the customer.
    Email,
}

impl MessageChannel {
    /// The wire name, e.g. `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web",
            Self::Chat => "chat",
            Self::Upstream => "upstream",
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }

    /// How a reply reaches `customer`: by SMS when there is a phone, else by
    /// e-mail (the notifier's choice, `services/notifier`).
    pub fn reply_to(customer: &CustomerContact) -> Self {
        if customer.phone.is_some() { Self::Sms } else { Self::Email }
    }
}

impl From<Channel> for MessageChannel {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Api => Self::Api,
            Channel::Web => Self::Web,
            Channel::Chat => Self::Chat,
            Channel::Event => Self::Upstream,
        }
    }
}

/// One message of an inquiry's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Derived from the inquiry and [`Message::key`], so a retried append
    /// makes the same id.
    pub id: String,
    /// The inquiry it belongs to.
    pub inquiry_id: InquiryId,
    /// Its place in the conversation, from 1 (the original text); given
    /// by the store when the message is appended (0 until then).
    pub sequence: u32,
    /// What makes it unique in its conversation: appending a message whose
    /// key is there already stores nothing (a retried call, a redelivered
    /// handler). See the constructors for each kind's key.
    pub key: String,
    /// Who wrote it.
    pub author: Author,
    /// Where it came in or went out.
    pub channel: MessageChannel,
    /// The language it is written in, when known.
    pub language: Option<Language>,
    /// The text, as stored (a customer's is normalised, see [`customer_text`]).
    pub text: String,
    /// When it was written.
    pub created_at: Timestamp,
    /// The classifier's verdict on it, where it was classified (customer messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
}

impl Message {
    /// Message 1: the inquiry's own text (its title, when it has one, a
    /// blank line, then its content), with its classification.
    pub fn original(inquiry: &Inquiry) -> Self {
        let text = match &inquiry.title {
            Some(title) => format!("{title}\n\n{}", inquiry.content),
            None => inquiry.content.clone(),
        };
        let mut message = Self::new(inquiry.id, "original", Author::Customer, inquiry.channel.into(), text, inquiry.created_at);
        message.sequence = ORIGINAL_SEQUENCE;
        message.language = inquiry.classification.as_ref().map(|c| c.language).or(inquiry.language);
        message.classification = inquiry.classification.clone();
        message
    }

    /// A customer's follow-up, keyed by the caller's idempotency key (`customer#{key}`).
    pub fn follow_up(inquiry_id: InquiryId, idempotency_key: &str, follow_up: FollowUp, channel: MessageChannel, at: Timestamp) -> Self {
        let mut message = Self::new(inquiry_id, &format!("customer#{idempotency_key}"), Author::Customer, channel, follow_up.text, at);
        message.language = follow_up.language;
        message
    }

    /// A reply to the customer (AI, operator or system) sent over the
    /// customer's channel: `step` names it within the inquiry
    /// (`{author}#{step}` is its key), e.g. `answer` for the AI answer.
    pub fn reply(inquiry: &Inquiry, author: Author, step: &str, text: impl Into<String>, at: Timestamp) -> Self {
        let key = format!("{}#{step}", author.as_str());
        let mut message = Self::new(inquiry.id, &key, author, MessageChannel::reply_to(&inquiry.customer), text.into(), at);
        message.language = Some(inquiry.reply_language());
        message
    }

    fn new(inquiry_id: InquiryId, key: &str, author: Author, channel: MessageChannel, text: String, at: Timestamp) -> Self {
        Self {
            id: deterministic_id(&format!("{inquiry_id}/message/{key}")),
            inquiry_id,
            sequence: 0,
            key: key.to_owned(),
            author,
            channel,
            language: None,
            text,
            created_at: at,
            classification: None,
        }
    }

    /// The tone of the message, where it was classified.
    pub fn sentiment(&self) -> Option<Sentiment> {
        self.classification.as_ref().map(|c| c.sentiment)
    }
}

/// The body of a customer's follow-up (`POST /api/inquiries/{id}/messages`,
/// `AddMessage`), exactly as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitFollowUp {
    /// What the customer says (required).
    #[serde(default)]
    pub text: Option<String>,
    /// The language the client says it is written in (`ko`, `en`).
    #[serde(default)]
    pub language: Option<String>,
}

/// A follow-up that passed validation: the only way to get one is [`FollowUp::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The text, normalised and checked as a submission's `content` is.
    pub text: String,
    /// The language, if the client gave one.
    pub language: Option<Language>,
}

impl FollowUp {
    /// Checks every field with the submission's rules and reports all problems at once.
    pub fn parse(input: SubmitFollowUp) -> Result<Self, ValidationErrors> {
        let mut errors: Vec<FieldError> = Vec::new();
        let text = customer_text("text", input.text.as_deref()).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });
        let language = client_language(input.language).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        Ok(Self { text, language })
    }
}

/// Which way the customer's mood is going across the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentTrend {
    /// The latest customer message is warmer than the ones before.
    Improving,
    /// No change, or too little to tell.
    Steady,
    /// The latest customer message is colder than the ones before: a person
    /// should look before it boils over.
    Worsening,
}

impl SentimentTrend {
    /// The wire name: `improving`, `steady` or `worsening`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Improving => "improving",
            Self::Steady => "steady",
            Self::Worsening => "worsening",
        }
    }

    /// The trend of the customer's messages, oldest first.
    ///
    /// The rule: each classified customer message scores positive +2,
    /// neutral 0, mixed −1 (some anger in it), negative −2; messages of
    /// other authors and unclassified ones do not count. With fewer than
    /// two scores the trend is steady. Otherwise the latest score is
    /// compared with the mean of the earlier ones: below it is worsening,
    /// above it improving, equal steady. The mean, not only the message
    /// before, so one calm message between two angry ones does not read as
    /// a recovery of the whole conversation.
    ///
    /// The responder will read this to escalate a worsening conversation
    /// before the customer's next message (issue 17, not wired yet: the
    /// pipeline does not re-process follow-ups).
    pub fn of(messages: &[Message]) -> Self {
        let scores: Vec<i64> = messages.iter().filter(|m| m.author == Author::Customer).filter_map(Message::sentiment).map(score).collect();
        Self::of_scores(&scores)
    }

    fn of_scores(scores: &[i64]) -> Self {
        let Some((latest, earlier)) = scores.split_last() else { return Self::Steady };
        if earlier.is_empty() {
            return Self::Steady;
        }
        // latest < mean(earlier), in integers: latest × n < sum.
        let (weighted, sum) = (latest * earlier.len() as i64, earlier.iter().sum::<i64>());
        match weighted.cmp(&sum) {
            std::cmp::Ordering::Less => Self::Worsening,
            std::cmp::Ordering::Greater => Self::Improving,
            std::cmp::Ordering::Equal => Self::Steady,
        }
    }
}

/// A sentiment's score in [`SentimentTrend::of`]'s rule.
fn score(sentiment: Sentiment) -> i64 {
    match sentiment {
        Sentiment::Positive => 2,
        Sentiment::Neutral => 0,
        Sentiment::Mixed => -1,
        Sentiment::Negative => -2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Intent;
    use crate::fixtures::{InquiryBuilder, classification};

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + second).unwrap()
    }

    fn said(sentiment: Option<Sentiment>) -> Message {
        let inquiry = InquiryBuilder::new().build();
        let follow_up = FollowUp { text: "x".into(), language: None };
        let mut m = Message::follow_up(inquiry.id, "k", follow_up, MessageChannel::Api, at(1));
        m.classification = sentiment.map(|sentiment| Classification { sentiment, ..classification(Language::En, Intent::GeneralQuestion) });
        m
    }

    fn trend(sentiments: &[Sentiment]) -> SentimentTrend {
        SentimentTrend::of(&sentiments.iter().map(|s| said(Some(*s))).collect::<Vec<_>>())
    }

    #[test]
    fn one_customer_message_is_steady() {
        assert_eq!(trend(&[Sentiment::Negative]), SentimentTrend::Steady);
        assert_eq!(SentimentTrend::of(&[]), SentimentTrend::Steady);
    }

    #[test]
    fn an_angry_follow_up_to_a_calm_question_is_worsening() {
        assert_eq!(trend(&[Sentiment::Neutral, Sentiment::Negative]), SentimentTrend::Worsening);
        assert_eq!(trend(&[Sentiment::Positive, Sentiment::Mixed]), SentimentTrend::Worsening);
    }

    #[test]
    fn a_thankful_follow_up_to_a_complaint_is_improving() {
        assert_eq!(trend(&[Sentiment::Negative, Sentiment::Positive]), SentimentTrend::Improving);
    }

    #[test]
    fn the_latest_message_is_compared_with_the_mean_of_the_earlier_ones() {
        // Mean of −2, −2, +2 is −2/3: a neutral message is above it.
        assert_eq!(trend(&[Sentiment::Negative, Sentiment::Negative, Sentiment::Positive, Sentiment::Neutral]), SentimentTrend::Improving);
        assert_eq!(trend(&[Sentiment::Neutral, Sentiment::Neutral, Sentiment::Neutral]), SentimentTrend::Steady);
    }

    #[test]
    fn replies_and_unclassified_messages_do_not_count() {
        let mut ai = said(Some(Sentiment::Negative));
        ai.author = Author::Ai;
        let messages = [said(Some(Sentiment::Neutral)), ai, said(None)];
        assert_eq!(SentimentTrend::of(&messages), SentimentTrend::Steady);
    }

    #[test]
    fn the_original_message_is_the_inquiry_text_with_its_classification() {
        let inquiry = InquiryBuilder::new().content("Is there parking?").build();
        let original = Message::original(&inquiry);
        assert_eq!((original.sequence, original.author, original.text.as_str()), (1, Author::Customer, "Is there parking?"));
        assert_eq!(original.channel, MessageChannel::Api);
        assert_eq!(original.id, Message::original(&inquiry).id, "the same id every time it is made");
    }

    #[test]
    fn a_follow_up_keeps_the_submission_rules_and_names_text() {
        let blank = FollowUp::parse(SubmitFollowUp { text: Some(" \u{200B} ".into()), language: None }).unwrap_err();
        assert_eq!(blank.0[0].field, "text");
        let long = FollowUp::parse(SubmitFollowUp { text: Some("가".repeat(10_001)), language: Some("fr".into()) }).unwrap_err();
        assert_eq!(long.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["text", "language"]);
        let ok = FollowUp::parse(SubmitFollowUp { text: Some(" 감사합니다 ".into()), language: Some("ko".into()) }).unwrap();
        assert_eq!((ok.text.as_str(), ok.language), ("감사합니다", Some(Language::Ko)));
    }

    #[test]
    fn the_same_key_makes_the_same_message_id() {
        let id = InquiryBuilder::new().build().id;
        let f = || FollowUp { text: "x".into(), language: None };
        let a = Message::follow_up(id, "k1", f(), MessageChannel::Api, at(1));
        let b = Message::follow_up(id, "k1", f(), MessageChannel::Api, at(9));
        let c = Message::follow_up(id, "k2", f(), MessageChannel::Api, at(1));
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn sentiment() -> impl Strategy<Value = Sentiment> {
            prop_oneof![Just(Sentiment::Positive), Just(Sentiment::Neutral), Just(Sentiment::Mixed), Just(Sentiment::Negative)]
        }

        fn mirror(s: Sentiment) -> Sentiment {
            match s {
                Sentiment::Positive => Sentiment::Negative,
                Sentiment::Negative => Sentiment::Positive,
                other => other,
            }
        }

        proptest! {
            /// A message colder than every earlier one always worsens the trend.
            #[test]
            fn a_message_colder_than_all_before_is_worsening(earlier in proptest::collection::vec(sentiment(), 1..12)) {
                prop_assume!(earlier.iter().all(|s| *s != Sentiment::Negative));
                let mut all = earlier.clone();
                all.push(Sentiment::Negative);
                prop_assert_eq!(trend(&all), SentimentTrend::Worsening);
            }

            /// The same tone throughout is steady, however long.
            #[test]
            fn one_tone_throughout_is_steady(s in sentiment(), n in 1usize..20) {
                prop_assert_eq!(trend(&vec![s; n]), SentimentTrend::Steady);
            }

            /// Positive and negative swapped (neutral kept) swaps improving and worsening.
            #[test]
            fn mirrored_moods_mirror_the_trend(moods in proptest::collection::vec(
                prop_oneof![Just(Sentiment::Positive), Just(Sentiment::Neutral), Just(Sentiment::Negative)], 0..12)) {
                let mirrored: Vec<_> = moods.iter().copied().map(mirror).collect();
                let expected = match trend(&moods) {
                    SentimentTrend::Improving => SentimentTrend::Worsening,
                    SentimentTrend::Worsening => SentimentTrend::Improving,
                    SentimentTrend::Steady => SentimentTrend::Steady,
                };
                prop_assert_eq!(trend(&mirrored), expected);
            }
        }
    }
}
