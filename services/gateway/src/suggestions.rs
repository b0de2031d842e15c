//! Reply suggestions for an escalated inquiry (`GET
//! /api/inquiries/{id}/suggestions`, gRPC `GetSuggestions`): three drafts,
//! careful to direct, each with what it commits the business to and the FAQ
//! entries it relies on. The drafts come from a port the composition root
//! wires to the AI engine the configuration chose (local templates and FAQ,
//! or Bedrock with the local drafts as its fallback).

use crate::error::ApiError;
use crate::ops;
use crate::principal::Principal;
use crate::state::Gateway;
use switchboard_domain::{Inquiry, InquiryStatus, Message, Suggestions, Tenant};
use switchboard_store::whole_conversation;

/// The drafts for inquiry `id`, if the caller may see it and it waits for a person.
pub async fn suggest(gateway: &Gateway, principal: &Principal, id: &str, field: &str) -> Result<Suggestions, ApiError> {
    let inquiry = ops::load(gateway, principal, id, field).await?;
    if inquiry.status != InquiryStatus::Escalated {
        return Err(ApiError::FailedPrecondition {
            detail: format!("replies are suggested for escalated inquiries; inquiry {} is {}", inquiry.id, inquiry.status.as_str()),
            current: Some(inquiry.status),
        });
    }
    let tenant = gateway
        .tenants
        .get_tenant(&inquiry.tenant_id)
        .await?
        .ok_or_else(|| ApiError::Unavailable(format!("the tenant of inquiry {} cannot be read", inquiry.id)))?;
    let conversation = whole_conversation(gateway.inquiries.as_ref(), &inquiry).await?;
    draft(gateway, &tenant, &inquiry, conversation).await
}

/// The drafts for an escalated `inquiry` of `tenant` already read, with
/// its whole `conversation` (the console's inquiry page reads them anyway).
pub async fn draft(gateway: &Gateway, tenant: &Tenant, inquiry: &Inquiry, conversation: Vec<Message>) -> Result<Suggestions, ApiError> {
    let language = inquiry.reply_language();
    gateway.suggester.suggest(tenant, inquiry, conversation, language).await.map_err(ApiError::Unavailable)
}
