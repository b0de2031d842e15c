//! The classifier on Amazon Comprehend.
//!
//! Comprehend reads what it knows about: the dominant language
//! (`DetectDominantLanguage`), the sentiment (`DetectSentiment`), key
//! phrases (`DetectKeyPhrases`) and personal data (`DetectPiiEntities`).
//! Intent, urgency and the reservation number are Switchboard's own
//! categories, which Comprehend has no model for: the local rules decide
//! them, with Comprehend's language and sentiment in place of their own
//! guesses (see [`Signals`]), or, when an intent model is configured, a
//! Bedrock call answering strict JSON does (see [`BedrockIntentClassifier`]).
//!
//! Limits respected (every text is cut on a UTF-8 boundary):
//! - `DetectDominantLanguage` needs at least 20 characters (shorter texts
//!   are detected locally) and at most 100 KB; so do `DetectKeyPhrases`
//!   and `DetectPiiEntities`.
//! - `DetectSentiment` takes 5 KB but analyses only the first 500
//!   characters, so exactly those are sent (Comprehend bills by the
//!   100 characters: the rest would cost without counting).
//! - `DetectPiiEntities` supports English and Spanish only: Korean text is
//!   not sent to it, and the local patterns (phone, e-mail, card and
//!   resident numbers) find its personal data instead; they also run on
//!   English text, next to Comprehend.
//! - Batches ([`ComprehendClassifier::classify_batch`]): language,
//!   sentiment and key phrases go by 25 documents of at most 5 KB,
//!   grouped by language (a batch has one language code). PII detection
//!   and the intent model have no batch API and go one document at a time.
//!
//! Any Comprehend failure (throttled twice, 5xx, timeout, unreadable
//! answer) makes the verdict the local one, logged without content: the
//! classifier never stalls an inquiry.

use super::bedrock::{BedrockIntentClassifier, IntentVerdict};
use super::call::{sdk_failure, within_budget};
use super::cross_check;
use super::text::{char_range_to_bytes, truncate_bytes, truncate_chars};
use crate::local::{LocalClassifier, MAX_KEY_PHRASES, Signals};
use crate::{AiError, Classifier, ClassifyRequest, pii};
use async_trait::async_trait;
use aws_sdk_comprehend::Client;
use aws_sdk_comprehend::types::{DominantLanguage, KeyPhrase, LanguageCode, SentimentScore, SentimentType};
use std::time::Duration;
use switchboard_domain::{Classification, Language, PiiSpan, Sentiment, TextField};
use tracing::warn;

/// The `engine` of a classification Comprehend enriched.
pub const ENGINE: &str = "comprehend";

/// Largest document for `DetectDominantLanguage`, `DetectKeyPhrases` and
/// `DetectPiiEntities` (100 KB of UTF-8).
pub const MAX_DOCUMENT_BYTES: usize = 100_000;

/// Largest document for `DetectSentiment` and for any batch item (5 KB).
pub const MAX_SMALL_DOCUMENT_BYTES: usize = 5_000;

/// The characters `DetectSentiment` analyses; the rest is ignored.
pub const SENTIMENT_CHARS: usize = 500;

/// Most documents in one batch call.
pub const MAX_BATCH_DOCUMENTS: usize = 25;

/// Fewest characters `DetectDominantLanguage` accepts.
pub const MIN_LANGUAGE_CHARS: usize = 20;

/// A Korean score at least this high makes a mixed text Korean: a Korean
/// customer writing some English words ("Room decoration 추가 요청") wants
/// a Korean answer, as [`Language::detect`] also assumes.
const KOREAN_SHARE: f32 = 0.25;

/// Classifies with Comprehend and the local rules (and, optionally, a
/// Bedrock intent model); falls back to the local rules alone.
#[derive(Debug, Clone)]
pub struct ComprehendClassifier {
    client: Client,
    budget: Duration,
    local: LocalClassifier,
    intent_model: Option<BedrockIntentClassifier>,
}

/// The customer's own words as sent to Comprehend: the title, a line
/// break, the content. Attachment texts stay with the local rules (they
/// are often in another language than the customer's).
struct CustomerText {
    text: String,
    /// Length of the title in `text`, when there is one.
    title_len: Option<usize>,
}

