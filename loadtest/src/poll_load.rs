//! A poll-heavy load beside the submissions (`--poll-load RATE`): status
//! polls of inquiries already accepted, sent open loop at RATE a second
//! (poll *i* is due `i / RATE` seconds after the start, whatever the server
//! does), each of an id drawn uniformly from those accepted so far. A
//! poll's latency runs from its due time, and the polls are reported apart
//! from the pipeline's figures, so one run shows both what the polls cost
//! the pipeline and how well they were served.

use crate::report::{Percentiles, histogram, micros};
use crate::schedule::Schedule;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The ids of the inquiries accepted so far, to draw polls from.
#[derive(Debug, Default)]
pub struct KnownIds {
    ids: Mutex<Vec<String>>,
}

impl KnownIds {
    /// An inquiry was accepted.
    pub fn add(&self, id: &str) {
        self.lock().push(id.to_owned());
    }

    /// The known id at `draw` (in `[0, 1)`) of the way through them: each
    /// equally likely for a uniform draw; `None` while none is known.
    pub fn pick(&self, draw: f64) -> Option<String> {
        let ids = self.lock();
        let index = ((draw.clamp(0.0, 1.0) * ids.len() as f64) as usize).min(ids.len().checked_sub(1)?);
        ids.get(index).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the poll load measured, in the JSON report (`poll_load`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollLoadReport {
    /// Offered polls per second.
    pub rate: f64,
    /// Polls in the timetable.
    pub scheduled: u64,
    /// Polls due before any inquiry was accepted (nothing to poll yet).
    pub skipped: u64,
    /// Polls that went out: `sent = ok + errors`.
    pub sent: u64,
    /// Answered with a status.
    pub ok: u64,
    /// Not answered with a status (`http_429`, `timeout`, …, and
    /// `no_answer_by_end` for those still out when the run ended).
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Polls answered with a status per second of sending.
    pub throughput: f64,
    /// Latency of the polls answered with a status, from their due time.
    pub latency_ms: Percentiles,
}

impl PollLoadReport {
    /// The bookkeeping identities of the poll load; the broken ones, described.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if self.sent + self.skipped > self.scheduled {
            broken.push(format!("poll load: sent {} + skipped {} > scheduled {}", self.sent, self.skipped, self.scheduled));
        }
        if self.sent != self.ok + self.errors {
            broken.push(format!("poll load: sent {} != ok {} + errors {}", self.sent, self.ok, self.errors));
        }
        if self.errors_by_kind.values().sum::<u64>() != self.errors {
            broken.push("poll load: errors_by_kind does not add up to errors".into());
        }
        if self.latency_ms.count != self.ok {
            broken.push("poll load: latency count != ok".into());
        }
        broken
    }
}

/// Collects the poll load's measurements while it runs.
pub struct PollRecorder {
    latency: Histogram<u64>,
    skipped: u64,
    sent: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl Default for PollRecorder {
    fn default() -> Self {
        Self { latency: histogram(3), skipped: 0, sent: 0, ok: 0, errors: BTreeMap::new() }
    }
}

impl PollRecorder {
    /// A poll was due before any id was known.
    pub fn skipped(&mut self) {
        self.skipped += 1;
    }

    /// A poll went out.
    pub fn sent(&mut self) {
        self.sent += 1;
    }

    /// A poll was answered with a status, `latency` after it was due.
    pub fn ok(&mut self, latency: Duration) {
        self.ok += 1;
        self.latency.saturating_record(micros(latency));
    }

    /// A poll failed, for reason `kind`.
    pub fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_owned()).or_default() += 1;
    }

    /// The report of a poll load offered at `schedule`. Polls that went out
    /// but got no answer before the run ended count as errors
    /// (`no_answer_by_end`).
    pub fn report(&self, schedule: &Schedule) -> PollLoadReport {
        let mut errors_by_kind = self.errors.clone();
        let answered = self.ok + self.errors.values().sum::<u64>();
        if self.sent > answered {
            *errors_by_kind.entry("no_answer_by_end".into()).or_default() += self.sent - answered;
        }
        PollLoadReport {
            rate: schedule.rate(),
            scheduled: schedule.count(),
            skipped: self.skipped,
            sent: self.sent,
            ok: self.ok,
            errors: errors_by_kind.values().sum(),
            errors_by_kind,
            throughput: crate::report::per_second(self.ok, schedule.span().as_secs_f64()),
            latency_ms: Percentiles::of(&self.latency),
        }
    }
}

