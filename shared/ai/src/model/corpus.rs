//! The labelled inquiry corpus (`shared/ai/corpus/inquiries/*.jsonl`):
//! loading, validation against the labelling guide
//! (`shared/ai/corpus/LABELLING.md`), the train / held-out split, and the
//! near-duplicate measure the corpus test uses.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use switchboard_domain::text::fold;
use switchboard_domain::{Intent, Language, ReservationNumber, Sentiment, Urgency};

/// Where the committed corpus lives.
pub const CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/inquiries");

/// Percentage of lines held out: never trained, tuned or thresholded on.
pub const HELD_OUT_PERCENT: u32 = 15;

/// The businesses the labelling guide names.
pub const BUSINESSES: [&str; 9] =
    ["hotel", "guesthouse", "tour", "car_rental", "restaurant", "moving", "home_repair", "cleaning", "subscription"];

/// The writing styles the labelling guide names.
pub const STYLES: [&str; 5] = ["chat", "email", "short", "long", "plain"];

/// Which part of the corpus a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Cross-validated and trained on.
    Train,
    /// Only reported, never used to choose anything.
    HeldOut,
}

impl Split {
    /// The split of a line, from its id alone: the first four bytes of the
    /// id's SHA-256, as a number, modulo 100, against [`HELD_OUT_PERCENT`].
    /// A stable hash, so adding lines never moves an existing one.
    pub fn of(id: &str) -> Self {
        let digest = Sha256::digest(id.as_bytes());
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        if n % 100 < HELD_OUT_PERCENT { Self::HeldOut } else { Self::Train }
    }
}

/// One labelled inquiry of the corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// `{business}-{ko|en|mx}-{nnnn}`.
    pub id: String,
    /// One of [`BUSINESSES`].
    pub business: String,
    /// The language to answer in.
    pub language: Language,
    /// Code-mixed text.
    pub mixed: bool,
    /// One of [`STYLES`].
    pub style: String,
    /// May be empty.
    pub title: String,
    /// What the customer wrote.
    pub content: String,
    /// E.164, when given.
    pub customer_phone: Option<String>,
    /// The labels.
    pub labels: Labels,
}

impl Example {
    /// Which split the line is in.
    pub fn split(&self) -> Split {
        Split::of(&self.id)
    }
}

/// The fields a labeller decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// What the customer wants done.
    pub intent: Intent,
    /// How soon a person must act.
    pub urgency: Urgency,
    /// The overall tone.
    pub sentiment: Sentiment,
    /// The number the inquiry names, canonical.
    pub reservation_number: Option<ReservationNumber>,
    /// Whether a partner must confirm.
    pub needs_partner: bool,
}

/// Why the corpus cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file or the directory could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A line is not the JSON the guide describes.
    #[error("{file}:{line}: not a corpus line")]
    Json {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A line breaks a labelling rule.
    #[error("{file}:{line} ({id}): {reason}")]
    Invalid {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The line's id.
        id: String,
        /// The rule broken.
        reason: String,
    },
}

/// A line as written, before its labels are checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    id: String,
    business: String,
    language: Language,
    mixed: bool,
    style: String,
    title: String,
    content: String,
    customer_phone: Option<String>,
    reservation_number: Option<String>,
    intent: Intent,
    urgency: Urgency,
    sentiment: Sentiment,
    needs_partner: bool,
}

/// Loads every `*.jsonl` file of `dir`, in file-name order, validating
/// every line; the first broken line is the error.
pub fn load_dir(dir: &Path) -> Result<Vec<Example>, CorpusError> {
    let io = |source| CorpusError::Io { path: dir.to_owned(), source };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut examples = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| CorpusError::Io { path: path.clone(), source })?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        examples.extend(parse_lines(&name, &text)?);
    }
    Ok(examples)
}

/// The committed corpus ([`CORPUS_DIR`]).
pub fn load() -> Result<Vec<Example>, CorpusError> {
    load_dir(Path::new(CORPUS_DIR))
}

