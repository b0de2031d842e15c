//! Answers grounded in the tenant's FAQ, found by BM25 retrieval, and
//! notifications of a partner's answer, from templates.
//!
//! English is tokenised into lowercase, lightly stemmed words; Korean into
//! the character bigrams of each Hangul run plus the run itself (minus a
//! trailing particle), because Korean glues particles and endings to words
//! and bigrams still match across those ("체크인은" and "체크인 시간").

use crate::{AiError, AnswerDrafter, Draft, DraftRequest};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use switchboard_domain::{FaqEntry, Inquiry, Intent, Language, PartnerOutcome, ReservationNumber, Tenant};

/// The `model` recorded on every draft this module makes.
pub const MODEL: &str = "local-faq-bm25";

/// At or above this confidence the FAQ answer is sent; below it a human answers.
pub const CONFIDENCE_THRESHOLD: f32 = 0.5;

/// Why a draft below the threshold is escalated.
pub const NO_FAQ_MATCH: &str = "no FAQ entry answers this inquiry";

/// BM25 term-frequency saturation and length normalisation (the usual values).
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// A question counts twice in its entry: it says what the entry is about,
/// while the answer also mentions neighbouring topics.
const QUESTION_REPEAT: usize = 2;

/// Confidence is `doc_coverage^DOC_WEIGHT × query_coverage^(1-DOC_WEIGHT)`:
/// mostly "does the inquiry ask what this entry answers", tempered by "is
/// the inquiry mostly about something else". Long inquiries carry context
/// words no FAQ has, so query coverage only weighs a quarter.
const DOC_WEIGHT: f32 = 0.75;

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

/// One FAQ entry found for a query, with its confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hit<'a> {
    entry: &'a FaqEntry,
    confidence: f32,
}

fn faq_draft(request: &DraftRequest) -> Draft {
    let inquiry = &request.inquiry;
    let query = match inquiry.title.as_deref() {
        Some(title) => format!("{title}\n{}", inquiry.content),
        None => inquiry.content.clone(),
    };
    // Only entries in the reply language can answer: a reply must be in the
    // customer's language and this engine cannot translate.
    let entries: Vec<&FaqEntry> = request.tenant.faq.iter().filter(|e| e.language == request.language).collect();
    let hits = search(&entries, &query);
    let prompt_tokens = word_count(&query) + entries.iter().map(|e| word_count(&e.question) + word_count(&e.answer)).sum::<u32>();

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
    Draft {
        completion_tokens: word_count(&text),
        text,
        confidence,
        escalate,
        model: MODEL.to_owned(),
        prompt_tokens,
    }
}

/// The entries that share terms with the query, best first.
fn search<'a>(entries: &[&'a FaqEntry], query: &str) -> Vec<Hit<'a>> {
    if entries.is_empty() {
        return Vec::new();
    }
    let index = Index::new(entries);
    let query_terms = unique(tokenize(query));
    let mut hits: Vec<Hit<'a>> = index
        .docs
        .iter()
        .filter_map(|doc| {
            let confidence = index.confidence(&query_terms, doc);
            (confidence > 0.0).then_some(Hit { entry: doc.entry, confidence })
        })
        .collect();
    hits.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    hits
}

struct Doc<'a> {
    entry: &'a FaqEntry,
    tf: HashMap<String, u32>,
    len: f32,
    /// The entry's own question, deduplicated: the query that fits it best.
    question_terms: Vec<String>,
}

struct Index<'a> {
    docs: Vec<Doc<'a>>,
    df: HashMap<String, u32>,
    avg_len: f32,
}

