//! An operator's browser as the console tests drive it over HTTP: the
//! session cookie it holds, the CSRF token of the last page read, and the
//! forms it posts (redirects are not followed, so each answer is seen).

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

/// A signed-in console session.
pub struct ConsoleClient {
    pub base_url: String,
    pub http: reqwest::Client,
    /// `switchboard_console=…`, as the browser sends it back.
    pub cookie: String,
}

/// The value of hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The `name=value` of each `Set-Cookie` of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

/// A client that does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("http client")
}

impl ConsoleClient {
    /// Signs in with `key` through the form, as a browser does.
    pub async fn sign_in(base_url: &str, key: &str) -> Self {
        let http = browser();
        let form = http.get(format!("{base_url}/console/sign-in")).send().await.expect("sign-in page");
        let nonce_cookie = set_cookies(&form).into_iter().next().expect("the form sets its cookie");
        let nonce_cookie = nonce_cookie.split(';').next().expect("name=value").to_owned();
        let page = form.text().await.expect("page");
        let nonce = hidden(&page, "nonce").expect("the form's value");
        let signed_in = http
            .post(format!("{base_url}/console/sign-in"))
            .header(COOKIE, nonce_cookie)
            .form(&[("key", key), ("nonce", nonce.as_str()), ("next", "/console")])
            .send()
            .await
            .expect("sign in");
        assert_eq!(signed_in.status(), 303, "signed in with an operator key");
        let cookie = set_cookies(&signed_in)
            .into_iter()
            .find(|c| c.starts_with("switchboard_console="))
            .expect("a session cookie")
            .split(';')
            .next()
            .expect("name=value")
            .to_owned();
        Self { base_url: base_url.to_owned(), http, cookie }
    }

    /// `GET path` with the session: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(format!("{}{path}", self.base_url)).header(COOKIE, &self.cookie).send().await.expect("get");
        (response.status().as_u16(), response.text().await.expect("body"))
    }

    /// `GET path`, expecting a page: its body.
    pub async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// Posts `fields` to `path` with the session: status, `Location`, body.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let response =
            self.http.post(format!("{}{path}", self.base_url)).header(COOKIE, &self.cookie).form(fields).send().await.expect("post");
        let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (response.status().as_u16(), location, response.text().await.expect("body"))
    }

    /// The CSRF token of the queue page.
    pub async fn csrf(&self) -> String {
        hidden(&self.page("/console").await, "csrf").expect("every page carries the session's CSRF token")
    }
}
