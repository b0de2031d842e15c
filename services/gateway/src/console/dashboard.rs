//! The dashboard: the last 24 hours across every tenant — inquiries per
//! hour, how many were answered without a person, why the others were
//! escalated, how long the first answer took (p50 / p90), how often
//! partners let the deadline pass, and what customers said of the answers.
//!
//! The figures are computed on request from the store (no second copy to
//! keep in step): the newest inquiries of each tenant back to 24 hours ago,
//! at most [`SAMPLE`] in all, and the timelines of the newest
//! [`TIMELINE_SAMPLE`] of them for the figures only a timeline holds. The
//! page says how many it read. Prometheus (`/metrics`) has the same
//! counters for longer horizons and alerting.

use super::page::{Chrome, html, message};
use super::session::SignedIn;
use crate::state::Gateway;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use switchboard_domain::{Inquiry, InquiryStatus, Rating, Satisfaction, TimelineEvent};
use switchboard_store::{PageRequest, StoreError};

/// Most inquiries the dashboard reads.
pub(crate) const SAMPLE: usize = 5000;
/// Most timelines it reads (first answers, partner timeouts, ratings).
pub(crate) const TIMELINE_SAMPLE: usize = 300;
/// Timelines read at once.
const TIMELINE_READS_AT_ONCE: usize = 16;
/// The window.
const WINDOW_HOURS: i64 = 24;

/// A bar of a chart, in the SVG's units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: u64,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The day's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Figures {
    pub inquiries: usize,
    /// Inquiries per hour, oldest hour first (24 counts).
    pub per_hour: Vec<u64>,
    /// Finished inquiries (answered, resolved, escalated, failed) and those answered by the AI alone.
    pub finished: u64,
    pub automated: u64,
    /// Escalation reasons and their counts, most frequent first.
    pub reasons: Vec<(String, u64)>,
    /// Seconds to the first answer: p50 and p90 (of the timelines read).
    pub first_answer_p50: Option<f64>,
    pub first_answer_p90: Option<f64>,
    pub timelines: usize,
    /// Partner requests and how many timed out.
    pub partner_requests: u64,
    pub partner_timeouts: u64,
    /// Ratings: helpful and not.
    pub helpful: u64,
    pub not_helpful: u64,
}

/// The event that marks the first answer the customer got.
fn is_answer(kind: &str) -> bool {
    matches!(kind, "status.answered" | "status.resolved")
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

impl Figures {
    /// The figures of `inquiries` (received in the window ending `now`)
    /// and the timelines read for some of them.
    pub(crate) fn of(inquiries: &[Inquiry], timelines: &[(Inquiry, Vec<TimelineEvent>)], now: Timestamp) -> Self {
        let start = now - SignedDuration::from_hours(WINDOW_HOURS);
        let mut per_hour = vec![0u64; WINDOW_HOURS as usize];
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        let (mut finished, mut automated) = (0, 0);
        for i in inquiries {
            let hour = i.created_at.duration_since(start).as_secs() / 3600;
            if let Some(slot) = usize::try_from(hour).ok().and_then(|h| per_hour.get_mut(h)) {
                *slot += 1;
            }
            let done =
                matches!(i.status, InquiryStatus::Answered | InquiryStatus::Resolved | InquiryStatus::Escalated | InquiryStatus::Failed);
            if done {
                finished += 1;
                if i.answer.is_some() && i.human_answer.is_none() && i.escalation.is_none() {
                    automated += 1;
                }
            }
            if let Some(e) = &i.escalation {
                *reasons.entry(e.reason.clone()).or_default() += 1;
            }
        }
        let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut waits = Vec::new();
        let (mut partner_requests, mut partner_timeouts, mut helpful, mut not_helpful) = (0, 0, 0, 0);
        for (inquiry, timeline) in timelines {
            if let Some(first) = timeline.iter().find(|e| is_answer(&e.kind)) {
                waits.push(first.at.duration_since(inquiry.created_at).as_secs_f64().max(0.0));
            }
            if inquiry.partner.is_some() {
                partner_requests += 1;
                if timeline.iter().any(|e| e.kind == "partner.timed_out") {
                    partner_timeouts += 1;
                }
            }
            match Satisfaction::latest(timeline).map(|s| s.rating) {
                Some(Rating::Helpful) => helpful += 1,
                Some(Rating::NotHelpful) => not_helpful += 1,
                None => {}
            }
        }
        waits.sort_by(f64::total_cmp);
        Self {
            inquiries: inquiries.len(),
            per_hour,
            finished,
            automated,
            reasons,
            first_answer_p50: percentile(&waits, 0.5),
            first_answer_p90: percentile(&waits, 0.9),
            timelines: timelines.len(),
            partner_requests,
            partner_timeouts,
            helpful,
            not_helpful,
        }
    }
}

/// Vertical bars for `values` in a `width` × `height` chart (labels below).
pub(crate) fn columns(values: &[(String, u64)], width: f64, height: f64) -> Vec<Bar> {
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1) as f64;
    let slot = width / values.len().max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let h = *value as f64 / max * height;
            Bar { label: label.clone(), value: *value, x: i as f64 * slot + 1.0, y: height - h, width: (slot - 2.0).max(1.0), height: h }
        })
        .collect()
}

