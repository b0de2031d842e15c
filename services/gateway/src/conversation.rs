//! An inquiry's conversation, whatever the protocol: a customer's
//! follow-up (`POST /api/inquiries/{id}/messages`, `AddMessage`), its
//! listing (`GET …/messages`, `ListMessages`), and the summary the inquiry
//! views show (message count, sentiment trend). REST (`inquiries.rs`) and
//! gRPC (`grpc/`) parse, call these and render, as with `ops.rs`.

use crate::error::ApiError;
use crate::ops;
use crate::principal::Principal;
use crate::state::Gateway;
use jiff::Timestamp;
use std::time::Duration;
use switchboard_domain::{FollowUp, Inquiry, InquiryStatus, Message, MessageChannel, SentimentTrend, SubmitFollowUp};
use switchboard_pipeline::follow_up::append_follow_up;
use switchboard_store::{Appended, Page, PageRequest, StoreError, conversation_page, whole_conversation};
use tracing::warn;

/// The page size of a listing that names none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Longest a follow-up waits for its classification; past it, it is stored unclassified.
const CLASSIFY_BUDGET: Duration = Duration::from_secs(2);
/// The CloudEvents source of the follow-up's announcement.
const SOURCE: &str = "switchboard/gateway";

/// What adding a follow-up did.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// The message as stored.
    pub message: Message,
    /// The idempotency key had been used on this inquiry: this is the earlier message.
    pub duplicate: bool,
}

/// The conversation as the inquiry views show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Messages so far, the inquiry's text included.
    pub message_count: u32,
    /// The customer's mood across them.
    pub trend: SentimentTrend,
}

/// Adds a customer's follow-up to inquiry `id` (tenant key; the caller's
/// own inquiry). `idempotency_key` is required: the same key on the same
/// inquiry returns the first message. The follow-up is classified (its
/// sentiment moves the trend) when the classifier answers in time, and
/// announced as `inquiry.message_received` through the outbox, in the
/// write that stores it.
pub async fn add(
    gateway: &Gateway,
    principal: &Principal,
    id: &str,
    input: SubmitFollowUp,
    idempotency_key: Option<&str>,
    fields: &Fields,
) -> Result<Added, ApiError> {
    let inquiry = ops::load(gateway, principal, id, fields.id).await?;
    principal.tenant()?;
    let key = ops::idempotency_key(idempotency_key, fields.idempotency_key)?
        .ok_or_else(|| ApiError::field(fields.idempotency_key, "is required: it makes a retried follow-up safe"))?;
    add_to(gateway, &inquiry, input, &key, MessageChannel::Api).await
}

/// Adds a customer's follow-up to `inquiry`, which the caller has already
/// loaded and may write to (a tenant's own inquiry through the API, or the
/// inquiry of a customer's link), keyed by the checked idempotency `key`,
/// as it came in over `channel`. What [`add`] does after its checks.
pub async fn add_to(
    gateway: &Gateway,
    inquiry: &Inquiry,
    input: SubmitFollowUp,
    key: &str,
    channel: MessageChannel,
) -> Result<Added, ApiError> {
    let follow_up = FollowUp::parse(input)?;
    if inquiry.status == InquiryStatus::Failed {
        return Err(ApiError::FailedPrecondition {
            detail: "the inquiry failed: it takes no follow-up (submit a new inquiry)".into(),
            current: Some(inquiry.status),
        });
    }
    let now = Timestamp::now();
    let language = follow_up.language;
    let mut message = Message::follow_up(inquiry.id, key, follow_up, channel, now);
    message.classification =
        match tokio::time::timeout(CLASSIFY_BUDGET, gateway.classifier.classify(&inquiry.tenant_id, &message.text, language)).await {
            Ok(Ok(c)) => Some(c),
            Ok(Err(why)) => {
                warn!(inquiry_id = %inquiry.id, error = %why, "follow-up stored unclassified");
                None
            }
            Err(_) => {
                warn!(inquiry_id = %inquiry.id, "follow-up stored unclassified: the classifier took too long");
                None
            }
        };
    if message.language.is_none() {
        message.language = message.classification.as_ref().map(|c| c.language);
    }
    let appended = append_follow_up(gateway.inquiries.as_ref(), gateway.api.relay(), inquiry, &message, SOURCE, now).await?;
    Ok(match appended {
        Appended::New(message) => Added { message, duplicate: false },
        Appended::Existing(message) => Added { message, duplicate: true },
    })
}

/// The field names a protocol gives the inquiry id and the idempotency key.
pub struct Fields {
    /// `id` (REST path) or `inquiry_id` (gRPC).
    pub id: &'static str,
    /// `Idempotency-Key` (REST header) or `idempotency_key` (gRPC).
    pub idempotency_key: &'static str,
    /// `cursor` (REST) or `page_token` (gRPC).
    pub page_token: &'static str,
    /// `limit` (REST) or `page_size` (gRPC).
    pub page_size: &'static str,
}

/// REST's names.
pub const REST_FIELDS: Fields = Fields { id: "id", idempotency_key: "Idempotency-Key", page_token: "cursor", page_size: "limit" };
/// gRPC's names.
pub const GRPC_FIELDS: Fields =
    Fields { id: "inquiry_id", idempotency_key: "idempotency_key", page_token: "page_token", page_size: "page_size" };

/// One page of inquiry `id`'s conversation (the caller's own, or any for
/// an operator), oldest first. `limit`: 1 to 1000, [`DEFAULT_PAGE_SIZE`]
/// when `None`.
pub async fn list(
    gateway: &Gateway,
    principal: &Principal,
    id: &str,
    limit: Option<u32>,
    after: Option<String>,
    fields: &Fields,
) -> Result<Page<Message>, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=PageRequest::MAX_SIZE).contains(&limit) {
        return Err(ApiError::field(fields.page_size, &format!("must be 1 to {}", PageRequest::MAX_SIZE)));
    }
    let inquiry = ops::load(gateway, principal, id, fields.id).await?;
    let page = PageRequest { limit, after: after.filter(|t| !t.is_empty()) };
    conversation_page(gateway.inquiries.as_ref(), &inquiry, &page).await.map_err(|e| match e {
        StoreError::InvalidPageToken => ApiError::field(fields.page_token, "is not a token this API issued"),
        other => other.into(),
    })
}

/// The count and trend of `inquiry`'s conversation (a read of its messages).
pub async fn summary(gateway: &Gateway, inquiry: &Inquiry) -> Result<Summary, ApiError> {
    let messages = whole_conversation(gateway.inquiries.as_ref(), inquiry).await?;
    Ok(Summary { message_count: u32::try_from(messages.len()).unwrap_or(u32::MAX), trend: SentimentTrend::of(&messages) })
}
