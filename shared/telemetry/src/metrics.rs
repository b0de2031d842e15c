//! Prometheus metrics of one process, served by the gateway at `/metrics`.
//!
//! Labels carry only names chosen by the code (components, outcomes, event
//! types, routes, engine ids), never values taken from an inquiry: no
//! content, phone number, address or id can end up in a label.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

fn long_histogram() -> Histogram {
    // 1 s to ~68 min: partners answer in minutes.
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

/// Every metric Switchboard exports.
pub struct Metrics {
    registry: Registry,
    stage_messages: Family<Labels, Counter>,
    stage_duration: Histograms,
    queue_messages: Family<Labels, Gauge>,
    queue_oldest_age: Family<Labels, Gauge<f64, AtomicU64>>,
    dead_letters: Family<Labels, Gauge>,
    events_published: Family<Labels, Counter>,
    ai_requests: Family<Labels, Counter>,
    ai_duration: Histograms,
    ai_tokens: Family<Labels, Counter>,
    ai_fallbacks: Family<Labels, Counter>,
    partner_outcomes: Family<Labels, Counter>,
    partner_response: Histograms,
    http_requests: Family<Labels, Counter>,
    http_duration: Histograms,
    aws_requests: Family<Labels, Counter>,
    aws_duration: Histograms,
    submissions_shed: Family<Labels, Counter>,
    satisfaction_ratings: Family<Labels, Counter>,
    sla_breaches: Family<Labels, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let m = Self {
            registry: Registry::default(),
            stage_messages: Family::default(),
            stage_duration: Family::new_with_constructor(latency_histogram),
            queue_messages: Family::default(),
            queue_oldest_age: Family::default(),
            dead_letters: Family::default(),
            events_published: Family::default(),
            ai_requests: Family::default(),
            ai_duration: Family::new_with_constructor(latency_histogram),
            ai_tokens: Family::default(),
            ai_fallbacks: Family::default(),
            partner_outcomes: Family::default(),
            partner_response: Family::new_with_constructor(long_histogram),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            aws_requests: Family::default(),
            aws_duration: Family::new_with_constructor(latency_histogram),
            submissions_shed: Family::default(),
            satisfaction_ratings: Family::default(),
            sla_breaches: Family::default(),
        };
        registry.register(
            "stage_messages",
            "Messages a stage finished, by service and outcome (done, retry, reject)",
            m.stage_messages.clone(),
        );
        registry.register("stage_duration_seconds", "Time a stage spent on one message, by service", m.stage_duration.clone());
        registry.register(
            "queue_messages",
            "Messages in a service's queue, by state (visible, in_flight, delayed); sampled on scrape",
            m.queue_messages.clone(),
        );
        registry.register(
            "queue_oldest_message_age_seconds",
            "Age of the oldest visible message in a service's queue; sampled on scrape (embedded mode; SQS publishes it to CloudWatch only)",
            m.queue_oldest_age.clone(),
        );
        registry.register("dead_letter_messages", "Messages in a service's dead-letter queue; sampled on scrape", m.dead_letters.clone());
        registry.register(
            "events_published",
            "Events published, by type (escalation ratio: inquiry.escalated / (inquiry.answered + inquiry.escalated))",
            m.events_published.clone(),
        );
        registry.register("ai_requests", "AI engine calls, by operation, engine and outcome", m.ai_requests.clone());
        registry.register("ai_duration_seconds", "AI engine call latency, by operation", m.ai_duration.clone());
        registry.register("ai_tokens", "AI tokens, by operation, engine and kind (input, output)", m.ai_tokens.clone());
        registry.register(
            "ai_fallbacks",
            "AI calls whose failure or timeout made the service fall back, by operation (fallback rate: / ai_requests)",
            m.ai_fallbacks.clone(),
        );
        registry.register(
            "partner_outcomes",
            "Partner confirmations settled, by outcome (timeout rate: timed_out / all)",
            m.partner_outcomes.clone(),
        );
        registry.register("partner_response_seconds", "Time from the partner's SMS to the partner's answer", m.partner_response.clone());
        registry.register("http_requests", "HTTP requests, by method, route and status", m.http_requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency, by method and route", m.http_duration.clone());
        registry.register("aws_requests", "AWS SDK operations (retries inside), by service, operation and outcome", m.aws_requests.clone());
        registry.register("aws_request_duration_seconds", "AWS SDK operation latency, by service and operation", m.aws_duration.clone());
        registry.register(
            "submissions_shed",
            "Submissions refused while the backlog was past its bound, by protocol (rest, grpc); not in http_requests",
            m.submissions_shed.clone(),
        );
        registry.register(
            "satisfaction_ratings",
            "Customers' ratings of an answer (CSAT: helpful / all), by rating, intent and who answered (ai, human)",
            m.satisfaction_ratings.clone(),
        );
        registry.register(
            "sla_breaches",
            "Escalated inquiries whose first-response deadline passed before a person answered, by urgency (counted once each)",
            m.sla_breaches.clone(),
        );
        Self { registry, ..m }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// A stage finished a message.
    pub fn stage_message(&self, service: &str, outcome: &'static str, took: Duration) {
        self.stage_messages.get_or_create(&vec![("service", service.to_owned()), ("outcome", outcome.to_owned())]).inc();
        self.stage_duration.get_or_create(&vec![("service", service.to_owned())]).observe(seconds(took));
    }

    /// A sample of a service queue's depth.
    pub fn queue_depth(&self, service: &str, visible: u64, in_flight: u64, delayed: u64, dead_lettered: u64, oldest: Option<Duration>) {
        for (state, value) in [("visible", visible), ("in_flight", in_flight), ("delayed", delayed)] {
            self.queue_messages
                .get_or_create(&vec![("service", service.to_owned()), ("state", state.to_owned())])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        self.dead_letters.get_or_create(&vec![("service", service.to_owned())]).set(i64::try_from(dead_lettered).unwrap_or(i64::MAX));
        self.queue_oldest_age.get_or_create(&vec![("service", service.to_owned())]).set(oldest.map(seconds).unwrap_or(0.0));
    }

    /// An event was published (`event_type` is one of the fixed CloudEvents types).
    pub fn event_published(&self, event_type: &str) {
        self.events_published.get_or_create(&vec![("event_type", event_type.to_owned())]).inc();
    }

    /// An AI engine call ended. `engine` is the engine or model id.
    pub fn ai_call(&self, operation: &'static str, engine: &str, outcome: &'static str, took: Duration) {
        self.ai_requests
            .get_or_create(&vec![("operation", operation.to_owned()), ("engine", engine.to_owned()), ("outcome", outcome.to_owned())])
            .inc();
        self.ai_duration.get_or_create(&vec![("operation", operation.to_owned())]).observe(seconds(took));
    }

    /// Tokens an AI call used.
    pub fn ai_tokens(&self, operation: &'static str, engine: &str, input: u64, output: u64) {
        for (kind, n) in [("input", input), ("output", output)] {
            self.ai_tokens
                .get_or_create(&vec![("operation", operation.to_owned()), ("engine", engine.to_owned()), ("kind", kind.to_owned())])
                .inc_by(n);
        }
    }

    /// An AI call failed or ran out of time, so the service fell back.
    pub fn ai_fallback(&self, operation: &'static str) {
        self.ai_fallbacks.get_or_create(&vec![("operation", operation.to_owned())]).inc();
    }

    /// A partner confirmation was settled; `waited` is set for answers (not time-outs).
    pub fn partner_outcome(&self, outcome: &str, waited: Option<Duration>) {
        self.partner_outcomes.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
        if let Some(waited) = waited {
            self.partner_response.get_or_create(&vec![]).observe(seconds(waited));
        }
    }

    /// An HTTP request was answered. `route` is the route template, never the path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&vec![("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())])
            .inc();
        self.http_duration.get_or_create(&vec![("method", method.to_owned()), ("route", route.to_owned())]).observe(seconds(took));
    }

    /// One customer rating (`helpful`, `not_helpful`) of an answer given by
    /// `answered_by` (`ai`, `human`) to an inquiry of `intent` (`unknown` when unclassified).
    pub fn satisfaction_rating(&self, rating: &'static str, intent: &'static str, answered_by: &'static str) {
        let labels = vec![("rating", rating.to_owned()), ("intent", intent.to_owned()), ("answered_by", answered_by.to_owned())];
        self.satisfaction_ratings.get_or_create(&labels).inc();
    }

    /// An escalated inquiry of `urgency` (`high`, `medium`, `low`) breached
    /// its first-response SLA; counted by whoever recorded the breach, once.
    pub fn sla_breach(&self, urgency: &'static str) {
        self.sla_breaches.get_or_create(&vec![("urgency", urgency.to_owned())]).inc();
    }

    /// A submission was shed (`protocol`: `rest` or `grpc`).
    pub fn submission_shed(&self, protocol: &'static str) {
        self.submissions_shed.get_or_create(&vec![("protocol", protocol.to_owned())]).inc();
    }

    /// An AWS SDK operation ended.
    pub fn aws_request(&self, service: &str, operation: &str, outcome: &'static str, took: Duration) {
        self.aws_requests
            .get_or_create(&vec![("service", service.to_owned()), ("operation", operation.to_owned()), ("outcome", outcome.to_owned())])
            .inc();
        self.aws_duration.get_or_create(&vec![("service", service.to_owned()), ("operation", operation.to_owned())]).observe(seconds(took));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_the_prometheus_text_format() {
        let m = metrics();
        m.stage_message("classifier", "done", Duration::from_millis(3));
        m.queue_depth("classifier", 2, 1, 0, 4, Some(Duration::from_secs(7)));
        m.ai_tokens("draft", "local-faq-bm25", 10, 20);
        m.sla_breach("high");
        let text = m.render();
        for wanted in [
            "switchboard_stage_messages_total{service=\"classifier\",outcome=\"done\"}",
            "switchboard_stage_duration_seconds_bucket{le=",
            "switchboard_dead_letter_messages{service=\"classifier\"} 4",
            "switchboard_queue_oldest_message_age_seconds{service=\"classifier\"} 7",
            "switchboard_ai_tokens_total{operation=\"draft\",engine=\"local-faq-bm25\",kind=\"output\"} 20",
            "switchboard_sla_breaches_total{urgency=\"high\"} 1",
        ] {
            assert!(text.contains(wanted), "{wanted} missing from\n{text}");
        }
    }
}
