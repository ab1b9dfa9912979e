//! `POST /logout`.

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{Client, form, redirect};
use crate::{AppError, AppState, cookies, csrf};

/// Fields of `POST /logout`.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
}

/// Ends the session and clears its cookie.
pub async fn submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    body: Result<axum::Form<LogoutForm>, FormRejection>,
) -> Result<Response, AppError> {
    let fields = form(body)?;
    csrf::check(&state, &headers, fields.csrf_token.as_deref())?;
    if let Some(token) = cookies::get(&headers, state.session_cookie()) {
        state.login.logout(&token, &ctx, state.now()).await?;
    }
    let clear = cookies::clear(state.session_cookie(), state.config.secure_cookies);
    Ok(redirect("/login", &[clear]))
}
