//! A tenant's webhook endpoint: where its events go, which ones, the
//! secrets that sign them, and whether it is enabled (a tenant may
//! disable it; so does the notifier after too many failed messages).

use super::events::EventFilter;
use super::secret::SecretRing;
use super::url::WebhookUrl;
use crate::field_error::{FieldError, ValidationErrors};
use crate::tenant::TenantId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An endpoint's id: `wh-` and 16 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookEndpointId(String);

/// Why an endpoint id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must look like wh-0123456789abcdef ('wh-' and 16 lowercase hex digits)")]
pub struct InvalidEndpointId;

impl WebhookEndpointId {
    const PREFIX: &'static str = "wh-";
    const HEX_DIGITS: usize = 16;

    /// Parses an id in canonical form.
    pub fn parse(s: &str) -> Result<Self, InvalidEndpointId> {
        let hex = s.strip_prefix(Self::PREFIX).ok_or(InvalidEndpointId)?;
        let ok = hex.len() == Self::HEX_DIGITS && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidEndpointId) }
    }

    /// A fresh random id.
    pub fn generate() -> Self {
        let hex = crate::tenant::hex(uuid::Uuid::new_v4().as_bytes());
        Self(format!("{}{}", Self::PREFIX, &hex[..Self::HEX_DIGITS]))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WebhookEndpointId {
    type Error = InvalidEndpointId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WebhookEndpointId> for String {
    fn from(value: WebhookEndpointId) -> Self {
        value.0
    }
}

impl fmt::Display for WebhookEndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why and when an endpoint was disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disabled {
    /// Why (the tenant's choice, or the failures that disabled it).
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// The id.
    pub id: WebhookEndpointId,
    /// Whose.
    pub tenant_id: TenantId,
    /// Where messages are posted.
    pub url: WebhookUrl,
    /// Which events it receives.
    pub events: EventFilter,
    /// The tenant's note of what it is.
    #[serde(default)]
    pub description: String,
    /// The signing secrets.
    pub secrets: SecretRing,
    /// Set while disabled: nothing is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Disabled>,
    /// Messages in a row that failed every attempt (0 after a success).
    #[serde(default)]
    pub consecutive_failures: u32,
    /// When it was registered.
    pub created_at: Timestamp,
    /// Bumped by every conditional update.
    #[serde(default)]
    pub version: u64,
}

impl WebhookEndpoint {
    /// Whether messages are delivered to it.
    pub fn enabled(&self) -> bool {
        self.disabled.is_none()
    }
}

/// A tenant's request to register or change an endpoint: fields left out
/// stay as they are (a new endpoint needs `url`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `https://…` (or `http://` where the deployment allows it).
    pub url: Option<String>,
    /// Event types, or `["*"]` for all.
    pub events: Option<Vec<String>>,
    /// A note (at most 200 characters).
    pub description: Option<String>,
    /// `false` disables the endpoint; `true` enables it again (and forgets its failures).
    pub enabled: Option<bool>,
}

/// A checked [`WebhookInput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookChange {
    /// The new URL.
    pub url: Option<WebhookUrl>,
    /// The new filter.
    pub events: Option<EventFilter>,
    /// The new description.
    pub description: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

impl WebhookInput {
    /// Checks every field given, naming each one at fault; `url` is
    /// required when `new`.
    pub fn parse(&self, new: bool, allow_http: bool) -> Result<WebhookChange, ValidationErrors> {
        let mut errors = Vec::new();
        let url = match &self.url {
            Some(url) => WebhookUrl::parse(url, allow_http).map_err(|e| errors.push(FieldError::new("url", e.to_string()))).ok(),
            None if new => {
                errors.push(FieldError::new("url", "is required"));
                None
            }
            None => None,
        };
        let events = self
            .events
            .as_ref()
            .and_then(|e| EventFilter::parse(e).map_err(|e| errors.push(FieldError::new("events", e.to_string()))).ok());
        let description = self.description.as_ref().map(|d| d.trim().to_owned());
        if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            errors.push(FieldError::new("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters")));
        }
        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        Ok(WebhookChange { url, events, description, enabled: self.enabled })
    }
}

impl WebhookChange {
    /// Applies the change to `endpoint` at `now`.
    pub fn apply(&self, endpoint: &mut WebhookEndpoint, now: Timestamp) {
        if let Some(url) = &self.url {
            endpoint.url = url.clone();
        }
        if let Some(events) = &self.events {
            endpoint.events = events.clone();
        }
        if let Some(description) = &self.description {
            endpoint.description = description.clone();
        }
        match self.enabled {
            Some(true) => {
                endpoint.disabled = None;
                endpoint.consecutive_failures = 0;
            }
            Some(false) if endpoint.enabled() => endpoint.disabled = Some(Disabled { reason: "disabled by the tenant".into(), at: now }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_wh_and_16_hex_digits() {
        let id = WebhookEndpointId::generate();
        assert_eq!(WebhookEndpointId::parse(id.as_str()), Ok(id));
        assert!(WebhookEndpointId::parse("wh-0123").is_err());
        assert!(WebhookEndpointId::parse("faq-0123456789abcdef").is_err());
    }

    #[test]
    fn a_new_endpoint_needs_a_url_and_every_bad_field_is_named() {
        let errors = WebhookInput { events: Some(vec!["nope".into()]), ..Default::default() }.parse(true, false).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events"]);
        let change = WebhookInput { url: Some("https://example.com/h".into()), ..Default::default() }.parse(true, false).unwrap();
        assert_eq!(change.url.unwrap().as_str(), "https://example.com/h");
        assert!(WebhookInput::default().parse(false, false).is_ok(), "a change may leave everything as it is");
    }
}
