//! The FAQ evaluation set (`corpus/faq/`) and how well retrieval answers it.
//!
//! For each kind of business and language there is an FAQ
//! (`{business}.{ko|en}.faq.jsonl`: one entry a line, with a `key` the
//! questions refer to) and customers' questions (`{business}.{ko|en}.asks.tsv`:
//! `id<TAB>key<TAB>text`, key `-` when the FAQ does not answer it).
//! Questions are split by a stable hash of their id into dev (where the
//! threshold is chosen) and held-out (where it is checked). A third set,
//! `{business}.{ko|en}.fresh.tsv` (same format), was written after the
//! held-out figures had been looked at too often to be a clean measure:
//! it was only reported until its misses were read (2026-12-04, to find
//! why paraphrases fail), so it is now a second place to look, like dev.
//! The fourth set, `{business}.{ko|en}.unseen.tsv` (same format), was
//! written from the FAQs alone by someone who had not seen the rules, the
//! other questions or the topic data, before the changes it measured, and
//! run once (2026-12-04); its misses were read afterwards. The fifth,
//! `{business}.{ko|en}.blind.tsv`, was written the same way before the
//! changes that followed and run once (2026-12-04); its misses were read
//! on 2026-12-05, once the sixth set existed. The sixth,
//! `{business}.{ko|en}.sealed.tsv`, was written the same way (2026-12-05)
//! before the changes it measures: it is only reported in totals, and no
//! tool lists its questions.

use super::index::CONFIDENCE_THRESHOLD;
use super::retrieve;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use switchboard_domain::{FaqEntry, FaqEntryId, Language, Tenant, TenantId};

/// Where the set is kept, relative to the `switchboard-ai` crate.
pub const SET_DIR: &str = "corpus/faq";

/// How far the threshold must be above the highest dev confidence of a
/// question answered with a wrong entry or out of the FAQ. A margin of
/// 0.02 (0.025 in use) let three answers through on held-out questions;
/// 0.04 is what the rules of retrieval now clear.
const SAFETY_MARGIN: f32 = 0.04;

/// Percent of questions in the dev half; the rest are held out.
const DEV_PERCENT: u64 = 60;

/// Why the evaluation set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {reason}")]
    Line { path: PathBuf, line: usize, reason: String },
    #[error("{path}:{line}: bad FAQ entry")]
    Entry { path: PathBuf, line: usize, source: serde_json::Error },
}

/// Which half of the set a question is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Where the threshold is chosen.
    Dev,
    /// Where the chosen threshold is checked.
    HeldOut,
    /// The fresh questions (`*.fresh.tsv`): reported, misses read.
    Fresh,
    /// The unseen questions (`*.unseen.tsv`): run once, misses read since.
    Unseen,
    /// The blind questions (`*.blind.tsv`): run once, misses read since.
    Blind,
    /// The sealed questions (`*.sealed.tsv`): only reported, in totals.
    Sealed,
}

impl Split {
    /// The half of a question, from its id alone (FNV-1a: the same on
    /// every platform and release, unlike the standard hasher).
    pub fn of(id: &str) -> Self {
        let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        if hash % 100 < DEV_PERCENT { Split::Dev } else { Split::HeldOut }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Dev => "dev",
            Split::HeldOut => "held-out",
            Split::Fresh => "fresh",
            Split::Unseen => "unseen",
            Split::Blind => "blind",
            Split::Sealed => "sealed",
        })
    }
}

/// One customer question and the entry that answers it, if any.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    /// The FAQ it is asked of: `{business}.{language}`.
    pub faq: String,
    pub language: Language,
    pub text: String,
    /// The entry that answers it; `None` when the FAQ does not.
    pub expected: Option<FaqEntryId>,
    /// Its set: dev or held-out by its id's hash, fresh or unseen by its file.
    pub split: Split,
}

/// The whole set: one tenant per FAQ and every question.
#[derive(Debug, Clone, Default)]
pub struct FaqSet {
    /// Tenants by FAQ name, each with one language's entries.
    pub tenants: HashMap<String, Tenant>,
    pub cases: Vec<Case>,
}

/// An entry as written in the set.
#[derive(serde::Deserialize)]
struct SetEntry {
    key: String,
    question: String,
    #[serde(default)]
    variants: Vec<String>,
    answer: String,
}

