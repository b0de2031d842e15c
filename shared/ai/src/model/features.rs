//! Features of an inquiry for the model, the same in both languages and
//! with no downloaded dictionary, over [`fold`] of title, content and
//! attachment texts:
//!
//! - Hangul syllable uni-, bi- and trigrams along each run of Hangul,
//!   spaces ignored (Korean spacing varies, and particles are glued on:
//!   "환불해주세요", "환불 해 주세요" share their n-grams);
//! - Latin character 3–5-grams of each word with its boundaries marked;
//! - word unigrams and bigrams (a word is a run of Hangul or of letters
//!   and digits; digits read as `0`, so dates and amounts generalise);
//! - symbols (`?`, `!`, `ㅠ`, emoji) one by one;
//! - the keyword rules' evidence as named numbers (see
//!   `local::classifier::Evidence::features`), among them the urgency
//!   cues crossed with the rules' intent, and whether a reservation number
//!   was found.
//!
//! Everything is hashed (signed, FNV-1a: stable across runs and platforms,
//! unlike std's seeded hasher) into `2^BUCKET_BITS` buckets. The text
//! block and the rules block are each L2-normalised and weighted equally,
//! so a long text neither drowns the rules nor is drowned by them.

use crate::local::classifier::{Evidence, Texts};
use std::hash::Hasher;
use switchboard_domain::text::fold;

/// log2 of the number of hashed feature buckets.
pub const BUCKET_BITS: u8 = 16;

/// The number of buckets.
pub const BUCKETS: usize = 1 << BUCKET_BITS;

/// Changes whenever what [`extract`] computes changes: a model trained on
/// other features must not be read with these.
pub const FEATURE_VERSION: u16 = 2;

/// Latin character n-gram lengths.
const CHAR_NGRAMS: std::ops::RangeInclusive<usize> = 3..=5;

/// Hangul syllable n-gram lengths.
const HANGUL_NGRAMS: std::ops::RangeInclusive<usize> = 1..=3;

/// A sparse feature vector: bucket indices, increasing, with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVector {
    /// Bucket indices, strictly increasing.
    pub indices: Vec<u32>,
    /// The value of each index.
    pub values: Vec<f32>,
}

impl SparseVector {
    /// The (index, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.indices.iter().map(|&i| i as usize).zip(self.values.iter().copied())
    }
}

/// Signed FNV-1a hashing of one feature: a namespace and its parts.
struct Feature(fnv::FnvHasher);

impl Feature {
    fn new(namespace: &str) -> Self {
        let mut h = fnv::FnvHasher::default();
        h.write(namespace.as_bytes());
        h.write_u8(0xff);
        Self(h)
    }

    fn chars(mut self, chars: &[char]) -> Self {
        for &c in chars {
            self.0.write_u32(u32::from(c));
        }
        self
    }

    fn text(mut self, text: &str) -> Self {
        self.0.write(text.as_bytes());
        self.0.write_u8(0xfe);
        self
    }