impl CustomerText {
    fn of(request: &ClassifyRequest) -> Self {
        match request.title.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(title) => Self { text: format!("{title}\n{}", request.content), title_len: Some(title.len()) },
            None => Self { text: request.content.clone(), title_len: None },
        }
    }

    /// A byte range of `text` as spans of the inquiry's fields (a range
    /// across the line break becomes two).
    fn to_fields(&self, kind: &str, start: usize, end: usize) -> Vec<PiiSpan> {
        let span = |field, start, end| PiiSpan { field, kind: kind.to_owned(), start, end };
        match self.title_len {
            None => vec![span(TextField::Content, start, end)],
            Some(t) => {
                let mut out = Vec::new();
                if start < t {
                    out.push(span(TextField::Title, start, end.min(t)));
                }
                if end > t + 1 {
                    out.push(span(TextField::Content, start.max(t + 1) - (t + 1), end - (t + 1)));
                }
                out
            }
        }
    }
}

/// A key phrase as Comprehend reported it.
#[derive(Debug, Clone, PartialEq)]
struct Phrase {
    text: String,
    score: f32,
    /// Byte range in the text sent.
    range: Option<(usize, usize)>,
}

/// What Comprehend read in one text.
#[derive(Debug, Clone, Default)]
struct Reading {
    /// `None`: too short, or a language Switchboard does not answer in.
    language: Option<Language>,
    sentiment: Option<(Sentiment, f32)>,
    phrases: Vec<Phrase>,
    /// Kind and byte range in the text sent.
    pii: Vec<(String, usize, usize)>,
}

impl ComprehendClassifier {
    /// `budget` bounds each Comprehend call (its one retry on throttling included).
    pub fn new(client: Client, budget: Duration) -> Self {
        Self { client, budget, local: LocalClassifier::new(), intent_model: None }
    }

    /// Intent, urgency and reservation number from a Bedrock model instead
    /// of the local rules (whose verdict stays the fallback).
    pub fn with_intent_model(mut self, model: BedrockIntentClassifier) -> Self {
        self.intent_model = Some(model);
        self
    }

