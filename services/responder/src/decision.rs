//! Answer or escalate: the responder's rules, kept pure so they read as a table.

use switchboard_ai::Draft;
use switchboard_domain::{Classification, Escalation, Intent, Language, PartnerOutcome, Sentiment, UNSURE, Urgency};

/// Below this a draft is not trusted to go to the customer.
pub const MIN_CONFIDENCE: f32 = 0.5;

/// What the responder does with an inquiry.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Answer { text: String },
    Escalate { reason: String, customer_message: String },
}

/// Decides from the classification, the partner outcome and the draft
/// (`Err` when the engine failed).
pub fn decide(
    classification: Option<&Classification>,
    partner_outcome: Option<&PartnerOutcome>,
    draft: Result<&Draft, &str>,
    language: Language,
) -> Decision {
    let escalate = |reason: &str, message: String| Decision::Escalate { reason: reason.to_owned(), customer_message: message };
    let draft = match draft {
        Ok(d) => d,
        Err(why) => return escalate(&format!("answer engine failed: {why}"), fallback_message(language)),
    };
    match partner_outcome {
        // The customer hears the outcome either way; a human takes over.
        Some(PartnerOutcome::TimedOut) => return escalate("the partner did not answer in time", draft.text.clone()),
        Some(_) => return Decision::Answer { text: draft.text.clone() },
        None => {}
    }
    if let Some(c) = classification {
        // An unsure verdict is not acted on: a person reads it.
        if c.unsure.is_some() {
            return escalate(UNSURE, holding_message(language));
        }
        let angry = c.sentiment == Sentiment::Negative || c.urgency == Urgency::High;
        if c.intent == Intent::Complaint && angry {
            return escalate("an urgent or angry complaint needs a person", holding_message(language));
        }
        if c.intent == Intent::Refund {
            return escalate("refunds are decided by a person", holding_message(language));
        }
        if c.urgency == Urgency::High {
            return escalate("urgent inquiries go to a person", holding_message(language));
        }
        if c.intent.involves_partner() && c.reservation_number.is_none() {
            return escalate("no reservation number to act on", holding_message(language));
        }
    }
    if let Some(reason) = &draft.escalate {
        return escalate(reason, holding_message(language));
    }
    if draft.confidence < MIN_CONFIDENCE {
        return escalate("the FAQ does not answer this inquiry", holding_message(language));
    }
    Decision::Answer { text: draft.text.clone() }
}

/// What the customer hears when a person will answer.
pub fn holding_message(language: Language) -> String {
    Escalation::holding_message(language)
}

/// What the customer hears when the answer engine failed: the inquiry is
/// received and a person will answer.
pub fn fallback_message(language: Language) -> String {
    match language {
        Language::Ko => "문의가 접수되었습니다. 지금은 자동 답변을 드리기 어려워 담당자가 확인 후 연락드리겠습니다.".into(),
        Language::En => {
            "We have received your inquiry. We cannot answer it automatically right now, so a member of our team will get back to you."
                .into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holding_and_fallback_texts_with_the_longest_link_are_3_segments_in_korean_and_2_in_english() {
        use switchboard_domain::customer_link::with_link;
        use switchboard_domain::fixtures::longest_customer_link;
        for (language, segments) in [(Language::Ko, 3), (Language::En, 2)] {
            for text in [holding_message(language), fallback_message(language)] {
                let texted = with_link(&text, &longest_customer_link(), language);
                assert_eq!(switchboard_domain::sms_segments(&texted), segments, "{texted}");
            }
        }
    }
    use switchboard_domain::ReservationNumber;

    fn draft(confidence: f32) -> Draft {
        Draft { text: "answer".into(), confidence, escalate: None, model: "m".into(), prompt_tokens: 0, completion_tokens: 0 }
    }

    fn classified(intent: Intent, urgency: Urgency, sentiment: Sentiment) -> Classification {
        Classification {
            urgency,
            sentiment,
            reservation_number: ReservationNumber::parse("HT-20481123").ok(),
            ..switchboard_domain::fixtures::classification(Language::En, intent)
        }
    }

    #[test]
    fn a_confident_faq_answer_goes_to_the_customer() {
        let c = classified(Intent::GeneralQuestion, Urgency::Low, Sentiment::Neutral);
        assert_eq!(decide(Some(&c), None, Ok(&draft(0.9)), Language::En), Decision::Answer { text: "answer".into() });
    }

    #[test]
    fn an_unsure_verdict_is_escalated_with_reason_unsure_even_with_a_confident_answer() {
        let mut c = classified(Intent::GeneralQuestion, Urgency::Low, Sentiment::Neutral);
        c.unsure = Some("intent 0.41 below 0.60".into());
        assert_eq!(
            decide(Some(&c), None, Ok(&draft(0.9)), Language::En),
            Decision::Escalate { reason: "unsure".into(), customer_message: holding_message(Language::En) }
        );
    }

    #[test]
    fn an_angry_complaint_is_escalated() {
        let c = classified(Intent::Complaint, Urgency::High, Sentiment::Negative);
        assert!(matches!(decide(Some(&c), None, Ok(&draft(0.9)), Language::En), Decision::Escalate { .. }));
    }

    #[test]
    fn a_weak_draft_is_escalated_with_a_holding_message() {
        let c = classified(Intent::GeneralQuestion, Urgency::Low, Sentiment::Neutral);
        let d = decide(Some(&c), None, Ok(&draft(0.2)), Language::Ko);
        assert_eq!(
            d,
            Decision::Escalate { reason: "the FAQ does not answer this inquiry".into(), customer_message: holding_message(Language::Ko) }
        );
    }

    #[test]
    fn an_engine_failure_escalates_with_the_fallback_message() {
        let d = decide(None, None, Err("timeout"), Language::En);
        assert!(matches!(d, Decision::Escalate { customer_message, .. } if customer_message == fallback_message(Language::En)));
    }

    #[test]
    fn a_partner_outcome_is_told_and_a_timeout_also_goes_to_a_person() {
        let c = classified(Intent::ReservationChange, Urgency::Medium, Sentiment::Neutral);
        assert!(matches!(decide(Some(&c), Some(&PartnerOutcome::Accepted), Ok(&draft(1.0)), Language::En), Decision::Answer { .. }));
        let d = decide(Some(&c), Some(&PartnerOutcome::TimedOut), Ok(&draft(1.0)), Language::En);
        assert!(matches!(d, Decision::Escalate { customer_message, .. } if customer_message == "answer"));
    }
}
