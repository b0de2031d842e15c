//! `ListInquiries` / `GET /api/inquiries`: newest first, filtered by status,
//! creation time, urgency and SLA state, in pages; or, with
//! `sort=sla_due`, the escalation queue: escalated inquiries, earliest
//! first-response deadline first.
//!
//! The store lists a tenant's inquiries or one status's, newest first
//! (GSI1, GSI2), and the SLA queue by deadline. Other filters are applied here while reading store pages,
//! so one API page reads at most [`MAX_SCAN_PAGES`] store pages and may come
//! back short (even empty) with a token to go on: the same contract as
//! DynamoDB's filtered queries. The page token records where reading stopped
//! (the store's token of the page being read and how far into it) and a
//! fingerprint of the caller and filters, so a token replayed with other
//! filters, or by another caller, is rejected instead of skipping results.

use crate::error::ApiError;
use crate::principal::Principal;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_domain::{FieldError, Inquiry, InquiryStatus, SlaState, TenantId, Urgency, ValidationErrors};
use switchboard_store::{InquiryStore, PageRequest};
use utoipa::IntoParams;

/// Inquiries read from the store per store page.
const SCAN_PAGE: u32 = 100;
/// Store pages one API page may read before returning short.
pub const MAX_SCAN_PAGES: usize = 10;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page size.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A listing's filters as a client wrote them: the query string of
/// `GET /api/inquiries`, and what `ListInquiries` asks for written the same
/// way (see `grpc::convert::list_params`), so one [`ListParams::parse`]
/// checks both, with the same messages.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this status (`received`, …, `escalated`, `resolved`, `failed`).
    #[param(value_type = Option<crate::schemas::InquiryStatusDoc>)]
    pub status: Option<String>,
    /// Only inquiries created at or after this RFC 3339 time.
    #[param(format = DateTime)]
    pub created_after: Option<String>,
    /// Only inquiries created before this RFC 3339 time.
    #[param(format = DateTime)]
    pub created_before: Option<String>,
    /// Only this urgency: `high`, `medium` or `low`.
    #[param(value_type = Option<crate::schemas::UrgencyDoc>)]
    pub urgency: Option<String>,
    /// Operators: one tenant's inquiries.
    #[param(pattern = r"^[a-z0-9-]{1,64}$")]
    pub tenant_id: Option<String>,
    /// `created` (newest first, the default) or `sla_due`: the escalation
    /// queue, escalated inquiries by first-response deadline, earliest first.
    #[param(value_type = Option<crate::schemas::ListSortDoc>)]
    pub sort: Option<String>,
    /// Only inquiries whose SLA is in this state: `pending`, `met` or `breached`.
    #[param(value_type = Option<crate::schemas::SlaStateDoc>)]
    pub sla_state: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub page_size: Option<String>,
    /// `next_page_token` of the previous page, with the same filters.
    pub page_token: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl ListParams {
    /// Checks every filter, naming each bad one.
    pub fn parse(self) -> Result<ListQuery, ApiError> {
        let mut errors = Vec::new();
        let status =
            field(&mut errors, "status", self.status, |s| InquiryStatus::parse(s).ok_or("must be an inquiry status, e.g. escalated"));
        let time = |t: &str| t.parse::<Timestamp>().map_err(|_| "must be an RFC 3339 time, e.g. 2026-11-22T09:00:00Z");
        let created_after = field(&mut errors, "created_after", self.created_after, time);
        let created_before = field(&mut errors, "created_before", self.created_before, time);
        let urgency = field(&mut errors, "urgency", self.urgency, |u| Urgency::parse(u).ok_or("must be high, medium or low"));
        let tenant_id = field(&mut errors, "tenant_id", self.tenant_id, |t| TenantId::parse(t).map_err(|e| e.to_string()));
        let by_deadline = field(&mut errors, "sort", self.sort, |s| match s {
            "created" => Ok(false),
            "sla_due" => Ok(true),
            _ => Err("must be created or sla_due"),
        });
        let sla_state = field(&mut errors, "sla_state", self.sla_state, |s| SlaState::parse(s).ok_or("must be pending, met or breached"));
        let page_size = field(&mut errors, "page_size", self.page_size, |n| match n.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err("must be a number from 1 to 100"),
        });
        if !errors.is_empty() {
            return Err(ApiError::Invalid(ValidationErrors(errors)));
        }
        if let (Some(after), Some(before)) = (created_after, created_before)
            && after >= before
        {
            return Err(ApiError::field("created_before", "must be later than created_after"));
        }
        let by_deadline = by_deadline.unwrap_or(false);
        if by_deadline && status.is_some_and(|s| s != InquiryStatus::Escalated) {
            return Err(ApiError::field(
                "status",
                "must be escalated (or left out) with sort=sla_due: the queue holds escalated inquiries",
            ));
        }
        Ok(ListQuery {
            status,
            created_after,
            created_before,
            urgency,
            tenant_id,
            by_deadline,
            sla_state,
            page_size: page_size.unwrap_or(DEFAULT_PAGE_SIZE),
            page_token: non_empty(self.page_token),
        })
    }
}

/// A filter's value: absent when blank, else parsed, or `None` with the
/// reason recorded against `name`.
fn field<T, E: ToString>(
    errors: &mut Vec<FieldError>,
    name: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<T> {
    let value = non_empty(value)?;
    parse(&value).map_err(|e| errors.push(FieldError::new(name, e.to_string()))).ok()
}

/// The filters of a listing, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<InquiryStatus>,
    /// Created at or after.
    pub created_after: Option<Timestamp>,
    /// Created before.
    pub created_before: Option<Timestamp>,
    /// Only this urgency.
    pub urgency: Option<Urgency>,
    /// Operators: one tenant's inquiries.
    pub tenant_id: Option<TenantId>,
    /// The escalation queue, by first-response deadline (`sort=sla_due`).
    pub by_deadline: bool,
    /// Only inquiries whose SLA is in this state.
    pub sla_state: Option<SlaState>,
    /// 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// Where the previous page stopped.
    pub page_token: Option<String>,
}

