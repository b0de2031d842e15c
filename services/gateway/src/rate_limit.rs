//! Rate limiting of the partner endpoints (`/r/`, `/confirm/`, `/respond`)
//! per client IP address (seed 002: 100 requests a minute per IP).
//!
//! These routes need no login, so a token is all an attacker needs to
//! guess; the limit makes guessing (and flooding the page) slow. A limited
//! request gets 429 with `Retry-After`: problem+json on the JSON routes,
//! a small page on `/r/`.

use crate::Problem;
use crate::partner_page::message_page;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tracing::debug;

/// Forget idle clients every this many checks, so the table of addresses
/// stays as small as the set of recent clients without a background task.
const CLEANUP_EVERY: u64 = 4096;

/// One limiter shared by the partner routes.
pub struct PartnerRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl PartnerRateLimit {
    /// `per_minute` requests a minute per client, all of them allowed in a burst.
    pub fn per_minute(per_minute: u32) -> Self {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self { limiter: RateLimiter::keyed(Quota::per_minute(rate)), clock: DefaultClock::default(), checks: AtomicU64::new(0) }
    }

    /// `Ok` when `client` may go on, else how long it should wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&client_key(client)).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The key a client is limited under. An IPv6 client usually holds a whole
/// /64, so it is limited as one; IPv4-mapped addresses count as IPv4.
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

/// The middleware: lets the request through or answers 429.
pub async fn limit(State(limit): State<Arc<PartnerRateLimit>>, request: Request, next: Next) -> Response {
    // Without connection info (a router driven directly, not served) every
    // request shares one bucket: stricter, never looser.
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match limit.check(client) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            // The address is personal data: it stays out of the logs.
            debug!(path_kind = if is_page(&request) { "page" } else { "json" }, "partner endpoint rate limited");
            too_many(is_page(&request), wait)
        }
    }
}

fn is_page(request: &Request) -> bool {
    request.uri().path().starts_with("/r/")
}

/// 429 with `Retry-After` in whole seconds (at least 1).
fn too_many(page: bool, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = if page {
        let html = message_page(
            "잠시 후 다시 시도해 주세요",
            &format!("요청이 너무 많습니다. {seconds}초 후에 다시 시도해 주세요."),
            &format!("Too many requests. Please try again in {seconds} seconds."),
        );
        (StatusCode::TOO_MANY_REQUESTS, Html(html)).into_response()
    } else {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("too many requests from this address; retry in {seconds} s"),
        )
        .into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_is_told_how_long_to_wait() {
        let limit = PartnerRateLimit::per_minute(3);
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limit.check(client), Ok(()));
        }
        let wait = limit.check(client).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
    }

    #[test]
    fn clients_are_limited_separately() {
        let limit = PartnerRateLimit::per_minute(1);
        assert!(limit.check("192.0.2.1".parse().unwrap()).is_ok());
        assert!(limit.check("192.0.2.1".parse().unwrap()).is_err());
        assert!(limit.check("192.0.2.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_64_prefix() {
        let limit = PartnerRateLimit::per_minute(1);
        assert!(limit.check("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limit.check("2001:db8::ffff:2".parse().unwrap()).is_err(), "same /64");
        assert!(limit.check("2001:db8:0:1::1".parse().unwrap()).is_ok(), "another /64");
        assert_eq!(client_key("::ffff:192.0.2.9".parse().unwrap()), "192.0.2.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        let r = too_many(false, Duration::from_millis(1500));
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/problem+json");
        let r = too_many(true, Duration::ZERO);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert!(r.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }
}