/// Sends the poll load: poll *i* at `schedule.offset(i)` after `start`, of
/// an id drawn uniformly from `known` (seeded by `seed`), by calling `poll`,
/// which answers `Err(kind)` for a failed poll. Returns when every poll sent
/// was answered; dropping it stops the polls still out.
pub async fn drive<F, Fut>(schedule: Schedule, start: Instant, seed: u64, known: Arc<KnownIds>, recorder: Arc<Mutex<PollRecorder>>, poll: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tasks = JoinSet::new();
    for i in 0..schedule.count() {
        let due = start + schedule.offset(i);
        tokio::time::sleep_until(due).await;
        let Some(id) = known.pick(rng.random()) else {
            recorder.lock().unwrap_or_else(|p| p.into_inner()).skipped();
            continue;
        };
        recorder.lock().unwrap_or_else(|p| p.into_inner()).sent();
        let (answer, recorder) = (poll(id), recorder.clone());
        tasks.spawn(async move {
            let result = answer.await;
            let latency = Instant::now().saturating_duration_since(due);
            let mut r = recorder.lock().unwrap_or_else(|p| p.into_inner());
            match result {
                Ok(()) => r.ok(latency),
                Err(kind) => r.error(&kind),
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_drawn_uniformly_over_those_known_and_none_before_the_first() {
        let known = KnownIds::default();
        assert_eq!(known.pick(0.5), None);
        for id in ["a", "b", "c", "d"] {
            known.add(id);
        }
        let drawn: Vec<_> = [0.0, 0.24, 0.25, 0.5, 0.75, 0.999, 1.0].iter().map(|d| known.pick(*d).unwrap()).collect();
        assert_eq!(drawn, ["a", "a", "b", "c", "d", "d", "d"]);
    }

    #[tokio::test(start_paused = true)]
    async fn polls_go_out_on_the_timetable_whatever_the_answers_and_are_timed_from_their_due_time() {
        let start = Instant::now();
        let known = Arc::new(KnownIds::default());
        let recorder = Arc::new(Mutex::new(PollRecorder::default()));
        let sent: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
        // Ten a second for a second; the first id is known from 250 ms on.
        let schedule = Schedule::new(10.0, Duration::from_secs(1)).unwrap();
        let learn = {
            let known = known.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(250)).await;
                known.add("a");
                known.add("b");
            })
        };
        let poll = |id: String| {
            let sent = sent.clone();
            async move {
                sent.lock().unwrap().push((id.clone(), start.elapsed()));
                // Each answer takes 2 s, far longer than the gap between polls.
                tokio::time::sleep(Duration::from_secs(2)).await;
                if id == "b" { Err("http_429".to_owned()) } else { Ok(()) }
            }
        };
        drive(schedule, start, 7, known, recorder.clone(), poll).await;
        learn.await.unwrap();

        let sent = sent.lock().unwrap().clone();
        let due: Vec<Duration> = sent.iter().map(|(_, at)| *at).collect();
        assert_eq!(due, (3..10).map(|i| Duration::from_millis(100 * i)).collect::<Vec<_>>(), "one poll every 100 ms once ids are known");
        assert!(sent.iter().any(|(id, _)| id == "a") && sent.iter().any(|(id, _)| id == "b"), "{sent:?}");
        let report = recorder.lock().unwrap().report(&schedule);
        let failed = sent.iter().filter(|(id, _)| id == "b").count() as u64;
        assert_eq!((report.scheduled, report.skipped, report.sent), (10, 3, 7));
        assert_eq!((report.ok, report.errors, report.errors_by_kind.get("http_429").copied()), (7 - failed, failed, Some(failed)));
        assert!((report.latency_ms.p50 - 2000.0).abs() < 2.0, "timed from the due time, the 2 s answer: {:?}", report.latency_ms);
        assert!(report.inconsistencies().is_empty(), "{:?}", report.inconsistencies());
    }

    #[test]
    fn polls_still_out_at_the_end_are_errors_and_the_report_adds_up() {
        let mut r = PollRecorder::default();
        r.skipped();
        for _ in 0..4 {
            r.sent();
        }
        r.ok(Duration::from_millis(3));
        r.ok(Duration::from_millis(5));
        r.error("timeout");
        let report = r.report(&Schedule::new(5.0, Duration::from_secs(1)).unwrap());
        assert_eq!((report.sent, report.ok, report.errors), (4, 2, 2));
        assert_eq!(report.errors_by_kind, BTreeMap::from([("no_answer_by_end".into(), 1), ("timeout".into(), 1)]));
        assert_eq!(report.throughput, 2.0);
        assert!(report.inconsistencies().is_empty(), "{:?}", report.inconsistencies());
        let broken = PollLoadReport { ok: 3, ..report };
        assert!(broken.inconsistencies().iter().any(|b| b.contains("sent 4 != ok 3 + errors 2")));
    }
}
