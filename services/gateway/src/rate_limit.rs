//! Rate limiting of the partner endpoints (`/r/`, `/confirm/`, `/respond`)
//! per client IP address (by default 100 requests a minute per address,
//! `SWITCHBOARD_PARTNER_RATE_PER_MINUTE`).
//!
//! These routes need no login, so a token is all an attacker needs to
//! guess; the limit makes guessing (and flooding the page) slow. A limited
//! request gets 429 with `Retry-After`: problem+json on the JSON routes,
//! a small page on `/r/`.

use crate::error::retry_after_secs;
use crate::limiter::{KeyedLimit, client_key};
use crate::partner_page::message_page;
use crate::problem::Problem;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tracing::debug;

/// One limiter shared by the partner routes.
pub struct PartnerRateLimit<C: Clock = DefaultClock> {
    limit: KeyedLimit<IpAddr, C>,
}

impl PartnerRateLimit {
    /// `per_minute` requests a minute per client, all of them allowed in a burst.
    pub fn per_minute(per_minute: u32) -> Self {
        Self::with_clock(per_minute, DefaultClock::default())
    }
}

impl<C: Clock + Clone> PartnerRateLimit<C> {
    /// As [`PartnerRateLimit::per_minute`], timed by `clock`.
    pub(crate) fn with_clock(per_minute: u32, clock: C) -> Self {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self { limit: KeyedLimit::new(Quota::per_minute(rate), clock) }
    }

    /// `Ok` when `client` may go on, else how long it should wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.limit.check(&client_key(client))
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
    let seconds = retry_after_secs(wait);
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
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_client_over_its_rate_waits_for_the_next_token() {
        let clock = FakeRelativeClock::default();
        let limit = PartnerRateLimit::with_clock(3, clock.clone());
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limit.check(client), Ok(()));
        }
        // Three a minute: a token every 20 seconds.
        assert_eq!(limit.check(client), Err(Duration::from_secs(20)));
        clock.advance(Duration::from_secs(20));
        assert_eq!(limit.check(client), Ok(()));
        assert!(limit.check(client).is_err());
    }

    #[test]
    fn clients_are_limited_separately() {
        let limit = PartnerRateLimit::with_clock(1, FakeRelativeClock::default());
        assert!(limit.check("192.0.2.1".parse().unwrap()).is_ok());
        assert!(limit.check("192.0.2.1".parse().unwrap()).is_err());
        assert!(limit.check("192.0.2.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_64_prefix() {
        let limit = PartnerRateLimit::with_clock(1, FakeRelativeClock::default());
        assert!(limit.check("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limit.check("2001:db8::ffff:2".parse().unwrap()).is_err(), "same /64");
        assert!(limit.check("2001:db8:0:1::1".parse().unwrap()).is_ok(), "another /64");
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
