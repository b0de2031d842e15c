//! Fingerprints of texts the corpus must never contain, without the texts.
//!
//! The evaluation set stays outside the repository, yet a test must prove
//! that no corpus line was taken from it. So the repository keeps only a
//! one-way fingerprint of each evaluation inquiry
//! (`shared/ai/corpus/eval.fingerprints`): hashes of its sentences, which
//! catch a copied sentence, and a MinHash signature of its character
//! trigrams, which estimates the Jaccard similarity of the whole text and
//! so catches a lightly edited copy.
//!
//! Regenerate the file with
//! `cargo run -p switchboard-ai --example eval_fingerprints -- EVAL.jsonl`.

use super::corpus::trigrams;
use std::hash::Hasher;
use switchboard_domain::text::fold;

/// Values in a MinHash signature. The estimate's standard error is at most
/// `0.5 / sqrt(MINHASHES)` (0.0625 here), well inside the margin between
/// [`COPIED`] and the similarity of two unrelated inquiries.
pub const MINHASHES: usize = 64;

/// Estimated trigram Jaccard similarity at or above which a corpus text is
/// taken to be a copy of an evaluation text. Lower than the corpus's own
/// near-duplicate bar because the estimate is noisy and a copy from the
/// evaluation set costs more than a missed paraphrase.
pub const COPIED: f64 = 0.7;

/// Sentences shorter than this are not fingerprinted: "환불이요" or "sorry
/// for the short notice" may be written independently by anyone. Counted
/// in characters without whitespace, a Hangul syllable as two (it carries
/// about as much as two Latin letters).
pub const MIN_SENTENCE_WEIGHT: usize = 24;

/// One text's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hashes of the text's sentences (folded, whitespace removed), sorted.
    pub sentences: Vec<u64>,
    /// The MinHash signature of the text's character trigrams.
    pub minhash: Vec<u32>,
}

/// A fingerprint file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("fingerprint line {line}: {reason}")]
pub struct FingerprintError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl Fingerprint {
    /// The fingerprint of `text`.
    pub fn of(text: &str) -> Self {
        let mut sentences: Vec<u64> = sentences(text).iter().map(|s| fnv(s.as_bytes())).collect();
        sentences.sort_unstable();
        sentences.dedup();
        Self { sentences, minhash: minhash(&trigrams(text)) }
    }

    /// The estimated trigram Jaccard similarity of the two texts.
    pub fn similarity(&self, other: &Fingerprint) -> f64 {
        let equal = self.minhash.iter().zip(&other.minhash).filter(|(a, b)| a == b).count();
        equal as f64 / MINHASHES as f64
    }

    /// Whether `self` shares a sentence with `other`, or is estimated at
    /// least [`COPIED`] similar to it.
    pub fn is_copy_of(&self, other: &Fingerprint) -> bool {
        self.sentences.iter().any(|s| other.sentences.binary_search(s).is_ok()) || self.similarity(other) >= COPIED
    }

    /// One line of a fingerprint file: the sentence hashes (comma-separated
    /// hex, `-` for none), a space, the signature (hex).
    pub fn to_line(&self) -> String {
        let sentences = if self.sentences.is_empty() {
            "-".to_owned()
        } else {
            self.sentences.iter().map(|h| format!("{h:016x}")).collect::<Vec<_>>().join(",")
        };
        let minhash: String = self.minhash.iter().map(|v| format!("{v:08x}")).collect();
        format!("{sentences} {minhash}")
    }

    /// Parses a fingerprint file (blank lines and `#` comments skipped).
    pub fn parse_file(text: &str) -> Result<Vec<Fingerprint>, FingerprintError> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|(n, l)| Self::parse_line(l).map_err(|reason| FingerprintError { line: n + 1, reason }))
            .collect()
    }

    fn parse_line(line: &str) -> Result<Fingerprint, String> {
        let (sentences, minhash) = line.trim().split_once(' ').ok_or("expected sentence hashes, a space, a signature")?;
        let mut sentences: Vec<u64> = if sentences == "-" {
            Vec::new()
        } else {
            sentences
                .split(',')
                .map(|h| u64::from_str_radix(h, 16).map_err(|e| format!("sentence hash {h:?}: {e}")))
                .collect::<Result<_, _>>()?
        };
        sentences.sort_unstable();
        if minhash.len() != MINHASHES * 8 || !minhash.is_ascii() {
            return Err(format!("the signature must be {} hex digits", MINHASHES * 8));
        }
        let minhash = (0..MINHASHES)
            .map(|k| u32::from_str_radix(&minhash[k * 8..k * 8 + 8], 16).map_err(|e| format!("signature: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Fingerprint { sentences, minhash })
    }
}

/// The text's sentences, folded and without whitespace (spacing is free in
/// Korean), that are long enough to be worth fingerprinting.
fn sentences(text: &str) -> Vec<String> {
    fold(text)
        .split(['.', '!', '?', '\n', '。', '~'])
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|s| s.chars().map(|c| if ('가'..='힣').contains(&c) { 2 } else { 1 }).sum::<usize>() >= MIN_SENTENCE_WEIGHT)
        .collect()
}

/// A stable 64-bit hash (FNV-1a): the file must mean the same on every
/// machine and Rust version, which `DefaultHasher` does not promise.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(bytes);
    h.finish()
}

/// The MinHash signature of a set of hashes: for each of [`MINHASHES`]
/// seeded mixes, the least mixed value (its low 32 bits).
fn minhash(set: &[u64]) -> Vec<u32> {
    (0..MINHASHES as u64)
        .map(|k| {
            let seed = splitmix(k.wrapping_add(0x5EED));
            set.iter().map(|&h| splitmix(h ^ seed) as u32).min().unwrap_or(u32::MAX)
        })
        .collect()
}

/// SplitMix64's finaliser: a cheap, well-mixed permutation of `u64`.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The shower in room 804 has had no hot water since this morning. Could someone look at it before tonight?";

    #[test]
    fn a_copied_sentence_is_caught_under_other_words() {
        let eval = Fingerprint::of(TEXT);
        let copy = Fingerprint::of("Hello. Could someone look at it before tonight? Thanks");
        assert!(copy.is_copy_of(&eval));
    }

    #[test]
    fn a_lightly_edited_copy_is_caught_and_an_unrelated_text_is_not() {
        let eval = Fingerprint::of(TEXT);
        let edited =
            Fingerprint::of("the shower in room 805 has had no hot water since this morning, could someone look at it before tonight");
        assert!(edited.similarity(&eval) >= COPIED, "{}", edited.similarity(&eval));
        let other = Fingerprint::of("Can we bring our dog to the pension? It is a small poodle and very quiet.");
        assert!(!other.is_copy_of(&eval), "{}", other.similarity(&eval));
    }

    #[test]
    fn short_sentences_anyone_could_write_are_not_fingerprinted() {
        assert!(Fingerprint::of("환불이요. Sorry for the short notice!").sentences.is_empty());
        assert_eq!(Fingerprint::of("어제 예약한 객실 온수가 안 나와요").sentences.len(), 1);
    }

    #[test]
    fn a_fingerprint_survives_its_file_line() {
        let f = Fingerprint::of(TEXT);
        assert_eq!(Fingerprint::parse_file(&format!("# eval\n{}\n", f.to_line())).unwrap(), vec![f]);
        let error = Fingerprint::parse_file("abc zz").unwrap_err();
        assert_eq!(error.line, 1);
    }
}
