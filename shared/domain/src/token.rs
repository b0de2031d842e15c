//! Signed link tokens: the partner's single-use confirmation link, and
//! (with claims of their own, `customer_link.rs`) the customer's link back
//! to their conversation. One key set signs both; the scope in the payload
//! keeps one kind from ever opening the other's page.
//!
//! Format: `base64url(payload JSON) "." base64url(HMAC-SHA256(payload))`.
//! Single use is not a property of the token: for partner links the store
//! enforces it with a conditional update on the token record, kept under
//! [`token_hash`].
//!
//! The partner's link no longer carries the token itself (about 230
//! characters, five segments of a Korean SMS) but a *link id*
//! ([`TokenKeys::link_id`]): 128 bits of an HMAC over the same claims,
//! 22 base64url characters. The server keeps the token record under the
//! id's [`token_hash`], so the id is an opaque reference to it: single
//! use, expiry and the deadline stay on the record as before. It is
//! derived, not drawn at random, so a retried text sends the same link
//! without the id ever being stored (as [`TokenKeys::reissue`] does for
//! tokens), and a copy of the database (hashes only) opens nothing.
//! Signed tokens are still verified, so links texted before the change
//! work until they expire.

use crate::tenant::hex;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The scope of the partner's confirmation tokens.
pub const CONFIRM_SCOPE: &str = "confirm";

/// Claims a token can carry: each kind has its own scope, checked before
/// the rest of the payload is read.
pub trait ScopedClaims: Serialize + DeserializeOwned {
    /// The scope this kind of claims is issued and accepted for.
    const SCOPE: &'static str;
    /// Unix seconds after which the token is refused.
    fn expires_at(&self) -> i64;
}

impl ScopedClaims for TokenClaims {
    const SCOPE: &'static str = CONFIRM_SCOPE;
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

/// Characters of a partner link id: 128 bits in base64url, unpadded.
pub const LINK_ID_CHARS: usize = 22;

/// What a link id's HMAC is for: kept apart from tokens and other tags
/// (a token's payload is a JSON object, never this prefix).
const LINK_ID_PURPOSE: &[u8] = b"partner-link-id\0";

/// Whether `text` has the shape of a link id (22 base64url characters);
/// a signed token always has a `.`, so the two never mix.
pub fn is_link_id(text: &str) -> bool {
    text.len() == LINK_ID_CHARS && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What every payload has: its scope, read first, so a genuine token of
/// another kind is refused as such (not as a malformed one).
#[derive(Deserialize)]
struct Envelope {
    scope: String,
}

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The inquiry the partner may answer.
    pub inquiry_id: String,
    /// The partner the link was sent to.
    pub partner_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// What the token allows: [`CONFIRM_SCOPE`].
    pub scope: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all.
    #[error("the link is malformed")]
    Malformed,
    /// Signed with none of the keys.
    #[error("the link's signature is not valid")]
    BadSignature,
    /// Past its expiry.
    #[error("the link has expired")]
    Expired,
    /// Issued for another action.
    #[error("the link is not valid for this action")]
    WrongScope,
}

/// HMAC keys, newest first: sign with the newest, accept any (key rotation).
#[derive(Clone)]
pub struct TokenKeys {
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys never reach logs.
        write!(f, "TokenKeys({} keys)", self.keys.len())
    }
}

/// Why a key set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at least one key of at least 32 bytes is required")]
pub struct WeakKeys;

impl TokenKeys {
    /// A key set; refuses an empty set and keys shorter than 32 bytes.
    pub fn new(keys: Vec<Vec<u8>>) -> Result<Self, WeakKeys> {
        if keys.is_empty() || keys.iter().any(|k| k.len() < 32) {
            return Err(WeakKeys);
        }
        Ok(Self { keys })
    }

    /// A token for `claims`, signed with the newest key.
    pub fn sign<C: ScopedClaims>(&self, claims: &C) -> String {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        token_of(&payload, &self.keys[0])
    }

    /// The token issued for `claims` whose hash is `hash`, signed by
    /// whichever of the keys signed it: a link issued before a key
    /// rotation is sent again as it was. `None` if no key gives that hash.
    pub fn reissue(&self, claims: &TokenClaims, hash: &str) -> Option<String> {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        self.keys.iter().map(|key| token_of(&payload, key)).find(|token| token_hash(token) == hash)
    }

    /// The partner link id for `claims`, derived with the newest key (see the module's doc).
    pub fn link_id(&self, claims: &TokenClaims) -> String {
        link_id_of(claims, &self.keys[0])
    }

    /// The link id issued for `claims` whose hash is `hash`, derived with
    /// whichever of the keys derived it (a link issued before a key
    /// rotation is sent again as it was). `None` if no key gives that hash:
    /// the record may be of a signed token ([`Self::reissue`]).
    pub fn reissue_link_id(&self, claims: &TokenClaims, hash: &str) -> Option<String> {
        self.keys.iter().map(|key| link_id_of(claims, key)).find(|id| token_hash(id) == hash)
    }