impl FaqSet {
    /// The set in the repository.
    pub fn repository() -> Result<Self, EvalError> {
        Self::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(SET_DIR))
    }

    /// Reads every FAQ and its questions from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EvalError> {
        let read = |path: &Path| std::fs::read_to_string(path).map_err(|source| EvalError::Read { path: path.to_owned(), source });
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| EvalError::Read { path: dir.to_owned(), source })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".faq.jsonl"))
            .collect();
        names.sort();
        let mut set = FaqSet::default();
        for faq_path in names {
            let file = faq_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let name = file.trim_end_matches(".faq.jsonl").to_owned();
            let language = match name.rsplit('.').next() {
                Some("ko") => Language::Ko,
                Some("en") => Language::En,
                _ => return Err(EvalError::Line { path: faq_path, line: 0, reason: "name must end in .ko or .en".into() }),
            };
            let mut keys: HashMap<String, FaqEntryId> = HashMap::new();
            let mut faq = Vec::new();
            for (n, line) in read(&faq_path)?.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let e: SetEntry =
                    serde_json::from_str(line).map_err(|source| EvalError::Entry { path: faq_path.clone(), line: n + 1, source })?;
                let mut entry = FaqEntry::new(language, e.question, e.answer);
                entry.id = FaqEntryId::derive(language, &format!("{name}/{}", e.key));
                entry.variants = e.variants;
                if keys.insert(e.key.clone(), entry.id.clone()).is_some() {
                    return Err(EvalError::Line { path: faq_path, line: n + 1, reason: format!("key {} twice", e.key) });
                }
                faq.push(entry);
            }
            let asks_path = dir.join(format!("{name}.asks.tsv"));
            let mut files = vec![(asks_path, None)];
            for split in [Split::Fresh, Split::Unseen, Split::Blind, Split::Sealed] {
                let path = dir.join(format!("{name}.{split}.tsv"));
                if path.exists() {
                    files.push((path, Some(split)));
                }
            }
            for (asks_path, by_file) in files {
                for (n, line) in read(&asks_path)?.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                    let bad = |reason: String| EvalError::Line { path: asks_path.clone(), line: n + 1, reason };
                    let mut cols = line.splitn(3, '\t');
                    let (Some(id), Some(key), Some(text)) = (cols.next(), cols.next(), cols.next()) else {
                        return Err(bad("expected id<TAB>key<TAB>text".into()));
                    };
                    let expected = match key {
                        "-" => None,
                        key => Some(keys.get(key).cloned().ok_or_else(|| bad(format!("no entry {key}")))?),
                    };
                    let split = by_file.unwrap_or_else(|| Split::of(id));
                    set.cases.push(Case { id: id.to_owned(), faq: name.clone(), language, text: text.to_owned(), expected, split });
                }
            }
            let tenant = tenant(&name, faq).ok_or_else(|| EvalError::Line {
                path: faq_path.clone(),
                line: 0,
                reason: "not a tenant id once dotted".into(),
            })?;
            set.tenants.insert(name.clone(), tenant);
        }
        Ok(set)
    }

    /// Each question with the best entry's id and confidence.
    pub fn scores(&self, split: Option<Split>) -> Vec<(&Case, Option<(FaqEntryId, f32)>)> {
        self.cases
            .iter()
            .filter(|c| split.is_none_or(|s| c.split == s))
            .map(|case| {
                let best = self
                    .tenants
                    .get(&case.faq)
                    .and_then(|tenant| retrieve(tenant, case.language, &case.text, 1).into_iter().next().map(|(e, c)| (e.id.clone(), c)));
                (case, best)
            })
            .collect()
    }
}

fn tenant(name: &str, faq: Vec<FaqEntry>) -> Option<Tenant> {
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    Some(Tenant {
        id: TenantId::parse(&slug).ok()?,
        name: name.to_owned(),
        api_key_hash: String::new(),
        domain_context: String::new(),
        faq,
        tier: "standard".to_owned(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    })
}

/// How one threshold does on a list of questions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    /// Questions the FAQ answers.
    pub paraphrases: usize,
    /// …answered with the expected entry.
    pub right: usize,
    /// …answered with another entry.
    pub wrong: usize,
    /// Questions the FAQ does not answer.
    pub out_of_faq: usize,
    /// …answered anyway (invented answers).
    pub invented: usize,
}

