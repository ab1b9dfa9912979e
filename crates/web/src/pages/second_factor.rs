//! `/login/2fa`: the token from the authenticator app.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::TokenOutcome;
use serde::Deserialize;

use super::{Client, page, redirect};
use crate::extract::{CsrfForm, page_forms};
use crate::next::safe_next;
use crate::{AppError, AppState, cookies, csrf};

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    next: &'a str,
    /// `next` encoded for a query string (links between the two pages).
    next_query: String,
    digits: u8,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// An authenticator app is linked.
    app: bool,
    sms_available: bool,
    /// The phone number texts go to, masked.
    masked_phone: String,
    /// Unused recovery codes: the recovery link shows only with some.
    recovery_left: u32,
    /// Days "Save token" lasts; 0 hides the checkbox (practice policy).
    remember_days: u64,
    /// The user has a passkey and passkeys work here: offered first.
    passkey: bool,
    /// Codes (app, text, recovery) may finish this login: false where only
    /// a passkey counts ([`domain::Policy::passkey_only`]).
    codes: bool,
}

/// Query of `GET /login/2fa`.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    next: Option<String>,
}

/// Fields of `POST /login/2fa`.
#[derive(Deserialize)]
pub struct TokenForm {
    token: Option<String>,
    remember: Option<String>,
    csrf_token: Option<String>,
    next: Option<String>,
}

/// A message on the Two-Factor Login page.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// Nothing to say.
    None,
    /// Something went wrong (red).
    Error(&'a str),
    /// Information (blue).
    Notice(&'a str),
}

/// Renders the Two-Factor Login page for `user`.
pub async fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    user: &domain::User,
    message: Message<'_>,
) -> Result<Response, AppError> {
    let (error, notice) = match message {
        Message::None => (None, None),
        Message::Error(text) => (Some(text), None),
        Message::Notice(text) => (None, Some(text)),
    };
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let app_digits = state.login.totp_digits(user).await?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    let policy = state.login.policy_for(user).await?;
    let sms_available = user.phone.is_some() && policy.allow_sms;
    // A texted code has 6 digits; the app's may have more.
    let digits = app_digits.unwrap_or(6);
    page(
        status,
        &SecondFactorPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            next,
            next_query: super::encode_next(next),
            digits,
            error,
            notice,
            app: app_digits.is_some(),
            sms_available,
            masked_phone: user
                .phone
                .as_deref()
                .map(domain::sms::mask_phone)
                .unwrap_or_default(),
            recovery_left: state.login.recovery_codes_left(user).await?,
            remember_days: policy.remember_device_seconds / 86_400,
            passkey: state.login.passkeys_on() && state.login.has_passkey(user.id).await?,
            codes: !policy.passkey_only(user.role),
        },
        &cookies,
    )
}

/// Why a login's code step ended: the time between the password and the
/// code ran out (or the login was ended elsewhere).
pub(super) fn expired(state: &AppState) -> String {
    let minutes = state.login.policy().pending_session_seconds.div_ceil(60);
    crate::lang::current().t_with("login-expired", &[("minutes", minutes.into())])
}

pub(super) fn session_ended(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    why: &str,
) -> Result<Response, AppError> {
    let clear = cookies::clear(state.session_cookie(), state.config.secure_cookies);
    super::login::render(
        state,
        headers,
        StatusCode::UNAUTHORIZED,
        super::login::LoginView {
            next,
            notice: Some(why),
            ..Default::default()
        },
        &[clear],
    )
}

/// The login page saying the second factor is locked for a while, and
/// ending the half-logged-in session. `message` (`locked-tokens`,
/// `locked-codes`) names what was wrong too often.
pub(super) fn locked_out(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    message: &str,
    until: u64,
    now: u64,
) -> Result<Response, AppError> {
    let minutes = until.saturating_sub(now).div_ceil(60);
    let clear = cookies::clear(state.session_cookie(), state.config.secure_cookies);
    let message = crate::lang::current().t_with(message, &[("minutes", minutes.into())]);
    super::login::render(
        state,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        super::login::LoginView {
            next,
            error: Some(&message),
            ..Default::default()
        },
        &[clear],
    )
}

/// `GET /login/2fa`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
    crate::done::DoneParam(done): crate::done::DoneParam,
) -> Result<Response, AppError> {
    let next = safe_next(query.ok().and_then(|q| q.0.next).as_deref());
    let pending = match cookies::get(&headers, state.session_cookie()) {
        Some(token) => state.login.pending(&token, state.now()).await?,
        None => None,
    };
    match pending {
        Some((_, user)) => {
            let masked = user
                .phone
                .as_deref()
                .map(domain::sms::mask_phone)
                .unwrap_or_default();
            let said = done.map(|done| done.words(crate::lang::current(), &masked));
            let message = said.as_deref().map_or(Message::None, Message::Notice);
            render(&state, &headers, StatusCode::OK, &next, &user, message).await
        }
        None => Ok(redirect(
            &format!("/login?next={}", super::encode_next(&next)),
            &[],
        )),
    }
}