/// Parses and validates the lines of one file (blank lines skipped); ids
/// must be unique within it (across files, see [`duplicate_ids`]).
pub fn parse_lines(file: &str, text: &str) -> Result<Vec<Example>, CorpusError> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_line(file, index + 1, line)?);
    }
    Ok(out)
}

/// Parses and validates one line.
pub fn parse_line(file: &str, line: usize, text: &str) -> Result<Example, CorpusError> {
    let raw: RawLine = serde_json::from_str(text).map_err(|source| CorpusError::Json { file: file.to_owned(), line, source })?;
    let invalid = |reason: String| CorpusError::Invalid { file: file.to_owned(), line, id: raw.id.clone(), reason };
    if !BUSINESSES.contains(&raw.business.as_str()) {
        return Err(invalid(format!("unknown business {:?}", raw.business)));
    }
    if !STYLES.contains(&raw.style.as_str()) {
        return Err(invalid(format!("unknown style {:?}", raw.style)));
    }
    let tag = if raw.mixed { "mx" } else { raw.language.as_str() };
    let prefix = format!("{}-{tag}-", raw.business);
    let number = raw.id.strip_prefix(&prefix).unwrap_or_default();
    if number.len() != 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("the id must be {prefix}nnnn")));
    }
    if raw.content.trim().is_empty() {
        return Err(invalid("empty content".into()));
    }
    let reservation_number = match &raw.reservation_number {
        None => None,
        Some(label) => match ReservationNumber::parse(label) {
            // The label is the canonical form, not merely a parsable one.
            Ok(number) if number.as_str() == label => Some(number),
            Ok(number) => return Err(invalid(format!("reservation_number {label:?} must be written {number}"))),
            Err(error) => return Err(invalid(format!("reservation_number {label:?} {error}"))),
        },
    };
    let expected = raw.intent.involves_partner() && reservation_number.is_some();
    if raw.needs_partner != expected {
        return Err(invalid(format!(
            "needs_partner must be {expected} for {} with reservation {:?}",
            raw.intent.as_str(),
            raw.reservation_number
        )));
    }
    Ok(Example {
        id: raw.id,
        business: raw.business,
        language: raw.language,
        mixed: raw.mixed,
        style: raw.style,
        title: raw.title,
        content: raw.content,
        customer_phone: raw.customer_phone,
        labels: Labels {
            intent: raw.intent,
            urgency: raw.urgency,
            sentiment: raw.sentiment,
            reservation_number,
            needs_partner: raw.needs_partner,
        },
    })
}

/// Ids used more than once.
pub fn duplicate_ids(examples: &[Example]) -> Vec<String> {
    let mut seen = HashSet::new();
    examples.iter().filter(|e| !seen.insert(e.id.as_str())).map(|e| e.id.clone()).collect()
}

/// Two texts at least this similar (character-trigram Jaccard of their
/// folded forms) are the same inquiry written twice.
pub const NEAR_DUPLICATE: f64 = 0.9;

/// A text's character trigrams (of its [`fold`], whitespace removed: Korean
/// spacing is free, so a respaced copy is still a copy), as a sorted set of
/// stable hashes.
pub fn trigrams(text: &str) -> Vec<u64> {
    let chars: Vec<char> = fold(text).chars().filter(|c| !c.is_whitespace()).collect();
    let mut out: Vec<u64> = if chars.len() < 3 { vec![hash_chars(&chars)] } else { chars.windows(3).map(hash_chars).collect() };
    out.sort_unstable();
    out.dedup();
    out
}

fn hash_chars(chars: &[char]) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    for c in chars {
        h.write_u32(u32::from(*c));
    }
    h.finish()
}

/// Jaccard similarity of two sorted sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 { 1.0 } else { both as f64 / union as f64 }
}

