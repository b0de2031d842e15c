//! The AI ports together, as the composition root wires them; the
//! local engines are the default, [`crate::aws::engines`] builds the AWS ones.

use crate::local::{LocalAnswerDrafter, LocalAttachmentAnalyzer, LocalClassifier, LocalReplySuggester};
use crate::{AnswerDrafter, AttachmentAnalyzer, Classifier, ReplySuggester};
use std::sync::Arc;

/// The AI ports the services use, as the composition root wires them.
#[derive(Clone)]
pub struct Engines {
    /// The classifier service's engine.
    pub classifier: Arc<dyn Classifier>,
    /// The responder's engine (answers and partner-outcome notifications).
    pub drafter: Arc<dyn AnswerDrafter>,
    /// The image-analyzer's engine.
    pub analyzer: Arc<dyn AttachmentAnalyzer>,
    /// The gateway's engine for operators' reply suggestions.
    pub suggester: Arc<dyn ReplySuggester>,
}

impl Engines {
    /// The local engines: no network, no account (the default).
    pub fn local() -> Self {
        Self {
            classifier: Arc::new(LocalClassifier::new()),
            drafter: Arc::new(LocalAnswerDrafter::new()),
            analyzer: Arc::new(LocalAttachmentAnalyzer::new()),
            suggester: Arc::new(LocalReplySuggester::new()),
        }
    }
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engines").finish_non_exhaustive()
    }
}
