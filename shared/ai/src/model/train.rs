//! The whole fit: corpus → features → k-fold out-of-fold scores →
//! temperatures and unsure thresholds → the final model on the whole train
//! split. The held-out split is never read here except to be reported.

use super::corpus::{Example, Split};
use super::crossval::{self, choose_threshold, fit_temperature, out_of_fold_logits};
use super::features::{self, BUCKETS, SparseVector};
use super::metrics::{Evaluation, Expected};
use super::softmax::{Softmax, TrainParams};
use super::{Field, FieldModel, Model, artefact, intent_index, sentiment_index, urgency_index};
use crate::ClassifyRequest;
use crate::local::classifier::{classify_with_model, features_of};
use sha2::{Digest, Sha256};

/// Per field: the accuracy out-of-fold verdicts above the unsure threshold
/// must keep, or `None` when the field never makes a verdict unsure. Intent
/// decides where an inquiry goes (partner, FAQ, person), so only it gates:
/// an unsure urgency or sentiment still reaches a person through the
/// intent's route, and gating them too doubled escalations for little gain.
pub const UNSURE_TARGETS: [(Field, Option<f32>); 3] = [(Field::Intent, Some(0.95)), (Field::Urgency, None), (Field::Sentiment, None)];

/// What the fit found for one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSummary {
    /// The field.
    pub field: Field,
    /// Out-of-fold accuracy on the train split.
    pub cv_accuracy: f64,
    /// The fitted temperature.
    pub temperature: f32,
    /// The unsure threshold (0: never unsure).
    pub threshold: f32,
    /// Share of out-of-fold verdicts below the threshold.
    pub unsure_rate: f64,
}

/// A fitted model with what cross-validation left behind.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The model trained on the whole train split, quantised as committed.
    pub model: Model,
    /// Per fold, the model trained without it (calibrated like `model`).
    pub fold_models: Vec<Model>,
    /// Corpus indices of the train split.
    pub train: Vec<usize>,
    /// Each train example's fold, in `train` order.
    pub fold: Vec<usize>,
    /// Corpus indices of the held-out split.
    pub held_out: Vec<usize>,
    /// Per field.
    pub summaries: Vec<FieldSummary>,
}

/// One field's fit: the final model, the fold models, the figures.
struct FittedField {
    whole: FieldModel,
    per_fold: Vec<Softmax>,
    summary: FieldSummary,
}

/// The request the classifier sees for a corpus line: title and content
/// only, never a label.
pub fn request_of(example: &Example) -> ClassifyRequest {
    ClassifyRequest {
        title: (!example.title.is_empty()).then(|| example.title.clone()),
        content: example.content.clone(),
        language_hint: None,
        reservation_hint: None,
        attachment_texts: vec![],
    }
}

/// The labels of a corpus line, every field scored.
pub fn expected_of(example: &Example) -> Expected {
    let l = &example.labels;
    Expected {
        intent: Some(l.intent),
        urgency: Some(l.urgency),
        sentiment: Some(l.sentiment),
        reservation_number: Some(l.reservation_number.clone()),
        needs_partner: Some(l.needs_partner),
    }
}

fn class_of(example: &Example, field: Field) -> usize {
    match field {
        Field::Intent => intent_index(example.labels.intent),
        Field::Urgency => urgency_index(example.labels.urgency),
        Field::Sentiment => sentiment_index(example.labels.sentiment),
    }
}

/// SHA-256 of everything the model depends on besides the code: every
/// corpus line (labels included), the trainer's settings, the folds, the
/// targets and the feature space.
pub fn fingerprint(corpus: &[Example], params: &TrainParams, folds: usize) -> [u8; 32] {
    let mut h = Sha256::new();
    for e in corpus {
        let l = &e.labels;
        let number = l.reservation_number.as_ref().map(|n| n.as_str()).unwrap_or_default();
        for part in [e.id.as_str(), &e.title, &e.content, l.intent.as_str(), l.urgency.as_str(), l.sentiment.as_str(), number] {
            h.update(part.as_bytes());
            h.update([0]);
        }
    }
    h.update(format!("{params:?} folds={folds} targets={UNSURE_TARGETS:?}").as_bytes());
    h.update(features::FEATURE_VERSION.to_le_bytes());
    h.update([features::BUCKET_BITS]);
    h.finish_into()
}

