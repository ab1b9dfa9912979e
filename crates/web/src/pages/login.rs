//! `/login`: username and password.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::PasswordOutcome;
use serde::Deserialize;

use super::{Client, encode_next, page, redirect};
use crate::extract::{CsrfForm, page_forms};
use crate::next::safe_next;
use crate::{AppError, AppState, cookies, csrf};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// "Sign in with a passkey" is offered (passkeys work on this server).
    passkeys: bool,
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// `login`: show the form even to a signed-in browser (an application
    /// asked for a fresh sign-in).
    prompt: Option<String>,
}

/// Fields of `POST /login`.
#[derive(Deserialize)]
pub struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    next: Option<String>,
}

/// What the login page shows besides the form.
#[derive(Debug, Default)]
pub struct LoginView<'a> {
    /// Where to go after login.
    pub next: &'a str,
    /// The username to prefill.
    pub username: &'a str,
    /// An error in red.
    pub error: Option<&'a str>,
    /// A notice in blue.
    pub notice: Option<&'a str>,
}

/// Renders the login page with an optional message.
pub fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    view: LoginView<'_>,
    extra_cookies: &[String],
) -> Result<Response, AppError> {
    let LoginView {
        next,
        username,
        error,
        notice,
    } = view;
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let mut cookies: Vec<String> = extra_cookies.to_vec();
    cookies.extend(csrf_cookie);
    page(
        status,
        &LoginPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            next,
            username,
            error,
            notice,
            passkeys: state.login.passkeys_on(),
        },
        &cookies,
    )
}

/// `GET /login`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
    crate::done::DoneParam(done): crate::done::DoneParam,
) -> Result<Response, AppError> {
    let query = query.ok().map(|q| q.0);
    let notice = done.map(|done| done.words(crate::lang::current(), ""));
    let fresh = query.as_ref().and_then(|q| q.prompt.as_deref()) == Some("login");
    let next = safe_next(query.and_then(|q| q.next).as_deref());
    if let Some(token) = cookies::get(&headers, state.session_cookie()).filter(|_| !fresh) {
        if state
            .login
            .authenticated(&token, state.now())
            .await?
            .is_some()
        {
            return Ok(redirect(&next, &[]));
        }
    }
    render(
        &state,
        &headers,
        StatusCode::OK,
        LoginView {
            next: &next,
            notice: notice.as_deref(),
            ..LoginView::default()
        },
        &[],
    )
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(fields.next.as_deref());
    let username = fields.username.unwrap_or_default();
    let password = fields.password.unwrap_or_default();
    let shown_name: String = username.chars().take(64).collect();
    let now = state.now();
    let remembered = cookies::get(&headers, state.remember_cookie());
    let outcome = state
        .login
        .submit_password(&username, &password, remembered.as_deref(), &ctx, now)
        .await?;
    state.metrics.login(
        "password",
        match &outcome {
            PasswordOutcome::Rejected => "rejected",
            PasswordOutcome::Throttled { .. } => "throttled",
            PasswordOutcome::Complete {
                remember_token: Some(_),
                ..
            } => "remembered_device",
            PasswordOutcome::Complete { .. } => "complete",
            PasswordOutcome::SecondFactor { .. } => "second_factor",
            PasswordOutcome::MustEnroll { .. } => "must_enroll",
            PasswordOutcome::MustAddPasskey { .. } => "must_add_passkey",
        },
    );
    let lang = crate::lang::current();
    match outcome {
        PasswordOutcome::Rejected => render(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            LoginView {
                next: &next,
                username: &shown_name,
                error: Some(&lang.t("wrong-password")),
                notice: None,
            },
            &[],
        ),
        PasswordOutcome::Throttled { retry_after } => {
            let minutes = retry_after.div_ceil(60);
            let message = lang.t_with("password-throttled", &[("minutes", minutes.into())]);
            render(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                LoginView {
                    next: &next,
                    username: &shown_name,
                    error: Some(&message),
                    notice: None,
                },
                &[],
            )
        }
        other => Ok(signed_in(&state, other, &next)),
    }
}

/// Where a right password leads: the session cookie and the redirect to
/// `next`, to the second factor, or into linking an app. (A refused
/// password has no session; it goes back to the login page.)
pub(crate) fn signed_in(state: &AppState, outcome: PasswordOutcome, next: &str) -> Response {
    match outcome {
        PasswordOutcome::Rejected | PasswordOutcome::Throttled { .. } => redirect("/login", &[]),
        PasswordOutcome::Complete {
            session_token,
            remember_token,
        } => {
            let set = state.login_cookies(&session_token, remember_token);
            redirect(next, &set)
        }
        PasswordOutcome::SecondFactor { session_token } => {
            let cookie = state.session_set_cookie(&session_token);
            redirect(&format!("/login/2fa?next={}", encode_next(next)), &[cookie])
        }
        // Straight into linking an app; the session grants nothing else.
        PasswordOutcome::MustEnroll { session_token } => {
            let cookie = state.session_set_cookie(&session_token);
            redirect("/account/authenticator", &[cookie])
        }
        // Straight into registering a passkey; nothing else is granted.
        PasswordOutcome::MustAddPasskey { session_token } => {
            let cookie = state.session_set_cookie(&session_token);
            redirect("/account/passkeys", &[cookie])
        }
    }
}

page_forms! {
    LoginForm => "/login",
}
