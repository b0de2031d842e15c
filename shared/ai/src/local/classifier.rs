//! The local classifier for Korean and English inquiries: a trained model
//! (see [`crate::model`]) decides intent, urgency and sentiment; language
//! detection, personal data and the reservation number stay pattern-based.
//!
//! The keyword rules that decided everything before the model remain, for
//! two jobs: their evidence (per-intent cue scores, urgency cues, the
//! sentiment lexicon, and their own verdicts) is a named part of the
//! model's features, and their verdict is the fallback should the embedded
//! model ever fail to load. The cues are word stems and common phrasings
//! over the folded text; Korean cues match stems without word boundaries,
//! because particles and endings are glued to the stem ("환불이",
//! "환불해주세요").

use crate::model::{self, Model, SparseVector, Verdict};
use crate::{AiError, Classifier, ClassifyRequest};
use async_trait::async_trait;
use regex::Regex;
use std::sync::LazyLock;
use switchboard_domain::text::fold;
use switchboard_domain::{Certainty, Classification, Intent, Language, PiiSpan, ReservationNumber, Sentiment, TextField, Urgency};

/// The `engine` recorded on every classification the trained model makes.
pub const ENGINE: &str = "local-model";

/// The `engine` of the rules' verdict, used only when the model cannot load.
pub const RULES_ENGINE: &str = "local-rules";

/// Below this much evidence no specific intent is claimed: the inquiry is a
/// general question (the intent that asks nothing of a partner).
const MIN_INTENT_EVIDENCE: f32 = 1.5;

/// A cue found in the title counts this much more: customers summarise
/// what they want in the title.
const TITLE_BONUS: f32 = 0.5;

/// Most key phrases reported.
pub const MAX_KEY_PHRASES: usize = 5;

/// A cloud engine this sure that a text is negative counts as the
/// lexicon's evidence of unhappiness (see [`Signals`]).
const CONFIDENT_NEGATIVE: f32 = 0.8;

/// What a cloud engine (Comprehend) read in the customer's text, used by
/// the classifier in place of its own guesses. The model stays in charge
/// of intent and urgency and the patterns of the reservation number, which
/// Comprehend does not know about; these signals only sharpen them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    /// The dominant language (a client's hint still wins).
    pub language: Option<Language>,
    /// The overall tone, replacing the model's.
    pub sentiment: Option<Sentiment>,
    /// 0–1: how sure the engine is that the text is negative.
    pub negative_score: f32,
}

/// Classifies inquiries with the trained model, for Korean and English,
/// with no network.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalClassifier;

/// The texts of one request, in the forms the classifier reads.
pub(crate) struct Texts {
    /// Title, content and attachment texts, one per line, as written.
    pub raw: String,
    /// What the customer wrote (title and content): decides the language.
    pub customer: String,
    /// `raw`, folded and rewritten for the cues.
    pub cues: String,
    /// The title, folded and rewritten for the cues.
    pub title: String,
}

impl Texts {
    pub(crate) fn of(request: &ClassifyRequest) -> Self {
        let mut parts: Vec<&str> = Vec::with_capacity(2 + request.attachment_texts.len());
        if let Some(t) = request.title.as_deref() {
            parts.push(t);
        }
        parts.push(&request.content);
        let customer = parts.join("\n");
        parts.extend(request.attachment_texts.iter().map(String::as_str));
        let raw = parts.join("\n");
        let cues = normalize(&raw);
        let title = normalize(request.title.as_deref().unwrap_or_default());
        Self { raw, customer, cues, title }
    }
}

impl LocalClassifier {
    /// The classifier (stateless: the model is loaded once per process).
    pub fn new() -> Self {
        Self
    }

    /// The classification of one request. Pure and infallible: any text,
    /// even empty, gets a verdict.
    pub fn classify_now(&self, request: &ClassifyRequest) -> Classification {
        self.classify_with(request, &Signals::default())
    }

    /// As [`Self::classify_now`], with what a cloud engine read in the text:
    /// its language and sentiment are taken as they are; a confidently
    /// negative text that asks nothing is a complaint even when the model
    /// read a question, and a confidently negative complaint is never waved
    /// through as mild feedback.
    pub fn classify_with(&self, request: &ClassifyRequest, signals: &Signals) -> Classification {
        decide(model::classifier().map_err(|error| error.to_string()), request, signals)
    }
}

/// The verdict of `model` on one request (what training and evaluation
/// measure: the same path as [`LocalClassifier`], another model).
pub fn classify_with_model(model: &Model, request: &ClassifyRequest) -> Classification {
    decide(Ok(model), request, &Signals::default())
}

/// The model's features of one request.
pub(crate) fn features_of(request: &ClassifyRequest) -> SparseVector {
    let texts = Texts::of(request);
    let evidence = RULES.evidence(&texts);
    let reservation_number = request.reservation_hint.clone().or_else(|| ReservationNumber::extract(&texts.raw));
    model::features::extract(&texts, &evidence, reservation_number.is_some())
}

/// The classification by `model`, or by the rules when it could not load.
fn decide(model: Result<&Model, String>, request: &ClassifyRequest, signals: &Signals) -> Classification {
    let texts = Texts::of(request);
    let evidence = RULES.evidence(&texts);
    // Attachments are often in another language (an English receipt for a
    // Korean customer), so only what the customer wrote decides the language.
    let language = request.language_hint.or(signals.language).unwrap_or_else(|| Language::detect(&texts.customer));
    let reservation_number = request.reservation_hint.clone().or_else(|| ReservationNumber::extract(&texts.raw));
    let unhappy = signals.negative_score >= CONFIDENT_NEGATIVE;

    let (mut intent, mut urgency, mut sentiment, certainty, unsure, engine) = match model {
        Ok(model) => {
            let verdict: Verdict = model.decide(&model::features::extract(&texts, &evidence, reservation_number.is_some()));
            let certainty = Certainty { intent: verdict.intent.1, urgency: verdict.urgency.1, sentiment: verdict.sentiment.1 };
            (verdict.intent.0, verdict.urgency.0, verdict.sentiment.0, Some(certainty), verdict.unsure, ENGINE)
        }
        Err(error) => {
            tracing::error!(%error, "the embedded classifier model does not load; the rules decide");
            let intent = RULES.intent(&evidence, unhappy);
            (intent, RULES.urgency(&evidence, intent, unhappy), RULES.sentiment(&evidence, intent), None, None, RULES_ENGINE)
        }
    };
    if evidence.must_be_urgent() {
        urgency = Urgency::High;
    }
    if unhappy {
        // The cloud engine's confidence is evidence the model never saw.
        if intent == Intent::GeneralQuestion && !evidence.question_form {
            intent = Intent::Complaint;
        }
        if intent == Intent::Complaint && urgency == Urgency::Low {
            urgency = Urgency::Medium;
        }
    }
    if let Some(s) = signals.sentiment {
        sentiment = s;
    }
    let key_phrases = key_phrases(evidence.phrases_of(intent));
    let mut pii: Vec<PiiSpan> = Vec::new();
    if let Some(title) = request.title.as_deref() {
        pii.extend(crate::pii::detect(TextField::Title, title));
    }
    pii.extend(crate::pii::detect(TextField::Content, &request.content));

    Classification {
        language,
        intent,
        urgency,
        sentiment,
        reservation_number,
        key_phrases,
        pii,
        engine: engine.to_owned(),
        certainty,
        unsure,
    }
}

#[async_trait]
impl Classifier for LocalClassifier {
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError> {
        Ok(self.classify_now(request))
    }
}

/// One weighted pattern.
struct Cue {
    re: Regex,
    weight: f32,
}

/// Compiles one pattern, case-insensitively. `\b` is made an ASCII word
/// boundary so English cues still match when Hangul is glued to the word
/// ("flight가", "check-out은"): Unicode `\b` sees no boundary there.
fn build(pattern: &str) -> Option<Regex> {
    let source = format!("(?i){}", pattern.replace(r"\b", r"(?-u:\b)"));
    match Regex::new(&source) {
        Ok(re) => Some(re),
        Err(error) => {
            // Tables are static, so the unit tests catch this; a bad cue
            // must not take the whole classifier down in production.
            tracing::error!(pattern, %error, "a classifier pattern does not compile and is skipped");
            None
        }
    }
}

fn compile(table: &[(&str, f32)]) -> Vec<Cue> {
    table.iter().filter_map(|&(pattern, weight)| build(pattern).map(|re| Cue { re, weight })).collect()
}

/// Sum of the weights of the cues present (each counted once, plus the
/// title bonus), collecting what matched.
fn score(cues: &[Cue], text: &str, title: &str, found: &mut Vec<String>) -> f32 {
    let mut total = 0.0;
    for cue in cues {
        if let Some(m) = cue.re.find(text) {
            total += cue.weight;
            if cue.re.is_match(title) {
                total += cue.weight * TITLE_BONUS;
            }
            found.push(m.as_str().trim().to_owned());
        }
    }
    total
}

