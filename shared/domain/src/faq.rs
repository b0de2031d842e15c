//! A tenant's FAQ: entries with an answer and several ways customers ask
//! for it (question variants), per language.

use crate::classification::Language;
use crate::field_error::{FieldError, ValidationErrors};
use crate::text::{fold, normalize};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// An FAQ entry's identifier: `faq-` and 12 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FaqEntryId(String);

/// Why an FAQ entry id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must look like faq-0123456789ab ('faq-' and 12 lowercase hex digits)")]
pub struct InvalidFaqEntryId;

impl FaqEntryId {
    const PREFIX: &'static str = "faq-";
    const HEX_DIGITS: usize = 12;

    /// Parses an id in canonical form.
    pub fn parse(s: &str) -> Result<Self, InvalidFaqEntryId> {
        let hex = s.strip_prefix(Self::PREFIX).ok_or(InvalidFaqEntryId)?;
        let ok = hex.len() == Self::HEX_DIGITS && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidFaqEntryId) }
    }

    /// A fresh random id, for an entry created now.
    pub fn generate() -> Self {
        Self::from_bytes(uuid::Uuid::new_v4().as_bytes())
    }

    /// The id an entry stored before ids existed gets: derived from its
    /// language and question, so every reader derives the same one.
    pub fn derive(language: Language, question: &str) -> Self {
        let digest = Sha256::digest(format!("{}\n{}", language.as_str(), question.trim()).as_bytes());
        Self::from_bytes(&digest)
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let hex = crate::tenant::hex(bytes);
        Self(format!("{}{}", Self::PREFIX, &hex[..Self::HEX_DIGITS]))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FaqEntryId {
    type Error = InvalidFaqEntryId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FaqEntryId> for String {
    fn from(value: FaqEntryId) -> Self {
        value.0
    }
}

impl fmt::Display for FaqEntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of a tenant's FAQ: the answer, the question it was written
/// for, and other ways customers ask it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredFaqEntry")]
pub struct FaqEntry {
    /// The entry's id, stable across edits.
    pub id: FaqEntryId,
    /// The language of the entry (its questions and its answer).
    pub language: Language,
    /// The question, as the tenant wrote it.
    pub question: String,
    /// Other phrasings of the question (paraphrases, questions operators
    /// linked to this entry), in the entry's language.
    #[serde(default)]
    pub variants: Vec<String>,
    /// Its answer.
    pub answer: String,
}

/// An entry as stored: entries written before ids existed have none.
#[derive(Deserialize)]
struct StoredFaqEntry {
    id: Option<FaqEntryId>,
    language: Language,
    question: String,
    #[serde(default)]
    variants: Vec<String>,
    answer: String,
}

impl From<StoredFaqEntry> for FaqEntry {
    fn from(s: StoredFaqEntry) -> Self {
        let id = s.id.unwrap_or_else(|| FaqEntryId::derive(s.language, &s.question));
        Self { id, language: s.language, question: s.question, variants: s.variants, answer: s.answer }
    }
}

impl FaqEntry {
    /// A new entry with a fresh id and no variants.
    pub fn new(language: Language, question: impl Into<String>, answer: impl Into<String>) -> Self {
        Self { id: FaqEntryId::generate(), language, question: question.into(), variants: Vec::new(), answer: answer.into() }
    }

    /// The question and then every variant.
    pub fn questions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.variants.iter().map(String::as_str))
    }

    /// Whether the question or a variant is `text` ([`same_phrasing`]).
    pub fn has_phrasing(&self, text: &str) -> bool {
        self.questions().any(|q| same_phrasing(q, text))
    }

    /// Adds a phrasing unless the entry already has it ([`same_phrasing`]);
    /// `true` if it was added. Unchecked: input from clients goes through
    /// [`FaqEntry::push_variant`].
    pub fn add_variant(&mut self, text: &str) -> bool {
        let text = text.trim();
        if text.is_empty() || self.has_phrasing(text) {
            return false;
        }
        self.variants.push(text.to_owned());
        true
    }
}

/// Whether two phrasings are the same question: equal once [`fold`]ed
/// (case, width, composed or decomposed Hangul) and trimmed.
pub fn same_phrasing(a: &str, b: &str) -> bool {
    fold(a.trim()) == fold(b.trim())
}

/// Longest question or variant, in characters: a question, not a page.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 4000;
/// Most variants one entry keeps.
pub const MAX_VARIANTS: usize = 20;
/// Most entries one tenant's FAQ holds (both languages together).
pub const MAX_ENTRIES: usize = 200;

/// A tenant's new or edited FAQ entry as a client sends it; [`FaqEntryInput::parse`]
/// is the one place its text is checked and normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FaqEntryInput {
    /// `ko` or `en`; required for a new entry, ignored on edits.
    #[serde(default)]
    pub language: Option<String>,
    /// The question; required for a new entry.
    #[serde(default)]
    pub question: Option<String>,
    /// The answer; required for a new entry.
    #[serde(default)]
    pub answer: Option<String>,
    /// Other phrasings; on an edit they replace the entry's.
    #[serde(default)]
    pub variants: Option<Vec<String>>,
}