    /// Classifies many inquiries with batch calls where Comprehend has them
    /// (see the module documentation). One verdict per request, in order;
    /// an inquiry whose calls failed gets the local verdict.
    pub async fn classify_batch(&self, requests: &[ClassifyRequest]) -> Vec<Classification> {
        let texts: Vec<CustomerText> = requests.iter().map(CustomerText::of).collect();
        let mut readings: Vec<Option<Reading>> =
            requests.iter().map(|r| Some(Reading { language: r.language_hint, ..Reading::default() })).collect();

        // Languages, for those without a hint and long enough.
        let unknown: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].language_hint.is_none() && texts[i].text.chars().count() >= MIN_LANGUAGE_CHARS)
            .collect();
        for chunk in unknown.chunks(MAX_BATCH_DOCUMENTS) {
            let docs: Vec<String> = chunk.iter().map(|&i| truncate_bytes(&texts[i].text, MAX_SMALL_DOCUMENT_BYTES).to_owned()).collect();
            match self.batch_languages(docs).await {
                Ok(found) => {
                    for (n, result) in found.into_iter().enumerate() {
                        match result {
                            Some(language) => set(&mut readings, chunk[n], |r| r.language = language),
                            None => readings[chunk[n]] = None,
                        }
                    }
                }
                Err(error) => {
                    warn!(engine = ENGINE, %error, documents = chunk.len(), "Comprehend language batch failed; local verdicts used");
                    chunk.iter().for_each(|&i| readings[i] = None);
                }
            }
        }

        // Sentiment and key phrases, by language.
        for language in [Language::Ko, Language::En] {
            let group: Vec<usize> =
                (0..requests.len()).filter(|&i| readings[i].as_ref().is_some_and(|r| effective(r, &texts[i]) == language)).collect();
            for chunk in group.chunks(MAX_BATCH_DOCUMENTS) {
                let short: Vec<String> = chunk
                    .iter()
                    .map(|&i| truncate_chars(truncate_bytes(&texts[i].text, MAX_SMALL_DOCUMENT_BYTES), SENTIMENT_CHARS).to_owned())
                    .collect();
                let long: Vec<String> =
                    chunk.iter().map(|&i| truncate_bytes(&texts[i].text, MAX_SMALL_DOCUMENT_BYTES).to_owned()).collect();
                let (sentiments, phrases) = tokio::join!(self.batch_sentiments(short, language), self.batch_phrases(long, language));
                match (sentiments, phrases) {
                    (Ok(sentiments), Ok(phrases)) => {
                        for (n, (sentiment, phrases)) in sentiments.into_iter().zip(phrases).enumerate() {
                            let i = chunk[n];
                            match (sentiment, phrases) {
                                (Some(sentiment), Some(phrases)) => set(&mut readings, i, |r| {
                                    r.sentiment = Some(sentiment);
                                    r.phrases = phrase_list(&texts[i].text, &phrases);
                                }),
                                _ => readings[i] = None,
                            }
                        }
                    }
                    (Err(error), _) | (_, Err(error)) => {
                        warn!(engine = ENGINE, %error, documents = chunk.len(), "Comprehend batch failed; local verdicts used");
                        chunk.iter().for_each(|&i| readings[i] = None);
                    }
                }
            }
        }

        // Personal data (no batch API), then the intent model, one by one.
        let pii = futures::future::join_all((0..requests.len()).map(|i| {
            let language = readings[i].as_ref().map(|r| effective(r, &texts[i]));
            let text = &texts[i].text;
            async move {
                match language {
                    Some(language) => Some(self.pii(text, language).await),
                    None => None,
                }
            }
        }))
        .await;
        for (i, found) in pii.into_iter().enumerate() {
            match found {
                Some(Ok(spans)) => set(&mut readings, i, |r| r.pii = spans),
                Some(Err(error)) => {
                    warn!(engine = ENGINE, %error, "Comprehend PII detection failed; the local verdict is used");
                    readings[i] = None;
                }
                None => {}
            }
        }
        let verdicts = futures::future::join_all(requests.iter().map(|r| self.intent_verdict(r))).await;

        requests
            .iter()
            .zip(texts.iter())
            .zip(readings)
            .zip(verdicts)
            .map(|(((request, text), reading), verdict)| self.assemble(request, text, reading, verdict))
            .collect()
    }

    /// Everything Comprehend reads in one text: the language first (the
    /// other calls need its code), then sentiment, key phrases and PII at once.
    async fn read(&self, text: &CustomerText, hint: Option<Language>) -> Result<Reading, AiError> {
        let language = match hint {
            Some(language) => Some(language),
            None if text.text.chars().count() < MIN_LANGUAGE_CHARS => None,
            None => self.language(&text.text).await?,
        };
        let mut reading = Reading { language, ..Reading::default() };
        let code = effective(&reading, text);
        let (sentiment, phrases, pii) =
            tokio::join!(self.sentiment(&text.text, code), self.phrases(&text.text, code), self.pii(&text.text, code));
        reading.sentiment = Some(sentiment?);
        reading.phrases = phrases?;
        reading.pii = pii?;
        Ok(reading)
    }

    async fn language(&self, text: &str) -> Result<Option<Language>, AiError> {
        let text = truncate_bytes(text, MAX_DOCUMENT_BYTES);
        within_budget(self.budget, || {
            let call = self.client.detect_dominant_language().text(text).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "DetectDominantLanguage", &e))?;
                Ok(dominant(out.languages()))
            }
        })
        .await
    }

    async fn sentiment(&self, text: &str, language: Language) -> Result<(Sentiment, f32), AiError> {
        let text = truncate_chars(truncate_bytes(text, MAX_SMALL_DOCUMENT_BYTES), SENTIMENT_CHARS);
        within_budget(self.budget, || {
            let call = self.client.detect_sentiment().text(text).language_code(code(language)).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "DetectSentiment", &e))?;
                sentiment_of(out.sentiment(), out.sentiment_score())
            }
        })
        .await
    }

    async fn phrases(&self, text: &str, language: Language) -> Result<Vec<Phrase>, AiError> {
        let text = truncate_bytes(text, MAX_DOCUMENT_BYTES);
        within_budget(self.budget, || {
            let call = self.client.detect_key_phrases().text(text).language_code(code(language)).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "DetectKeyPhrases", &e))?;
                Ok(phrase_list(text, out.key_phrases()))
            }
        })
        .await
    }

    /// Comprehend's PII spans for English; nothing for Korean, which
    /// `DetectPiiEntities` does not support (the local patterns cover it).
    async fn pii(&self, text: &str, language: Language) -> Result<Vec<(String, usize, usize)>, AiError> {
        if language != Language::En {
            return Ok(Vec::new());
        }
        let text = truncate_bytes(text, MAX_DOCUMENT_BYTES);
        within_budget(self.budget, || {
            let call = self.client.detect_pii_entities().text(text).language_code(LanguageCode::En).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "DetectPiiEntities", &e))?;
                Ok(out
                    .entities()
                    .iter()
                    .filter_map(|e| {
                        let kind = e.r#type().map_or("PII", |t| t.as_str());
                        let (start, end) = char_range_to_bytes(text, e.begin_offset()?, e.end_offset()?)?;
                        Some((kind.to_owned(), start, end))
                    })
                    .collect())
            }
        })
        .await
    }

    /// Per document: `Some(language)` read (or `None` for a language
    /// Switchboard does not answer in), or the outer `None` for an item error.
    async fn batch_languages(&self, docs: Vec<String>) -> Result<Vec<Option<Option<Language>>>, AiError> {
        let n = docs.len();
        within_budget(self.budget, || {
            let call = self.client.batch_detect_dominant_language().set_text_list(Some(docs.clone())).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "BatchDetectDominantLanguage", &e))?;
                let mut found: Vec<Option<Option<Language>>> = vec![None; n];
                for item in out.result_list() {
                    if let Some(slot) = item.index().and_then(|i| found.get_mut(usize::try_from(i).ok()?)) {
                        *slot = Some(dominant(item.languages()));
                    }
                }
                Ok(found)
            }
        })
        .await
    }

    async fn batch_sentiments(&self, docs: Vec<String>, language: Language) -> Result<Vec<Option<(Sentiment, f32)>>, AiError> {
        let n = docs.len();
        within_budget(self.budget, || {
            let call = self.client.batch_detect_sentiment().set_text_list(Some(docs.clone())).language_code(code(language)).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "BatchDetectSentiment", &e))?;
                let mut found = vec![None; n];
                for item in out.result_list() {
                    if let Some(slot) = item.index().and_then(|i| found.get_mut(usize::try_from(i).ok()?)) {
                        *slot = sentiment_of(item.sentiment(), item.sentiment_score()).ok();
                    }
                }
                Ok(found)
            }
        })
        .await
    }

    async fn batch_phrases(&self, docs: Vec<String>, language: Language) -> Result<Vec<Option<Vec<KeyPhrase>>>, AiError> {
        let n = docs.len();
        within_budget(self.budget, || {
            let call = self.client.batch_detect_key_phrases().set_text_list(Some(docs.clone())).language_code(code(language)).send();
            async move {
                let out = call.await.map_err(|e| sdk_failure("comprehend", "BatchDetectKeyPhrases", &e))?;
                let mut found = vec![None; n];
                for item in out.result_list() {
                    if let Some(slot) = item.index().and_then(|i| found.get_mut(usize::try_from(i).ok()?)) {
                        *slot = Some(item.key_phrases().to_vec());
                    }
                }
                Ok(found)
            }
        })
        .await
    }

    /// The intent model's verdict, or `None` (not configured, failed, or
    /// invalid: logged without content; the local rules then decide).
    async fn intent_verdict(&self, request: &ClassifyRequest) -> Option<IntentVerdict> {
        let model = self.intent_model.as_ref()?;
        match model.decide(request).await {
            Ok(verdict) => Some(verdict),
            Err(error) => {
                warn!(engine = "bedrock", model = model.model_id(), %error, "intent model unusable; the local rules decide");
                None
            }
        }
    }

    /// The final verdict: the local rules with Comprehend's signals (or
    /// alone, when Comprehend failed), Comprehend's key phrases and PII
    /// spans added, and the intent model's verdict checked against the
    /// local one ([`cross_check::reconcile`]): agreement raises the
    /// certainty, an unsettled disagreement makes the verdict unsure.
    fn assemble(
        &self,
        request: &ClassifyRequest,
        text: &CustomerText,
        reading: Option<Reading>,
        verdict: Option<IntentVerdict>,
    ) -> Classification {
        let mut c = match &reading {
            Some(reading) => {
                let signals = Signals {
                    language: reading.language,
                    sentiment: reading.sentiment.map(|(s, _)| s),
                    negative_score: reading.sentiment.map_or(0.0, |(_, n)| n),
                };
                self.local.classify_with(request, &signals)
            }
            None => self.local.classify_now(request),
        };
        if let Some(reading) = reading {
            let mut spans = std::mem::take(&mut c.pii);
            for (kind, start, end) in &reading.pii {
                spans.extend(text.to_fields(kind, *start, *end));
            }
            c.pii = pii::merge(spans);
            c.key_phrases = key_phrases(&reading, std::mem::take(&mut c.key_phrases));
            c.engine = ENGINE.to_owned();
        }
        if let Some(verdict) = verdict {
            // Checked against the local verdict, not simply taken (see `cross_check`).
            let checked = cross_check::reconcile(&c, &verdict);
            c.intent = checked.intent;
            c.urgency = checked.urgency;
            c.certainty = Some(checked.certainty);
            c.unsure = checked.unsure.or(c.unsure);
            // A client's number wins; the model's, checked to be in the
            // text, wins over the pattern's.
            if request.reservation_hint.is_none() && verdict.reservation_number.is_some() {
                c.reservation_number = verdict.reservation_number;
            }
            c.engine = format!("{}+bedrock", c.engine);
        }
        c
    }
}

