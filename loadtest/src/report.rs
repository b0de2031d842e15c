//! What a run measured: HDR histograms while it runs ([`Recorder`]), the
//! JSON report at the end ([`Report`]).
//!
//! Latencies are recorded in microseconds and reported in milliseconds.
//! Submit latency runs from the moment a request was *due* to its answer;
//! end-to-end time from the moment it was due to the server's `updated_at`
//! of the terminal transition (same machine, same clock), so the status
//! polling interval does not blur it.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest latency a histogram holds (longer values are clamped): one hour.
const MAX_MICROS: u64 = 3_600_000_000;

pub(crate) fn histogram(significant_digits: u8) -> Histogram<u64> {
    // Bounds and precision are constants known to be valid.
    Histogram::new_with_bounds(1, MAX_MICROS, significant_digits).unwrap_or_else(|_| unreachable!("static histogram bounds"))
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_MICROS)
}

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    /// The summary of a histogram of microseconds (all zeros when empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| (us as f64 / 1000.0 * 1000.0).round() / 1000.0;
        Self {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: (h.mean() / 1000.0 * 1000.0).round() / 1000.0,
        }
    }
}

/// One second of the run. Submissions count in the second they were due,
/// completions in the second they reached their terminal status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecondReport {
    pub second: u64,
    pub sent: u64,
    pub accepted: u64,
    pub errors: u64,
    /// Submissions the server shed in this second (each answer).
    #[serde(default)]
    pub shed: u64,
    pub completed: u64,
    pub submit_p50_ms: f64,
    pub submit_p99_ms: f64,
    /// End-to-end time of inquiries no partner had to answer.
    pub e2e_auto_p50_ms: f64,
    pub e2e_auto_p99_ms: f64,
    /// End-to-end time of every inquiry completed in this second.
    pub e2e_p99_ms: f64,
    /// Resident memory of the server process at the end of this second, when watched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_mb: Option<f64>,
}

/// What the simulated partner did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartnerCounts {
    /// Inquiries seen in `awaiting_partner`.
    pub requested: u64,
    /// Answers the server took (200).
    pub answered: u64,
    /// Requests deliberately left unanswered (they time out on the server).
    pub silent: u64,
    /// Answers that came after the deadline had already been recorded (409).
    pub late: u64,
    /// No link could be read (no `--data-dir`, or the SMS was not found).
    pub links_missing: u64,
    /// Opening or answering failed otherwise.
    pub errors: u64,
}

/// Memory and CPU of one process over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessReport {
    pub pid: u32,
    /// `VmHWM`: the peak resident set since the process started.
    pub peak_rss_mb: Option<f64>,
    /// User + system CPU time spent during the run.
    pub cpu_seconds: Option<f64>,
}

/// The JSON report of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub target: String,
    /// `rest` or `grpc`.
    pub protocol: String,
    /// Offered load, requests per second.
    pub rate: f64,
    pub duration_secs: f64,
    pub started_at: String,
    /// Requests in the timetable.
    pub scheduled: u64,
    /// Requests that went out (all of `scheduled` unless the run was cut short).
    pub sent: u64,
    /// Answered 202.
    pub accepted: u64,
    /// Accepted and seen in a terminal status (answered, escalated, resolved, failed), or asked a question back (`awaiting_customer`).
    pub completed: u64,
    /// Accepted but not terminal when the run ended: `accepted - completed`.
    pub in_flight: u64,
    /// Submissions not accepted (non-202 answer, transport error, no answer by the end).
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Answers that shed a submission for overload (503 with `Retry-After`,
    /// UNAVAILABLE with `RetryInfo`), retries included.
    #[serde(default)]
    pub shed: u64,
    /// Shed submissions sent again after the advised wait. Those given up
    /// are errors of kind `shed`: `shed_retries + errors_by_kind.shed <= shed`
    /// (the rest were still waiting when the run ended).
    #[serde(default)]
    pub shed_retries: u64,
    /// Accepted submissions per second of sending.
    pub throughput_submit: f64,
    /// Inquiries reaching a terminal status per second at steady state:
    /// completions between the end of the warm-up (the first 10 % of the
    /// sending time, at most 5 s) and the end of sending, per second of
    /// that window. At a rate the pipeline sustains this equals the rate;
    /// above it, it is the pipeline's capacity.
    pub throughput_e2e: f64,
    /// Completions per second from the first request's due time to the last completion.
    pub throughput_e2e_overall: f64,
    pub submit_latency_ms: Percentiles,
    /// Every completed inquiry, partner waits included.
    pub e2e_latency_ms: Percentiles,
    /// Completed inquiries that never waited for a partner: the pipeline's own latency.
    pub e2e_auto_latency_ms: Percentiles,
    /// Completed inquiries that waited for the (simulated) partner or its deadline.
    pub e2e_partner_latency_ms: Percentiles,
    /// Terminal statuses reached.
    pub outcomes: BTreeMap<String, u64>,
    pub partner: PartnerCounts,
    /// `GET …/status` calls made to follow inquiries, and how many failed.
    pub status_polls: u64,
    pub poll_errors: u64,
    pub timeline: Vec<SecondReport>,
    /// The poll load offered beside the submissions (`--poll-load`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_load: Option<crate::poll_load::PollLoadReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ProcessReport>,
    pub client: ProcessReport,
    pub notes: Vec<String>,
}

