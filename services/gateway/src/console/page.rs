//! What every console page shares: the words of the operator's language,
//! the signed-in frame (navigation, sign-out form), rendering, and the
//! headers the console is served with.

use super::cookies::{COOKIE_PATH, cookie, safe_next, set_cookie};
use super::words::{Words, words};
use askama::Template;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::time::Duration;
use tracing::error;

/// The cookie that keeps the operator's language.
const LANG_COOKIE: &str = "switchboard_console_lang";

/// The console runs its own script only (live updates), connects only
/// back to the gateway, and is framed by no one. Styles are inline in the
/// layout and in the trace's bars.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CONSOLE_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CACHE_CONTROL, "no-store"),
];

/// The middleware that adds the console's headers to its responses.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in CONSOLE_HEADERS {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The frame of a signed-in page: words, who is signed in, the CSRF token
/// its forms carry, and where the language switch comes back to.
pub(crate) struct Chrome {
    pub w: &'static Words,
    pub operator: String,
    pub csrf: String,
    pub here: String,
    /// Which navigation entry is the current page.
    pub section: &'static str,
}

impl Chrome {
    /// The words of the operator's language: the language cookie, else
    /// Korean when the browser prefers it, else English.
    pub(crate) fn words_for(headers: &HeaderMap) -> &'static Words {
        if let Some(lang) = cookie(headers, LANG_COOKIE) {
            return words(&lang);
        }
        let preferred = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        words(if preferred.trim_start().to_ascii_lowercase().starts_with("ko") { "ko" } else { "en" })
    }
}

/// `template` as an HTML response with `status`; a template that fails to
/// render (a bug) is a 500 and is logged.
pub(crate) fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            error!(error = %e, "console page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page failed to render").into_response()
        }
    }
}

/// The status and the words of an operation's error, as a page shows it
/// beside the form (each field at fault, and why).
pub(crate) fn problem_text(e: crate::error::ApiError) -> (StatusCode, String) {
    let problem = crate::problem::Problem::from(e);
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
    let text = match problem.errors.as_slice() {
        [] => problem.detail,
        errors => errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; "),
    };
    (status, text)
}

/// A page that only says something.
#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    w: &'static Words,
    title: &'a str,
    text: &'a str,
}

/// A page with `title` and `text` and `status`.
pub(crate) fn message(w: &'static Words, status: StatusCode, title: &str, text: &str) -> Response {
    html(status, &MessagePage { w, title, text })
}

/// `?next=` of the language switch.
#[derive(Debug, Deserialize)]
pub(crate) struct Back {
    next: Option<String>,
}

/// `GET /console/language/{lang}`: keeps the choice in a cookie and goes back.
pub(crate) async fn switch_language(headers: HeaderMap, Path(lang): Path<String>, Query(back): Query<Back>) -> Response {
    let lang = if lang == "ko" { "ko" } else { "en" };
    let next = safe_next(back.next.as_deref());
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(LANG_COOKIE, lang, Duration::from_secs(365 * 24 * 3600), &headers));
    response
}

/// `GET /console/static/console.js`: the script that makes the queue live.
pub(crate) async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], include_str!("console.js"))
        .into_response()
}

/// The console's root, for links.
pub(crate) const ROOT: &str = COOKIE_PATH;