/// `Sha256::finalize` as an array.
trait FinishInto {
    fn finish_into(self) -> [u8; 32];
}

impl FinishInto for Sha256 {
    fn finish_into(self) -> [u8; 32] {
        self.finalize().into()
    }
}

/// Fits the model on the train split of `corpus` with `folds`-fold
/// cross-validation for calibration and thresholds.
pub fn fit(corpus: &[Example], params: &TrainParams, folds: usize) -> Fit {
    let folds = folds.max(2);
    let train: Vec<usize> = (0..corpus.len()).filter(|&n| corpus[n].split() == Split::Train).collect();
    let held_out: Vec<usize> = (0..corpus.len()).filter(|&n| corpus[n].split() == Split::HeldOut).collect();
    let xs: Vec<SparseVector> = train.iter().map(|&n| features_of(&request_of(&corpus[n]))).collect();
    let refs: Vec<&SparseVector> = xs.iter().collect();
    let fold: Vec<usize> = train.iter().map(|&n| crossval::fold_of(&corpus[n].id, folds)).collect();
    let fingerprint = fingerprint(corpus, params, folds);

    let mut fitted: Vec<FittedField> = Vec::new();
    for (field, target) in UNSURE_TARGETS {
        let ys: Vec<usize> = train.iter().map(|&n| class_of(&corpus[n], field)).collect();
        let classes = field.classes().len();
        let (logits, per_fold) = out_of_fold_logits(&refs, &ys, &fold, folds, BUCKETS, classes, params);
        let temperature = fit_temperature(&logits, &ys);
        let scored = crossval::scored(&logits, &ys, temperature);
        let threshold = target.map_or(0.0, |t| choose_threshold(&scored, t));
        let right = scored.iter().filter(|(_, r)| *r).count();
        let below = scored.iter().filter(|(p, _)| *p < threshold).count();
        let summary = FieldSummary {
            field,
            cv_accuracy: right as f64 / scored.len().max(1) as f64,
            temperature,
            threshold,
            unsure_rate: below as f64 / scored.len().max(1) as f64,
        };
        let whole = FieldModel { softmax: Softmax::train(&refs, &ys, BUCKETS, classes, params), temperature, threshold };
        fitted.push(FittedField { whole, per_fold, summary });
    }
    let model_of = |pick: &dyn Fn(&FittedField) -> FieldModel| -> Model {
        let mut it = fitted.iter().map(pick);
        let (intent, urgency, sentiment) = (it.next(), it.next(), it.next());
        let zero = |field: Field| FieldModel { softmax: Softmax::zeros(BUCKETS, field.classes().len()), temperature: 1.0, threshold: 0.0 };
        let model = Model {
            intent: intent.unwrap_or_else(|| zero(Field::Intent)),
            urgency: urgency.unwrap_or_else(|| zero(Field::Urgency)),
            sentiment: sentiment.unwrap_or_else(|| zero(Field::Sentiment)),
            fingerprint,
        };
        // Predict with exactly the weights that are committed.
        artefact::decode(&artefact::encode(&model)).unwrap_or(model)
    };
    let model = model_of(&|f| f.whole.clone());
    let fold_models = (0..folds)
        .map(|f| {
            model_of(&|field| FieldModel {
                softmax: field.per_fold[f].clone(),
                temperature: field.whole.temperature,
                threshold: field.whole.threshold,
            })
        })
        .collect();
    Fit { model, fold_models, train, fold, held_out, summaries: fitted.into_iter().map(|f| f.summary).collect() }
}

impl Fit {
    /// Every train line classified by the model that did not see it.
    pub fn cross_validation(&self, corpus: &[Example]) -> Evaluation {
        let mut e = Evaluation::new();
        for (k, &n) in self.train.iter().enumerate() {
            let got = classify_with_model(&self.fold_models[self.fold[k]], &request_of(&corpus[n]));
            e.add(&expected_of(&corpus[n]), &got);
        }
        e
    }

    /// Every held-out line classified by the final model.
    pub fn held_out(&self, corpus: &[Example]) -> Evaluation {
        let mut e = Evaluation::new();
        for &n in &self.held_out {
            e.add(&expected_of(&corpus[n]), &classify_with_model(&self.model, &request_of(&corpus[n])));
        }
        e
    }
}
