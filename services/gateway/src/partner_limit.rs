//! Rate limiting of the link endpoints: the partner's (`/r/`, `/confirm/`,
//! `/respond` and the gRPC `PartnerService`) and the customer's page
//! (`/c/`), per client address and per link, with the same rates and
//! buckets (`rate_limits.rs` has the rates and their settings).
//!
//! These routes need no login, so a token is all an attacker needs to
//! guess; the address limit makes guessing (and flooding the page) slow,
//! and the link limit keeps one link from being hammered from many
//! addresses. A limited request gets 429 with `Retry-After`:
//! problem+json on the JSON routes, a small page on `/r/`.

use crate::client_address::ClientAddress;
use crate::customer_page::FORM_SUFFIXES;
use crate::error::retry_after_secs;
use crate::html_page::message_page;
use crate::problem::Problem;
use crate::rate_limits::{LimitKey, Limited};
use crate::state::Gateway;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr};
use switchboard_domain::customer_link::CUSTOMER_PAGE_PREFIX;
use tracing::debug;

/// The link routes whose path carries the link's token after the prefix.
const TOKEN_IN_PATH: [&str; 3] = ["/r/", "/confirm/", CUSTOMER_PAGE_PREFIX];

/// The pages among them (a limited page answers with a page, not JSON).
const PAGES: [&str; 2] = ["/r/", CUSTOMER_PAGE_PREFIX];

/// Counts a partner request from `client` (unknown: every such request
/// shares one bucket, stricter, never looser) for the link `token`, if known.
pub(crate) fn check_partner(gateway: &Gateway, client: Option<IpAddr>, token: Option<&str>) -> Result<(), Limited> {
    gateway.api.limit(LimitKey::PartnerClient(client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))?;
    match token {
        Some(token) => gateway.api.limit(LimitKey::PartnerLink(token)),
        None => Ok(()),
    }
}

/// The middleware: lets the request through or answers 429. `/respond`
/// carries its token in the body, so its handler counts the link.
pub async fn limit(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let client = request.extensions().get::<ClientAddress>().map(|ClientAddress(ip)| *ip);
    let path = request.uri().path();
    let token = token_in_path(path);
    match check_partner(&gateway, client, token) {
        Ok(()) => next.run(request).await,
        Err(limited) => {
            // The address is personal data: it stays out of the logs.
            debug!(path_kind = if is_page(&request) { "page" } else { "json" }, limited = limited.what, "partner endpoint rate limited");
            too_many(is_page(&request), limited)
        }
    }
}

/// The link's token in a link route's path (`/c/{token}/reply` and `/rating` included).
fn token_in_path(path: &str) -> Option<&str> {
    let rest = TOKEN_IN_PATH.iter().find_map(|prefix| path.strip_prefix(prefix))?;
    let token = if path.starts_with(CUSTOMER_PAGE_PREFIX) {
        FORM_SUFFIXES.iter().find_map(|suffix| rest.strip_suffix(suffix)).unwrap_or(rest)
    } else {
        rest
    };
    Some(token).filter(|t| !t.is_empty() && !t.contains('/'))
}

fn is_page(request: &Request) -> bool {
    PAGES.iter().any(|prefix| request.uri().path().starts_with(prefix))
}

/// 429 with `Retry-After` in whole seconds (at least 1).
pub(crate) fn too_many(page: bool, limited: Limited) -> Response {
    let seconds = retry_after_secs(limited.wait);
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
            format!("too many requests from {}; retry in {seconds} s", limited.what),
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
    use std::time::Duration;

    #[test]
    fn the_token_is_found_in_every_link_route() {
        assert_eq!(token_in_path("/r/abc.def"), Some("abc.def"));
        assert_eq!(token_in_path("/confirm/abc"), Some("abc"));
        assert_eq!(token_in_path("/c/abc"), Some("abc"));
        assert_eq!(token_in_path("/c/abc/reply"), Some("abc"));
        assert_eq!(token_in_path("/c/abc/rating"), Some("abc"));
        assert_eq!(token_in_path("/r/abc/reply"), None);
        assert_eq!(token_in_path("/c/"), None);
        assert_eq!(token_in_path("/respond"), None);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        let r = too_many(false, Limited { what: "this address", wait: Duration::from_millis(1500) });
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/problem+json");
        let r = too_many(true, Limited { what: "this link", wait: Duration::ZERO });
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert!(r.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }
}
