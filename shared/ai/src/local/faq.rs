//! Answers grounded in the tenant's FAQ, found by lexical retrieval, and
//! notifications of a partner's answer, from templates.
//!
//! Texts become words. English words are lowercased, lightly stemmed and
//! stripped of stopwords. A Korean run (a word with its particles glued on)
//! loses its trailing ending and particle ("체크인은" → "체크인", "주차할" →
//! "주차") and also gives its character bigrams, which still match compounds
//! and odd spacing ("한옥마을투어"). A small synonym table maps common
//! customer words onto FAQ words ("강아지" → "반려동물", "when" → "time").
//!
//! An entry's confidence is how much of its question the inquiry mentions
//! and how much of the inquiry the entry mentions, each weighted by the
//! words' BM25 idf squared, so the words that tell entries apart decide.
//! That is calibrated (a clearly answered question reaches 0.5, an
//! unrelated one stays below) where a raw BM25 score is not; BM25 ranks ties.

use crate::{AiError, AnswerDrafter, Draft, DraftRequest};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};
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
/// the inquiry mostly about something else". Inquiries carry context words
/// no FAQ has ("we arrive Saturday"), so query coverage weighs less.
const DOC_WEIGHT: f32 = 0.7;

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
    bm25: f32,
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

/// The entries that share terms with the query, most confident first
/// (BM25 breaks ties).
fn search<'a>(entries: &[&'a FaqEntry], index: &Index, query: &str) -> Vec<Hit<'a>> {
    if entries.is_empty() {
        return Vec::new();
    }
    let query_words = unique_words(words(query));
    let query_text = Terms::of(&query_words);
    let mut hits: Vec<Hit<'a>> = index
        .docs
        .iter()
        .filter_map(|doc| {
            let bm25 = index.bm25(&query_text, doc);
            let confidence = index.confidence(&query_words, &query_text, doc);
            (confidence > 0.0).then_some(Hit { entry: entries[doc.position], confidence, bm25 })
        })
        .collect();
    hits.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(b.bm25.total_cmp(&a.bm25)));
    hits
}

/// One word of a text, as terms.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    /// The concept it stands for (its synonym group's head) and its stem.
    /// Words are merged by the first, so "요금은 얼마" is one concept
    /// (price), not two words.
    heads: Vec<String>,
    /// The bigrams of a Korean stem of three or more syllables.
    bigrams: Vec<String>,
}

impl Word {
    fn new(heads: Vec<String>, bigrams: Vec<String>) -> Self {
        let bigrams = bigrams.into_iter().filter(|b| !heads.contains(b)).collect();
        Self { heads, bigrams }
    }

    fn key(&self) -> Option<&String> {
        self.heads.first()
    }

    fn terms(&self) -> impl Iterator<Item = &String> {
        self.heads.iter().chain(&self.bigrams)
    }

    /// Whether a text mentions this word: the text has one of its heads,
    /// or most of its bigrams ("한옥마을투어" mentions "한옥마을"), or names
    /// one of its parts as a word of its own ("공항" for "제주공항"). One
    /// shared bigram is not enough: "체크인" does not mention "체크아웃".
    fn is_in(&self, text: &Terms) -> bool {
        self.heads.iter().any(|t| text.terms.contains(t.as_str())) || self.bigrams.iter().any(|t| text.heads.contains(t.as_str())) || {
            let shared = self.bigrams.iter().filter(|t| text.terms.contains(t.as_str())).count();
            self.bigrams.len() >= 2 && shared * 2 > self.bigrams.len()
        }
    }
}

/// What a text (an inquiry, an entry, an entry's question) contains.
#[derive(Default)]
struct Terms {
    terms: HashSet<String>,
    heads: HashSet<String>,
}

impl Terms {
    fn of<'w>(words: impl IntoIterator<Item = &'w Word>) -> Self {
        let mut out = Self::default();
        for word in words {
            out.terms.extend(word.terms().cloned());
            out.heads.extend(word.heads.iter().cloned());
        }
        out
    }
}

struct Doc {
    /// Where the entry is in the list the index was built from.
    position: usize,
    tf: HashMap<String, u32>,
    len: f32,
    /// The words of the entry's question: what an inquiry must mention
    /// for the entry to answer it.
    question: Vec<Word>,
    /// The question's terms, and the whole entry's.
    question_terms: Terms,
    entry_terms: Terms,
}

