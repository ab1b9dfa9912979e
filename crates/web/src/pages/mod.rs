//! One module per page; this file only wires them and holds the helpers
//! every handler shares.

pub mod account;
pub mod admin;
pub mod assets;
pub mod authenticator;
pub mod dashboard;
pub mod forgot;
pub mod forward_auth;
pub mod health;
pub mod invite;
pub mod login;
pub mod logout;
pub mod outbox;
pub mod passkeys;
pub mod phone;
pub mod recovery;
pub mod second_factor;
pub mod sms;

use std::net::SocketAddr;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use domain::RequestContext;

use crate::AppError;
use crate::error::MessagePage;

/// Who is asking: IP and user agent, for the audit trail and throttling.
pub struct Client(pub RequestContext);

impl FromRequestParts<crate::AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        let ip = crate::client_ip::client_ip(peer, &parts.headers, &state.config.trusted_proxies);
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(256)
            .collect();
        Ok(Client(RequestContext { ip, user_agent }))
    }
}

/// The form, or a clear error page for a malformed or oversized one.
pub fn form<T>(result: Result<axum::Form<T>, FormRejection>) -> Result<T, AppError> {
    match result {
        Ok(axum::Form(value)) => Ok(value),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(AppError::TooLarge)
        }
        Err(rejection) => Err(AppError::BadRequest(rejection.body_text())),
    }
}

/// A 303 redirect that sets `cookies`.
pub fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    add_cookies(&mut response, cookies);
    response
}

/// A rendered page with `status` that sets `cookies`.
pub fn page(
    status: StatusCode,
    template: &impl Template,
    cookies: &[String],
) -> Result<Response, AppError> {
    let mut response = (status, Html(template.render()?)).into_response();
    add_cookies(&mut response, cookies);
    Ok(response)
}

/// Appends a `Set-Cookie` header for each of `cookies` to `response`.
pub(crate) fn add_cookies(response: &mut Response, cookies: &[String]) {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
}

/// A form field as typed, cut to `max` characters, to show again on the
/// form after a refusal.
pub fn as_typed(value: &Option<String>, max: usize) -> String {
    value.as_deref().unwrap_or("").chars().take(max).collect()
}

/// `next` as a query-string value.
pub fn encode_next(next: &str) -> String {
    let mut out = String::with_capacity(next.len());
    for byte in next.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Unknown paths.
pub async fn not_found() -> Response {
    let lang = crate::lang::current();
    MessagePage {
        title: &lang.t("not-found-title"),
        message: &lang.t("not-found-message"),
        link: "/",
        link_text: &lang.t("not-found-link"),
    }
    .respond(StatusCode::NOT_FOUND)
}
