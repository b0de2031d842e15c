//! The engine: sends on the timetable, follows every accepted inquiry to a
//! terminal status, plays the partner, and collects the measurements.

use crate::api::{Api, PartnerStep, Refusal};
use crate::links::OutboxLinks;
use crate::mix::{Mix, MixConfig, PartnerPlan, Plan};
use crate::poll_load::{KnownIds, PollRecorder};
use crate::procstat;
use crate::report::{ProcessReport, Recorder, Report, RunSettings};
use crate::schedule::{Schedule, ScheduleError};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// First status poll after acceptance; later ones back off to [`MAX_POLL_GAP`].
const FIRST_POLL: Duration = Duration::from_millis(50);
/// Longest gap between two status polls of one inquiry.
const MAX_POLL_GAP: Duration = Duration::from_secs(1);

/// Retries of a shed submission by default.
pub const DEFAULT_SHED_RETRIES: u32 = 3;

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Base URL of the gateway, e.g. `http://127.0.0.1:8080`.
    pub target: String,
    /// Talk gRPC to this address (`host:port`) instead of REST to `target`.
    pub grpc: Option<String>,
    pub api_key: String,
    /// Requests per second.
    pub rate: f64,
    /// How long to send.
    pub duration: Duration,
    /// After sending, how long to wait for accepted inquiries to finish.
    pub drain: Duration,
    /// The server's data directory (embedded mode): partner links are read from its outbox.
    pub data_dir: Option<PathBuf>,
    pub mix: MixConfig,
    pub seed: u64,
    /// The server's process id, to report its memory and CPU.
    pub server_pid: Option<u32>,
    /// Draw a progress bar on the terminal.
    pub progress: bool,
    pub request_timeout: Duration,
    /// Allow a target that is not this machine.
    pub allow_remote: bool,
    /// Most status polls per second, over all inquiries followed (`None`:
    /// twice the rate, at least 100). Keeps a backlog from turning the
    /// generator's own polling into the server's main load.
    pub max_poll_rate: Option<f64>,
    /// How many times a shed submission is sent again, each after the
    /// server's advised wait (`Retry-After`); 0 drops it at once.
    pub shed_retries: u32,
    /// Status polls per second of already accepted inquiries, open loop,
    /// beside the submissions and the following of each inquiry (`poll_load.rs`).
    pub poll_load: Option<f64>,
}

