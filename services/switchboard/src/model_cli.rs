//! The classifier model's commands: `switchboard model train`, `model
//! eval`, `classify` and `eval FILE`. The binary only parses flags and
//! calls these.

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;
use switchboard_ai::ClassifyRequest;
use switchboard_ai::local::LocalClassifier;
use switchboard_ai::local::faq::eval::{Figures, answer_rate};
use switchboard_ai::model::metrics::{Evaluation, Expected};
use switchboard_ai::model::{artefact, corpus, softmax, train};
use switchboard_domain::{Classification, FaqEntry, FaqEntryId, Intent, Language, ReservationNumber, Sentiment, Tenant, TenantId, Urgency};

/// `switchboard model train`: retrains on the committed corpus, writes the
/// artefact to `out` and returns a summary. Deterministic: the same corpus
/// and code write the same bytes.
pub fn train_model(out: &Path, folds: usize) -> anyhow::Result<String> {
    let lines = corpus::load()?;
    let started = Instant::now();
    let fit = train::fit(&lines, &softmax::PARAMS, folds);
    let bytes = artefact::encode(&fit.model);
    let seconds = started.elapsed().as_secs_f64();
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    let mut summary = format!(
        "trained on {} lines ({} held out, not used), {folds}-fold calibration, in {seconds:.1} s; wrote {} ({} bytes)\n",
        fit.train.len(),
        fit.held_out.len(),
        out.display(),
        bytes.len()
    );
    for s in &fit.summaries {
        summary.push_str(&format!(
            "{}: cross-validated accuracy {:.1} %, temperature {:.3}, unsure below {:.3} ({:.1} % of verdicts)\n",
            s.field.name(),
            100.0 * s.cv_accuracy,
            s.temperature,
            s.threshold,
            100.0 * s.unsure_rate
        ));
    }
    Ok(summary)
}

/// `switchboard model eval`: k-fold cross-validation on the train split,
/// then the held-out split's figures, reported apart and never used to
/// choose anything.
pub fn evaluate_model(folds: usize) -> anyhow::Result<String> {
    let lines = corpus::load()?;
    let fit = train::fit(&lines, &softmax::PARAMS, folds);
    let cv = fit.cross_validation(&lines);
    let held_out = fit.held_out(&lines);
    Ok(format!(
        "== {folds}-fold cross-validation, train split ({} lines) ==\n{cv}\n== held-out split ({} lines) ==\n{held_out}",
        fit.train.len(),
        fit.held_out.len()
    ))
}

/// One line of `switchboard classify`'s input.
#[derive(Debug, Deserialize)]
struct Input {
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    title: Option<String>,
    content: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    reservation_number: Option<String>,
    // `customer_phone` and other fields are accepted and ignored: the
    // classifier does not read them.
}

/// The request for one input line; `line` numbers the errors.
fn request_of(input: &Input, line: usize) -> anyhow::Result<ClassifyRequest> {
    let language_hint = match input.language.as_deref() {
        None => None,
        Some(l) => Some(Language::parse(l).with_context(|| format!("line {line}: language {l:?} is neither ko nor en"))?),
    };
    let reservation_hint = match input.reservation_number.as_deref() {
        None => None,
        Some(n) => Some(ReservationNumber::parse(n).with_context(|| format!("line {line}: reservation_number {n:?}"))?),
    };
    Ok(ClassifyRequest {
        title: input.title.clone(),
        content: input.content.clone(),
        language_hint,
        reservation_hint,
        attachment_texts: vec![],
    })
}

/// The verdict line for one classification.
fn verdict_json(id: &serde_json::Value, c: &Classification) -> serde_json::Value {
    json!({
        "id": id,
        "language": c.language,
        "intent": c.intent,
        "urgency": c.urgency,
        "needs_partner": c.needs_partner(),
        "sentiment": c.sentiment,
        "reservation_number": c.reservation_number,
        "certainty": c.certainty,
        "unsure": c.unsure,
    })
}

/// `switchboard classify`: one verdict line per JSON input line (blank
/// lines skipped); returns how many were classified. A malformed line
/// stops with its number.
pub fn classify_lines(input: impl BufRead, mut output: impl Write) -> anyhow::Result<usize> {
    let classifier = LocalClassifier::new();
    let mut count = 0;
    for (index, line) in input.lines().enumerate() {
        let line = line.context("cannot read the input")?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Input = serde_json::from_str(&line).with_context(|| format!("line {}: not an inquiry", index + 1))?;
        let verdict = classifier.classify_now(&request_of(&parsed, index + 1)?);
        writeln!(output, "{}", verdict_json(&parsed.id, &verdict))?;
        count += 1;
    }
    Ok(count)
}