/// The BM25 index of one list of entries (a tenant's FAQ in one language).
struct Index {
    docs: Vec<Doc>,
    df: HashMap<String, u32>,
    avg_len: f32,
    /// Words in all the entries (the prompt a model would be given).
    words: u32,
}

/// Indexes built so far, by a hash of their entries' text. Building one
/// (splitting and stemming every entry) cost more than the rest of a draft
/// together, and a tenant's FAQ rarely changes; an edited FAQ hashes
/// differently and gets its own index.
static INDEXES: LazyLock<Mutex<HashMap<u64, Arc<Index>>>> = LazyLock::new(Default::default);

/// Most indexes kept; beyond that the cache starts over.
const MAX_INDEXES: usize = 256;

impl Index {
    /// The index of `entries`, built once per distinct list.
    fn of(entries: &[&FaqEntry]) -> Arc<Index> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for entry in entries {
            (&entry.question, &entry.answer).hash(&mut hasher);
        }
        let key = hasher.finish();
        // A poisoned lock only means another draft panicked mid-insert; the map is still whole.
        if let Some(index) = INDEXES.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return index.clone();
        }
        let index = Arc::new(Index::new(entries));
        let mut indexes = INDEXES.lock().unwrap_or_else(|p| p.into_inner());
        if indexes.len() >= MAX_INDEXES {
            indexes.clear();
        }
        indexes.insert(key, index.clone());
        index
    }

    fn new(entries: &[&FaqEntry]) -> Self {
        let docs: Vec<Doc> = entries
            .iter()
            .enumerate()
            .map(|(position, entry)| {
                let question = unique_words(words(&entry.question));
                let answer = words(&entry.answer);
                let mut terms: Vec<String> = Vec::new();
                for _ in 0..QUESTION_REPEAT {
                    terms.extend(question.iter().flat_map(Word::terms).cloned());
                }
                terms.extend(answer.iter().flat_map(Word::terms).cloned());
                let mut tf = HashMap::new();
                for t in &terms {
                    *tf.entry(t.clone()).or_insert(0) += 1;
                }
                let question_terms = Terms::of(&question);
                let entry_terms = Terms::of(question.iter().chain(&answer));
                Doc { position, tf, len: terms.len() as f32, question, question_terms, entry_terms }
            })
            .collect();
        let words = entries.iter().map(|e| word_count(&e.question) + word_count(&e.answer)).sum();
        let mut df: HashMap<String, u32> = HashMap::new();
        for doc in &docs {
            for term in doc.tf.keys() {
                *df.entry(term.clone()).or_insert(0) += 1;
            }
        }
        let avg_len = (docs.iter().map(|d| d.len).sum::<f32>() / docs.len().max(1) as f32).max(1.0);
        Self { docs, df, avg_len, words }
    }

    /// Lucene's non-negative BM25 idf. A term no entry has counts as if
    /// one entry had it: as telling as the rarest known word, no more, so
    /// a little context in the inquiry does not sink the match.
    fn idf(&self, term: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.df.get(term).copied().unwrap_or(1).max(1) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn bm25(&self, query: &Terms, doc: &Doc) -> f32 {
        query
            .terms
            .iter()
            .filter_map(|t| doc.tf.get(t.as_str()).map(|&tf| (t, tf as f32)))
            .map(|(t, tf)| self.idf(t) * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * doc.len / self.avg_len)))
            .sum()
    }

    /// A word weighs its most telling term's idf, squared: the words that
    /// set an entry apart from the others ("documents" in "what documents
    /// do I need to rent a car") must decide, not the words every entry of
    /// a car-rental FAQ shares ("rent", "car").
    fn weight(&self, word: &Word) -> f32 {
        word.heads.iter().map(|t| self.idf(t)).fold(0.0, f32::max).powi(2)
    }

    /// 0–1: the idf-weighted share of the entry's question words the query
    /// mentions, tempered by the share of the query's words the entry
    /// (question or answer) mentions. Words rather than terms, so that a
    /// conjugated verb ("채워서" against "채워야") counts once, as covered.
    ///
    /// Query words that only the answer mentions count on both sides of the
    /// first share: "전주역 픽업 되나요?" is answered by "airport or train
    /// station pick-up?" whose answer, not question, names 전주역.
    fn confidence(&self, query_words: &[Word], query: &Terms, doc: &Doc) -> f32 {
        let weigh = |words: &mut dyn Iterator<Item = &Word>| words.map(|w| self.weight(w)).sum::<f32>();
        let ratio = |hit: f32, total: f32| if total > 0.0 { hit / total } else { 0.0 };
        let in_question = |w: &Word| w.is_in(&doc.question_terms);
        let in_doc = |w: &Word| w.is_in(&doc.entry_terms);
        let asked = |w: &Word| w.is_in(query);

        let answer_only = weigh(&mut query_words.iter().filter(|w| in_doc(w) && !in_question(w)));
        let doc_coverage =
            ratio(weigh(&mut doc.question.iter().filter(|w| asked(w))) + answer_only, weigh(&mut doc.question.iter()) + answer_only);
        // A query word another entry names but this one lacks says the
        // inquiry is about that other entry ("투어 가격" is not a parking
        // question because 가격 matches 요금): it weighs double.
        let missing = |w: &Word| !in_doc(w) && w.terms().any(|t| self.df.contains_key(t));
        let query_coverage = ratio(
            weigh(&mut query_words.iter().filter(|w| in_doc(w))),
            weigh(&mut query_words.iter()) + weigh(&mut query_words.iter().filter(|w| missing(w))),
        );
        (doc_coverage.powf(DOC_WEIGHT) * query_coverage.powf(1.0 - DOC_WEIGHT)).clamp(0.0, 1.0)
    }
}

