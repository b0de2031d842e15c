//! The estimated time to answer: learned from the store, not a constant.
//!
//! The model: an inquiry still has to pass the stages between its status
//! and a terminal one (received → analyzing when it has attachments →
//! classified → awaiting_partner when a partner must confirm → answered or
//! escalated). For each stage the gateway keeps an exponentially weighted
//! moving average of how long recently finished inquiries spent in it (read
//! from their timelines: the time between one `status.*` event and the
//! next). The estimate is the sum over the stages ahead, less the time
//! already spent in the current one, plus the wait behind the messages
//! queued for those stages (depth × stage time ÷ worker concurrency). While
//! the partner is asked, the deadline bounds the partner stage. Whether a
//! partner will be needed is known once classified; before, the share of
//! recent inquiries that needed one weighs the partner stage.
//!
//! The averages are refreshed from the store at most once per refresh
//! interval, on demand (an idle gateway reads nothing) and in the
//! background (a status poll never waits for it): the newest finished
//! inquiries of each terminal status are listed, and the timelines of those
//! not seen before are read.

use jiff::Timestamp;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::{Inquiry, InquiryId, InquiryStatus, Service, TimelineEvent};
use switchboard_messaging::Queue;
use switchboard_store::{InquiryStore, PageRequest};
use tokio::time::Instant;
use tracing::debug;

/// Weight of a new observation once warmed up.
const ALPHA: f64 = 0.2;
/// Until this many observations, the average is the plain mean (so the first
/// few inquiries move the estimate off the prior quickly).
const WARM_UP: u32 = 5;
/// What an automatic stage is assumed to take before anything was observed.
const PRIOR_STAGE: Duration = Duration::from_secs(1);
/// Finished inquiries read per terminal status and refresh.
const SAMPLE_PER_STATUS: u32 = 20;
/// Inquiry ids remembered as already learned from.
const SEEN_CAPACITY: usize = 4096;
/// The current stage is never estimated below this share of its average
/// (an inquiry that is late is still not done).
const CURRENT_STAGE_FLOOR: f64 = 0.1;

/// The stages an estimate adds up: every status the pipeline moves on from.
const STAGES: [InquiryStatus; 4] =
    [InquiryStatus::Received, InquiryStatus::Analyzing, InquiryStatus::Classified, InquiryStatus::AwaitingPartner];

/// An exponentially weighted moving average of milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Ewma {
    value: f64,
    count: u32,
}

impl Ewma {
    fn add(&mut self, sample: f64) {
        self.count = self.count.saturating_add(1);
        let weight = if self.count <= WARM_UP { 1.0 / f64::from(self.count) } else { ALPHA };
        self.value += weight * (sample - self.value);
    }

    fn get(&self) -> Option<f64> {
        (self.count > 0).then_some(self.value)
    }
}

/// What the estimator learned.
#[derive(Debug, Clone, Default)]
struct Learned {
    /// Milliseconds spent in each stage.
    dwell: BTreeMap<&'static str, Ewma>,
    /// 1.0 for a classified inquiry that went to a partner, else 0.0.
    partner_share: Ewma,
    /// Finished inquiries learned from.
    samples: u32,
    seen: HashSet<InquiryId>,
    seen_order: VecDeque<InquiryId>,
    /// Visible messages per service queue, at the last refresh.
    depth: BTreeMap<&'static str, u64>,
}

/// An estimate with what it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub remaining: Duration,
    /// Finished inquiries the averages learned from (0: priors only).
    pub samples: u32,
    /// Messages waiting in the queues of the stages ahead.
    pub queue_depth: u64,
}

/// The gateway's estimator, shared by REST and gRPC.
pub struct Eta {
    learned: Mutex<Learned>,
    /// When the last refresh started: one per interval, whoever asks.
    last_refresh: Mutex<Option<Instant>>,
    refresh_every: Duration,
    concurrency: f64,
}

