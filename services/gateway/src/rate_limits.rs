//! Every rate limit of the gateway, REST and gRPC alike, in one keyed
//! limiter: token buckets that allow a period's worth of requests in a
//! burst, one table per kind of key.
//!
//! | key | rate | setting |
//! |---|---|---|
//! | API caller (a tenant, whose keys share one bucket, or an operator) | per second | `SWITCHBOARD_API_RATE_PER_KEY` |
//! | API client address | per second | `SWITCHBOARD_API_RATE_PER_IP` |
//! | partner client address | per minute | `SWITCHBOARD_PARTNER_RATE_PER_MINUTE` |
//! | partner link (the token's SHA-256) | per minute | `SWITCHBOARD_PARTNER_RATE_PER_LINK_PER_MINUTE` |
//!
//! Client addresses are the real clients' behind trusted proxies
//! (`client_address.rs`), an IPv6 client limited by its /64.

use crate::limiter::{KeyedLimit, client_key};
use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The rates of [`RateLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Requests a second per API caller.
    pub api_caller_per_second: u32,
    /// API requests a second per client address.
    pub api_client_per_second: u32,
    /// Partner requests a minute per client address.
    pub partner_client_per_minute: u32,
    /// Partner requests a minute per link, from any address.
    pub partner_link_per_minute: u32,
}

impl Default for Rates {
    fn default() -> Self {
        Self { api_caller_per_second: 1000, api_client_per_second: 2000, partner_client_per_minute: 100, partner_link_per_minute: 30 }
    }
}

/// What a request is counted against.
#[derive(Debug, Clone, Copy)]
pub enum LimitKey<'a> {
    /// A tenant or operator of the API (`Principal::actor`).
    ApiCaller(&'a str),
    /// The client address of an API request.
    ApiClient(IpAddr),
    /// The client address of a partner request.
    PartnerClient(IpAddr),
    /// A partner link's token (kept only as its hash).
    PartnerLink(&'a str),
}

impl LimitKey<'_> {
    /// What was limited, for the caller's error message.
    pub fn what(&self) -> &'static str {
        match self {
            Self::ApiCaller(_) => "this API key",
            Self::ApiClient(_) | Self::PartnerClient(_) => "this address",
            Self::PartnerLink(_) => "this link",
        }
    }
}

/// A request over its limit, and how long to wait for the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests from {what}; retry in {wait:?}")]
pub struct Limited {
    /// What was limited (`LimitKey::what`).
    pub what: &'static str,
    /// Until the next request is allowed.
    pub wait: Duration,
}

/// The gateway's one keyed limiter.
pub struct RateLimits<C: Clock = DefaultClock> {
    api_caller: KeyedLimit<String, C>,
    api_client: KeyedLimit<IpAddr, C>,
    partner_client: KeyedLimit<IpAddr, C>,
    partner_link: KeyedLimit<[u8; 32], C>,
}

impl RateLimits {
    /// Limits at `rates`.
    pub fn new(rates: Rates) -> Self {
        Self::with_clock(rates, DefaultClock::default())
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl<C: Clock + Clone> RateLimits<C> {
    /// As [`RateLimits::new`], timed by `clock`.
    pub(crate) fn with_clock(rates: Rates, clock: C) -> Self {
        let second = |n| Quota::per_second(at_least_one(n));
        let minute = |n| Quota::per_minute(at_least_one(n));
        Self {
            api_caller: KeyedLimit::new(second(rates.api_caller_per_second), clock.clone()),
            api_client: KeyedLimit::new(second(rates.api_client_per_second), clock.clone()),
            partner_client: KeyedLimit::new(minute(rates.partner_client_per_minute), clock.clone()),
            partner_link: KeyedLimit::new(minute(rates.partner_link_per_minute), clock),
        }
    }

    /// Counts one request against `key`.
    pub fn check(&self, key: LimitKey<'_>) -> Result<(), Limited> {
        let result = match key {
            LimitKey::ApiCaller(caller) => self.api_caller.check(&caller.to_owned()),
            LimitKey::ApiClient(ip) => self.api_client.check(&client_key(ip)),
            LimitKey::PartnerClient(ip) => self.partner_client.check(&client_key(ip)),
            LimitKey::PartnerLink(token) => self.partner_link.check(&Sha256::digest(token.as_bytes()).into()),
        };
        result.map_err(|wait| Limited { what: key.what(), wait })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn rates(api_caller: u32, api_client: u32, partner_client: u32, partner_link: u32) -> Rates {
        Rates {
            api_caller_per_second: api_caller,
            api_client_per_second: api_client,
            partner_client_per_minute: partner_client,
            partner_link_per_minute: partner_link,
        }
    }

    fn wait(result: Result<(), Limited>) -> Duration {
        result.expect_err("limited").wait
    }

    #[test]
    fn a_caller_over_its_rate_waits_for_the_next_token_and_other_callers_do_not() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(rates(2, 100, 100, 100), clock.clone());
        assert!(limits.check(LimitKey::ApiCaller("tenant:a")).is_ok());
        assert!(limits.check(LimitKey::ApiCaller("tenant:a")).is_ok());
        // Two a second: the next token comes half a second after the burst.
        assert_eq!(wait(limits.check(LimitKey::ApiCaller("tenant:a"))), Duration::from_millis(500));
        assert!(limits.check(LimitKey::ApiCaller("tenant:b")).is_ok());
        clock.advance(Duration::from_millis(500));
        assert!(limits.check(LimitKey::ApiCaller("tenant:a")).is_ok());
        assert_eq!(limits.check(LimitKey::ApiCaller("tenant:a")).unwrap_err().what, "this API key");
    }

    #[test]
    fn addresses_are_limited_separately_and_ipv6_by_its_64_prefix() {
        let limits = RateLimits::with_clock(rates(100, 1, 100, 100), FakeRelativeClock::default());
        assert!(limits.check(LimitKey::ApiClient("192.0.2.1".parse().unwrap())).is_ok());
        assert_eq!(wait(limits.check(LimitKey::ApiClient("192.0.2.1".parse().unwrap()))), Duration::from_secs(1));
        assert!(limits.check(LimitKey::ApiClient("192.0.2.2".parse().unwrap())).is_ok());
        assert!(limits.check(LimitKey::ApiClient("2001:db8::1".parse().unwrap())).is_ok());
        assert!(limits.check(LimitKey::ApiClient("2001:db8::2".parse().unwrap())).is_err());
    }

    #[test]
    fn partner_addresses_have_their_own_per_minute_buckets_apart_from_the_api() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(rates(100, 1, 3, 100), clock.clone());
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(limits.check(LimitKey::ApiClient(client)).is_ok());
        for _ in 0..3 {
            assert!(limits.check(LimitKey::PartnerClient(client)).is_ok());
        }
        // Three a minute: a token every 20 seconds.
        assert_eq!(wait(limits.check(LimitKey::PartnerClient(client))), Duration::from_secs(20));
        clock.advance(Duration::from_secs(20));
        assert!(limits.check(LimitKey::PartnerClient(client)).is_ok());
    }

    #[test]
    fn one_link_is_limited_across_every_address_and_other_links_are_not() {
        let limits = RateLimits::with_clock(rates(100, 100, 100, 2), FakeRelativeClock::default());
        assert!(limits.check(LimitKey::PartnerLink("token-a")).is_ok());
        assert!(limits.check(LimitKey::PartnerLink("token-a")).is_ok());
        let limited = limits.check(LimitKey::PartnerLink("token-a")).unwrap_err();
        assert_eq!((limited.what, limited.wait), ("this link", Duration::from_secs(30)));
        assert!(limits.check(LimitKey::PartnerLink("token-b")).is_ok());
    }
}
