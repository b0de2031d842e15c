//! Tenants' webhooks, per the Standard Webhooks specification: endpoints
//! with an event filter ([`endpoint`], [`events`], [`url`]), their signing
//! secrets and rotation ([`secret`]), the signed message ([`signature`]),
//! which addresses a delivery may reach ([`target`]), when a failed
//! delivery is tried again ([`schedule`]), and the delivery log
//! ([`delivery`]). Pure: the notifier delivers, the gateway manages.

pub mod delivery;
pub mod endpoint;
pub mod events;
pub mod schedule;
pub mod secret;
pub mod signature;
pub mod target;
pub mod url;

pub use delivery::{AttemptResult, DELIVERY_LOG_TTL, DeliveryAttempt, DeliveryOrder, MessageState, WebhookMessage, expiry, message_id};
pub use endpoint::{Disabled, WebhookChange, WebhookEndpoint, WebhookEndpointId, WebhookInput};
pub use events::{EventFilter, WEBHOOK_EVENT_TYPES};
pub use schedule::RetrySchedule;
pub use secret::{LiveSecret, SecretRing, WebhookSecret};
pub use signature::{Signed, payload, sign};
pub use target::{Refused, TargetPolicy};
pub use url::WebhookUrl;