#[async_trait]
impl Classifier for ComprehendClassifier {
    /// Never fails: when Comprehend does, the verdict is the local one.
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError> {
        let text = CustomerText::of(request);
        let (reading, verdict) = tokio::join!(self.read(&text, request.language_hint), self.intent_verdict(request));
        let reading = match reading {
            Ok(reading) => Some(reading),
            Err(error) => {
                warn!(engine = ENGINE, %error, "Comprehend failed; the local classification is used");
                None
            }
        };
        Ok(self.assemble(request, &text, reading, verdict))
    }

    async fn classify_batch(&self, requests: &[ClassifyRequest]) -> Vec<Result<Classification, AiError>> {
        ComprehendClassifier::classify_batch(self, requests).await.into_iter().map(Ok).collect()
    }
}

fn set(readings: &mut [Option<Reading>], i: usize, f: impl FnOnce(&mut Reading)) {
    if let Some(Some(reading)) = readings.get_mut(i) {
        f(reading);
    }
}

/// The language the text is analysed in: Comprehend's (or the hint), else
/// the local detection.
fn effective(reading: &Reading, text: &CustomerText) -> Language {
    reading.language.unwrap_or_else(|| Language::detect(&text.text))
}

fn code(language: Language) -> LanguageCode {
    match language {
        Language::Ko => LanguageCode::Ko,
        Language::En => LanguageCode::En,
    }
}