/// One line of a labelled file (the corpus's format, or the evaluation
/// set's): labels that are absent are not scored.
#[derive(Debug, Deserialize)]
pub struct LabelledLine {
    #[serde(flatten)]
    input: Input,
    #[serde(default)]
    intent: Option<Intent>,
    #[serde(default)]
    urgency: Option<Urgency>,
    #[serde(default)]
    sentiment: Option<Sentiment>,
    /// Absent: unlabelled; `null`: labelled as naming none.
    #[serde(default, deserialize_with = "present")]
    reservation_number_label: Option<Option<String>>,
    #[serde(default)]
    needs_partner: Option<bool>,
    /// Absent: not an FAQ question; `null`: one the FAQ does not answer
    /// (it must be escalated); an entry id: the entry that answers it.
    #[serde(default, deserialize_with = "present")]
    faq_entry: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `switchboard eval FILE`'s figures.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEvaluation {
    /// Per field.
    pub classification: Evaluation,
    /// The FAQ lines' figures, when the file has any.
    pub faq: Option<Figures>,
}

/// `switchboard eval FILE`: classifies every labelled line (labels are
/// never passed to the classifier) and scores it; lines that name a
/// `faq_entry` (or `null` for none) are asked of `faq` as the responder
/// would, in the language the classifier read.
pub fn evaluate_file(input: impl BufRead, faq: &[FaqEntry]) -> anyhow::Result<FileEvaluation> {
    let classifier = LocalClassifier::new();
    let mut classification = Evaluation::new();
    let mut questions: Vec<(Language, String, Option<FaqEntryId>)> = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line = line.context("cannot read the input")?;
        if line.trim().is_empty() {
            continue;
        }
        // The label shares its name with the input's hint: read it once as a label.
        let mut value: serde_json::Value = serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", index + 1))?;
        if let Some(object) = value.as_object_mut()
            && let Some(label) = object.remove("reservation_number")
        {
            object.insert("reservation_number_label".into(), label);
        }
        let labelled: LabelledLine =
            serde_json::from_value(value).with_context(|| format!("line {}: not a labelled inquiry", index + 1))?;
        let got = classifier.classify_now(&request_of(&labelled.input, index + 1)?);
        let reservation_number = match &labelled.reservation_number_label {
            None => None,
            Some(None) => Some(None),
            Some(Some(n)) => {
                Some(Some(ReservationNumber::parse(n).with_context(|| format!("line {}: reservation_number {n:?}", index + 1))?))
            }
        };
        let expected = Expected {
            intent: labelled.intent,
            urgency: labelled.urgency,
            sentiment: labelled.sentiment,
            reservation_number,
            needs_partner: labelled.needs_partner,
        };
        classification.add(&expected, &got);
        if let Some(expected) = &labelled.faq_entry {
            let expected = match expected {
                None => None,
                Some(id) => Some(FaqEntryId::parse(id).with_context(|| format!("line {}: faq_entry {id:?}", index + 1))?),
            };
            if let Some(id) = &expected
                && !faq.iter().any(|e| &e.id == id)
            {
                anyhow::bail!("line {}: faq_entry {id} is not in the FAQ", index + 1);
            }
            questions.push((got.language, question_of(&labelled.input), expected));
        }
    }
    let faq = if questions.is_empty() { None } else { Some(answer_rate(&faq_tenant(faq)?, &questions)) };
    Ok(FileEvaluation { classification, faq })
}

/// The text the FAQ is asked: the title and the content, as the responder reads them.
fn question_of(input: &Input) -> String {
    let title = input.title.as_deref().unwrap_or_default().trim();
    if title.is_empty() { input.content.clone() } else { format!("{title}\n{}", input.content) }
}

/// A tenant with `faq` and nothing else, to ask it questions.
fn faq_tenant(faq: &[FaqEntry]) -> anyhow::Result<Tenant> {
    Ok(Tenant {
        id: TenantId::parse("eval").context("the evaluation tenant's id")?,
        name: String::new(),
        api_key_hash: String::new(),
        domain_context: String::new(),
        faq: faq.to_vec(),
        tier: String::new(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    })
}

/// Reads an FAQ file: one entry a line, as the FAQ API shows it
/// (`language`, `question`, `variants`, `answer`, and `id`, derived when
/// absent).
pub fn read_faq(text: &str) -> anyhow::Result<Vec<FaqEntry>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).with_context(|| format!("FAQ line {}: not an FAQ entry", n + 1)))
        .collect()
}

