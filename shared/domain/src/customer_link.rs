//! The customer's way back: a signed link, sent with every notification,
//! to a page with their conversation, its status and a reply box
//! (`/c/{token}`, served by the gateway).
//!
//! The token is signed like the partner's ([`TokenKeys`], same keys and
//! rotation) but has its own scope ([`CUSTOMER_SCOPE`]), so neither kind
//! opens the other's page. Unlike the partner's it is not single-use: the
//! customer comes back. It is bound to the inquiry and its tenant and
//! valid for [`DEFAULT_CUSTOMER_LINK_VALIDITY`] unless configured
//! otherwise.
//!
//! The link goes into every customer text message, where every character
//! counts (a Korean SMS is UCS-2: 67 characters a segment). Links are
//! issued *compact*: `base64url(inquiry id (16 bytes) ‖ expiry (u32 unix
//! seconds, big-endian) ‖ 128-bit HMAC over both)`, 48 characters instead
//! of the 165 of a signed JSON token. The compact tag is over the
//! inquiry and expiry only; the tenant is the stored inquiry's (an inquiry
//! id is unique across tenants and never changes tenant). Signed JSON
//! tokens issued before ([`CustomerClaims`], with a `.`) are still opened,
//! so links already texted work for their 30 days.

use crate::classification::Language;
use crate::inquiry::{Inquiry, InquiryId};
use crate::tenant::TenantId;
use crate::token::{COMPACT_TAG_BYTES, ScopedClaims, TokenError, TokenKeys};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The scope of customer tokens.
pub const CUSTOMER_SCOPE: &str = "customer";

/// How long a customer link stays valid unless configured otherwise: 30 days.
pub const DEFAULT_CUSTOMER_LINK_VALIDITY: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Where the customer page lives: `/c/{token}`.
pub const CUSTOMER_PAGE_PREFIX: &str = "/c/";

/// What purpose a form key's tag is for (kept apart from other tags).
const FORM_KEY_PURPOSE: &[u8] = b"customer-reply-form\0";

/// What purpose a compact link's tag is for (kept apart from other tags).
const COMPACT_LINK_PURPOSE: &[u8] = b"customer-link\0";

/// Characters of a compact customer token: 36 bytes in base64url.
pub const COMPACT_CUSTOMER_TOKEN_CHARS: usize = 48;

/// What an opened customer link grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerGrant {
    /// The inquiry the customer may read and reply to.
    pub inquiry_id: InquiryId,
    /// The tenant a signed JSON token names; `None` for a compact token,
    /// whose inquiry's own tenant applies.
    pub tenant_id: Option<TenantId>,
}

impl CustomerGrant {
    /// Whether the grant opens `inquiry`: the one it names, of the tenant it names if any.
    pub fn opens(&self, inquiry: &Inquiry) -> bool {
        inquiry.id == self.inquiry_id && self.tenant_id.as_ref().is_none_or(|t| *t == inquiry.tenant_id)
    }
}

/// What a customer token grants: reading and replying to one inquiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerClaims {
    /// [`CUSTOMER_SCOPE`].
    pub scope: String,
    /// The inquiry.
    #[serde(rename = "i")]
    pub inquiry_id: InquiryId,
    /// Its tenant: the page checks the inquiry still belongs to it.
    #[serde(rename = "t")]
    pub tenant_id: TenantId,
    /// Unix seconds.
    #[serde(rename = "e")]
    pub expires_at: i64,
}

