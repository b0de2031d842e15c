//! Rate limits of the tenant and operator API (REST `/api/...`, `/chat`,
//! and gRPC): per API key and per client address, both token buckets that
//! allow one second's worth of requests in a burst. A limited request gets
//! 429 / RESOURCE_EXHAUSTED with the time to wait (`Retry-After`, gRPC
//! `RetryInfo`). The partner endpoints keep their own per-address limit
//! (`rate_limit.rs`).

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Forget idle keys every this many checks, so the tables stay as small as
/// the set of recent clients without a background task.
const CLEANUP_EVERY: u64 = 4096;

/// The API's two limiters.
pub struct ApiRateLimits {
    per_key: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl ApiRateLimits {
    /// `per_key` requests a second per API key and `per_ip` per client address.
    pub fn per_second(per_key: u32, per_ip: u32) -> Self {
        let quota = |n: u32| Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_key: RateLimiter::keyed(quota(per_key)),
            per_ip: RateLimiter::keyed(quota(per_ip)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    fn tidy(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            self.per_key.retain_recent();
            self.per_key.shrink_to_fit();
            self.per_ip.retain_recent();
            self.per_ip.shrink_to_fit();
        }
    }

    /// Counts a request of the caller `principal` (e.g. `tenant:demo`).
    pub fn check_key(&self, principal: &str) -> Result<(), ApiError> {
        self.tidy();
        self.per_key.check_key(&principal.to_owned()).map_err(|not_until| ApiError::RateLimited {
            detail: "too many requests with this API key".into(),
            retry_after: not_until.wait_time_from(self.clock.now()),
        })
    }

    /// Counts a request from `client`.
    pub fn check_ip(&self, client: IpAddr) -> Result<(), ApiError> {
        self.tidy();
        self.per_ip.check_key(&client_key(client)).map_err(|not_until| ApiError::RateLimited {
            detail: "too many requests from this address".into(),
            retry_after: not_until.wait_time_from(self.clock.now()),
        })
    }
}

/// The key an address is limited under: an IPv6 client usually holds a
/// whole /64, so it counts as one; IPv4-mapped addresses count as IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_key_over_its_rate_is_told_how_long_to_wait_and_other_keys_are_not() {
        let limits = ApiRateLimits::per_second(2, 100);
        assert!(limits.check_key("tenant:a").is_ok());
        assert!(limits.check_key("tenant:a").is_ok());
        match limits.check_key("tenant:a") {
            Err(ApiError::RateLimited { retry_after, .. }) => assert!(retry_after <= Duration::from_secs(1)),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(limits.check_key("tenant:b").is_ok());
    }

    #[test]
    fn addresses_are_limited_separately_and_ipv6_by_its_64_prefix() {
        let limits = ApiRateLimits::per_second(100, 1);
        assert!(limits.check_ip("192.0.2.1".parse().unwrap()).is_ok());
        assert!(limits.check_ip("192.0.2.1".parse().unwrap()).is_err());
        assert!(limits.check_ip("192.0.2.2".parse().unwrap()).is_ok());
        assert!(limits.check_ip("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limits.check_ip("2001:db8::2".parse().unwrap()).is_err());
    }
}