impl LoadConfig {
    /// A run of `rate` requests per second for `duration` against `target`, with defaults for the rest.
    pub fn new(target: impl Into<String>, api_key: impl Into<String>, rate: f64, duration: Duration) -> Self {
        Self {
            target: target.into(),
            grpc: None,
            api_key: api_key.into(),
            rate,
            duration,
            drain: Duration::from_secs(60),
            data_dir: None,
            mix: MixConfig::default(),
            seed: 1,
            server_pid: None,
            progress: false,
            request_timeout: Duration::from_secs(30),
            allow_remote: false,
            max_poll_rate: None,
            shed_retries: DEFAULT_SHED_RETRIES,
            poll_load: None,
        }
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("--target {0}")]
    BadTarget(String),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("the target is not ready: {0}")]
    NotReady(String),
    #[error("--data-dir: {0}")]
    Links(#[from] crate::links::LinkError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

struct Shared {
    api: Api,
    start: Instant,
    start_wall: jiff::Timestamp,
    links: Option<OutboxLinks>,
    recorder: Mutex<Recorder>,
    polls: Pacer,
    shed_retries: u32,
    /// The accepted inquiries, for the poll load to draw from.
    known: Arc<KnownIds>,
}

impl Shared {
    fn rec(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Time from the start of the run to `at` on the wall clock (zero if before).
    fn since_start(&self, at: jiff::Timestamp) -> Duration {
        Duration::try_from(at.duration_since(self.start_wall)).unwrap_or(Duration::ZERO)
    }
}

/// Spaces events evenly at no more than a given rate, first come first
/// served: each caller takes the next free slot and sleeps until it.
pub struct Pacer {
    gap: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// At most `rate` events per second (a non-positive rate means no limit).
    pub fn per_second(rate: f64) -> Self {
        let gap = if rate.is_finite() && rate > 0.0 { Duration::from_secs_f64(1.0 / rate) } else { Duration::ZERO };
        Self { gap, next: Mutex::new(Instant::now()) }
    }

    /// The slot of the next event: now if the last one is at least a gap ago.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (*next).max(now);
        *next = slot + self.gap;
        slot
    }

    /// Waits for the next slot.
    pub async fn wait(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(slot).await;
    }
}

/// Checks the target is a loopback URL (unless remote targets are allowed)
/// and returns it without a trailing slash.
pub fn checked_target(target: &str, allow_remote: bool) -> Result<String, LoadError> {
    let url = reqwest::Url::parse(target).map_err(|e| LoadError::BadTarget(format!("{target:?} is not a URL: {e}")))?;
    if url.scheme() != "http" {
        return Err(LoadError::BadTarget(format!("{target}: only http:// targets are supported")));
    }
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback && !allow_remote {
        return Err(LoadError::BadTarget(format!(
            "{target} is not this machine; load goes to loopback addresses unless --allow-remote is given"
        )));
    }
    Ok(target.trim_end_matches('/').to_owned())
}

/// Runs the load and returns the report.
pub async fn run(config: LoadConfig) -> Result<Report, LoadError> {
    let schedule = Schedule::new(config.rate, config.duration)?;
    let poll_schedule = config.poll_load.map(|rate| Schedule::new(rate, config.duration)).transpose()?;
    let (api, base) = match &config.grpc {
        Some(address) => {
            let uri = if address.contains("://") { address.clone() } else { format!("http://{address}") };
            let uri = checked_target(&uri, config.allow_remote)?;
            (Api::grpc(&uri, &config.api_key, config.request_timeout).await.map_err(LoadError::NotReady)?, uri)
        }
        None => {
            let base = checked_target(&config.target, config.allow_remote)?;
            (Api::rest(&base, &config.api_key, config.request_timeout).map_err(LoadError::Client)?, base)
        }
    };
    api.ready().await.map_err(LoadError::NotReady)?;
    let links = config.data_dir.as_deref().map(OutboxLinks::open).transpose()?;

    let mut notes = vec![
        "submit latency runs from each request's due time (open loop, no coordinated omission)".to_owned(),
        "end-to-end time runs from the due time to the server's updated_at of the terminal transition".to_owned(),
    ];
    notes.push(match &links {
        Some(_) => "the simulated partner read its links from the embedded outbox, read-only".to_owned(),
        None => "no --data-dir: partner requests were left unanswered and ended at the server's deadline".to_owned(),
    });

    let server_before = config.server_pid.map(|pid| procstat::read(Some(pid)));
    let client_before = procstat::read(None);
    let shared = Arc::new(Shared {
        api,
        start: Instant::now(),
        start_wall: jiff::Timestamp::now(),
        links,
        recorder: Mutex::new(Recorder::new()),
        polls: Pacer::per_second(config.max_poll_rate.unwrap_or((config.rate * 2.0).max(100.0))),
        shed_retries: config.shed_retries,
        known: Arc::default(),
    });
    let poll_recorder = Arc::new(Mutex::new(PollRecorder::default()));
    let poller = poll_schedule.map(|polls| {
        let api = shared.api.clone();
        let poll = move |id: String| {
            let api = api.clone();
            async move { api.status_or_error(&id).await.map(|_| ()) }
        };
        // Its own seed: the same --seed sends the same inquiries with or without it.
        let driven =
            crate::poll_load::drive(polls, shared.start, config.seed ^ POLL_SEED, shared.known.clone(), poll_recorder.clone(), poll);
        tokio::spawn(driven)
    });

    let progress = if config.progress { ProgressBar::new(schedule.count()) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:30.cyan/blue}] {pos}/{len} sent · {msg}") {
        progress.set_style(style.progress_chars("=> "));
    }
    let watcher = tokio::spawn(watch(shared.clone(), progress.clone(), config.server_pid));

    let mut mix = Mix::new(config.mix.clone(), config.seed);
    let mut tasks = JoinSet::new();
    let mut cut_short = false;
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    for i in 0..schedule.count() {
        let due = schedule.offset(i);
        tokio::select! {
            _ = tokio::time::sleep_until(shared.start + due) => {}
            _ = &mut interrupt => { cut_short = true; break; }
        }
        let plan = mix.plan(i);
        tasks.spawn(inquiry(shared.clone(), due, plan));
        while tasks.try_join_next().is_some() {}
    }
    if let Some(poller) = poller {
        // The polls end with the sending; wait for the last answers.
        tokio::select! {
            _ = poller => {}
            _ = &mut interrupt => { cut_short = true; }
        }
    }
    let drain_until = Instant::now() + config.drain;
    if !cut_short {
        progress.set_message("sending done; waiting for accepted inquiries to finish");
        tokio::select! {
            _ = tokio::time::sleep_until(drain_until) => {}
            _ = async { while tasks.join_next().await.is_some() {} } => {}
            _ = &mut interrupt => { cut_short = true; }
        }
    }
    tasks.shutdown().await;
    watcher.abort();
    progress.finish_and_clear();

    let settings = RunSettings {
        target: base,
        rate: config.rate,
        duration: config.duration,
        started_at: shared.start_wall.to_string(),
        scheduled: schedule.count(),
        send_span: schedule.span(),
    };
    let mut report = shared.rec().report(&settings);
    report.poll_load = poll_schedule.map(|polls| poll_recorder.lock().unwrap_or_else(|p| p.into_inner()).report(&polls));
    report.protocol = shared.api.protocol().to_owned();
    if cut_short {
        notes.push("interrupted: the run was cut short".to_owned());
    }
    if report.in_flight > 0 {
        notes.push(format!("{} accepted inquiries were not terminal after the {:?} drain", report.in_flight, config.drain));
    }
    report.notes = notes;
    let client_after = procstat::read(None);
    report.client = ProcessReport {
        pid: std::process::id(),
        peak_rss_mb: client_after.peak_rss_mb,
        cpu_seconds: cpu_delta(client_before.cpu_seconds, client_after.cpu_seconds),
    };
    if let (Some(pid), Some(before)) = (config.server_pid, server_before) {
        let after = procstat::read(Some(pid));
        report.server =
            Some(ProcessReport { pid, peak_rss_mb: after.peak_rss_mb, cpu_seconds: cpu_delta(before.cpu_seconds, after.cpu_seconds) });
    }
    Ok(report)
}