impl ScopedClaims for CustomerClaims {
    const SCOPE: &'static str = CUSTOMER_SCOPE;
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

impl CustomerClaims {
    /// Claims for `inquiry`, valid for `validity` from `now`.
    pub fn for_inquiry(inquiry: &Inquiry, validity: Duration, now: Timestamp) -> Self {
        let validity = SignedDuration::try_from(validity).unwrap_or(SignedDuration::MAX);
        let expires_at = now.checked_add(validity).unwrap_or(Timestamp::MAX).as_second();
        Self { scope: CUSTOMER_SCOPE.to_owned(), inquiry_id: inquiry.id, tenant_id: inquiry.tenant_id.clone(), expires_at }
    }
}

/// A customer notification as texted: `text`, a blank line and the
/// labelled `link`, in `language`. The label is kept short: a Korean SMS
/// is UCS-2, and every 67 characters of it are another billed segment.
pub fn with_link(text: &str, link: &str, language: Language) -> String {
    match language {
        Language::Ko => format!("{text}\n\n문의 내역·답장: {link}"),
        Language::En => format!("{text}\n\nSee or reply: {link}"),
    }
}

/// The path of the customer page for `token`.
pub fn customer_page_path(token: &str) -> String {
    format!("{CUSTOMER_PAGE_PREFIX}{token}")
}

/// Issues and opens customer links (the notifier issues, the gateway opens).
#[derive(Debug, Clone)]
pub struct CustomerLinks {
    keys: TokenKeys,
    base_url: String,
    validity: Duration,
}

impl CustomerLinks {
    /// Links under `base_url` (the public URL partner links use), signed
    /// with `keys`, valid for `validity`.
    pub fn new(keys: TokenKeys, base_url: &str, validity: Duration) -> Self {
        Self { keys, base_url: base_url.trim_end_matches('/').to_owned(), validity }
    }

    /// A compact token for `inquiry`'s page, valid from `now` (see the module's doc).
    pub fn token(&self, inquiry: &Inquiry, now: Timestamp) -> String {
        let claims = CustomerClaims::for_inquiry(inquiry, self.validity, now);
        // u32 seconds reach 2106; a validity past that is cut there.
        let expires = u32::try_from(claims.expires_at.max(0)).unwrap_or(u32::MAX);
        let body = compact_body(inquiry.id, expires);
        let tag = self.keys.compact_tag(&[COMPACT_LINK_PURPOSE, body.as_slice()].concat());
        URL_SAFE_NO_PAD.encode([body.as_slice(), tag.as_slice()].concat())
    }

    /// The whole link to `inquiry`'s page, as the customer receives it.
    pub fn link(&self, inquiry: &Inquiry, now: Timestamp) -> String {
        format!("{}{}", self.base_url, customer_page_path(&self.token(inquiry, now)))
    }

    /// What a customer token grants: refused if forged, of another scope
    /// (a partner's link) or expired. Takes compact tokens and the signed
    /// JSON ones issued before them.
    pub fn open(&self, token: &str, now: Timestamp) -> Result<CustomerGrant, TokenError> {
        if token.contains('.') {
            let claims = self.keys.verify_as::<CustomerClaims>(token, now)?;
            return Ok(CustomerGrant { inquiry_id: claims.inquiry_id, tenant_id: Some(claims.tenant_id) });
        }
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| TokenError::Malformed)?;
        if raw.len() != COMPACT_BODY_BYTES + COMPACT_TAG_BYTES {
            return Err(TokenError::Malformed);
        }
        let (body, tag) = raw.split_at(COMPACT_BODY_BYTES);
        if !self.keys.check_compact_tag(&[COMPACT_LINK_PURPOSE, body].concat(), tag) {
            return Err(TokenError::BadSignature);
        }
        let (id, expires) = body.split_at(16);
        let id: [u8; 16] = id.try_into().map_err(|_| TokenError::Malformed)?;
        let expires: [u8; 4] = expires.try_into().map_err(|_| TokenError::Malformed)?;
        if now.as_second() >= i64::from(u32::from_be_bytes(expires)) {
            return Err(TokenError::Expired);
        }
        Ok(CustomerGrant { inquiry_id: InquiryId::from_uuid(uuid::Uuid::from_bytes(id)), tenant_id: None })
    }

