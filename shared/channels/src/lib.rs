//! Outbound channels: SMS and e-mail ports, the embedded outbox ([`sqlite`]),
//! the AWS senders ([`sns`], [`ses`]), and tenants' webhooks over HTTP
//! ([`webhook`]).
//!
//! Every message has a deterministic id (derived from the event it
//! announces), so a sender that is asked twice can tell.

mod sent;
/// E-mail through SES v2, deduplicated by message id (AWS mode).
pub mod ses;
/// SMS through SNS, deduplicated by message id (AWS mode).
pub mod sns;
pub mod sqlite;
pub mod webhook;

use async_trait::async_trait;
use switchboard_domain::{EmailAddress, InquiryId, PhoneNumber};

/// A text message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Deterministic per (inquiry, event, recipient).
    pub id: String,
    pub to: PhoneNumber,
    pub body: String,
    pub inquiry_id: Option<InquiryId>,
}

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub id: String,
    pub to: EmailAddress,
    pub subject: String,
    pub body: String,
    pub inquiry_id: Option<InquiryId>,
}

/// What a send did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// A message with this id was sent before; nothing was sent now.
    AlreadySent,
}

/// A channel failure.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("the channel refused the message: {0}")]
    Rejected(String),
    #[error("the channel is unavailable: {0}")]
    Unavailable(String),
}

impl From<switchboard_sqlite::DbError> for ChannelError {
    fn from(e: switchboard_sqlite::DbError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// Sends text messages.
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send_sms(&self, message: &SmsMessage) -> Result<Delivery, ChannelError>;
}

/// Sends e-mail.
#[async_trait]
pub trait EmailSender: Send + Sync {
    async fn send_email(&self, message: &EmailMessage) -> Result<Delivery, ChannelError>;
}
