//! `POST /logout`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{Client, redirect};
use crate::extract::{CsrfForm, page_forms};
use crate::{AppError, AppState, cookies};

/// Fields of `POST /logout`.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
}

/// Ends the session and clears its cookie; the login page then says so.
pub async fn submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(_fields): CsrfForm<LogoutForm>,
) -> Result<Response, AppError> {
    if let Some(token) = cookies::get(&headers, state.session_cookie()) {
        state.login.logout(&token, &ctx, state.now()).await?;
    }
    let clear = cookies::clear(state.session_cookie(), state.config.secure_cookies);
    Ok(redirect(
        &crate::done::Done::LoggedOut.at("/login"),
        &[clear],
    ))
}

page_forms! {
    LogoutForm => "/",
}
