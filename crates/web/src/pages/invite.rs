//! Links that arrive outside a session: `/invite/{token}` (an invited user
//! chooses a password, then logs in and enrolls where 2FA is required) and
//! `/emergency/{token}` (an administrator without factors logs in once with
//! the password). Both are served with `Referrer-Policy: no-referrer`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::admin::{EmergencyOutcome, InviteOutcome};
use serde::Deserialize;

use super::forgot::{link_token, no_referrer};
use super::{Client, page, redirect};
use crate::error::MessagePage;
use crate::extract::{CsrfForm, page_forms};
use crate::{AppError, AppState, csrf};

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    link_token: &'a str,
    username: &'a str,
    min_length: usize,
    require_2fa: bool,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
}

#[derive(Template)]
#[template(path = "emergency.html")]
struct EmergencyPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    link_token: &'a str,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
}

/// A link that no longer works: `what` names its messages
/// (`dead-<what>-title`, `dead-<what>-message`).
fn dead_link(what: &str) -> Response {
    let lang = crate::lang::current();
    no_referrer(
        MessagePage {
            title: &lang.t(&format!("dead-{what}-title")),
            message: &lang.t(&format!("dead-{what}-message")),
            link: "/login",
            link_text: &lang.t("log-in"),
        }
        .respond(StatusCode::NOT_FOUND),
    )
}

fn invalid_invitation() -> Response {
    dead_link("invitation")
}

async fn invite_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    problem: Option<&crate::lang::Problem>,
) -> Result<Response, AppError> {
    let Some(user) = state.login.invitation(token, state.now()).await? else {
        return Ok(invalid_invitation());
    };
    let policy = state.login.policy_for(&user).await?;
    let (csrf_token, cookie) = csrf::issue(state, headers)?;
    let set: Vec<String> = cookie.into_iter().collect();
    Ok(no_referrer(page(
        status,
        &InvitePage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            link_token: token,
            username: &user.username,
            min_length: policy.password_min_length,
            require_2fa: policy.require_2fa,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.map_or("", |p| p.field),
        },
        &set,
    )?))
}

/// `GET /invite/{token}`.
pub async fn show_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    match link_token(&raw) {
        Some(token) => invite_page(&state, &headers, token, StatusCode::OK, None).await,
        None => Ok(invalid_invitation()),
    }
}

/// Fields of `POST /invite/{token}`.
#[derive(Deserialize)]
pub struct InviteForm {
    password: Option<String>,
    password_confirm: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /invite/{token}`: sets the password and logs in.
pub async fn accept_invite(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    Path(raw): Path<String>,
    CsrfForm(fields): CsrfForm<InviteForm>,
) -> Result<Response, AppError> {
    let Some(token) = link_token(&raw) else {
        return Ok(invalid_invitation());
    };
    let outcome = state
        .login
        .accept_invitation(
            token,
            fields.password.as_deref().unwrap_or(""),
            fields.password_confirm.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        InviteOutcome::Done(signed_in) => {
            Ok(no_referrer(super::login::signed_in(&state, signed_in, "/")))
        }
        InviteOutcome::InvalidLink => Ok(invalid_invitation()),
        InviteOutcome::Rejected(message) => {
            invite_page(
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

fn invalid_emergency() -> Response {
    dead_link("emergency")
}

fn emergency_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    problem: Option<&crate::lang::Problem>,
) -> Result<Response, AppError> {
    let (csrf_token, cookie) = csrf::issue(state, headers)?;
    let set: Vec<String> = cookie.into_iter().collect();
    Ok(no_referrer(page(
        status,
        &EmergencyPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            link_token: token,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.map_or("", |p| p.field),
        },
        &set,
    )?))
}

/// `GET /emergency/{token}`.
pub async fn show_emergency(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    match link_token(&raw) {
        Some(token) if state.login.emergency_link_valid(token, state.now()).await? => {
            emergency_page(&state, &headers, token, StatusCode::OK, None)
        }
        _ => Ok(invalid_emergency()),
    }
}

/// Fields of `POST /emergency/{token}`.
#[derive(Deserialize)]
pub struct EmergencyForm {
    password: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /emergency/{token}`: the password, then a full session.
pub async fn use_emergency(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    Path(raw): Path<String>,
    CsrfForm(fields): CsrfForm<EmergencyForm>,
) -> Result<Response, AppError> {
    let Some(token) = link_token(&raw) else {
        return Ok(invalid_emergency());
    };
    match state
        .login
        .use_emergency_access(
            token,
            fields.password.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?
    {
        EmergencyOutcome::LoggedIn { session_token } => {
            let cookie = state.session_set_cookie(&session_token);
            Ok(no_referrer(redirect("/account/security", &[cookie])))
        }
        EmergencyOutcome::InvalidLink => Ok(invalid_emergency()),
        EmergencyOutcome::WrongPassword => emergency_page(
            &state,
            &headers,
            token,
            StatusCode::UNAUTHORIZED,
            Some(&crate::lang::Problem::about(
                "own-password",
                "emergency-wrong-password",
            )),
        ),
    }
}

page_forms! {
    EmergencyForm => "/login",
    InviteForm => "/login",
}
