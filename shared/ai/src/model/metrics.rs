//! Accuracy and confusion matrices of classifications against labels.

use std::fmt;
use switchboard_domain::{Classification, Intent, ReservationNumber, Sentiment, Urgency};

/// What a labeller said about one inquiry; a field left out is not scored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    /// The intent.
    pub intent: Option<Intent>,
    /// The urgency.
    pub urgency: Option<Urgency>,
    /// The sentiment.
    pub sentiment: Option<Sentiment>,
    /// `Some(None)`: labelled as naming no reservation.
    pub reservation_number: Option<Option<ReservationNumber>>,
    /// Whether a partner must confirm.
    pub needs_partner: Option<bool>,
}

/// Counts of (expected, predicted) pairs over a fixed list of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    /// The field's name.
    pub field: &'static str,
    /// The values, in row and column order.
    pub labels: Vec<&'static str>,
    /// `counts[expected][predicted]`.
    pub counts: Vec<Vec<u32>>,
}

impl Confusion {
    fn new(field: &'static str, labels: Vec<&'static str>) -> Self {
        let n = labels.len();
        Self { field, labels, counts: vec![vec![0; n]; n] }
    }

    fn add(&mut self, expected: &str, predicted: &str) {
        let at = |v: &str| self.labels.iter().position(|l| *l == v);
        if let (Some(e), Some(p)) = (at(expected), at(predicted)) {
            self.counts[e][p] += 1;
        }
    }

    /// Right answers.
    pub fn right(&self) -> u32 {
        (0..self.labels.len()).map(|k| self.counts[k][k]).sum()
    }

