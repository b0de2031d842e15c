//! The FAQ topic model: what service topic a text asks about (check-in
//! time, parking, pets, corkage, a refund demand, a broken heater…), as a
//! probability distribution over the topics of `corpus/faq/topics.tsv`.
//!
//! Retrieval ([`super::index`]) compares the distribution of an inquiry
//! with that of each FAQ phrasing: two texts about the same topic in other
//! words ("travelling with my puppy" and "Are pets allowed?") are close
//! even when they share no word the FAQ knows.
//!
//! The model is a softmax regression ([`crate::model::softmax`]) over the
//! classifier's hashed text features ([`crate::model::features`]: Hangul
//! syllable n-grams, Latin character n-grams, words and word pairs), in
//! `2^TOPIC_BITS` buckets, plus the vocabulary concepts of the text's
//! words ([`super::words`]). It is trained deterministically (fixed seed,
//! one thread) on paraphrase groups written for it: many ways of asking
//! each topic of the six kinds of business in both languages, and topics
//! no FAQ of the evaluation set answers (so that an inquiry about them has
//! somewhere to go that is no entry's topic). No evaluation question
//! (`*.asks.tsv`, `*.fresh.tsv`, `*.unseen.tsv`, `*.blind.tsv`, `*.sealed.tsv`) is in it; a test keeps it so.
//!
//! The artefact (`shared/ai/model/faq_topics.bin`) is embedded; a test
//! fails when it is not what the committed corpus and code train
//! ([`train_artefact`] writes it: `cargo run -p switchboard-ai
//! --example faq_topics_train`). If it cannot be read, retrieval goes on
//! without the topic signal.
//!
//! Layout, little-endian: magic `SWBTOPIC`, format version `u16`, the
//! classifier's feature version `u16`, [`TOPIC_FEATURE_VERSION`] `u16`,
//! bucket bits `u8`, the fingerprint (SHA-256 of the corpus and the
//! trainer's settings, 32 bytes), the topic count `u16`, each topic's name
//! (length `u8`, UTF-8), then bias `f32` × topics, scale `f32` × topics
//! and weights `i16` × buckets × topics (bucket-major, `w ≈ q × scale`).

use super::words::words;
use crate::model::features::{self, SparseVector, named_bucket, scaled, sparse, text_vector};
use crate::model::softmax::{Softmax, TrainParams, softmax};
use ndarray::{Array1, Array2};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// log2 of the topic model's hashed feature buckets: a quarter of the
/// classifier's, since the model has many more classes.
pub const TOPIC_BITS: u8 = 14;

/// The number of buckets.
pub const TOPIC_BUCKETS: usize = 1 << TOPIC_BITS;

/// Changes whenever what [`features_of`] adds to the classifier's text
/// features changes.
pub const TOPIC_FEATURE_VERSION: u16 = 2;

/// The layout's version.
pub const FORMAT_VERSION: u16 = 1;

/// The first bytes of the artefact.
pub const MAGIC: [u8; 8] = *b"SWBTOPIC";

/// The paraphrase groups the model is trained on.
pub const CORPUS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/faq/topics.tsv");

/// Where [`train_artefact`] writes the model.
pub const ARTEFACT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/model/faq_topics.bin");

/// The settings the committed model is trained with.
pub const PARAMS: TrainParams = TrainParams { epochs: 30, learning_rate: 0.3, l2: 1e-5, seed: 14 };

/// The committed artefact.
static EMBEDDED: &[u8] = include_bytes!("../../../model/faq_topics.bin");

static MODEL: LazyLock<Option<TopicModel>> = LazyLock::new(|| decode(EMBEDDED).ok());

/// The embedded model, decoded on first use; `None` if it cannot be read.
pub fn model() -> Option<&'static TopicModel> {
    MODEL.as_ref()
}

/// Why the topic corpus or an artefact cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    /// A file could not be read or written.
    #[error("cannot read or write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A corpus line is not `topic<TAB>language<TAB>text`.
    #[error("{path}:{line}: expected topic<TAB>ko|en<TAB>text")]
    Line {
        /// The corpus.
        path: PathBuf,
        /// 1-based.
        line: usize,
    },
    /// The bytes are not an artefact this code reads.
    #[error("not a topic model this code reads: {0}")]
    Artefact(&'static str),
}