/// Pairs `(i, j)`, `i < j`, of texts that are near duplicates
/// ([`NEAR_DUPLICATE`]). Jaccard ≥ t needs the smaller set to be at least
/// t times the larger, so after sorting by size each text is compared only
/// with the few of similar size.
pub fn near_duplicate_pairs(texts: &[String]) -> Vec<(usize, usize)> {
    let sets: Vec<Vec<u64>> = texts.iter().map(|t| trigrams(t)).collect();
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by_key(|&i| sets[i].len());
    let mut pairs = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if (sets[i].len() as f64) < NEAR_DUPLICATE * sets[j].len() as f64 {
                break;
            }
            if jaccard(&sets[i], &sets[j]) >= NEAR_DUPLICATE {
                pairs.push((i.min(j), i.max(j)));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Indices of `texts` that are near duplicates of some text of `others`.
pub fn near_duplicates_of(texts: &[String], others: &[String]) -> Vec<usize> {
    let theirs: Vec<Vec<u64>> = others.iter().map(|t| trigrams(t)).collect();
    texts
        .iter()
        .enumerate()
        .filter(|(_, text)| {
            let mine = trigrams(text);
            theirs.iter().any(|t| {
                let (small, large) = if mine.len() <= t.len() { (mine.len(), t.len()) } else { (t.len(), mine.len()) };
                small as f64 >= NEAR_DUPLICATE * large as f64 && jaccard(&mine, t) >= NEAR_DUPLICATE
            })
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"id":"hotel-en-0042","business":"hotel","language":"en","mixed":false,"style":"chat","title":"no hot water","content":"hi, room 804, no hot water since 7am booking HT-20481123","customer_phone":"+821012345678","reservation_number":"HT-20481123","intent":"trouble_report","urgency":"high","sentiment":"NEGATIVE","needs_partner":true}"#;

    #[test]
    fn the_guides_example_line_is_valid() {
        let example = parse_line("hotel.jsonl", 1, LINE).unwrap();
        assert_eq!(example.labels.intent, Intent::TroubleReport);
        assert_eq!(example.labels.reservation_number.as_ref().map(|n| n.as_str()), Some("HT-20481123"));
    }

    #[test]
    fn needs_partner_must_follow_intent_and_number() {
        let line = LINE.replace(r#""needs_partner":true"#, r#""needs_partner":false"#);
        assert!(matches!(parse_line("f", 3, &line), Err(CorpusError::Invalid { line: 3, .. })));
    }

    #[test]
    fn a_reservation_number_label_must_be_canonical() {
        let line = LINE.replace(r#""reservation_number":"HT-20481123""#, r#""reservation_number":"ht-20481123""#);
        let error = parse_line("f", 1, &line).unwrap_err().to_string();
        assert!(error.contains("must be written HT-20481123"), "{error}");
    }

    #[test]
    fn unknown_labels_and_fields_are_rejected() {
        assert!(parse_line("f", 1, &LINE.replace("trouble_report", "praise")).is_err());
        assert!(parse_line("f", 1, &LINE.replace(r#""mixed":false"#, r#""mixed":false,"extra":1"#)).is_err());
        assert!(parse_line("f", 1, &LINE.replace("hotel-en-0042", "hotel-ko-0042")).is_err());
    }

    #[test]
    fn the_split_depends_on_the_id_alone_and_holds_out_about_fifteen_percent() {
        assert_eq!(Split::of("hotel-en-0042"), Split::of("hotel-en-0042"));
        let held = (0..2000).filter(|n| Split::of(&format!("tour-ko-{n:04}")) == Split::HeldOut).count();
        assert!((240..=360).contains(&held), "{held} of 2000 held out");
    }

    #[test]
    fn a_respaced_copy_is_a_near_duplicate_and_a_different_request_is_not() {
        let texts = vec![
            "Could you move my booking HT-20481123 to the 25th please?".to_owned(),
            "could you move my  booking HT-20481123 to the 25th  please ?".to_owned(),
            "What time does breakfast start on weekends?".to_owned(),
            "체크인 몇 시예요".to_owned(),
            "체크인몇시예요".to_owned(),
        ];
        assert_eq!(near_duplicate_pairs(&texts), vec![(0, 1), (3, 4)]);
        assert_eq!(near_duplicates_of(&texts[2..], &texts[..2]), Vec::<usize>::new());
        assert_eq!(near_duplicates_of(&texts[..4], &texts[4..]), vec![3]);
    }
}
