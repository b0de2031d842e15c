//! Signing secrets: `whsec_` and the base64 of 24 to 64 random bytes, as
//! the Standard Webhooks specification has them. An endpoint keeps a ring:
//! the newest secret signs, and after a rotation the one before it keeps
//! signing too until its grace period ends, so a receiver can switch at
//! its own pace.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The prefix every secret has.
pub const SECRET_PREFIX: &str = "whsec_";
/// Fewest random bytes in a secret.
pub const MIN_SECRET_BYTES: usize = 24;
/// Most random bytes in a secret.
pub const MAX_SECRET_BYTES: usize = 64;
/// How many bytes a secret Switchboard makes has.
pub const GENERATED_SECRET_BYTES: usize = 32;

/// A signing secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookSecret(Vec<u8>);

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be whsec_ and the base64 of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")]
pub struct InvalidSecret;

impl WebhookSecret {
    /// Parses `whsec_…`.
    pub fn parse(s: &str) -> Result<Self, InvalidSecret> {
        let encoded = s.trim().strip_prefix(SECRET_PREFIX).ok_or(InvalidSecret)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| InvalidSecret)?;
        Self::from_bytes(&bytes)
    }

    /// A secret of these (random) bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidSecret> {
        if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) { Ok(Self(bytes.to_vec())) } else { Err(InvalidSecret) }
    }

    /// The HMAC key: the decoded bytes.
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_…`, shown to the tenant once.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }
}

/// Never printed: logs and debug output show only that it is a secret.
impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = InvalidSecret;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WebhookSecret> for String {
    fn from(value: WebhookSecret) -> Self {
        value.expose()
    }
}

/// A secret and when it stops signing (`None`: the current one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSecret {
    /// The secret.
    pub secret: WebhookSecret,
    /// When it stops signing; `None` while it is the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// An endpoint's secrets, newest first: one, or two during a rotation's grace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretRing(Vec<LiveSecret>);

impl SecretRing {
    /// A ring of one secret.
    pub fn new(secret: WebhookSecret) -> Self {
        Self(vec![LiveSecret { secret, expires_at: None }])
    }

    /// The secrets that sign at `now`, newest first.
    pub fn live(&self, now: Timestamp) -> Vec<&WebhookSecret> {
        self.0.iter().filter(|s| s.expires_at.is_none_or(|e| e > now)).map(|s| &s.secret).collect()
    }

    /// Every secret kept, with its expiry.
    pub fn entries(&self) -> &[LiveSecret] {
        &self.0
    }

    /// Makes `next` the signing secret; the current one signs too for
    /// `grace` more (none: it stops at once). Secrets already expired are
    /// dropped, so at most two are ever live.
    pub fn rotate(&mut self, next: WebhookSecret, now: Timestamp, grace: Duration) {
        let until = jiff::SignedDuration::try_from(grace).ok().and_then(|g| now.checked_add(g).ok()).unwrap_or(now);
        let mut kept = vec![LiveSecret { secret: next, expires_at: None }];
        if let Some(current) = self.0.iter().find(|s| s.expires_at.is_none()) {
            kept.push(LiveSecret { secret: current.secret.clone(), expires_at: Some(until) });
        }
        self.0 = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn a_secret_is_whsec_and_base64_of_24_to_64_bytes() {
        let secret = WebhookSecret::from_bytes(&[7; 32]).unwrap();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&secret.expose()).unwrap(), secret);
        assert!(WebhookSecret::from_bytes(&[7; 23]).is_err());
        assert!(WebhookSecret::from_bytes(&[7; 65]).is_err());
        assert!(WebhookSecret::parse("whsec_not base64").is_err());
        assert!(WebhookSecret::parse(&STANDARD.encode([7; 32])).is_err(), "the prefix is required");
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
    }

    #[test]
    fn after_a_rotation_both_secrets_sign_until_the_old_one_expires() {
        let (old, new, newer) = (
            WebhookSecret::from_bytes(&[1; 32]).unwrap(),
            WebhookSecret::from_bytes(&[2; 32]).unwrap(),
            WebhookSecret::from_bytes(&[3; 32]).unwrap(),
        );
        let mut ring = SecretRing::new(old.clone());
        ring.rotate(new.clone(), at(100), Duration::from_secs(50));
        assert_eq!(ring.live(at(120)), [&new, &old]);
        assert_eq!(ring.live(at(150)), [&new]);
        ring.rotate(newer.clone(), at(200), Duration::from_secs(50));
        assert_eq!(ring.live(at(201)), [&newer, &new], "never more than two");
    }
}