/// Korean when it has a fair share, else the better of Korean and
/// English; `None` when Comprehend saw neither.
fn dominant(languages: &[DominantLanguage]) -> Option<Language> {
    let score = |code: &str| {
        languages
            .iter()
            .filter(|l| l.language_code() == Some(code))
            .filter_map(|l| l.score())
            .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))))
    };
    match (score("ko"), score("en")) {
        (Some(ko), _) if ko >= KOREAN_SHARE => Some(Language::Ko),
        (Some(ko), Some(en)) => Some(if ko > en { Language::Ko } else { Language::En }),
        (Some(_), None) => Some(Language::Ko),
        (None, Some(_)) => Some(Language::En),
        (None, None) => None,
    }
}

fn sentiment_of(sentiment: Option<&SentimentType>, scores: Option<&SentimentScore>) -> Result<(Sentiment, f32), AiError> {
    let sentiment = match sentiment {
        Some(SentimentType::Positive) => Sentiment::Positive,
        Some(SentimentType::Negative) => Sentiment::Negative,
        Some(SentimentType::Neutral) => Sentiment::Neutral,
        Some(SentimentType::Mixed) => Sentiment::Mixed,
        _ => return Err(AiError::InvalidOutput("comprehend DetectSentiment: no known sentiment".into())),
    };
    let negative = scores.and_then(SentimentScore::negative).unwrap_or(0.0);
    Ok((sentiment, negative))
}

