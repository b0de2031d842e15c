use crate::stub::{Logs, Recorded, Reply, SHORT, SLOW, Stub};
use crate::{char_offsets, has_hangul};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_ai::aws::bedrock::{BedrockIntentClassifier, Converse};
use switchboard_ai::aws::comprehend::{
    ComprehendClassifier, MAX_BATCH_DOCUMENTS, MAX_DOCUMENT_BYTES, MAX_SMALL_DOCUMENT_BYTES, SENTIMENT_CHARS,
};
use switchboard_ai::aws::cross_check::LOCAL_INTENT_BAR;
use switchboard_ai::local::LocalClassifier;
use switchboard_ai::{Classifier, ClassifyRequest};
use switchboard_domain::{Intent, Language, Sentiment, TextField, Urgency};

const TITLE: &str = "Shower broken";
const CONTENT: &str = "Hi, this is John Smith in room 301. The shower is not working since this morning. \
Call me at 010-2345-6789 or john@example.com. Booking HT-20481123.";

fn request(title: Option<&str>, content: &str) -> ClassifyRequest {
    ClassifyRequest {
        title: title.map(str::to_owned),
        content: content.to_owned(),
        language_hint: None,
        reservation_hint: None,
        attachment_texts: vec![],
    }
}

fn text_of(r: &Recorded) -> &str {
    r.body["Text"].as_str().unwrap_or_default()
}

/// Comprehend as it answers: language by script, a negative sentiment, key
/// phrases and a NAME where the texts have them (character offsets).
fn comprehend(r: &Recorded) -> Reply {
    let phrase = |text: &str, needle: &str, score: f64| {
        char_offsets(text, needle).map(|(b, e)| json!({ "Text": needle, "Score": score, "BeginOffset": b, "EndOffset": e }))
    };
    match r.operation() {
        "DetectDominantLanguage" => {
            let code = if has_hangul(text_of(r)) { "ko" } else { "en" };
            Reply::amz_json(json!({ "Languages": [{ "LanguageCode": code, "Score": 0.99 }] }))
        }
        "DetectSentiment" => Reply::amz_json(json!({
            "Sentiment": "NEGATIVE",
            "SentimentScore": { "Positive": 0.01, "Negative": 0.97, "Neutral": 0.01, "Mixed": 0.01 }
        })),
        "DetectKeyPhrases" => {
            let text = text_of(r);
            let phrases: Vec<Value> = [phrase(text, "John Smith", 0.99), phrase(text, "The shower", 0.98), phrase(text, "room 301", 0.9)]
                .into_iter()
                .flatten()
                .collect();
            Reply::amz_json(json!({ "KeyPhrases": phrases }))
        }
        "DetectPiiEntities" => {
            let entities: Vec<Value> = char_offsets(text_of(r), "John Smith")
                .map(|(b, e)| json!({ "Type": "NAME", "Score": 0.99, "BeginOffset": b, "EndOffset": e }))
                .into_iter()
                .collect();
            Reply::amz_json(json!({ "Entities": entities }))
        }
        other => Reply::amz_error(400, &format!("UnknownOperationException: {other}")),
    }
}

async fn classifier(stub: &Stub, budget: Duration) -> ComprehendClassifier {
    ComprehendClassifier::new(stub.clients().await.comprehend, budget)
}

