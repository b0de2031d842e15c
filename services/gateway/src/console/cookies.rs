//! The console's cookies: how they are read and set. Every one is
//! `HttpOnly`, `SameSite=Strict`, scoped to `/console`, and `Secure` when
//! the browser reached us over TLS (directly or, as the load balancer's
//! `X-Forwarded-Proto` says, through it).

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use std::time::Duration;

/// Every console cookie is sent to the console's paths only.
pub(crate) const COOKIE_PATH: &str = "/console";

/// The value of cookie `name` in the request, if sent.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Whether the browser reached us over TLS (directly or through the load balancer).
fn over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for a console cookie living `lifetime` (zero: delete it).
pub(crate) fn set_cookie(name: &str, value: &str, lifetime: Duration, headers: &HeaderMap) -> HeaderValue {
    let max_age = cookie::time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
    let built = Cookie::build((name, value))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls(headers))
        .max_age(max_age)
        .build();
    // Cookie names and values here are ASCII tokens: always a valid header.
    HeaderValue::from_str(&built.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Where to go after signing in: a console path, never another site
/// (`//evil.example` and `/console/../x` are refused).
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if (n == COOKIE_PATH || n.starts_with("/console/") || n.starts_with("/console?")) && !n.contains("..") && !n.contains('\\') =>
        {
            n
        }
        _ => COOKIE_PATH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_signing_in() {
        assert_eq!(safe_next(Some("/console/inquiries/x")), "/console/inquiries/x");
        assert_eq!(safe_next(Some("/console?tenant=a")), "/console?tenant=a");
        for foreign in ["//evil.example/console", "https://evil.example", "/console/../api", "/consolex", "/\\evil"] {
            assert_eq!(safe_next(Some(foreign)), "/console", "{foreign}");
        }
    }
}
