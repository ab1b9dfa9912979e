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
    let (status, text, is_error) = match state.login.request_sms(&token, &ctx, now).await? {
        SmsOutcome::Sent { .. } => {
            let back = format!("/login/2fa?next={}", super::encode_next(&next));
            return Ok(redirect(&crate::done::Done::SmsSent.at(&back), &[]));
        }
        SmsOutcome::Cooldown { seconds } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("A text message was sent moments ago. Wait {seconds} seconds before asking for another."),
            true,
        ),
        SmsOutcome::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many text messages in the last hour. Use your authenticator app, or try again later.".to_owned(),
            true,
        ),
        SmsOutcome::NoPhone => (
            StatusCode::BAD_REQUEST,
            "No phone number is linked to your account. Use your authenticator app.".to_owned(),
            true,
        ),
        SmsOutcome::Forbidden => (
            StatusCode::FORBIDDEN,
            "Your practice does not allow security tokens by text message. Use your authenticator app or a recovery code.".to_owned(),
            true,
        ),
        // The provider's own words stay in the audit trail and the outbox;
        // the person gets what to do next. Neither is a server error.
        SmsOutcome::Rejected { masked } => (
            StatusCode::OK,
            format!(
                "The text-message service refused to send to {masked}. Use your authenticator app \
                 or a recovery code, and ask your practice administrator to check the number."
            ),
            true,
        ),
        SmsOutcome::Delayed { masked } => (
            StatusCode::OK,
            format!(
                "The text-message service is not answering right now. Your token to {masked} will be \
                 sent as soon as it is back, so it may arrive late. You can also use your authenticator \
                 app, or ask again in a minute."
            ),
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
