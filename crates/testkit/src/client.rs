//! A small browser stand-in: keeps cookies, never follows redirects, and
//! finds the CSRF token in a page the way a browser submits it.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};

/// A client with its own cookie jar.
#[derive(Debug)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// The user agent sent with every request.
    pub user_agent: String,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code; 0 when no answer came (nothing listening, the
    /// connection dropped), with the error as the body.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as text (lossy).
    pub body: String,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The value of the hidden `csrf_token` input in the page.
    pub fn csrf_token(&self) -> Option<String> {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body.get(start..)?.find('"')? + start;
        self.body.get(start..end).map(str::to_owned)
    }
}

impl Client {
    /// A client for `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: String) -> Self {
        Client {
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
            user_agent: "testkit/1.0 (integration test)".into(),
        }
    }

    /// The cookie named `name`, if the server set it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Sets or replaces a cookie by hand (tests of stolen or stale cookies).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }

    /// Forgets every cookie.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Reply {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// The page a 303 leads to (post/redirect/get), fetched with this
    /// client's cookies; `reply` itself when it is not a redirect.
    pub async fn follow(&mut self, reply: Reply) -> Reply {
        match reply.location() {
            Some(location) if reply.status == 303 => {
                let location = location.to_owned();
                self.get(&location).await
            }
            _ => reply,
        }
    }

    /// `GET path` with extra headers.
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// `POST path` with form fields.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
            .await
    }

    /// `POST path` with any body.
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        self.post_raw_with(path, content_type, body, &[]).await
    }

    /// `POST path` with any body and extra headers.
    pub async fn post_raw_with(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Reply {
        if !self.cookies.is_empty() {
            let header = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header(COOKIE, header);
        }
        request = request.header("user-agent", self.user_agent.clone());
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Reply {
                    status: 0,
                    headers: HeaderMap::new(),
                    body: format!("no answer: {error}"),
                };
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        for line in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                let deleted = value.is_empty() || line.contains("Max-Age=0");
                if deleted {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Logs in with username and password from a fresh login page; returns
    /// the reply to the password form.
    pub async fn submit_password(&mut self, username: &str, password: &str) -> Reply {
        self.submit_password_next(username, password, "/").await
    }

    /// Like [`Client::submit_password`] with a `next` value.
    pub async fn submit_password_next(
        &mut self,
        username: &str,
        password: &str,
        next: &str,
    ) -> Reply {
        let page = self.get("/login").await;
        if page.status == 0 {
            return page; // no answer: the caller sees status 0
        }
        let csrf = page.csrf_token().expect("login page has a csrf token");
        self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", next),
            ],
        )
        .await
    }

    /// Submits a token on the Two-Factor Login page.
    pub async fn submit_token(&mut self, token: &str) -> Reply {
        let page = self.get("/login/2fa").await;
        let csrf = page
            .csrf_token()
            .or_else(|| self.cookie("tf_csrf").map(|_| self.csrf()))
            .expect("csrf token");
        self.post_form(
            "/login/2fa",
            &[("token", token), ("csrf_token", &csrf), ("next", "/")],
        )
        .await
    }

    /// Submits a token with "Save token for 30 days" ticked.
    pub async fn submit_token_remember(&mut self, token: &str) -> Reply {
        let page = self.get("/login/2fa").await;
        let csrf = page.csrf_token().expect("csrf token");
        self.post_form(
            "/login/2fa",
            &[
                ("token", token),
                ("remember", "on"),
                ("csrf_token", &csrf),
                ("next", "/"),
            ],
        )
        .await
    }

    /// Presses "Request Token via SMS"; the page the browser then shows
    /// (a sent text redirects back to the Two-Factor Login page).
    pub async fn request_sms(&mut self) -> Reply {
        let csrf = self.csrf();
        let reply = self
            .post_form("/login/2fa/sms", &[("csrf_token", &csrf)])
            .await;
        self.follow(reply).await
    }

    /// Fills in "Forgot password?" for `who` (username or email), as a
    /// browser does: the form first (for its CSRF field), then the POST.
    pub async fn request_password_reset(&mut self, who: &str) -> Reply {
        let csrf = self
            .get("/password/forgot")
            .await
            .csrf_token()
            .unwrap_or_default();
        let reply = self
            .post_form(
                "/password/forgot",
                &[("username_or_email", who), ("csrf_token", &csrf)],
            )
            .await;
        self.follow(reply).await
    }

    /// [`Client::submit`], then the page a success redirects to
    /// (post/redirect/get), as a browser shows it.
    pub async fn submit_and_follow(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let reply = self.submit(path, fields).await;
        self.follow(reply).await
    }

    /// Posts `fields` plus the CSRF token from this client's cookie (a
    /// page is fetched first when the client has none yet), as a browser
    /// submits any form of the site.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        if self.cookie("tf_csrf").is_none() {
            self.get("/login").await;
        }
        let csrf = self.csrf();
        let mut all = fields.to_vec();
        all.push(("csrf_token", &csrf));
        self.post_form(path, &all).await
    }

    /// The CSRF token this client's forms carry now (what the hidden field
    /// of a page rendered for its cookies holds).
    pub fn csrf(&self) -> String {
        domain::token::csrf_form_token(
            self.cookie("tf_csrf").unwrap_or_default(),
            self.cookie("tf_session"),
        )
    }

    /// Posts the logout form.
    pub async fn logout(&mut self) -> Reply {
        let csrf = self.csrf();
        self.post_form("/logout", &[("csrf_token", &csrf)]).await
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