    /// Checks a partner token's signature (in constant time), scope and expiry.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<TokenClaims, TokenError> {
        self.verify_as::<TokenClaims>(token, now)
    }

    /// Checks signature (in constant time), scope ([`ScopedClaims::SCOPE`]) and expiry.
    pub fn verify_as<C: ScopedClaims>(&self, token: &str, now: Timestamp) -> Result<C, TokenError> {
        let (payload_b64, signature_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| TokenError::Malformed)?;
        let genuine = self.keys.iter().any(|key| mac(key, &payload).verify_slice(&signature).is_ok());
        if !genuine {
            return Err(TokenError::BadSignature);
        }
        let envelope: Envelope = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if envelope.scope != C::SCOPE {
            return Err(TokenError::WrongScope);
        }
        let claims: C = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if now.as_second() >= claims.expires_at() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// A tag over `data` with the newest key (base64url): binds a value the
    /// server handed out (a form's key) to what it was handed out for.
    /// Callers prefix `data` with their purpose, so no tag is ever a
    /// token's signature (payloads are JSON objects).
    pub fn tag(&self, data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.keys[0], data).finalize().into_bytes())
    }

    /// Whether `tag` is [`Self::tag`] of `data` under any of the keys (in constant time).
    pub fn check_tag(&self, data: &[u8], tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else { return false };
        self.keys.iter().any(|key| mac(key, data).verify_slice(&tag).is_ok())
    }
}

/// Bytes of a compact tag ([`TokenKeys::compact_tag`]): 128 bits.
pub(crate) const COMPACT_TAG_BYTES: usize = 16;

impl TokenKeys {
    /// The first 128 bits of the newest key's HMAC over `data`: the tag of
    /// a compact link, where every character counts. `data` starts with
    /// its purpose, as for [`Self::tag`].
    pub(crate) fn compact_tag(&self, data: &[u8]) -> [u8; COMPACT_TAG_BYTES] {
        let full = mac(&self.keys[0], data).finalize().into_bytes();
        let mut tag = [0; COMPACT_TAG_BYTES];
        tag.copy_from_slice(&full[..COMPACT_TAG_BYTES]);
        tag
    }

    /// Whether `tag` is [`Self::compact_tag`] of `data` under any of the keys (in constant time).
    pub(crate) fn check_compact_tag(&self, data: &[u8], tag: &[u8]) -> bool {
        tag.len() == COMPACT_TAG_BYTES && self.keys.iter().any(|key| mac(key, data).verify_truncated_left(tag).is_ok())
    }
}

fn token_of(payload: &[u8], key: &[u8]) -> String {
    let signature = mac(key, payload).finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(signature))
}

fn link_id_of(claims: &TokenClaims, key: &[u8]) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let tag = mac(key, &[LINK_ID_PURPOSE, payload.as_slice()].concat()).finalize().into_bytes();
    URL_SAFE_NO_PAD.encode(&tag[..16])
}

fn mac(key: &[u8], payload: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(payload);
    mac
}