/// One paraphrase of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicLine {
    /// The topic's name.
    pub topic: String,
    /// `ko` or `en`.
    pub language: String,
    /// How a customer asks it.
    pub text: String,
}

/// The topic model.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicModel {
    /// Topic names, in class-index order (sorted).
    pub topics: Vec<String>,
    /// The weights.
    pub softmax: Softmax,
    /// SHA-256 of the corpus and the trainer's settings.
    pub fingerprint: [u8; 32],
}

impl TopicModel {
    /// The probability of each topic for `text`.
    pub fn distribution(&self, text: &str) -> Vec<f32> {
        softmax(&self.softmax.logits(&features_of(text)), 1.0)
    }

    /// The most likely topic of `text` and its probability.
    pub fn topic(&self, text: &str) -> (&str, f32) {
        let p = self.distribution(text);
        let best = crate::model::softmax::argmax(&p);
        (self.topics.get(best).map_or("", String::as_str), p.get(best).copied().unwrap_or(0.0))
    }
}

/// What the model reads: the classifier's text features and, as a block of
/// the same weight, the vocabulary concepts the text's words name.
pub fn features_of(text: &str) -> SparseVector {
    let third = 1.0 / 3.0_f32.sqrt();
    let text_block = text_vector(text, TOPIC_BITS);
    let mut all = scaled(text_block.indices.into_iter().zip(text_block.values).collect(), third);
    let words = words(text);
    let (concepts, stems): (Vec<&String>, Vec<&String>) = words.iter().flat_map(|w| w.heads.iter()).partition(|h| h.starts_with('@'));
    all.extend(scaled(concepts.into_iter().map(|h| named_bucket("v", h, TOPIC_BITS)).collect(), third));
    // Stems read a Korean word whatever its ending ("모이나요", "모이는"),
    // which the syllable n-grams of a short question barely do.
    all.extend(scaled(stems.into_iter().map(|h| named_bucket("s", h, TOPIC_BITS)).collect(), third));
    sparse(all)
}

/// The corpus in the repository.
pub fn corpus() -> Result<Vec<TopicLine>, TopicError> {
    read_corpus(Path::new(CORPUS_PATH))
}

/// The lines of a topic corpus (`#` starts a comment).
pub fn read_corpus(path: &Path) -> Result<Vec<TopicLine>, TopicError> {
    let text = std::fs::read_to_string(path).map_err(|source| TopicError::Io { path: path.to_owned(), source })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let (Some(topic), Some(language @ ("ko" | "en")), Some(text)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(TopicError::Line { path: path.to_owned(), line: n + 1 });
        };
        out.push(TopicLine { topic: topic.to_owned(), language: language.to_owned(), text: text.to_owned() });
    }
    Ok(out)
}

/// SHA-256 of the corpus, the trainer's settings and the feature space.
pub fn fingerprint(lines: &[TopicLine], params: &TrainParams) -> [u8; 32] {
    let mut h = Sha256::new();
    for l in lines {
        for part in [&l.topic, &l.language, &l.text] {
            h.update(part.as_bytes());
            h.update([0]);
        }
    }
    h.update(format!("{params:?}").as_bytes());
    h.update(features::FEATURE_VERSION.to_le_bytes());
    h.update(TOPIC_FEATURE_VERSION.to_le_bytes());
    h.update([TOPIC_BITS]);
    h.finalize().into()
}

/// Trains the model on `lines`, quantised as it is committed.
pub fn train(lines: &[TopicLine], params: &TrainParams) -> TopicModel {
    let mut topics: Vec<String> = lines.iter().map(|l| l.topic.clone()).collect();
    topics.sort();
    topics.dedup();
    let xs: Vec<SparseVector> = lines.iter().map(|l| features_of(&l.text)).collect();
    let refs: Vec<&SparseVector> = xs.iter().collect();
    let ys: Vec<usize> = lines.iter().map(|l| topics.binary_search(&l.topic).unwrap_or_default()).collect();
    let softmax = Softmax::train(&refs, &ys, TOPIC_BUCKETS, topics.len(), params);
    let model = TopicModel { topics, softmax, fingerprint: fingerprint(lines, params) };
    // Predict with exactly the weights that are committed.
    decode(&encode(&model)).unwrap_or(model)
}

