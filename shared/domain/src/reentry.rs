//! How a customer's follow-up re-enters the pipeline: what the pipeline
//! reads from it ([`FollowUpRound`]), what it does with it ([`judge`]), and
//! the words it closes a conversation with.

use crate::classification::{Classification, Language, Sentiment, Urgency};
use crate::message::SentimentTrend;
use serde::{Deserialize, Serialize};

/// Escalation reason: the customer's mood worsens across the conversation.
pub const WORSENING_SENTIMENT: &str = "worsening_sentiment";
/// Resolution reason: the customer said the answer settled it ("thanks").
pub const CUSTOMER_CLOSED: &str = "customer_closed";
/// Resolution reason: the customer did not reply to the answer in time.
pub const NO_REPLY: &str = "no_reply";
/// Escalation reason: a follow-up asks to change a reservation, which the
/// partner flow does not take up after an answer; a person does.
pub const PARTNER_FOLLOW_UP: &str = "a reservation change in a follow-up goes to a person";

/// The follow-up an inquiry is (or was last) reopened for: the responder
/// answers its text with its classification, and every event and reply of
/// the round is keyed by its sequence, so a second answer is not taken for
/// a redelivery of the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpRound {
    /// The follow-up's place in the conversation.
    pub sequence: u32,
    /// What the customer wrote.
    pub text: String,
    /// The classifier's verdict on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
}

/// What a follow-up to an answered (or resolved) inquiry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The customer is done ("thanks", "that solved it"): `resolved`.
    Close,
    /// Anger is rising: a person takes over, with this reason.
    Escalate(&'static str),
    /// Something new: through the pipeline again (`reopened → classified → …`).
    Reopen,
}

/// Decides what a follow-up does, from its text, its classification and
/// the trend of the conversation up to it. Anger wins over thanks ("thanks
/// for nothing").
pub fn judge(text: &str, classification: Option<&Classification>, trend: SentimentTrend) -> Verdict {
    if rising_anger(classification, trend) {
        return Verdict::Escalate(WORSENING_SENTIMENT);
    }
    if is_closing(text) && !classification.is_some_and(|c| matches!(c.sentiment, Sentiment::Negative | Sentiment::Mixed)) {
        return Verdict::Close;
    }
    Verdict::Reopen
}

/// Rising anger: the conversation's mood is worsening, or the follow-up
/// itself is negative and urgent.
pub fn rising_anger(classification: Option<&Classification>, trend: SentimentTrend) -> bool {
    trend == SentimentTrend::Worsening || classification.is_some_and(|c| c.sentiment == Sentiment::Negative && c.urgency == Urgency::High)
}

/// Phrases that close a conversation, lower case.
const CLOSING: &[&str] = &[
    "thanks",
    "thank you",
    "thx",
    "that solved it",
    "that helped",
    "that helps",
    "problem solved",
    "all good",
    "감사합니다",
    "감사해요",
    "고맙습니다",
    "고마워요",
    "해결됐어요",
    "해결되었어요",
    "해결됐습니다",
    "해결되었습니다",
];

/// Phrases that turn a closing phrase around ("not solved", "no thanks").
const NEGATIONS: &[&str] = &["not ", "n't", "no thanks", "안 ", "않", "못 "];

/// Longest text read as a closing remark: a longer one says more than thanks.
const CLOSING_MAX_CHARS: usize = 80;

/// Whether `text` closes the conversation: a short remark with a closing
/// phrase, no question and no negation.
pub fn is_closing(text: &str) -> bool {
    let folded = text.trim().to_lowercase();
    if folded.chars().count() > CLOSING_MAX_CHARS || folded.contains('?') {
        return false;
    }
    CLOSING.iter().any(|p| folded.contains(p)) && !NEGATIONS.iter().any(|n| folded.contains(n))
}

/// What the customer is told when the conversation closes for `reason`
/// ([`CUSTOMER_CLOSED`] or [`NO_REPLY`]).
pub fn closing_message(language: Language, reason: &str) -> String {
    match (language, reason == NO_REPLY) {
        (Language::Ko, false) => "도움이 되어 기쁩니다. 문의를 종료합니다. 다른 문의가 있으시면 언제든 답장해 주세요.".into(),
        (Language::Ko, true) => "답변 후 회신이 없어 문의를 종료합니다. 더 궁금하신 점이 있으면 언제든 답장해 주세요.".into(),
        (Language::En, false) => "Glad we could help. We have closed your inquiry; reply any time if you need anything else.".into(),
        (Language::En, true) => "We have closed your inquiry as we did not hear back. Reply any time if you still need help.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Intent;

    fn classified(sentiment: Sentiment, urgency: Urgency) -> Classification {
        Classification { urgency, sentiment, ..crate::fixtures::classification(Language::En, Intent::GeneralQuestion) }
    }

    #[test]
    fn thanks_and_that_solved_it_close_in_both_languages() {
        for text in ["Thanks!", "thank you, that solved it", "감사합니다", "해결됐어요 ^^", "That solved it."] {
            assert!(is_closing(text), "{text}");
        }
    }

    #[test]
    fn a_question_a_negation_or_a_long_message_is_not_closing() {
        for text in [
            "Thanks, but is there parking?",
            "It is not solved, thanks",
            "No thanks",
            "해결이 안 됐어요",
            "Thanks. The breakfast was fine but I also wanted to ask you about the shuttle bus times tomorrow morning please",
        ] {
            assert!(!is_closing(text), "{text}");
        }
    }

    #[test]
    fn anger_wins_over_thanks() {
        let angry = classified(Sentiment::Negative, Urgency::High);
        assert_eq!(judge("thanks for nothing", Some(&angry), SentimentTrend::Steady), Verdict::Escalate(WORSENING_SENTIMENT));
        let calm = classified(Sentiment::Positive, Urgency::Low);
        assert_eq!(judge("thanks", Some(&calm), SentimentTrend::Worsening), Verdict::Escalate(WORSENING_SENTIMENT));
        let sour = classified(Sentiment::Negative, Urgency::Low);
        assert_eq!(judge("thanks", Some(&sour), SentimentTrend::Steady), Verdict::Reopen);
    }

    #[test]
    fn thanks_close_and_a_new_question_reopens() {
        let calm = classified(Sentiment::Positive, Urgency::Low);
        assert_eq!(judge("Thanks!", Some(&calm), SentimentTrend::Improving), Verdict::Close);
        assert_eq!(judge("Is there parking?", Some(&calm), SentimentTrend::Steady), Verdict::Reopen);
        assert_eq!(judge("감사합니다", None, SentimentTrend::Steady), Verdict::Close);
    }
}
