//! Rate limits of the tenant and operator API (REST `/api/...`, `/chat`,
//! and gRPC): per API key and per client address, both token buckets that
//! allow one second's worth of requests in a burst. A limited request gets
//! 429 / RESOURCE_EXHAUSTED with the time to wait (`Retry-After`, gRPC
//! `RetryInfo`). The partner endpoints keep their own per-address limit
//! (`rate_limit.rs`).

use crate::error::ApiError;
use crate::limiter::{KeyedLimit, client_key};
use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// The API's two limiters.
pub struct ApiRateLimits<C: Clock = DefaultClock> {
    per_key: KeyedLimit<String, C>,
    per_ip: KeyedLimit<IpAddr, C>,
}

impl ApiRateLimits {
    /// `per_key` requests a second per API key and `per_ip` per client address.
    pub fn per_second(per_key: u32, per_ip: u32) -> Self {
        Self::with_clock(per_key, per_ip, DefaultClock::default())
    }
}

impl<C: Clock + Clone> ApiRateLimits<C> {
    /// As [`ApiRateLimits::per_second`], timed by `clock`.
    pub(crate) fn with_clock(per_key: u32, per_ip: u32, clock: C) -> Self {
        let quota = |n: u32| Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self { per_key: KeyedLimit::new(quota(per_key), clock.clone()), per_ip: KeyedLimit::new(quota(per_ip), clock) }
    }

    /// Counts a request of the caller `principal` (e.g. `tenant:demo`).
    pub fn check_key(&self, principal: &str) -> Result<(), ApiError> {
        self.per_key
            .check(&principal.to_owned())
            .map_err(|retry_after| ApiError::RateLimited { detail: "too many requests with this API key".into(), retry_after })
    }

    /// Counts a request from `client`.
    pub fn check_ip(&self, client: IpAddr) -> Result<(), ApiError> {
        self.per_ip
            .check(&client_key(client))
            .map_err(|retry_after| ApiError::RateLimited { detail: "too many requests from this address".into(), retry_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::time::Duration;

    fn retry_after(result: Result<(), ApiError>) -> Duration {
        match result {
            Err(ApiError::RateLimited { retry_after, .. }) => retry_after,
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }

    #[test]
    fn a_key_over_its_rate_waits_for_the_next_token_and_other_keys_do_not() {
        let clock = FakeRelativeClock::default();
        let limits = ApiRateLimits::with_clock(2, 100, clock.clone());
        assert!(limits.check_key("tenant:a").is_ok());
        assert!(limits.check_key("tenant:a").is_ok());
        // Two a second: the next token comes half a second after the burst.
        assert_eq!(retry_after(limits.check_key("tenant:a")), Duration::from_millis(500));
        assert!(limits.check_key("tenant:b").is_ok());
        clock.advance(Duration::from_millis(499));
        assert_eq!(retry_after(limits.check_key("tenant:a")), Duration::from_millis(1));
        clock.advance(Duration::from_millis(1));
        assert!(limits.check_key("tenant:a").is_ok());
        assert!(limits.check_key("tenant:a").is_err());
    }

    #[test]
    fn addresses_are_limited_separately_and_ipv6_by_its_64_prefix() {
        let clock = FakeRelativeClock::default();
        let limits = ApiRateLimits::with_clock(100, 1, clock.clone());
        assert!(limits.check_ip("192.0.2.1".parse().unwrap()).is_ok());
        assert_eq!(retry_after(limits.check_ip("192.0.2.1".parse().unwrap())), Duration::from_secs(1));
        assert!(limits.check_ip("192.0.2.2".parse().unwrap()).is_ok());
        assert!(limits.check_ip("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limits.check_ip("2001:db8::2".parse().unwrap()).is_err());
        clock.advance(Duration::from_secs(1));
        assert!(limits.check_ip("192.0.2.1".parse().unwrap()).is_ok());
    }
}
