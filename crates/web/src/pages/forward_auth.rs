//! `GET /auth/verify`: lets nginx `auth_request`, Traefik `forwardAuth` and
//! Caddy `forward_auth` protect any upstream. 200 with `Remote-User` and
//! `Remote-Email` for a full session; otherwise 401, or a 302 to the login
//! page when the proxy passes `rd` (Traefik, Caddy) or a browser asks.

use axum::extract::{Query, State};
use axum::http::header::{ACCEPT, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::encode_next;
use crate::next::safe_next;
use crate::{AppError, AppState, cookies};

/// Query of `/auth/verify`.
#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    rd: Option<String>,
}

/// `GET /auth/verify`.
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let session = match cookies::get(&headers, state.session_cookie()) {
        Some(token) => state.login.authenticated(&token, state.now()).await?,
        None => None,
    };
    if let Some((_, user)) = session {
        let mut response = StatusCode::OK.into_response();
        for (name, value) in [
            ("remote-user", &user.username),
            ("remote-email", &user.email),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name, value);
            }
        }
        return Ok(response);
    }
    let rd = query.ok().and_then(|q| q.0.rd);
    let original = headers
        .get("x-original-uri")
        .or_else(|| headers.get("x-forwarded-uri"))
        .and_then(|v| v.to_str().ok());
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if rd.is_some() || wants_html {
        let next = safe_next(rd.as_deref().or(original));
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(value) = HeaderValue::from_str(&format!("/login?next={}", encode_next(&next))) {
            response.headers_mut().insert(LOCATION, value);
        }
        return Ok(response);
    }
    Ok(StatusCode::UNAUTHORIZED.into_response())
}
