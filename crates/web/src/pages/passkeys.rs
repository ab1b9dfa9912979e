//! Passkeys and security keys: `/account/passkeys` (list, add, remove),
//! the second step's "Use your passkey or security key", and "Sign in with
//! a passkey" on `/login`.
//!
//! A ceremony is two posts from `/static/passkey.js`: its options (JSON
//! for `navigator.credentials`), then the browser's answer as a form field
//! `credential`. Both are ordinary CSRF-checked forms; the answers are
//! JSON: `{"publicKey": …}` or `{"redirect": "…"}`, or `{"error": "…"}`
//! with status 400 (the page shows it).

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{PasskeyFinish, PasskeyLogin, PasskeyStart, User};
use serde::Deserialize;

use super::{Client, add_cookies, page, redirect};
use crate::done::{Done, DoneParam};
use crate::extract::{CsrfForm, SessionToken, SignedIn, SignedInForm, page_forms};
use crate::next::safe_next;
use crate::{AppError, AppState, cookies, csrf};

/// A passkey row as shown.
pub struct PasskeyRow {
    id: i64,
    name: String,
    added: crate::words::When,
    last_used: Option<crate::words::When>,
    synced: &'static str,
}

#[derive(Template)]
#[template(path = "passkeys.html")]
struct PasskeysPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    passkeys: Vec<PasskeyRow>,
    available: bool,
    off_reason: String,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
    /// The passkey whose remove form was refused (0: none): its form
    /// stays open with the refused field marked.
    failed: i64,
    max: usize,
    /// Only a passkey may finish this user's logins and there is none: the
    /// page is where the login waits.
    must_add: bool,
}

/// The account's passkeys page with an optional message.
async fn passkeys_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<(&crate::lang::Problem, i64)>,
) -> Result<Response, AppError> {
    let listed = state.login.passkey_list(user).await?;
    let must_add = listed.is_empty() && state.login.passkey_only(user).await?;
    let zone = state.login.practice_zone(user.practice_id).await?;
    let passkeys = listed
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            added: crate::words::When::at(&zone, p.created_at),
            last_used: p.last_used_at.map(|at| crate::words::When::at(&zone, at)),
            synced: if p.backed_up { "yes" } else { "no" },
        })
        .collect();
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &PasskeysPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            passkeys,
            available: state.login.passkeys_on(),
            off_reason: crate::lang::said(&domain::Reason::PasskeysOff),
            notice,
            error: error.map(|(p, _)| p.words.as_str()),
            invalid: error.map_or("", |(p, _)| p.field),
            failed: error.map_or(0, |(_, id)| id),
            max: domain::passkey::MAX_PER_USER,
            must_add,
        },
        &cookies,
    )
}

/// What the page says when a step-up did not pass, on its field.
fn not_confirmed(step_up: domain::StepUp) -> crate::lang::Problem {
    match step_up.reason() {
        Some(reason) => crate::lang::Problem::of(&reason),
        None => crate::lang::Problem::about("", "passkey-not-confirmed"),
    }
}

/// A JSON refusal the script shows beside the button; `field` (a shared
/// name, or empty) is the input it marks and focuses.
fn refused(status: StatusCode, problem: &crate::lang::Problem) -> Response {
    let body = serde_json::json!({ "error": problem.words, "field": problem.field });
    (status, Json(body)).into_response()
}

/// A JSON answer that sends the browser on to `location`.
fn go_to(location: &str, cookies: &[String]) -> Response {
    let mut response = Json(serde_json::json!({ "redirect": location })).into_response();
    add_cookies(&mut response, cookies);
    response
}

