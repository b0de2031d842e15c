//! Which events a webhook endpoint receives: every type tenants may
//! subscribe to, or a list of them.

use crate::event::EventType;
use serde::{Deserialize, Serialize};

/// The event types delivered to webhooks: the inquiry outcomes the
/// notifier consumes (its subscription in `routing.rs`), so a webhook
/// hears what the customer is told, when they are told.
pub const WEBHOOK_EVENT_TYPES: [EventType; 5] = [
    EventType::InquiryAnswered,
    EventType::InquiryEscalated,
    EventType::InquiryResolved,
    EventType::InquiryFailed,
    EventType::InquiryAwaitingCustomer,
];

/// An endpoint's event filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub enum EventFilter {
    /// Every type in [`WEBHOOK_EVENT_TYPES`] (`["*"]`).
    All,
    /// These types only (a non-empty list, no repeats, in the order given).
    Only(Vec<EventType>),
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidFilter(String);

impl EventFilter {
    /// Parses a list of event types; `["*"]` (or an empty list) is every type.
    pub fn parse(types: &[String]) -> Result<Self, InvalidFilter> {
        if types.is_empty() || types.iter().any(|t| t == "*") {
            return if types.len() <= 1 { Ok(Self::All) } else { Err(InvalidFilter("\"*\" stands alone: it is every type".into())) };
        }
        let mut parsed = Vec::new();
        for t in types {
            let kind = EventType::parse(t.trim())
                .filter(|k| WEBHOOK_EVENT_TYPES.contains(k))
                .ok_or_else(|| InvalidFilter(format!("{t} is not a webhook event type (one of {}, or \"*\")", names())))?;
            if !parsed.contains(&kind) {
                parsed.push(kind);
            }
        }
        Ok(Self::Only(parsed))
    }

    /// Whether an event of `kind` goes to the endpoint.
    pub fn matches(&self, kind: EventType) -> bool {
        WEBHOOK_EVENT_TYPES.contains(&kind)
            && match self {
                Self::All => true,
                Self::Only(types) => types.contains(&kind),
            }
    }

    /// The filter as listed: `["*"]` or its types.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::All => vec!["*".to_owned()],
            Self::Only(types) => types.iter().map(|t| t.as_str().to_owned()).collect(),
        }
    }
}

fn names() -> String {
    WEBHOOK_EVENT_TYPES.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

impl TryFrom<Vec<String>> for EventFilter {
    type Error = InvalidFilter;
    fn try_from(value: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EventFilter> for Vec<String> {
    fn from(value: EventFilter) -> Self {
        value.names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_filter_names_webhook_event_types_or_every_one() {
        assert_eq!(EventFilter::parse(&list(&["*"])), Ok(EventFilter::All));
        assert_eq!(EventFilter::parse(&[]), Ok(EventFilter::All));
        let only = EventFilter::parse(&list(&["inquiry.answered", "inquiry.answered"])).unwrap();
        assert_eq!(only, EventFilter::Only(vec![EventType::InquiryAnswered]));
        assert!(only.matches(EventType::InquiryAnswered) && !only.matches(EventType::InquiryEscalated));
        assert!(EventFilter::All.matches(EventType::InquiryFailed));
        assert!(!EventFilter::All.matches(EventType::InquiryReceived), "not a webhook event type");
        assert!(EventFilter::parse(&list(&["inquiry.received"])).is_err());
        assert!(EventFilter::parse(&list(&["*", "inquiry.answered"])).is_err());
    }
}