#[tokio::test]
async fn an_english_inquiry_is_read_by_the_four_comprehend_calls_and_enriches_the_local_rules() {
    let stub = Stub::start(|r, _| comprehend(r)).await;
    let c = classifier(&stub, Duration::from_secs(20)).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();

    let operations: Vec<String> = stub.requests().iter().map(|r| r.target.clone().unwrap_or_default()).collect();
    for target in [
        "Comprehend_20171127.DetectDominantLanguage",
        "Comprehend_20171127.DetectSentiment",
        "Comprehend_20171127.DetectKeyPhrases",
        "Comprehend_20171127.DetectPiiEntities",
    ] {
        assert_eq!(operations.iter().filter(|t| *t == target).count(), 1, "{target} in {operations:?}");
    }
    for r in stub.requests() {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/"));
        assert_eq!(r.content_type.as_deref(), Some("application/x-amz-json-1.1"));
        assert!(text_of(&r).starts_with("Shower broken\nHi, this is John Smith"), "title and content are read together");
    }
    for operation in ["DetectSentiment", "DetectKeyPhrases", "DetectPiiEntities"] {
        assert_eq!(stub.calls(operation)[0].body["LanguageCode"], "en", "{operation}");
    }

    assert_eq!(c.engine, "comprehend");
    assert_eq!(c.language, Language::En);
    assert_eq!(c.sentiment, Sentiment::Negative, "Comprehend's sentiment");
    assert_eq!((c.intent, c.urgency), (Intent::TroubleReport, Urgency::High), "the local rules' intent and urgency");
    assert_eq!(c.reservation_number.as_ref().map(|n| n.as_str()), Some("HT-20481123"));
    let found: Vec<(TextField, &str, &str)> = c.pii.iter().map(|s| (s.field, s.kind.as_str(), &CONTENT[s.start..s.end])).collect();
    assert_eq!(
        found,
        vec![
            (TextField::Content, "NAME", "John Smith"),
            (TextField::Content, "PHONE", "010-2345-6789"),
            (TextField::Content, "EMAIL", "john@example.com"),
        ],
        "Comprehend's NAME (offsets mapped from the combined text) and the local patterns' spans"
    );
    assert_eq!(c.key_phrases.first().map(String::as_str), Some("The shower"));
    assert!(!c.key_phrases.iter().any(|p| p.contains("John")), "a key phrase with a name is dropped: {:?}", c.key_phrases);
}

#[tokio::test]
async fn a_korean_inquiry_is_not_sent_to_pii_detection_which_does_not_support_korean() {
    let stub = Stub::start(|r, _| comprehend(r)).await;
    let content = "지금 객실 에어컨이 고장나서 너무 덥습니다. 010-9876-5432로 연락 주세요. 예약번호 PN-55443322";
    let c = classifier(&stub, Duration::from_secs(20)).await.classify(&request(None, content)).await.unwrap();

    assert!(stub.calls("DetectPiiEntities").is_empty());
    assert_eq!(stub.calls("DetectSentiment")[0].body["LanguageCode"], "ko");
    assert_eq!(stub.calls("DetectKeyPhrases")[0].body["LanguageCode"], "ko");
    assert_eq!((c.language, c.engine.as_str()), (Language::Ko, "comprehend"));
    let phones: Vec<&str> = c.pii.iter().map(|s| &content[s.start..s.end]).collect();
    assert_eq!(phones, vec!["010-9876-5432"], "the local patterns find Korean text's personal data");
}

#[tokio::test]
async fn long_texts_are_cut_on_character_boundaries_to_each_call_s_limit() {
    let stub = Stub::start(|r, _| comprehend(r)).await;
    // 40,000 Hangul syllables: 120,000 bytes, over every limit.
    let content: String = "가나다라마바사아자차".repeat(4_000);
    classifier(&stub, Duration::from_secs(20)).await.classify(&request(None, &content)).await.unwrap();

    let sentiment = text_of(&stub.calls("DetectSentiment")[0]).to_owned();
    assert_eq!(sentiment.chars().count(), SENTIMENT_CHARS, "sentiment reads only the first 500 characters: only those are sent");
    assert!(sentiment.len() <= MAX_SMALL_DOCUMENT_BYTES);
    for operation in ["DetectDominantLanguage", "DetectKeyPhrases"] {
        let sent = text_of(&stub.calls(operation)[0]).to_owned();
        assert!(sent.len() <= MAX_DOCUMENT_BYTES && sent.len() > MAX_DOCUMENT_BYTES - 3, "{operation}: {} bytes", sent.len());
        assert!(content.starts_with(&sent), "{operation}: a prefix, cut between characters");
    }
}

