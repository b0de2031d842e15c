//! What the handlers share: the stores, the intake and partner-dispatcher
//! libraries, readiness and the API's state.

use crate::api::Api;
use crate::follow_up_classifier::FollowUpClassifier;
use crate::reply_suggestions::ReplySuggestions;
use crate::webhook_admin::WebhookAdmin;
use async_trait::async_trait;
use std::sync::Arc;
use switchboard_domain::CustomerLinks;
use switchboard_intake::Intake;
use switchboard_partner_dispatcher::PartnerDispatcher;
use switchboard_store::{CorrectionStore, InquiryStore, TenantStore};

/// A dependency that does not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{dependency}: {cause}")]
pub struct NotReady {
    /// Which one (`store`, `queue classifier`): safe to show any caller.
    pub dependency: String,
    /// Why: for the log only, it may name hosts and carry backend errors.
    pub cause: String,
}

/// Whether the store and queues answer.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when every dependency answers, else which one does not.
    async fn check(&self) -> Result<(), NotReady>;

    /// Samples the queues' depths, ages and dead-letter counts into the
    /// metrics (`/metrics` calls it on every scrape). Nothing by default.
    async fn sample_queues(&self) {}
}

/// What the handlers need, shared: every request's extractors and layers
/// clone it, so a clone is one reference count, not one per part.
#[derive(Clone)]
pub struct Gateway(Arc<GatewayParts>);

impl Gateway {
    /// The gateway over `parts`.
    pub fn new(parts: GatewayParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for Gateway {
    type Target = GatewayParts;

    fn deref(&self) -> &GatewayParts {
        &self.0
    }
}

/// The parts of a [`Gateway`].
pub struct GatewayParts {
    /// Takes in inquiries (REST, gRPC, chat).
    pub intake: Intake,
    /// Opens and answers partner confirmations.
    pub dispatcher: PartnerDispatcher,
    /// Opens customers' links to their conversation (`/c/{token}`).
    pub customer_links: CustomerLinks,
    /// Inquiries and their timelines.
    pub inquiries: Arc<dyn InquiryStore>,
    /// Tenants, looked up by API key.
    pub tenants: Arc<dyn TenantStore>,
    /// Operators' corrections, written when they resolve with feedback.
    pub corrections: Arc<dyn CorrectionStore>,
    /// Classifies customers' follow-ups (their sentiment moves the trend).
    pub classifier: Arc<dyn FollowUpClassifier>,
    /// Drafts operators' reply suggestions for escalated inquiries.
    pub suggester: Arc<dyn ReplySuggestions>,
    /// The operators' console sessions.
    pub sessions: Arc<dyn switchboard_store::SessionStore>,
    /// Where the console reads an inquiry's trace.
    pub traces: Arc<dyn crate::traces::TraceSource>,
    /// Whether the dependencies answer (`/readyz`, gRPC health).
    pub readiness: Arc<dyn Readiness>,
    /// The tenant and operator API's shared state (REST and gRPC).
    pub api: Api,
    /// Tenants' webhook endpoints (`webhook_ops.rs`).
    pub webhooks: WebhookAdmin,
}
