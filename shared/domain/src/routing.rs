//! Which service hears which event: the one routing table both backends use.
//!
//! The embedded broker evaluates these policies itself; in AWS mode they
//! become SNS subscription filter policies.

use crate::event::{EventType, RoutingAttributes};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The six workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Takes submissions in and stores them.
    Intake,
    /// Reads attachments.
    ImageAnalyzer,
    /// Classifies inquiries.
    Classifier,
    /// Asks partners to confirm.
    PartnerDispatcher,
    /// Answers inquiries or escalates them.
    Responder,
    /// Tells customers and operators.
    Notifier,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 6] =
        [Self::Intake, Self::ImageAnalyzer, Self::Classifier, Self::PartnerDispatcher, Self::Responder, Self::Notifier];

    /// The service name, as in its queue names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::ImageAnalyzer => "image-analyzer",
            Self::Classifier => "classifier",
            Self::PartnerDispatcher => "partner-dispatcher",
            Self::Responder => "responder",
            Self::Notifier => "notifier",
        }
    }

    /// The service with this name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|svc| svc.name() == s)
    }

    /// `{prefix}-{service}`: the service's queue.
    pub fn queue_name(self, prefix: &str) -> String {
        format!("{prefix}-{}", self.name())
    }

    /// `{prefix}-{service}-dlq`: where its poison messages go.
    pub fn dead_letter_queue_name(self, prefix: &str) -> String {
        format!("{prefix}-{}-dlq", self.name())
    }

    /// What this service's queue receives from the events topic. Intake has
    /// no subscription: upstream systems send to its queue directly.
    pub fn subscription(self) -> Option<FilterPolicy> {
        use EventType::*;
        let policy = match self {
            Self::Intake => return None,
            Self::ImageAnalyzer => FilterPolicy::new().or(&[("event_type", &[InquiryReceived.as_str()]), ("has_attachments", &["true"])]),
            Self::Classifier => FilterPolicy::new()
                .or(&[("event_type", &[InquiryReceived.as_str()]), ("has_attachments", &["false"])])
                .or(&[("event_type", &[AttachmentsAnalyzed.as_str()])])
                // A customer's follow-up is classified as a new inquiry is.
                .or(&[("event_type", &[MessageReceived.as_str()])]),
            Self::PartnerDispatcher => {
                FilterPolicy::new().or(&[("event_type", &[InquiryClassified.as_str()]), ("needs_partner", &["true"])])
            }
            Self::Responder => FilterPolicy::new()
                .or(&[("event_type", &[InquiryClassified.as_str()]), ("needs_partner", &["false"])])
                .or(&[("event_type", &[PartnerResponded.as_str(), PartnerTimedOut.as_str()])]),
            Self::Notifier => FilterPolicy::new().or(&[(
                "event_type",
                &[
                    InquiryAnswered.as_str(),
                    InquiryEscalated.as_str(),
                    InquiryResolved.as_str(),
                    InquiryFailed.as_str(),
                    InquiryAwaitingCustomer.as_str(),
                ],
            )]),
        };
        Some(policy)
    }
}

/// An SNS-style filter policy restricted to exact string matches: the
/// message matches when any clause matches, and a clause matches when every
/// attribute it names has one of the listed values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPolicy {
    clauses: Vec<BTreeMap<String, Vec<String>>>,
}

impl FilterPolicy {
    /// A policy with no clauses, which matches nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one alternative clause.
    pub fn or(mut self, clause: &[(&str, &[&str])]) -> Self {
        self.clauses.push(clause.iter().map(|(k, vs)| ((*k).to_owned(), vs.iter().map(|v| (*v).to_owned()).collect())).collect());
        self
    }

    /// Whether a message with `attributes` matches.
    pub fn matches(&self, attributes: &RoutingAttributes) -> bool {
        self.clauses.iter().any(|clause| clause.iter().all(|(key, allowed)| attributes.get(key).is_some_and(|v| allowed.contains(v))))
    }

    /// The SNS filter-policy JSON (`MessageAttributes` scope); several
    /// clauses become a top-level `$or`.
    pub fn to_sns_json(&self) -> Value {
        let clause_json =
            |c: &BTreeMap<String, Vec<String>>| Value::Object(c.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>());
        match self.clauses.as_slice() {
            [one] => clause_json(one),
            many => json!({ "$or": many.iter().map(clause_json).collect::<Vec<_>>() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> RoutingAttributes {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn receivers(a: &RoutingAttributes) -> Vec<Service> {
        Service::ALL.into_iter().filter(|s| s.subscription().is_some_and(|p| p.matches(a))).collect()
    }

    #[test]
    fn received_inquiries_go_to_the_analyzer_only_with_attachments() {
        let with = attrs(&[("event_type", "inquiry.received"), ("has_attachments", "true")]);
        let without = attrs(&[("event_type", "inquiry.received"), ("has_attachments", "false")]);
        assert_eq!(receivers(&with), [Service::ImageAnalyzer]);
        assert_eq!(receivers(&without), [Service::Classifier]);
    }

    #[test]
    fn classified_inquiries_go_to_the_dispatcher_or_the_responder() {
        let partner = attrs(&[("event_type", "inquiry.classified"), ("needs_partner", "true")]);
        let direct = attrs(&[("event_type", "inquiry.classified"), ("needs_partner", "false")]);
        assert_eq!(receivers(&partner), [Service::PartnerDispatcher]);
        assert_eq!(receivers(&direct), [Service::Responder]);
    }

    #[test]
    fn outcomes_reach_the_notifier_and_partner_events_the_responder() {
        for t in ["inquiry.answered", "inquiry.escalated", "inquiry.resolved", "inquiry.failed", "inquiry.awaiting_customer"] {
            assert_eq!(receivers(&attrs(&[("event_type", t)])), [Service::Notifier], "{t}");
        }
        for t in ["partner.responded", "partner.timed_out"] {
            assert_eq!(receivers(&attrs(&[("event_type", t)])), [Service::Responder], "{t}");
        }
        assert!(receivers(&attrs(&[("event_type", "notification.sent")])).is_empty());
    }

    #[test]
    fn a_customers_follow_up_goes_to_the_classifier() {
        assert_eq!(receivers(&attrs(&[("event_type", "inquiry.message_received")])), [Service::Classifier]);
        // The responder's timer goes to its own queue directly, never through the topic.
        assert!(receivers(&attrs(&[("event_type", "inquiry.auto_close")])).is_empty());
        // So does the dispatcher's wait for the customer's reply.
        assert!(receivers(&attrs(&[("event_type", "inquiry.reply_deadline")])).is_empty());
        // And the notifier's webhook delivery orders.
        assert!(receivers(&attrs(&[("event_type", "webhook.delivery")])).is_empty());
    }

    #[test]
    fn sns_json_uses_or_for_several_clauses() {
        let json = Service::Classifier.subscription().unwrap().to_sns_json();
        assert_eq!(json["$or"][1]["event_type"][0], "inquiry.attachments_analyzed");
        let json = Service::Notifier.subscription().unwrap().to_sns_json();
        assert_eq!(json["event_type"].as_array().unwrap().len(), 5);
    }
}