fn any(cues: &[Cue], text: &str) -> bool {
    cues.iter().any(|c| c.re.is_match(text))
}

fn sum(cues: &[Cue], text: &str) -> f32 {
    cues.iter().filter(|c| c.re.is_match(text)).map(|c| c.weight).sum()
}

/// Phrases whose words would mislead the cues, and what they become:
/// "추가요금"/"extra fee" is a price, not a request to add something, and
/// "not happy"/"안 좋" is negative although it contains a positive word.
const REWRITES: &[(&str, &str)] = &[
    // Chat spelling: contractions without apostrophes, "u", "pls".
    (r"\b(hasn|haven|isn|aren|wasn|weren|doesn|don|didn|couldn|wouldn|shouldn|won)t\b", "${1}'t"),
    (r"\bcant\b", "can't"),
    (r"\b(i|we|you|they)(ve|re|ll|d)\b", "${1}'${2}"),
    (r"\b(what|it|that|there)s\b", "${1}'s"),
    (r"\bu\b", "you"),
    (r"\bur\b", "your"),
    (r"\b(pls|plz)\b", "please"),
    (r"추가\s?(요금|금액|금|결제|비용|차지)|(extra|additional)\s+(fees?|costs?|charges?|payments?)", " 요금 "),
    (
        r"\b(not|never|isn't|wasn't|weren't|aren't|no longer|don't|didn't)\s+(very\s+|so\s+|really\s+|too\s+|that\s+)?(good|great|happy|nice|pleasant|satisfied|satisfactory|ok|okay|fine|clean|friendly|like|enjoy|love)\b",
        " unhappy ",
    ),
    (r"(좋지|만족스럽지|친절하지|깨끗하지)\s?(않|못)|안\s?좋", " 불만 "),
    // "Not urgent" must not read as "urgent".
    (
        r"\b(not|isn't|is not|nothing) (that |very |too |super )?urgent|\bno (rush|hurry)\b|급하지\s?(는\s?)?않|안\s?급|급한\s?(건|거|것은?|게)\s?아니",
        " noturgent ",
    ),
    // The customer's own delay, not a trouble with the service.
    (r"stuck in traffic|traffic jam", " traffic delay "),
    // "당장은" is "for the moment", the opposite of "당장" (right now).
    (r"당장은", " 일단 "),
    // Politeness, not delight.
    (r"\b(i'd|we'd|i would|we would) love to\b", " we would like to "),
];

