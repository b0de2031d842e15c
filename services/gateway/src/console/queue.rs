//! The queue: the inquiries waiting for a person (escalated, across every
//! tenant the operator sees), filtered by tenant, urgency, intent, how long
//! they have waited and their response target's state, the most pressing
//! first. The same rows are served alone (`/console/queue/rows`) for the
//! live update, and an event stream (`/console/queue/events`) says when
//! they changed.

use super::page::{Chrome, html};
use super::session::SignedIn;
use super::words::Words;
use crate::state::Gateway;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use switchboard_domain::{Inquiry, InquiryStatus, Intent, Urgency};
use switchboard_store::{PageRequest, StoreError};

/// How many escalated inquiries the queue reads, newest first, before
/// filtering. A queue deeper than this is a staffing problem the dashboard
/// shows; the page says when it is cut.
pub(crate) const QUEUE_DEPTH: u32 = 500;

/// The queue's filters, as the form sends them (empty: any).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct QueueFilter {
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub intent: String,
    /// Minimum wait in hours: `1`, `4`, `24`.
    #[serde(default)]
    pub age: String,
    /// `pending`, `met` or `breached`.
    #[serde(default)]
    pub sla: String,
}

impl QueueFilter {
    fn keeps(&self, row: &Row, now: Timestamp) -> bool {
        let min_wait_secs = self.age.parse::<i64>().ok().map(|h| h * 3600);
        (self.tenant.is_empty() || row.tenant == self.tenant)
            && (self.urgency.is_empty() || row.urgency == self.urgency)
            && (self.intent.is_empty() || row.intent == self.intent)
            && min_wait_secs.is_none_or(|min| now.duration_since(row.since).as_secs() >= min)
            && (self.sla.is_empty() || row.sla_state == Some(self.sla.as_str()))
    }
}

/// One waiting inquiry, as the queue shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub id: String,
    pub tenant: String,
    pub urgency: &'static str,
    pub intent: &'static str,
    pub reason: String,
    pub excerpt: String,
    pub since: Timestamp,
    pub waiting: String,
    /// When a person must have answered, if the tenant has a target.
    pub due: Option<Timestamp>,
    pub sla_state: Option<&'static str>,
    pub version: u64,
}

/// At most this many characters of the inquiry in the queue.
const EXCERPT_CHARS: usize = 120;

impl Row {
    fn of(inquiry: &Inquiry, now: Timestamp) -> Self {
        let class = inquiry.classification.as_ref();
        let text = inquiry.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&inquiry.content);
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        Self {
            id: inquiry.id.to_string(),
            tenant: inquiry.tenant_id.to_string(),
            urgency: class.map_or("", |c| c.urgency.as_str()),
            intent: class.map_or("", |c| c.intent.as_str()),
            reason: inquiry.escalation.as_ref().map(|e| e.reason.clone()).or_else(|| inquiry.status_reason.clone()).unwrap_or_default(),
            excerpt,
            since: inquiry.updated_at,
            waiting: waited(now.duration_since(inquiry.updated_at)),
            due: inquiry.sla.as_ref().map(|c| c.due_at),
            sla_state: inquiry.sla.as_ref().map(|c| c.state.as_str()),
            version: inquiry.version,
        }
    }

    /// The order of the queue: the earliest response target first, then
    /// the most urgent, then the longest waiting.
    fn order(&self) -> (Timestamp, u8, Timestamp) {
        let rank = match self.urgency {
            "high" => 0,
            "medium" => 1,
            _ => 2,
        };
        (self.due.unwrap_or(Timestamp::MAX), rank, self.since)
    }
}

/// "3 h 05 min", "12 min", "2 d 4 h".
pub(crate) fn waited(span: jiff::SignedDuration) -> String {
    let secs = span.as_secs().max(0);
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, h) => format!("{h} h {minutes:02} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// The queue's rows for `filter`, most pressing first, and whether the
/// read was cut at [`QUEUE_DEPTH`].
pub(crate) async fn rows(gateway: &Gateway, filter: &QueueFilter) -> Result<(Vec<Row>, bool), StoreError> {
    let page = gateway.inquiries.list_by_status(InquiryStatus::Escalated, &PageRequest::first(QUEUE_DEPTH)).await?;
    let now = Timestamp::now();
    let mut rows: Vec<Row> = page.items.iter().map(|i| Row::of(i, now)).filter(|r| filter.keeps(r, now)).collect();
    rows.sort_by_key(Row::order);
    Ok((rows, page.next.is_some()))
}

/// The queue page.
#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    chrome: Chrome,
    filter: QueueFilter,
    tenants: Vec<String>,
    urgencies: Vec<&'static str>,
    intents: Vec<&'static str>,
    rows: Vec<Row>,
    cut: bool,
    query: String,
}

/// The rows alone, for the live update.
#[derive(Template)]
#[template(path = "console/queue_rows.html")]
struct QueueRows {
    w: &'static Words,
    rows: Vec<Row>,
}

/// `GET /console`: the queue.
pub(crate) async fn show(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    uri: Uri,
    Query(filter): Query<QueueFilter>,
) -> Response {
    let here = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let chrome = signed_in.chrome(&headers, &here, "queue");
    let (rows, cut) = match rows(&gateway, &filter).await {
        Ok(found) => found,
        Err(e) => return super::page::message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.queue, &e.to_string()),
    };
    let tenants = match gateway.tenants.list_tenants().await {
        Ok(tenants) => tenants.into_iter().map(|t| t.id.to_string()).collect(),
        Err(e) => return super::page::message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.queue, &e.to_string()),
    };
    let query = uri.query().unwrap_or_default().to_owned();
    let page = QueuePage {
        chrome,
        filter,
        tenants,
        urgencies: [Urgency::High, Urgency::Medium, Urgency::Low].into_iter().map(Urgency::as_str).collect(),
        intents: Intent::ALL.into_iter().map(Intent::as_str).collect(),
        rows,
        cut,
        query,
    };
    html(StatusCode::OK, &page)
}

/// `GET /console/queue/rows`: the rows of the queue for the same filters.
pub(crate) async fn rows_only(
    State(gateway): State<Gateway>,
    _signed_in: SignedIn,
    headers: HeaderMap,
    Query(filter): Query<QueueFilter>,
) -> Response {
    let w = Chrome::words_for(&headers);
    match rows(&gateway, &filter).await {
        Ok((rows, _)) => html(StatusCode::OK, &QueueRows { w, rows }),
        Err(e) => super::page::message(w, StatusCode::SERVICE_UNAVAILABLE, w.queue, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_the_largest_units() {
        assert_eq!(waited(jiff::SignedDuration::from_secs(59)), "0 min");
        assert_eq!(waited(jiff::SignedDuration::from_secs(3 * 3600 + 5 * 60)), "3 h 05 min");
        assert_eq!(waited(jiff::SignedDuration::from_secs(2 * 86_400 + 4 * 3600)), "2 d 4 h");
    }
}
