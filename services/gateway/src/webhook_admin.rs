//! What the webhook operations need besides the gateway's stores: the
//! endpoints' store, the notifier's queue (replays are delivery orders on
//! it), and the deployment's rules for targets and secret rotation.

use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::webhook::TargetPolicy;
use switchboard_messaging::Queue;
use switchboard_store::WebhookStore;

/// How long a replaced secret keeps signing after a rotation, by default.
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// The webhook operations' ports and settings.
#[derive(Clone)]
pub struct WebhookAdmin {
    /// Endpoints and their delivery logs.
    pub store: Arc<dyn WebhookStore>,
    /// The notifier's queue, where a replay orders its first attempt.
    pub notifier_queue: Arc<dyn Queue>,
    /// Which addresses an endpoint may resolve to.
    pub policy: TargetPolicy,
    /// Whether `http://` URLs are accepted (local receivers; tests).
    pub allow_http: bool,
    /// How long a replaced secret keeps signing after a rotation.
    pub rotation_grace: Duration,
}