fn cpu_delta(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    Some(((after? - before?) * 100.0).round() / 100.0)
}

/// Updates the progress bar and samples the server's memory once a second.
async fn watch(shared: Arc<Shared>, progress: ProgressBar, server_pid: Option<u32>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut n = 0u64;
    loop {
        tick.tick().await;
        n += 1;
        let (sent, accepted, shed, completed, errors) = {
            let r = shared.rec();
            (r.sent_count(), r.accepted_count(), r.shed_count(), r.completed_count(), r.error_count())
        };
        progress.set_position(sent);
        progress.set_message(format!(
            "accepted {accepted} · shed {shed} · completed {completed} · in flight {} · errors {errors}",
            accepted.saturating_sub(completed)
        ));
        if n.is_multiple_of(4)
            && let Some(rss) = server_pid.and_then(|pid| procstat::read(Some(pid)).rss_mb)
        {
            let at = shared.start.elapsed();
            shared.rec().server_rss(at, (rss * 10.0).round() / 10.0);
        }
    }
}

/// One inquiry: submit on time (again after the advised wait while it is
/// shed), then follow it to a terminal status. An inquiry accepted on a
/// retry is timed from that retry: the server took it then.
async fn inquiry(shared: Arc<Shared>, due: Duration, plan: Plan) {
    shared.rec().sent(due);
    let mut attempt = due;
    let mut retries = 0;
    let id = loop {
        match shared.api.submit(&plan).await {
            Ok(id) => break id,
            Err(Refusal::Shed { retry_after }) => {
                let retry = retries < shared.shed_retries;
                shared.rec().shed(shared.start.elapsed(), retry);
                if !retry {
                    shared.rec().error(due, SHED_KIND);
                    return;
                }
                retries += 1;
                tokio::time::sleep(retry_after).await;
                attempt = shared.start.elapsed();
            }
            Err(Refusal::Error(kind)) => {
                shared.rec().error(due, &kind);
                return;
            }
        }
    };
    let latency = Instant::now().saturating_duration_since(shared.start + attempt);
    shared.rec().accepted(due, latency);
    shared.known.add(&id);
    follow(&shared, attempt, &id, &plan.partner).await;
}

