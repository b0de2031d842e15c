//! The bilingual vocabulary of service words (`corpus/vocabulary.tsv`):
//! concept groups such as 입실 / 체크인 / check-in, so that a customer's word
//! matches the FAQ's other word for the same thing.
//!
//! The file is the one place the groups are kept; it is compiled in, so a
//! running service never reads it from disk.

use super::stem::{is_hangul, korean_stem, stem};
use std::collections::HashMap;
use std::sync::LazyLock;
use switchboard_domain::text::fold;

/// The vocabulary file: `concept<TAB>word<TAB>word…` per line, `#` comments.
pub(crate) const SOURCE: &str = include_str!("../../../corpus/vocabulary.tsv");

/// The marker that makes a concept a term of its own, never equal to a word
/// of a text (the tokenizer never keeps it).
const CONCEPT_MARK: char = '@';

/// The parsed vocabulary: single words by their stem, and phrases.
pub(crate) struct Vocabulary {
    /// English stems and Korean stems → the concept term (`@breakfast`).
    words: HashMap<String, String>,
    /// Korean words of two syllables or more, found inside unspaced runs.
    korean: Vec<(String, String)>,
    /// Words with a space or a hyphen ("pick us up", "환불 규정"), folded,
    /// with their concept term.
    phrases: Vec<(String, String)>,
}

/// The groups of a vocabulary text, as `(concept, words)`, folded.
pub(crate) fn groups(source: &str) -> Vec<(String, Vec<String>)> {
    source
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let mut cols = line.split('\t').map(|c| fold(c.trim()));
            let concept = cols.next()?;
            Some((concept, cols.filter(|w| !w.is_empty()).collect()))
        })
        .collect()
}

/// The vocabulary of the repository's file, parsed once.
pub(crate) static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| Vocabulary::parse(SOURCE));

impl Vocabulary {
    fn parse(source: &str) -> Self {
        let mut words = HashMap::new();
        let mut korean = Vec::new();
        let mut phrases = Vec::new();
        for (concept, members) in groups(source) {
            let term = format!("{CONCEPT_MARK}{concept}");
            for word in members {
                if word.contains([' ', '-']) {
                    phrases.push((word, term.clone()));
                } else if word.chars().any(is_hangul) {
                    let stemmed = korean_stem(&word).to_owned();
                    if stemmed.chars().count() >= 2 {
                        korean.push((stemmed.clone(), term.clone()));
                    }
                    words.insert(stemmed, term.clone());
                } else {
                    words.insert(stem(&word), term.clone());
                }
            }
        }
        // Longest first, so "pick us up" wins over a shorter phrase inside it.
        phrases.sort_by_key(|(p, _)| std::cmp::Reverse(p.chars().count()));
        korean.sort_by_key(|(p, _)| std::cmp::Reverse(p.chars().count()));
        Self { words, korean, phrases }
    }

    /// The concept term of a stemmed word, if it belongs to a group.
    pub(crate) fn concept(&self, stemmed: &str) -> Option<&str> {
        self.words.get(stemmed).map(String::as_str)
    }

    /// Concepts named by a word glued inside a longer Korean run
    /// ("체크인몇시에" names 체크인), other than the run's own stem.
    pub(crate) fn inside<'a>(&'a self, run: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.korean.iter().filter(move |(w, _)| w != run && run.contains(w.as_str())).map(|(_, c)| c.as_str())
    }

    /// The phrases in a folded text, each with its concept.
    pub(crate) fn phrase_matches<'a>(&'a self, folded: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.phrases.iter().filter(move |(p, _)| contains_phrase(folded, p)).map(|(p, c)| (p.as_str(), c.as_str()))
    }
}

/// Whether `text` has `phrase` starting and ending at word boundaries
/// ("pick up" in "can you pick up us", not in "pick upholstery").
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let latin_edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        let starts_latin = phrase.starts_with(|c: char| c.is_ascii_alphanumeric());
        let ends_latin = phrase.ends_with(|c: char| c.is_ascii_alphanumeric());
        (!starts_latin || latin_edge(before)) && (!ends_latin || latin_edge(after))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every inquiry of the labelled corpus, folded.
    fn corpus() -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/inquiries");
        let mut text = String::new();
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                files += 1;
                for line in std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.trim().is_empty()) {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    for field in ["title", "content"] {
                        if let Some(s) = v[field].as_str() {
                            text.push_str(&fold(s));
                            text.push('\n');
                        }
                    }
                }
            }
        }
        assert!(files > 0, "no corpus in {}", dir.display());
        text
    }

    #[test]
    fn every_vocabulary_word_occurs_in_the_labelled_corpus() {
        let corpus = corpus();
        let missing: Vec<String> =
            groups(SOURCE).into_iter().flat_map(|(_, words)| words).filter(|w| !corpus.contains(w.as_str())).collect();
        assert!(missing.is_empty(), "vocabulary words no inquiry uses: {missing:?}");
    }

    #[test]
    fn every_group_is_named_once_and_joins_at_least_two_words() {
        let mut seen = HashSet::new();
        for (concept, words) in groups(SOURCE) {
            assert!(seen.insert(concept.clone()), "{concept} twice");
            assert!(words.len() >= 2, "{concept} joins nothing");
            assert!(concept.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{concept}");
        }
    }

    #[test]
    fn korean_and_english_words_of_a_group_name_the_same_concept() {
        let v = &*VOCABULARY;
        assert_eq!(v.concept("체크인"), v.concept("입실"));
        assert_eq!(v.concept(&stem("breakfast")), v.concept("조식"));
        assert!(v.concept("조식").is_some());
        assert_eq!(v.phrase_matches("can you pick us up at the station").next().map(|(_, c)| c), v.concept("픽업"));
        assert_eq!(v.phrase_matches("환불 규정 알려주세요").next(), Some(("환불 규정", "@refund_policy")));
        assert_eq!(v.inside("체크인몇시").next(), v.concept("체크인"));
    }

    #[test]
    fn a_phrase_matches_only_at_word_boundaries() {
        assert!(contains_phrase("can you pick up us", "pick up"));
        assert!(!contains_phrase("to pick upholstery", "pick up"));
        assert!(contains_phrase("환불 규정이 궁금", "환불 규정"));
    }
}