/// A checked change to an entry: every present field valid and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqEntryChange {
    /// The language (used for new entries only).
    pub language: Option<Language>,
    /// The new question, trimmed and normalised.
    pub question: Option<String>,
    /// The new answer, trimmed and normalised.
    pub answer: Option<String>,
    /// The new variants, without duplicates.
    pub variants: Option<Vec<String>>,
}

impl FaqEntryInput {
    /// Checks a new entry: language, question and answer required.
    pub fn parse_new(&self) -> Result<FaqEntry, ValidationErrors> {
        let mut errors = Vec::new();
        for (field, missing) in
            [("language", self.language.is_none()), ("question", self.question.is_none()), ("answer", self.answer.is_none())]
        {
            if missing {
                errors.push(FieldError::new(field, "is required"));
            }
        }
        let change = self.parse_change();
        if let Err(e) = &change {
            errors.extend(e.0.iter().cloned());
        }
        if !errors.is_empty() {
            // In the fields' order, whichever check found them.
            let order = |f: &FieldError| ["language", "question", "answer"].iter().position(|n| *n == f.field).unwrap_or(3);
            errors.sort_by_key(order);
            return Err(ValidationErrors(errors));
        }
        let change = change?;
        let (Some(language), Some(question), Some(answer)) = (change.language, change.question, change.answer) else {
            return Err(ValidationErrors::single("question", "is required"));
        };
        let mut entry = FaqEntry::new(language, question, answer);
        entry.variants = change.variants.unwrap_or_default();
        Ok(entry)
    }

    /// Checks an edit: every field optional, each present one valid.
    pub fn parse_change(&self) -> Result<FaqEntryChange, ValidationErrors> {
        let mut errors = Vec::new();
        let language = self.language.as_deref().and_then(|l| match l.trim() {
            "ko" => Some(Language::Ko),
            "en" => Some(Language::En),
            _ => {
                errors.push(FieldError::new("language", "must be ko or en"));
                None
            }
        });
        let question = self.question.as_deref().and_then(|q| text("question", q, MAX_QUESTION_CHARS, &mut errors));
        let answer = self.answer.as_deref().and_then(|a| text("answer", a, MAX_ANSWER_CHARS, &mut errors));
        let variants = self.variants.as_ref().map(|vs| {
            if vs.len() > MAX_VARIANTS {
                errors.push(FieldError::new("variants", format!("must have at most {MAX_VARIANTS} entries")));
            }
            let mut out: Vec<String> = Vec::new();
            for (n, v) in vs.iter().enumerate() {
                if let Some(v) = text(&format!("variants[{n}]"), v, MAX_QUESTION_CHARS, &mut errors)
                    && !out.iter().any(|o| same_phrasing(o, &v))
                {
                    out.push(v);
                }
            }
            out
        });
        if errors.is_empty() { Ok(FaqEntryChange { language, question, answer, variants }) } else { Err(ValidationErrors(errors)) }
    }
}

/// One variant as a client sends it.
pub fn parse_variant(text_in: &str) -> Result<String, ValidationErrors> {
    let mut errors = Vec::new();
    text("variant", text_in, MAX_QUESTION_CHARS, &mut errors).ok_or(ValidationErrors(errors))
}

/// The normalised, trimmed text, or an error naming `field`.
fn text(field: &str, raw: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let clean = normalize(raw).trim().to_owned();
    if clean.is_empty() {
        errors.push(FieldError::new(field, "must not be blank"));
        None
    } else if clean.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        None
    } else {
        Some(clean)
    }
}

/// Why an FAQ could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaqEditError {
    /// No entry has this id.
    #[error("no FAQ entry {0}")]
    NotFound(FaqEntryId),
    /// The change is not valid.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}

impl FaqEntry {
    /// Applies a checked change (the language of an entry never changes).
    pub fn apply(&mut self, change: FaqEntryChange) {
        if let Some(q) = change.question {
            self.question = q;
        }
        if let Some(a) = change.answer {
            self.answer = a;
        }
        if let Some(vs) = change.variants {
            self.variants.clear();
            for v in vs {
                self.add_variant(&v);
            }
        }
    }

    /// Adds a checked variant; `false` when the entry already has it (so a
    /// retry succeeds even on a full entry), an error when it is new and
    /// the entry has [`MAX_VARIANTS`].
    pub fn push_variant(&mut self, variant: &str) -> Result<bool, ValidationErrors> {
        let variant = parse_variant(variant)?;
        if self.has_phrasing(&variant) {
            return Ok(false);
        }
        if self.variants.len() >= MAX_VARIANTS {
            return Err(ValidationErrors::single("variant", format!("an entry has at most {MAX_VARIANTS} variants")));
        }
        Ok(self.add_variant(&variant))
    }

    /// Removes the variant at `index`; `false` when there is none.
    pub fn remove_variant(&mut self, index: usize) -> bool {
        if index < self.variants.len() {
            self.variants.remove(index);
            true
        } else {
            false
        }
    }
}

