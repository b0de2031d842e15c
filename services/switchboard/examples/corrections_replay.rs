//! Replays a labelled corpus as if operators had resolved every inquiry
//! with its label, one tenant per file, and prints what
//! `switchboard model eval --tenant` would report for each: the base
//! classifier alone and with the memory of the earlier corrections (held
//! out by time, in file order).
//!
//! ```sh
//! cargo run -q -p switchboard --example corrections_replay -- shared/ai/corpus/inquiries/*.jsonl
//! ```
//!
//! A line needs `title` (may be empty), `content`, `language`, `intent` and
//! `urgency` (the corpus format of `shared/ai/corpus/LABELLING.md`).

// An example is a tool run by hand: a bad file should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Deserialize;
use switchboard::tenant_eval::evaluate_corrections;
use switchboard_ai::local::LocalClassifier;
use switchboard_ai::{Classifier, ClassifyRequest};
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::text::fold;
use switchboard_domain::{Correction, Intent, Language, TenantId, Urgency};

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    title: String,
    content: String,
    language: Language,
    intent: Intent,
    urgency: Urgency,
}

#[tokio::main]
async fn main() {
    let base = LocalClassifier::new();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("readable file");
        let mut corrections = Vec::new();
        for (n, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let line: Line = serde_json::from_str(line).unwrap_or_else(|e| panic!("{path}:{}: {e}", n + 1));
            let question = if line.title.trim().is_empty() { line.content.clone() } else { format!("{}\n{}", line.title, line.content) };
            let at = jiff::Timestamp::from_second(1_700_000_000 + n as i64).unwrap();
            let inquiry = InquiryBuilder::new().created_at(at, (n % 251) as u8).content(&question).build();
            let request = ClassifyRequest {
                title: None,
                content: fold(&question),
                language_hint: Some(line.language),
                reservation_hint: None,
                attachment_texts: vec![],
            };
            let verdict = base.classify(&request).await.expect("local rules never fail");
            corrections.push(Correction {
                tenant_id: TenantId::parse("replay").unwrap(),
                inquiry_id: inquiry.id,
                at,
                text: fold(&question),
                language: line.language,
                original_intent: verdict.intent,
                original_urgency: verdict.urgency,
                corrected_intent: (verdict.intent != line.intent).then_some(line.intent),
                corrected_urgency: (verdict.urgency != line.urgency).then_some(line.urgency),
                faq_entry_id: None,
            });
        }
        let eval = evaluate_corrections(&corrections, &base).await.expect("local rules never fail");
        println!("== {path}: {} inquiries, {} corrected\n{eval}\n", eval.corrections, eval.teaching);
    }
}
