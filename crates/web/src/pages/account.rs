//! `/account/security` and what it links to: remembered devices (revoke one
//! or all) and the password change. Every page needs a full session.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::User;
use serde::Deserialize;

use super::{Client, page, redirect};
use crate::done::{Done, DoneParam};
use crate::extract::{SessionToken, SignedIn, SignedInForm, page_forms};
use crate::words::When;
use crate::{AppError, AppState, csrf};

/// A device row as shown.
pub struct DeviceRow {
    id: i64,
    label: String,
    created: When,
    last_used: When,
    expires: When,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    two_factor: String,
    phone: String,
    recovery_left: u32,
    devices: Vec<DeviceRow>,
    notice: Option<&'a str>,
    can_turn_off: bool,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    min_length: usize,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
}

/// Renders the security page for `user` with an optional notice.
pub async fn security_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let now = state.now();
    let digits = state.login.totp_digits(user).await?;
    let lang = crate::lang::current();
    let app =
        digits.map(|digits| lang.t_with("factor-app", &[("digits", u64::from(digits).into())]));
    let sms = user.phone.as_deref().map(|phone| {
        lang.t_with(
            "factor-sms",
            &[("phone", domain::sms::mask_phone(phone).into())],
        )
    });
    let factors = match (app, sms) {
        (Some(first), Some(second)) => Some(lang.t_with(
            "factor-and",
            &[("first", first.into()), ("second", second.into())],
        )),
        (one, other) => one.or(other),
    };
    let two_factor = match factors {
        Some(factors) => lang.t_with("two-factor-on", &[("factors", factors.into())]),
        None => lang.t("two-factor-off-status"),
    };
    let zone = state.login.practice_zone(user.practice_id).await?;
    let devices = state
        .login
        .devices(user, now)
        .await?
        .into_iter()
        .map(|d| DeviceRow {
            id: d.id,
            label: d.label,
            created: When::at(&zone, d.created_at),
            last_used: When::at(&zone, d.last_used_at),
            expires: When::at(&zone, d.expires_at),
        })
        .collect();
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &SecurityPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            two_factor,
            phone: user
                .phone
                .as_deref()
                .map_or_else(|| lang.t("none"), domain::sms::mask_phone),
            recovery_left: state.login.recovery_codes_left(user).await?,
            devices,
            notice,
            can_turn_off: digits.is_some() && !state.login.policy_for(user).await?.require_2fa,
        },
        &cookies,
    )
}

/// `GET /account/security`; after a change (post/redirect/get) it says
/// what was done.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    query: DoneParam,
) -> Result<Response, AppError> {
    let masked = user
        .phone
        .as_deref()
        .map(domain::sms::mask_phone)
        .unwrap_or_default();
    let notice = query
        .0
        .map(|done| done.words(crate::lang::current(), &masked));
    security_page(&state, &headers, &user, StatusCode::OK, notice.as_deref()).await
}

/// Fields of the forms that carry only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf_token: Option<String>,
}

/// `POST /account/devices/{id}/revoke`: another user's id, or one that does
/// not exist, is a 404 and changes nothing.
pub async fn revoke(
    State(state): State<AppState>,
    Client(ctx): Client,
    Path(id): Path<String>,
    SignedInForm {
        user,
        form: _fields,
    }: SignedInForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let revoked = match id.parse::<i64>() {
        Ok(id) => {
            state
                .login
                .revoke_device(&user, id, &ctx, state.now())
                .await?
        }
        Err(_) => false,
    };
    if !revoked {
        return Ok(super::not_found().await);
    }
    Ok(redirect(&Done::DeviceRevoked.at("/account/security"), &[]))
}

/// `POST /account/devices/revoke-all`.
pub async fn revoke_all(
    State(state): State<AppState>,
    Client(ctx): Client,
    SignedInForm {
        user,
        form: _fields,
    }: SignedInForm<CsrfOnly>,
) -> Result<Response, AppError> {
    state
        .login
        .revoke_all_devices(&user, &ctx, state.now())
        .await?;
    Ok(redirect(&Done::DevicesRevoked.at("/account/security"), &[]))
}

async fn password_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    problem: Option<&crate::lang::Problem>,
) -> Result<Response, AppError> {
    let min_length = state.login.policy_for(user).await?.password_min_length;
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &PasswordPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            min_length,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.map_or("", |p| p.field),
        },
        &cookies,
    )
}

/// `GET /account/password`.
pub async fn password_form(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    password_page(&state, &headers, &user, StatusCode::OK, None).await
}

/// Fields of `POST /account/password`.
#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
    new_password_confirm: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/password`.
pub async fn change_password(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: SignedInForm<PasswordForm>,
) -> Result<Response, AppError> {
    let outcome = state
        .login
        .change_password(
            &user,
            fields.current_password.as_deref().unwrap_or(""),
            fields.new_password.as_deref().unwrap_or(""),
            fields.new_password_confirm.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        Ok(session_token) => {
            let cookie = state.session_set_cookie(&session_token);
            Ok(redirect(
                &Done::PasswordChanged.at("/account/security"),
                &[cookie],
            ))
        }
        Err(message) => {
            password_page(
                &state,
                &headers,
                &user,
                StatusCode::BAD_REQUEST,
                Some(&crate::lang::Problem::of(&message)),
            )
            .await
        }
    }
}

/// Fields of `POST /account/two-factor/off`.
#[derive(Deserialize)]
pub struct TurnOffForm {
    password: Option<String>,
    token: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/two-factor/off`: password and a current token.
pub async fn turn_off(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: SignedInForm<TurnOffForm>,
) -> Result<Response, AppError> {
    let outcome = state
        .login
        .turn_off_2fa(
            &token,
            &user,
            fields.password.as_deref().unwrap_or(""),
            fields.token.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        Ok(()) => Ok(redirect(&Done::TwoFactorOff.at("/account/security"), &[])),
        Err(message) => {
            security_page(
                &state,
                &headers,
                &user,
                StatusCode::BAD_REQUEST,
                Some(&crate::lang::said(&message)),
            )
            .await
        }
    }
}

page_forms! {
    CsrfOnly => "/account/security",
    PasswordForm => "/account/password",
    TurnOffForm => "/account/security",
}
