//! Misspelt English words ("brekfast", "cancelation", "privte tour") read
//! as the FAQ's word they are one edit away from. Chat questions are typed
//! fast; the n-grams only partly rescue a misspelt word, and a word the
//! entries lack counts against them.

use super::vocabulary::VOCABULARY;
use super::words::Word;
use std::collections::HashSet;

/// The shortest word corrected: shorter words are too often another word
/// one edit away ("cars", "bars").
const MIN_LETTERS: usize = 5;

/// The shortest word corrected when its letters are the known word's with
/// two neighbours swapped ("tiem" for "time"): a slip of typing, seldom
/// another word.
const MIN_SWAPPED_LETTERS: usize = 4;

/// The English stems of one index's entries, the words a query's
/// misspelling may be read as.
#[derive(Default)]
pub(crate) struct Spelling {
    known: HashSet<String>,
}

impl Spelling {
    /// The known words among an index's terms (Latin stems long enough to
    /// be corrected to).
    pub(crate) fn of<'t>(terms: impl IntoIterator<Item = &'t String>) -> Self {
        let known = terms.into_iter().filter(|t| correctable(t)).cloned().collect();
        Self { known }
    }

    /// The words with each unknown English word replaced by the one known
    /// word one edit (an insertion, a deletion, a substitution or a swap of
    /// neighbours) away, when exactly one is: two candidates are a guess.
    pub(crate) fn correct(&self, words: Vec<Word>) -> Vec<Word> {
        words.into_iter().map(|word| self.corrected(&word).unwrap_or(word)).collect()
    }

    fn corrected(&self, word: &Word) -> Option<Word> {
        let [stem] = &word.heads[..] else { return None };
        if !correctable(stem) || self.known.contains(stem) {
            return None;
        }
        let short = stem.len() < MIN_LETTERS;
        let mut near = self.known.iter().filter(|k| if short { swapped(stem, k) } else { strsim::damerau_levenshtein(stem, k) == 1 });
        let known = near.next()?;
        if near.next().is_some() {
            return None;
        }
        let concept = VOCABULARY.concept(known).map(str::to_owned);
        Some(Word::new(concept.into_iter().chain([known.clone()]).collect(), Vec::new()))
    }
}

fn correctable(term: &str) -> bool {
    term.len() >= MIN_SWAPPED_LETTERS && term.bytes().all(|b| b.is_ascii_lowercase())
}

/// Whether `a` is `b` with two neighbouring letters swapped.
fn swapped(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let differ: Vec<usize> = (0..a.len()).filter(|&i| a.get(i) != b.get(i)).collect();
    a.len() == b.len() && matches!(differ[..], [i, j] if j == i + 1 && a[i] == b[j] && a[j] == b[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::faq::words::words;

    fn spelling(text: &str) -> Spelling {
        let words = words(text);
        Spelling::of(words.iter().flat_map(Word::terms))
    }

    #[test]
    fn a_word_one_edit_from_a_known_word_reads_as_it() {
        let known = spelling("Is breakfast included? What is the cancellation policy?");
        let read = known.correct(words("brekfast?"));
        assert_eq!(read, words("breakfast"));
        let read = known.correct(words("cancelation"));
        assert_eq!(read, words("cancellation"));
    }

    #[test]
    fn known_words_short_words_and_ambiguous_ones_are_left_alone() {
        let known = spelling("Do you rent cars? Are there parks and ports?");
        assert_eq!(known.correct(words("cars")), words("cars"), "known");
        assert_eq!(known.correct(words("bars")), words("bars"), "too short to correct");
        let known = spelling("the tower and the power");
        assert_eq!(known.correct(words("lower")), words("lower"), "one edit from two known words");
    }

    #[test]
    fn a_four_letter_word_is_corrected_only_for_swapped_neighbours() {
        let known = spelling("What time is check-in? Do you have a pool?");
        assert_eq!(known.correct(words("tiem")), words("time"));
        assert_eq!(known.correct(words("tile")), words("tile"), "another letter is another word");
        assert_eq!(known.correct(words("poll")), words("poll"));
    }
}
