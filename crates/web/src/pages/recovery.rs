//! `/login/recovery`: a recovery code instead of the token.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::TokenOutcome;
use serde::Deserialize;

use super::{Client, encode_next, page, redirect};
use crate::error::MessagePage;
use crate::extract::{CsrfForm, page_forms};
use crate::next::safe_next;
use crate::{AppError, AppState, cookies, csrf};

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage<'a> {
    csrf_token: &'a str,
    next: &'a str,
    /// `next` encoded for a query string (links between the two pages).
    next_query: String,
    error: Option<&'a str>,
}

/// Query of `GET /login/recovery`.
#[derive(Debug, Deserialize)]
pub struct RecoveryQuery {
    next: Option<String>,
}

/// Fields of `POST /login/recovery`.
#[derive(Deserialize)]
pub struct RecoveryForm {
    code: Option<String>,
    csrf_token: Option<String>,
    next: Option<String>,
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &RecoveryPage {
            csrf_token: &csrf_token,
            next,
            next_query: super::encode_next(next),
            error,
        },
        &cookies,
    )
}

/// `GET /login/recovery`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RecoveryQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let next = safe_next(query.ok().and_then(|q| q.0.next).as_deref());
    let pending = match cookies::get(&headers, state.session_cookie()) {
        Some(token) => state.login.pending(&token, state.now()).await?,
        None => None,
    };
    if pending.is_none() {
        return Ok(redirect(
            &format!("/login?next={}", encode_next(&next)),
            &[],
        ));
    }
    render(&state, &headers, StatusCode::OK, &next, None)
}

/// `POST /login/recovery`.
pub async fn submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<RecoveryForm>,
) -> Result<Response, AppError> {
    let next = safe_next(fields.next.as_deref());
    let now = state.now();
    let Some(session_token) = cookies::get(&headers, state.session_cookie()) else {
        return Ok(redirect("/login", &[]));
    };
    let user = state
        .login
        .pending(&session_token, now)
        .await?
        .map(|(_, u)| u);
    let typed: String = fields.code.unwrap_or_default().chars().take(64).collect();
    let outcome = state
        .login
        .submit_recovery_code(&session_token, &typed, &ctx, now)
        .await?;
    state.metrics.login(
        "recovery_code",
        super::second_factor::outcome_label(&outcome),
    );
    match outcome {
        TokenOutcome::Accepted { session_token, .. } => {
            accepted(&state, user.as_ref(), &session_token, &next).await
        }
        TokenOutcome::Wrong { attempts_left, .. } => {
            let message = format!(
                "That recovery code is not valid or was already used. {attempts_left} attempt(s) left."
            );
            render(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &next,
                Some(&message),
            )
        }
        TokenOutcome::Locked { until } => {
            super::second_factor::locked_out(&state, &headers, &next, "codes", until, now)
        }
        TokenOutcome::SessionEnded => super::second_factor::session_ended(
            &state,
            &headers,
            &next,
            "Your login session has ended. Please log in again.",
        ),
        TokenOutcome::PasskeyRequired => {
            super::second_factor::passkey_required(&state, &headers, &next, &session_token).await
        }
    }
}

/// The page after a right recovery code: how many are left, and the new
/// session's cookie.
async fn accepted(
    state: &AppState,
    user: Option<&domain::User>,
    session_token: &str,
    next: &str,
) -> Result<Response, AppError> {
    let left = match user {
        Some(user) => state.login.recovery_codes_left(user).await?,
        None => 0,
    };
    let cookie = state.session_set_cookie(session_token);
    let message = format!(
        "Recovery code accepted; it cannot be used again. You have {left} recovery code(s) left.{}",
        if left <= 2 {
            " Make new ones on your account's security page, and link your new phone."
        } else {
            ""
        }
    );
    let mut response = MessagePage {
        title: "Logged in with a recovery code",
        message: &message,
        link: next,
        link_text: "Continue",
    }
    .respond(StatusCode::OK);
    super::add_cookies(&mut response, &[cookie]);
    Ok(response)
}

page_forms! {
    RecoveryForm => "/login/recovery",
}
