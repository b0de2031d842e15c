//! Reply suggestions from templates, the tenant's FAQ and the conversation:
//! three drafts for an operator, careful to direct (seed 003's three risk
//! levels). No network.
//!
//! Facts come only from FAQ entries that retrieval finds related to what
//! the customer wrote (at least [`RELATED_LEVEL`], below the level at which
//! an entry would answer on its own: an escalated inquiry often asks
//! something an entry bears on without settling it). A draft never states
//! a fact no entry gives. What each level adds:
//! - careful: apologises when the customer is unhappy, acknowledges, gives
//!   the related facts "for reference", promises only that the team is
//!   looking into it;
//! - balanced: the same facts, and a next step with a time;
//! - direct: a concrete remedy for the intent, bounded by the policy entry
//!   when the FAQ has one (a refund "under our refund policy: …"), and
//!   otherwise a person's call today rather than an invented remedy.

use super::faq::retrieve;
use crate::{AiError, ReplySuggester, SuggestRequest};
use async_trait::async_trait;
use switchboard_domain::{Author, FaqEntry, Grounding, Intent, Language, RiskLevel, Sentiment, Suggestion, Suggestions};

/// The engine id on every set of suggestions made here.
pub const ENGINE: &str = "local-suggestions-v1";

/// Retrieval confidence from which an entry counts as related (the answer
/// level is [`super::CONFIDENCE_THRESHOLD`]).
pub const RELATED_LEVEL: f32 = 0.25;

/// Related entries a draft cites at most.
const MAX_FACTS: usize = 2;

/// Writes the three drafts from templates and the FAQ.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalReplySuggester;

impl LocalReplySuggester {
    pub fn new() -> Self {
        Self
    }

    /// The drafts for one request. Pure and infallible.
    pub fn suggest_now(&self, request: &SuggestRequest) -> Suggestions {
        let facts = related_facts(request);
        let words = Words::of(request);
        let grounded: Vec<Grounding> =
            facts.iter().map(|e| Grounding { faq_entry_id: e.id.clone(), question: e.question.trim().to_owned() }).collect();
        let reference = facts.iter().map(|e| e.answer.trim()).collect::<Vec<_>>().join(" ");
        let suggestions = RiskLevel::ALL
            .into_iter()
            .map(|level| {
                let (text, commits_to, grounded_on) = match level {
                    RiskLevel::Careful => (words.careful(&reference), vec![], grounded.clone()),
                    RiskLevel::Balanced => {
                        (words.balanced(&reference), vec!["a reply with the outcome within one business day".to_owned()], grounded.clone())
                    }
                    RiskLevel::Direct => {
                        let policy = policy_for(request.intent(), &facts);
                        let (text, commits_to) = words.direct(request.intent(), policy.map(|e| e.answer.trim()));
                        let grounded_on = policy
                            .map(|e| vec![Grounding { faq_entry_id: e.id.clone(), question: e.question.trim().to_owned() }])
                            .unwrap_or_default();
                        (text, commits_to, grounded_on)
                    }
                };
                Suggestion { level, text, commits_to, grounded_on }
            })
            .collect();
        Suggestions { suggestions, engine: ENGINE.to_owned() }
    }
}

#[async_trait]
impl ReplySuggester for LocalReplySuggester {
    async fn suggest(&self, request: &SuggestRequest) -> Result<Suggestions, AiError> {
        Ok(self.suggest_now(request))
    }
}

/// What the customer wrote, every message of theirs: the drafts answer the
/// whole conversation, not only its first message.
pub fn customer_text(request: &SuggestRequest) -> String {
    let mut text: Vec<&str> = request.inquiry.title.as_deref().into_iter().collect();
    let said: Vec<&str> = request.conversation.iter().filter(|m| m.author == Author::Customer).map(|m| m.text.as_str()).collect();
    if said.is_empty() {
        text.push(&request.inquiry.content);
    } else {
        text.extend(said);
    }
    text.join("\n")
}

/// The tenant's entries, in the reply language, related to what the customer wrote.
pub fn related_facts(request: &SuggestRequest) -> Vec<&FaqEntry> {
    retrieve(&request.tenant, request.language, &customer_text(request), MAX_FACTS)
        .into_iter()
        .filter(|(_, confidence)| *confidence >= RELATED_LEVEL)
        .map(|(entry, _)| entry)
        .collect()
}

/// Among `facts`, the policy a remedy for `intent` must stay within: an
/// entry about refunds or cancellation for money matters, about changes for a
/// change. `None`: the FAQ states no such policy.
fn policy_for<'a>(intent: Option<Intent>, facts: &[&'a FaqEntry]) -> Option<&'a FaqEntry> {
    let topics: &[&str] = match intent? {
        Intent::Refund | Intent::Complaint => &["refund", "cancel", "환불", "취소"],
        Intent::ReservationChange => &["change", "cancel", "변경", "취소"],
        Intent::TroubleReport | Intent::AddonRequest | Intent::GeneralQuestion => return facts.first().copied(),
    };
    facts.iter().copied().find(|e| {
        let text = format!("{} {}", e.question, e.answer).to_lowercase();
        topics.iter().any(|t| text.contains(t))
    })
}