#[tokio::test]
async fn a_language_hint_or_a_very_short_text_needs_no_language_detection() {
    let stub = Stub::start(|r, _| comprehend(r)).await;
    let engine = classifier(&stub, Duration::from_secs(20)).await;
    let mut hinted = request(None, "The heater in our room stopped working an hour ago.");
    hinted.language_hint = Some(Language::En);
    engine.classify(&hinted).await.unwrap();
    let short = engine.classify(&request(None, "환불해 주세요")).await.unwrap();

    assert!(stub.calls("DetectDominantLanguage").is_empty(), "hint given, or under Comprehend's 20-character minimum");
    assert_eq!(short.language, Language::Ko, "detected locally");
    assert_eq!(stub.calls("DetectSentiment").len(), 2);
}

#[tokio::test]
async fn a_throttled_comprehend_call_is_retried_once() {
    let stub = Stub::start(|r, nth| {
        if r.operation() == "DetectSentiment" && nth == 0 { Reply::amz_error(400, "TooManyRequestsException") } else { comprehend(r) }
    })
    .await;
    let c = classifier(&stub, Duration::from_secs(20)).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();
    assert_eq!(stub.calls("DetectSentiment").len(), 2);
    assert_eq!((c.engine.as_str(), c.sentiment), ("comprehend", Sentiment::Negative));
}

#[tokio::test]
async fn a_comprehend_failure_gives_the_local_verdict_and_logs_no_content() {
    for failure in [Reply::amz_error(500, "InternalServerException"), Reply::garbage(), Reply::amz_error(400, "TooManyRequestsException")] {
        let logs = Logs::capture();
        let stub = Stub::start(move |r, _| if r.operation() == "DetectKeyPhrases" { failure.clone() } else { comprehend(r) }).await;
        let request = request(Some(TITLE), CONTENT);
        let c = classifier(&stub, Duration::from_secs(20)).await.classify(&request).await.unwrap();

        assert_eq!(c, LocalClassifier::new().classify_now(&request));
        let logged = logs.text();
        assert!(logged.contains("local classification is used"), "{logged}");
        for secret in ["John", "010-2345", "john@example.com", "shower", "HT-20481123"] {
            assert!(!logged.contains(secret), "{secret} logged: {logged}");
        }
    }
}

#[tokio::test]
async fn a_comprehend_call_past_its_budget_gives_the_local_verdict() {
    let stub = Stub::start(|r, _| if r.operation() == "DetectSentiment" { comprehend(r).after(SLOW) } else { comprehend(r) }).await;
    let request = request(Some(TITLE), CONTENT);
    let c = classifier(&stub, SHORT).await.classify(&request).await.unwrap();
    assert_eq!(c, LocalClassifier::new().classify_now(&request));
}

/// Comprehend's batch operations: one result per document, by index;
/// documents containing "FAIL" get an item error.
fn batches(r: &Recorded) -> Reply {
    let docs: Vec<String> =
        r.body["TextList"].as_array().map(|l| l.iter().filter_map(|d| d.as_str()).map(str::to_owned).collect()).unwrap_or_default();
    let errors: Vec<Value> = docs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.contains("FAIL"))
        .map(|(i, _)| json!({ "Index": i, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "stubbed" }))
        .collect();
    let ok = docs.iter().enumerate().filter(|(_, d)| !d.contains("FAIL"));
    let results: Vec<Value> = match r.operation() {
        "BatchDetectDominantLanguage" => ok
            .map(|(i, d)| json!({ "Index": i, "Languages": [{ "LanguageCode": if has_hangul(d) { "ko" } else { "en" }, "Score": 0.98 }] }))
            .collect(),
        "BatchDetectSentiment" => ok
            .map(|(i, _)| json!({ "Index": i, "Sentiment": "POSITIVE", "SentimentScore": { "Positive": 0.9, "Negative": 0.02, "Neutral": 0.07, "Mixed": 0.01 } }))
            .collect(),
        "BatchDetectKeyPhrases" => ok
            .map(|(i, _)| json!({ "Index": i, "KeyPhrases": [{ "Text": "the sunset cruise", "Score": 0.97, "BeginOffset": 0, "EndOffset": 3 }] }))
            .collect(),
        _ => return comprehend(r),
    };
    Reply::amz_json(json!({ "ResultList": results, "ErrorList": errors }))
}

