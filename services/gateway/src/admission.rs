//! Admission control: while the pipeline's backlog is past a configured
//! bound, new submissions are shed (503 / UNAVAILABLE with a retry delay)
//! instead of being queued behind work the pipeline cannot finish in time.
//! Only submissions are shed (REST `POST /api/inquiries` and `/chat` in
//! `rest.rs`, gRPC `SubmitInquiry` in `grpc/authenticated.rs`, before the
//! body is read or the key looked up, so shedding costs nothing); reads,
//! partner answers and operator actions are always served, since they add
//! little work and finish what was already accepted.
//!
//! The backlog comes from a port ([`Backlog`]) sampled in the background
//! ([`Admission::run`]), never per request, so deciding costs one lock read.
//! Sampling pauses while no submission arrives (an idle gateway makes no
//! queue calls, which SQS bills). Shedding starts when one measure passes
//! its bound and stops only once every measure is back to
//! [`RESUME_FRACTION`] of its bound, so admission does not flap at the edge.
//!
//! Those bounds alone let latency grow with the offered rate: between two
//! samples every submission is admitted, so at ten times the pipeline's
//! capacity a sampling interval lets in ten times what the pipeline
//! finishes in it, and the last of each burst waits for all of it. So
//! admission also caps the work in the pipeline (messages waiting or being
//! handled in every stage, [`AdmissionLimits::max_in_pipeline`]), counting
//! the submissions admitted since the last sample on top of it. By
//! Little's law an inquiry then waits at most about the cap divided by the
//! pipeline's throughput, whatever the offered rate, while the cap keeps
//! every stage fed.

use crate::error::ApiError;
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchboard_domain::Service;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Shedding stops once every measure is at or below this share of its bound.
pub const RESUME_FRACTION: f64 = 0.8;
/// Sampling pauses when no submission came for this long.
const IDLE_AFTER: Duration = Duration::from_secs(5);
/// Longest one backlog sample may take before it counts as failed.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// One stage's queue, as sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageBacklog {
    /// The stage whose queue this is.
    pub service: Service,
    /// Messages waiting to be received (not in flight, not delayed).
    pub waiting: u64,
    /// Messages received and not yet settled: being handled.
    pub in_process: u64,
    /// Age of the oldest waiting message; `None` where the backend does not
    /// say (SQS publishes it to CloudWatch only).
    pub oldest_age: Option<Duration>,
}

/// What the pipeline has waiting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BacklogSample {
    /// Each stage's queue.
    pub stages: Vec<StageBacklog>,
    /// Writes queued for the embedded store's writer; `None` on AWS.
    pub pending_writes: Option<u64>,
}

impl BacklogSample {
    /// Messages waiting or being handled in all stages together.
    pub fn in_pipeline(&self) -> u64 {
        self.stages.iter().map(|s| s.waiting + s.in_process).sum()
    }
}

/// Reports the pipeline's backlog (the composition root implements it on
/// the queues and the store).
#[async_trait]
pub trait Backlog: Send + Sync {
    /// The backlog now, or why it could not be read.
    async fn sample(&self) -> Result<BacklogSample, String>;
}

/// The bounds past which submissions are shed; a bound of 0 is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Messages waiting in any one stage's queue (`SWITCHBOARD_SHED_QUEUE_DEPTH`).
    pub max_waiting: u64,
    /// Age of the oldest waiting message of any stage
    /// (`SWITCHBOARD_SHED_QUEUE_AGE_MS`; embedded mode only).
    pub max_oldest_age: Duration,
    /// Writes queued for the embedded store's writer (`SWITCHBOARD_SHED_PENDING_WRITES`).
    pub max_pending_writes: u64,
    /// Messages waiting or being handled in all stages together, plus the
    /// submissions admitted since the last sample (`SWITCHBOARD_SHED_IN_PIPELINE`).
    pub max_in_pipeline: u64,
    /// How often the backlog is sampled while submissions arrive (`SWITCHBOARD_SHED_SAMPLE_MS`).
    pub sample_every: Duration,
    /// The wait advised to a shed client (`Retry-After`, `RetryInfo`).
    pub retry_after: Duration,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        Self {
            max_waiting: 2000,
            max_oldest_age: Duration::from_millis(500),
            max_pending_writes: 2000,
            max_in_pipeline: 0,
            sample_every: Duration::from_millis(200),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Whether `value` is past `fraction` of `bound` (a bound of 0 is off).
fn over(value: f64, bound: f64, fraction: f64) -> bool {
    bound > 0.0 && value > bound * fraction
}

/// Why `sample` calls for shedding, if it does: the first measure past its
/// bound, or, while already `shedding`, past its resume level.
pub fn assess(limits: &AdmissionLimits, sample: &BacklogSample, shedding: bool) -> Option<String> {
    let fraction = if shedding { RESUME_FRACTION } else { 1.0 };
    let level = if shedding { " (shedding until it is back to 80 % of the bound)" } else { "" };
    for stage in &sample.stages {
        let name = stage.service.name();
        if over(stage.waiting as f64, limits.max_waiting as f64, fraction) {
            return Some(format!("the {name} queue has {} messages waiting (bound {}){level}", stage.waiting, limits.max_waiting));
        }
        if let Some(age) = stage.oldest_age
            && over(age.as_secs_f64(), limits.max_oldest_age.as_secs_f64(), fraction)
        {
            return Some(format!(
                "the oldest message in the {name} queue has waited {} ms (bound {} ms){level}",
                age.as_millis(),
                limits.max_oldest_age.as_millis()
            ));
        }
    }
    if let Some(pending) = sample.pending_writes
        && over(pending as f64, limits.max_pending_writes as f64, fraction)
    {
        return Some(format!("the store has {pending} writes queued (bound {}){level}", limits.max_pending_writes));
    }
    None
}

/// The admission decision, shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct Admission {
    inner: Arc<Inner>,
}

