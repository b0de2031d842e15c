//! What the classifier decides about an inquiry.

use crate::reservation::ReservationNumber;
use serde::{Deserialize, Serialize};

/// Languages Switchboard answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Korean.
    Ko,
    /// English.
    En,
}

impl Language {
    /// Reads a language code or name (`ko`, `en-US`, `english`…), ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ko" | "ko-kr" | "kor" | "korean" => Some(Self::Ko),
            "en" | "en-us" | "en-gb" | "eng" | "english" => Some(Self::En),
            _ => None,
        }
    }

    /// The ISO 639-1 code: `ko` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ko => "ko",
            Self::En => "en",
        }
    }

    /// Korean when Hangul makes up a fair share of the letters; otherwise English.
    /// Mixed messages ("Room decoration 추가 요청") are Korean customers writing.
    pub fn detect(text: &str) -> Self {
        let (mut hangul, mut latin) = (0usize, 0usize);
        for c in text.chars() {
            if ('\u{AC00}'..='\u{D7A3}').contains(&c) || ('\u{1100}'..='\u{11FF}').contains(&c) || ('\u{3130}'..='\u{318F}').contains(&c) {
                hangul += 1;
            } else if c.is_ascii_alphabetic() {
                latin += 1;
            }
        }
        // A Hangul syllable carries roughly three Latin letters' worth of text.
        if hangul * 3 >= latin / 2 && hangul > 0 { Self::Ko } else { Self::En }
    }
}

/// What the customer wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Change the date, time or details of a reservation.
    ReservationChange,
    /// Something is broken or went wrong.
    TroubleReport,
    /// Add something to a reservation (decoration, breakfast…).
    AddonRequest,
    /// A question the FAQ or a general answer can settle.
    GeneralQuestion,
    /// The customer is unhappy with the service.
    Complaint,
    /// The customer wants money back.
    Refund,
}

impl Intent {
    /// Every intent.
    pub const ALL: [Intent; 6] =
        [Self::ReservationChange, Self::TroubleReport, Self::AddonRequest, Self::GeneralQuestion, Self::Complaint, Self::Refund];

    /// The wire name, e.g. `reservation_change`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReservationChange => "reservation_change",
            Self::TroubleReport => "trouble_report",
            Self::AddonRequest => "addon_request",
            Self::GeneralQuestion => "general_question",
            Self::Complaint => "complaint",
            Self::Refund => "refund",
        }
    }

    /// The intent with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// Intents whose fulfilment depends on the partner who runs the reservation.
    pub fn involves_partner(self) -> bool {
        matches!(self, Self::ReservationChange | Self::TroubleReport | Self::AddonRequest)
    }
}

/// How soon a human would need to act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Can wait.
    Low,
    /// Should be handled soon.
    Medium,
    /// Needs a human now.
    High,
}

impl Urgency {
    /// The wire name: `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// The urgency with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

/// Overall tone, in Comprehend's four classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Sentiment {
    /// Mostly positive.
    Positive,
    /// Mostly negative.
    Negative,
    /// Neither.
    Neutral,
    /// Both positive and negative.
    Mixed,
}

impl Sentiment {
    /// The wire name, in Comprehend's upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "POSITIVE",
            Self::Negative => "NEGATIVE",
            Self::Neutral => "NEUTRAL",
            Self::Mixed => "MIXED",
        }
    }
}

/// Which text of an inquiry a [`PiiSpan`] points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextField {
    /// The inquiry's title.
    Title,
    /// The inquiry's content.
    Content,
}

/// Where personal data (a name, phone number, e-mail address, card number…)
/// sits in an inquiry: its kind and byte range, never the data itself. The
/// spans are kept with the classification so that anything derived from the
/// text (key phrases, log lines, traces) can be masked with them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PiiSpan {
    /// The text the span is in.
    pub field: TextField,
    /// The detector's type, e.g. `PHONE`, `EMAIL`, `NAME` (Comprehend's names).
    pub kind: String,
    /// Byte offsets into the field, on character boundaries, end exclusive.
    pub start: usize,
    /// Byte offset one past the span.
    pub end: usize,
}

/// The classifier's verdict on one inquiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The language the inquiry is written in.
    pub language: Language,
    /// What the customer wants.
    pub intent: Intent,
    /// How soon a human would need to act.
    pub urgency: Urgency,
    /// The overall tone.
    pub sentiment: Sentiment,
    /// The reservation the inquiry names, if any.
    pub reservation_number: Option<ReservationNumber>,
    /// Short phrases that sum the inquiry up.
    #[serde(default)]
    pub key_phrases: Vec<String>,
    /// Personal data found in the title and content (positions only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pii: Vec<PiiSpan>,
    /// Which engine produced this (e.g. `local-rules`, `comprehend`).
    pub engine: String,
    /// How sure the engine is of each field, when it can tell (a trained
    /// model's calibrated probabilities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certainty: Option<Certainty>,
    /// Set when the verdict must not be acted on: the engine is unsure, or
    /// two engines disagree and neither is sure. Says why, without content.
    /// A person decides instead (escalation reason [`UNSURE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsure: Option<String>,
}

/// The escalation reason of an inquiry whose verdict was unsure.
pub const UNSURE: &str = "unsure";

/// Calibrated probabilities (0–1) of the chosen value of each field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Certainty {
    /// Of the intent.
    pub intent: f32,
    /// Of the urgency.
    pub urgency: f32,
    /// Of the sentiment.
    pub sentiment: f32,
}

impl Classification {
    /// A partner must confirm exactly when the intent involves one and there
    /// is a reservation to ask about.
    pub fn needs_partner(&self) -> bool {
        self.intent.involves_partner() && self.reservation_number.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_text_is_korean_and_latin_text_is_english() {
        assert_eq!(Language::detect("예약 변경하고 싶어요"), Language::Ko);
        assert_eq!(Language::detect("I want to change my booking"), Language::En);
        assert_eq!(Language::detect("Room decoration 추가 요청 부탁드려요"), Language::Ko);
        assert_eq!(Language::detect("12345"), Language::En);
    }

    #[test]
    fn partner_is_needed_only_for_partner_intents_with_a_reservation() {
        let mut c = Classification {
            language: Language::En,
            intent: Intent::ReservationChange,
            urgency: Urgency::Medium,
            sentiment: Sentiment::Neutral,
            reservation_number: ReservationNumber::parse("HT-20481123").ok(),
            key_phrases: vec![],
            pii: vec![],
            engine: "test".into(),
            certainty: None,
            unsure: None,
        };
        assert!(c.needs_partner());
        c.intent = Intent::Refund;
        assert!(!c.needs_partner());
        c.intent = Intent::TroubleReport;
        c.reservation_number = None;
        assert!(!c.needs_partner());
    }
}