/// Words merged by their concept: "강아지 … 소형견" is one word about pets
/// that mentions either.
fn unique_words(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    for word in words {
        match out.iter_mut().find(|w| w.key() == word.key()) {
            Some(same) => {
                for head in word.heads {
                    if !same.heads.contains(&head) {
                        same.heads.push(head);
                    }
                }
                for bigram in word.bigrams {
                    if !same.bigrams.contains(&bigram) && !same.heads.contains(&bigram) {
                        same.bigrams.push(bigram);
                    }
                }
            }
            None => out.push(word),
        }
    }
    out
}

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// All terms of a text, flattened.
#[cfg(test)]
fn tokenize(text: &str) -> Vec<String> {
    words(text).iter().flat_map(Word::terms).cloned().collect()
}

/// Compounds written several ways, joined so each is one word whatever
/// the spelling ("check-in", "check in", "checkin"; "몇 시", "몇시").
const COMPOUNDS: &[(&str, &str)] = &[
    ("check-in", "checkin"),
    ("check in", "checkin"),
    ("check-out", "checkout"),
    ("check out", "checkout"),
    ("pick-up", "pickup"),
    ("pick up", "pickup"),
    ("drop-off", "dropoff"),
    ("drop off", "dropoff"),
    ("wi-fi", "wifi"),
    ("e-mail", "email"),
    ("몇 시", "몇시"),
    ("체크 인", "체크인"),
    ("체크 아웃", "체크아웃"),
];

