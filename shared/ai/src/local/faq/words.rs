//! Texts as words: English words lowercased, lightly stemmed and stripped
//! of stopwords; a Korean run (a word with its particles glued on) loses
//! its trailing ending and particle ("체크인은" → "체크인") and also gives
//! its character bigrams, which still match compounds and odd spacing
//! ("한옥마을투어"). Every word of the vocabulary also carries its concept
//! ("입실" and "check-in" both mean `@checkin`).
//!
//! Text is read through [`fold`], so decomposed Hangul and full-width
//! Latin give the same words as their plain forms.

use super::stem::{KO_PARTICLES, is_predicate, korean_stem, stem};
use super::vocabulary::VOCABULARY;
use std::collections::HashSet;
use switchboard_domain::text::fold;

pub(crate) use super::stem::is_hangul;
use super::stem::verb_base;

/// All terms of a text, flattened.
#[cfg(test)]
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    words(text).iter().flat_map(Word::terms).cloned().collect()
}

/// Spellings joined so each is one word whatever the spacing ("wi-fi",
/// "wifi"; "몇 시", "몇시"). A spelling rule, not a synonym: synonyms are
/// the vocabulary's.
const COMPOUNDS: &[(&str, &str)] = &[
    ("check-in", "checkin"),
    ("check in", "checkin"),
    ("check-out", "checkout"),
    ("check out", "checkout"),
    ("pick-up", "pickup"),
    ("drop-off", "dropoff"),
    ("drop off", "dropoff"),
    ("wi-fi", "wifi"),
    ("high chair", "highchair"),
    ("hair dryer", "hairdryer"),
    ("e-mail", "email"),
    ("take away", "takeaway"),
    ("take-away", "takeaway"),
    ("year old", "year-old"),
    ("몇 시", "몇시"),
    ("체크 인", "체크인"),
    ("체크 아웃", "체크아웃"),
];

/// The words of a text: English words (stemmed, no stopwords), Korean runs
/// (stemmed, with bigrams), and the concepts its vocabulary phrases name.
pub(crate) fn words(text: &str) -> Vec<Word> {
    let folded = fold(text);
    let mut matches: Vec<(String, String)> = VOCABULARY.phrase_matches(&folded).map(|(p, c)| (p.to_owned(), c.to_owned())).collect();
    let mut phrases: Vec<String> = matches.iter().map(|(_, c)| c.clone()).collect();
    let mut out: Vec<Word> = Vec::new();
    let mut text = folded;
    for (from, to) in COMPOUNDS {
        if text.contains(from) {
            text = text.replace(from, to);
        }
    }
    // A phrase may also be written the joined way ("5 year old" as "5-year-old").
    for (phrase, concept) in VOCABULARY.phrase_matches(&text) {
        if !phrases.iter().any(|p| p == concept) {
            phrases.push(concept.to_owned());
        }
        matches.push((phrase.to_owned(), concept.to_owned()));
    }
    let mut word = String::new();
    let mut hangul: Vec<char> = Vec::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || (c == '\'' && !word.is_empty()) {
            flush_hangul(&mut hangul, &mut out);
            word.push(c);
        } else if is_hangul(c) {
            flush_word(&mut word, &mut out);
            hangul.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_hangul(&mut hangul, &mut out);
        }
    }
    // A phrase's concept, unless one of its words already names it
    // ("check in" is joined into "checkin", which does).
    for concept in phrases {
        if !out.iter().any(|w| w.heads.contains(&concept)) {
            out.push(Word::new(vec![concept], vec![]));
        }
    }
    // The words of a phrase also mean the phrase: "환불" in "환불 규정" is
    // part of a refund policy, which an FAQ's "취소 규정" names, and is no
    // thing of its own the FAQ lacks.
    for (phrase, concept) in &matches {
        let parts: Vec<String> =
            phrase.split([' ', '-']).map(|p| if p.chars().any(is_hangul) { korean_stem(p).to_owned() } else { stem(p) }).collect();
        for word in out.iter_mut().filter(|w| w.heads.iter().any(|h| parts.contains(h))) {
            if !word.heads.contains(concept) {
                word.heads.push(concept.clone());
            }
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
    let concept = VOCABULARY.concept(&stemmed).map(str::to_owned);
    // Numbers (dates, prices, room numbers) say nothing about the topic.
    // Chat drops the apostrophe ("whats", "im"): the stem is checked too.
    let noise =
        w.len() < 2 || w.chars().all(|c| c.is_ascii_digit()) || EN_STOPWORDS.contains(&w) || EN_STOPWORDS.contains(&stemmed.as_str());
    match (noise, concept) {
        (false, Some(concept)) => out.push(Word::new(vec![concept, stemmed], vec![])),
        (false, None) => out.push(Word::new(vec![stemmed], vec![])),
        // "when" is a stopword, but also means "time".
        (true, Some(concept)) => out.push(Word::new(vec![concept], vec![])),
        (true, None) => {}
    }
}

fn flush_hangul(run: &mut Vec<char>, out: &mut Vec<Word>) {
    let whole: String = std::mem::take(run).into_iter().collect();
    if whole.is_empty() {
        return;
    }
    let mut stem: Vec<char> = korean_stem(&whole).chars().collect();
    // The vocabulary stems its words the same way, so a word it lists with
    // its particle ("비가", "집에") is found before the particle is cut.
    let listed = VOCABULARY.concept(&stem.iter().collect::<String>()).map(str::to_owned);
    // A one-syllable noun keeps its particle through korean_stem ("룸이",
    // "숯은"): it is cut here, where the noun is known.
    if let [noun, particle] = stem[..] {
        let noun = noun.to_string();
        let known = KO_SINGLE_NOUNS.contains(&noun.as_str()) || VOCABULARY.concept(&noun).is_some();
        if known && KO_PARTICLES.contains(&particle.to_string().as_str()) {
            stem.truncate(1);
        }
    }
    let word: String = stem.iter().collect();
    // Words glued into an unspaced run still name their concept
    // ("체크인몇시에요" asks about check-in).
    let mut inside: Vec<String> = VOCABULARY.inside(&word).map(str::to_owned).collect();
    let concept = VOCABULARY.concept(&word).map(str::to_owned).or(listed);
    // A verb that is no word of the vocabulary but holds one is that word
    // inflected ("비온다는데" is 비오-): it means the concept rather than
    // naming another thing beside it. A noun that holds one is another
    // thing ("주유소" is a place, not 주유).
    let predicate = is_predicate(&whole);
    let concept = match concept {
        None if predicate && !inside.is_empty() => Some(inside.remove(0)),
        concept => concept,
    };
    for concept in inside {
        out.push(Word::new(vec![concept], vec![]));
    }
    if KO_STOPWORDS.contains(&word.as_str()) {
        return;
    }
    // Single syllables are mostly verb stems ("가", "있"); a few are the
    // nouns a question is about ("방", "차", "물").
    if stem.len() == 1 && concept.is_none() && !KO_SINGLE_NOUNS.contains(&word.as_str()) {
        return;
    }
    // A word of the vocabulary is a noun as written ("체크인").
    let base = if concept.is_none() { verb_base(&word) } else { None };
    let mut heads: Vec<String> = concept.into_iter().collect();
    heads.push(word);
    heads.extend(base);
    let bigrams = if stem.len() > 2 { stem.windows(2).map(|pair| pair.iter().collect()).collect() } else { Vec::new() };
    let mut word = Word::new(heads, bigrams);
    word.predicate = predicate;
    out.push(word);
}

/// One word of a text, as terms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// The concept it stands for (its synonym group's head) and its stem.
    /// Words are merged by the first, so "요금은 얼마" is one concept
    /// (price), not two words.
    pub(crate) heads: Vec<String>,
    /// The bigrams of a Korean stem of three or more syllables.
    pub(crate) bigrams: Vec<String>,
    /// A Korean run that ends as a verb does ("알려주세요", "가져오시나요"):
    /// it says what is done, not what about.
    pub(crate) predicate: bool,
}