impl std::fmt::Display for FileEvaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.classification)?;
        if let Some(faq) = &self.faq {
            writeln!(f, "faq: {faq}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_writes_one_verdict_per_line_with_every_field() {
        let input = concat!(
            r#"{"id":"a","content":"Could you move my booking HT-20481123 to the 25th?"}"#,
            "\n\n",
            r#"{"id":7,"title":"조식","content":"조식은 몇 시에 제공되나요?","language":"ko","customer_phone":"010-1234-5678"}"#,
            "\n"
        );
        let mut out = Vec::new();
        assert_eq!(classify_lines(input.as_bytes(), &mut out).unwrap(), 2);
        let lines: Vec<serde_json::Value> = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["id"], "a");
        assert_eq!(lines[0]["reservation_number"], "HT-20481123");
        assert_eq!(lines[0]["intent"], "reservation_change");
        assert_eq!(lines[0]["needs_partner"], true);
        assert_eq!(lines[1]["id"], 7);
        assert_eq!(lines[1]["language"], "ko");
        assert_eq!(lines[1]["intent"], "general_question");
        for field in ["urgency", "sentiment", "certainty", "unsure"] {
            assert!(lines[1].get(field).is_some(), "{field} missing");
        }
        assert!(lines[1]["certainty"]["intent"].as_f64().is_some_and(|p| p > 0.0 && p <= 1.0));
    }

    #[test]
    fn a_malformed_line_is_reported_by_number() {
        let error = classify_lines("{\"content\":\"hi\"}\n{\"title\":1}\n".as_bytes(), std::io::sink()).unwrap_err();
        assert!(format!("{error:#}").contains("line 2"), "{error:#}");
    }

    #[test]
    fn eval_scores_labels_and_the_faq_answer_rate() {
        let faq = crate::demo::faq();
        let checkin = faq.iter().find(|e| e.language == Language::En && e.question.to_lowercase().contains("check-in")).unwrap();
        let input = format!(
            "{}\n{}\n{}\n",
            r#"{"id":"1","content":"My card was charged twice for booking HT-20481123, please refund one.","intent":"refund","urgency":"medium","sentiment":"NEGATIVE","reservation_number":"HT-20481123","needs_partner":false}"#,
            serde_json::json!({"id": "2", "content": checkin.question, "intent": "general_question", "reservation_number": null, "faq_entry": checkin.id}),
            r#"{"id":"3","content":"Can I pay the deposit in bitcoin?","faq_entry":null}"#,
        );
        let result = evaluate_file(input.as_bytes(), &faq).unwrap();
        let c = &result.classification;
        assert_eq!(c.intent.total(), 2);
        assert_eq!(c.urgency.total(), 1, "only labelled fields are scored");
        assert_eq!(c.reservation_number.total(), 2);
        assert_eq!(c.reservation_number.right(), 2, "the number, and no number, both read right");
        let figures = result.faq.unwrap();
        assert_eq!((figures.paraphrases, figures.right, figures.wrong), (1, 1, 0), "{figures}");
        assert_eq!((figures.out_of_faq, figures.invented), (1, 0), "{figures}");
        assert!(result.to_string().contains("faq: paraphrases 1/1 right"), "{result}");
    }

    #[test]
    fn an_faq_entry_the_faq_does_not_have_is_an_error_naming_its_line() {
        let input = r#"{"id":"1","content":"What time is check-in?","faq_entry":"faq-000000000000"}"#;
        let error = evaluate_file(input.as_bytes(), &crate::demo::faq()).unwrap_err();
        assert!(format!("{error:#}").contains("line 1: faq_entry faq-000000000000 is not in the FAQ"), "{error:#}");
    }

    #[test]
    fn an_faq_file_reads_entries_and_derives_missing_ids() {
        let faq = read_faq(r#"{"language":"en","question":"Is there parking?","answer":"Yes, free."}"#).unwrap();
        assert_eq!(faq[0].id, FaqEntryId::derive(Language::En, "Is there parking?"));
        assert!(format!("{:#}", read_faq("{}").unwrap_err()).contains("FAQ line 1"));
    }
}
