//! `/password/forgot` and `/password/reset/{token}`: a reset link by email.
//! The reset page is served with `Referrer-Policy: no-referrer` so the token
//! in its URL never leaks to another site.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::REFERRER_POLICY;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use domain::{ResetOutcome, ResetRequest};
use serde::Deserialize;

use super::{Client, page, redirect};
use crate::done::{Done, DoneParam};
use crate::error::MessagePage;
use crate::extract::{CsrfForm, page_forms};
use crate::{AppError, AppState, csrf};

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    link_token: &'a str,
    min_length: usize,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
}

fn forgot_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let (csrf_token, cookie) = csrf::issue(state, headers)?;
    let set: Vec<String> = cookie.into_iter().collect();
    page(
        status,
        &ForgotPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            notice,
            error,
        },
        &set,
    )
}

/// `GET /password/forgot`; after a request (post/redirect/get) it says
/// that a link may be on its way.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    DoneParam(done): DoneParam,
) -> Result<Response, AppError> {
    let notice = done.map(|done| done.words(crate::lang::current(), ""));
    forgot_page(&state, &headers, StatusCode::OK, notice.as_deref(), None)
}

/// Fields of `POST /password/forgot`.
#[derive(Deserialize)]
pub struct ForgotForm {
    username_or_email: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /password/forgot`: the same answer whether or not the account exists.
pub async fn submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<ForgotForm>,
) -> Result<Response, AppError> {
    let typed: String = fields
        .username_or_email
        .unwrap_or_default()
        .chars()
        .take(254)
        .collect();
    let now = state.now();
    let answer = if state.login.reset_request_allowed(&ctx, now).await? {
        // The answer does not wait for the lookup and the email: they take
        // time only for real accounts, and its timing must not say which.
        let login = state.login.clone();
        let lang = crate::lang::current();
        let base_url = state.config.public_url.clone();
        let running = login.pending_work().begin();
        tokio::spawn(async move {
            running.turn().await;
            if let Err(error) = login
                .send_reset_link(&typed, &base_url, lang, &ctx, now)
                .await
            {
                tracing::error!(%error, "a reset link could not be sent");
            }
            drop(running);
        });
        ResetRequest::Accepted
    } else {
        ResetRequest::Throttled
    };
    match answer {
        ResetRequest::Accepted => Ok(redirect(&Done::ResetRequested.at("/password/forgot"), &[])),
        ResetRequest::Throttled => forgot_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            None,
            Some(&crate::lang::current().t("reset-throttled")),
        ),
    }
}

pub(crate) fn no_referrer(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn invalid_link() -> Response {
    let lang = crate::lang::current();
    no_referrer(
        MessagePage {
            title: &lang.t("dead-reset-title"),
            message: &lang.t("dead-reset-message"),
            link: "/password/forgot",
            link_text: &lang.t("dead-reset-link"),
        }
        .respond(StatusCode::NOT_FOUND),
    )
}

async fn reset_page(
    state: &AppState,
    headers: &HeaderMap,
    link_token: &str,
    status: StatusCode,
    problem: Option<&crate::lang::Problem>,
) -> Result<Response, AppError> {
    let min_length = state
        .login
        .reset_link_min_length(link_token, state.now())
        .await?
        .unwrap_or(state.login.policy().password_min_length);
    let (csrf_token, cookie) = csrf::issue(state, headers)?;
    let set: Vec<String> = cookie.into_iter().collect();
    let page = page(
        status,
        &ResetPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            link_token,
            min_length,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.map_or("", |p| p.field),
        },
        &set,
    )?;
    Ok(no_referrer(page))
}

/// The token from the path, if it can be one (43 URL-safe characters).
pub(crate) fn link_token(raw: &str) -> Option<&str> {
    (raw.len() == 43
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(raw)
}

/// `GET /password/reset/{token}`.
pub async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    match link_token(&raw) {
        Some(token)
            if state
                .login
                .reset_link_min_length(token, state.now())
                .await?
                .is_some() =>
        {
            reset_page(&state, &headers, token, StatusCode::OK, None).await
        }
        _ => Ok(invalid_link()),
    }
}

/// Fields of `POST /password/reset/{token}`.
#[derive(Deserialize)]
pub struct ResetForm {
    password: Option<String>,
    password_confirm: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /password/reset/{token}`: does not log in.
pub async fn reset_submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    Path(raw): Path<String>,
    CsrfForm(fields): CsrfForm<ResetForm>,
) -> Result<Response, AppError> {
    let Some(token) = link_token(&raw) else {
        return Ok(invalid_link());
    };
    let outcome = state
        .login
        .reset_password(
            token,
            fields.password.as_deref().unwrap_or(""),
            fields.password_confirm.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        ResetOutcome::Done => Ok(no_referrer(redirect(
            &Done::PasswordReset.at("/login"),
            &[],
        ))),
        ResetOutcome::InvalidLink => Ok(invalid_link()),
        ResetOutcome::Rejected(message) => {
            reset_page(
                &state,
                &headers,
                token,
                StatusCode::BAD_REQUEST,
                Some(&crate::lang::Problem::of(&message)),
            )
            .await
        }
    }
}

page_forms! {
    ForgotForm => "/password/forgot",
    ResetForm => "/password/forgot",
}