static REWRITERS: LazyLock<Vec<(Regex, &'static str)>> =
    LazyLock::new(|| REWRITES.iter().filter_map(|&(p, with)| build(p).map(|re| (re, with))).collect());

/// Folds (see [`fold`]) and applies [`REWRITES`].
fn normalize(text: &str) -> String {
    let mut s = fold(text).replace(['\u{2019}', '\u{2018}'], "'");
    for (re, with) in REWRITERS.iter() {
        s = re.replace_all(&s, *with).into_owned();
    }
    s
}

/// What the cue tables find in one text: the rules' evidence, which the
/// model reads as named features ([`Evidence::features`]) and the rules'
/// own verdicts are computed from.
pub(crate) struct Evidence {
    /// Per intent, in [`Rules::intents`] order: the cue score (with its
    /// context) and the phrases that matched.
    intents: Vec<(Intent, f32, Vec<String>)>,
    /// Sentiment lexicon sums.
    positive: f32,
    negative: f32,
    contrast: bool,
    safety: bool,
    relaxed: bool,
    immediate: bool,
    demand: bool,
    same_day: bool,
    tomorrow: bool,
    far_off: bool,
    this_week: bool,
    anger: bool,
    shouting: bool,
    mild: bool,
    /// The text asks something.
    question_form: bool,
}

/// The cues that bear on how soon to act, crossed with the intent in the
/// model's features.
const URGENCY_CUES: [&str; 11] =
    ["safety", "relaxed", "immediate", "demand", "same_day", "tomorrow", "far_off", "this_week", "anger", "shouting", "mild"];

/// Cue scores this high say the intent outright; the features scale by it.
const STRONG_SCORE: f32 = 4.0;

impl Evidence {
    /// The labelling guide's two unconditional reasons for high urgency: a
    /// safety or health risk, and strong anger with an immediate demand.
    /// Rare in the corpus, so the model alone may miss them; they are
    /// product rules, applied over its verdict.
    fn must_be_urgent(&self) -> bool {
        self.safety || (self.anger || self.shouting) && self.demand
    }

    /// The phrases that matched an intent's cues.
    fn phrases_of(&self, intent: Intent) -> Vec<String> {
        self.intents.iter().find(|(i, _, _)| *i == intent).map(|(_, _, found)| found.clone()).unwrap_or_default()
    }

    /// The evidence as named numbers, about 0–1 each: scores scaled by
    /// [`STRONG_SCORE`] (capped at 2), cues present as 1, and the rules'
    /// own verdicts one-hot.
    pub(crate) fn features(&self) -> Vec<(String, f32)> {
        let scaled = |score: f32| (score / STRONG_SCORE).min(2.0);
        let mut out: Vec<(String, f32)> =
            self.intents.iter().map(|(intent, score, _)| (format!("score:{}", intent.as_str()), scaled(*score))).collect();
        out.push(("lexicon:positive".into(), scaled(self.positive)));
        out.push(("lexicon:negative".into(), scaled(self.negative)));
        let cues = [
            ("contrast", self.contrast),
            ("safety", self.safety),
            ("relaxed", self.relaxed),
            ("immediate", self.immediate),
            ("demand", self.demand),
            ("same_day", self.same_day),
            ("tomorrow", self.tomorrow),
            ("far_off", self.far_off),
            ("this_week", self.this_week),
            ("anger", self.anger),
            ("shouting", self.shouting),
            ("mild", self.mild),
            ("question_form", self.question_form),
        ];
        out.extend(cues.iter().filter(|(_, on)| *on).map(|(name, _)| (format!("cue:{name}"), 1.0)));
        let intent = RULES.intent(self, false);
        // Urgency depends on the intent and the time together (a change for
        // today is urgent, a question about today is not): a linear model
        // sees that only through their conjunctions.
        let timed = cues.iter().filter(|(name, on)| *on && URGENCY_CUES.contains(name)).count();
        out.extend(
            cues.iter()
                .filter(|(name, on)| *on && URGENCY_CUES.contains(name))
                .map(|(name, _)| (format!("cross:{}:{name}", intent.as_str()), 1.0)),
        );
        if timed == 0 {
            out.push((format!("cross:{}:untimed", intent.as_str()), 1.0));
        }
        out.push((format!("rules:intent={}", intent.as_str()), 1.0));
        out.push((format!("rules:urgency={}", RULES.urgency(self, intent, false).as_str()), 1.0));
        out.push((format!("rules:sentiment={}", RULES.sentiment(self, intent).as_str()), 1.0));
        out
    }
}

struct Rules {
    /// Cue tables per intent, in tie-breaking order: when two intents score
    /// the same, the one that asks more of the business wins (a refund over a
    /// trouble report over a change …), since under-handling costs more.
    intents: Vec<(Intent, Vec<Cue>)>,
    /// Present-tense context: makes a problem a live trouble report.
    trouble_now: Vec<Cue>,
    /// Past-experience context: makes a problem a complaint about a stay.
    complaint_past: Vec<Cue>,
    /// Money still missing: sharpens a refund.
    refund_waiting: Vec<Cue>,
    question_form: Vec<Cue>,
    positive: Vec<Cue>,
    negative: Vec<Cue>,
    contrast: Vec<Cue>,
    safety: Vec<Cue>,
    immediate: Vec<Cue>,
    demand: Vec<Cue>,
    same_day: Vec<Cue>,
    tomorrow: Vec<Cue>,
    far_off: Vec<Cue>,
    this_week: Vec<Cue>,
    relaxed: Vec<Cue>,
    anger: Vec<Cue>,
    shouting: Vec<Cue>,
    mild: Vec<Cue>,
}

static RULES: LazyLock<Rules> = LazyLock::new(Rules::build);

/// The rules' evidence on one request.
#[cfg(test)]
pub(crate) fn evidence(texts: &Texts) -> Evidence {
    RULES.evidence(texts)
}

impl Rules {
    fn build() -> Self {
        Self {
            intents: vec![
                (Intent::Refund, compile(REFUND)),
                (Intent::TroubleReport, compile(TROUBLE)),
                (Intent::ReservationChange, compile(CHANGE)),
                (Intent::AddonRequest, compile(ADDON)),
                (Intent::Complaint, compile(COMPLAINT)),
                (Intent::GeneralQuestion, compile(GENERAL)),
            ],
            trouble_now: compile(TROUBLE_NOW),
            complaint_past: compile(COMPLAINT_PAST),
            refund_waiting: compile(REFUND_WAITING),
            question_form: compile(QUESTION_FORM),
            positive: compile(POSITIVE),
            negative: compile(NEGATIVE),
            contrast: compile(CONTRAST),
            safety: compile(SAFETY),
            immediate: compile(IMMEDIATE),
            demand: compile(DEMAND),
            same_day: compile(SAME_DAY),
            tomorrow: compile(TOMORROW),
            far_off: compile(FAR_OFF),
            this_week: compile(THIS_WEEK),
            relaxed: compile(RELAXED),
            anger: compile(ANGER),
            shouting: compile(SHOUTING),
            mild: compile(MILD),
        }
    }

    /// Every cue table's finding on one text.
    fn evidence(&self, texts: &Texts) -> Evidence {
        let text = texts.cues.as_str();
        let intents = self
            .intents
            .iter()
            .map(|(intent, cues)| {
                let mut found = Vec::new();
                let mut total = score(cues, text, &texts.title, &mut found);
                // Context only sharpens an intent that already has evidence.
                if total > 0.0 {
                    total += match intent {
                        Intent::TroubleReport => sum(&self.trouble_now, text).min(1.5),
                        Intent::Complaint => sum(&self.complaint_past, text).min(1.5),
                        Intent::Refund => sum(&self.refund_waiting, text).min(1.0),
                        _ => 0.0,
                    };
                }
                (*intent, total, found)
            })
            .collect();
        // When the customer says it can wait, only safety makes it urgent.
        let relaxed = any(&self.relaxed, text);
        Evidence {
            intents,
            positive: sum(&self.positive, text),
            negative: sum(&self.negative, text),
            contrast: any(&self.contrast, text),
            safety: any(&self.safety, text),
            relaxed,
            immediate: !relaxed && any(&self.immediate, text),
            demand: !relaxed && any(&self.demand, text),
            same_day: !relaxed && any(&self.same_day, text),
            tomorrow: !relaxed && any(&self.tomorrow, text),
            far_off: any(&self.far_off, text),
            this_week: any(&self.this_week, text),
            anger: any(&self.anger, text),
            // Capitals are checked on the text as written.
            shouting: any(&self.shouting, &texts.raw),
            mild: any(&self.mild, text),
            question_form: any(&self.question_form, text),
        }
    }

    /// The best-scoring intent. `unhappy`: a cloud engine is confident the
    /// text is negative.
    fn intent(&self, evidence: &Evidence, unhappy: bool) -> Intent {
        let mut best: Option<(Intent, f32)> = None;
        for (intent, total, _) in &evidence.intents {
            if best.is_none_or(|(_, s)| *total > s) {
                best = Some((*intent, *total));
            }
        }
        let intent = match best {
            Some((intent, total)) if total >= MIN_INTENT_EVIDENCE => intent,
            _ => Intent::GeneralQuestion,
        };
        // Unhappy text that asks nothing is feedback on the service.
        let negative = unhappy || evidence.negative >= 1.0;
        if intent == Intent::GeneralQuestion && !evidence.question_form && negative {
            return Intent::Complaint;
        }
        intent
    }

    /// Lexicon balance, with problem reports leaning negative: a customer
    /// describing a broken heater is unhappy even in neutral words.
    fn sentiment(&self, evidence: &Evidence, intent: Intent) -> Sentiment {
        let pos = evidence.positive;
        let prior = match intent {
            Intent::TroubleReport | Intent::Complaint => 1.5,
            _ => 0.0,
        };
        let neg = evidence.negative + prior;
        if pos >= 1.0 && neg >= 1.0 && (evidence.contrast || pos.min(neg) >= 0.5 * pos.max(neg)) {
            Sentiment::Mixed
        } else if neg >= 1.0 && neg >= pos {
            Sentiment::Negative
        } else if pos >= 1.0 {
            Sentiment::Positive
        } else {
            Sentiment::Neutral
        }
    }

    /// How soon a human must act, per the labelling rules: safety first;
    /// then what is wrong or changing now or within a day; then the intent's
    /// usual pace (billing and complaints need a reply, questions can wait).
    /// `unhappy`: a cloud engine is confident the text is negative.
    fn urgency(&self, e: &Evidence, intent: Intent, unhappy: bool) -> Urgency {
        if e.safety {
            return Urgency::High;
        }
        let (now, demand, tomorrow) = (e.immediate, e.demand, e.tomorrow);
        match intent {
            Intent::TroubleReport => {
                if now || demand || tomorrow {
                    Urgency::High
                } else {
                    Urgency::Medium
                }
            }
            // A bare "now" in a change request rarely means the service is
            // under way ("we are now 9 people"); the day it concerns does.
            // "Please reply now" about a date next month is not urgent.
            Intent::ReservationChange => {
                if e.same_day || tomorrow || demand && !e.far_off {
                    Urgency::High
                } else {
                    Urgency::Medium
                }
            }
            Intent::AddonRequest => {
                if now || demand {
                    Urgency::High
                } else if tomorrow || e.this_week {
                    Urgency::Medium
                } else {
                    Urgency::Low
                }
            }
            Intent::Refund => {
                if demand {
                    Urgency::High
                } else {
                    Urgency::Medium
                }
            }
            Intent::Complaint => {
                let angry = e.anger || e.shouting;
                if demand || (angry && now) {
                    Urgency::High
                } else if !angry && !unhappy && e.mild {
                    Urgency::Low
                } else {
                    Urgency::Medium
                }
            }
            Intent::GeneralQuestion => {
                if demand {
                    Urgency::Medium
                } else {
                    Urgency::Low
                }
            }
        }
    }
}

fn key_phrases(found: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for phrase in found {
        let short = phrase.chars().count() >= 2;
        if short && !out.iter().any(|p| p.contains(&phrase) || phrase.contains(p.as_str())) {
            out.push(phrase);
        }
        if out.len() == MAX_KEY_PHRASES {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Cue tables. Weights: 3 = says the intent outright ("refund", "환불"),
// 2–2.5 = a strong sign, 1–1.5 = supporting, < 1 = a hint.

const REFUND: &[(&str, f32)] = &[
    (r"\brefund", 3.0),
    (r"money back|\breimburs|charge ?back", 3.0),
    (
        r"charged (me |us )?(twice|two times|double)|double[- ]?charged|duplicate (charge|payment|transaction)|charged more than|overcharg",
        3.0,
    ),
    (r"\bdeposit\b", 1.5),
    (r"(two|2|duplicate|identical|double) (identical )?(charges|payments|transactions)|\breverse (the|one|a|this|that)\b", 3.0),
    (r"\bcharges?\b|\bbilled\b|billing", 0.5),
    (r"compensat", 3.0),
    (r"환불|환급", 3.0),
    (r"돌려\s?(받|주|줘|드)", 3.0),
    (r"(중복|이중)\s?(결제|승인|청구|출금)|두\s?번\s?(결제|승인|청구|빠져|나갔|출금)|결제(가|된|됐)?\s?두\s?번", 3.0),
    (r"(결제|카드|승인)\s?취소", 2.5),
    (r"보증금|계약금|예약금|디파짓", 1.5),
    (r"보상", 2.0),
    (r"차액", 0.5),
];

const REFUND_WAITING: &[(&str, f32)] = &[
    (
        r"\bstill\b|\bafter \d+|\bweeks?\b|business days|hasn't (been )?|haven't (been )?|not (yet )?(been )?(released|returned|credited)",
        1.0,
    ),
    (r"아직|일주일|영업일|안\s?들어|입금|처리", 1.0),
];

const TROUBLE: &[(&str, f32)] = &[
    (
        r"not working|isn't working|aren't working|doesn't work|does not work|don't work|didn't work|won't work|stopped working|not functioning|out of order",
        3.0,
    ),
    (r"\bbroken\b|\bbroke\b|snapped|\bcracked|malfunction|out of service|flicker|overflow|clogged|blocked", 2.5),
    (r"nowhere to (sleep|stay|go)|given away|overbooked|no record of (our|my) (booking|reservation)", 2.5),
    (r"\b(is|are|went|seems?|has gone) dead\b|\bdied\b", 2.5),
    (r"(can't|cannot|couldn't) (find|locate|get (in|into|to))", 2.0),
    (r"\binjur|\bhurt\b|\bfell\b|bleeding|다쳤|다치|부상|넘어져|넘어졌|피가\s?(나|났)", 2.5),
    (r"\bmove us\b|another room|different room", 1.0),
    (
        r"(doesn't|does not|don't|won't|isn't|can't|cannot|didn't) (seem to |even )?(cool|heat|warm|work|flush|drain|lock|unlock|open|close|charge|connect|turn on|switch on|start|load|respond)\b",
        2.5,
    ),
    (r"\bleak", 3.0),
    (r"flat tire|flat tyre|dead battery|won't start|wouldn't start|broke down|broken down|breakdown|warning light|puncture", 3.0),
    (
        r"no (hot )?water|only cold water|cold water|no heat|no heating|no power|no electricity|power (is )?out|blackout|no internet|no wi-?fi|no signal",
        3.0,
    ),
    (r"blowing cold|cold air|freezing|too cold|too hot", 1.5),
    (
        r"wrong (car|room|vehicle|model|size|item|order|address|bed|key)|(brought|gave|given|delivered|sent|prepared|served) (us |me )?(a |the )?wrong",
        2.5,
    ),
    (r"\bwrong [a-z]+", 1.0),
    (
        r"never (showed|arrived|came|turned up)|didn't (show|arrive|come|turn up)|hasn't (shown|arrived|come)|no[- ]show|(isn't|is not|wasn't|not) (here|there)\b|nobody (is )?(here|there|came|showed)|no one (is )?(here|there|came|showed)|with nobody|still waiting|no sign of",
        2.5,
    ),
    (
        r"locked out|can't get in|cannot get in|can't open|cannot open|won't open|(code|key|card|lock|password)( \w+)? (doesn't|does not|won't|isn't|is not) work|door (won't|doesn't|will not)",
        3.0,
    ),
    (r"\bsmell|\bsmoke\b|gas leak|\bstuck\b|stranded", 2.5),
    (r"keeps (dropping|disconnecting|cutting|turning off|beeping|stopping)|disconnect|drops out", 2.5),
    (r"\bmissing\b|no (towels?|soap|shampoo|toilet paper|blankets?|sheets|spare|key)\b|there (is|are|was|were) no\b", 1.5),
    (
        r"can (someone|you|somebody) (come|bring|send|check|fix|help)|could (someone|you|somebody) (come|bring|send|check|fix)|send (someone|somebody|a technician)|please (fix|send|come)",
        1.5,
    ),
    (r"\bbugs?\b|cockroach|insects?|\bmou?ld\b|\bpests?\b", 1.5),
    (
        r"no answer|not answering|(can't|cannot|couldn't) reach|unreachable|(nobody|no one) (is )?(answers|answering|picks up|picking up|responding)",
        1.0,
    ),
    (r"고장|펑크|빵꾸|방전|시동이?\s?(안|꺼)|퍼졌|사고가?\s?(났|나)", 3.0),
    (r"안\s?(돼요|됩니다|되네|되요|돼서|되고|되는데|돼$|돼[.!;~ ])", 2.5),
    (r"작동(이|을|하지)?\s?(안|않|못)|안\s?움직", 3.0),
    (r"안\s?(나와|나오|나옴)", 3.0),
    (r"안\s?(열려|열리|열림)|(문|도어락|현관)\S{0,2}\s?(안|못)\s?열", 3.0),
    (r"안\s?(켜|닫|잠기|잠겨|꺼|잡혀|잡히|잡힙|들어와|들어옴|내려가|움직)", 2.5),
    (r"(비번|비밀번호|키|카드키|번호)\S{0,2}\s?(안\s?맞|틀리|틀려)", 2.0),
    (r"끊(겨|기|깁|김|어져|어지)", 2.5),
    (r"(물이|물)\s?(새|샌|샙)|누수|새요|새서|새는데", 3.0),
    (r"(물이?|물방울)\s?(뚝뚝\s?)?떨어", 3.0),
    ("냄새", 2.0),
    ("가스", 1.5),
    ("연기가", 2.0),
    (r"없다고|(하나도|아무도|아무것도)\s?없", 2.5),
    (r"없(어요|네요|습니다|어서|는데)", 1.0),
    (r"(안|못)\s?(와요|오셨|오시|왔|와서|오네|옴)|안\s?와($|[.!?\s])|(오지|나타나지)\s?(않|안)|노쇼", 2.5),
    (r"(전화|연락)(를|도|가|이)?\s?(안|못)\s?(받|되|돼)", 1.5),
    (r"망가|부러|파손|찢어|깨졌|깨져|금이\s?갔", 2.0),
    (r"(변기|하수구|배수구|배수관|세면대|싱크대)\S{0,3}\s?(막|역류)", 3.0),
    (r"먹통|에러|오류|정전|단수", 3.0),
    (r"찬물|추워|춥|더워", 1.5),
    (r"벌레|바퀴벌레|곰팡이", 1.0),
    (r"(와|봐|고쳐|갖다|가져다|보내)\s?주(실|세|시|셔)", 1.5),
    (r"갇혔|갇혀|못\s?들어가|들어갈\s?수(가)?\s?없", 3.0),
    (r"잠겨|잠겼|잠김|(키|열쇠|카드키)를?\s?(안에|두고|잃어|분실)|분실", 2.0),
];

const TROUBLE_NOW: &[(&str, f32)] = &[
    (r"\bnow\b|currently|\bjust\b|we're at|we are at|checked in|picked up", 1.5),
    (r"지금|현재|방금|도착했|체크인\s?했|와\s?보니|와서\s?보니|들어왔는데", 1.5),
];

const CHANGE: &[(&str, f32)] = &[
    (r"\bchang(e|ed|ing)\b", 1.5),
    (
        r"(will|we'll|i'll|we're going to|i'm going to) be (about |around |roughly )?(\d+|an|a|half an)? ?(hours?|minutes|mins)? ?late\b",
        2.0,
    ),
    (
        r"change (my |our |the |of )?(booking|reservation|date|dates|time|day|pick-?up|drop-?off|room|tour|slot|appointment|table|check-?in|check-?out|schedule)",
        2.0,
    ),
    (r"reschedul|postpone|\brebook|re-book", 3.0),
    (
        r"\bmov(e|ing) (it|my|our|the|this|to|booking|reservation|appointment|table|date|time|check-?in|pick-?up)\b|\bmove (it )?(up|forward)\b",
        2.5,
    ),
    (r"\bbring (it |the [a-z-]+ |my [a-z-]+ |our [a-z-]+ )?forward", 2.5),
    (r"\bfrom (the )?\d+(st|nd|rd|th)? to (the )?\d+(st|nd|rd|th)?\b|\d+(st|nd|rd|th)\b.{0,25}\bto (the )?\d+(st|nd|rd|th)\b", 1.0),
    (r"\bpush (it|my|our|the|this)\b.{0,30}\b(to|back|later)\b|push back", 2.5),
    (r"\bswitch (to|our|my|the|it)\b|\bswap\b|\bshift", 2.0),
    (r"(a|one|two|\d+) days? (later|earlier|sooner)|by (a|one|two|\d+) days?\b", 2.0),
    (r"\b(fix|correct) (the|my|our) (date|time|name|booking|reservation)|wrong (date|dates|time|day|name)", 2.5),
    (r"\bdelay|running late|late arrival|arriv(e|ing) late|연착|지연|늦게\s?(입실|체크\s?인|도착)", 1.5),
    (
        r"\bextend|extension|keep (the |it |our |my )?(car |room |vehicle )?(until|till|for)|one more (night|day)|(stay|keep) (an )?extra (night|day)",
        2.5,
    ),
    (r"\bshorten|cut (our|my|the) (stay|trip) short|one night less|fewer nights", 2.5),
    (r"\binstead\b", 1.5),
    (
        r"(earlier|later|different|another|new|other) (date|time|day|slot|session|pick-?up|departure)|(afternoon|morning|evening) (slot|session|instead)",
        2.0,
    ),
    (
        r"party size|number of (guests|people|persons|adults|pax)|(going to|will) be (\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) (people|guests|adults|of us|pax)|\b(one|two|three|\d+) (more|fewer|less) (people|guests|persons|adults|person|guest)|\b(down|up) to \d+",
        2.5,
    ),
    (r"\bcancel", 1.5),
    (r"\bmodify|\bamend|\bupdate (my|our|the) (booking|reservation)", 2.5),
    (r"\bupgrade", 0.5),
    ("변경", 3.0),
    (r"바꾸|바꿔|바꿀|바뀌", 2.5),
    (r"옮기|옮겨|옮길", 2.5),
    (r"미뤄|미루|미룰|미룬", 2.5),
    (r"연기(하|해|할|를|\s?가능|\s?요청|\s?부탁)", 2.5),
    (r"당겨|당길|앞당", 2.5),
    (r"줄이|줄여|줄일", 2.5),
    (r"늘리|늘려|늘릴|연장", 2.5),
    (r"다시\s?(잡|예약)|재예약", 2.5),
    (r"인원\s?(을|이|도)?\s?(추가|변경|조정|늘|줄)", 3.0),
    (r"\d+\s?(명|인)\s?(으로|이\s?될|될|이\s?됐|이\s?되)", 1.5),
    (r"취소하고|취소\s?후\s?(다시|재)", 2.0),
    ("취소", 1.0),
    ("대신", 1.5),
    (r"(오전|오후|저녁|아침|점심|타임|\d\s?시|시\s?반)\s?(으로|로)", 1.5),
    ("업그레이드", 0.5),
];

const ADDON: &[(&str, f32)] = &[
    (r"\badd\b|\badding\b", 2.0),
    (r"\badd (a|an|one|two|three|some|the|extra|another)\b", 1.0),
    (r"\badditional\b|\bextra\b", 1.0),
    (r"extra (bed|towels?|pillows?|blankets?|seat|driver|luggage|bags?|hour|mattress|cot)|(rollaway|sofa) bed", 2.0),
    (r"early check-?in|late check-?out|early arrival|late departure|early (pick-?up|access)", 3.0),
    (r"(car|baby|infant|child|booster|kid'?s?) seat|\bcrib\b|\bcot\b|high ?chair", 2.0),
    (r"breakfast|lunch (option|set)|dinner (option|set)|meal (plan|option)", 1.5),
    (r"\bcakes?\b|flowers?|bouquet|decorat|balloons?", 2.0),
    (r"champagne|\bwine\b|\bgifts?\b|surprise|\bpropos|picnic", 1.5),
    (
        r"pick-?up service|airport (pick-?up|transfer|shuttle)|shuttle service|transfer service|arrange (a |an )?(pick-?up|transfer|taxi|car|ride)",
        2.5,
    ),
    (r"(could|can|would) you (also )?(prepare|arrange|provide|set up|include|reserve)", 1.5),
    (r"add-?on|\boption\b|\bpackage\b", 1.5),
    (r"\b(rent|hire|borrow)\b", 1.5),
    (r"\bupgrade|업그레이드", 2.0),
    (r"pay the difference|차액\S{0,2}\s?(내|낼|지불|결제)", 1.5),
    (
        r"\b(need|want|like|get|have) (a|an|one|two|some|extra) [a-z -]{1,25}\b(with|for|in) (the|our|my) (car|room|booking|reservation|stay|tour|rental)",
        2.0,
    ),
    (r"\bgps\b|navigation|snow chains|stroller|\bpram\b|adapter", 1.0),
    (r"projector|flip ?charts?|microphone|speakers?|equipment|\bgear\b", 1.0),
    (r"\bquote\b", 1.0),
    (r"pay for (it|that|this|the extra)|happy to pay|gladly pay|willing to pay|(don't|do not) mind paying", 1.5),
    ("추가", 2.5),
    (r"추가\s?(하고|할|해|요청|신청|가능|부탁|하려|하면|되나|돼)", 1.0),
    ("신청", 1.5),
    (
        r"레이트\s?체크\s?아웃|얼리\s?체크\s?인|늦은\s?체크\s?아웃|이른\s?체크\s?인|늦게\s?체크\s?아웃|일찍\s?체크\s?인|조기\s?입실|늦은\s?퇴실|퇴실\s?연장",
        3.0,
    ),
    (r"픽업|샌딩|송영|마중", 2.0),
    (r"조식|석식|식사\s?추가", 1.5),
    (r"케이크|꽃다발|풍선|데코|장식|레터링|이벤트|프로포즈|서프라이즈|와인|샴페인", 2.0),
    (r"엑스트라\s?베드|(추가|보조|유아|아기)\s?(침대|침구|베드)|카시트|유아용|아기\s?의자|유모차", 2.5),
    (r"옵션|패키지", 2.0),
    (r"준비(해|하여|\s?가능|\s?부탁|\s?해\s?주)", 1.5),
    (r"대여|렌탈|빌릴|빌려", 1.5),
    (r"바베큐|바비큐|그릴|숯", 1.0),
    (r"부탁\s?드려도|해\s?주실\s?수", 0.5),
];

const COMPLAINT: &[(&str, f32)] = &[
    (r"unacceptable|outrageous|ridiculous|disgusting|appalling|shameful|disgraceful", 3.0),
    (r"disappoint", 2.5),
    (r"\brude\b|impolite|unprofessional|yell(ed|ing)|shout(ed|ing)|insult|disrespect|condescending|\battitude\b", 3.0),
    (r"terrible|awful|horrible|\bworst\b|poor (service|experience|quality|cleaning|communication)|bad (service|experience)", 2.0),
    (r"complain", 3.0),
    (r"apolog", 1.5),
    (r"acknowledg", 2.0),
    (r"(should|must|need to) be (warned|told|informed)|future (guests|customers)|for the record|\bfeedback\b|heads up", 2.0),
    (r"expected (a lot |much |so )?(more|better)|not worth|waste of (money|time)|overpriced", 2.0),
    (
        r"(minutes?|mins?|hours?|hrs?) late\b|(showed up|arrived|came) late\b|kept us waiting|waited (for )?(over |almost |nearly )?(an hour|\d+)",
        2.0,
    ),
    (r"noisy|\bnoise\b|\bloud\b", 2.0),
    (r"\bdirty\b|filthy|unclean|\bstains?\b|stained|\bhairs?\b|smelly", 1.5),
    (
        r"misleading|false advertising|not as (described|advertised|pictured|shown)|nothing like (the )?(photos?|pictures?|description)|different from the (photos?|pictures?)",
        3.0,
    ),
    (r"never (again|coming back)|won't (be )?(coming back|returning|booking)", 2.5),
    (r"lukewarm|overcooked|undercooked|\bbland\b|well done even", 1.5),
    (r"\bpushy\b|pressured|pressuring|forced (me|us)", 2.5),
    (r"(nobody|no one) (mentioned|told)|(wasn't|weren't|was not|were not) (told|informed|warned)", 1.5),
    (r"\bignored\b|no (response|reply)|haven't heard|never (heard|got a reply)|no one (got back|replied)", 2.0),
    (r"\bsenior\b|\bmanager\b|supervisor|책임자|관리자|매니저", 1.0),
    (r"말이\s?(되나요|됩니까|돼요|안\s?되)", 2.0),
    (r"unhappy|upset", 2.0),
    (r"불쾌|불친절|무례|반말|무시", 3.0),
    ("실망", 2.5),
    ("사과", 2.0),
    (r"최악|엉망|어이(가)?\s?없|황당|짜증|화가\s?(나|납)|화나|기분(이)?\s?(나쁘|나빴|상했|별로)|불만", 2.5),
    (r"민망|창피|망신", 1.5),
    (r"과장\s?광고|허위|다르잖|딴판", 3.0),
    (r"(사진|설명|안내|내용|광고|홈페이지)\S{0,3}\s?(너무|완전|많이|전혀|좀)?\s?(달라|달랐|다르|틀려|틀렸)", 2.5),
    (r"아깝|당황|직원\s?교육|참고\s?(해|하|부탁)", 2.0),
    ("별로", 1.5),
    (r"강매|강요|겁(을|주)", 2.5),
    (r"다시(는)?\s?(이용|오|방문|예약)\S{0,4}\s?(안|않|어렵|없|못)", 2.5),
    (r"다음부터는|앞으로는|다음에는", 1.5),
    ("아쉬", 2.0),
    (r"신경\s?(써|좀|을)", 1.5),
    (r"(답|답변|연락|회신)(이|은|도)?\s?(없|늦|안\s?와)|대기\s?중", 2.0),
    (r"리뷰|후기", 1.0),
    (r"머리카락|더러|지저분|곰팡이|악취|얼룩", 1.5),
    (r"청소\s?상태|위생", 1.5),
    (r"응대|태도", 1.5),
    (r"늦게\s?(와|오|도착)|지각|늦었|늦어", 1.5),
    (r"소음|시끄|방음|잠을?\s?(설쳤|못\s?잤)|한숨도\s?못", 2.0),
    // Praise followed by criticism is feedback on a finished experience.
    (r"(좋았|괜찮았|만족했|즐거웠)\S{0,2}\s?(는데|지만)|\b(good|great|nice|lovely|fine|fun|friendly|helpful)\b[^.!?]{0,40}\bbut\b", 1.5),
    (r"\bremind (your|the) (staff|team|employees)|train (your|the) (staff|team)|(tell|ask) your (staff|team|driver|guide)", 2.0),
    (r"좋겠(습니다|네요|어요)", 0.5),
];

/// Signs that the text asks something. An information question looks like
/// one; without these, unhappy text is a complaint, not a question.
const QUESTION_FORM: &[(&str, f32)] = &[
    (r"\?|^(do|does|is|are|can|could|what|where|when|how|which|will|would)\b|\b(wondering|curious|let me know|tell me)\b", 1.0),
    (r"나요|까요|가요|인지|는지|ㄴ가|습니까|어떻게|궁금|문의|알려|여쭤|있을까|될까", 1.0),
];

const COMPLAINT_PAST: &[(&str, f32)] = &[
    (r"\bstayed\b|during our (stay|visit|trip)|last (week|weekend|month|saturday|sunday|monday|tuesday|wednesday|thursday|friday)", 1.5),
    (r"다녀왔|다녀온|지난\s?(주|주말|번|달)|묵었|이용했", 1.5),
    (
        r"\b(was|were) (broken|dirty|late|cold|noisy|not working)|the whole (day|trip|stay|time|night)|entire (trip|stay|day)|all (day|night) long",
        1.5,
    ),
];

const GENERAL: &[(&str, f32)] = &[
    (r"\?", 0.5),
    (r"\b(do|does) you (have|allow|offer|accept|provide|take|open|serve|sell|rent|charge|recommend)\b", 2.0),
    (r"\bis there\b|\bare there\b|\bis it possible to (bring|pay|park|use|get)\b", 1.5),
    (r"\bhow (much|long|far|many|early|late|to get)\b|\bhow (do|can) (i|we)\b", 1.5),
    (r"\bwhat('s| is| are)\b|\bwhat time\b|\bwhich\b|\bwhere\b", 1.0),
    (r"polic(y|ies)|\brules?\b|\bterms\b", 1.5),
    (r"\ballowed\b|permitted|\bok(ay)? to\b", 1.5),
    (r"includ", 1.5),
    (r"accessib|wheelchair", 2.0),
    (
        r"wondering|curious|quick question|question about|(i'd|would) like to know|could you tell|can you tell|let me know (if|whether)|want to know",
        1.5,
    ),
    (r"minimum|maximum|age limit|\bage\b", 1.0),
    (r"opening hours|open on|business hours|break ?time|closed on|hours of operation", 1.5),
    (r"parking|park (my|the|a|our) car", 1.5),
    (r"directions|how to get|public transport|\bbus\b|subway|\btaxi\b", 1.5),
    (r"\bpets?\b|\bdogs?\b|\bcats?\b", 1.0),
    (r"invoice|receipt|\btax\b", 1.5),
    (r"payment method|pay (by|with|in|on site|at)\b|credit card|\bcash\b|accept cards?|bank transfer", 1.5),
    (r"warranty|guarantee", 2.0),
    (r"\bdo (i|we) need\b|\brequired\b|\bnecessary\b", 1.5),
    (r"\bmenu\b|\bkids\b|availab", 0.5),
    (r"planning|plan ahead|in advance", 0.5),
    ("궁금", 1.5),
    ("문의", 1.0),
    (r"여쭤|여쭙|질문", 1.5),
    (r"알려\s?주|알\s?수\s?있|알고\s?싶", 1.0),
    (r"어떻게|얼마나|얼마|몇\s?시|몇\s?분|언제|어디|무엇|뭐가|뭔가요|어느", 1.0),
    (r"영업|브레이크\s?타임|휴무|쉬는\s?날|운영\s?시간|오픈", 2.0),
    ("주차", 1.5),
    (r"가는\s?방법|오는\s?방법|가는\s?길|어떻게\s?가|대중교통|버스|지하철|택시|셔틀\s?(있|운행|시간)", 1.5),
    ("포함", 1.5),
    (r"규정|정책|약관", 2.0),
    (r"가능한가요|가능한지|되나요|되는지|있나요|있는지|인가요|인지|할\s?수\s?있나|나요\?", 0.75),
    (r"세금\s?계산서|영수증|증빙", 2.0),
    (r"결제\s?(방법|수단)|카드\s?결제|계좌\s?이체|현장\s?결제|무통장", 1.5),
    (r"반려|애견|강아지|고양이|펫", 1.5),
    (r"보증\s?기간|무상\s?수리|보증", 2.0),
    (r"범위|기본으로|기본\s?포함", 1.0),
    (r"걸리(나요|는지|나)", 1.0),
];

const POSITIVE: &[(&str, f32)] = &[
    (r"\blov(e|ed|ing)\b|wonderful|amazing|excellent|fantastic|\bperfect|awesome|lovely|delighted", 2.0),
    (r"\bgreat\b", 1.5),
    (
        r"\bhappy\b|\benjoy|\bglad\b|excited|\bnice\b|\bgood\b|\bfine\b|pleasant|beautiful|\bkind\b|friendly|\bfun\b|helpful|appreciate|surprise|celebrat|birthday|anniversary|\bpropos|remembered",
        1.0,
    ),
    (r"최고|감동|행복|너무\s?좋|정말\s?좋|(^|[^불])친절하|만족|훌륭", 2.0),
    (
        r"좋아|좋았|좋은|괜찮았|잘\s?(쓰|되|된|해\s?주|했|받|먹|지내|고쳐)|생일|프로포즈|서프라이즈|축하|기대|설레|ㅎㅎ|\^\^|😊|🙏|❤|♥|😍|🥰|기뻐|즐거|즐겁",
        1.0,
    ),
];

const NEGATIVE: &[(&str, f32)] = &[
    (
        r"unacceptable|terrible|awful|horrible|\bworst\b|disgusting|\brude\b|furious|angry|outrageous|ridiculous|disappoint|unhappy|upset|yelled|appalling|frustrat",
        2.0,
    ),
    (
        r"not working|doesn't work|broken|\bbroke\b|snapped|\bleak|\bwrong\b|problem|\bissue\b|complain|noisy|dirty|no one|nobody|\bnever\b|still (no|not|hasn't|haven't)|\bnothing\b|going on\?|unfortunately|sadly|\bmou?ld\b|stranded|locked out|lukewarm|\blost\b|waste",
        1.0,
    ),
    (r"불쾌|최악|짜증|화가|화나|어이없|황당|실망|불친절|엉망|민망|과장\s?광고|불만|무례|반말|강매", 2.0),
    (
        r"고장|안\s?(돼|되네|나와|나오|열|잡|받|들어)|없어요|없네|없다고|없습니다|아직도|냄새|곰팡이|깨져|추워|추위|춥|떨어져|새서|새요|끊|불편|별로|겁(을|주|이\s?나)|두\s?번|중복|너무\s?늦|늦게\s?(와|오)|안\s?(오셔|오셨|와요|왔)|ㅡㅡ|답답|힘들|걱정|아쉬|잘못",
        1.0,
    ),
    (
        r"overcharg|incorrect|mistake|\berror\b|charged twice|identical charges|for no reason|\?{3,}|!{3,}|skipped|still charged|cancelled on us|이중|아깝|당황",
        1.0,
    ),
    (r"it's been (\d+|two|three|a few|several) (days|weeks|months)|(일|주|달|열흘|일주일|한\s?달)\S{0,2}\s?(넘었|지났|됐는데)", 1.0),
    (r"\bdemand|당장|못\s?(바꿔|해\s?준|한다고)|안\s?된다고|아니라", 1.0),
    (r"ㅠ|ㅜ", 0.5),
];

const CONTRAST: &[(&str, f32)] = &[(
    r"\bbut\b|however|although|\bthough\b|지만|긴\s?(했는데|한데|했지만)|으나|다만|는데\s?(조금|좀)|(좋았|괜찮았|만족했|친절했|깨끗했)는데",
    1.0,
)];

const SAFETY: &[(&str, f32)] = &[
    (
        r"gas (smell|leak)|smell(s|ing)? (of |like )?(gas|burning)|burning smell|\bsmoke\b|\bfire\b|\binjur|\bhurt\b|bleeding|\bblood\b|ambulance|electric shock|\bsparks?\b|unsafe|dangerous|carbon monoxide|allergic reaction|asthma|can't breathe|food poisoning|vomit|fainted|unconscious|below zero|\d+ degrees outside|accident|\bcrash",
        1.0,
    ),
    (
        r"가스\s?(냄새|누출|새)|타는\s?냄새|탄\s?냄새|연기가|불이\s?(났|나)|화재|다쳤|다치|부상|피가|응급|구급차|위험|감전|누전|쓰러|알레르기|천식|호흡|식중독|구토|너무\s?추워|얼어|사고가?\s?(났|나)",
        1.0,
    ),
];

/// Happening now or today.
const IMMEDIATE: &[(&str, f32)] = &[
    (
        r"\bnow\b|right away|immediately|\basap\b|as soon as possible|\burgent|tonight|\btoday\b|this (morning|afternoon|evening)|in (an|one|two|half an|\d+) ?(hours?|hrs?|minutes|mins?)\b|(minutes?|mins?|hours?) ago|been (outside|waiting|standing|here) for|just (started|arrived|landed|checked in|got here)|we('re| are) (waiting|stuck|stranded|standing|outside)|stranded|locked out|still waiting|(won't|wouldn't) start|broke down|broken down|dead battery|\bleak|flood|overflow",
        1.0,
    ),
    (
        r"지금|당장|오늘|빨리|급해|급합|급하|긴급|즉시|방금|당일|\d+\s?분\s?째|밖에서?\s?(기다|서\s?있|있)|바로\s?(처리|와|봐|해\s?주|연락)|막\s?도착|펑크|방전|시동이?\s?(안|꺼)|퍼졌|물이\s?(새|샌|샙)|누수|침수|넘쳐",
        1.0,
    ),
];

/// The customer says it can wait.
const RELAXED: &[(&str, f32)] = &[(r"noturgent", 1.0)];

/// A demand for action right away, whatever the intent.
const DEMAND: &[(&str, f32)] = &[
    (r"right now|immediately|\basap\b|as soon as possible|\burgent|\btoday\b.{0,20}!|call me today|someone .{0,20}today", 1.0),
    (r"당장|지금\s?(바로|당장)|즉시|긴급|급합니다|오늘\s?(중|안)", 1.0),
];

/// The day itself: what a change request must name to be urgent.
const SAME_DAY: &[(&str, f32)] = &[
    (
        r"tonight|\btoday\b|this (morning|afternoon|evening)|in (an|one|two|half an|\d+) ?(hours?|hrs?|minutes|mins?)\b|right now|\basap\b|as soon as possible|\burgent",
        1.0,
    ),
    (r"오늘|당장|빨리|급해|급합|급하|긴급|방금|당일|이따가?|지금\s?(바로|당장|출발|가는)|\d+\s?시간\s?(뒤|후|남)", 1.0),
];

const TOMORROW: &[(&str, f32)] = &[(r"tomorrow|\btmrw?\b|\btmw\b|내일|명일|(^|\s)낼\s", 1.0)];

/// More than a few days away.
const FAR_OFF: &[(&str, f32)] = &[
    (r"next (week|month|year|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|in (two|three|four|\d+) (weeks|months)", 1.0),
    (r"다음\s?(주|달)|다다음|내년|\d+\s?(주|달|개월)\s?(뒤|후)", 1.0),
];

const THIS_WEEK: &[(&str, f32)] = &[
    (r"this (week|weekend|friday|saturday|sunday|monday|tuesday|wednesday|thursday)|day after tomorrow", 1.0),
    (r"이번\s?주|이번\s?주말|모레", 1.0),
];

/// Shouting: a whole word in capitals (checked on the original text).
const SHOUTING: &[(&str, f32)] = &[(r"(?-i:\b[A-Z]{5,}\b)", 1.0)];

const ANGER: &[(&str, f32)] = &[
    (r"unacceptable|outrageous|ridiculous|furious|angry|disgusting|appalling|yelled|!!", 1.0),
    (r"불쾌|최악|짜증|화가|화나|어이없|황당|무례|반말|!!", 1.0),
];

/// Mild feedback: a complaint that can wait.
const MILD: &[(&str, f32)] = &[
    (
        r"minor|small thing|one (small )?(note|thing)|not a big deal|\bfyi\b|just so you know|(you )?should know\b|just (saying|telling|letting)|no need to (reply|respond|answer)|nothing to fix|(don't|do not) need anything|\bremind (your|the) (staff|team)|just (a )?(heads up|suggestion)|for what it's worth|otherwise (fine|great|good)",
        1.0,
    ),
    (
        r"좀\s?별로|조금만|(조금|좀)\s?아쉬|괜찮았|잘\s?된\s?것\s?같|참고\s?(해|하|부탁)|알고\s?(계시라|계셨으면)|답(장|변)\s?(은\s?)?(안|필요\s?없)|위해\s?말씀",
        1.0,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn request(title: &str, content: &str) -> ClassifyRequest {
        ClassifyRequest {
            title: (!title.is_empty()).then(|| title.to_owned()),
            content: content.to_owned(),
            language_hint: None,
            reservation_hint: None,
            attachment_texts: vec![],
        }
    }

    fn classify(title: &str, content: &str) -> Classification {
        LocalClassifier::new().classify_now(&request(title, content))
    }

    #[test]
    fn every_cue_compiles() {
        let tables: &[&[(&str, f32)]] = &[
            REFUND,
            REFUND_WAITING,
            TROUBLE,
            TROUBLE_NOW,
            CHANGE,
            ADDON,
            COMPLAINT,
            COMPLAINT_PAST,
            GENERAL,
            QUESTION_FORM,
            POSITIVE,
            NEGATIVE,
            CONTRAST,
            SAFETY,
            IMMEDIATE,
            DEMAND,
            SAME_DAY,
            TOMORROW,
            FAR_OFF,
            THIS_WEEK,
            RELAXED,
            SHOUTING,
            ANGER,
            MILD,
        ];
        for table in tables {
            assert_eq!(compile(table).len(), table.len(), "a pattern in {table:?} does not compile");
        }
        assert_eq!(REWRITERS.len(), REWRITES.len());
    }

    #[test]
    fn a_korean_refund_request_is_classified_as_refund() {
        let c =
            classify("환불 부탁드립니다", "숙소 사정으로 일정을 못 가게 됐는데 결제한 금액 환불 받을 수 있을까요? 예약번호 AB-12345678");
        assert_eq!(c.intent, Intent::Refund);
        assert_eq!(c.language, Language::Ko);
        assert_eq!(c.urgency, Urgency::Medium);
        assert_eq!(c.reservation_number.as_ref().map(|r| r.as_str()), Some("AB-12345678"));
        assert!(!c.needs_partner(), "a refund is the business's own decision");
        assert_eq!(c.engine, ENGINE);
    }

    #[test]
    fn a_double_charge_is_a_refund() {
        let c = classify("", "My card was charged twice for the same booking, please reverse one of them.");
        assert_eq!(c.intent, Intent::Refund);
        assert_eq!(c.language, Language::En);
    }

    #[test]
    fn something_broken_right_now_is_an_urgent_trouble_report() {
        let c = classify("Shower not working", "We just checked in and the shower is not working at all. Booking XY-99887766.");
        assert_eq!(c.intent, Intent::TroubleReport);
        assert_eq!(c.urgency, Urgency::High);
        assert_eq!(c.sentiment, Sentiment::Negative);
        assert!(c.needs_partner());
    }

    #[test]
    fn a_korean_outage_now_is_an_urgent_trouble_report() {
        let c = classify("", "지금 객실 난방이 고장나서 너무 춥습니다. 빨리 확인해 주세요. 예약번호 PN-55443322");
        assert_eq!(c.intent, Intent::TroubleReport);
        assert_eq!(c.urgency, Urgency::High);
        assert_eq!(c.sentiment, Sentiment::Negative);
    }

    fn crosses(title: &str, content: &str) -> Vec<String> {
        let texts = Texts::of(&request(title, content));
        evidence(&texts).features().into_iter().map(|(name, _)| name).filter(|name| name.starts_with("cross:")).collect()
    }

    #[test]
    fn the_day_a_change_concerns_is_crossed_with_the_change_and_the_day_of_a_question_with_the_question() {
        let change = crosses("", "Please move my booking HT-20481123 to tonight");
        assert!(change.contains(&"cross:reservation_change:same_day".to_owned()), "{change:?}");
        let question = crosses("", "What time does the pool close today?");
        assert!(question.contains(&"cross:general_question:same_day".to_owned()), "{question:?}");
        assert!(!question.iter().any(|c| c.starts_with("cross:reservation_change")), "{question:?}");
    }

    #[test]
    fn an_inquiry_naming_no_time_is_crossed_as_untimed_and_chat_spellings_of_tomorrow_count() {
        assert_eq!(crosses("", "Do you have parking?"), vec!["cross:general_question:untimed".to_owned()]);
        let tomorrow = crosses("", "can we add a baby seat for tmrw? RC-5510298");
        assert!(tomorrow.iter().any(|c| c.ends_with(":tomorrow")), "{tomorrow:?}");
        let korean = crosses("", "낼 이사에 박스 10개만 더 가져와주세요");
        assert!(korean.iter().any(|c| c.ends_with(":tomorrow")), "{korean:?}");
    }

    #[test]
    fn feedback_that_asks_for_no_reply_is_mild_and_a_plain_complaint_is_not() {
        let mild = |content: &str| evidence(&Texts::of(&request("", content))).mild;
        assert!(mild("The driver was rude to us. No need to reply, just so you know."));
        assert!(mild("호스트분이 불친절하셨어요. 그냥 알고 계시라고요"));
        assert!(!mild("The front desk clerk was rude and dismissive. I expected better."));
    }

    #[test]
    fn a_gas_smell_is_high_urgency_whatever_else_is_said() {
        let c = classify("", "부엌에서 가스 냄새가 나는 것 같아요. 창문은 열어 뒀습니다.");
        assert_eq!(c.intent, Intent::TroubleReport);
        assert_eq!(c.urgency, Urgency::High);
    }

    #[test]
    fn a_date_change_next_month_is_a_medium_reservation_change() {
        let c = classify("", "다음달 10일 2박 예약했는데 하루 뒤로 날짜를 옮기고 싶어요. 예약번호 HT-11223344");
        assert_eq!(c.intent, Intent::ReservationChange);
        assert_eq!(c.urgency, Urgency::Medium);
        assert!(c.needs_partner());
    }

    #[test]
    fn a_change_for_tonight_is_high_urgency() {
        let c = classify("", "Could we reschedule our dinner tonight to 8pm? Reservation RS-20250101.");
        assert_eq!(c.intent, Intent::ReservationChange);
        assert_eq!(c.urgency, Urgency::High);
    }

    #[test]
    fn an_extra_bed_far_off_is_a_low_urgency_addon() {
        let c = classify("", "For our stay in August, could you add a rollaway bed for our son? We're happy to pay the fee.");
        assert_eq!(c.intent, Intent::AddonRequest);
        assert_eq!(c.urgency, Urgency::Low);
    }

    #[test]
    fn an_extra_fee_mention_does_not_make_a_change_an_addon() {
        let c = classify("", "인원을 3명에서 5명으로 늘리고 싶어요. 추가요금 있으면 알려주세요.");
        assert_eq!(c.intent, Intent::ReservationChange);
    }

    #[test]
    fn a_korean_addon_for_next_week_is_a_medium_addon() {
        let c = classify("", "다음주 토요일 숙박인데 조식 2인 추가 신청 가능할까요?");
        assert_eq!(c.intent, Intent::AddonRequest);
        assert_eq!(c.urgency, Urgency::Medium);
    }

    #[test]
    fn an_opening_hours_question_is_a_low_general_question() {
        let c = classify("", "토요일에도 영업하시나요? 몇 시까지 하는지 궁금합니다.");
        assert_eq!(c.intent, Intent::GeneralQuestion);
        assert_eq!(c.urgency, Urgency::Low);
        assert_eq!(c.sentiment, Sentiment::Neutral);
    }

    #[test]
    fn an_english_policy_question_is_a_general_question() {
        let c = classify("Pets?", "Do you allow cats in the rooms, and is there a cleaning charge?");
        assert_eq!(c.intent, Intent::GeneralQuestion);
        assert_eq!(c.urgency, Urgency::Low);
    }

    #[test]
    fn rude_staff_after_the_stay_with_a_demand_for_an_apology_is_a_medium_complaint() {
        let c = classify("", "We stayed last weekend and the front desk clerk was rude and dismissive. I expect an apology.");
        assert_eq!(c.intent, Intent::Complaint);
        assert_eq!(c.urgency, Urgency::Medium);
        assert_eq!(c.sentiment, Sentiment::Negative);
    }

    #[test]
    fn an_angry_complaint_demanding_action_today_is_high() {
        let c = classify("", "This is UNACCEPTABLE. Your driver insulted my father. I want a call from a manager today!");
        assert_eq!(c.intent, Intent::Complaint);
        assert_eq!(c.urgency, Urgency::High);
    }

    #[test]
    fn mild_mixed_feedback_is_a_low_complaint() {
        let c = classify("", "숙소는 깨끗하고 좋았는데 체크인 안내가 좀 별로였어요. 다음부터는 문자로 미리 알려주시면 좋겠어요.");
        assert_eq!(c.intent, Intent::Complaint);
        assert_eq!(c.urgency, Urgency::Low);
        assert_eq!(c.sentiment, Sentiment::Mixed);
    }

    #[test]
    fn warm_words_make_a_positive_sentiment() {
        let c = classify("", "We loved the tour last year! Do you run the sunset cruise in October as well?");
        assert_eq!(c.sentiment, Sentiment::Positive);
        assert_eq!(c.intent, Intent::GeneralQuestion);
    }

    #[test]
    fn negated_praise_is_not_positive() {
        let c = classify("", "The room was not clean and the staff were not friendly at all. Very disappointing.");
        assert_eq!(c.sentiment, Sentiment::Negative);
    }

    #[test]
    fn the_language_hint_wins_over_detection() {
        let mut r = request("", "예약 변경 가능할까요?");
        r.language_hint = Some(Language::En);
        assert_eq!(LocalClassifier::new().classify_now(&r).language, Language::En);
    }

    #[test]
    fn the_reservation_hint_wins_and_attachment_texts_are_searched() {
        let mut r = request("", "Please see the attached receipt; the heater is broken.");
        r.attachment_texts = vec!["RECEIPT  Booking: QR-55667788  Total KRW120000".into()];
        let c = LocalClassifier::new().classify_now(&r);
        assert_eq!(c.reservation_number.as_ref().map(|n| n.as_str()), Some("QR-55667788"));
        r.reservation_hint = ReservationNumber::parse("ZZ-10002000").ok();
        let c = LocalClassifier::new().classify_now(&r);
        assert_eq!(c.reservation_number.as_ref().map(|n| n.as_str()), Some("ZZ-10002000"));
    }

    #[test]
    fn prices_and_phone_numbers_are_not_reservation_numbers() {
        let c = classify("", "결제 금액 KRW98000 확인 부탁드려요. 연락처 010-2345-6789");
        assert_eq!(c.reservation_number, None);
    }

    #[test]
    fn empty_text_is_a_low_neutral_general_question() {
        let c = classify("", "");
        assert_eq!(c.intent, Intent::GeneralQuestion);
        assert_eq!(c.urgency, Urgency::Low);
        assert_eq!(c.sentiment, Sentiment::Neutral);
    }

    #[test]
    fn key_phrases_name_what_decided_the_intent() {
        let c = classify("", "I need to reschedule my tour to next Friday.");
        assert!(c.key_phrases.iter().any(|p| p.contains("reschedul")), "{:?}", c.key_phrases);
        assert!(c.key_phrases.len() <= MAX_KEY_PHRASES);
    }

    #[test]
    fn a_verdict_names_the_model_and_carries_calibrated_probabilities() {
        let c = classify("", "What time is check-in?");
        assert_eq!(c.engine, ENGINE);
        let certainty = c.certainty.expect("the model's probabilities");
        for p in [certainty.intent, certainty.urgency, certainty.sentiment] {
            assert!(p > 0.0 && p <= 1.0, "{p}");
        }
    }

    #[test]
    fn a_verdict_below_the_intent_threshold_is_unsure_and_the_reason_quotes_no_content() {
        let mut model = crate::model::classifier().expect("the embedded model").clone();
        let r = request("", "Could you move my booking HT-20481123 to the 25th?");
        let sure = classify_with_model(&model, &r);
        let p = sure.certainty.expect("probabilities").intent;
        model.intent.threshold = (p + 0.01).min(1.0);
        let unsure = classify_with_model(&model, &r);
        let reason = unsure.unsure.expect("an unsure verdict");
        assert_eq!(reason, format!("intent p={p:.2} < {:.2}", model.intent.threshold));
        assert!(!reason.contains("booking") && !reason.contains("HT-"), "{reason}");
        model.intent.threshold = p;
        assert_eq!(classify_with_model(&model, &r).unsure, None, "at the threshold the verdict stands");
    }

    #[test]
    fn the_pipelines_faq_questions_are_sure_general_questions() {
        // The demo tenant's FAQ questions: the end-to-end tests expect them answered.
        for text in ["What time is check-in?", "조식은 몇 시에 제공되나요?", "Is there parking?", "When is breakfast served?"] {
            let c = classify("", text);
            assert_eq!((c.intent, c.unsure.as_deref()), (Intent::GeneralQuestion, None), "{text}");
        }
        let mut r = request("", "Where does the hanok village tour start? Photo of my ticket attached.");
        r.attachment_texts = vec!["HANOK VILLAGE DAY TOUR - ADMIT ONE".into(), "A paper ticket for the hanok village day tour.".into()];
        let c = LocalClassifier::new().classify_now(&r);
        assert_eq!((c.intent, c.unsure.as_deref()), (Intent::GeneralQuestion, None));
    }

    #[test]
    fn a_named_reservation_change_is_a_sure_request_for_the_partner() {
        for text in ["Please move my booking TR-55501234 to the afternoon", "예약번호 HT-20481123 날짜를 12월 25일로 변경하고 싶어요"]
        {
            let c = classify("", text);
            assert_eq!((c.intent, c.unsure.as_deref()), (Intent::ReservationChange, None), "{text}");
            assert!(c.needs_partner());
        }
    }

    #[test]
    fn a_confidently_negative_cloud_reading_of_a_statement_makes_a_complaint_that_needs_a_reply() {
        let signals = Signals { language: Some(Language::En), sentiment: Some(Sentiment::Negative), negative_score: 0.95 };
        let c = LocalClassifier::new().classify_with(&request("", "The breakfast buffet was cleared away before nine."), &signals);
        assert_eq!(c.intent, Intent::Complaint);
        assert_ne!(c.urgency, Urgency::Low);
        assert_eq!(c.sentiment, Sentiment::Negative, "the cloud engine's sentiment is taken as it is");
    }

    #[tokio::test]
    async fn the_port_returns_the_same_verdict() {
        let r = request("", "환불해 주세요");
        let via_port = LocalClassifier::new().classify(&r).await.ok();
        assert_eq!(via_port, Some(LocalClassifier::new().classify_now(&r)));
    }
}