impl<'a> Index<'a> {
    fn new(entries: &[&'a FaqEntry]) -> Self {
        let docs: Vec<Doc<'a>> = entries
            .iter()
            .map(|entry| {
                let question = tokenize(&entry.question);
                let mut terms: Vec<String> = Vec::new();
                for _ in 0..QUESTION_REPEAT {
                    terms.extend(question.iter().cloned());
                }
                terms.extend(tokenize(&entry.answer));
                let mut tf = HashMap::new();
                for t in &terms {
                    *tf.entry(t.clone()).or_insert(0) += 1;
                }
                Doc { entry, tf, len: terms.len() as f32, question_terms: unique(question) }
            })
            .collect();
        let mut df: HashMap<String, u32> = HashMap::new();
        for doc in &docs {
            for term in doc.tf.keys() {
                *df.entry(term.clone()).or_insert(0) += 1;
            }
        }
        let avg_len = (docs.iter().map(|d| d.len).sum::<f32>() / docs.len().max(1) as f32).max(1.0);
        Self { docs, df, avg_len }
    }

    /// Lucene's non-negative BM25 idf. A term no entry has gets the
    /// highest idf: an unknown word is as telling as the rarest known one.
    fn idf(&self, term: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.df.get(term).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn bm25(&self, terms: &[String], doc: &Doc<'_>) -> f32 {
        terms
            .iter()
            .filter_map(|t| doc.tf.get(t).map(|&tf| (t, tf as f32)))
            .map(|(t, tf)| self.idf(t) * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * doc.len / self.avg_len)))
            .sum()
    }

    /// 0–1: how much of the entry's question the query covers (BM25 relative
    /// to the entry's own question), tempered by how much of the query
    /// (idf-weighted) the entry covers.
    fn confidence(&self, query_terms: &[String], doc: &Doc<'_>) -> f32 {
        let score = self.bm25(query_terms, doc);
        let reference = self.bm25(&doc.question_terms, doc);
        if score <= 0.0 || reference <= 0.0 {
            return 0.0;
        }
        let doc_coverage = (score / reference).min(1.0);
        let total: f32 = query_terms.iter().map(|t| self.idf(t)).sum();
        let covered: f32 = query_terms.iter().filter(|t| doc.tf.contains_key(*t)).map(|t| self.idf(t)).sum();
        let query_coverage = if total > 0.0 { covered / total } else { 0.0 };
        (doc_coverage.powf(DOC_WEIGHT) * query_coverage.powf(1.0 - DOC_WEIGHT)).clamp(0.0, 1.0)
    }
}

fn unique(terms: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    terms.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Terms of a text: English words (lowercase, stemmed, no stopwords) and
/// Korean runs (the run minus a trailing particle, and its bigrams).
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut hangul: Vec<char> = Vec::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || (c == '\'' && !word.is_empty()) {
            flush_hangul(&mut hangul, &mut out);
            word.push(c.to_ascii_lowercase());
        } else if is_hangul(c) {
            flush_word(&mut word, &mut out);
            hangul.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_hangul(&mut hangul, &mut out);
        }
    }
    out
}

fn flush_word(word: &mut String, out: &mut Vec<String>) {
    let w = std::mem::take(word);
    let w = w.trim_end_matches('\'').trim_end_matches("'s");
    // Numbers (dates, prices, room numbers) say nothing about the topic.
    if w.len() < 2 || w.chars().all(|c| c.is_ascii_digit()) || EN_STOPWORDS.contains(&w) {
        return;
    }
    out.push(stem(w));
}

fn flush_hangul(run: &mut Vec<char>, out: &mut Vec<String>) {
    let chars = std::mem::take(run);
    if chars.is_empty() {
        return;
    }
    let whole: String = chars.iter().collect();
    let base = strip_particle(&whole);
    if !KO_STOPWORDS.contains(&base) {
        out.push(base.to_owned());
    }
    for pair in chars.windows(2) {
        let bigram: String = pair.iter().collect();
        if !KO_STOPWORDS.contains(&bigram.as_str()) {
            out.push(bigram);
        }
    }
}

/// The word without one trailing particle, when enough is left to mean something.
fn strip_particle(word: &str) -> &str {
    for particle in KO_PARTICLES {
        if let Some(stem) = word.strip_suffix(particle)
            && stem.chars().count() >= 2
        {
            return stem;
        }
    }
    word
}

