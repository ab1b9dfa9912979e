//! `/login/recovery`: a recovery code instead of the token.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::TokenOutcome;
use serde::Deserialize;

use super::{Client, encode_next, page, redirect};
use crate::extract::{CsrfForm, SignedIn, page_forms};
use crate::next::safe_next;
use crate::{AppError, AppState, cookies, csrf};

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage<'a> {
    tr: crate::lang::Tr,
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
            tr: crate::lang::Tr::current(),
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
            let lang = crate::lang::current();
            let message = format!(
                "{} {}",
                lang.t("recovery-wrong"),
                lang.t_with("attempts-left", &[("count", attempts_left.into())])
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
            super::second_factor::locked_out(&state, &headers, &next, "locked-codes", until, now)
        }
        TokenOutcome::SessionEnded => super::second_factor::session_ended(
            &state,
            &headers,
            &next,
            &super::second_factor::expired(&state),
        ),
        TokenOutcome::TooManyWrong => super::second_factor::session_ended(
            &state,
            &headers,
            &next,
            &crate::lang::current().t("too-many-wrong"),
        ),
        TokenOutcome::PasskeyRequired => {
            super::second_factor::passkey_required(&state, &headers, &next, &session_token).await
        }
    }
}

/// After a right recovery code: the new session's cookie, and on to the
/// page that offers linking a new phone (post/redirect/get: a reload must
/// not send the used code again).
async fn accepted(
    state: &AppState,
    _user: Option<&domain::User>,
    session_token: &str,
    next: &str,
) -> Result<Response, AppError> {
    let cookie = state.session_set_cookie(session_token);
    Ok(redirect(
        &format!("/login/recovery/used?next={}", encode_next(next)),
        &[cookie],
    ))
}

#[derive(Template)]
#[template(path = "recovery_used.html")]
struct RecoveryUsedPage<'a> {
    tr: crate::lang::Tr,
    next: &'a str,
    left: u32,
    /// Two or fewer left: making a new set is urged too.
    few_left: bool,
}

/// `GET /login/recovery/used`: logged in with a recovery code, most often
/// because the phone is lost: offers linking a new one first, then going on.
pub async fn used(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    query: Result<Query<RecoveryQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let next = safe_next(query.ok().and_then(|q| q.0.next).as_deref());
    let left = state.login.recovery_codes_left(&user).await?;
    page(
        StatusCode::OK,
        &RecoveryUsedPage {
            tr: crate::lang::Tr::current(),
            next: &next,
            left,
            few_left: left <= 2,
        },
        &[],
    )
}

page_forms! {
    RecoveryForm => "/login/recovery",
}