impl Word {
    pub(crate) fn new(heads: Vec<String>, bigrams: Vec<String>) -> Self {
        let bigrams = bigrams.into_iter().filter(|b| !heads.contains(b)).collect();
        Self { heads, bigrams, predicate: false }
    }

    pub(crate) fn key(&self) -> Option<&String> {
        self.heads.first()
    }

    pub(crate) fn terms(&self) -> impl Iterator<Item = &String> {
        self.heads.iter().chain(&self.bigrams)
    }

    /// Whether a text mentions this word: the text has one of its heads,
    /// or most of its bigrams ("한옥마을투어" mentions "한옥마을"), or names
    /// one of its parts as a word of its own ("공항" for "제주공항"). One
    /// shared bigram is not enough: "체크인" does not mention "체크아웃".
    pub(crate) fn is_in(&self, text: &Terms) -> bool {
        self.heads.iter().any(|t| text.terms.contains(t.as_str())) || self.bigrams.iter().any(|t| text.heads.contains(t.as_str())) || {
            let shared = self.bigrams.iter().filter(|t| text.terms.contains(t.as_str())).count();
            self.bigrams.len() >= 2 && shared * 2 > self.bigrams.len()
        }
    }
}

/// What a text (an inquiry, an entry, an entry's question) contains.
/// `terms` is ordered because BM25 sums over it (see [`super::ngrams::Grams`]).
#[derive(Default)]
pub(crate) struct Terms {
    pub(crate) terms: std::collections::BTreeSet<String>,
    pub(crate) heads: HashSet<String>,
}

impl Terms {
    pub(crate) fn of<'w>(words: impl IntoIterator<Item = &'w Word>) -> Self {
        let mut out = Self::default();
        out.extend(words);
        out
    }

    /// Adds the terms of more words.
    pub(crate) fn extend<'w>(&mut self, words: impl IntoIterator<Item = &'w Word>) {
        for word in words {
            self.terms.extend(word.terms().cloned());
            self.heads.extend(word.heads.iter().cloned());
        }
    }
}

/// Words merged by their concept: "강아지 … 소형견" is one word about pets
/// that mentions either.
pub(crate) fn unique_words(words: Vec<Word>) -> Vec<Word> {
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

/// One-syllable nouns customers ask about.
#[rustfmt::skip]
const KO_SINGLE_NOUNS: &[&str] = &[
    "방", "차", "물", "짐", "돈", "밥", "불", "문", "키", "책", "술", "빵", "꽃", "펜", "표", "숯", "룸", "옷", "비", "역",
    "살", "배", "집", "곳",
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
    "served", "serve", "im", "ur", "pls", "plz", "thx", "off", "myself", "yourself", "yourselves", "ourselves",
    "themselves",
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
    "돼요", "되요", "됐어요", "있어요", "없어요", "괜찮", "괜찮아요", "괜찮을까요", "나요", "건가요", "거예요", "인데",
    "하시나요", "해주시나요", "어떻", "어떤", "주시나요", "할게요", "싶어요", "싶은데", "알려주세", "알려주세요", "해야",
    "있으", "없으", "있는", "없는", "있습니", "없습니",
];

/// Words in a text, as a reply's length is counted (prompt and completion tokens).
pub(crate) fn word_count(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}