/// Cross-validated accuracy of the topic model on `lines`: each line's
/// topic as decided by the model trained without its fold (`folds` folds
/// by a hash of the text), the share right; how well the model reads
/// paraphrases it has not seen.
pub fn cross_validate(lines: &[TopicLine], params: &TrainParams, folds: usize) -> f64 {
    let folds = folds.max(2);
    let fold: Vec<usize> = lines.iter().map(|l| crate::model::crossval::fold_of(&l.text, folds)).collect();
    let mut right = 0usize;
    for f in 0..folds {
        let train_lines: Vec<TopicLine> = lines.iter().zip(&fold).filter(|(_, k)| **k != f).map(|(l, _)| l.clone()).collect();
        let model = train(&train_lines, params);
        right += lines.iter().zip(&fold).filter(|(l, k)| **k == f && model.topic(&l.text).0 == l.topic).count();
    }
    right as f64 / lines.len().max(1) as f64
}

/// Trains on the repository's corpus and writes the artefact to `out`
/// (what `switchboard model train` may call; [`ARTEFACT_PATH`] is the
/// committed one). Returns a one-line summary.
pub fn train_artefact(out: &Path) -> Result<String, TopicError> {
    let lines = corpus()?;
    let model = train(&lines, &PARAMS);
    let bytes = encode(&model);
    std::fs::write(out, &bytes).map_err(|source| TopicError::Io { path: out.to_owned(), source })?;
    Ok(format!("{} topics from {} lines, {} bytes written to {}\n", model.topics.len(), lines.len(), bytes.len(), out.display()))
}

/// The artefact's bytes.
pub fn encode(model: &TopicModel) -> Vec<u8> {
    let classes = model.topics.len();
    let mut out = Vec::with_capacity(64 + TOPIC_BUCKETS * classes * 2);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&features::FEATURE_VERSION.to_le_bytes());
    out.extend_from_slice(&TOPIC_FEATURE_VERSION.to_le_bytes());
    out.push(TOPIC_BITS);
    out.extend_from_slice(&model.fingerprint);
    out.extend_from_slice(&(classes as u16).to_le_bytes());
    for topic in &model.topics {
        let name = &topic.as_bytes()[..topic.len().min(255)];
        out.push(name.len() as u8);
        out.extend_from_slice(name);
    }
    for b in &model.softmax.bias {
        out.extend_from_slice(&b.to_le_bytes());
    }
    let scales: Vec<f32> = model
        .softmax
        .weights
        .columns()
        .into_iter()
        .map(|c| {
            let max = c.iter().fold(0.0f32, |m, w| m.max(w.abs()));
            if max > 0.0 { max / 32767.0 } else { 1.0 }
        })
        .collect();
    for s in &scales {
        out.extend_from_slice(&s.to_le_bytes());
    }
    for row in model.softmax.weights.rows() {
        for (w, s) in row.iter().zip(&scales) {
            let q = (w / s).round().clamp(-32767.0, 32767.0) as i16;
            out.extend_from_slice(&q.to_le_bytes());
        }
    }
    out
}