/// Horizontal bars for `values` in a chart `width` wide, one row each.
pub(crate) fn rows(values: &[(String, u64)], width: f64, row: f64) -> Vec<Bar> {
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, (label, value))| Bar {
            label: label.clone(),
            value: *value,
            x: 0.0,
            y: i as f64 * row,
            width: *value as f64 / max * width,
            height: row - 4.0,
        })
        .collect()
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "—".into() } else { format!("{:.1} %", part as f64 * 100.0 / whole as f64) }
}

fn seconds(s: Option<f64>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s < 120.0 => format!("{s:.1} s"),
        Some(s) if s < 7200.0 => format!("{:.1} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3600.0),
    }
}

/// The page.
#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    figures: Figures,
    hours: Vec<Bar>,
    reasons: Vec<Bar>,
    reasons_height: f64,
    automation: String,
    p50: String,
    p90: String,
    timeouts: String,
    satisfaction: String,
    sample: usize,
}

/// Every tenant's inquiries received in the window, newest first, at most [`SAMPLE`].
async fn recent(gateway: &Gateway, now: Timestamp) -> Result<Vec<Inquiry>, StoreError> {
    let since = now - SignedDuration::from_hours(WINDOW_HOURS);
    let mut found = Vec::new();
    for tenant in gateway.tenants.list_tenants().await? {
        let mut page = PageRequest::first(PageRequest::MAX_SIZE);
        'pages: loop {
            let read = gateway.inquiries.list_by_tenant(&tenant.id, &page).await?;
            for inquiry in read.items {
                if inquiry.created_at < since || found.len() >= SAMPLE {
                    break 'pages;
                }
                found.push(inquiry);
            }
            match read.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
    }
    found.sort_by_key(|i| std::cmp::Reverse(i.created_at));
    Ok(found)
}

/// `GET /console/dashboard`.
pub(crate) async fn show(State(gateway): State<Gateway>, signed_in: SignedIn, headers: HeaderMap) -> Response {
    let chrome = signed_in.chrome(&headers, "/console/dashboard", "dashboard");
    let now = Timestamp::now();
    let inquiries = match recent(&gateway, now).await {
        Ok(found) => found,
        Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.dashboard, &e.to_string()),
    };
    let store = gateway.inquiries.clone();
    let timelines: Result<Vec<_>, StoreError> = futures::stream::iter(inquiries.iter().take(TIMELINE_SAMPLE).cloned())
        .map(|inquiry| {
            let store = store.clone();
            async move { store.timeline(inquiry.id).await.map(|t| (inquiry, t)) }
        })
        .buffer_unordered(TIMELINE_READS_AT_ONCE)
        .try_collect()
        .await;
    let timelines = match timelines {
        Ok(t) => t,
        Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.dashboard, &e.to_string()),
    };
    let figures = Figures::of(&inquiries, &timelines, now);
    let start = now - SignedDuration::from_hours(WINDOW_HOURS);
    let hourly: Vec<(String, u64)> = figures
        .per_hour
        .iter()
        .enumerate()
        .map(|(h, n)| ((start + SignedDuration::from_hours(h as i64)).strftime("%H").to_string(), *n))
        .collect();
    let top_reasons: Vec<(String, u64)> = figures.reasons.iter().take(8).cloned().collect();
    let page = DashboardPage {
        hours: columns(&hourly, 480.0, 120.0),
        reasons_height: top_reasons.len().max(1) as f64 * 22.0,
        reasons: rows(&top_reasons, 260.0, 22.0),
        automation: pct(figures.automated, figures.finished),
        p50: seconds(figures.first_answer_p50),
        p90: seconds(figures.first_answer_p90),
        timeouts: pct(figures.partner_timeouts, figures.partner_requests),
        satisfaction: pct(figures.helpful, figures.helpful + figures.not_helpful),
        sample: SAMPLE,
        chrome,
        figures,
    };
    html(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn the_tallest_bar_fills_the_chart_and_the_others_scale() {
        let bars = columns(&[("a".into(), 2), ("b".into(), 4)], 100.0, 50.0);
        assert_eq!((bars[1].height, bars[1].y), (50.0, 0.0));
        assert_eq!((bars[0].height, bars[0].y), (25.0, 25.0));
        assert!(bars[0].x < bars[1].x);
    }
}
