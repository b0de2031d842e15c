//! What the Bedrock intent call adds to an inquiry, from the prompts the
//! classifier really sends (recorded by the stub), priced at Claude 3
//! Haiku's on-demand list price. The figure is written in
//! `shared/README.md` (AI engines, "What an inquiry costs").

use crate::stub::{Recorded, Reply, Stub};
use std::time::Duration;
use switchboard_ai::aws::bedrock::{BedrockIntentClassifier, Converse};
use switchboard_ai::aws::comprehend::ComprehendClassifier;
use switchboard_ai::{Classifier, ClassifyRequest};

/// Claude 3 Haiku (`anthropic.claude-3-haiku-20240307-v1:0`) on Bedrock,
/// on demand, US East: USD per 1,000 input and output tokens (AWS Bedrock
/// pricing page, list price since the model's launch in March 2024).
const HAIKU_INPUT_PER_1K: f64 = 0.000_25;
const HAIKU_OUTPUT_PER_1K: f64 = 0.001_25;

/// The ceiling the README states for the intent call, USD per inquiry.
const DOCUMENTED_CEILING: f64 = 0.000_3;

/// A typical answer of the intent model, as the prompt asks for it.
const ANSWER: &str = r#"{"intent": "trouble_report", "urgency": "high", "reservation_number": "HT-20481123", "confidence": 0.86}"#;

/// Tokens of a text by the rule of thumb the README's AI costs use: about
/// four characters a token for Latin script, and one token per character
/// otherwise (a Hangul syllable is one token or more in Claude's tokenizer,
/// so Korean is if anything under-counted).
fn estimated_tokens(text: &str) -> u64 {
    let ascii = text.chars().filter(char::is_ascii).count() as u64;
    let other = text.chars().count() as u64 - ascii;
    ascii.div_ceil(4) + other
}

fn request(content: &str) -> ClassifyRequest {
    ClassifyRequest { title: None, content: content.into(), language_hint: None, reservation_hint: None, attachment_texts: vec![] }
}

/// Input and output tokens of the intent call for one inquiry, as sent.
async fn intent_call_tokens(content: &str) -> (u64, u64) {
    let stub = Stub::start(|r: &Recorded, _| {
        if r.operation() == "Converse" {
            Reply::converse(ANSWER)
        } else {
            Reply::amz_json(serde_json::json!({ "Languages": [], "Sentiment": "NEUTRAL", "KeyPhrases": [], "Entities": [] }))
        }
    })
    .await;
    let clients = stub.clients().await;
    let model = BedrockIntentClassifier::new(
        Converse::new(clients.bedrock, Duration::from_secs(20)),
        "anthropic.claude-3-haiku-20240307-v1:0".into(),
    );
    let classifier = ComprehendClassifier::new(clients.comprehend, Duration::from_secs(20)).with_intent_model(model);
    classifier.classify(&request(content)).await.unwrap();
    let sent = stub.calls("Converse");
    assert_eq!(sent.len(), 1, "one intent call per inquiry");
    let system = sent[0].body["system"][0]["text"].as_str().unwrap_or_default();
    let user = sent[0].body["messages"][0]["content"][0]["text"].as_str().unwrap_or_default();
    (estimated_tokens(system) + estimated_tokens(user), estimated_tokens(ANSWER))
}

#[tokio::test]
async fn the_intent_call_costs_less_than_the_documented_ceiling_per_inquiry() {
    for content in [
        "Hi, the shower in our room has no hot water since this morning. Booking HT-20481123, please send someone today.",
        "1203호인데요 샤워하려는데 찬물만 나와요ㅠㅠ 벌써 20분째 틀어놨어요 예약번호 HT-20481123 빨리 와주세요",
    ] {
        let (input, output) = intent_call_tokens(content).await;
        let usd = input as f64 / 1000.0 * HAIKU_INPUT_PER_1K + output as f64 / 1000.0 * HAIKU_OUTPUT_PER_1K;
        eprintln!(
            "intent call: {input} input + {output} output tokens ≈ ${usd:.6} per inquiry (${:.0} per million) with Claude 3 Haiku",
            usd * 1e6
        );
        assert!(usd < DOCUMENTED_CEILING, "{usd}");
    }
}