#[tokio::test]
async fn a_batch_goes_by_25_documents_grouped_by_language_with_pii_one_by_one() {
    let stub = Stub::start(|r, _| batches(r)).await;
    let mut requests: Vec<ClassifyRequest> = (0..30)
        .map(|i| request(None, &format!("We loved the tour number {i}! Do you run the sunset cruise in October as well?")))
        .collect();
    requests.push(request(None, "다음 달 선셋 크루즈도 운영하시나요? 지난번 투어 정말 좋았어요!"));
    requests.push(request(None, "이번 주말 선셋 크루즈 예약 가능한가요? 가족 네 명이에요."));
    requests.push(request(None, "FAIL: this document gets an item error from every batch call."));
    let verdicts = classifier(&stub, Duration::from_secs(20)).await.classify_batch(&requests).await;

    assert_eq!(verdicts.len(), requests.len());
    let sizes = |operation: &str| -> Vec<(usize, String)> {
        let mut s: Vec<(usize, String)> = stub
            .calls(operation)
            .iter()
            .map(|r| (r.body["TextList"].as_array().map_or(0, Vec::len), r.body["LanguageCode"].as_str().unwrap_or("").to_owned()))
            .collect();
        s.sort();
        s
    };
    assert_eq!(sizes("BatchDetectDominantLanguage"), vec![(8, String::new()), (MAX_BATCH_DOCUMENTS, String::new())]);
    let by_language = vec![(2, "ko".to_owned()), (5, "en".to_owned()), (MAX_BATCH_DOCUMENTS, "en".to_owned())];
    assert_eq!(sizes("BatchDetectSentiment"), by_language);
    assert_eq!(sizes("BatchDetectKeyPhrases"), by_language);
    assert_eq!(stub.calls("DetectPiiEntities").len(), 30, "English documents only, one by one (no batch API)");
    for r in stub.calls("BatchDetectSentiment") {
        for doc in r.body["TextList"].as_array().unwrap() {
            assert!(doc.as_str().unwrap().chars().count() <= SENTIMENT_CHARS);
        }
    }

    assert!(verdicts[..32].iter().all(|c| c.engine == "comprehend" && c.sentiment == Sentiment::Positive));
    assert_eq!((verdicts[30].language, verdicts[31].language), (Language::Ko, Language::Ko));
    assert!(verdicts[0].key_phrases.contains(&"the sunset cruise".to_owned()));
    assert_eq!(verdicts[32], LocalClassifier::new().classify_now(&requests[32]), "an item error: the local verdict");
}

fn with_intent_model(reply: impl Into<String>) -> impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static {
    let reply = reply.into();
    move |r, _| if r.operation() == "Converse" { Reply::converse(&reply) } else { comprehend(r) }
}

async fn classifier_with_model(stub: &Stub) -> ComprehendClassifier {
    let clients = stub.clients().await;
    let model = BedrockIntentClassifier::new(
        Converse::new(clients.bedrock, Duration::from_secs(20)),
        "anthropic.claude-3-haiku-20240307-v1:0".into(),
    );
    ComprehendClassifier::new(clients.comprehend, Duration::from_secs(20)).with_intent_model(model)
}

#[tokio::test]
async fn a_configured_intent_model_s_strict_json_decides_intent_urgency_and_number() {
    let stub = Stub::start(with_intent_model(
        r#"{"intent":"trouble_report","urgency":"medium","reservation_number":"HT-20481123","confidence":0.9}"#,
    ))
    .await;
    let c = classifier_with_model(&stub).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();

    let converse = stub.calls("Converse");
    assert_eq!(converse.len(), 1);
    assert_eq!(converse[0].model_id(), Some("anthropic.claude-3-haiku-20240307-v1:0"));
    let system = converse[0].body["system"][0]["text"].as_str().unwrap();
    for intent in Intent::ALL {
        assert!(system.contains(intent.as_str()), "the prompt lists {intent:?}");
    }
    assert!(converse[0].body["messages"][0]["content"][0]["text"].as_str().unwrap().contains("The shower is not working"));
    // The local model agrees on the intent (and says high urgency): the
    // model's urgency stands.
    assert_eq!((c.intent, c.urgency, c.engine.as_str()), (Intent::TroubleReport, Urgency::Medium, "comprehend+bedrock"));
    assert_eq!(c.sentiment, Sentiment::Negative, "sentiment stays Comprehend's");
    assert_eq!(c.unsure, None, "two engines that agree are sure");
}

