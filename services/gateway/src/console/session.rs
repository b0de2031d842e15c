//! Signing in and out of the console, the session behind its cookie, and
//! the CSRF token every form posts back.
//!
//! - Signing in exchanges an operator key for a session: a random id in an
//!   `HttpOnly`, `SameSite=Strict` cookie scoped to `/console` (`Secure`
//!   when the request came over TLS, as the load balancer's
//!   `X-Forwarded-Proto` says), whose SHA-256 names the session in the
//!   store ([`switchboard_store::SessionStore`]). The key itself never
//!   reaches the browser's storage.
//! - A session ends when its time is up (`SWITCHBOARD_CONSOLE_SESSION_MINUTES`,
//!   8 hours by default), when the operator signs out (the store forgets
//!   it, in every gateway process at once), or when the operator's key is
//!   removed from the configuration.
//! - Every form carries the session's CSRF token; a post without it (or
//!   with another session's) changes nothing and gets 403. The sign-in
//!   form, posted before any session exists, carries a one-time value that
//!   must match a cookie set with the form (a double-submit cookie), so a
//!   foreign site cannot sign a browser in to a session of its choosing.
//!   Posts a browser marks as cross-site (`Sec-Fetch-Site`) are refused too.

use super::cookies::{cookie, safe_next, set_cookie};
use super::page::{Chrome, html, message};
use super::words::Words;
use crate::state::Gateway;
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;
use switchboard_store::ConsoleSession;
use tracing::{info, warn};

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "switchboard_console";
/// The sign-in form's double-submit cookie.
const SIGN_IN_COOKIE: &str = "switchboard_console_sign_in";
/// Where the sign-in form lives.
pub(crate) const SIGN_IN_PATH: &str = "/console/sign-in";
/// How long a sign-in form may be left open before it is posted.
const SIGN_IN_FORM_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// 32 random bytes, URL-safe: a session id, a CSRF token, a form nonce.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The name a session is stored under: the store never holds a usable id.
fn session_hash(id: &str) -> String {
    Sha256::digest(id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, in constant time.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A post the browser itself says came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|s| s == "cross-site")
}

/// The page a refused form gets: nothing changed, reload and try again.
pub(crate) fn form_refused(w: &'static Words) -> Response {
    message(w, StatusCode::FORBIDDEN, w.console, w.form_expired)
}

/// A signed-in operator, taken from the session cookie. A request without
/// a live session is sent to the sign-in form (and back afterwards).
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    /// The operator's name.
    pub operator: String,
    /// The token this session's forms carry.
    pub csrf: String,
    hash: String,
}

impl SignedIn {
    /// Whether a posted form carries this session's CSRF token and the
    /// browser does not mark it as sent from another site; a refused form
    /// gets [`form_refused`].
    pub(crate) fn form_ok(&self, headers: &HeaderMap, posted: Option<&str>) -> bool {
        let ok = posted.is_some_and(|token| same(token, &self.csrf)) && !cross_site(headers);
        if !ok {
            warn!(operator = %self.operator, "console form refused: missing or wrong CSRF token");
        }
        ok
    }

    /// The frame of a page this operator sees at `here`.
    pub(crate) fn chrome(&self, headers: &HeaderMap, here: &str, section: &'static str) -> Chrome {
        Chrome { w: Chrome::words_for(headers), operator: self.operator.clone(), csrf: self.csrf.clone(), here: here.to_owned(), section }
    }

    /// The principal the API's operations check (the console acts as this operator).
    pub(crate) fn principal(&self) -> crate::principal::Principal {
        crate::principal::Principal::Operator { name: self.operator.clone() }
    }
}

impl FromRequestParts<Gateway> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, gateway: &Gateway) -> Result<Self, Self::Rejection> {
        let back = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        let to_sign_in = || Redirect::to(&format!("{SIGN_IN_PATH}?next={}", encode_next(&back))).into_response();
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_sign_in()) };
        let hash = session_hash(&id);
        match gateway.sessions.get_session(&hash, Timestamp::now()).await {
            // An operator whose key was removed is signed out everywhere.
            Ok(Some(s)) if gateway.api.operators().names().contains(&s.operator.as_str()) => {
                Ok(Self { operator: s.operator, csrf: s.csrf_token, hash })
            }
            Ok(_) => Err(to_sign_in()),
            Err(e) => {
                warn!(error = %e, "console session could not be read");
                let w = Chrome::words_for(&parts.headers);
                Err(message(w, StatusCode::SERVICE_UNAVAILABLE, w.console, &e.to_string()))
            }
        }
    }
}