impl SuggestRequest {
    fn intent(&self) -> Option<Intent> {
        self.inquiry.classification.as_ref().map(|c| c.intent)
    }
}

/// The words of the drafts, in the reply language.
struct Words {
    language: Language,
    /// An apology when the customer is unhappy, else a thanks.
    opening: &'static str,
    /// "booking N" / "예약 N", when a number is known.
    booking: Option<String>,
}

impl Words {
    fn of(request: &SuggestRequest) -> Self {
        let unhappy =
            request.inquiry.classification.as_ref().is_some_and(|c| matches!(c.sentiment, Sentiment::Negative | Sentiment::Mixed));
        let opening = match (request.language, unhappy) {
            (Language::Ko, true) => "불편을 드려 정말 죄송합니다.",
            (Language::Ko, false) => "문의해 주셔서 감사합니다.",
            (Language::En, true) => "We are very sorry for the trouble.",
            (Language::En, false) => "Thank you for getting in touch.",
        };
        let number = request
            .inquiry
            .classification
            .as_ref()
            .and_then(|c| c.reservation_number.as_ref())
            .or(request.inquiry.reservation_number.as_ref());
        let booking = number.map(|n| match request.language {
            Language::Ko => format!("예약 {n}"),
            Language::En => format!("booking {n}"),
        });
        Self { language: request.language, opening, booking }
    }

    fn reference(&self, reference: &str) -> String {
        match (reference.is_empty(), self.language) {
            (true, _) => String::new(),
            (false, Language::Ko) => format!(" 참고로 안내드리면, {reference}"),
            (false, Language::En) => format!(" For your reference: {reference}"),
        }
    }

    fn about(&self) -> String {
        match (&self.booking, self.language) {
            (Some(b), Language::Ko) => format!("{b} 관련 내용을"),
            (None, Language::Ko) => "말씀하신 내용을".to_owned(),
            (Some(b), Language::En) => format!("your message about {b}"),
            (None, Language::En) => "your message".to_owned(),
        }
    }

    fn careful(&self, reference: &str) -> String {
        let about = self.about();
        let body = match self.language {
            Language::Ko => format!("{about} 담당 직원이 확인하고 있습니다."),
            Language::En => format!("We have received {about}, and a member of our team is looking into it."),
        };
        format!("{} {body}{}", self.opening, self.reference(reference))
    }

    fn balanced(&self, reference: &str) -> String {
        let about = self.about();
        let body = match self.language {
            Language::Ko => format!("{about} 확인한 뒤 영업일 기준 하루 안에 결과를 알려 드리겠습니다."),
            Language::En => format!("We are checking {about} and will reply with the outcome within one business day."),
        };
        format!("{}{} {body}", self.opening, self.reference(reference))
    }