/// The key a token's record is stored under: the raw token never is.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u8) -> TokenKeys {
        TokenKeys::new(vec![vec![seed; 32]]).unwrap()
    }

    fn claims(expires_at: i64) -> TokenClaims {
        TokenClaims { inquiry_id: "i".into(), partner_id: "p".into(), expires_at, scope: CONFIRM_SCOPE.into() }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let token = keys(1).sign(&claims(1000));
        assert_eq!(keys(1).verify(&token, at(999)).unwrap(), claims(1000));
        assert_eq!(keys(1).verify(&token, at(1000)), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_signed_with_another_key_is_rejected() {
        let token = keys(1).sign(&claims(1000));
        assert_eq!(keys(2).verify(&token, at(0)), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_tampered_payload_is_rejected() {
        let token = keys(1).sign(&claims(1000));
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9999)).unwrap()));
        assert_eq!(keys(1).verify(&forged, at(0)), Err(TokenError::BadSignature));
        assert_eq!(keys(1).verify("garbage", at(0)), Err(TokenError::Malformed));
    }

    #[test]
    fn rotated_keys_still_verify_old_tokens_and_sign_with_the_newest() {
        let old = keys(1).sign(&claims(1000));
        let rotated = TokenKeys::new(vec![vec![2; 32], vec![1; 32]]).unwrap();
        assert!(rotated.verify(&old, at(0)).is_ok());
        assert!(keys(2).verify(&rotated.sign(&claims(1000)), at(0)).is_ok());
    }

    #[test]
    fn a_tampered_signature_is_rejected() {
        let token = keys(1).sign(&claims(1000));
        let (payload, sig) = token.split_once('.').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        raw[0] ^= 0x01;
        let forged = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&raw));
        assert_eq!(keys(1).verify(&forged, at(0)), Err(TokenError::BadSignature));
        // A truncated signature is no shortcut either.
        let short = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&raw[..16]));
        assert_eq!(keys(1).verify(&short, at(0)), Err(TokenError::BadSignature));
        assert_eq!(keys(1).verify(&format!("{payload}."), at(0)), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_link_is_reissued_with_the_key_that_signed_it_even_after_a_rotation() {
        let old = keys(1).sign(&claims(1000));
        let rotated = TokenKeys::new(vec![vec![2; 32], vec![1; 32]]).unwrap();
        assert_eq!(rotated.reissue(&claims(1000), &token_hash(&old)), Some(old.clone()));
        assert_eq!(keys(2).reissue(&claims(1000), &token_hash(&old)), None, "the signing key is gone");
        assert_eq!(rotated.reissue(&claims(999), &token_hash(&old)), None, "other claims");
    }

    #[test]
    fn a_link_id_is_22_url_safe_characters_bound_to_its_claims_and_key() {
        let id = keys(1).link_id(&claims(1000));
        assert_eq!(id.len(), LINK_ID_CHARS);
        assert!(is_link_id(&id), "{id}");
        assert_eq!(keys(1).link_id(&claims(1000)), id, "derived: a retried text sends the same link");
        assert_ne!(keys(1).link_id(&claims(1001)), id, "other claims");
        assert_ne!(keys(2).link_id(&claims(1000)), id, "another key");
        assert!(keys(1).verify(&id, at(0)).is_err(), "a link id is no signed token");
        assert!(!is_link_id(&keys(1).sign(&claims(1000))), "a signed token is no link id");
    }

    #[test]
    fn a_link_id_is_reissued_with_the_key_that_derived_it_even_after_a_rotation() {
        let old = keys(1).link_id(&claims(1000));
        let rotated = TokenKeys::new(vec![vec![2; 32], vec![1; 32]]).unwrap();
        assert_eq!(rotated.reissue_link_id(&claims(1000), &token_hash(&old)), Some(old.clone()));
        assert_eq!(keys(2).reissue_link_id(&claims(1000), &token_hash(&old)), None, "the key is gone");
        let token = keys(1).sign(&claims(1000));
        assert_eq!(keys(1).reissue_link_id(&claims(1000), &token_hash(&token)), None, "a signed token's record");
    }

    #[test]
    fn only_22_base64url_characters_look_like_a_link_id() {
        assert!(is_link_id("AAAAAAAAAAAAAAAAAAAA-_"));
        for text in [
            "",
            "AAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAA.A",
            "AAAAAAAAAAAAAAAAAAAA+/",
            "가AAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!is_link_id(text), "{text:?}");
        }
    }

    #[test]
    fn a_genuine_token_of_another_scope_is_rejected() {
        let other = TokenClaims { scope: "admin".into(), ..claims(1000) };
        assert_eq!(keys(1).verify(&keys(1).sign(&other), at(0)), Err(TokenError::WrongScope));
    }

    #[test]
    fn a_tag_checks_under_any_key_and_only_for_its_data() {
        let tag = keys(1).tag(b"form\0a");
        assert!(keys(1).check_tag(b"form\0a", &tag));
        assert!(!keys(1).check_tag(b"form\0b", &tag));
        assert!(!keys(2).check_tag(b"form\0a", &tag));
        assert!(TokenKeys::new(vec![vec![2; 32], vec![1; 32]]).unwrap().check_tag(b"form\0a", &tag), "after a rotation");
        assert!(!keys(1).check_tag(b"form\0a", "not base64!"));
    }

    #[test]
    fn a_signed_payload_that_is_not_claims_is_malformed() {
        let payload = br#"{"inquiry_id":"i","scope":"confirm"}"#;
        let signature = mac(&[1; 32], payload).finalize().into_bytes();
        let token = format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(signature));
        assert_eq!(keys(1).verify(&token, at(0)), Err(TokenError::Malformed));
    }

    proptest::proptest! {
        #[test]
        fn verifying_arbitrary_text_never_panics_and_never_succeeds(text in "\\PC{0,300}") {
            proptest::prop_assert!(keys(1).verify(&text, at(0)).is_err());
        }

        #[test]
        fn verifying_arbitrary_bytes_in_token_shape_never_succeeds(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            signature in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let token = format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(&signature));
            proptest::prop_assert!(keys(1).verify(&token, at(0)).is_err());
        }

        #[test]
        fn changing_any_one_character_of_a_genuine_token_breaks_it(index in 0usize..1000, replacement in "[A-Za-z0-9_.=+/-]") {
            let token = keys(1).sign(&claims(1000));
            let index = index % token.len();
            let replacement = replacement.chars().next().unwrap();
            proptest::prop_assume!(token.as_bytes()[index] as char != replacement);
            let mut forged = token.clone().into_bytes();
            forged[index] = replacement as u8;
            let forged = String::from_utf8(forged).unwrap();
            proptest::prop_assert!(keys(1).verify(&forged, at(0)).is_err(), "{forged} verified");
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(TokenKeys::new(vec![vec![0; 31]]).unwrap_err(), WeakKeys);
        assert_eq!(TokenKeys::new(vec![]).unwrap_err(), WeakKeys);
    }
}
