//! A tenant's FAQ: entries with an answer and several ways customers ask
//! for it (question variants), per language.

use crate::classification::Language;
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

    /// Adds a phrasing unless the entry already has it (compared ignoring
    /// case and surrounding space); `true` if it was added.
    pub fn add_variant(&mut self, text: &str) -> bool {
        let text = text.trim();
        let known = self.questions().any(|q| q.trim().to_lowercase() == text.to_lowercase());
        if text.is_empty() || known {
            return false;
        }
        self.variants.push(text.to_owned());
        true
    }
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
}
