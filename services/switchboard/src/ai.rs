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
use switchboard_ai::faults::FaultPlan;
use switchboard_aws::{AwsOptions, RequestCounter};

/// Model ids and time budgets of the AWS engines, from the configuration.
pub fn settings(config: &Config) -> AwsAiSettings {
    let vision = config.bedrock_vision_model_id.trim();
    AwsAiSettings {
        answer_model_id: config.bedrock_model_id.trim().to_owned(),
        vision_model_id: (!vision.is_empty()).then(|| vision.to_owned()),
        classifier_model_id: config.bedrock_classifier_model_id.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned),
        classify_timeout: Duration::from_millis(config.ai_classify_timeout_ms),
        answer_timeout: Duration::from_millis(config.answer_budget_ms),
        attachment_timeout: Duration::from_millis(config.ai_attachment_timeout_ms),
    }
}

/// The engines `config.ai` names; AWS clients are built with `options`
/// (the standard sources by default) and report to `counter` when given.
///
/// A missing region is refused at start: every AWS engine falls back on
/// failure, so without this check a misconfigured deployment would look
/// healthy while answering nothing with Bedrock.
pub async fn engines(config: &Config, options: &AwsOptions, counter: Option<RequestCounter>) -> anyhow::Result<Engines> {
    let engines = match config.ai {
        AiMode::Local => Engines::local(),
        AiMode::Aws => {
            let sdk = switchboard_aws::sdk_config(options).await;
            if sdk.region().is_none() {
                anyhow::bail!("SWITCHBOARD_AI=aws needs an AWS region: set AWS_REGION (or a profile with one)");
            }
            switchboard_ai::aws::engines(&AwsAiClients::new(&sdk, counter), &settings(config))
        }
    };
    let faults = fault_plan(config);
    if faults.is_active() {
        tracing::warn!(?faults, "AI engine faults are injected on purpose (SWITCHBOARD_AI_FAULT_RATE, SWITCHBOARD_AI_SLOW_RATE)");
    }
    Ok(faults.apply(engines))
}

/// The injected AI faults the configuration asks for (none by default).
pub fn fault_plan(config: &Config) -> FaultPlan {
    FaultPlan { failure_rate: config.ai_fault_rate, slow_rate: config.ai_slow_rate, slow_by: Duration::from_millis(config.ai_slow_ms) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn aws_engines_need_a_region_and_local_engines_need_nothing() {
        let config = Config { ai: AiMode::Aws, ..Config::default() };
        let without = AwsOptions { region: None, ..AwsOptions::default() };
        // The refusal shows only where the environment has no region
        // either (a developer's shell may set one).
        if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
            let error = engines(&config, &without, None).await.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("AWS_REGION"), "{error}");
        }
        let with = AwsOptions { region: Some("ap-northeast-2".into()), ..AwsOptions::default() };
        assert!(engines(&config, &with, None).await.is_ok());
        assert!(engines(&Config::default(), &without, None).await.is_ok());
    }

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
