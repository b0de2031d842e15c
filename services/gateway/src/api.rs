//! The API's shared state: what REST and gRPC both use beyond the stores
//! (rate limits, the ETA estimator, operator keys, settings, the signal
//! that ends open streams at shutdown).

use crate::admission::{Admission, AdmissionLimits, Backlog};
use crate::client_address::TrustedProxies;
use crate::concurrency_cap::ConcurrencyCap;
use crate::error::ApiError;
use crate::eta::Eta;
use crate::operators::OperatorKeys;
use crate::rate_limits::{LimitKey, Limited, RateLimits, Rates};
use crate::status_cache::{DEFAULT_STATUS_STALENESS, STATUS_CACHE_CAPACITY, StatusCache};
use crate::stream_slots::{StreamSlot, StreamSlots};
use crate::timeline_pollers::Pollers;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::Service;
use switchboard_messaging::Queue;
use switchboard_pipeline::Relay;
use switchboard_store::{InquiryStore, ReservationStore};
use tokio_util::sync::CancellationToken;

/// How long an operator stays signed in to the console unless configured otherwise: a shift.
pub const DEFAULT_CONSOLE_SESSION: Duration = Duration::from_secs(8 * 3600);

/// Settings of the tenant and operator API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSettings {
    /// Every rate limit, API and partner (`rate_limits.rs`).
    pub rates: Rates,
    /// Proxies whose `X-Forwarded-For` names the client
    /// (`SWITCHBOARD_TRUSTED_PROXIES`; `client_address.rs`).
    pub trusted_proxies: TrustedProxies,
    /// Watch streams one caller may hold open at once
    /// (`SWITCHBOARD_MAX_STREAMS_PER_KEY`; `stream_slots.rs`).
    pub max_streams_per_caller: usize,
    /// Longest a watch stream stays open (`SWITCHBOARD_STREAM_LIFETIME_SECS`);
    /// then it ends and the client watches again.
    pub stream_lifetime: Duration,
    /// The countries Switchboard may text (`SWITCHBOARD_SMS_COUNTRIES`): a
    /// reservation whose partner is elsewhere is refused.
    pub sms_countries: switchboard_domain::SmsCountries,
    /// Requests served at once, streams apart
    /// (`SWITCHBOARD_MAX_CONCURRENT_REQUESTS`); beyond it, 503 at once.
    pub max_concurrent_requests: usize,
    /// Origins browsers may call the API from (`SWITCHBOARD_CORS_ORIGINS`);
    /// empty: no CORS headers; `*`: any origin.
    pub cors_origins: Vec<String>,
    /// Longest a request may take (`SWITCHBOARD_REQUEST_TIMEOUT_SECS`);
    /// streams are bounded by the client instead.
    pub request_timeout: Duration,
    /// Messages each worker handles at once: the ETA's queue wait divides by it.
    pub worker_concurrency: usize,
    /// How often the ETA re-reads finished inquiries and queue depths, at most.
    pub eta_refresh: Duration,
    /// First pause between two reads of a watched timeline.
    pub watch_poll: Duration,
    /// Backlog bounds past which new submissions are shed (`admission.rs`).
    pub admission: AdmissionLimits,
    /// Longest a terminal inquiry's status is served from the cache
    /// (`SWITCHBOARD_STATUS_CACHE_MS`; zero: no cache; `status_cache.rs`).
    pub status_staleness: Duration,
    /// How long a console session lasts (`SWITCHBOARD_CONSOLE_SESSION_MINUTES`).
    pub console_session: Duration,
    /// How often the console's live queue re-reads the queue (`SWITCHBOARD_CONSOLE_POLL_MS`).
    pub console_poll: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            rates: Rates::default(),
            trusted_proxies: TrustedProxies::default(),
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_streams_per_caller: 20,
            sms_countries: switchboard_domain::SmsCountries::default(),
            stream_lifetime: Duration::from_secs(600),
            cors_origins: vec![],
            request_timeout: Duration::from_secs(30),
            worker_concurrency: 16,
            eta_refresh: Duration::from_secs(1),
            watch_poll: Duration::from_millis(100),
            admission: AdmissionLimits::default(),
            status_staleness: DEFAULT_STATUS_STALENESS,
            console_session: DEFAULT_CONSOLE_SESSION,
            console_poll: Duration::from_secs(2),
        }
    }
}

/// Requests served at once by default: enough for the measured maximum
/// (about 400 submissions a second, each well under 100 ms) many times
/// over, few enough that a flood is refused before it takes the memory.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 1024;

