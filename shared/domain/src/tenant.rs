//! Tenants: the businesses whose customers send inquiries.

use crate::faq::{FaqEntry, FaqEntryId};
use crate::sla::SlaPolicy;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A tenant's identifier: lowercase letters, digits and `-`, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

/// Why a tenant id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1–64 characters of a-z, 0-9 and '-'")]
pub struct InvalidTenantId;

impl TenantId {
    /// Parses an id, which must already be in canonical form.
    pub fn parse(s: &str) -> Result<Self, InvalidTenantId> {
        let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidTenantId) }
    }

    /// A tenant id this crate spells itself (fixtures), known to be valid.
    pub(crate) fn from_valid(s: &str) -> Self {
        debug_assert!(Self::parse(s).is_ok(), "{s} is not a valid tenant id");
        Self(s.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidTenantId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A business using Switchboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// The id.
    pub id: TenantId,
    /// The display name.
    pub name: String,
    /// SHA-256 of the API key, hex. The key itself is shown once and never stored.
    pub api_key_hash: String,
    /// What the business is and how it talks to customers; grounds AI answers.
    #[serde(default)]
    pub domain_context: String,
    /// The tenant's FAQ, which grounds answers.
    #[serde(default)]
    pub faq: Vec<FaqEntry>,
    /// The service tier, e.g. `standard`.
    #[serde(default = "default_tier")]
    pub tier: String,
    /// Bumped by every conditional update (FAQ edits); 0 for a tenant
    /// stored before versions existed.
    #[serde(default)]
    pub version: u64,
    /// Days an answered inquiry waits for the customer's reply before it
    /// closes itself; `None`: the deployment's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close_days: Option<u32>,
    /// Where the tenant is told about its account (a webhook endpoint
    /// disabled after failures); `None`: nobody is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<crate::EmailAddress>,
    /// The first-response SLA of its escalated inquiries; `None`: the
    /// default ([`SlaPolicy::default`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaPolicy>,
}

/// The longest wait a tenant may set before an answered inquiry closes itself.
pub const MAX_AUTO_CLOSE_DAYS: u32 = 365;

impl Tenant {
    /// Sets how many days an answered inquiry waits for the customer before
    /// it closes itself (`None`: the deployment's default); 1 to
    /// [`MAX_AUTO_CLOSE_DAYS`].
    pub fn set_auto_close_days(&mut self, days: Option<u32>) -> Result<(), crate::FieldError> {
        if let Some(d) = days
            && !(1..=MAX_AUTO_CLOSE_DAYS).contains(&d)
        {
            return Err(crate::FieldError::new("auto_close_days", format!("must be 1 to {MAX_AUTO_CLOSE_DAYS} days")));
        }
        self.auto_close_days = days;
        Ok(())
    }

    /// The first-response SLA its escalated inquiries are held to: its
    /// own, else the default.
    pub fn sla_policy(&self) -> SlaPolicy {
        self.sla.clone().unwrap_or_default()
    }

    /// The FAQ entry with this id.
    pub fn faq_entry(&self, id: &FaqEntryId) -> Option<&FaqEntry> {
        self.faq.iter().find(|e| &e.id == id)
    }

    /// The FAQ entry with this id, to edit.
    pub fn faq_entry_mut(&mut self, id: &FaqEntryId) -> Option<&mut FaqEntry> {
        self.faq.iter_mut().find(|e| &e.id == id)
    }
}

fn default_tier() -> String {
    "standard".to_owned()
}

/// Hash under which an API key is stored and looked up. API keys are long
/// random strings, so an unsalted SHA-256 is enough (no dictionary to guess from).
pub fn hash_api_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_slugs() {
        assert!(TenantId::parse("demo-hotel-1").is_ok());
        for bad in ["", "Demo", "a b", "x/y", &"a".repeat(65)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn api_keys_hash_to_stable_hex() {
        assert_eq!(hash_api_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
