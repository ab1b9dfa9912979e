//! `POST /login/2fa/sms`: "Request Token via SMS".

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::SmsOutcome;
use serde::Deserialize;

use super::second_factor::{Message, render};
use super::{Client, redirect};
use crate::extract::{CsrfForm, page_forms};
use crate::next::safe_next;
use crate::{AppError, AppState, cookies};

/// Fields of `POST /login/2fa/sms`.
#[derive(Deserialize)]
pub struct SmsForm {
    csrf_token: Option<String>,
    next: Option<String>,
}

/// Sends a code to the user's phone and shows the Two-Factor Login page again.
pub async fn request(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(fields): CsrfForm<SmsForm>,
) -> Result<Response, AppError> {
    let next = safe_next(fields.next.as_deref());
    let now = state.now();
    let pending = match cookies::get(&headers, state.session_cookie()) {
        Some(token) => state
            .login
            .pending(&token, now)
            .await?
            .map(|(_, user)| (token, user)),
        None => None,
    };
    let Some((token, user)) = pending else {
        return Ok(redirect("/login", &[]));
    };
    let lang = crate::lang::current();
    let (status, text, is_error) = match state.login.request_sms(&token, lang, &ctx, now).await? {
        SmsOutcome::Sent { .. } => {
            let back = format!("/login/2fa?next={}", super::encode_next(&next));
            return Ok(redirect(&crate::done::Done::SmsSent.at(&back), &[]));
        }
        SmsOutcome::Cooldown { seconds } => (
            StatusCode::TOO_MANY_REQUESTS,
            lang.t_with("sms-cooldown", &[("seconds", seconds.into())]),
            true,
        ),
        SmsOutcome::TooMany => (StatusCode::TOO_MANY_REQUESTS, lang.t("sms-too-many"), true),
        SmsOutcome::NoPhone => (StatusCode::BAD_REQUEST, lang.t("sms-no-phone"), true),
        SmsOutcome::Forbidden => (StatusCode::FORBIDDEN, lang.t("sms-forbidden"), true),
        // The provider's own words stay in the audit trail and the outbox;
        // the person gets what to do next. Neither is a server error.
        SmsOutcome::Rejected { masked } => (
            StatusCode::OK,
            lang.t_with("sms-rejected", &[("phone", masked.into())]),
            true,
        ),
        SmsOutcome::Delayed { masked } => (
            StatusCode::OK,
            lang.t_with("sms-delayed", &[("phone", masked.into())]),
            true,
        ),
        SmsOutcome::SessionEnded => return Ok(redirect("/login", &[])),
    };
    let message = if is_error {
        Message::Error(&text)
    } else {
        Message::Notice(&text)
    };
    render(&state, &headers, status, &next, &user, message).await
}

page_forms! {
    SmsForm => "/login/2fa",
}
