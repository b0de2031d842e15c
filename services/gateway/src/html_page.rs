//! What the server-rendered pages share (the partner's `/r/{token}` and
//! the customer's `/c/{token}`): escaping, the layout, a bilingual message
//! page, and the security headers every page is served with.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The pages run no script, load nothing from elsewhere, post only to
/// themselves and are framed by no one. Styles are inline in the layout.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers of every page: a link's token is in the URL, so it must not
/// leak through a `Referer`, and nothing may frame the forms.
const PAGE_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CACHE_CONTROL, "no-store"),
];

/// The middleware that adds [`PAGE_HEADERS`] to a page route's responses.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in PAGE_HEADERS {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `s` safe inside HTML text and quoted attributes.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `body` (already HTML) under an escaped `title`, in `lang`.
pub(crate) fn layout(lang: &str, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1b1b1b}}
h1{{font-size:1.3rem}} dl{{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}} dt{{font-weight:600}}
blockquote{{margin:1rem 0;padding:.75rem;background:#f3f4f6;border-radius:.5rem;white-space:pre-wrap}}
form{{margin:1rem 0;padding:.75rem;border:1px solid #d1d5db;border-radius:.5rem}}
button{{font-size:1rem;padding:.6rem 1rem;border-radius:.4rem;border:0;background:#2563eb;color:#fff;width:100%}}
input,textarea{{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0 .5rem;font-family:inherit}}
.reject button{{background:#b91c1c}} .alt button{{background:#4b5563}} .error{{color:#b91c1c;font-weight:600}}
ol.messages{{list-style:none;padding:0}} .messages li{{margin:.5rem 0;padding:.6rem .75rem;border-radius:.6rem;background:#f3f4f6;max-width:85%}}
.messages li.customer{{background:#dbeafe;margin-left:auto}} .messages .who{{font-size:.8rem;color:#4b5563;display:block}}
.messages .text{{white-space:pre-wrap}} .status{{padding:.5rem .75rem;border-left:4px solid #2563eb;background:#eff6ff}}
</style></head><body>{body}</body></html>"#,
        title = escape(title),
    )
}

/// A page with a title and one message in Korean and English: for states
/// where the reader's language is unknown (no valid token).
pub(crate) fn message_page(title: &str, ko: &str, en: &str) -> String {
    layout("ko", title, &format!("<h1>{}</h1><p>{}</p>", escape(ko), escape(en)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