/// A light English stemmer: enough to make "parking", "parked" and "park"
/// (or "includes", "included", "include") the same term.
fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    if w.len() > 4 && w.ends_with("ies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.pop();
    }
    if w.len() > 5 && w.ends_with("ing") {
        w.truncate(w.len() - 3);
    } else if w.len() > 4 && w.ends_with("ed") {
        w.truncate(w.len() - 2);
    }
    if w.len() > 4 && w.ends_with('e') {
        w.pop();
    }
    w
}

const KO_PARTICLES: &[&str] = &[
    "에서는", "으로는", "에서", "으로", "까지", "부터", "에는", "이나", "은", "는", "이", "가", "을", "를", "에", "도", "로", "의", "요",
];

/// Words that say nothing about the topic of a question.
const EN_STOPWORDS: &[&str] = &[
    "a", "about", "also", "am", "an", "and", "any", "anything", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do",
    "does", "dear", "for", "from", "get", "got", "had", "has", "have", "hello", "hey", "hi", "how", "i", "i'd", "i'm", "if", "in",
    "is", "it", "it's", "just", "know", "let", "like", "me", "much", "my", "of", "on", "or", "our", "please", "possible", "regards",
    "should", "so", "some", "thank", "thanks", "that", "the", "there", "this", "to", "us", "want", "was", "we", "we're", "what",
    "when", "where", "which", "will", "with", "would", "you", "your", "yes", "no", "not", "one", "here", "ask", "wondering", "question",
];

/// Korean bigrams and words of politeness and question endings, common to
/// every inquiry and so useless for telling FAQ entries apart.
const KO_STOPWORDS: &[&str] = &[
    "안녕", "녕하", "하세", "세요", "습니", "니다", "합니", "입니", "해주", "주세", "있나", "나요", "가요", "까요", "할까", "인가",
    "되나", "는데", "은데", "부탁", "드립", "립니", "감사", "사합", "하고", "어요", "아요", "해요", "궁금", "금합", "금해", "문의",
    "의드", "드려", "려요", "가능", "능한", "한가", "한지", "싶어", "싶습", "있을", "있는", "있어", "하는", "하면", "되는", "어떻",
    "떻게", "혹시", "인지", "알려", "려주", "주시", "시면", "겠습", "안녕하세요", "감사합니다", "문의드립니다", "궁금합니다", "가능한가요",
    "있나요", "되나요", "혹시", "부탁드립니다",
];