/// The words of a text: English words (lowercase, stemmed, no stopwords)
/// and Korean runs (stemmed, with bigrams).
fn words(text: &str) -> Vec<Word> {
    let mut text = switchboard_domain::text::fold(text);
    for (from, to) in COMPOUNDS {
        if text.contains(from) {
            text = text.replace(from, to);
        }
    }
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

fn flush_word(word: &mut String, out: &mut Vec<Word>) {
    let w = std::mem::take(word);
    let w = w.trim_end_matches('\'').trim_end_matches("'s");
    if w.is_empty() {
        return;
    }
    let stemmed = stem(w);
    let synonym = synonym_of(&stemmed, EN_SYNONYMS, stem);
    // Numbers (dates, prices, room numbers) say nothing about the topic.
    let noise = w.len() < 2 || w.chars().all(|c| c.is_ascii_digit()) || EN_STOPWORDS.contains(&w);
    match (noise, synonym) {
        (false, Some(canonical)) => out.push(Word::new(vec![canonical, stemmed], vec![])),
        (false, None) => out.push(Word::new(vec![stemmed], vec![])),
        // "when" is a stopword, but also means "time".
        (true, Some(canonical)) => out.push(Word::new(vec![canonical], vec![])),
        (true, None) => {}
    }
}

/// The group's first word (as a term) when `term` is another word of a
/// synonym group.
fn synonym_of(term: &str, groups: &[&[&str]], normalize: impl Fn(&str) -> String) -> Option<String> {
    groups
        .iter()
        .find(|group| group.iter().skip(1).any(|w| normalize(w) == term))
        .and_then(|group| group.first())
        .map(|first| normalize(first))
}

fn flush_hangul(run: &mut Vec<char>, out: &mut Vec<Word>) {
    let whole: String = std::mem::take(run).into_iter().collect();
    if whole.is_empty() {
        return;
    }
    let stem: Vec<char> = korean_stem(&whole).chars().collect();
    let word: String = stem.iter().collect();
    if KO_STOPWORDS.contains(&word.as_str()) {
        return;
    }
    // Single syllables are mostly verb stems ("가", "있"); a few are the
    // nouns a question is about ("방", "차", "물").
    if stem.len() == 1 && !KO_SINGLE_NOUNS.contains(&word.as_str()) {
        return;
    }
    let mut heads: Vec<String> = synonym_of(&word, KO_SYNONYMS, |w| korean_stem(w).to_owned()).into_iter().collect();
    if !heads.contains(&word) {
        heads.push(word);
    }
    let bigrams = if stem.len() > 2 { stem.windows(2).map(|pair| pair.iter().collect()).collect() } else { Vec::new() };
    out.push(Word::new(heads, bigrams));
}

/// The run without its trailing ending and particle ("주차할" → "주차",
/// "체크인과" → "체크인", "포함되어" → "포함"), so that the same noun in
/// differently inflected sentences gives the same terms.
fn korean_stem(word: &str) -> &str {
    let mut stem = word;
    for suffixes in [KO_ENDINGS, KO_PARTICLES] {
        // A one-syllable suffix is often the noun's own last syllable ("아이",
        // "마을"), so it is only stripped from longer words.
        let stripped = suffixes.iter().find_map(|s| {
            let min_rest = if s.chars().count() == 1 { 2 } else { 1 };
            stem.strip_suffix(s).filter(|rest| rest.chars().count() >= min_rest)
        });
        if let Some(shorter) = stripped {
            stem = shorter;
        }
    }
    stem
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

/// Verb and copula endings, longest first.
#[rustfmt::skip]
const KO_ENDINGS: &[&str] = &[
    "드립니다", "하세요", "합니다", "한가요", "하나요", "할까요", "됩니다", "되나요", "되어요", "인가요", "입니다", "이에요", "했어요", "해요",
    "하면", "하고", "하는", "한지", "되어", "돼요", "되는", "되면", "인지", "이요", "예요", "에요", "나요", "가요",
    "까요", "세요", "어요", "아요", "는데", "은데", "해야", "해서", "하여", "해도", "어야", "어서", "아야", "아서",
    "면서", "된", "할", "한", "해", "하", "되", "돼", "요", "서", "야", "고", "면", "며",
    "니", "게", "지",
];

/// Particles, longest first.
#[rustfmt::skip]
const KO_PARTICLES: &[&str] = &[
    "에서는", "으로는", "이랑", "에서", "으로", "까지", "부터", "에는", "이나", "하고", "에게", "한테", "처럼", "은",
    "는", "이", "가", "을", "를", "에", "도", "로", "의", "과", "와", "랑", "만",
];

/// Words customers use for what FAQ entries name otherwise: every word of
/// a group also counts as its first word. Kept to common hospitality topics.
const KO_SYNONYMS: &[&[&str]] = &[
    &["반려동물", "강아지", "애견", "반려견", "소형견", "중형견", "대형견", "고양이", "반려묘", "펫"],
    &["시간", "몇시", "언제"],
    &["주차", "주차장"],
    &["조식", "아침", "아침식사"],
    &["요금", "가격", "비용", "얼마"],
    &["대여", "렌트", "빌릴", "빌려", "렌탈"],
    &["서류", "면허증", "운전면허", "여권", "준비물", "가져가"],
    &["나이", "만", "세", "연령"],
    &["기름", "연료", "주유"],
    &["인수", "픽업", "받아"],
    &["와이파이", "인터넷", "wifi"],
    &["비밀번호", "비번", "패스워드", "password"],
    &["동반", "데리고", "데려가", "데려오", "데려"],
    &["위치", "오시는길", "찾아가는"],
];

const EN_SYNONYMS: &[&[&str]] = &[
    &["pet", "dog", "cat", "puppy", "animal"],
    &["time", "when", "hour"],
    &["price", "cost", "fee", "rate", "charge"],
    &["wifi", "internet", "wireless"],
    &["password", "pw", "passcode", "code"],
    &["cancellation", "cancel", "cancelling", "canceling"],
    &["rent", "rental", "hire", "renting"],
    &["document", "paper", "paperwork", "license", "licence", "permit"],
    &["age", "old", "year-old"],
    &["fuel", "gas", "petrol", "tank", "refuel"],
];

/// One-syllable nouns customers ask about.
#[rustfmt::skip]
const KO_SINGLE_NOUNS: &[&str] = &[
    "방", "차", "물", "짐", "돈", "밥", "불", "문", "키", "책", "술", "빵", "꽃", "펜", "표",
];

/// Words that say nothing about the topic of a question.
#[rustfmt::skip]
const EN_STOPWORDS: &[&str] = &[
    "a", "about", "also", "am", "an", "and", "any", "anything", "are", "as", "at", "be", "been", "but",
    "by", "can", "could", "do", "does", "dear", "for", "from", "get", "got", "had", "has", "have", "hello",
    "hey", "hi", "how", "i", "i'd", "i'm", "if", "in", "is", "it", "it's", "just", "know", "let",
    "like", "me", "much", "my", "of", "on", "or", "our", "please", "possible", "regards", "should", "so", "some",
    "thank", "thanks", "that", "the", "there", "this", "to", "us", "want", "was", "we", "we're", "what", "when",
    "where", "which", "will", "with", "would", "you", "your", "yes", "no", "not", "one", "here", "ask", "wondering",
    "question", "we'd", "we'll", "i'll", "ok", "okay", "that's", "there's", "they", "them", "then", "than", "into", "out",
    "up", "all", "too", "very", "need", "still", "who", "why", "available", "offer", "provide", "use", "stay", "service",
    "served", "serve",
];

/// Korean politeness, fillers and question words, common to every inquiry
/// and so useless for telling FAQ entries apart; and the verbs every FAQ
/// question uses, which say how something is asked, not what about.
#[rustfmt::skip]
const KO_STOPWORDS: &[&str] = &[
    "안녕", "감사", "궁금", "문의", "가능", "부탁", "혹시", "그리고", "그런데", "근데", "혹은", "그럼",
    "저희", "제가", "우리", "이번", "정말", "너무", "조금", "같이", "있는지", "없는지", "어떻게", "얼마나",
    "알려", "여쭤", "주세", "주실", "있을까", "될까", "어디", "어디서", "어디에서", "무엇", "뭐", "뭔가",
    "뭔지", "제공", "이용", "사용", "필요", "함께", "투숙", "서비스", "받을",
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
        assert_eq!(tokenize("Parking included?"), vec!["park", "includ"]);
        assert_eq!(tokenize("체크인은 몇시"), vec!["체크인", "체크", "크인", "시간", "몇시"], "몇시 also means 시간");
        assert_eq!(tokenize("주차할 수 있나요?"), tokenize("주차 가능한가요"));
        assert_eq!(tokenize("조식이 포함되어 있나요"), vec!["조식", "포함"]);
        assert!(tokenize("").is_empty());
    }

    #[test]
    fn conjugations_and_spellings_of_one_word_give_the_same_terms() {
        assert_eq!(tokenize("기름 채워야"), tokenize("기름을 채워서"));
        assert_eq!(tokenize("check-in"), tokenize("check in"));
        assert_eq!(tokenize("Wi-Fi"), tokenize("wifi"));
        assert_eq!(tokenize("몇 시"), tokenize("몇시"));
        assert_eq!(tokenize("아이"), vec!["아이"], "a one-syllable particle is not cut from a two-syllable noun");
    }

    #[test]
    fn a_shared_prefix_is_not_a_shared_word() {
        let w = |s: &str| words(s).remove(0);
        let checkout = w("체크아웃");
        assert!(!checkout.is_in(&Terms::of(&words("체크인"))), "one shared bigram does not make a match");
        assert!(w("제주공항").is_in(&Terms::of(&words("공항"))), "a part named as a word of its own does");
        assert!(w("한옥마을").is_in(&Terms::of(&words("한옥마을투어"))), "most bigrams do");
    }

    #[tokio::test]
    async fn the_port_returns_the_same_draft() {
        let request = DraftRequest { tenant: tenant(), inquiry: inquiry(None, "parking?"), partner_outcome: None, language: Language::En };
        let via_port = LocalAnswerDrafter::new().draft(&request).await.ok();
        assert_eq!(via_port, Some(LocalAnswerDrafter::new().draft_now(&request)));
    }
}
