//! A webhook's target URL: `https`, or `http` where the deployment allows
//! it (local receivers, tests); a host, no credentials, no fragment.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest URL accepted.
pub const MAX_URL_LENGTH: usize = 2000;

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookUrl(::url::Url);

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    /// Not an absolute URL.
    #[error("is not an absolute URL")]
    Malformed,
    /// Longer than [`MAX_URL_LENGTH`].
    #[error("is longer than {MAX_URL_LENGTH} characters")]
    TooLong,
    /// A scheme other than https (or http where allowed).
    #[error("must use https")]
    Scheme,
    /// `user:password@` in the URL: secrets belong in the signing secret.
    #[error("must not carry credentials")]
    Credentials,
    /// A `#fragment`, which is never sent.
    #[error("must not have a fragment")]
    Fragment,
}

impl WebhookUrl {
    /// Parses `input`; `http` only when `allow_http`.
    pub fn parse(input: &str, allow_http: bool) -> Result<Self, InvalidUrl> {
        let input = input.trim();
        if input.len() > MAX_URL_LENGTH {
            return Err(InvalidUrl::TooLong);
        }
        let url = ::url::Url::parse(input).map_err(|_| InvalidUrl::Malformed)?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            _ => return Err(InvalidUrl::Scheme),
        }
        if url.host().is_none() {
            return Err(InvalidUrl::Malformed);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidUrl::Credentials);
        }
        if url.fragment().is_some() {
            return Err(InvalidUrl::Fragment);
        }
        Ok(Self(url))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL's parts (host, port, path), for the client.
    pub fn url(&self) -> &::url::Url {
        &self.0
    }
}

impl TryFrom<String> for WebhookUrl {
    type Error = InvalidUrl;
    /// Stored URLs were checked when registered (http included, where allowed then).
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value, true)
    }
}

impl From<WebhookUrl> for String {
    fn from(value: WebhookUrl) -> Self {
        value.0.into()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_are_taken_and_http_only_where_allowed() {
        assert_eq!(WebhookUrl::parse(" https://hooks.example.com/in ", false).unwrap().as_str(), "https://hooks.example.com/in");
        assert_eq!(WebhookUrl::parse("http://127.0.0.1:9/x", false), Err(InvalidUrl::Scheme));
        assert!(WebhookUrl::parse("http://127.0.0.1:9/x", true).is_ok());
        assert_eq!(WebhookUrl::parse("ftp://example.com/", true), Err(InvalidUrl::Scheme));
        assert_eq!(WebhookUrl::parse("https://u:p@example.com/", false), Err(InvalidUrl::Credentials));
        assert_eq!(WebhookUrl::parse("https://example.com/#x", false), Err(InvalidUrl::Fragment));
        assert_eq!(WebhookUrl::parse("not a url", false), Err(InvalidUrl::Malformed));
    }
}