struct Inner {
    limits: AdmissionLimits,
    /// Why submissions are shed now; `None` while admitted.
    shedding: RwLock<Option<String>>,
    /// Set by each submission; the sampler clears it each round.
    asked: AtomicBool,
    /// [`BacklogSample::in_pipeline`] of the last sample.
    sampled_in_pipeline: AtomicU64,
    /// Submissions admitted since the last sample began; the sample may
    /// count some of them too, which errs on the side of shedding.
    admitted_since_sample: AtomicU64,
}

impl Admission {
    /// Admits everything until [`Self::run`] samples a backlog past `limits`.
    pub fn new(limits: AdmissionLimits) -> Self {
        Self {
            inner: Arc::new(Inner {
                limits,
                shedding: RwLock::new(None),
                asked: AtomicBool::new(false),
                sampled_in_pipeline: AtomicU64::new(0),
                admitted_since_sample: AtomicU64::new(0),
            }),
        }
    }

    /// The bounds.
    pub fn limits(&self) -> &AdmissionLimits {
        &self.inner.limits
    }

    /// Ok to take a new submission, or OVERLOADED naming the measure past its bound.
    pub fn check(&self) -> Result<(), ApiError> {
        self.inner.asked.store(true, Ordering::Relaxed);
        let overloaded = |why: &str| ApiError::Overloaded {
            detail: format!("Switchboard is overloaded and takes no new inquiries for now: {why}"),
            retry_after: self.inner.limits.retry_after,
        };
        if let Some(why) = self.inner.shedding.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Err(overloaded(why));
        }
        let cap = self.inner.limits.max_in_pipeline;
        if cap > 0 {
            let admitted = self.inner.admitted_since_sample.fetch_add(1, Ordering::Relaxed);
            let in_pipeline = self.inner.sampled_in_pipeline.load(Ordering::Relaxed) + admitted;
            if in_pipeline >= cap {
                self.inner.admitted_since_sample.fetch_sub(1, Ordering::Relaxed);
                return Err(overloaded(&format!("{in_pipeline} messages are in the pipeline (bound {cap})")));
            }
        }
        Ok(())
    }

    /// Whether submissions are shed now.
    pub fn is_shedding(&self) -> bool {
        self.inner.shedding.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Takes `sample` into account; `admitted_before` submissions were
    /// admitted before it was taken, so it counts them.
    fn update(&self, sample: &BacklogSample, admitted_before: u64) {
        self.inner.sampled_in_pipeline.store(sample.in_pipeline(), Ordering::Relaxed);
        self.inner.admitted_since_sample.fetch_sub(admitted_before, Ordering::Relaxed);
        let mut shedding = self.inner.shedding.write().unwrap_or_else(|p| p.into_inner());
        let next = assess(&self.inner.limits, sample, shedding.is_some());
        match (&*shedding, &next) {
            (None, Some(why)) => warn!(reason = %why, "shedding new submissions"),
            (Some(_), None) => info!("backlog back under its bounds: taking submissions again"),
            _ => {}
        }
        *shedding = next;
    }

    /// Sheds for `why` until the next sample says otherwise.
    fn shed(&self, why: String) {
        let mut shedding = self.inner.shedding.write().unwrap_or_else(|p| p.into_inner());
        if shedding.is_none() {
            warn!(reason = %why, "shedding new submissions");
        }
        *shedding = Some(why);
    }

    /// Samples `backlog` every `sample_every` while submissions arrive (or
    /// while shedding), until `stop`. A failed sample admits (the store or
    /// queues being down already fail submissions on their own); one that
    /// takes longer than [`SAMPLE_TIMEOUT`] sheds, since reads that slow
    /// mean the store is overloaded.
    pub async fn run(self, backlog: Arc<dyn Backlog>, stop: CancellationToken) {
        let every = self.inner.limits.sample_every.max(Duration::from_millis(10));
        let mut last_asked = Instant::now();
        loop {
            if self.inner.asked.swap(false, Ordering::Relaxed) {
                last_asked = Instant::now();
            }
            if last_asked.elapsed() < IDLE_AFTER || self.is_shedding() {
                let admitted_before = self.inner.admitted_since_sample.load(Ordering::Relaxed);
                match tokio::time::timeout(SAMPLE_TIMEOUT, backlog.sample()).await {
                    Ok(Ok(sample)) => self.update(&sample, admitted_before),
                    Ok(Err(e)) => {
                        warn!(error = %e, "backlog not sampled; admitting");
                        self.update(&BacklogSample::default(), admitted_before);
                    }
                    // Reads that slow are the overload itself (the store's
                    // readers are saturated): shed until a sample gets through.
                    Err(_) => self.shed(format!("the backlog could not be read within {} s", SAMPLE_TIMEOUT.as_secs())),
                }
            } else {
                // No submission for a while: the pipeline has had time to
                // drain what the last sample saw, and a stale count would
                // shed the next submission. Until the next sample at most
                // the cap is admitted on this guess.
                self.inner.sampled_in_pipeline.store(0, Ordering::Relaxed);
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn limits() -> AdmissionLimits {
        AdmissionLimits {
            max_waiting: 100,
            max_oldest_age: Duration::from_millis(500),
            max_pending_writes: 1000,
            max_in_pipeline: 0,
            sample_every: Duration::from_millis(100),
            retry_after: Duration::from_millis(1500),
        }
    }

    fn classifier(waiting: u64, age_ms: Option<u64>) -> BacklogSample {
        BacklogSample {
            stages: vec![StageBacklog {
                service: Service::Classifier,
                waiting,
                in_process: 0,
                oldest_age: age_ms.map(Duration::from_millis),
            }],
            pending_writes: Some(0),
        }
    }

    #[test]
    fn a_stage_past_its_depth_or_age_bound_or_a_long_writer_queue_calls_for_shedding() {
        let l = limits();
        assert_eq!(assess(&l, &classifier(100, Some(500)), false), None, "at the bound is still admitted");
        let deep = assess(&l, &classifier(101, None), false).unwrap();
        assert!(deep.contains("classifier") && deep.contains("101"), "{deep}");
        let old = assess(&l, &classifier(1, Some(501)), false).unwrap();
        assert!(old.contains("501 ms"), "{old}");
        let writes = BacklogSample { stages: vec![], pending_writes: Some(1001) };
        assert!(assess(&l, &writes, false).unwrap().contains("1001 writes"));
        let off = AdmissionLimits { max_waiting: 0, max_oldest_age: Duration::ZERO, max_pending_writes: 0, ..l };
        assert_eq!(assess(&off, &classifier(1_000_000, Some(60_000)), false), None, "0 turns a bound off");
    }

    #[test]
    fn shedding_goes_on_until_every_measure_is_back_to_the_resume_level() {
        let l = limits();
        assert!(assess(&l, &classifier(90, Some(450)), true).is_some(), "under the bound but over 80 % of it");
        assert!(assess(&l, &classifier(80, Some(450)), true).is_some());
        assert_eq!(assess(&l, &classifier(80, Some(400)), true), None);
    }

    struct Scripted(Mutex<Vec<BacklogSample>>);

    #[async_trait]
    impl Backlog for Scripted {
        async fn sample(&self) -> Result<BacklogSample, String> {
            let mut samples = self.0.lock().unwrap();
            if samples.len() > 1 { Ok(samples.remove(0)) } else { samples.first().cloned().ok_or_else(|| "empty".into()) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_submission_while_over_the_bound_is_overloaded_with_the_advised_wait_and_admitted_once_drained() {
        let admission = Admission::new(limits());
        let backlog = Arc::new(Scripted(Mutex::new(vec![classifier(500, Some(2000)), classifier(90, Some(100)), classifier(0, None)])));
        let stop = CancellationToken::new();
        let sampler = tokio::spawn(admission.clone().run(backlog, stop.clone()));
        assert!(admission.check().is_ok(), "admitted before the first sample");
        tokio::time::sleep(Duration::from_millis(1)).await;
        match admission.check() {
            Err(ApiError::Overloaded { detail, retry_after }) => {
                assert!(detail.contains("classifier queue has 500"), "{detail}");
                assert_eq!(retry_after, Duration::from_millis(1500));
            }
            other => panic!("expected shedding, got {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(admission.check().is_err(), "90 waiting is under the bound but over the resume level");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(admission.check().is_ok());
        stop.cancel();
        sampler.await.unwrap();
    }

    fn in_pipeline(waiting: u64, in_process: u64) -> BacklogSample {
        let stage = |service| StageBacklog { service, waiting, in_process, oldest_age: None };
        BacklogSample { stages: vec![stage(Service::Classifier), stage(Service::Responder)], pending_writes: Some(0) }
    }

    #[tokio::test(start_paused = true)]
    async fn between_two_samples_no_more_is_admitted_than_the_pipeline_has_room_for() {
        let admission = Admission::new(AdmissionLimits { max_in_pipeline: 10, ..limits() });
        // 2 waiting and 1 being handled in each of two stages: 6 in the pipeline.
        let backlog = Arc::new(Scripted(Mutex::new(vec![in_pipeline(2, 1)])));
        let stop = CancellationToken::new();
        let sampler = tokio::spawn(admission.clone().run(backlog, stop.clone()));
        tokio::time::sleep(Duration::from_millis(1)).await;
        let burst: Vec<bool> = (0..8).map(|_| admission.check().is_ok()).collect();
        assert_eq!(burst, [true, true, true, true, false, false, false, false], "room for 4 until the next sample");
        match admission.check() {
            Err(ApiError::Overloaded { detail, .. }) => assert!(detail.contains("10 messages are in the pipeline (bound 10)"), "{detail}"),
            other => panic!("expected shedding, got {other:?}"),
        }
        // The next sample finds the pipeline at 6 again: the 4 admitted have moved on.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!((0..8).filter(|_| admission.check().is_ok()).count(), 4);
        stop.cancel();
        sampler.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_pipeline_seen_before_a_quiet_spell_does_not_shed_the_next_submission() {
        let admission = Admission::new(AdmissionLimits { max_in_pipeline: 10, ..limits() });
        let samples = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        struct FullOnce(Arc<std::sync::atomic::AtomicUsize>);
        #[async_trait]
        impl Backlog for FullOnce {
            async fn sample(&self) -> Result<BacklogSample, String> {
                let n = self.0.fetch_add(1, Ordering::Relaxed);
                Ok(if n < 60 { in_pipeline(5, 0) } else { std::future::pending().await })
            }
        }
        let stop = CancellationToken::new();
        let sampler = tokio::spawn(admission.clone().run(Arc::new(FullOnce(samples.clone())), stop.clone()));
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(admission.check().is_err(), "10 in the pipeline");
        tokio::time::sleep(IDLE_AFTER + Duration::from_secs(1)).await;
        assert!(samples.load(Ordering::Relaxed) < 60, "sampling paused while no submission came");
        assert!(admission.check().is_ok(), "the count from before the quiet spell is dropped");
        stop.cancel();
        sampler.await.unwrap();
    }

    struct Stuck;

    #[async_trait]
    impl Backlog for Stuck {
        async fn sample(&self) -> Result<BacklogSample, String> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_sample_that_takes_too_long_sheds() {
        let admission = Admission::new(limits());
        let stop = CancellationToken::new();
        admission.check().unwrap();
        let sampler = tokio::spawn(admission.clone().run(Arc::new(Stuck), stop.clone()));
        tokio::time::sleep(SAMPLE_TIMEOUT + Duration::from_millis(1)).await;
        match admission.check() {
            Err(ApiError::Overloaded { detail, .. }) => assert!(detail.contains("could not be read within 2 s"), "{detail}"),
            other => panic!("expected shedding, got {other:?}"),
        }
        stop.cancel();
        sampler.await.unwrap();
    }

    struct Counting(Arc<std::sync::atomic::AtomicUsize>);

    #[async_trait]
    impl Backlog for Counting {
        async fn sample(&self) -> Result<BacklogSample, String> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(BacklogSample::default())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_gateway_stops_sampling_and_a_submission_starts_it_again() {
        let admission = Admission::new(limits());
        let samples = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = CancellationToken::new();
        let sampler = tokio::spawn(admission.clone().run(Arc::new(Counting(samples.clone())), stop.clone()));
        tokio::time::sleep(IDLE_AFTER + Duration::from_secs(1)).await;
        let idle = samples.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(samples.load(Ordering::Relaxed), idle, "no samples while idle");
        admission.check().unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(samples.load(Ordering::Relaxed) > idle, "a submission resumes sampling");
        stop.cancel();
        sampler.await.unwrap();
    }
}
