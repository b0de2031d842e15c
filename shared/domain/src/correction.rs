//! What an operator taught Switchboard while resolving an escalated
//! inquiry: the right intent or urgency, and the FAQ entry that answers it.
//! A tenant's corrections are its memory: the classifier consults them
//! beside the base model.

use crate::classification::{Intent, Language, Urgency};
use crate::faq::FaqEntryId;
use crate::inquiry::{Inquiry, InquiryId};
use crate::tenant::TenantId;
use crate::text::fold;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One operator's feedback on one inquiry. There is at most one per
/// inquiry: resolving again replaces it (see `CorrectionStore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The tenant whose memory it belongs to.
    pub tenant_id: TenantId,
    /// The inquiry it was given on.
    pub inquiry_id: InquiryId,
    /// When the inquiry was resolved (its `updated_at` then), so a retried
    /// resolve writes the same record.
    pub at: Timestamp,
    /// The inquiry's question, [`fold`]ed: all the memory needs to compare.
    pub text: String,
    /// The inquiry's language.
    pub language: Language,
    /// The classifier's intent.
    pub original_intent: Intent,
    /// The classifier's urgency.
    pub original_urgency: Urgency,
    /// The operator's intent, when the classifier's was wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_intent: Option<Intent>,
    /// The operator's urgency, when the classifier's was wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_urgency: Option<Urgency>,
    /// The FAQ entry the operator linked or created for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq_entry_id: Option<FaqEntryId>,
}

impl Correction {
    /// The intent the inquiry really had: the operator's, else the classifier's.
    pub fn intent(&self) -> Intent {
        self.corrected_intent.unwrap_or(self.original_intent)
    }

    /// The urgency the inquiry really had: the operator's, else the classifier's.
    pub fn urgency(&self) -> Urgency {
        self.corrected_urgency.unwrap_or(self.original_urgency)
    }

    /// Whether the operator changed the intent or the urgency (only those
    /// teach the classifier anything).
    pub fn corrects_classification(&self) -> bool {
        self.corrected_intent.is_some_and(|i| i != self.original_intent)
            || self.corrected_urgency.is_some_and(|u| u != self.original_urgency)
    }
}

/// The inquiry's question as the customer wrote it: the title and the
/// content on separate lines, or the content alone. Operators' FAQ links
/// add it as a variant; corrections keep its [`fold`].
pub fn question_of(inquiry: &Inquiry) -> String {
    match inquiry.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => format!("{title}\n{}", inquiry.content.trim()),
        None => inquiry.content.trim().to_owned(),
    }
}

/// The text the memory compares: the [`fold`] of [`question_of`].
pub fn memory_text(inquiry: &Inquiry) -> String {
    fold(&question_of(inquiry))
}

/// The id of the FAQ entry an operator saves from inquiry `id`: derived
/// from the inquiry, so a retried resolve finds the entry it created
/// instead of creating a second one.
pub fn saved_faq_entry_id(id: InquiryId) -> FaqEntryId {
    // `derive` hashes its input; the fixed language keeps the id independent of the entry's.
    FaqEntryId::derive(Language::En, &format!("saved from inquiry {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::InquiryBuilder;

    fn correction() -> Correction {
        let inquiry = InquiryBuilder::new().content("The shower has no hot water").build();
        Correction {
            tenant_id: inquiry.tenant_id.clone(),
            inquiry_id: inquiry.id,
            at: inquiry.created_at,
            text: memory_text(&inquiry),
            language: Language::En,
            original_intent: Intent::GeneralQuestion,
            original_urgency: Urgency::Low,
            corrected_intent: None,
            corrected_urgency: None,
            faq_entry_id: None,
        }
    }

    #[test]
    fn the_operators_values_win_over_the_classifiers() {
        let mut c = correction();
        assert_eq!((c.intent(), c.urgency()), (Intent::GeneralQuestion, Urgency::Low));
        assert!(!c.corrects_classification(), "no change, nothing to learn");
        c.corrected_intent = Some(Intent::TroubleReport);
        assert_eq!((c.intent(), c.urgency()), (Intent::TroubleReport, Urgency::Low));
        assert!(c.corrects_classification());
    }

    #[test]
    fn confirming_the_classifiers_value_teaches_nothing() {
        let mut c = correction();
        c.corrected_urgency = Some(Urgency::Low);
        assert!(!c.corrects_classification());
    }

    #[test]
    fn the_question_joins_title_and_content_and_the_memory_reads_it_folded() {
        let with_title = InquiryBuilder::new().title("Ｈｏｔ Water").content(" None in room 12 ").build();
        assert_eq!(question_of(&with_title), "Ｈｏｔ Water\nNone in room 12");
        assert_eq!(memory_text(&with_title), "hot water\nnone in room 12");
        let without = InquiryBuilder::new().content("Is there parking?").build();
        assert_eq!(question_of(&without), "Is there parking?");
    }

    #[test]
    fn a_saved_entry_id_is_the_same_for_the_same_inquiry_only() {
        let a = InquiryBuilder::new().build().id;
        let b = InquiryBuilder::new().created_at(jiff::Timestamp::from_second(1).unwrap(), 2).build().id;
        assert_eq!(saved_faq_entry_id(a), saved_faq_entry_id(a));
        assert_ne!(saved_faq_entry_id(a), saved_faq_entry_id(b));
    }
}