/// The model in an artefact, checked.
pub fn decode(bytes: &[u8]) -> Result<TopicModel, TopicError> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], TopicError> {
        let slice = bytes.get(at..at + n).ok_or(TopicError::Artefact("cut short"))?;
        at += n;
        Ok(slice)
    };
    if take(MAGIC.len())? != MAGIC {
        return Err(TopicError::Artefact("bad magic"));
    }
    let u16_of = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]);
    let f32_of = |b: &[u8]| f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if u16_of(take(2)?) != FORMAT_VERSION {
        return Err(TopicError::Artefact("another format version"));
    }
    if u16_of(take(2)?) != features::FEATURE_VERSION || u16_of(take(2)?) != TOPIC_FEATURE_VERSION || take(1)?[0] != TOPIC_BITS {
        return Err(TopicError::Artefact("trained on other features"));
    }
    let mut fingerprint = [0u8; 32];
    fingerprint.copy_from_slice(take(32)?);
    let classes = usize::from(u16_of(take(2)?));
    let mut topics = Vec::with_capacity(classes);
    for _ in 0..classes {
        let len = usize::from(take(1)?[0]);
        topics.push(String::from_utf8(take(len)?.to_vec()).map_err(|_| TopicError::Artefact("a topic name is not UTF-8"))?);
    }
    let bias: Vec<f32> = take(4 * classes)?.chunks_exact(4).map(f32_of).collect();
    let scales: Vec<f32> = take(4 * classes)?.chunks_exact(4).map(f32_of).collect();
    if !bias.iter().chain(&scales).all(|x| x.is_finite()) {
        return Err(TopicError::Artefact("a bias or scale is not finite"));
    }
    let raw = take(TOPIC_BUCKETS * classes * 2)?;
    let weights: Vec<f32> =
        raw.chunks_exact(2).enumerate().map(|(n, q)| f32::from(i16::from_le_bytes([q[0], q[1]])) * scales[n % classes.max(1)]).collect();
    if at != bytes.len() {
        return Err(TopicError::Artefact("bytes after the model"));
    }
    let weights = Array2::from_shape_vec((TOPIC_BUCKETS, classes), weights).map_err(|_| TopicError::Artefact("cut short"))?;
    Ok(TopicModel { topics, softmax: Softmax { weights, bias: Array1::from(bias) }, fingerprint })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_topic_model_loads_and_knows_its_topics() {
        let model = model().expect("the embedded topic model loads");
        assert!(model.topics.len() >= 40, "{} topics", model.topics.len());
        assert_eq!(model.topic("Are pets allowed?").0, "pets");
        assert_eq!(model.topic("주차 가능한가요?").0, "parking");
    }

    #[test]
    fn the_committed_topic_model_is_fresh() {
        let lines = corpus().expect("the topic corpus reads");
        let committed = std::fs::read(ARTEFACT_PATH).unwrap_or_default();
        assert!(
            committed == encode(&train(&lines, &PARAMS)),
            "shared/ai/model/faq_topics.bin is stale (the corpus, the features or the trainer changed): run `cargo run -p switchboard-ai --example faq_topics_train` and commit it"
        );
    }

    #[test]
    fn the_artefact_stays_under_five_megabytes() {
        assert!(EMBEDDED.len() < 5 * 1024 * 1024, "{} bytes", EMBEDDED.len());
    }

    #[test]
    fn corrupt_artefacts_are_errors() {
        assert!(decode(b"not a model").is_err());
        assert!(decode(&EMBEDDED[..EMBEDDED.len() - 1]).is_err());
        let mut long = EMBEDDED.to_vec();
        long.push(0);
        assert!(decode(&long).is_err());
    }

    /// Letters and digits only, lowercased: how near a training line may
    /// come to an evaluation question.
    fn plain(text: &str) -> String {
        text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
    }

    #[test]
    fn no_evaluation_question_is_in_the_training_corpus() {
        let lines = corpus().expect("the topic corpus reads");
        let trained: std::collections::HashSet<String> = lines.iter().map(|l| plain(&l.text)).collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::super::eval::SET_DIR);
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("the FAQ set dir reads").flatten() {
            let path = entry.path();
            let name = path.to_string_lossy().into_owned();
            if ![".asks.tsv", ".fresh.tsv", ".unseen.tsv", ".blind.tsv", ".sealed.tsv"].iter().any(|end| name.ends_with(end)) {
                continue;
            }
            for line in std::fs::read_to_string(&path).expect("an evaluation file reads").lines() {
                let Some(text) = line.splitn(3, '\t').nth(2) else { continue };
                assert!(!trained.contains(&plain(text)), "{name}: {text} is training data");
                checked += 1;
            }
        }
        assert!(checked > 800, "{checked} evaluation questions checked");
    }
}