fn phrase_list(text: &str, phrases: &[KeyPhrase]) -> Vec<Phrase> {
    phrases
        .iter()
        .filter_map(|p| {
            let range = match (p.begin_offset(), p.end_offset()) {
                (Some(start), Some(end)) => char_range_to_bytes(text, start, end),
                _ => None,
            };
            Some(Phrase { text: p.text()?.trim().to_owned(), score: p.score().unwrap_or(0.0), range })
        })
        .filter(|p| !p.text.is_empty())
        .collect()
}

/// Comprehend's best phrases, then the rules' cue phrases, without
/// duplicates. A phrase touching personal data is dropped: key phrases
/// travel in events and show in consoles, where PII must not.
fn key_phrases(reading: &Reading, local: Vec<String>) -> Vec<String> {
    let mut phrases: Vec<&Phrase> = reading.phrases.iter().collect();
    phrases.sort_by(|a, b| b.score.total_cmp(&a.score));
    let touches_pii = |phrase: &Phrase| {
        let by_comprehend = phrase.range.is_some_and(|(s, e)| reading.pii.iter().any(|(_, ps, pe)| *ps < e && s < *pe));
        by_comprehend || !pii::detect(TextField::Content, &phrase.text).is_empty()
    };
    let mut out: Vec<String> = Vec::new();
    let candidates = phrases.into_iter().filter(|p| !touches_pii(p)).map(|p| p.text.clone()).chain(local);
    for phrase in candidates {
        if !out.iter().any(|p| p.eq_ignore_ascii_case(&phrase)) {
            out.push(phrase);
        }
        if out.len() == MAX_KEY_PHRASES {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(code: &str, score: f32) -> DominantLanguage {
        DominantLanguage::builder().language_code(code).score(score).build()
    }

    #[test]
    fn a_mixed_text_with_a_fair_korean_share_is_korean() {
        assert_eq!(dominant(&[lang("en", 0.7), lang("ko", 0.3)]), Some(Language::Ko));
        assert_eq!(dominant(&[lang("en", 0.9), lang("ko", 0.1)]), Some(Language::En));
        assert_eq!(dominant(&[lang("ja", 0.99)]), None);
        assert_eq!(dominant(&[]), None);
    }

    #[test]
    fn spans_across_the_title_and_content_are_split_by_field() {
        let request = ClassifyRequest {
            title: Some("Call 555".into()),
            content: "0149 now".into(),
            language_hint: None,
            reservation_hint: None,
            attachment_texts: vec![],
        };
        let text = CustomerText::of(&request);
        assert_eq!(text.text, "Call 555\n0149 now");
        let spans = text.to_fields("PHONE", 5, 13);
        assert_eq!(
            spans,
            vec![
                PiiSpan { field: TextField::Title, kind: "PHONE".into(), start: 5, end: 8 },
                PiiSpan { field: TextField::Content, kind: "PHONE".into(), start: 0, end: 4 },
            ]
        );
        assert_eq!(text.to_fields("X", 9, 13), vec![PiiSpan { field: TextField::Content, kind: "X".into(), start: 0, end: 4 }]);
    }

    #[test]
    fn key_phrases_touching_personal_data_are_dropped() {
        let reading = Reading {
            phrases: vec![
                Phrase { text: "John Smith".into(), score: 0.99, range: Some((0, 10)) },
                Phrase { text: "the broken heater".into(), score: 0.95, range: Some((20, 37)) },
                Phrase { text: "010-1234-5678".into(), score: 0.9, range: None },
            ],
            pii: vec![("NAME".into(), 0, 10)],
            ..Reading::default()
        };
        assert_eq!(key_phrases(&reading, vec!["broken".into(), "The broken heater".into()]), vec!["the broken heater", "broken"]);
    }
}