impl Figures {
    /// Share of paraphrases answered with the right entry.
    pub fn right_rate(&self) -> f64 {
        ratio(self.right, self.paraphrases)
    }

    /// Share of out-of-FAQ questions escalated.
    pub fn escalated_rate(&self) -> f64 {
        1.0 - ratio(self.invented, self.out_of_faq)
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "paraphrases {}/{} right ({:.1} %), {} wrong; out-of-FAQ {}/{} escalated ({:.1} %)",
            self.right,
            self.paraphrases,
            100.0 * self.right_rate(),
            self.wrong,
            self.out_of_faq - self.invented,
            self.out_of_faq,
            100.0 * self.escalated_rate(),
        )
    }
}

/// The figures of scored questions at `threshold`.
pub fn figures<'a>(scores: impl IntoIterator<Item = &'a (&'a Case, Option<(FaqEntryId, f32)>)>, threshold: f32) -> Figures {
    let mut out = Figures::default();
    for (case, best) in scores {
        let answered = best.as_ref().filter(|(_, c)| *c >= threshold).map(|(id, _)| id);
        match &case.expected {
            Some(expected) => {
                out.paraphrases += 1;
                match answered {
                    Some(id) if id == expected => out.right += 1,
                    Some(_) => out.wrong += 1,
                    None => {}
                }
            }
            None => {
                out.out_of_faq += 1;
                out.invented += usize::from(answered.is_some());
            }
        }
    }
    out
}

/// The figures of `tenant`'s FAQ on questions that carry their expected
/// entry (`None`: the FAQ does not answer it), at the drafter's threshold:
/// what `switchboard eval` reports for inquiries labelled with an FAQ entry.
pub fn answer_rate(tenant: &Tenant, questions: &[(Language, String, Option<FaqEntryId>)]) -> Figures {
    let cases: Vec<Case> = questions
        .iter()
        .enumerate()
        .map(|(n, (language, text, expected))| Case {
            id: n.to_string(),
            faq: String::new(),
            language: *language,
            text: text.clone(),
            expected: expected.clone(),
            split: Split::Dev,
        })
        .collect();
    let scores: Vec<(&Case, Option<(FaqEntryId, f32)>)> = cases
        .iter()
        .map(|case| (case, retrieve(tenant, case.language, &case.text, 1).into_iter().next().map(|(e, c)| (e.id.clone(), c))))
        .collect();
    figures(&scores, CONFIDENCE_THRESHOLD)
}