fn word_count(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
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
    inquiry
        .reservation_number
        .as_ref()
        .or_else(|| inquiry.classification.as_ref().and_then(|c| c.reservation_number.as_ref()))
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
                        Some(Intent::ReservationChange) => format!("요청하신 예약 변경{res}이 파트너사에서 확정되었습니다."),
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
                        Some(Intent::ReservationChange) => format!("Good news: the partner has confirmed your reservation change{res}."),
                        Some(Intent::AddonRequest) => format!("Good news: the partner has confirmed your request{res}."),
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
    use super::*;
    use jiff::Timestamp;
    use switchboard_domain::{Channel, Classification, CustomerContact, InquiryId, InquiryStatus, Sentiment, TenantId, Urgency};

    fn entry(language: Language, question: &str, answer: &str) -> FaqEntry {
        FaqEntry { language, question: question.to_owned(), answer: answer.to_owned() }
    }

    fn tenant() -> Tenant {
        use Language::{En, Ko};
        Tenant {
            id: TenantId::parse("sea-breeze").unwrap(),
            name: "Sea Breeze Pension".to_owned(),
            api_key_hash: String::new(),
            domain_context: "A family pension by the sea with a barbecue terrace.".to_owned(),
            faq: vec![
                entry(En, "What time is check-in and check-out?", "Check-in is from 3 pm and check-out is by 11 am. You may leave your luggage at the front desk before check-in."),
                entry(En, "Is parking available?", "Yes, free parking for one car per room is available in the lot behind the building."),
                entry(En, "Can I bring my pet?", "Small dogs under 10 kg are welcome in our ground-floor rooms for a cleaning fee of 20,000 won per night."),
                entry(En, "What is your cancellation policy?", "Cancellations made 7 days or more before arrival are fully refunded; after that the first night is charged."),
                entry(En, "Is breakfast included?", "Breakfast is not included, but a continental breakfast can be added for 12,000 won per person."),
                entry(En, "How do I get there by public transport?", "Take the airport limousine bus 3002 to Sea Breeze stop; the pension is a 5-minute walk from there."),
                entry(Ko, "체크인과 체크아웃 시간은 언제인가요?", "체크인은 오후 3시부터, 체크아웃은 오전 11시까지입니다. 체크인 전에는 프런트에 짐을 맡기실 수 있습니다."),
                entry(Ko, "주차할 수 있나요?", "네, 건물 뒤편 주차장에 객실당 1대 무료 주차가 가능합니다."),
                entry(Ko, "반려동물 동반이 가능한가요?", "10kg 미만 소형견은 1층 객실에 한해 동반 가능하며, 1박당 청소비 20,000원이 추가됩니다."),
                entry(Ko, "취소 규정이 어떻게 되나요?", "입실 7일 전까지 취소하시면 전액 환불되며, 이후에는 첫날 숙박 요금이 부과됩니다."),
                entry(Ko, "조식이 포함되어 있나요?", "조식은 포함되어 있지 않으며, 1인 12,000원에 추가하실 수 있습니다."),
            ],
            tier: "standard".to_owned(),
        }
    }

    fn inquiry(title: Option<&str>, content: &str) -> Inquiry {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        Inquiry {
            id: InquiryId::new(now, [7; 10]),
            tenant_id: TenantId::parse("sea-breeze").unwrap(),
            customer: CustomerContact { phone: None, email: None },
            channel: Channel::Api,
            title: title.map(str::to_owned),
            content: content.to_owned(),
            language: None,
            reservation_number: None,
            attachment_count: 0,
            classification: None,
            status: InquiryStatus::Classified,
            status_reason: None,
            version: 1,
            partner: None,
            answer: None,
            escalation: None,
            human_answer: None,
            created_at: now,
            updated_at: now,
        }
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
            engine: "test".to_owned(),
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
            "Hello, we are arriving from the airport by bus next week. How do we get to the pension with public transport?",
        ] {
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
            "My invoice shows the wrong company name, can you reissue it?",
            "Is the swimming pool heated in winter?",
            "The heater in room 203 is broken.",
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
            ("강아지랑 같이 가도 되나요? 소형견입니다", "소형견"),
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
        for question in ["근처에 맛집 추천해 주실 수 있나요?", "수영장은 몇 시까지 이용할 수 있나요?", "세금계산서 발행해 주세요"] {
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
        let request = DraftRequest { tenant: t, inquiry: inquiry(None, "parking 가능한가요?"), partner_outcome: None, language: Language::Ko };
        let d = LocalAnswerDrafter::new().draft_now(&request);
        assert_eq!(d.escalate.as_deref(), Some(NO_FAQ_MATCH));
        assert!(d.text.starts_with("안녕하세요"));
    }

    #[test]
    fn a_tenant_without_faq_escalates() {
        let mut t = tenant();
        t.faq.clear();
        let request = DraftRequest { tenant: t, inquiry: inquiry(None, "What time is check-in?"), partner_outcome: None, language: Language::En };
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
        assert_eq!(tokenize("Parking included?"), vec!["park", "includ"]);
        let ko = tokenize("체크인은 몇시");
        assert!(ko.contains(&"체크인".to_owned()) && ko.contains(&"체크".to_owned()) && ko.contains(&"크인".to_owned()), "{ko:?}");
        assert!(tokenize("").is_empty());
    }

    #[tokio::test]
    async fn the_port_returns_the_same_draft() {
        let request = DraftRequest { tenant: tenant(), inquiry: inquiry(None, "parking?"), partner_outcome: None, language: Language::En };
        let via_port = LocalAnswerDrafter::new().draft(&request).await.ok();
        assert_eq!(via_port, Some(LocalAnswerDrafter::new().draft_now(&request)));
    }
}