    /// A fresh key for one rendering of the reply form of `token`'s page:
    /// a random nonce and its tag over the token. Posted back, it proves
    /// the form came from this page for this link, and it is the reply's
    /// idempotency key, so a double submit stores one message.
    pub fn form_key(&self, token: &str) -> String {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let tag = self.keys.tag(&form_data(token, &nonce));
        format!("{nonce}.{tag}")
    }

    /// Whether `form_key` was made by [`Self::form_key`] for `token`.
    pub fn check_form_key(&self, token: &str, form_key: &str) -> bool {
        match form_key.split_once('.') {
            Some((nonce, tag)) if !nonce.is_empty() => self.keys.check_tag(&form_data(token, nonce), tag),
            _ => false,
        }
    }
}

/// Bytes of a compact token before its tag: the inquiry id and the expiry.
const COMPACT_BODY_BYTES: usize = 16 + 4;

fn compact_body(inquiry: InquiryId, expires: u32) -> [u8; COMPACT_BODY_BYTES] {
    let mut body = [0; COMPACT_BODY_BYTES];
    body[..16].copy_from_slice(inquiry.as_uuid().as_bytes());
    body[16..].copy_from_slice(&expires.to_be_bytes());
    body
}

fn form_data(token: &str, nonce: &str) -> Vec<u8> {
    [FORM_KEY_PURPOSE, token.as_bytes(), b"\0", nonce.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::InquiryBuilder;
    use crate::token::{CONFIRM_SCOPE, TokenClaims};

    fn keys(seed: u8) -> TokenKeys {
        TokenKeys::new(vec![vec![seed; 32]]).unwrap()
    }

    fn links(seed: u8) -> CustomerLinks {
        CustomerLinks::new(keys(seed), "https://sb.example/", DEFAULT_CUSTOMER_LINK_VALIDITY)
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn a_customer_link_opens_its_inquiry_until_it_expires_and_can_be_opened_again() {
        let inquiry = InquiryBuilder::new().build();
        let token = links(1).token(&inquiry, at(0));
        let grant = links(1).open(&token, at(1)).unwrap();
        assert_eq!(grant, CustomerGrant { inquiry_id: inquiry.id, tenant_id: None });
        assert!(grant.opens(&inquiry));
        assert!(links(1).open(&token, at(2)).is_ok(), "not single-use");
        let thirty_days = DEFAULT_CUSTOMER_LINK_VALIDITY.as_secs() as i64;
        assert!(links(1).open(&token, at(thirty_days - 1)).is_ok());
        assert_eq!(links(1).open(&token, at(thirty_days)), Err(TokenError::Expired));
        assert_eq!(links(2).open(&token, at(1)), Err(TokenError::BadSignature));
    }

    #[test]
    fn the_link_follows_the_text_under_a_short_label() {
        assert_eq!(with_link("답변입니다.", "https://s.example/c/t", Language::Ko), "답변입니다.\n\n문의 내역·답장: https://s.example/c/t");
        assert_eq!(with_link("Hi.", "https://s.example/c/t", Language::En), "Hi.\n\nSee or reply: https://s.example/c/t");
        for language in [Language::Ko, Language::En] {
            let added = with_link("", "", language).chars().count();
            assert!(added <= 16, "{added} characters of label");
        }
    }

    #[test]
    fn a_link_is_the_base_url_and_the_token_path() {
        let inquiry = InquiryBuilder::new().build();
        let link = links(1).link(&inquiry, at(0));
        assert_eq!(link, format!("https://sb.example/c/{}", links(1).token(&inquiry, at(0))));
    }

    #[test]
    fn a_partner_token_never_opens_the_customer_page_nor_a_customer_token_the_partners() {
        let inquiry = InquiryBuilder::new().build();
        let partner =
            TokenClaims { inquiry_id: inquiry.id.to_string(), partner_id: "p".into(), expires_at: i64::MAX, scope: CONFIRM_SCOPE.into() };
        assert_eq!(links(1).open(&keys(1).sign(&partner), at(0)), Err(TokenError::WrongScope));
        let customer = keys(1).sign(&CustomerClaims::for_inquiry(&inquiry, DEFAULT_CUSTOMER_LINK_VALIDITY, at(0)));
        assert_eq!(keys(1).verify(&customer, at(0)), Err(TokenError::WrongScope));
        assert!(keys(1).verify(&links(1).token(&inquiry, at(0)), at(0)).is_err(), "nor a compact customer token");
        let partner_id = keys(1).link_id(&partner);
        assert!(links(1).open(&partner_id, at(0)).is_err(), "nor a partner's link id the customer page");
    }

    #[test]
    fn a_form_key_belongs_to_its_link_and_each_rendering_has_its_own() {
        let (a, b) = ("token-a", "token-b");
        let key = links(1).form_key(a);
        assert!(links(1).check_form_key(a, &key));
        assert!(!links(1).check_form_key(b, &key), "another link's form");
        assert!(!links(2).check_form_key(a, &key), "another key set");
        assert_ne!(links(1).form_key(a), key);
        for forged in ["", ".", "nonce.", ".tag", "nonce-only"] {
            assert!(!links(1).check_form_key(a, forged), "{forged:?}");
        }
    }

    #[test]
    fn the_link_is_48_url_safe_characters() {
        let inquiry = InquiryBuilder::new().build();
        let token = links(1).token(&inquiry, at(0));
        assert_eq!(token.len(), COMPACT_CUSTOMER_TOKEN_CHARS, "{token}");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert_eq!(links(1).token(&inquiry, at(0)), token, "a redelivery texts the same link");
    }

    #[test]
    fn a_signed_json_token_issued_before_compact_links_still_opens_for_its_tenant_only() {
        let inquiry = InquiryBuilder::new().build();
        let old = keys(1).sign(&CustomerClaims::for_inquiry(&inquiry, DEFAULT_CUSTOMER_LINK_VALIDITY, at(0)));
        let grant = links(1).open(&old, at(1)).unwrap();
        assert_eq!(grant, CustomerGrant { inquiry_id: inquiry.id, tenant_id: Some(inquiry.tenant_id.clone()) });
        assert!(grant.opens(&inquiry));
        let elsewhere = InquiryBuilder::new().tenant(TenantId::parse("other").unwrap()).build();
        assert!(!grant.opens(&elsewhere), "another tenant's inquiry of the same id");
        assert_eq!(links(1).open(&old, at(DEFAULT_CUSTOMER_LINK_VALIDITY.as_secs() as i64)), Err(TokenError::Expired));
    }

    #[test]
    fn a_compact_token_with_any_byte_changed_or_cut_is_refused() {
        let inquiry = InquiryBuilder::new().build();
        let raw = URL_SAFE_NO_PAD.decode(links(1).token(&inquiry, at(0))).unwrap();
        for i in 0..raw.len() {
            let mut forged = raw.clone();
            forged[i] ^= 0x01;
            assert_eq!(links(1).open(&URL_SAFE_NO_PAD.encode(&forged), at(1)), Err(TokenError::BadSignature), "byte {i}");
        }
        assert_eq!(links(1).open(&URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 1]), at(1)), Err(TokenError::Malformed));
        assert_eq!(links(1).open("not base64!", at(1)), Err(TokenError::Malformed));
        let rotated = CustomerLinks::new(
            TokenKeys::new(vec![vec![2; 32], vec![1; 32]]).unwrap(),
            "https://sb.example",
            DEFAULT_CUSTOMER_LINK_VALIDITY,
        );
        assert!(rotated.open(&URL_SAFE_NO_PAD.encode(&raw), at(1)).is_ok(), "after a key rotation");
    }

    proptest::proptest! {
        #[test]
        fn opening_arbitrary_text_never_panics_and_never_succeeds(text in "[A-Za-z0-9_.-]{0,80}") {
            proptest::prop_assert!(links(1).open(&text, at(0)).is_err());
        }
    }
}