/// The report of `switchboard faq eval`: dev, held-out and fresh figures
/// at the drafter's threshold, and on dev the lowest out-of-FAQ-free
/// threshold.
pub fn report(set: &FaqSet) -> String {
    let mut out = String::new();
    for split in [Split::Dev, Split::HeldOut, Split::Fresh, Split::Unseen, Split::Blind, Split::Sealed] {
        let scores = set.scores(Some(split));
        out.push_str(&format!("{split}: {}\n", figures(&scores, CONFIDENCE_THRESHOLD)));
    }
    let dev = set.scores(Some(Split::Dev));
    let top_invented =
        dev.iter().filter(|(c, _)| c.expected.is_none()).filter_map(|(_, b)| b.as_ref().map(|(_, s)| *s)).fold(0.0, f32::max);
    // A wrong entry is as bad as an invented answer: the level must clear both.
    let top_wrong = dev
        .iter()
        .filter_map(|(c, b)| b.as_ref().filter(|(id, _)| c.expected.as_ref().is_some_and(|e| e != id)).map(|(_, s)| *s))
        .fold(0.0, f32::max);
    out.push_str(&format!(
        "dev: the highest out-of-FAQ confidence is {top_invented:.3}, the highest wrong-entry confidence {top_wrong:.3} (threshold {CONFIDENCE_THRESHOLD:.3}, margin {:.3})\n",
        CONFIDENCE_THRESHOLD - top_invented.max(top_wrong)
    ));
    // What a threshold just above both (the margin of index::ANSWER_LEVEL)
    // would give: how the level is chosen.
    let safe = top_invented.max(top_wrong) + SAFETY_MARGIN;
    for split in [Split::Dev, Split::HeldOut, Split::Fresh] {
        out.push_str(&format!("at {safe:.3}, {split}: {}\n", figures(&set.scores(Some(split)), safe)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_depends_on_the_id_alone_and_is_about_sixty_forty() {
        assert_eq!(Split::of("hotel.ko-001"), Split::of("hotel.ko-001"));
        let dev = (0..1000).filter(|n| Split::of(&format!("case-{n}")) == Split::Dev).count();
        assert!((550..650).contains(&dev), "{dev} of 1000 in dev");
    }

    #[test]
    fn on_dev_no_question_gets_a_wrong_entry_or_an_invented_answer_with_a_margin() {
        let set = FaqSet::repository().unwrap();
        let dev = set.scores(Some(Split::Dev));
        let f = figures(&dev, CONFIDENCE_THRESHOLD);
        assert_eq!((f.wrong, f.invented), (0, 0), "{f}");
        // The threshold must clear every dev question a wrong entry or no
        // entry would answer by the margin it was chosen with, not by luck.
        let unsafe_top = dev
            .iter()
            .filter_map(|(c, b)| b.as_ref().filter(|(id, _)| c.expected.as_ref() != Some(id)).map(|(_, s)| *s))
            .fold(0.0, f32::max);
        assert!(unsafe_top + SAFETY_MARGIN <= CONFIDENCE_THRESHOLD, "highest unsafe dev confidence {unsafe_top}");
    }

    /// One split's figures at the drafter's threshold.
    fn measured(split: Split) -> Figures {
        let set = FaqSet::repository().unwrap();
        figures(&set.scores(Some(split)), CONFIDENCE_THRESHOLD)
    }

    #[test]
    fn the_held_out_questions_keep_their_measured_floors() {
        let f = measured(Split::HeldOut);
        assert!(f.paraphrases >= 150 && f.out_of_faq >= 80, "{f}");
        // The targets are 90 % right, no wrong entry and no
        // invented answer. Held-out is never tuned on (though looked at in
        // totals too often to be clean: see the blind set). With the topic
        // model's agreement: 177/194 (91.2 %), 0 wrong; with near-miss
        // topics, the agreement's geometric mean and the topics the FAQ
        // does not answer (2026-12-04) 181/194 (93.3 %) and 1 wrong entry
        // ("do we need to bring our own charcoal" answered with the grill's
        // price entry instead of the barbecue's). Kept from getting worse.
        assert_eq!(f.invented, 0, "nothing answered out of the FAQ: {f}");
        assert!(f.wrong <= 1, "at most one wrong entry: {f}");
        assert!(f.right_rate() >= 0.932, "{f}");
    }

    #[test]
    fn the_fresh_questions_keep_their_measured_floors() {
        let f = measured(Split::Fresh);
        assert!(f.paraphrases >= 130 && f.out_of_faq >= 60, "{f}");
        // Before the topic model: 60/134 right (44.8 %), 1 wrong, 1 invented
        // answer; with it 107/134 (79.9 %), 0 wrong, 2 invented. Its misses
        // were read on 2026-12-04 (a second dev set since); at the end of
        // that day 115/134 (85.8 %), 1 wrong, 1 invented.
        assert!(f.invented <= 1, "at most one invented answer: {f}");
        assert!(f.wrong <= 1, "at most one wrong entry: {f}");
        assert!(f.right_rate() >= 0.857, "{f}");
    }

    #[test]
    fn the_unseen_questions_keep_their_measured_floors() {
        let f = measured(Split::Unseen);
        assert!(f.paraphrases >= 240 && f.out_of_faq >= 120, "{f}");
        // Run once before its misses were read (2026-12-04): 168/240 right
        // (70.0 %), 2 wrong entries, 12 of 120 out-of-FAQ questions
        // answered; the code of that morning measured 152/240 (63.3 %), 2
        // wrong, 13 answered. Tuned on since: 165/240 (68.8 %), 1 wrong, 8.
        assert!(f.invented <= 8, "at most eight invented answers: {f}");
        assert!(f.wrong <= 1, "at most one wrong entry: {f}");
        assert!(f.right_rate() >= 0.687, "{f}");
    }

    #[test]
    fn the_blind_questions_keep_their_measured_floors() {
        let f = measured(Split::Blind);
        assert!(f.paraphrases >= 240 && f.out_of_faq >= 120, "{f}");
        // Written from the FAQs alone before the changes it measures, run
        // once at the end (2026-12-04): 169/240 right (70.4 %), 3 wrong
        // entries, 11 of 120 out-of-FAQ questions answered (and once more,
        // by accident, without the veto of Index::elsewhere: 173/240, 3
        // wrong, 21 answered). Far from the targets (90 % right,
        // none wrong or invented); kept from getting worse. Its misses may
        // be listed since the sealed split replaced it (2026-12-05).
        assert!(f.invented <= 11, "at most eleven invented answers: {f}");
        assert!(f.wrong <= 3, "at most three wrong entries: {f}");
        assert!(f.right_rate() >= 0.703, "{f}");
    }

    #[test]
    fn the_sealed_questions_keep_their_measured_floors() {
        let f = measured(Split::Sealed);
        assert!(f.paraphrases >= 239 && f.out_of_faq >= 120, "{f}");
        // Written from the FAQs alone (2026-12-05) and measured at once,
        // before any change it could measure: 162/240 right (67.5 %), 3
        // wrong entries, 7 of 120 out-of-FAQ questions answered. One of
        // its questions was word for word a line of the topic corpus and
        // was dropped from the split (161/239, 67.4 %). The retrieval has
        // not changed since. Its questions are never listed
        // by any tool; kept from getting worse.
        assert!(f.invented <= 7, "at most seven invented answers: {f}");
        assert!(f.wrong <= 3, "at most three wrong entries: {f}");
        assert!(f.right_rate() >= 0.673, "{f}");
    }

    #[test]
    fn the_set_covers_six_businesses_in_both_languages_with_enough_questions() {
        let set = FaqSet::repository().unwrap();
        let mut businesses: Vec<&str> = set.tenants.keys().filter_map(|n| n.split('.').next()).collect();
        businesses.sort();
        businesses.dedup();
        assert!(businesses.len() >= 6, "{businesses:?}");
        for business in &businesses {
            for language in ["ko", "en"] {
                let tenant = &set.tenants[&format!("{business}.{language}")];
                assert!((8..=15).contains(&tenant.faq.len()), "{business}.{language}: {} entries", tenant.faq.len());
                assert!(tenant.faq.iter().all(|e| (1..=3).contains(&e.variants.len())), "{business}.{language}: 1–3 variants");
            }
        }
        let asked: Vec<&Case> = set.cases.iter().filter(|c| matches!(c.split, Split::Dev | Split::HeldOut)).collect();
        let paraphrases = asked.iter().filter(|c| c.expected.is_some()).count();
        let out_of_faq = asked.len() - paraphrases;
        assert!(paraphrases >= 300 && out_of_faq >= 150, "{paraphrases} paraphrases, {out_of_faq} out of the FAQ");
        let fresh = set.cases.iter().filter(|c| c.split == Split::Fresh).count();
        assert!(fresh >= 180, "{fresh} fresh questions");
        let unseen = set.cases.iter().filter(|c| c.split == Split::Unseen).count();
        assert!(unseen >= 360, "{unseen} unseen questions");
        let blind = set.cases.iter().filter(|c| c.split == Split::Blind).count();
        assert!(blind >= 360, "{blind} blind questions");
        let sealed = set.cases.iter().filter(|c| c.split == Split::Sealed).count();
        assert!(sealed >= 359, "{sealed} sealed questions");
        let mut ids: Vec<&str> = set.cases.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        let total = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), total, "question ids are unique");
    }

    #[test]
    fn answer_rate_counts_right_wrong_and_invented_answers() {
        let set = FaqSet::repository().unwrap();
        let tenant = &set.tenants["hotel.en"];
        let breakfast = tenant.faq.iter().find(|e| e.question.to_lowercase().contains("breakfast")).unwrap();
        let questions = vec![
            (Language::En, breakfast.question.clone(), Some(breakfast.id.clone())),
            (Language::En, "My flight number is KE 081, thanks".to_owned(), None),
        ];
        let f = answer_rate(tenant, &questions);
        assert_eq!((f.paraphrases, f.right, f.wrong, f.out_of_faq, f.invented), (1, 1, 0, 1, 0));
    }
}
