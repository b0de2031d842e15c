//! Character n-grams: what two phrasings of one question still share when
//! words are misspelt, run together or reordered ("체크인몇시에요",
//! "chek-in time"). Hangul gives syllable bigrams across spaces (spacing
//! is optional in chat), Latin gives the 3- and 4-grams of each word
//! padded with its edges, all read through [`fold`]. The vocabulary's
//! concepts a text names join its n-grams, so "조식" and "아침밥" share one.

use super::stem::is_hangul;
use super::words::words;
use std::collections::{BTreeSet, HashMap};
use switchboard_domain::text::fold;

/// The distinct n-grams of a text. Ordered: scores sum weights over it, and
/// a float sum in hash order differs in its last bits from run to run, so
/// the same question could fall either side of the answer level.
pub(crate) type Grams = BTreeSet<String>;

/// The share of the similarity taken by "how much of the phrasing the
/// inquiry has"; the rest is "how much of the inquiry the phrasing has"
/// (inquiries carry context no FAQ mentions, so it weighs less).
const PHRASING_SHARE: f32 = 0.7;

/// Latin n-gram lengths.
const LATIN: [usize; 2] = [3, 4];

/// The n-grams of a text.
pub(crate) fn of(text: &str) -> Grams {
    let folded = fold(text);
    let mut out = Grams::new();
    // Hangul: syllables in order, whatever spacing or punctuation sits
    // between them inside one sentence.
    let syllables: Vec<char> = folded.chars().filter(|c| is_hangul(*c)).collect();
    out.extend(syllables.windows(2).map(|pair| pair.iter().collect::<String>()));
    // Single syllables too: many nouns customers ask about have one
    // ("룸", "숯", "옷"), and idf keeps the common ones ("요") light.
    out.extend(syllables.iter().map(char::to_string));
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| w.len() >= 2) {
        let padded: Vec<char> = format!(" {word} ").chars().collect();
        for n in LATIN {
            out.extend(padded.windows(n).map(|w| w.iter().collect::<String>()));
        }
    }
    out.extend(words(text).into_iter().flat_map(|w| w.heads).filter(|h| h.starts_with('@')));
    out
}

/// How many entries have each n-gram, while an index is built.
#[derive(Default)]
pub(crate) struct Weights {
    df: HashMap<String, u32>,
    idf: HashMap<String, f32>,
    /// The weight of an n-gram no entry has: the rarest's.
    unseen: f32,
}

impl Weights {
    /// Counts one entry's n-grams (all its phrasings together).
    pub(crate) fn count(&mut self, grams: Grams) {
        for g in grams {
            *self.df.entry(g).or_insert(0) += 1;
        }
    }

    /// The idf of every counted n-gram, over `entries` entries.
    pub(crate) fn finish(mut self, entries: usize) -> Self {
        let n = entries as f32;
        let idf = |df: f32| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        self.idf = self.df.iter().map(|(g, &df)| (g.clone(), idf(df as f32))).collect();
        self.unseen = idf(1.0);
        self
    }

    fn weight(&self, gram: &str) -> f32 {
        self.idf.get(gram).copied().unwrap_or(self.unseen)
    }

    /// 0–1: the idf-weighted share of the phrasing's n-grams the query has,
    /// tempered by the share of the query's the phrasing has.
    pub(crate) fn similarity(&self, query: &Grams, phrasing: &Grams) -> f32 {
        let weigh = |grams: &mut dyn Iterator<Item = &String>| grams.map(|g| self.weight(g)).sum::<f32>();
        let shared = weigh(&mut phrasing.iter().filter(|g| query.contains(*g)));
        let (of_phrasing, of_query) = (weigh(&mut phrasing.iter()), weigh(&mut query.iter()));
        if shared <= 0.0 || of_phrasing <= 0.0 || of_query <= 0.0 {
            return 0.0;
        }
        ((shared / of_phrasing).powf(PHRASING_SHARE) * (shared / of_query).powf(1.0 - PHRASING_SHARE)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_bigrams_ignore_spacing() {
        assert_eq!(of("체크인 몇시"), of("체크인몇시"));
    }

    #[test]
    fn full_width_and_decomposed_text_give_the_plain_grams() {
        use unicode_normalization::UnicodeNormalization;
        assert_eq!(of("ＰＡＲＫＩＮＧ"), of("parking"));
        assert_eq!(of(&"조식".nfd().collect::<String>()), of("조식"));
    }

    #[test]
    fn a_misspelt_word_still_shares_most_of_its_grams() {
        let mut w = Weights::default();
        w.count(of("parking"));
        w.count(of("breakfast"));
        let w = w.finish(2);
        assert!(w.similarity(&of("parkng"), &of("parking")) > 0.3);
        assert_eq!(w.similarity(&of("parkng"), &of("breakfast")), 0.0);
    }
}
