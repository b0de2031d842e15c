//! Reply suggestions for operators: for an escalated inquiry, three drafts
//! from careful to direct, each with what it would commit the business to
//! and the FAQ facts it relies on, so an operator picks, edits and sends.
//! The engines that write them are in `switchboard-ai`; this is the shape.

use crate::FaqEntryId;
use serde::{Deserialize, Serialize};

/// How much a draft commits the business to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Only what the FAQ and the records support; apologises, promises nothing.
    Careful,
    /// States the facts and commits to a next step and when.
    Balanced,
    /// Proposes a concrete remedy within the tenant's stated policies.
    Direct,
}

impl RiskLevel {
    /// Every level, careful first.
    pub const ALL: [RiskLevel; 3] = [RiskLevel::Careful, RiskLevel::Balanced, RiskLevel::Direct];

    /// The wire name: `careful`, `balanced` or `direct`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Careful => "careful",
            Self::Balanced => "balanced",
            Self::Direct => "direct",
        }
    }

    /// The level a wire name names.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// An FAQ entry a draft relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounding {
    /// The entry.
    pub faq_entry_id: FaqEntryId,
    /// Its question, so an operator sees what was relied on.
    pub question: String,
}

/// One draft reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// How far it goes.
    pub level: RiskLevel,
    /// The reply, in the customer's language, for the operator to edit.
    pub text: String,
    /// What sending it commits the business to, in the operator's words
    /// (English); empty when it commits to nothing.
    pub commits_to: Vec<String>,
    /// The FAQ entries its facts come from; empty when it states none.
    pub grounded_on: Vec<Grounding>,
}

/// The three drafts for one inquiry, and who wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestions {
    /// Careful, balanced, direct, in that order.
    pub suggestions: Vec<Suggestion>,
    /// Engine or model id, e.g. `local-suggestions-v1`.
    pub engine: String,
}
