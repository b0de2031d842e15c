//! Classifies inquiries with the local engine and, when they carry labels,
//! measures it.
//!
//! ```sh
//! cargo run -q -p switchboard-ai --example classify -- FILE      # or `-` for stdin
//! ```
//!
//! `FILE` holds JSON lines `{"id", "title", "content", ...}`. One JSON line
//! per input goes to stdout: `id`, `language`, `intent`, `urgency`,
//! `sentiment`, `reservation_number` (or null) and `needs_partner`. When the
//! inputs also carry the labels `intent`, `urgency`, `sentiment`,
//! `language`, `reservation_number` and `needs_partner`, an accuracy table
//! goes to stderr. Labels are never passed to the classifier: only the
//! title and the content are.

use serde::Deserialize;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;
use switchboard_ai::ClassifyRequest;
use switchboard_ai::local::LocalClassifier;

/// One input line; the label fields are optional.
#[derive(Debug, Deserialize)]
struct Line {
    id: serde_json::Value,
    #[serde(default)]
    title: Option<String>,
    content: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    sentiment: Option<String>,
    /// Absent: unlabelled; `null`: labelled as having none.
    #[serde(default, deserialize_with = "present")]
    reservation_number: Option<Option<String>>,
    #[serde(default)]
    needs_partner: Option<bool>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Right and total answers for one measured field.
#[derive(Default)]
struct Score {
    right: u32,
    total: u32,
}

impl Score {
    fn add(&mut self, right: bool) {
        self.total += 1;
        self.right += u32::from(right);
    }

    fn line(&self, name: &str) -> String {
        if self.total == 0 {
            return format!("{name:<20} (no labels)");
        }
        let pct = 100.0 * f64::from(self.right) / f64::from(self.total);
        format!("{name:<20} {:>3}/{:<3} {pct:5.1} %", self.right, self.total)
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: classify FILE   (JSON lines with id, title, content; `-` reads stdin)");
        return ExitCode::from(2);
    };
    let input: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        match std::fs::File::open(&path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("cannot open {path}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let classifier = LocalClassifier::new();
    let (mut intent, mut urgency, mut sentiment, mut language, mut number, mut partner) =
        (Score::default(), Score::default(), Score::default(), Score::default(), Score::default(), Score::default());
    let mut confusion: Vec<(String, String)> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, line) in BufReader::new(input).lines().enumerate() {
        let line = match line {
            Ok(l) if l.trim().is_empty() => continue,
            Ok(l) => l,
            Err(e) => {
                eprintln!("line {}: cannot read: {e}", n + 1);
                return ExitCode::FAILURE;
            }
        };
        let item: Line = match serde_json::from_str(&line) {
            Ok(item) => item,
            Err(e) => {
                eprintln!("line {}: not an inquiry: {e}", n + 1);
                return ExitCode::FAILURE;
            }
        };
        let request = ClassifyRequest {
            title: item.title.clone(),
            content: item.content.clone(),
            language_hint: None,
            reservation_hint: None,
            attachment_texts: vec![],
        };
        let c = classifier.classify_now(&request);
        let found = c.reservation_number.as_ref().map(|r| r.as_str().to_owned());
        let result = json!({
            "id": item.id,
            "language": c.language.as_str(),
            "intent": c.intent.as_str(),
            "urgency": c.urgency.as_str(),
            "sentiment": c.sentiment.as_str(),
            "reservation_number": found,
            "needs_partner": c.needs_partner(),
        });
        if writeln!(out, "{result}").is_err() {
            return ExitCode::FAILURE;
        }
        if let Some(label) = &item.intent {
            intent.add(label == c.intent.as_str());
            if label != c.intent.as_str() {
                confusion.push((label.clone(), c.intent.as_str().to_owned()));
            }
        }
        if let Some(label) = &item.urgency {
            urgency.add(label == c.urgency.as_str());
        }
        if let Some(label) = &item.sentiment {
            sentiment.add(label == c.sentiment.as_str());
        }
        if let Some(label) = &item.language {
            language.add(label == c.language.as_str());
        }
        if let Some(label) = &item.reservation_number {
            number.add(*label == found);
        }
        if let Some(label) = item.needs_partner {
            partner.add(label == c.needs_partner());
        }
    }
    if intent.total > 0 {
        eprintln!("local classifier ({}), {} labelled inquiries", switchboard_ai::local::CLASSIFIER_ENGINE, intent.total);
        for (name, score) in [
            ("intent", &intent),
            ("urgency", &urgency),
            ("sentiment", &sentiment),
            ("language", &language),
            ("reservation_number", &number),
            ("needs_partner", &partner),
        ] {
            eprintln!("{}", score.line(name));
        }
        confusion.sort();
        for (label, got) in confusion {
            eprintln!("  intent {label} read as {got}");
        }
    }
    ExitCode::SUCCESS
}