impl Eta {
    /// `concurrency` is how many messages a stage's workers handle at once.
    pub fn new(refresh_every: Duration, concurrency: usize) -> Self {
        Self {
            learned: Mutex::new(Learned::default()),
            last_refresh: Mutex::new(None),
            refresh_every,
            concurrency: concurrency.max(1) as f64,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Learned) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update of plain
        // numbers: the data is still usable.
        let mut guard = self.learned.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Learns from one finished inquiry's timeline (oldest first).
    pub fn learn(&self, id: InquiryId, timeline: &[TimelineEvent]) {
        self.with(|l| {
            if !l.seen.insert(id) {
                return;
            }
            l.seen_order.push_back(id);
            if l.seen_order.len() > SEEN_CAPACITY
                && let Some(old) = l.seen_order.pop_front()
            {
                l.seen.remove(&old);
            }
            let statuses: Vec<(InquiryStatus, Timestamp)> =
                timeline.iter().filter_map(|e| e.kind.strip_prefix("status.").and_then(InquiryStatus::parse).map(|s| (s, e.at))).collect();
            let mut learned_any = false;
            for pair in statuses.windows(2) {
                let ((from, entered), (to, left)) = (pair[0], pair[1]);
                if STAGES.contains(&from) {
                    let ms = left.duration_since(entered).as_secs_f64().max(0.0) * 1000.0;
                    l.dwell.entry(from.as_str()).or_default().add(ms);
                    learned_any = true;
                }
                if from == InquiryStatus::Classified {
                    l.partner_share.add(if to == InquiryStatus::AwaitingPartner { 1.0 } else { 0.0 });
                }
            }
            if learned_any {
                l.samples = l.samples.saturating_add(1);
            }
        });
    }

    /// Records the visible messages of a service's queue.
    pub fn set_depth(&self, service: Service, visible: u64) {
        self.with(|l| {
            l.depth.insert(service.name(), visible);
        });
    }

    /// Whether a refresh is due (none started within the refresh
    /// interval); if so, it counts as started, so that of many callers at
    /// once one goes on to [`Eta::read`].
    pub fn start_refresh(&self) -> bool {
        let mut last = self.last_refresh.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < self.refresh_every) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Reads recently finished inquiries and queue depths. Failures keep the
    /// old numbers: an estimate is never worth failing a status request for.
    pub async fn read(&self, store: &dyn InquiryStore, queues: &BTreeMap<Service, Arc<dyn Queue>>) {
        for status in [InquiryStatus::Answered, InquiryStatus::Escalated, InquiryStatus::Resolved, InquiryStatus::Failed] {
            let page = match store.list_by_status(status, &PageRequest::first(SAMPLE_PER_STATUS)).await {
                Ok(page) => page,
                Err(e) => {
                    debug!(error = %e, "ETA refresh could not list finished inquiries");
                    continue;
                }
            };
            for inquiry in page.items {
                if self.with(|l| l.seen.contains(&inquiry.id)) {
                    continue;
                }
                match store.timeline(inquiry.id).await {
                    Ok(timeline) => self.learn(inquiry.id, &timeline),
                    Err(e) => debug!(error = %e, "ETA refresh could not read a timeline"),
                }
            }
        }
        for (service, queue) in queues {
            if let Ok(stats) = queue.stats().await {
                self.set_depth(*service, stats.visible);
            }
        }
    }

    /// How long until `inquiry` is likely to reach a terminal status.
    pub fn estimate(&self, inquiry: &Inquiry, now: Timestamp) -> Estimate {
        self.with(|l| estimate(l, inquiry, now, self.concurrency))
    }

    /// The estimate of an inquiry that is already terminal: nothing left.
    pub fn nothing_left(&self) -> Estimate {
        Estimate { remaining: Duration::ZERO, samples: self.with(|l| l.samples), queue_depth: 0 }
    }
}

/// The service whose queue holds the message that moves an inquiry on from `status`.
fn next_service(inquiry: &Inquiry, status: InquiryStatus) -> Option<Service> {
    match status {
        InquiryStatus::Received if inquiry.has_attachments() => Some(Service::ImageAnalyzer),
        InquiryStatus::Received | InquiryStatus::Analyzing => Some(Service::Classifier),
        InquiryStatus::Classified if inquiry.classification.as_ref().is_some_and(|c| c.needs_partner()) => Some(Service::PartnerDispatcher),
        InquiryStatus::Classified | InquiryStatus::AwaitingPartner => Some(Service::Responder),
        _ => None,
    }
}

fn estimate(l: &Learned, inquiry: &Inquiry, now: Timestamp, concurrency: f64) -> Estimate {
    let samples = l.samples;
    let status = inquiry.status;
    if status.is_terminal() {
        return Estimate { remaining: Duration::ZERO, samples, queue_depth: 0 };
    }
    if let (InquiryStatus::AwaitingCustomer, Some(question)) = (status, &inquiry.customer_question) {
        // Up to the customer: the question's deadline bounds the wait (a
        // person takes over then); a reply sooner goes on to the partner.
        let left = question.deadline_at.duration_since(now).as_secs_f64().max(0.0);
        return Estimate { remaining: Duration::from_secs_f64(left), samples, queue_depth: 0 };
    }
    let dwell = |s: InquiryStatus| l.dwell.get(s.as_str()).and_then(Ewma::get).unwrap_or(PRIOR_STAGE.as_secs_f64() * 1000.0);

    // The stages ahead, each weighted by how likely the inquiry passes it.
    let mut ahead: Vec<(InquiryStatus, f64)> = Vec::new();
    let partner_weight = match &inquiry.classification {
        Some(c) => f64::from(u8::from(c.needs_partner())),
        None => l.partner_share.get().unwrap_or(0.0),
    };
    let from = STAGES.iter().position(|s| *s == status).unwrap_or(0);
    for &stage in &STAGES[from..] {
        let weight = match stage {
            InquiryStatus::Analyzing if stage != status => f64::from(u8::from(inquiry.has_attachments())),
            InquiryStatus::AwaitingPartner if stage != status => partner_weight,
            _ => 1.0,
        };
        if weight > 0.0 {
            ahead.push((stage, weight));
        }
    }

    let elapsed_ms = now.duration_since(inquiry.updated_at).as_secs_f64().max(0.0) * 1000.0;
    let mut total_ms = 0.0;
    let mut depth_total = 0u64;
    for (stage, weight) in ahead {
        let average = dwell(stage);
        let mut stage_ms = if stage == status { (average - elapsed_ms).max(average * CURRENT_STAGE_FLOOR) } else { average };
        if stage == InquiryStatus::AwaitingPartner && stage == status {
            // The deadline ends the wait whatever the partner does.
            if let Some(partner) = &inquiry.partner {
                let left_ms = partner.deadline_at.duration_since(now).as_secs_f64().max(0.0) * 1000.0;
                stage_ms = stage_ms.min(left_ms + dwell(InquiryStatus::Classified));
            }
        }
        // The queue the stage's message waits in; the inquiry's own message
        // is among those counted for its current stage.
        let depth = next_service(inquiry, stage).and_then(|s| l.depth.get(s.name()).copied()).unwrap_or(0);
        let ahead_of_it = if stage == status { depth.saturating_sub(1) } else { depth };
        depth_total += ahead_of_it;
        let queue_ms = ahead_of_it as f64 * average / concurrency;
        total_ms += weight * (stage_ms + queue_ms);
    }
    Estimate { remaining: Duration::from_secs_f64(total_ms.max(0.0) / 1000.0), samples, queue_depth: depth_total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;
    use switchboard_domain::{Channel, CustomerContact, NewInquiry, PhoneNumber, TenantId};

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
    }

    fn event(kind: &str, ms: i64) -> TimelineEvent {
        TimelineEvent::once(kind, "test", at(ms), serde_json::Value::Null)
    }

    fn inquiry(seed: u8, status: InquiryStatus, updated_ms: i64) -> Inquiry {
        let new = NewInquiry {
            title: None,
            content: "x".into(),
            customer: CustomerContact { phone: PhoneNumber::parse("+821012345678").ok(), email: None },
            reservation_number: None,
            channel: Channel::Api,
            language: None,
            attachments: vec![],
        };
        let mut i = Inquiry::received(InquiryId::new(at(0), [seed; 10]), TenantId::parse("t").unwrap(), &new, at(0));
        i.status = status;
        i.updated_at = at(updated_ms);
        i
    }

    /// A finished FAQ inquiry: `classify_ms` in received, `answer_ms` in classified.
    fn learn_faq(eta: &Eta, seed: u8, classify_ms: i64, answer_ms: i64) {
        let timeline = [
            event("status.received", 0),
            event("status.classified", classify_ms),
            event("notification.customer.inquiry.answered", classify_ms + 1),
            event("status.answered", classify_ms + answer_ms),
        ];
        eta.learn(inquiry(seed, InquiryStatus::Answered, 0).id, &timeline);
    }

    #[test]
    fn without_observations_each_automatic_stage_is_assumed_to_take_a_second() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        let e = eta.estimate(&inquiry(1, InquiryStatus::Received, 0), at(0));
        assert_eq!((e.remaining, e.samples), (Duration::from_secs(2), 0));
    }