    /// The bucket and the sign: the top bit decides the sign, so colliding
    /// features cancel on average instead of adding up.
    fn bucket(self) -> (u32, f32) {
        let h = self.0.finish();
        let index = (h & (BUCKETS as u64 - 1)) as u32;
        (index, if h >> 63 == 1 { -1.0 } else { 1.0 })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Hangul,
    Word,
    Space,
    Symbol,
}

fn class_of(c: char) -> Class {
    if ('\u{AC00}'..='\u{D7A3}').contains(&c) {
        Class::Hangul
    } else if c.is_alphanumeric() && !('\u{3130}'..='\u{318F}').contains(&c) {
        Class::Word
    } else if c.is_whitespace() {
        Class::Space
    } else {
        Class::Symbol
    }
}

/// The features of one request's texts, with the rules' evidence on them.
pub(crate) fn extract(texts: &Texts, evidence: &Evidence, has_reservation: bool) -> SparseVector {
    let mut text_block: Vec<(u32, f32)> = Vec::with_capacity(512);
    text_features(&fold(&texts.raw), &mut |f: Feature| {
        let (index, sign) = f.bucket();
        text_block.push((index, sign));
    });
    let mut rules_block: Vec<(u32, f32)> = evidence
        .features()
        .iter()
        .filter(|(_, value)| *value != 0.0)
        .map(|(name, value)| {
            let (index, sign) = Feature::new("r").text(name).bucket();
            (index, sign * value)
        })
        .collect();
    if has_reservation {
        let (index, sign) = Feature::new("r").text("has_reservation").bucket();
        rules_block.push((index, sign));
    }
    let half = std::f32::consts::FRAC_1_SQRT_2;
    let mut all = normalized(text_block, half);
    all.extend(normalized(rules_block, half));
    merge(all)
}

/// The text features of `text` alone (no rules' evidence), hashed into
/// `2^bits` buckets (at most [`BUCKET_BITS`]) and scaled to unit length:
/// what the FAQ topic model reads, with the classifier's n-grams.
pub(crate) fn text_vector(text: &str, bits: u8) -> SparseVector {
    let mask = (1u32 << bits.min(BUCKET_BITS)) - 1;
    let mut block: Vec<(u32, f32)> = Vec::with_capacity(256);
    text_features(&fold(text), &mut |f: Feature| {
        let (index, sign) = f.bucket();
        block.push((index & mask, sign));
    });
    merge(normalized(block, 1.0))
}

/// The bucket of one named feature in `2^bits` buckets, with its sign.
pub(crate) fn named_bucket(namespace: &str, name: &str, bits: u8) -> (u32, f32) {
    let (index, sign) = Feature::new(namespace).text(name).bucket();
    (index & ((1u32 << bits.min(BUCKET_BITS)) - 1), sign)
}

/// Sums equal `(index, value)` pairs into a sparse vector.
pub(crate) fn sparse(pairs: Vec<(u32, f32)>) -> SparseVector {
    merge(pairs)
}

/// `pairs` summed by index and scaled to L2 norm `norm`.
pub(crate) fn scaled(pairs: Vec<(u32, f32)>, norm: f32) -> Vec<(u32, f32)> {
    normalized(pairs, norm)
}

/// Sums equal indices and scales the block to L2 norm `norm`.
fn normalized(block: Vec<(u32, f32)>, norm: f32) -> Vec<(u32, f32)> {
    let merged = merge(block);
    let length = merged.values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if length == 0.0 {
        return Vec::new();
    }
    merged.indices.into_iter().zip(merged.values.into_iter().map(|v| v * norm / length)).collect()
}

fn merge(mut pairs: Vec<(u32, f32)>) -> SparseVector {
    pairs.sort_unstable_by_key(|&(i, _)| i);
    let mut out = SparseVector::default();
    for (index, value) in pairs {
        if out.indices.last() == Some(&index) {
            if let Some(last) = out.values.last_mut() {
                *last += value;
            }
        } else {
            out.indices.push(index);
            out.values.push(value);
        }
    }
    out
}

/// Calls `emit` with every text feature of a folded text.
fn text_features(folded: &str, emit: &mut impl FnMut(Feature)) {
    // Words: maximal runs of one class; digits read as 0.
    let mut words: Vec<(Class, Vec<char>)> = Vec::new();
    // Hangul runs, spaces skipped, broken by anything else.
    let mut hangul: Vec<Vec<char>> = vec![Vec::new()];
    for c in folded.chars() {
        let class = class_of(c);
        match class {
            Class::Hangul | Class::Word => {
                let c = if c.is_ascii_digit() { '0' } else { c };
                match words.last_mut() {
                    Some((last, word)) if *last == class && !word.is_empty() => word.push(c),
                    _ => words.push((class, vec![c])),
                }
            }
            Class::Space | Class::Symbol => words.push((class, Vec::new())),
        }
        match class {
            Class::Hangul => {
                if let Some(run) = hangul.last_mut() {
                    run.push(c);
                }
            }
            Class::Space => {}
            _ => {
                if hangul.last().is_some_and(|run| !run.is_empty()) {
                    hangul.push(Vec::new());
                }
            }
        }
        if class == Class::Symbol {
            emit(Feature::new("s").chars(&[c]));
        }
    }
    let tokens: Vec<&Vec<char>> = words.iter().filter(|(_, w)| !w.is_empty()).map(|(_, w)| w).collect();
    for (k, token) in tokens.iter().enumerate() {
        emit(Feature::new("w").chars(token));
        if let Some(next) = tokens.get(k + 1) {
            emit(Feature::new("b").chars(token).chars(&['|']).chars(next));
        }
    }
    for (class, word) in &words {
        if *class != Class::Word || word.is_empty() {
            continue;
        }
        let mut marked = Vec::with_capacity(word.len() + 2);
        marked.push('<');
        marked.extend_from_slice(word);
        marked.push('>');
        for n in CHAR_NGRAMS {
            for gram in marked.windows(n) {
                emit(Feature::new("c").chars(gram));
            }
        }
    }
    for run in &hangul {
        for n in HANGUL_NGRAMS {
            for gram in run.windows(n) {
                emit(Feature::new("h").chars(gram));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClassifyRequest;
    use crate::local::classifier::evidence;

    fn features(title: &str, content: &str) -> SparseVector {
        let request = ClassifyRequest {
            title: (!title.is_empty()).then(|| title.to_owned()),
            content: content.to_owned(),
            language_hint: None,
            reservation_hint: None,
            attachment_texts: vec![],
        };
        let texts = Texts::of(&request);
        extract(&texts, &evidence(&texts), false)
    }

    fn cosine(a: &SparseVector, b: &SparseVector) -> f32 {
        let dense = |v: &SparseVector| {
            let mut d = vec![0.0; BUCKETS];
            for (i, x) in v.iter() {
                d[i] = x;
            }
            d
        };
        let (a, b) = (dense(a), dense(b));
        a.iter().zip(&b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_vector_is_sparse_sorted_and_of_unit_length() {
        let v = features("조식 추가", "내일 조식 2인 추가 가능할까요? HT-20481123");
        assert!(v.indices.windows(2).all(|w| w[0] < w[1]));
        let norm: f32 = v.values.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }

    #[test]
    fn korean_spacing_and_full_width_letters_change_little() {
        let spaced = features("", "환불 해 주세요 예약 취소했어요");
        let glued = features("", "환불해주세요 예약취소했어요");
        let width = features("", "ＲＥＦＵＮＤ please");
        let plain = features("", "refund please");
        assert!(cosine(&spaced, &glued) > 0.8, "{}", cosine(&spaced, &glued));
        assert!(cosine(&width, &plain) > 0.99);
    }

    #[test]
    fn different_requests_are_far_apart() {
        let a = features("", "What time is breakfast served?");
        let b = features("", "The heater is broken and the room is freezing");
        assert!(cosine(&a, &b) < 0.5, "{}", cosine(&a, &b));
    }

    #[test]
    fn empty_text_still_carries_the_rules_verdict() {
        let v = features("", "");
        assert!(!v.indices.is_empty());
    }
}