impl Report {
    /// The bookkeeping identities every report must satisfy; the broken ones, described.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if self.accepted != self.completed + self.in_flight {
            broken.push(format!("accepted {} != completed {} + in flight {}", self.accepted, self.completed, self.in_flight));
        }
        if self.sent != self.accepted + self.errors {
            broken.push(format!("sent {} != accepted {} + errors {}", self.sent, self.accepted, self.errors));
        }
        let dropped = self.errors_by_kind.get(crate::run::SHED_KIND).copied().unwrap_or(0);
        if self.shed_retries + dropped > self.shed {
            broken.push(format!("shed {} < retried {} + dropped {dropped}", self.shed, self.shed_retries));
        }
        if self.timeline.iter().map(|s| s.shed).sum::<u64>() != self.shed {
            broken.push("timeline does not add up to shed".into());
        }
        if self.sent > self.scheduled {
            broken.push(format!("sent {} > scheduled {}", self.sent, self.scheduled));
        }
        if self.errors_by_kind.values().sum::<u64>() != self.errors {
            broken.push("errors_by_kind does not add up to errors".into());
        }
        if self.outcomes.values().sum::<u64>() != self.completed {
            broken.push("outcomes do not add up to completed".into());
        }
        if self.submit_latency_ms.count != self.accepted {
            broken.push("submit latency count != accepted".into());
        }
        if self.e2e_latency_ms.count != self.completed
            || self.e2e_auto_latency_ms.count + self.e2e_partner_latency_ms.count != self.completed
        {
            broken.push("e2e latency counts != completed".into());
        }
        let per_second = |f: fn(&SecondReport) -> u64| self.timeline.iter().map(f).sum::<u64>();
        if per_second(|s| s.sent) != self.sent || per_second(|s| s.accepted) != self.accepted {
            broken.push("timeline does not add up to sent/accepted".into());
        }
        if per_second(|s| s.completed) != self.completed {
            broken.push("timeline does not add up to completed".into());
        }
        broken.extend(self.poll_load.iter().flat_map(|p| p.inconsistencies()));
        broken
    }
}

/// Per-second histograms use 2 significant digits: 1 % is plenty for a
/// chart, and keeps a long run's memory small.
struct Second {
    sent: u64,
    accepted: u64,
    errors: u64,
    shed: u64,
    completed: u64,
    submit: Histogram<u64>,
    e2e_auto: Histogram<u64>,
    e2e_all: Histogram<u64>,
    server_rss_mb: Option<f64>,
}

impl Second {
    fn new() -> Self {
        Self {
            sent: 0,
            accepted: 0,
            errors: 0,
            shed: 0,
            completed: 0,
            submit: histogram(2),
            e2e_auto: histogram(2),
            e2e_all: histogram(2),
            server_rss_mb: None,
        }
    }
}