    #[test]
    fn the_estimate_follows_observed_stage_latencies() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        for seed in 0..10 {
            learn_faq(&eta, seed, 300, 100);
        }
        let e = eta.estimate(&inquiry(99, InquiryStatus::Received, 0), at(0));
        assert_eq!(e.samples, 10);
        assert_eq!(e.remaining, Duration::from_millis(400));
        let classified = eta.estimate(&inquiry(98, InquiryStatus::Classified, 0), at(0));
        assert_eq!(classified.remaining, Duration::from_millis(100));
    }

    #[test]
    fn an_inquiry_waiting_for_the_customers_reply_is_estimated_by_its_questions_deadline() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        let mut waiting = inquiry(1, InquiryStatus::AwaitingCustomer, 0);
        let unverified = switchboard_domain::Unverified::NotFound;
        waiting.customer_question = Some(switchboard_domain::CustomerQuestion {
            unverified,
            message: unverified.question(switchboard_domain::Language::En, None),
            asked_at: at(0),
            deadline_at: at(60_000),
            reply: None,
        });
        assert_eq!(eta.estimate(&waiting, at(20_000)).remaining, Duration::from_secs(40), "a person takes over at the deadline");
        assert_eq!(eta.estimate(&waiting, at(90_000)).remaining, Duration::ZERO);
    }

    #[test]
    fn an_inquiry_is_learned_from_once() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        learn_faq(&eta, 1, 300, 100);
        learn_faq(&eta, 1, 30_000, 100);
        assert_eq!(eta.estimate(&inquiry(9, InquiryStatus::Received, 0), at(0)).remaining, Duration::from_millis(400));
    }

    #[test]
    fn time_already_spent_in_the_current_stage_is_taken_off() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        learn_faq(&eta, 1, 1000, 500);
        let e = eta.estimate(&inquiry(9, InquiryStatus::Received, 0), at(600));
        assert_eq!(e.remaining, Duration::from_millis(400 + 500));
        let late = eta.estimate(&inquiry(9, InquiryStatus::Received, 0), at(5_000));
        assert_eq!(late.remaining, Duration::from_millis(100 + 500), "a late stage still counts a tenth of its average");
    }

    #[test]
    fn a_backlog_in_the_queues_ahead_makes_the_estimate_longer() {
        let eta = Eta::new(Duration::from_secs(1), 4);
        learn_faq(&eta, 1, 200, 100);
        let idle = eta.estimate(&inquiry(9, InquiryStatus::Received, 0), at(0));
        eta.set_depth(Service::Classifier, 41);
        eta.set_depth(Service::Responder, 8);
        let busy = eta.estimate(&inquiry(9, InquiryStatus::Received, 0), at(0));
        // 40 messages ahead at the classifier (200 ms each, 4 at a time), 8 at the responder.
        assert_eq!(busy.remaining, idle.remaining + Duration::from_millis(40 * 200 / 4 + 8 * 100 / 4));
        assert_eq!(busy.queue_depth, 48);
    }

    #[test]
    fn the_partner_stage_counts_by_the_share_of_inquiries_that_needed_one_and_never_past_the_deadline() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        learn_faq(&eta, 1, 100, 100);
        let partner_path = [
            event("status.received", 0),
            event("status.classified", 100),
            event("status.awaiting_partner", 200),
            event("status.answered", 60_200),
        ];
        eta.learn(inquiry(2, InquiryStatus::Answered, 0).id, &partner_path);
        // Half of the classified inquiries went to a partner (60 s there).
        let fresh = eta.estimate(&inquiry(9, InquiryStatus::Received, 0), at(0));
        assert_eq!(fresh.remaining, Duration::from_millis(100 + 100 + 30_000));

        let mut waiting = inquiry(9, InquiryStatus::AwaitingPartner, 0);
        waiting.partner = Some(switchboard_domain::PartnerRequest {
            partner_id: "p".into(),
            partner_name: "P".into(),
            requested_at: at(0),
            deadline_at: at(0) + SignedDuration::from_secs(10),
            outcome: None,
            responded_at: None,
        });
        let e = eta.estimate(&waiting, at(0));
        assert_eq!(e.remaining, Duration::from_millis(10_000 + 100), "bounded by the deadline plus a classified stage");
    }

    #[tokio::test(start_paused = true)]
    async fn of_many_polls_one_a_refresh_interval_starts_a_refresh() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        let started = (0..100).filter(|_| eta.start_refresh()).count();
        assert_eq!(started, 1);
        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(!eta.start_refresh());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(eta.start_refresh());
        assert!(!eta.start_refresh());
    }

    #[test]
    fn terminal_inquiries_have_nothing_left() {
        let eta = Eta::new(Duration::from_secs(1), 16);
        for status in [InquiryStatus::Answered, InquiryStatus::Escalated, InquiryStatus::Resolved, InquiryStatus::Failed] {
            assert_eq!(eta.estimate(&inquiry(1, status, 0), at(0)).remaining, Duration::ZERO);
        }
        learn_faq(&eta, 1, 300, 100);
        assert_eq!(eta.nothing_left(), Estimate { remaining: Duration::ZERO, samples: 1, queue_depth: 0 });
    }
}
