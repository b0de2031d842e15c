//! The AWS engines, beside the [local](crate::local) ones: Comprehend
//! ([`comprehend`]), Bedrock ([`bedrock`]) and Textract ([`textract`]),
//! their SDK clients built from one SDK configuration ([`AwsAiClients`]),
//! the check of a Bedrock intent verdict against the local one ([`cross_check`]),
//! and the services' ports made of them ([`engines`]).
//!
//! What every call shares (time budget, one retry on throttling,
//! content-free errors) is in `call`; cutting text to the services'
//! UTF-8 limits in `text`.

pub mod bedrock;
mod call;
pub mod comprehend;
pub mod cross_check;
pub mod suggestions;
mod text;
pub mod textract;

use crate::Engines;
use aws_config::SdkConfig;
use bedrock::{BedrockAnswerDrafter, BedrockIntentClassifier, BedrockVision, Converse};
use comprehend::ComprehendClassifier;
use std::sync::Arc;
use std::time::Duration;
use suggestions::{BedrockReplySuggester, FallbackSuggester};
use switchboard_aws::RequestCounter;
use textract::TextractAnalyzer;

/// What the AWS engines are configured with: model ids and time budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsAiSettings {
    /// Bedrock model for answers and customer notifications (Converse).
    pub answer_model_id: String,
    /// Bedrock model that describes photos; `None`: no image descriptions.
    pub vision_model_id: Option<String>,
    /// Bedrock model that decides intent, urgency and reservation number
    /// as strict JSON; `None`: the local rules decide (enriched by Comprehend).
    pub classifier_model_id: Option<String>,
    /// Budget of each classification call (Comprehend, Bedrock intent).
    pub classify_timeout: Duration,
    /// Budget of one answer or notification, its one retry included.
    pub answer_timeout: Duration,
    /// Budget of each attachment call (Textract, Bedrock vision).
    pub attachment_timeout: Duration,
}

/// The SDK clients of the AI engines, built alike: from one SDK
/// configuration, SDK retries off (each engine retries a throttled call
/// once itself, within its budget, and otherwise falls back), and
/// `counter`, when given, seeing every request (what an inquiry costs).
#[derive(Debug, Clone)]
pub struct AwsAiClients {
    /// Amazon Comprehend (AWS JSON 1.1).
    pub comprehend: aws_sdk_comprehend::Client,
    /// Amazon Textract (AWS JSON 1.1).
    pub textract: aws_sdk_textract::Client,
    /// Amazon Bedrock Runtime (REST-JSON Converse).
    pub bedrock: aws_sdk_bedrockruntime::Client,
}

impl AwsAiClients {
    /// The three clients from one SDK configuration.
    pub fn new(sdk: &SdkConfig, counter: Option<RequestCounter>) -> Self {
        macro_rules! client {
            ($sdk_crate:ident) => {{
                let mut builder = $sdk_crate::config::Builder::from(sdk).retry_config($sdk_crate::config::retry::RetryConfig::disabled());
                if let Some(counter) = &counter {
                    builder = builder.interceptor(counter.clone());
                }
                $sdk_crate::Client::from_conf(builder.build())
            }};
        }
        Self { comprehend: client!(aws_sdk_comprehend), textract: client!(aws_sdk_textract), bedrock: client!(aws_sdk_bedrockruntime) }
    }
}

/// The AWS engines as the services' ports: Comprehend (and optionally
/// Bedrock) classifies, Bedrock answers, writes notifications and drafts
/// operators' reply suggestions (with the answer model; the local drafts
/// when it fails), Textract and Bedrock vision read attachments.
pub fn engines(clients: &AwsAiClients, settings: &AwsAiSettings) -> Engines {
    let mut classifier = ComprehendClassifier::new(clients.comprehend.clone(), settings.classify_timeout);
    if let Some(model) = &settings.classifier_model_id {
        let converse = Converse::new(clients.bedrock.clone(), settings.classify_timeout);
        classifier = classifier.with_intent_model(BedrockIntentClassifier::new(converse, model.clone()));
    }
    let drafter =
        BedrockAnswerDrafter::new(Converse::new(clients.bedrock.clone(), settings.answer_timeout), settings.answer_model_id.clone());
    let mut analyzer = TextractAnalyzer::new(clients.textract.clone(), settings.attachment_timeout);
    if let Some(model) = &settings.vision_model_id {
        let converse = Converse::new(clients.bedrock.clone(), settings.attachment_timeout);
        analyzer = analyzer.with_vision(BedrockVision::new(converse, model.clone()));
    }
    let suggester =
        BedrockReplySuggester::new(Converse::new(clients.bedrock.clone(), settings.answer_timeout), settings.answer_model_id.clone());
    Engines {
        classifier: Arc::new(classifier),
        drafter: Arc::new(drafter),
        analyzer: Arc::new(analyzer),
        suggester: Arc::new(FallbackSuggester::new(Arc::new(suggester))),
    }
}