/// Collects measurements while a run goes on.
pub struct Recorder {
    submit: Histogram<u64>,
    e2e_all: Histogram<u64>,
    e2e_auto: Histogram<u64>,
    e2e_partner: Histogram<u64>,
    seconds: Vec<Second>,
    sent: u64,
    accepted: u64,
    errors: BTreeMap<String, u64>,
    shed: u64,
    shed_retries: u64,
    outcomes: BTreeMap<String, u64>,
    /// Offset of the latest completion from the start.
    last_completion: Duration,
    /// When each completion happened, from the start (for the steady-state window).
    completion_offsets: Vec<Duration>,
    pub partner: PartnerCounts,
    pub status_polls: u64,
    pub poll_errors: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            submit: histogram(3),
            e2e_all: histogram(3),
            e2e_auto: histogram(3),
            e2e_partner: histogram(3),
            seconds: Vec::new(),
            sent: 0,
            accepted: 0,
            errors: BTreeMap::new(),
            shed: 0,
            shed_retries: 0,
            outcomes: BTreeMap::new(),
            last_completion: Duration::ZERO,
            completion_offsets: Vec::new(),
            partner: PartnerCounts::default(),
            status_polls: 0,
            poll_errors: 0,
        }
    }

    fn second(&mut self, offset: Duration) -> &mut Second {
        let index = offset.as_secs() as usize;
        while self.seconds.len() <= index {
            self.seconds.push(Second::new());
        }
        &mut self.seconds[index]
    }

    /// A request due at `due` (from the start) went out.
    pub fn sent(&mut self, due: Duration) {
        self.sent += 1;
        self.second(due).sent += 1;
    }

    /// The request due at `due` was accepted `latency` after it was due.
    pub fn accepted(&mut self, due: Duration, latency: Duration) {
        self.accepted += 1;
        let us = micros(latency);
        self.submit.saturating_record(us);
        let second = self.second(due);
        second.accepted += 1;
        second.submit.saturating_record(us);
    }

    /// The request due at `due` was not accepted, for reason `kind`.
    pub fn error(&mut self, due: Duration, kind: &str) {
        *self.errors.entry(kind.to_owned()).or_default() += 1;
        self.second(due).errors += 1;
    }

    /// A submission was shed at `at` (from the start); `retried` if it will
    /// be sent again (else it is also recorded as an error of kind `shed`).
    pub fn shed(&mut self, at: Duration, retried: bool) {
        self.shed += 1;
        if retried {
            self.shed_retries += 1;
        }
        self.second(at).shed += 1;
    }

    /// Shed answers so far.
    pub fn shed_count(&self) -> u64 {
        self.shed
    }

    /// An accepted inquiry reached `status` at `at` (from the start), `e2e` after it was due.
    pub fn completed(&mut self, at: Duration, e2e: Duration, status: &str, waited_for_partner: bool) {
        let us = micros(e2e);
        *self.outcomes.entry(status.to_owned()).or_default() += 1;
        self.e2e_all.saturating_record(us);
        if waited_for_partner {
            self.e2e_partner.saturating_record(us);
        } else {
            self.e2e_auto.saturating_record(us);
        }
        self.last_completion = self.last_completion.max(at);
        self.completion_offsets.push(at);
        let second = self.second(at);
        second.completed += 1;
        second.e2e_all.saturating_record(us);
        if !waited_for_partner {
            second.e2e_auto.saturating_record(us);
        }
    }

    /// The server's resident memory seen at `at` (from the start).
    pub fn server_rss(&mut self, at: Duration, megabytes: f64) {
        self.second(at).server_rss_mb = Some(megabytes);
    }

    pub fn sent_count(&self) -> u64 {
        self.sent
    }

    pub fn accepted_count(&self) -> u64 {
        self.accepted
    }

    pub fn completed_count(&self) -> u64 {
        self.e2e_all.len()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The report, given the run's settings. Requests that went out but got
    /// no answer before the run ended count as errors (`no_answer_by_end`).
    pub fn report(&self, settings: &RunSettings) -> Report {
        let mut errors_by_kind = self.errors.clone();
        let answered = self.accepted + self.error_count();
        if self.sent > answered {
            *errors_by_kind.entry("no_answer_by_end".into()).or_default() += self.sent - answered;
        }
        let errors = errors_by_kind.values().sum();
        let completed = self.completed_count();
        let send_span = settings.send_span.as_secs_f64();
        let e2e_window = self.last_completion.as_secs_f64().max(send_span);
        let mut timeline: Vec<SecondReport> = self
            .seconds
            .iter()
            .enumerate()
            .map(|(i, s)| SecondReport {
                second: i as u64,
                sent: s.sent,
                accepted: s.accepted,
                errors: s.errors,
                shed: s.shed,
                completed: s.completed,
                submit_p50_ms: Percentiles::of(&s.submit).p50,
                submit_p99_ms: Percentiles::of(&s.submit).p99,
                e2e_auto_p50_ms: Percentiles::of(&s.e2e_auto).p50,
                e2e_auto_p99_ms: Percentiles::of(&s.e2e_auto).p99,
                e2e_p99_ms: Percentiles::of(&s.e2e_all).p99,
                server_rss_mb: s.server_rss_mb,
            })
            .collect();
        // Unanswered requests belong to the second they were due; their
        // exact seconds are not tracked, so they are put on the last one
        // that sent anything, keeping the per-second sums equal to the totals.
        if self.sent > answered
            && let Some(last) = timeline.iter_mut().rev().find(|s| s.sent > 0)
        {
            last.errors += self.sent - answered;
        }
        Report {
            target: settings.target.clone(),
            protocol: String::new(),
            rate: settings.rate,
            duration_secs: settings.duration.as_secs_f64(),
            started_at: settings.started_at.clone(),
            scheduled: settings.scheduled,
            sent: self.sent,
            accepted: self.accepted,
            completed,
            in_flight: self.accepted.saturating_sub(completed),
            errors,
            errors_by_kind,
            shed: self.shed,
            shed_retries: self.shed_retries,
            throughput_submit: per_second(self.accepted, send_span),
            throughput_e2e: {
                let (from, to) = steady_window(settings.send_span);
                let in_window: u64 = self.completion_offsets.iter().filter(|at| **at >= from && **at < to).count() as u64;
                per_second(in_window, (to - from).as_secs_f64())
            },
            throughput_e2e_overall: per_second(completed, e2e_window),
            submit_latency_ms: Percentiles::of(&self.submit),
            e2e_latency_ms: Percentiles::of(&self.e2e_all),
            e2e_auto_latency_ms: Percentiles::of(&self.e2e_auto),
            e2e_partner_latency_ms: Percentiles::of(&self.e2e_partner),
            outcomes: self.outcomes.clone(),
            partner: self.partner.clone(),
            status_polls: self.status_polls,
            poll_errors: self.poll_errors,
            timeline,
            poll_load: None,
            server: None,
            client: ProcessReport::default(),
            notes: Vec::new(),
        }
    }
}