    /// The remedy for `intent`, bounded by `policy` (an entry's answer) when there is one.
    fn direct(&self, intent: Option<Intent>, policy: Option<&str>) -> (String, Vec<String>) {
        let ko = self.language == Language::Ko;
        let (remedy, commits): (String, &str) = match (intent, policy) {
            (Some(Intent::Refund | Intent::Complaint), Some(policy)) => (
                if ko {
                    format!("규정에 따라 환불을 진행해 드리겠습니다: {policy} 처리되는 대로 다시 알려 드리겠습니다.")
                } else {
                    format!("We will refund you under our policy: {policy} We will confirm once it is processed.")
                },
                "a refund under the stated refund policy",
            ),
            (Some(Intent::ReservationChange), _) => (
                match (ko, &self.booking) {
                    (true, Some(b)) => format!("{b}을(를) 요청하신 대로 변경하도록 바로 진행하고, 확정되면 알려 드리겠습니다."),
                    (true, None) => "요청하신 대로 예약을 변경하도록 바로 진행하고, 확정되면 알려 드리겠습니다.".to_owned(),
                    (false, Some(b)) => format!("We will change {b} as you asked right away and confirm as soon as it is done."),
                    (false, None) => "We will change your booking as you asked right away and confirm as soon as it is done.".to_owned(),
                },
                "making the requested change, subject to availability",
            ),
            (Some(Intent::TroubleReport), _) => (
                if ko {
                    "바로 담당자를 보내 해결하고, 해결이 어려우면 다른 방법을 마련해 드리겠습니다.".to_owned()
                } else {
                    "We are sending someone to fix it now, and if it cannot be fixed we will arrange an alternative for you.".to_owned()
                },
                "sending someone now, and an alternative if it cannot be fixed",
            ),
            (Some(Intent::AddonRequest), _) => (
                if ko {
                    "요청하신 내용을 예약에 추가하고 확정되면 알려 드리겠습니다.".to_owned()
                } else {
                    "We will add what you asked for to your booking and confirm once it is arranged.".to_owned()
                },
                "adding the request to the booking",
            ),
            (Some(Intent::GeneralQuestion), Some(answer)) => (answer.to_owned(), "the FAQ's answer as stated"),
            // No policy to stay within: a person takes it up today, no remedy invented.
            _ => (
                if ko {
                    "담당 매니저가 오늘 중으로 직접 연락드려 해결 방법을 함께 정하겠습니다.".to_owned()
                } else {
                    "A manager will call you today to agree on how we put this right.".to_owned()
                },
                "a manager's call today",
            ),
        };
        (format!("{} {remedy}", self.opening), vec![commits.to_owned()])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;
    use switchboard_domain::fixtures::{InquiryBuilder, classification};
    use switchboard_domain::{Classification, FaqEntry, Tenant, TenantId};

    fn tenant() -> Tenant {
        use Language::{En, Ko};
        Tenant {
            id: TenantId::parse("sea-breeze").unwrap(),
            name: "Sea Breeze Pension".to_owned(),
            api_key_hash: String::new(),
            domain_context: String::new(),
            faq: vec![
                FaqEntry::new(En, "What time is check-in and check-out?", "Check-in is from 3 pm and check-out is by 11 am."),
                FaqEntry::new(En, "Is parking available?", "Yes, free parking for one car per room is available behind the building."),
                FaqEntry::new(
                    En,
                    "What is your cancellation and refund policy?",
                    "Cancellations 7 days or more before arrival are fully refunded; after that the first night is charged.",
                ),
                FaqEntry::new(
                    Ko,
                    "예약 취소와 환불 규정이 어떻게 되나요?",
                    "도착 7일 전까지 취소하시면 전액 환불되며, 이후에는 첫날 요금이 부과됩니다.",
                ),
            ],
            tier: String::new(),
            version: 1,
            auto_close_days: None,
            contact_email: None,
            sla: None,
        }
    }

    fn request(content: &str, intent: Intent, sentiment: Sentiment, language: Language) -> SuggestRequest {
        let inquiry = InquiryBuilder::new()
            .content(content)
            .language(language)
            .classification(Classification { sentiment, ..classification(language, intent) })
            .build();
        SuggestRequest { tenant: tenant(), inquiry, conversation: vec![], language }
    }

    fn level(s: &Suggestions, level: RiskLevel) -> &Suggestion {
        s.suggestions.iter().find(|x| x.level == level).unwrap()
    }

    #[test]
    fn a_refund_request_gets_three_levels_and_the_direct_one_stays_within_the_refund_policy() {
        let r = request("I want my money back for the cancelled booking", Intent::Refund, Sentiment::Negative, Language::En);
        let s = LocalReplySuggester.suggest_now(&r);
        let levels: Vec<RiskLevel> = s.suggestions.iter().map(|x| x.level).collect();
        assert_eq!(levels, RiskLevel::ALL);
        let careful = level(&s, RiskLevel::Careful);
        assert!(careful.commits_to.is_empty(), "careful promises nothing");
        assert!(careful.text.starts_with("We are very sorry"), "{}", careful.text);
        let direct = level(&s, RiskLevel::Direct);
        let policy = direct.grounded_on.first().expect("the refund policy is cited");
        let entry = r.tenant.faq.iter().find(|e| e.id == policy.faq_entry_id).unwrap();
        assert!(entry.question.to_lowercase().contains("refund"), "{}", entry.question);
        assert!(direct.text.contains(entry.answer.trim()), "the policy's own words: {}", direct.text);
    }

    #[test]
    fn with_no_related_entry_no_fact_is_stated_and_the_direct_draft_offers_a_call_not_a_remedy() {
        let r = request("The neighbours' dog barked all night", Intent::Complaint, Sentiment::Negative, Language::En);
        let s = LocalReplySuggester.suggest_now(&r);
        assert!(s.suggestions.iter().all(|x| x.grounded_on.is_empty()), "{s:?}");
        let direct = level(&s, RiskLevel::Direct);
        assert_eq!(direct.commits_to, ["a manager's call today"]);
        let faq_words = r.tenant.faq.iter().any(|e| s.suggestions.iter().any(|x| x.text.contains(e.answer.trim())));
        assert!(!faq_words, "no FAQ answer quoted without a related entry");
    }

    #[test]
    fn korean_inquiries_get_korean_drafts() {
        let r = request("환불 받고 싶어요 예약 취소했어요", Intent::Refund, Sentiment::Negative, Language::Ko);
        let s = LocalReplySuggester.suggest_now(&r);
        assert!(s.suggestions.iter().all(|x| x.text.starts_with("불편을 드려")), "{s:?}");
    }
}
