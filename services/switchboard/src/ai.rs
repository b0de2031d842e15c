//! The AI engines the configuration names: the local ones (default), or
//! Comprehend, Bedrock and Textract with `SWITCHBOARD_AI=aws`. Region,
//! credentials and endpoints come from the standard AWS sources, like the
//! rest of the AWS mode (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
//! `AWS_ENDPOINT_URL_COMPREHEND`, `AWS_ENDPOINT_URL_TEXTRACT` point one
//! service elsewhere).

use crate::config::{AiMode, Config};
use std::time::Duration;
use switchboard_ai::Engines;
use switchboard_ai::aws::{AwsAiClients, AwsAiSettings};
use switchboard_aws::{AwsOptions, RequestCounter};

/// Model ids and time budgets of the AWS engines, from the configuration.
pub fn settings(config: &Config) -> AwsAiSettings {
    let vision = config.bedrock_vision_model_id.trim();
    AwsAiSettings {
        answer_model_id: config.bedrock_model_id.trim().to_owned(),
        vision_model_id: (!vision.is_empty()).then(|| vision.to_owned()),
        classifier_model_id: config
            .bedrock_classifier_model_id
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        classify_timeout: Duration::from_millis(config.ai_classify_timeout_ms),
        answer_timeout: Duration::from_millis(config.answer_budget_ms),
        attachment_timeout: Duration::from_millis(config.ai_attachment_timeout_ms),
    }
}

/// The engines `config.ai` names; AWS clients are built with `options`
/// (the standard sources by default) and report to `counter` when given.
pub async fn engines(config: &Config, options: &AwsOptions, counter: Option<RequestCounter>) -> Engines {
    match config.ai {
        AiMode::Local => Engines::local(),
        AiMode::Aws => {
            let sdk = switchboard_aws::sdk_config(options).await;
            switchboard_ai::aws::engines(&AwsAiClients::new(&sdk, counter), &settings(config))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_vision_model_turns_photo_descriptions_off() {
        let mut config = Config::default();
        assert!(settings(&config).vision_model_id.is_some(), "on by default");
        config.bedrock_vision_model_id = " ".into();
        config.bedrock_classifier_model_id = Some(String::new());
        let s = settings(&config);
        assert_eq!((s.vision_model_id, s.classifier_model_id), (None, None));
        assert_eq!(s.answer_timeout, Duration::from_secs(3));
    }
}