/// What the report needs to know about the run besides the measurements.
#[derive(Debug, Clone, Default)]
pub struct RunSettings {
    pub target: String,
    pub rate: f64,
    pub duration: Duration,
    pub started_at: String,
    pub scheduled: u64,
    /// How long sending lasted (the schedule's span).
    pub send_span: Duration,
}

/// The steady part of a run that sends for `send_span`: after a warm-up
/// of 10 % of it (at most 5 s), up to the end of sending.
pub fn steady_window(send_span: Duration) -> (Duration, Duration) {
    let warm_up = (send_span / 10).min(Duration::from_secs(5));
    (warm_up, send_span)
}

/// `count / seconds`, rounded to 0.01; zero when no time passed.
pub fn per_second(count: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 { 0.0 } else { (count as f64 / seconds * 100.0).round() / 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RunSettings {
        RunSettings {
            target: "http://127.0.0.1:8080".into(),
            rate: 10.0,
            duration: Duration::from_secs(2),
            started_at: "now".into(),
            scheduled: 20,
            send_span: Duration::from_secs(2),
        }
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = histogram(3);
        for ms in 1..=100u64 {
            h.record(ms * 1000).unwrap();
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 100);
        assert!((p.p50 - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p90 - 90.0).abs() < 0.1, "{p:?}");
        assert!((p.p99 - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max - 100.0).abs() < 0.1, "{p:?}");
        assert!((p.mean - 50.5).abs() < 0.1, "{p:?}");
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        assert_eq!(Percentiles::of(&histogram(3)), Percentiles::default());
    }

    #[test]
    fn accepted_is_completed_plus_in_flight_and_sent_is_accepted_plus_errors() {
        let mut r = Recorder::new();
        for i in 0..20u64 {
            let due = Duration::from_millis(i * 100);
            r.sent(due);
            match i {
                0..=14 => {
                    r.accepted(due, Duration::from_millis(5));
                    if i < 12 {
                        r.completed(due + Duration::from_millis(30), Duration::from_millis(30), "answered", i % 3 == 0);
                    }
                }
                15..=17 => r.error(due, "http_503"),
                // 18 and 19 never got an answer.
                _ => {}
            }
        }
        let report = r.report(&settings());
        assert_eq!((report.sent, report.accepted, report.completed, report.in_flight), (20, 15, 12, 3));
        assert_eq!(report.errors, 5);
        assert_eq!(report.errors_by_kind["no_answer_by_end"], 2);
        assert_eq!(report.e2e_partner_latency_ms.count, 4);
        assert_eq!(report.e2e_auto_latency_ms.count, 8);
        assert!(report.inconsistencies().is_empty(), "{:?}", report.inconsistencies());
    }

    #[test]
    fn throughput_is_per_second_of_sending_and_of_the_completion_window() {
        let mut r = Recorder::new();
        for i in 0..20u64 {
            let due = Duration::from_millis(i * 100);
            r.sent(due);
            r.accepted(due, Duration::from_millis(1));
        }
        // The last of 10 completions lands at 4 s: the window is 4 s, not the 2 s of sending.
        for i in 0..10u64 {
            r.completed(Duration::from_millis(400 * (i + 1)), Duration::from_millis(10), "escalated", false);
        }
        let report = r.report(&settings());
        assert_eq!(report.throughput_submit, 10.0);
        assert_eq!(report.throughput_e2e_overall, 2.5);
        // Steady window of a 2 s run: 0.2 s to 2 s; completions at 0.4, 0.8, 1.2, 1.6 s.
        assert_eq!(report.throughput_e2e, 2.22);
        assert_eq!(per_second(5, 0.0), 0.0);
    }

    #[test]
    fn the_steady_window_skips_a_warm_up_of_a_tenth_up_to_five_seconds() {
        assert_eq!(steady_window(Duration::from_secs(10)), (Duration::from_secs(1), Duration::from_secs(10)));
        assert_eq!(steady_window(Duration::from_secs(300)), (Duration::from_secs(5), Duration::from_secs(300)));
    }

    #[test]
    fn the_timeline_adds_up_to_the_totals() {
        let mut r = Recorder::new();
        for i in 0..30u64 {
            let due = Duration::from_millis(i * 100);
            r.sent(due);
            if i % 10 == 9 {
                r.error(due, "transport");
            } else {
                r.accepted(due, Duration::from_millis(2));
                r.completed(due + Duration::from_millis(1500), Duration::from_millis(1500), "answered", false);
            }
        }
        let report = r.report(&RunSettings { scheduled: 30, send_span: Duration::from_secs(3), ..settings() });
        assert_eq!(report.timeline.len(), 5, "completions run 1.5 s past the 3 s of sending");
        assert_eq!(report.timeline[0].sent, 10);
        assert_eq!(report.timeline[0].completed, 0);
        assert!(report.inconsistencies().is_empty(), "{:?}", report.inconsistencies());
    }

    #[test]
    fn shed_submissions_are_counted_apart_from_accepted_and_a_dropped_one_is_an_error_of_kind_shed() {
        let mut r = Recorder::new();
        for i in 0..10u64 {
            let due = Duration::from_millis(i * 100);
            r.sent(due);
            match i {
                // Shed once, accepted on the retry.
                0..=3 => {
                    r.shed(due, true);
                    r.accepted(due, Duration::from_millis(3));
                }
                // Shed twice, then given up.
                4 | 5 => {
                    r.shed(due, true);
                    r.shed(due + Duration::from_secs(1), false);
                    r.error(due, crate::run::SHED_KIND);
                }
                _ => r.accepted(due, Duration::from_millis(2)),
            }
        }
        let report = r.report(&RunSettings { scheduled: 10, ..settings() });
        assert_eq!((report.sent, report.accepted, report.shed, report.shed_retries), (10, 8, 8, 6));
        assert_eq!((report.errors, report.errors_by_kind[crate::run::SHED_KIND]), (2, 2));
        assert_eq!(report.timeline.iter().map(|s| s.shed).collect::<Vec<_>>(), [6, 2]);
        assert!(report.inconsistencies().is_empty(), "{:?}", report.inconsistencies());
        let broken = Report { shed: 1, shed_retries: 1, errors_by_kind: BTreeMap::from([("shed".into(), 1)]), errors: 1, ..report };
        assert!(broken.inconsistencies().iter().any(|b| b.contains("shed 1 < retried 1 + dropped 1")));
    }

    #[test]
    fn a_broken_identity_is_reported() {
        let report = Report { accepted: 3, completed: 1, in_flight: 1, ..Report::default() };
        assert!(report.inconsistencies().iter().any(|b| b.contains("accepted 3")));
    }

    #[test]
    fn latencies_beyond_an_hour_are_clamped_not_lost() {
        let mut r = Recorder::new();
        r.sent(Duration::ZERO);
        r.accepted(Duration::ZERO, Duration::from_secs(7200));
        assert_eq!(r.report(&settings()).submit_latency_ms.count, 1);
    }
}