/// Fields of `POST /account/passkeys/options`.
#[derive(Deserialize)]
pub struct BeginForm {
    password: Option<String>,
    current_token: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/passkeys/options`: the password (and, long after the
/// login, a code) first, as for any change of factor.
pub async fn begin(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    SignedInForm { user, form: fields }: SignedInForm<BeginForm, true>,
) -> Result<Response, AppError> {
    let outcome = state
        .login
        .begin_passkey(
            &token,
            &user,
            fields.password.as_deref().unwrap_or(""),
            fields.current_token.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    Ok(match outcome {
        PasskeyStart::Options(options) => Json(options).into_response(),
        PasskeyStart::Refused(step_up) => refused(StatusCode::BAD_REQUEST, &not_confirmed(step_up)),
        PasskeyStart::TooMany => refused(
            StatusCode::BAD_REQUEST,
            &crate::lang::Problem::of(&domain::Reason::PasskeyLimit {
                max: domain::passkey::MAX_PER_USER,
            }),
        ),
        PasskeyStart::Off => refused(
            StatusCode::BAD_REQUEST,
            &crate::lang::Problem::of(&domain::Reason::PasskeysOff),
        ),
    })
}

/// Fields of `POST /account/passkeys`.
#[derive(Deserialize)]
pub struct FinishForm {
    name: Option<String>,
    credential: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/passkeys`: the browser's answer to the options.
pub async fn finish(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    SignedInForm { user, form: fields }: SignedInForm<FinishForm, true>,
) -> Result<Response, AppError> {
    let outcome = state
        .login
        .finish_passkey(
            &token,
            &user,
            fields.name.as_deref().unwrap_or(""),
            fields.credential.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    Ok(match outcome {
        PasskeyFinish::Done => go_to(&Done::PasskeyAdded.at("/account/passkeys"), &[]),
        // The login that waited for it is finished: a new session.
        PasskeyFinish::SignedIn { session_token } => {
            let cookie = state.session_set_cookie(&session_token);
            go_to("/", &[cookie])
        }
        PasskeyFinish::Refused(why) => {
            refused(StatusCode::BAD_REQUEST, &crate::lang::Problem::of(&why))
        }
    })
}

/// Fields of `POST /account/passkeys/{id}/remove`.
#[derive(Deserialize)]
pub struct RemoveForm {
    password: Option<String>,
    current_token: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/passkeys/{id}/remove`: confirmed with the password.
pub async fn remove(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    headers: HeaderMap,
    Path(id): Path<String>,
    SignedInForm { user, form: fields }: SignedInForm<RemoveForm>,
) -> Result<Response, AppError> {
    let Ok(id) = id.parse::<i64>() else {
        return passkeys_page(
            &state,
            &headers,
            &user,
            StatusCode::NOT_FOUND,
            None,
            Some((&crate::lang::Problem::about("", "passkey-no-such"), 0)),
        )
        .await;
    };
    let outcome = state
        .login
        .remove_passkey(
            &token,
            &user,
            id,
            fields.password.as_deref().unwrap_or(""),
            fields.current_token.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        Ok(PasskeyFinish::Done | PasskeyFinish::SignedIn { .. }) => {
            Ok(redirect(&Done::PasskeyRemoved.at("/account/passkeys"), &[]))
        }
        Ok(PasskeyFinish::Refused(why)) => {
            passkeys_page(
                &state,
                &headers,
                &user,
                StatusCode::BAD_REQUEST,
                None,
                Some((&crate::lang::Problem::of(&why), id)),
            )
            .await
        }
        Err(step_up) => {
            let why = not_confirmed(step_up);
            passkeys_page(
                &state,
                &headers,
                &user,
                StatusCode::BAD_REQUEST,
                None,
                Some((&why, id)),
            )
            .await
        }
    }
}

/// `GET /account/passkeys`; after a change (post/redirect/get) it says
/// what was done.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<true>,
    headers: HeaderMap,
    DoneParam(done): DoneParam,
) -> Result<Response, AppError> {
    let notice = done.map(|done| done.words(crate::lang::current(), ""));
    passkeys_page(
        &state,
        &headers,
        &user,
        StatusCode::OK,
        notice.as_deref(),
        None,
    )
    .await
}

/// Fields of the option steps of the login pages (the CSRF token only).
#[derive(Deserialize)]
pub struct LoginOptionsForm {
    csrf_token: Option<String>,
}

/// Fields of the second step's passkey answer.
#[derive(Deserialize)]
pub struct SecondFactorForm {
    credential: Option<String>,
    remember: Option<String>,
    next: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /login/2fa/passkey/options`.
pub async fn second_factor_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_fields): CsrfForm<LoginOptionsForm>,
) -> Result<Response, AppError> {
    let Some(session) = cookies::get(&headers, state.session_cookie()) else {
        return Ok(refused(StatusCode::BAD_REQUEST, &session_ended()));
    };
    Ok(
        match state
            .login
            .second_factor_passkey_options(&session, state.now())
            .await?
        {
            Some(options) => Json(options).into_response(),
            None => refused(StatusCode::BAD_REQUEST, &session_ended()),
        },
    )
}

fn session_ended() -> crate::lang::Problem {
    crate::lang::Problem::about("", "passkey-session-ended")
}

/// `POST /login/2fa/passkey`: a right answer finishes the login as a
/// right token does.
pub async fn second_factor(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<SecondFactorForm>,
) -> Result<Response, AppError> {
    let next = safe_next(fields.next.as_deref());
    let Some(session) = cookies::get(&headers, state.session_cookie()) else {
        return Ok(refused(StatusCode::BAD_REQUEST, &session_ended()));
    };
    let outcome = state
        .login
        .submit_passkey(
            &session,
            fields.credential.as_deref().unwrap_or(""),
            fields.remember.as_deref() == Some("on"),
            &ctx,
            state.now(),
        )
        .await?;
    Ok(login_answer(&state, outcome, &next))
}

/// Fields of the sign-in answer.
#[derive(Deserialize)]
pub struct SignInForm {
    credential: Option<String>,
    next: Option<String>,
    csrf_token: Option<String>,
}

/// The sign-in ceremony's cookie name.
fn sign_in_cookie(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        "__Host-tf_passkey"
    } else {
        "tf_passkey"
    }
}

