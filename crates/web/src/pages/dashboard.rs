//! `/`: a small protected page standing in for the clinic's application.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::page;
use crate::extract::SignedIn;
use crate::{AppError, AppState, csrf};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    tr: crate::lang::Tr,
    username: &'a str,
    csrf_token: &'a str,
    is_admin: bool,
    /// A second factor but no recovery codes: asked to make them.
    needs_recovery_codes: bool,
}

/// `GET /`.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let has_factor = user.phone.is_some() || state.login.totp_digits(&user).await?.is_some();
    let needs_recovery_codes = has_factor && state.login.recovery_codes_left(&user).await? == 0;
    let (csrf_token, csrf_cookie) = csrf::issue(&state, &headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        StatusCode::OK,
        &DashboardPage {
            tr: crate::lang::Tr::current(),
            username: &user.username,
            csrf_token: &csrf_token,
            is_admin: user.role == domain::Role::Admin,
            needs_recovery_codes,
        },
        &cookies,
    )
}
