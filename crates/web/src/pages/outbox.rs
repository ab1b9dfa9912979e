//! `GET /dev/outbox`: the demo's SMS messages. Exists only in demo mode.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use delivery::SentSms;

use super::page;
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    messages: Vec<SentSms>,
}

/// Lists the demo messages, newest first; 404 outside demo mode.
pub async fn show(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(outbox) = &state.config.demo_outbox else {
        return Ok(super::not_found().await);
    };
    let mut messages = outbox.recent();
    messages.reverse();
    page(StatusCode::OK, &OutboxPage { messages }, &[])
}