/// `POST /login/2fa`.
pub async fn submit(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<TokenForm>,
) -> Result<Response, AppError> {
    let next = safe_next(fields.next.as_deref());
    let remember = fields.remember.as_deref() == Some("on");
    let Some(session_token) = cookies::get(&headers, state.session_cookie()) else {
        return session_ended(
            &state,
            &headers,
            &next,
            &crate::lang::current().t("login-ended"),
        );
    };
    let now = state.now();
    let typed: String = fields.token.unwrap_or_default().chars().take(32).collect();
    let outcome = state
        .login
        .submit_token(&session_token, &typed, remember, &ctx, now)
        .await?;
    state.metrics.login("token", outcome_label(&outcome));
    match outcome {
        TokenOutcome::Accepted {
            session_token,
            remember_token,
        } => {
            let set = state.login_cookies(&session_token, remember_token);
            Ok(redirect(&next, &set))
        }
        TokenOutcome::Wrong {
            attempts_left,
            reused,
            clock_behind_minutes,
        } => {
            let message = wrong_token_message(
                crate::lang::current(),
                reused,
                typed.trim().is_empty(),
                clock_behind_minutes,
                attempts_left,
            );
            let status = StatusCode::UNAUTHORIZED;
            again(
                &state,
                &headers,
                &next,
                &session_token,
                status,
                &message,
                now,
            )
            .await
        }
        TokenOutcome::Locked { until } => {
            locked_out(&state, &headers, &next, "locked-tokens", until, now)
        }
        TokenOutcome::SessionEnded => session_ended(&state, &headers, &next, &expired(&state)),
        TokenOutcome::TooManyWrong => {
            let why = crate::lang::current().t("too-many-wrong");
            session_ended(&state, &headers, &next, &why)
        }
        TokenOutcome::PasskeyRequired => {
            passkey_required(&state, &headers, &next, &session_token).await
        }
    }
}

/// A code step's outcome as `/metrics` counts it.
pub(super) fn outcome_label(outcome: &TokenOutcome) -> &'static str {
    match outcome {
        TokenOutcome::Accepted { .. } => "accepted",
        TokenOutcome::Wrong { .. } => "wrong",
        TokenOutcome::Locked { .. } => "locked",
        TokenOutcome::SessionEnded => "session_ended",
        TokenOutcome::TooManyWrong => "too_many_wrong",
        TokenOutcome::PasskeyRequired => "passkey_required",
    }
}

/// The code step's page again, saying that only a passkey finishes this
/// login (a code was typed where the policy refuses codes).
pub(super) async fn passkey_required(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    session_token: &str,
) -> Result<Response, AppError> {
    let message = &crate::lang::current().t("passkey-required");
    let status = StatusCode::FORBIDDEN;
    again(
        state,
        headers,
        next,
        session_token,
        status,
        message,
        state.now(),
    )
    .await
}

/// What the code page says after a wrong code.
fn wrong_token_message(
    lang: i18n::Lang,
    reused: bool,
    empty: bool,
    clock_behind_minutes: Option<u64>,
    attempts_left: u32,
) -> String {
    let mut message = lang.t(if reused {
        "token-reused"
    } else if empty {
        "token-empty"
    } else {
        "token-wrong"
    });
    if let Some(minutes) = clock_behind_minutes {
        message.push(' ');
        message.push_str(&lang.t_with("clock-behind", &[("minutes", minutes.into())]));
    }
    message.push(' ');
    message.push_str(&lang.t_with("attempts-left", &[("count", attempts_left.into())]));
    message
}

/// The code page again with `message` under `status`, or the "session
/// ended" page.
async fn again(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    session_token: &str,
    status: StatusCode,
    message: &str,
    now: u64,
) -> Result<Response, AppError> {
    // The page names the user: read only here, where it is shown (a right
    // code, the common case, needs no second read).
    match state.login.pending(session_token, now).await? {
        Some((_, user)) => {
            render(state, headers, status, next, &user, Message::Error(message)).await
        }
        None => session_ended(
            state,
            headers,
            next,
            &crate::lang::current().t("login-ended"),
        ),
    }
}

page_forms! {
    TokenForm => "/login/2fa",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_code_says_why_and_how_many_tries_are_left() {
        let en = i18n::Lang::En;
        let used = wrong_token_message(en, true, false, None, 4);
        assert!(
            used.starts_with("That code was already used.") && used.ends_with(" 4 attempts left.")
        );
        assert!(
            wrong_token_message(en, false, true, None, 3).starts_with("Enter the security token")
        );
        let behind = wrong_token_message(en, false, false, Some(2), 1);
        let spanish = wrong_token_message(i18n::Lang::Es, false, false, Some(2), 1);
        assert!(spanish.contains("2 minutos atrasado") && spanish.ends_with("Queda 1 intento."));
        assert!(behind.starts_with("That security token is not correct."));
        assert!(behind.contains("about 2 minutes behind"), "{behind}");
        assert!(behind.ends_with(" 1 attempt left."), "{behind}");
    }
}