    /// Answers scored.
    pub fn total(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    /// Right over scored (0 when nothing was scored).
    pub fn accuracy(&self) -> f64 {
        let total = self.total();
        if total == 0 { 0.0 } else { f64::from(self.right()) / f64::from(total) }
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {}/{} = {:.1} % (rows: labelled, columns: predicted)",
            self.field,
            self.right(),
            self.total(),
            100.0 * self.accuracy()
        )?;
        let width = self.labels.iter().map(|l| l.len()).max().unwrap_or(0).max(6);
        write!(f, "  {:width$}", "")?;
        for l in &self.labels {
            write!(f, " {l:>width$}")?;
        }
        writeln!(f)?;
        for (label, row) in self.labels.iter().zip(&self.counts) {
            write!(f, "  {label:width$}")?;
            for c in row {
                write!(f, " {c:>width$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The scores of a set of classifications.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Intent.
    pub intent: Confusion,
    /// Urgency.
    pub urgency: Confusion,
    /// Sentiment.
    pub sentiment: Confusion,
    /// needs_partner.
    pub needs_partner: Confusion,
    /// Reservation number: `none`, `right` (the labelled number exactly),
    /// `wrong` (another one), against `none` / `some` labelled.
    pub reservation_number: Confusion,
    /// Verdicts scored.
    pub verdicts: u32,
    /// Verdicts marked unsure (they go to a person).
    pub unsure: u32,
    /// Of the sure verdicts, how many had the intent right.
    pub sure_intent_right: u32,
}

impl Default for Evaluation {
    fn default() -> Self {
        Self::new()
    }
}

impl Evaluation {
    /// No verdicts yet.
    pub fn new() -> Self {
        Self {
            intent: Confusion::new("intent", Intent::ALL.iter().map(|i| i.as_str()).collect()),
            urgency: Confusion::new("urgency", super::URGENCIES.iter().map(|u| u.as_str()).collect()),
            sentiment: Confusion::new("sentiment", super::SENTIMENTS.iter().map(|s| s.as_str()).collect()),
            needs_partner: Confusion::new("needs_partner", vec!["false", "true"]),
            reservation_number: Confusion::new("reservation_number", vec!["none", "right", "wrong"]),
            verdicts: 0,
            unsure: 0,
            sure_intent_right: 0,
        }
    }

    /// Scores one verdict.
    pub fn add(&mut self, expected: &Expected, got: &Classification) {
        self.verdicts += 1;
        if got.unsure.is_some() {
            self.unsure += 1;
        } else if expected.intent == Some(got.intent) {
            self.sure_intent_right += 1;
        }
        if let Some(e) = expected.intent {
            self.intent.add(e.as_str(), got.intent.as_str());
        }
        if let Some(e) = expected.urgency {
            self.urgency.add(e.as_str(), got.urgency.as_str());
        }
        if let Some(e) = expected.sentiment {
            self.sentiment.add(e.as_str(), got.sentiment.as_str());
        }
        if let Some(e) = expected.needs_partner {
            self.needs_partner.add(bool_name(e), bool_name(got.needs_partner()));
        }
        if let Some(e) = &expected.reservation_number {
            // Rows: none / some (written in the "right" row); columns: what came back.
            let row = if e.is_some() { "right" } else { "none" };
            let column = match (&got.reservation_number, e) {
                (None, _) => "none",
                (Some(g), Some(e)) if g == e => "right",
                (Some(_), _) => "wrong",
            };
            self.reservation_number.add(row, column);
        }
    }

    /// The share of verdicts marked unsure.
    pub fn unsure_rate(&self) -> f64 {
        if self.verdicts == 0 { 0.0 } else { f64::from(self.unsure) / f64::from(self.verdicts) }
    }

    /// Intent accuracy of the verdicts that were not unsure.
    pub fn sure_intent_accuracy(&self) -> f64 {
        let sure = self.verdicts - self.unsure;
        if sure == 0 { 0.0 } else { f64::from(self.sure_intent_right) / f64::from(sure) }
    }

    /// The per-field confusion matrices, in report order.
    pub fn fields(&self) -> [&Confusion; 5] {
        [&self.intent, &self.urgency, &self.sentiment, &self.needs_partner, &self.reservation_number]
    }
}

fn bool_name(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.fields() {
            write!(f, "{c}")?;
        }
        writeln!(
            f,
            "unsure: {}/{} = {:.1} % escalated; intent accuracy of the rest {:.1} %",
            self.unsure,
            self.verdicts,
            100.0 * self.unsure_rate(),
            100.0 * self.sure_intent_accuracy()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::Language;

    fn verdict(intent: Intent, number: Option<&str>, unsure: bool) -> Classification {
        Classification {
            language: Language::En,
            intent,
            urgency: Urgency::Low,
            sentiment: Sentiment::Neutral,
            reservation_number: number.and_then(|n| ReservationNumber::parse(n).ok()),
            key_phrases: vec![],
            pii: vec![],
            engine: "test".into(),
            certainty: None,
            unsure: unsure.then(|| "intent p=0.40 < 0.50".into()),
        }
    }

    #[test]
    fn accuracy_confusion_and_the_unsure_share_are_counted() {
        let mut e = Evaluation::new();
        let change = Expected {
            intent: Some(Intent::ReservationChange),
            reservation_number: Some(ReservationNumber::parse("HT-12345678").ok()),
            needs_partner: Some(true),
            ..Expected::default()
        };
        e.add(&change, &verdict(Intent::ReservationChange, Some("HT-12345678"), false));
        e.add(&change, &verdict(Intent::GeneralQuestion, Some("XY-99999999"), true));
        assert_eq!(e.intent.right(), 1);
        assert_eq!(e.intent.total(), 2);
        assert_eq!(e.reservation_number.counts[1], vec![0, 1, 1]);
        assert_eq!(e.needs_partner.accuracy(), 0.5);
        assert_eq!(e.unsure_rate(), 0.5);
        assert_eq!(e.sure_intent_accuracy(), 1.0);
        assert_eq!(e.urgency.total(), 0, "an unlabelled field is not scored");
        assert!(e.to_string().contains("intent: 1/2 = 50.0 %"));
    }
}