/// The verdict on the test inquiry without an intent model (the local
/// rules with Comprehend's signals): what the intent model is checked against.
async fn local_verdict() -> switchboard_domain::Classification {
    let stub = Stub::start(|r: &Recorded, _| comprehend(r)).await;
    classifier(&stub, Duration::from_secs(20)).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap()
}

#[tokio::test]
async fn a_disagreement_neither_engine_is_sure_of_is_unsure_and_names_both_engines_without_content() {
    let local = local_verdict().await;
    assert_ne!(local.intent, Intent::Complaint);
    let sure_local = local.certainty.is_some_and(|c| c.intent >= LOCAL_INTENT_BAR);
    for reply in [
        r#"{"intent":"complaint","urgency":"medium","reservation_number":null}"#,
        r#"{"intent":"complaint","urgency":"medium","reservation_number":null,"confidence":0.4}"#,
    ] {
        let stub = Stub::start(with_intent_model(reply)).await;
        let c = classifier_with_model(&stub).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();
        if sure_local {
            assert_eq!((c.intent, c.unsure), (local.intent, None), "a sure local model keeps its intent: {reply}");
            continue;
        }
        let why = c.unsure.unwrap_or_default();
        assert!(why.contains("bedrock says complaint") && why.contains(&format!("local model {}", local.intent.as_str())), "{why}");
        assert!(!why.contains("shower") && !why.contains("John") && !why.contains("HT-"), "no content: {why}");
    }
}

#[tokio::test]
async fn agreement_raises_the_certainty_above_the_model_s_own() {
    let local = local_verdict().await;
    let reply = format!(r#"{{"intent":"{}","urgency":"high","reservation_number":null,"confidence":0.8}}"#, local.intent.as_str());
    let stub = Stub::start(with_intent_model(reply)).await;
    let c = classifier_with_model(&stub).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();
    assert_eq!((c.intent, c.unsure.as_deref()), (local.intent, None));
    let certainty = c.certainty.unwrap().intent;
    assert!(certainty >= 0.8 && certainty >= local.certainty.map_or(0.0, |l| l.intent), "{certainty}");
}

#[tokio::test]
async fn a_confidence_outside_zero_to_one_is_invalid_and_the_local_verdict_stands() {
    let stub = Stub::start(with_intent_model(r#"{"intent":"complaint","urgency":"low","reservation_number":null,"confidence":7}"#)).await;
    let c = classifier_with_model(&stub).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();
    assert_eq!((c.intent, c.engine.as_str()), (local_verdict().await.intent, "comprehend"));
}

#[tokio::test]
async fn invalid_json_from_the_intent_model_leaves_the_local_rules_verdict() {
    for reply in [
        "It is a trouble report.",
        r#"{"intent":"broken_shower","urgency":"high","reservation_number":null}"#,
        r#"{"intent":"refund","urgency":"high","reservation_number":"ZZ-12345678"}"#,
    ] {
        let logs = Logs::capture();
        let stub = Stub::start(with_intent_model(reply)).await;
        let c = classifier_with_model(&stub).await.classify(&request(Some(TITLE), CONTENT)).await.unwrap();
        assert_eq!((c.intent, c.urgency, c.engine.as_str()), (Intent::TroubleReport, Urgency::High, "comprehend"), "{reply}");
        let logged = logs.text();
        assert!(logged.contains("intent model unusable"), "{logged}");
        assert!(!logged.contains("trouble report") && !logged.contains("shower") && !logged.contains("ZZ-"), "{logged}");
    }
}
