//! The customer's way back: a signed link, sent with every notification,
//! to a page with their conversation, its status and a reply box
//! (`/c/{token}`, served by the gateway).
//!
//! The token is signed like the partner's ([`TokenKeys`], same keys and
//! rotation) but has its own scope ([`CUSTOMER_SCOPE`]), so neither kind
//! opens the other's page. Unlike the partner's it is not single-use: the
//! customer comes back. It is bound to the inquiry and its tenant and
//! valid for [`DEFAULT_CUSTOMER_LINK_VALIDITY`] unless configured
//! otherwise. Its claims have one-letter names: the link goes into text
//! messages, where every character counts.

use crate::inquiry::{Inquiry, InquiryId};
use crate::tenant::TenantId;
use crate::token::{ScopedClaims, TokenError, TokenKeys};
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

    /// A token for `inquiry`'s page, valid from `now`.
    pub fn token(&self, inquiry: &Inquiry, now: Timestamp) -> String {
        self.keys.sign(&CustomerClaims::for_inquiry(inquiry, self.validity, now))
    }

    /// The whole link to `inquiry`'s page, as the customer receives it.
    pub fn link(&self, inquiry: &Inquiry, now: Timestamp) -> String {
        format!("{}{}", self.base_url, customer_page_path(&self.token(inquiry, now)))
    }

    /// The claims of a customer token: refused if forged, of another scope
    /// (a partner's link) or expired.
    pub fn open(&self, token: &str, now: Timestamp) -> Result<CustomerClaims, TokenError> {
        self.keys.verify_as::<CustomerClaims>(token, now)
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
        let claims = links(1).open(&token, at(1)).unwrap();
        assert_eq!((claims.inquiry_id, &claims.tenant_id), (inquiry.id, &inquiry.tenant_id));
        assert!(links(1).open(&token, at(2)).is_ok(), "not single-use");
        let thirty_days = DEFAULT_CUSTOMER_LINK_VALIDITY.as_secs() as i64;
        assert!(links(1).open(&token, at(thirty_days - 1)).is_ok());
        assert_eq!(links(1).open(&token, at(thirty_days)), Err(TokenError::Expired));
        assert_eq!(links(2).open(&token, at(1)), Err(TokenError::BadSignature));
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
        let customer = links(1).token(&inquiry, at(0));
        assert_eq!(keys(1).verify(&customer, at(0)), Err(TokenError::WrongScope));
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
    fn the_link_stays_short_enough_for_a_text_message() {
        let inquiry = InquiryBuilder::new().build();
        let path = customer_page_path(&links(1).token(&inquiry, at(0)));
        // The token is most of an SMS segment: keep it from growing unnoticed.
        assert!(path.len() <= 170, "{} characters: {path}", path.len());
    }
}