/// `next` as a query value: only a console path, percent-encoded.
fn encode_next(path: &str) -> String {
    let path = safe_next(Some(path));
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage<'a> {
    w: &'static Words,
    nonce: &'a str,
    next: &'a str,
    problem: Option<&'a str>,
}

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// `GET /console/sign-in`: the form, with a fresh double-submit value.
pub(crate) async fn show(headers: HeaderMap, Query(query): Query<NextQuery>) -> Response {
    sign_in_form(&headers, safe_next(query.next.as_deref()), StatusCode::OK, None)
}

fn sign_in_form(headers: &HeaderMap, next: &str, status: StatusCode, problem: Option<&str>) -> Response {
    let w = Chrome::words_for(headers);
    let nonce = random_token();
    let mut response = html(status, &SignInPage { w, nonce: &nonce, next, problem });
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &nonce, SIGN_IN_FORM_LIFETIME, headers));
    response
}

/// The sign-in form as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    key: Option<String>,
    nonce: Option<String>,
    next: Option<String>,
}

/// `POST /console/sign-in`: a right operator key starts a session.
pub(crate) async fn sign_in(State(gateway): State<Gateway>, headers: HeaderMap, Form(form): Form<SignInForm>) -> Response {
    let w = Chrome::words_for(&headers);
    let next = safe_next(form.next.as_deref()).to_owned();
    let expected = cookie(&headers, SIGN_IN_COOKIE);
    let nonce_ok = matches!((&expected, &form.nonce), (Some(e), Some(n)) if same(e, n));
    if !nonce_ok || cross_site(&headers) {
        warn!("console sign-in refused: the form's value does not match its cookie");
        return form_refused(w);
    }
    let key = form.key.as_deref().map(str::trim).unwrap_or_default();
    let Some(operator) = gateway.api.operators().find(key).map(str::to_owned) else {
        warn!("console sign-in with a key that is not an operator key");
        return sign_in_form(&headers, &next, StatusCode::UNAUTHORIZED, Some(w.wrong_key));
    };
    let lifetime = gateway.api.settings().console_session;
    let now = Timestamp::now();
    let id = random_token();
    let session = ConsoleSession {
        operator: operator.clone(),
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + jiff::SignedDuration::try_from(lifetime).unwrap_or(jiff::SignedDuration::from_hours(8)),
    };
    if let Err(e) = gateway.sessions.put_session(&session_hash(&id), &session).await {
        warn!(error = %e, "console session could not be stored");
        return message(w, StatusCode::SERVICE_UNAVAILABLE, w.console, &e.to_string());
    }
    info!(operator = %operator, "operator signed in to the console");
    let mut response = Redirect::to(&next).into_response();
    let cookies = response.headers_mut();
    cookies.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &id, lifetime, &headers));
    cookies.append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, "", Duration::ZERO, &headers));
    response
}

/// A form that posts nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: Option<String>,
}

/// `POST /console/sign-out`: the session ends in the store and the cookie goes.
pub(crate) async fn sign_out(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let w = Chrome::words_for(&headers);
    if !signed_in.form_ok(&headers, form.csrf.as_deref()) {
        return form_refused(w);
    }
    if let Err(e) = gateway.sessions.delete_session(&signed_in.hash).await {
        warn!(error = %e, "console session could not be deleted");
        return message(w, StatusCode::SERVICE_UNAVAILABLE, w.console, &e.to_string());
    }
    info!(operator = %signed_in.operator, "operator signed out of the console");
    let mut response = Redirect::to(SIGN_IN_PATH).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Duration::ZERO, &headers));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_keeps_a_hash_not_the_id() {
        let id = random_token();
        assert_eq!(id.len(), 43);
        assert_ne!(session_hash(&id), id);
        assert_eq!(session_hash(&id).len(), 64);
    }
}
