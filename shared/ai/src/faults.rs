//! Injected engine faults, for fault tests and game days: a share of calls
//! fails as if the engine were down, and a share is held back before it
//! runs, as a slow engine would be. Off unless configured
//! (`SWITCHBOARD_AI_FAULT_RATE`, `SWITCHBOARD_AI_SLOW_RATE`,
//! `SWITCHBOARD_AI_SLOW_MS`); the services must answer every inquiry anyway,
//! by their fallbacks and retries.

use crate::{AiError, AnswerDrafter, AttachmentAnalysis, AttachmentAnalyzer, Classifier, ClassifyRequest, Draft, DraftRequest, Engines};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::{Classification, MediaType};

/// Which calls fail or slow down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// Share of calls (0–1) that fail with [`AiError::Unavailable`].
    pub failure_rate: f64,
    /// Share of calls (0–1) delayed by `slow_by` before they run.
    pub slow_rate: f64,
    pub slow_by: Duration,
}

impl FaultPlan {
    /// Whether the plan injects anything.
    pub fn is_active(&self) -> bool {
        self.failure_rate > 0.0 || (self.slow_rate > 0.0 && !self.slow_by.is_zero())
    }

    /// Wraps each engine so that its calls suffer the plan's faults.
    pub fn apply(self, engines: Engines) -> Engines {
        if !self.is_active() {
            return engines;
        }
        // Suggestions are asked by an operator, not the pipeline the plan tests.
        let suggester = engines.suggester.clone();
        let engines = Arc::new(engines);
        Engines {
            suggester,
            classifier: Arc::new(Faulty { plan: self, engines: engines.clone() }),
            drafter: Arc::new(Faulty { plan: self, engines: engines.clone() }),
            analyzer: Arc::new(Faulty { plan: self, engines }),
        }
    }

    /// Delays or fails one call, by the dice.
    async fn strike(&self, engine: &str) -> Result<(), AiError> {
        if rand::random::<f64>() < self.slow_rate {
            tokio::time::sleep(self.slow_by).await;
        }
        if rand::random::<f64>() < self.failure_rate {
            return Err(AiError::Unavailable(format!("injected fault in the {engine} engine")));
        }
        Ok(())
    }
}

/// The engines behind a fault plan.
struct Faulty {
    plan: FaultPlan,
    engines: Arc<Engines>,
}

#[async_trait]
impl Classifier for Faulty {
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError> {
        self.plan.strike("classifier").await?;
        self.engines.classifier.classify(request).await
    }

    // Batches go through one call at a time so that each one meets its own dice.
}

#[async_trait]
impl AnswerDrafter for Faulty {
    async fn draft(&self, request: &DraftRequest) -> Result<Draft, AiError> {
        self.plan.strike("answer").await?;
        self.engines.drafter.draft(request).await
    }
}

#[async_trait]
impl AttachmentAnalyzer for Faulty {
    async fn analyze(&self, media_type: MediaType, bytes: &[u8], context: &str) -> Result<AttachmentAnalysis, AiError> {
        self.plan.strike("attachment").await?;
        self.engines.analyzer.analyze(media_type, bytes, context).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ClassifyRequest {
        ClassifyRequest {
            title: None,
            content: "What time is check-in?".into(),
            language_hint: None,
            reservation_hint: None,
            attachment_texts: vec![],
        }
    }

    #[tokio::test]
    async fn a_plan_failing_every_call_fails_every_engine() {
        let plan = FaultPlan { failure_rate: 1.0, slow_rate: 0.0, slow_by: Duration::ZERO };
        let engines = plan.apply(Engines::local());
        let error = engines.classifier.classify(&request()).await.unwrap_err();
        assert!(error.to_string().contains("injected fault in the classifier engine"), "{error}");
        let analyzed = engines.analyzer.analyze(MediaType::Png, b"x", "").await;
        assert!(matches!(analyzed, Err(AiError::Unavailable(_))));
    }

    // Time is paused: it stands still while the local engine works and
    // jumps straight to the next timer when every task waits, so the
    // delay is measured exactly, however slow the machine.
    #[tokio::test(start_paused = true)]
    async fn a_slow_plan_delays_calls_then_lets_them_through() {
        let slow_by = Duration::from_millis(200);
        let plan = FaultPlan { failure_rate: 0.0, slow_rate: 1.0, slow_by };
        let engines = plan.apply(Engines::local());
        let just_short = tokio::time::timeout(slow_by - Duration::from_millis(1), engines.classifier.classify(&request())).await;
        assert!(just_short.is_err(), "held back by the plan's delay");
        let verdict = tokio::time::timeout(slow_by + Duration::from_millis(1), engines.classifier.classify(&request())).await;
        assert_eq!(verdict.unwrap().unwrap().language, switchboard_domain::Language::En, "let through once the delay is over");
    }

    #[test]
    fn an_empty_plan_is_inactive_and_leaves_the_engines_alone() {
        let plan = FaultPlan { failure_rate: 0.0, slow_rate: 0.5, slow_by: Duration::ZERO };
        assert!(!plan.is_active());
        assert!(FaultPlan { failure_rate: 0.1, ..plan }.is_active());
    }
}