/// What the composition root hands the API.
pub struct ApiParts {
    /// Publishes the escalations and resolutions the API stores in the
    /// outbox (the notifier tells the customer).
    pub relay: Relay,
    /// Reservations operators add.
    pub reservations: Arc<dyn ReservationStore>,
    /// The pipeline's queues, for the ETA's queue depths (may be empty).
    pub queues: BTreeMap<Service, Arc<dyn Queue>>,
    pub operators: OperatorKeys,
    pub settings: ApiSettings,
    /// The pipeline's backlog, for admission control (`None`: never shed).
    pub backlog: Option<Arc<dyn Backlog>>,
}

struct Inner {
    relay: Relay,
    reservations: Arc<dyn ReservationStore>,
    queues: BTreeMap<Service, Arc<dyn Queue>>,
    operators: OperatorKeys,
    settings: ApiSettings,
    limits: RateLimits,
    eta: Arc<Eta>,
    statuses: StatusCache,
    admission: Admission,
    backlog: Option<Arc<dyn Backlog>>,
    streams: CancellationToken,
    stream_slots: StreamSlots,
    pollers: Pollers,
    cap: ConcurrencyCap,
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

impl Api {
    pub fn new(parts: ApiParts) -> Self {
        let s = &parts.settings;
        let limits = RateLimits::new(s.rates);
        let stream_slots = StreamSlots::new(s.max_streams_per_caller);
        let cap = ConcurrencyCap::new(s.max_concurrent_requests);
        let eta = Arc::new(Eta::new(s.eta_refresh, s.worker_concurrency));
        let statuses = StatusCache::new(s.status_staleness, STATUS_CACHE_CAPACITY);
        let admission = Admission::new(s.admission.clone());
        Self {
            inner: Arc::new(Inner {
                relay: parts.relay,
                reservations: parts.reservations,
                queues: parts.queues,
                operators: parts.operators,
                settings: parts.settings,
                limits,
                eta,
                statuses,
                admission,
                backlog: parts.backlog,
                streams: CancellationToken::new(),
                stream_slots,
                pollers: Pollers::default(),
                cap,
            }),
        }
    }

    /// Publishes what the API's moves stored in the outbox.
    pub fn relay(&self) -> &Relay {
        &self.inner.relay
    }

    pub fn reservations(&self) -> &Arc<dyn ReservationStore> {
        &self.inner.reservations
    }

    pub fn queues(&self) -> &BTreeMap<Service, Arc<dyn Queue>> {
        &self.inner.queues
    }

    pub fn operators(&self) -> &OperatorKeys {
        &self.inner.operators
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.inner.settings
    }

    /// Counts one request against `key` (`rate_limits.rs`).
    pub fn limit(&self, key: LimitKey<'_>) -> Result<(), Limited> {
        self.inner.limits.check(key)
    }

    pub fn eta(&self) -> &Eta {
        &self.inner.eta
    }

    /// The last statuses of inquiries the pipeline is done with.
    pub fn statuses(&self) -> &StatusCache {
        &self.inner.statuses
    }

    /// Refreshes the ETA's averages from `store` and the queues in the
    /// background when a refresh is due (at most once per refresh
    /// interval), so no status poll waits for it or starts another.
    pub fn refresh_eta(&self, store: &Arc<dyn InquiryStore>) {
        if self.inner.eta.start_refresh() {
            let (eta, store, queues) = (self.inner.eta.clone(), store.clone(), self.inner.queues.clone());
            tokio::spawn(async move { eta.read(store.as_ref(), &queues).await });
        }
    }

    /// Whether a new submission is taken now (load shedding).
    pub fn admission(&self) -> &Admission {
        &self.inner.admission
    }

    /// Samples the backlog for admission control until `stop` (nothing
    /// without a backlog port).
    pub async fn sample_backlog(&self, stop: CancellationToken) {
        if let Some(backlog) = self.inner.backlog.clone() {
            self.inner.admission.clone().run(backlog, stop).await;
        }
    }

    /// Cancelled when the server shuts down: open streams end, so graceful
    /// shutdown does not wait for watchers.
    pub fn streams_stopping(&self) -> CancellationToken {
        self.inner.streams.clone()
    }

    /// The cap on requests served at once, REST and gRPC together.
    pub(crate) fn cap(&self) -> &ConcurrencyCap {
        &self.inner.cap
    }

    /// The timeline pollers of watched inquiries.
    pub(crate) fn pollers(&self) -> &Pollers {
        &self.inner.pollers
    }

    /// A slot for one more watch stream of `caller`, or 429.
    pub(crate) fn stream_slot(&self, caller: &str) -> Result<StreamSlot, ApiError> {
        self.inner.stream_slots.take(caller)
    }

    /// Ends every open stream (watchers are told to reconnect).
    pub fn stop_streams(&self) {
        self.inner.streams.cancel();
    }
}
