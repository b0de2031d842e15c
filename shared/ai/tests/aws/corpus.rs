//! The labelled corpus the classifier is trained on: valid, large and
//! balanced enough, with no line written twice and none taken from the
//! evaluation set.

use std::collections::HashSet;
use switchboard_ai::model::corpus::{self, Example};
use switchboard_ai::model::fingerprint::Fingerprint;
use switchboard_domain::text::fold;
use switchboard_domain::{Intent, Language, Sentiment, Urgency};

/// Lines the corpus must have.
const MIN_LINES: usize = 3_000;

/// The least share of lines each language must have.
const MIN_LANGUAGE_SHARE: f64 = 0.40;

/// Businesses the corpus must cover.
const MIN_BUSINESSES: usize = 8;

fn text_of(e: &Example) -> String {
    format!("{}\n{}", e.title, e.content)
}

#[test]
fn corpus_is_valid() {
    let lines = corpus::load().unwrap_or_else(|error| panic!("the corpus does not load: {error}"));
    let mut problems: Vec<String> = Vec::new();

    if lines.len() < MIN_LINES {
        problems.push(format!("{} lines, at least {MIN_LINES} needed", lines.len()));
    }
    for language in [Language::Ko, Language::En] {
        let share = lines.iter().filter(|e| e.language == language).count() as f64 / lines.len().max(1) as f64;
        if share < MIN_LANGUAGE_SHARE {
            problems.push(format!(
                "{:.1} % {} lines, at least {:.0} % needed",
                100.0 * share,
                language.as_str(),
                100.0 * MIN_LANGUAGE_SHARE
            ));
        }
        let of_language: Vec<&Example> = lines.iter().filter(|e| e.language == language).collect();
        let intents: HashSet<Intent> = of_language.iter().map(|e| e.labels.intent).collect();
        let urgencies: HashSet<Urgency> = of_language.iter().map(|e| e.labels.urgency).collect();
        let sentiments: HashSet<Sentiment> = of_language.iter().map(|e| e.labels.sentiment).collect();
        let missing: Vec<&str> = Intent::ALL
            .iter()
            .filter(|i| !intents.contains(i))
            .map(|i| i.as_str())
            .chain(switchboard_ai::model::URGENCIES.iter().filter(|u| !urgencies.contains(u)).map(|u| u.as_str()))
            .chain(switchboard_ai::model::SENTIMENTS.iter().filter(|s| !sentiments.contains(s)).map(|s| s.as_str()))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("no {} line labelled {}", language.as_str(), missing.join(", ")));
        }
    }
    let businesses: HashSet<&str> = lines.iter().map(|e| e.business.as_str()).collect();
    if businesses.len() < MIN_BUSINESSES {
        problems.push(format!("{} businesses, at least {MIN_BUSINESSES} needed", businesses.len()));
    }
    let ids = corpus::duplicate_ids(&lines);
    if !ids.is_empty() {
        problems.push(format!("ids used twice: {}", ids.join(", ")));
    }
    let texts: Vec<String> = lines.iter().map(text_of).collect();
    let mut seen = std::collections::HashMap::new();
    for (e, text) in lines.iter().zip(&texts) {
        if let Some(first) = seen.insert(fold(text), e.id.as_str()) {
            problems.push(format!("{} repeats {first} exactly", e.id));
        }
    }
    for (i, j) in corpus::near_duplicate_pairs(&texts) {
        if fold(&texts[i]) != fold(&texts[j]) {
            problems.push(format!("{} and {} are near duplicates", lines[i].id, lines[j].id));
        }
    }

    // The evaluation set stays outside the repository; its one-way
    // fingerprints are committed instead (see `model::fingerprint`).
    let eval = Fingerprint::parse_file(include_str!("../../corpus/eval.fingerprints")).expect("the fingerprint file parses");
    assert!(!eval.is_empty(), "the fingerprint file is empty");
    for e in &lines {
        let copied =
            [text_of(e), e.content.clone()].iter().map(|t| Fingerprint::of(t)).any(|f| eval.iter().any(|theirs| f.is_copy_of(theirs)));
        if copied {
            problems.push(format!("{} copies a sentence of, or nearly repeats, an evaluation inquiry", e.id));
        }
    }
    assert!(problems.is_empty(), "the corpus breaks {} rule(s):\n{}", problems.len(), problems.join("\n"));
}
