//! Two engines on one inquiry: the Bedrock intent model's verdict checked
//! against the local classifier's.
//!
//! A single model's confident mistake goes straight to a partner or a
//! customer, so when a Bedrock intent model is configured its verdict is
//! not simply taken: it is compared with the local model's. Agreement
//! raises the certainty; a disagreement that neither engine is sure about
//! makes the verdict `unsure`, which a person reads instead (the responder
//! escalates it with reason [`switchboard_domain::UNSURE`], and the
//! classifier never sends it to a partner).

use super::bedrock::IntentVerdict;
use switchboard_domain::{Certainty, Classification, Intent, Urgency};

/// The local model's intent probability at or above which it is sure of
/// its intent. Below it, a disagreement with an unsure Bedrock cannot be
/// settled by either. A local verdict without a probability (the rules,
/// which cannot tell) counts as not sure.
pub const LOCAL_INTENT_BAR: f32 = 0.6;

/// The confidence Bedrock must state for its intent to be sure of it. An
/// answer without a confidence counts as not sure.
pub const BEDROCK_CONFIDENCE_BAR: f32 = 0.7;

/// What the cross-check decided: the intent and urgency to keep, how sure
/// the result is, and why a person must decide instead, if so.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    /// The intent kept.
    pub intent: Intent,
    /// The urgency kept (the same engine's as the intent).
    pub urgency: Urgency,
    /// The intent's certainty after the check; urgency and sentiment are
    /// the local verdict's (0 when it gave none).
    pub certainty: Certainty,
    /// Set when the engines disagree and neither is sure; names both
    /// engines and their intents, never the inquiry's content.
    pub unsure: Option<String>,
}

/// Checks Bedrock's `verdict` against the `local` classification.
///
/// - They agree on the intent: it is kept, and its certainty is that of two
///   independent engines agreeing, `1 − (1 − p)(1 − q)` (`p` the local
///   probability, `q` Bedrock's confidence; either 0 when not stated).
/// - They disagree, and the local model is below [`LOCAL_INTENT_BAR`] and
///   Bedrock below [`BEDROCK_CONFIDENCE_BAR`] (or silent): Bedrock's
///   verdict stands, marked `unsure`.
/// - They disagree and one is sure: the surer engine's intent and urgency
///   stand, with its certainty.
pub fn reconcile(local: &Classification, verdict: &IntentVerdict) -> Reconciled {
    let p = local.certainty.map_or(0.0, |c| c.intent);
    let q = verdict.confidence.unwrap_or(0.0);
    let certainty = |intent: f32| Certainty {
        intent,
        urgency: local.certainty.map_or(0.0, |c| c.urgency),
        sentiment: local.certainty.map_or(0.0, |c| c.sentiment),
    };
    if local.intent == verdict.intent {
        return Reconciled {
            intent: verdict.intent,
            urgency: verdict.urgency,
            certainty: certainty(1.0 - (1.0 - p) * (1.0 - q)),
            unsure: None,
        };
    }
    let local_sure = p >= LOCAL_INTENT_BAR;
    let bedrock_sure = q >= BEDROCK_CONFIDENCE_BAR;
    if !local_sure && !bedrock_sure {
        let stated = verdict.confidence.map_or_else(|| "no confidence".to_owned(), |q| format!("confidence {q:.2}"));
        let unsure = format!(
            "bedrock says {} ({stated}) and the local model {} ({p:.2} < {LOCAL_INTENT_BAR}); neither is sure",
            verdict.intent.as_str(),
            local.intent.as_str(),
        );
        return Reconciled { intent: verdict.intent, urgency: verdict.urgency, certainty: certainty(q), unsure: Some(unsure) };
    }
    if local_sure && p > q {
        Reconciled { intent: local.intent, urgency: local.urgency, certainty: certainty(p), unsure: None }
    } else {
        Reconciled { intent: verdict.intent, urgency: verdict.urgency, certainty: certainty(q), unsure: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::Language;

    fn local(intent: Intent, certainty: Option<f32>) -> Classification {
        Classification {
            engine: "local-model".into(),
            certainty: certainty.map(|intent| Certainty { intent, urgency: 0.8, sentiment: 0.9 }),
            ..switchboard_domain::fixtures::classification(Language::En, intent)
        }
    }

    fn bedrock(intent: Intent, confidence: Option<f32>) -> IntentVerdict {
        IntentVerdict { intent, urgency: Urgency::Medium, reservation_number: None, confidence }
    }

    #[test]
    fn agreement_raises_the_certainty_above_either_engine_alone() {
        let r = reconcile(&local(Intent::Refund, Some(0.55)), &bedrock(Intent::Refund, Some(0.6)));
        assert_eq!((r.intent, r.unsure), (Intent::Refund, None));
        assert!(r.certainty.intent > 0.6, "{:?}", r.certainty);
        assert!((r.certainty.intent - (1.0 - 0.45 * 0.4)).abs() < 1e-6);
        assert_eq!((r.certainty.urgency, r.certainty.sentiment), (0.8, 0.9), "the other fields stay the local model's");
    }

    #[test]
    fn a_disagreement_neither_engine_is_sure_of_is_unsure_and_names_both_engines() {
        for (p, q) in [(Some(0.41), None), (Some(0.59), Some(0.5)), (None, None), (None, Some(0.69))] {
            let r = reconcile(&local(Intent::GeneralQuestion, p), &bedrock(Intent::ReservationChange, q));
            let why = r.unsure.unwrap_or_default();
            assert!(why.contains("bedrock says reservation_change") && why.contains("local model general_question"), "{why}");
            assert_eq!(r.intent, Intent::ReservationChange);
        }
    }

    #[test]
    fn a_disagreement_one_engine_is_sure_of_goes_its_way() {
        let sure_local = reconcile(&local(Intent::GeneralQuestion, Some(0.92)), &bedrock(Intent::ReservationChange, None));
        assert_eq!((sure_local.intent, sure_local.urgency, sure_local.unsure), (Intent::GeneralQuestion, Urgency::Low, None));
        let sure_bedrock = reconcile(&local(Intent::GeneralQuestion, Some(0.3)), &bedrock(Intent::ReservationChange, Some(0.9)));
        assert_eq!((sure_bedrock.intent, sure_bedrock.urgency, sure_bedrock.unsure), (Intent::ReservationChange, Urgency::Medium, None));
        let both = reconcile(&local(Intent::GeneralQuestion, Some(0.7)), &bedrock(Intent::ReservationChange, Some(0.95)));
        assert_eq!(both.intent, Intent::ReservationChange, "the surer engine wins");
    }
}