/// One page of inquiries.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// Newest first; may be short (even empty) when filters skip many.
    pub inquiries: Vec<Inquiry>,
    /// Where to go on; `None` on the last page.
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
    /// The SLA queue: one tenant's, or everyone's.
    SlaQueue(Option<TenantId>),
}

fn fingerprint(principal: &Principal, query: &ListQuery, source: &Source) -> String {
    let text = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        principal.actor(),
        source,
        query.status,
        query.created_after,
        query.created_before,
        query.urgency,
        query.tenant_id,
        query.sla_state,
    );
    Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn matches(query: &ListQuery, inquiry: &Inquiry) -> bool {
    query.status.is_none_or(|s| inquiry.status == s)
        && query.created_before.is_none_or(|t| inquiry.created_at < t)
        && query.urgency.is_none_or(|u| inquiry.classification.as_ref().is_some_and(|c| c.urgency == u))
        && query.tenant_id.as_ref().is_none_or(|t| &inquiry.tenant_id == t)
        && query.sla_state.is_none_or(|state| inquiry.sla.as_ref().is_some_and(|s| s.state == state))
}

/// Lists the inquiries `principal` may see that match `query`.
pub async fn list(store: &dyn InquiryStore, principal: &Principal, query: ListQuery) -> Result<ListPage, ApiError> {
    // Checked by `ListParams::parse`; clamped so no query reads unbounded pages.
    let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
    let source = match (principal, &query.tenant_id, query.status) {
        (Principal::Tenant(t), Some(asked), _) if asked != &t.id => {
            return Err(ApiError::PermissionDenied("a tenant key lists only its own tenant's inquiries".into()));
        }
        (Principal::Tenant(t), _, _) if query.by_deadline => Source::SlaQueue(Some(t.id.clone())),
        (Principal::Operator { .. }, tenant, _) if query.by_deadline => Source::SlaQueue(tenant.clone()),
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
            Source::SlaQueue(t) => store.sla_queue(t.as_ref(), &request).await?,
        };
        let mut index = skip;
        skip = 0;
        while index < page.items.len() {
            let inquiry = &page.items[index];
            index += 1;
            // Newest first: once older than the range, everything after is too.
            if !query.by_deadline && query.created_after.is_some_and(|t| inquiry.created_at < t) {
                return Ok(ListPage { inquiries, next_page_token: None });
            }
            if !matches(&query, inquiry) || query.created_after.is_some_and(|t| inquiry.created_at < t) {
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

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let mut p = ListParams::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "status" => p.status = v,
                "created_after" => p.created_after = v,
                "created_before" => p.created_before = v,
                "urgency" => p.urgency = v,
                "tenant_id" => p.tenant_id = v,
                "sort" => p.sort = v,
                "sla_state" => p.sla_state = v,
                "page_size" => p.page_size = v,
                _ => p.page_token = v,
            }
        }
        p
    }

    fn bad_fields(p: ListParams) -> Vec<(String, String)> {
        match p.parse() {
            Err(ApiError::Invalid(errors)) => errors.0.into_iter().map(|e| (e.field, e.reason)).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    #[test]
    fn blank_filters_are_absent_and_the_page_size_defaults() {
        let q = params(&[("status", " "), ("urgency", ""), ("page_token", "  ")]).parse().unwrap();
        assert_eq!((q.status, q.urgency, q.page_size, q.page_token), (None, None, DEFAULT_PAGE_SIZE, None));
    }

    #[test]
    fn every_bad_filter_is_named_with_what_it_must_be() {
        let bad = bad_fields(params(&[
            ("status", "done"),
            ("created_after", "yesterday"),
            ("urgency", "urgent"),
            ("tenant_id", "Not A Slug"),
            ("page_size", "101"),
        ]));
        let fields: Vec<&str> = bad.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["status", "created_after", "urgency", "tenant_id", "page_size"]);
        assert_eq!(bad[0].1, "must be an inquiry status, e.g. escalated");
        assert_eq!(bad[4].1, "must be a number from 1 to 100");
        assert_eq!(bad_fields(params(&[("page_size", "0")]))[0].0, "page_size");
    }

    #[test]
    fn the_queue_by_deadline_is_of_escalated_inquiries_and_sla_states_are_named() {
        let q = params(&[("sort", "sla_due"), ("sla_state", "breached")]).parse().unwrap();
        assert_eq!((q.by_deadline, q.sla_state), (true, Some(SlaState::Breached)));
        assert!(!params(&[]).parse().unwrap().by_deadline);
        assert_eq!(bad_fields(params(&[("sort", "urgency"), ("sla_state", "late")])).len(), 2);
        let answered = bad_fields(params(&[("sort", "sla_due"), ("status", "answered")]));
        assert_eq!(answered[0].0, "status");
        assert!(params(&[("sort", "sla_due"), ("status", "escalated")]).parse().is_ok());
    }

    #[test]
    fn a_time_range_must_not_be_empty() {
        let p = params(&[("created_after", "2026-11-22T09:00:00Z"), ("created_before", "2026-11-22T09:00:00Z")]);
        assert_eq!(bad_fields(p), [("created_before".to_owned(), "must be later than created_after".to_owned())]);
        let q = params(&[("created_after", "2026-11-22T09:00:00Z"), ("created_before", "2026-11-23T09:00:00Z")]).parse().unwrap();
        assert!(q.created_after < q.created_before);
    }
}
