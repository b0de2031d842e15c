//! The trained classifier behind [`crate::local::LocalClassifier`]: one
//! softmax regression per field (intent, urgency, sentiment) over hashed
//! bilingual features, calibrated by temperature scaling, with per-field
//! "unsure" thresholds chosen by cross-validation.
//!
//! - [`corpus`]: the labelled corpus, its validation and its splits;
//! - [`features`]: what the model reads;
//! - [`fingerprint`]: one-way fingerprints of the evaluation set, so a
//!   test can prove the corpus took nothing from it;
//! - [`softmax`]: the model of one field and its trainer;
//! - [`crossval`]: folds, calibration, thresholds;
//! - [`train`]: the whole fit, from corpus to [`Model`];
//! - [`metrics`]: accuracy and confusion matrices;
//! - [`artefact`]: the committed binary (`shared/ai/model/classifier.bin`),
//!   embedded in the binary and loaded once.

pub mod artefact;
pub mod corpus;
pub mod crossval;
pub mod features;
pub mod fingerprint;
pub mod metrics;
pub mod softmax;
pub mod train;

use softmax::{Softmax, argmax, softmax as probabilities};
use switchboard_domain::{Intent, Sentiment, Urgency};

pub use artefact::{ArtefactError, classifier};
pub use features::SparseVector;

/// A field the model decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// [`Intent`].
    Intent,
    /// [`Urgency`].
    Urgency,
    /// [`Sentiment`].
    Sentiment,
}

/// Urgencies in class-index order.
pub const URGENCIES: [Urgency; 3] = [Urgency::Low, Urgency::Medium, Urgency::High];

/// Sentiments in class-index order.
pub const SENTIMENTS: [Sentiment; 4] = [Sentiment::Positive, Sentiment::Negative, Sentiment::Neutral, Sentiment::Mixed];

impl Field {
    /// Every field, in the artefact's order.
    pub const ALL: [Field; 3] = [Self::Intent, Self::Urgency, Self::Sentiment];

    /// The field's wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Urgency => "urgency",
            Self::Sentiment => "sentiment",
        }
    }

    /// The wire names of its classes, in class-index order.
    pub fn classes(self) -> Vec<&'static str> {
        match self {
            Self::Intent => Intent::ALL.iter().map(|i| i.as_str()).collect(),
            Self::Urgency => URGENCIES.iter().map(|u| u.as_str()).collect(),
            Self::Sentiment => SENTIMENTS.iter().map(|s| s.as_str()).collect(),
        }
    }
}

/// The class index of an intent.
pub fn intent_index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|i| *i == intent).unwrap_or_default()
}

/// The class index of an urgency.
pub fn urgency_index(urgency: Urgency) -> usize {
    URGENCIES.iter().position(|u| *u == urgency).unwrap_or_default()
}

/// The class index of a sentiment.
pub fn sentiment_index(sentiment: Sentiment) -> usize {
    SENTIMENTS.iter().position(|s| *s == sentiment).unwrap_or_default()
}

/// One field's calibrated model.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldModel {
    /// The weights.
    pub softmax: Softmax,
    /// Divides the logits before the softmax (fitted out of fold).
    pub temperature: f32,
    /// Below this calibrated probability the verdict is unsure; 0 for a
    /// field that never makes a verdict unsure.
    pub threshold: f32,
}

impl FieldModel {
    /// The chosen class and its calibrated probability.
    pub fn decide(&self, x: &SparseVector) -> (usize, f32) {
        let p = probabilities(&self.softmax.logits(x), self.temperature);
        let top = argmax(&p);
        (top, p[top])
    }
}

/// The three fields' models and the fingerprint of what they were trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Decides the intent.
    pub intent: FieldModel,
    /// Decides the urgency.
    pub urgency: FieldModel,
    /// Decides the sentiment.
    pub sentiment: FieldModel,
    /// SHA-256 of the corpus and the trainer's settings.
    pub fingerprint: [u8; 32],
}

/// The model's verdict on one inquiry: each field's value and calibrated
/// probability, and why it is unsure, if it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The intent and its probability.
    pub intent: (Intent, f32),
    /// The urgency and its probability.
    pub urgency: (Urgency, f32),
    /// The sentiment and its probability.
    pub sentiment: (Sentiment, f32),
    /// e.g. `intent p=0.41 < 0.55`: names fields and numbers, never content.
    pub unsure: Option<String>,
}

impl Model {
    /// The model of one field.
    pub fn field(&self, field: Field) -> &FieldModel {
        match field {
            Field::Intent => &self.intent,
            Field::Urgency => &self.urgency,
            Field::Sentiment => &self.sentiment,
        }
    }

    /// The model of one field, to change.
    pub fn field_mut(&mut self, field: Field) -> &mut FieldModel {
        match field {
            Field::Intent => &mut self.intent,
            Field::Urgency => &mut self.urgency,
            Field::Sentiment => &mut self.sentiment,
        }
    }

    /// The verdict on one feature vector.
    pub fn decide(&self, x: &SparseVector) -> Verdict {
        let (intent, p_intent) = self.intent.decide(x);
        let (urgency, p_urgency) = self.urgency.decide(x);
        let (sentiment, p_sentiment) = self.sentiment.decide(x);
        let doubts: Vec<String> = [(Field::Intent, p_intent), (Field::Urgency, p_urgency), (Field::Sentiment, p_sentiment)]
            .iter()
            .filter(|(field, p)| *p < self.field(*field).threshold)
            .map(|(field, p)| format!("{} p={p:.2} < {:.2}", field.name(), self.field(*field).threshold))
            .collect();
        Verdict {
            intent: (Intent::ALL.get(intent).copied().unwrap_or(Intent::GeneralQuestion), p_intent),
            urgency: (URGENCIES.get(urgency).copied().unwrap_or(Urgency::Medium), p_urgency),
            sentiment: (SENTIMENTS.get(sentiment).copied().unwrap_or(Sentiment::Neutral), p_sentiment),
            unsure: (!doubts.is_empty()).then(|| doubts.join(", ")),
        }
    }
}
