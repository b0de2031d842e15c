//! `switchboard model eval --tenant T`: how well the classifier does on a
//! tenant's own corrected inquiries, with and without the tenant's memory.
//!
//! Held out by time, as the memory works live: each correction, in the
//! order operators made them, is predicted by the base classifier alone
//! and by the base classifier plus the memory of the corrections made
//! before it (never itself or later ones). The truth is the operator's
//! value, or the classifier's original one when the operator left it.
//!
//! The base classifier reads the correction's stored text, which is the
//! inquiry's title and content folded (lower case, NFKC), not the original
//! request: attachments and the client's hints are not kept.

use std::fmt;
use switchboard_ai::memory::Memory;
use switchboard_ai::{AiError, Classifier, ClassifyRequest};
use switchboard_domain::{Correction, TenantId};
use switchboard_store::{CorrectionStore, StoreError};

/// Why the evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum TenantEvalError {
    /// The corrections could not be read.
    #[error("reading the tenant's corrections: {0}")]
    Store(#[from] StoreError),
    /// The base classifier failed on a correction's text.
    #[error("the base classifier failed: {0}")]
    Classifier(#[from] AiError),
}

/// Correct predictions out of a number of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// Predictions equal to the truth.
    pub correct: usize,
    /// Cases predicted.
    pub total: usize,
}

impl Score {
    fn add(&mut self, correct: bool) {
        self.total += 1;
        self.correct += usize::from(correct);
    }

    /// `correct / total` in percent; `None` without cases.
    pub fn percent(&self) -> Option<f64> {
        (self.total > 0).then(|| 100.0 * self.correct as f64 / self.total as f64)
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.percent() {
            Some(p) => write!(f, "{p:5.1} % ({}/{})", self.correct, self.total),
            None => write!(f, "    – (0/0)"),
        }
    }
}

/// The tenant's accuracy on its corrections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantEval {
    /// The tenant evaluated.
    pub tenant: Option<TenantId>,
    /// Corrections read (every resolve with feedback).
    pub corrections: usize,
    /// Of them, those that changed the intent or the urgency (what the memory learns from).
    pub teaching: usize,
    /// Cases where the memory of earlier corrections applied.
    pub recalled: usize,
    /// Intent, base classifier alone.
    pub base_intent: Score,
    /// Intent, base classifier and memory.
    pub memory_intent: Score,
    /// Urgency, base classifier alone.
    pub base_urgency: Score,
    /// Urgency, base classifier and memory.
    pub memory_urgency: Score,
}

impl fmt::Display for TenantEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = &self.tenant {
            writeln!(f, "tenant {t}: {} corrections, {} changing intent or urgency", self.corrections, self.teaching)?;
        }
        writeln!(f, "held out by time: each predicted with the memory of the earlier ones ({} recalled)", self.recalled)?;
        writeln!(f, "field    | base only          | base + memory")?;
        writeln!(f, "intent   | {:<18} | {}", self.base_intent.to_string(), self.memory_intent)?;
        write!(f, "urgency  | {:<18} | {}", self.base_urgency.to_string(), self.memory_urgency)
    }
}

/// Evaluates `corrections` (oldest first) against `base`.
pub async fn evaluate_corrections(corrections: &[Correction], base: &dyn Classifier) -> Result<TenantEval, AiError> {
    let mut eval = TenantEval {
        corrections: corrections.len(),
        teaching: corrections.iter().filter(|c| c.corrects_classification()).count(),
        ..TenantEval::default()
    };
    for (i, case) in corrections.iter().enumerate() {
        let request = ClassifyRequest {
            title: None,
            content: case.text.clone(),
            language_hint: Some(case.language),
            reservation_hint: None,
            attachment_texts: Vec::new(),
        };
        let base_verdict = base.classify(&request).await?;
        eval.base_intent.add(base_verdict.intent == case.intent());
        eval.base_urgency.add(base_verdict.urgency == case.urgency());

        let mut verdict = base_verdict;
        // Only what operators had taught before this case.
        if Memory::new(&corrections[..i]).consult(&case.text, &mut verdict).is_some() {
            eval.recalled += 1;
        }
        eval.memory_intent.add(verdict.intent == case.intent());
        eval.memory_urgency.add(verdict.urgency == case.urgency());
    }
    Ok(eval)
}

/// Reads the tenant's corrections and evaluates them against `base`.
pub async fn evaluate(store: &dyn CorrectionStore, base: &dyn Classifier, tenant: &TenantId) -> Result<TenantEval, TenantEvalError> {
    let corrections = store.corrections(tenant).await?;
    let eval = evaluate_corrections(&corrections, base).await?;
    Ok(TenantEval { tenant: Some(tenant.clone()), ..eval })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_ai::local::LocalClassifier;
    use switchboard_domain::correction::memory_text;
    use switchboard_domain::fixtures::InquiryBuilder;
    use switchboard_domain::{Intent, Language};

    /// A correction of `text` made at `second`, from the local rules' verdict to `intent`.
    async fn corrected(text: &str, intent: Intent, second: i64) -> Correction {
        let at = jiff::Timestamp::from_second(1_700_000_000 + second).unwrap();
        let inquiry = InquiryBuilder::new().created_at(at, second as u8).content(text).build();
        let request = ClassifyRequest {
            title: None,
            content: memory_text(&inquiry),
            language_hint: Some(Language::En),
            reservation_hint: None,
            attachment_texts: vec![],
        };
        let base = LocalClassifier::new().classify(&request).await.unwrap();
        Correction {
            tenant_id: inquiry.tenant_id.clone(),
            inquiry_id: inquiry.id,
            at,
            text: memory_text(&inquiry),
            language: Language::En,
            original_intent: base.intent,
            original_urgency: base.urgency,
            corrected_intent: Some(intent),
            corrected_urgency: None,
            faq_entry_id: None,
        }
    }

    #[tokio::test]
    async fn a_repeated_correction_is_right_with_memory_only_from_its_second_time() {
        let card = "The fob for our unit has gone funny";
        let cases = [
            corrected(card, Intent::TroubleReport, 1).await,
            corrected(&format!("{card} again"), Intent::TroubleReport, 2).await,
            corrected("Where can we park our car?", Intent::GeneralQuestion, 3).await,
        ];
        assert_eq!(cases[0].original_intent, Intent::GeneralQuestion, "the base classifier misreads the fob");

        let eval = evaluate_corrections(&cases, &LocalClassifier::new()).await.unwrap();
        assert_eq!((eval.corrections, eval.teaching, eval.recalled), (3, 2, 1), "the first case had nothing earlier to recall");
        assert_eq!(eval.base_intent, Score { correct: 1, total: 3 }, "only the parking question");
        assert_eq!(eval.memory_intent, Score { correct: 2, total: 3 }, "the repeat is right with memory");
        assert_eq!(eval.base_urgency, eval.memory_urgency, "no urgency was corrected");
        assert!(eval.to_string().contains(" 66.7 % (2/3)"), "{eval}");
    }

    #[tokio::test]
    async fn no_corrections_score_nothing() {
        let eval = evaluate_corrections(&[], &LocalClassifier::new()).await.unwrap();
        assert_eq!(eval.memory_intent.percent(), None);
        assert!(eval.to_string().contains("(0/0)"));
    }
}