/// `POST /login/passkey/options`: a challenge bound to a cookie of this
/// browser's, for a discoverable passkey.
pub async fn sign_in_options(
    State(state): State<AppState>,
    CsrfForm(_fields): CsrfForm<LoginOptionsForm>,
) -> Result<Response, AppError> {
    let Some((cookie, options)) = state.login.sign_in_passkey_options(state.now()).await? else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            &crate::lang::Problem::of(&domain::Reason::PasskeysOff),
        ));
    };
    let set = cookies::set(
        sign_in_cookie(&state),
        &cookie,
        state.config.secure_cookies,
        "Strict",
        Some(domain::passkey::CEREMONY_SECONDS),
    );
    let mut response = Json(options).into_response();
    add_cookies(&mut response, &[set]);
    Ok(response)
}

/// `POST /login/passkey`: a discoverable passkey signs in alone.
pub async fn sign_in(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<SignInForm>,
) -> Result<Response, AppError> {
    let next = safe_next(fields.next.as_deref());
    let Some(cookie) = cookies::get(&headers, sign_in_cookie(&state)) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            &crate::lang::Problem::of(&domain::Reason::CeremonyExpired),
        ));
    };
    let outcome = state
        .login
        .sign_in_with_passkey(
            &cookie,
            fields.credential.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    let mut response = login_answer(&state, outcome, &next);
    let clear = cookies::clear(sign_in_cookie(&state), state.config.secure_cookies);
    add_cookies(&mut response, &[clear]);
    Ok(response)
}

/// A passkey login's outcome as the script's JSON.
fn login_answer(state: &AppState, outcome: PasskeyLogin, next: &str) -> Response {
    match outcome {
        PasskeyLogin::Accepted {
            session_token,
            remember_token,
        } => {
            state.metrics.login("passkey", "accepted");
            let set = state.login_cookies(&session_token, remember_token);
            go_to(next, &set)
        }
        PasskeyLogin::Refused(why) => {
            state.metrics.login("passkey", "wrong");
            refused(StatusCode::BAD_REQUEST, &crate::lang::Problem::of(&why))
        }
        PasskeyLogin::Locked { until } => {
            state.metrics.login("passkey", "locked");
            let minutes = until.saturating_sub(state.now()).div_ceil(60);
            refused(
                StatusCode::TOO_MANY_REQUESTS,
                &crate::lang::Problem {
                    words: crate::lang::current()
                        .t_with("passkey-locked", &[("minutes", minutes.into())]),
                    field: "",
                },
            )
        }
        PasskeyLogin::SessionEnded => {
            state.metrics.login("passkey", "session_ended");
            refused(StatusCode::BAD_REQUEST, &session_ended())
        }
    }
}

page_forms! {
    BeginForm => "/account/passkeys",
    FinishForm => "/account/passkeys",
    RemoveForm => "/account/passkeys",
    LoginOptionsForm => "/login",
    SecondFactorForm => "/login/2fa",
    SignInForm => "/login",
}
