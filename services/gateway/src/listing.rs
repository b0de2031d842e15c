//! `ListInquiries` / `GET /api/inquiries`: newest first, filtered by status,
//! creation time and urgency, in pages.
//!
//! The store lists a tenant's inquiries or one status's, newest first
//! (GSI1, GSI2). Other filters are applied here while reading store pages,
//! so one API page reads at most [`MAX_SCAN_PAGES`] store pages and may come
//! back short (even empty) with a token to go on: the same contract as
//! DynamoDB's filtered queries. The page token records where reading stopped
//! (the store's token of the page being read and how far into it) and a
//! fingerprint of the caller and filters, so a token replayed with other
//! filters, or by another caller, is rejected instead of skipping results.

use crate::error::ApiError;
use crate::ops::Principal;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_domain::{Inquiry, InquiryStatus, TenantId, Urgency};
use switchboard_store::{InquiryStore, PageRequest};

/// Inquiries read from the store per store page.
const SCAN_PAGE: u32 = 100;
/// Store pages one API page may read before returning short.
pub const MAX_SCAN_PAGES: usize = 10;
/// Default and largest page sizes.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

/// The filters of a listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub status: Option<InquiryStatus>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created before.
    pub created_before: Option<Timestamp>,
    pub urgency: Option<Urgency>,
    /// Operators: one tenant's inquiries.
    pub tenant_id: Option<TenantId>,
    /// 0 means the default.
    pub page_size: u32,
    pub page_token: Option<String>,
}

/// One page of inquiries.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub inquiries: Vec<Inquiry>,
    pub next_page_token: Option<String>,
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// The store's token of the store page being read (`None`: the first).
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// Inquiries of that store page already handed out.
    #[serde(rename = "o")]
    offset: usize,
    /// Fingerprint of the caller and filters the token was issued for.
    #[serde(rename = "f")]
    fingerprint: String,
}

impl Cursor {
    fn encode(&self) -> String {
        // Serialising a struct of strings and numbers cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// Which store index to read.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Tenant(TenantId),
    Status(InquiryStatus),
}

fn fingerprint(principal: &Principal, query: &ListQuery, source: &Source) -> String {
    let text = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        principal.actor(),
        source,
        query.status,
        query.created_after,
        query.created_before,
        query.urgency,
        query.tenant_id
    );
    Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn matches(query: &ListQuery, inquiry: &Inquiry) -> bool {
    query.status.is_none_or(|s| inquiry.status == s)
        && query.created_before.is_none_or(|t| inquiry.created_at < t)
        && query.urgency.is_none_or(|u| inquiry.classification.as_ref().is_some_and(|c| c.urgency == u))
        && query.tenant_id.as_ref().is_none_or(|t| &inquiry.tenant_id == t)
}

/// Lists the inquiries `principal` may see that match `query`.
pub async fn list(store: &dyn InquiryStore, principal: &Principal, query: ListQuery) -> Result<ListPage, ApiError> {
    let page_size = match query.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if n > MAX_PAGE_SIZE => return Err(ApiError::field("page_size", "must be at most 100")),
        n => n,
    };
    if let (Some(after), Some(before)) = (query.created_after, query.created_before)
        && after >= before
    {
        return Err(ApiError::field("created_before", "must be later than created_after"));
    }
    let source = match (principal, &query.tenant_id, query.status) {
        (Principal::Tenant(t), Some(asked), _) if asked != &t.id => {
            return Err(ApiError::PermissionDenied("a tenant key lists only its own tenant's inquiries".into()));
        }
        (Principal::Tenant(t), _, _) => Source::Tenant(t.id.clone()),
        (Principal::Operator { .. }, Some(tenant), _) => Source::Tenant(tenant.clone()),
        (Principal::Operator { .. }, None, Some(status)) => Source::Status(status),
        (Principal::Operator { .. }, None, None) => {
            return Err(ApiError::field("status", "operators list by status (e.g. escalated) or by tenant_id"));
        }
    };
    let fingerprint = fingerprint(principal, &query, &source);
    let (mut after, mut skip) = match query.page_token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => (None, 0),
        Some(token) => {
            let cursor = Cursor::decode(token).ok_or_else(|| ApiError::field("page_token", "is not a token this API issued"))?;
            if cursor.fingerprint != fingerprint {
                return Err(ApiError::field("page_token", "was issued for other filters or another caller"));
            }
            (cursor.after, cursor.offset)
        }
    };

    let mut inquiries = Vec::new();
    for _ in 0..MAX_SCAN_PAGES {
        let request = PageRequest { limit: SCAN_PAGE, after: after.clone() };
        let page = match &source {
            Source::Tenant(t) => store.list_by_tenant(t, &request).await?,
            Source::Status(s) => store.list_by_status(*s, &request).await?,
        };
        let mut index = skip;
        skip = 0;
        while index < page.items.len() {
            let inquiry = &page.items[index];
            index += 1;
            // Newest first: once older than the range, everything after is too.
            if query.created_after.is_some_and(|t| inquiry.created_at < t) {
                return Ok(ListPage { inquiries, next_page_token: None });
            }
            if !matches(&query, inquiry) {
                continue;
            }
            inquiries.push(inquiry.clone());
            if inquiries.len() as u32 == page_size {
                let next = if index < page.items.len() {
                    Some(Cursor { after: after.clone(), offset: index, fingerprint: fingerprint.clone() })
                } else {
                    page.next.map(|n| Cursor { after: Some(n), offset: 0, fingerprint: fingerprint.clone() })
                };
                return Ok(ListPage { inquiries, next_page_token: next.map(|c| c.encode()) });
            }
        }
        match page.next {
            None => return Ok(ListPage { inquiries, next_page_token: None }),
            Some(next) => after = Some(next),
        }
    }
    // Read enough for one call: hand out what was found and where to go on.
    let next = Cursor { after, offset: 0, fingerprint };
    Ok(ListPage { inquiries, next_page_token: Some(next.encode()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_not_a_cursor() {
        let c = Cursor { after: Some("abc".into()), offset: 3, fingerprint: "f".into() };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("%%%"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"[1,2]")), None);
    }
}
