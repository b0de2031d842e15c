//! The token buckets behind every rate limit of the gateway: one bucket per
//! key, tidied as it goes, on a clock tests can drive.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Forget idle keys every this many checks, so the table stays as small as
/// the set of recent clients without a background task.
const CLEANUP_EVERY: u64 = 4096;

/// A keyed token bucket.
pub(crate) struct KeyedLimit<K: Clone + Hash + Eq, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    checks: AtomicU64,
}

impl<K: Clone + Hash + Eq, C: Clock + Clone> KeyedLimit<K, C> {
    /// A bucket of `quota` per key, timed by `clock`.
    pub(crate) fn new(quota: Quota, clock: C) -> Self {
        Self { limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()), clock, checks: AtomicU64::new(0) }
    }

    /// `Ok` when `key` may go on, else how long it should wait.
    pub(crate) fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The key a client address is limited under. An IPv6 client usually holds
/// a whole /64, so it is limited as one; IPv4-mapped addresses count as IPv4.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
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

    #[test]
    fn an_ipv6_client_is_keyed_by_its_64_prefix_and_a_mapped_ipv4_as_ipv4() {
        assert_eq!(client_key("2001:db8::ffff:2".parse().unwrap()), "2001:db8::".parse::<IpAddr>().unwrap());
        assert_eq!(client_key("::ffff:192.0.2.9".parse().unwrap()), "192.0.2.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_key("192.0.2.9".parse().unwrap()), "192.0.2.9".parse::<IpAddr>().unwrap());
    }
}