/// Mixed into `--seed` for the poll load's draws.
const POLL_SEED: u64 = 0x706f_6c6c;

/// The error kind of a submission given up after being shed.
pub const SHED_KIND: &str = "shed";

/// Polls the inquiry's status, backing off, until it is terminal; plays the
/// partner when it waits for one.
async fn follow(shared: &Shared, due: Duration, id: &str, partner: &PartnerPlan) {
    let due_wall = shared.start_wall + jiff::SignedDuration::try_from(due).unwrap_or(jiff::SignedDuration::ZERO);
    let mut gap = FIRST_POLL;
    let mut waited_for_partner = false;
    loop {
        tokio::time::sleep(gap).await;
        gap = (gap * 2).min(MAX_POLL_GAP);
        shared.polls.wait().await;
        shared.rec().status_polls += 1;
        let Some(view) = shared.api.status(id).await else {
            shared.rec().poll_errors += 1;
            continue;
        };
        // A question back to the customer (a booking that cannot be
        // verified) ends the automatic path: the load does not play the
        // customer, and the inquiry waits for them (a day by default).
        if view.terminal || view.status == "awaiting_customer" {
            let e2e = Duration::try_from(view.updated_at.duration_since(due_wall)).unwrap_or(Duration::ZERO);
            let at = shared.since_start(view.updated_at);
            shared.rec().completed(at, e2e, &view.status, waited_for_partner);
            return;
        }
        if view.status == "awaiting_partner" && !waited_for_partner {
            waited_for_partner = true;
            shared.rec().partner.requested += 1;
            play_partner(shared, id, partner).await;
            gap = FIRST_POLL;
        }
    }
}

/// The simulated partner: finds the link texted about `id`, waits, opens it and answers.
async fn play_partner(shared: &Shared, id: &str, plan: &PartnerPlan) {
    let (after, answer) = match plan {
        PartnerPlan::Silent => {
            shared.rec().partner.silent += 1;
            return;
        }
        PartnerPlan::Answer { after, answer } => (*after, *answer),
    };
    let Some(links) = &shared.links else {
        shared.rec().partner.links_missing += 1;
        return;
    };
    // The SMS is recorded before the status moves, so one look normally
    // finds it; a few more cover a reader that lags a commit.
    let mut token = None;
    for _ in 0..20 {
        if let Ok(Some(t)) = links.token(id).await {
            token = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(token) = token else {
        shared.rec().partner.links_missing += 1;
        return;
    };
    tokio::time::sleep(after).await;
    let step = match shared.api.open(&token).await {
        PartnerStep::Done => shared.api.respond(&token, answer).await,
        other => other,
    };
    let mut r = shared.rec();
    match step {
        PartnerStep::Done => r.partner.answered += 1,
        PartnerStep::Late => r.partner.late += 1,
        PartnerStep::Failed => r.partner.errors += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_spaces_events_at_the_rate_and_lets_idle_time_go() {
        let pacer = Pacer::per_second(100.0);
        let unlimited = Pacer::per_second(0.0);
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..3).map(|_| pacer.reserve(t0) - t0).collect();
        assert_eq!(slots, [Duration::ZERO, Duration::from_millis(10), Duration::from_millis(20)]);
        // After a quiet second the next event goes at once; no burst is saved up.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(pacer.reserve(later), later);
        assert_eq!(pacer.reserve(later), later + Duration::from_millis(10));
        assert_eq!(unlimited.reserve(t0), t0);
        assert_eq!(unlimited.reserve(t0), t0);
    }

    #[test]
    fn only_loopback_targets_are_accepted_by_default() {
        assert_eq!(checked_target("http://127.0.0.1:8080/", false).unwrap(), "http://127.0.0.1:8080");
        assert!(checked_target("http://localhost:8080", false).is_ok());
        assert!(checked_target("http://[::1]:8080", false).is_ok());
        assert!(checked_target("http://example.com", false).is_err());
        assert!(checked_target("http://10.0.0.1:8080", false).is_err());
        assert!(checked_target("http://10.0.0.1:8080", true).is_ok());
        assert!(checked_target("ftp://127.0.0.1", false).is_err());
        assert!(checked_target("not a url", false).is_err());
    }
}