/// Adds `entry` to an FAQ unless it is full.
pub fn add_entry(faq: &mut Vec<FaqEntry>, entry: FaqEntry) -> Result<(), ValidationErrors> {
    if faq.len() >= MAX_ENTRIES {
        return Err(ValidationErrors::single("faq", format!("a tenant has at most {MAX_ENTRIES} FAQ entries")));
    }
    faq.push(entry);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_stored_without_an_id_gets_one_derived_from_its_question() {
        let json = r#"{"language":"en","question":"Is there parking?","answer":"Yes."}"#;
        let a: FaqEntry = serde_json::from_str(json).unwrap();
        let b: FaqEntry = serde_json::from_str(json).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.id, FaqEntryId::derive(Language::En, "Is there parking?"));
        assert!(a.variants.is_empty());
    }

    #[test]
    fn ids_round_trip_and_reject_other_shapes() {
        let id = FaqEntryId::generate();
        assert_eq!(FaqEntryId::parse(id.as_str()), Ok(id));
        for bad in ["", "faq-", "faq-0123456789AB", "faq-0123456789abc", "x-0123456789ab"] {
            assert!(FaqEntryId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_variant_already_known_is_not_added_twice() {
        let mut e = FaqEntry::new(Language::Ko, "체크인 시간은?", "오후 3시입니다.");
        assert!(e.add_variant("몇시부터 입실 가능한가요?"));
        assert!(!e.add_variant("  몇시부터 입실 가능한가요? "));
        assert!(!e.add_variant("체크인 시간은?"));
        assert_eq!(e.questions().count(), 2);
    }

    #[test]
    fn phrasings_differing_only_in_width_or_hangul_composition_are_the_same() {
        use unicode_normalization::UnicodeNormalization;
        let mut e = FaqEntry::new(Language::En, "Is there parking?", "Yes.");
        assert!(!e.add_variant("ＩＳ ＴＨＥＲＥ ＰＡＲＫＩＮＧ?"));
        let mut k = FaqEntry::new(Language::Ko, "주차 되나요?", "네.");
        assert!(!k.add_variant(&"주차 되나요?".nfd().collect::<String>()));
        assert!(e.add_variant("Where do we park?"));
    }

    fn input(language: Option<&str>, question: Option<&str>, answer: Option<&str>, variants: Option<Vec<&str>>) -> FaqEntryInput {
        FaqEntryInput {
            language: language.map(str::to_owned),
            question: question.map(str::to_owned),
            answer: answer.map(str::to_owned),
            variants: variants.map(|vs| vs.into_iter().map(str::to_owned).collect()),
        }
    }

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_new_entry_needs_a_language_a_question_and_an_answer() {
        let err = input(None, None, None, None).parse_new().unwrap_err();
        assert_eq!(fields(err), ["language", "question", "answer"]);
        let err = input(Some("fr"), Some("  "), Some("ok"), None).parse_new().unwrap_err();
        assert_eq!(fields(err), ["language", "question"]);
    }

    #[test]
    fn text_is_trimmed_and_normalised_and_duplicate_variants_dropped() {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "체크인 시간은?".nfd().collect();
        let e = input(Some("ko"), Some(&format!("  {nfd} ")), Some("오후 3시"), Some(vec!["입실\u{200B} 시간", "입실 시간"]))
            .parse_new()
            .unwrap();
        assert_eq!(e.question, "체크인 시간은?");
        assert_eq!(e.variants, ["입실 시간"]);
        assert_eq!(e.language, Language::Ko);
    }

    #[test]
    fn limits_are_reported_with_the_field() {
        let long = "a".repeat(MAX_QUESTION_CHARS + 1);
        let too_many: Vec<&str> = (0..=MAX_VARIANTS).map(|_| "x").collect();
        let err = input(None, Some(&long), None, Some(too_many)).parse_change().unwrap_err();
        assert_eq!(fields(err), ["question", "variants"]);
        let err = input(None, None, None, Some(vec!["ok", " "])).parse_change().unwrap_err();
        assert_eq!(fields(err), ["variants[1]"]);
    }

    #[test]
    fn an_entry_keeps_at_most_the_variant_limit_and_a_faq_the_entry_limit() {
        let mut e = FaqEntry::new(Language::En, "Parking?", "Yes.");
        for n in 0..MAX_VARIANTS {
            assert_eq!(e.push_variant(&format!("parking {n}")), Ok(true));
        }
        assert_eq!(fields(e.push_variant("one more").unwrap_err()), ["variant"]);
        assert_eq!(e.push_variant("PARKING 3"), Ok(false), "a phrasing it has is no addition, full or not");
        assert!(e.remove_variant(0) && !e.remove_variant(MAX_VARIANTS));
        let mut faq: Vec<FaqEntry> = (0..MAX_ENTRIES).map(|n| FaqEntry::new(Language::En, format!("q{n}"), "a")).collect();
        assert_eq!(fields(add_entry(&mut faq, FaqEntry::new(Language::En, "q", "a")).unwrap_err()), ["faq"]);
    }
}
