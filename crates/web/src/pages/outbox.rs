//! `GET /dev/outbox`: what the demo sent, texts and emails. Exists only in
//! demo mode.

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
    tr: crate::lang::Tr,
    messages: Vec<SentSms>,
    emails: Vec<ShownEmail>,
}

/// An email as the outbox lists it: its text, and the links in it made
/// clickable (a reset, an invitation, emergency access).
struct ShownEmail {
    to: String,
    subject: String,
    text: String,
    links: Vec<String>,
}

/// The `http(s)://` links in `text`, in order, without trailing
/// punctuation.
fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|word| {
            word.trim_end_matches(['.', ',', ';', ')', '>', '"', '\''])
                .to_owned()
        })
        .collect()
}

/// Lists the demo's texts and emails, newest first; 404 outside demo mode.
pub async fn show(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(outbox) = &state.config.demo_outbox else {
        return Ok(super::not_found().await);
    };
    let mut messages = outbox.sms.recent();
    messages.reverse();
    let emails = outbox
        .mail
        .recent()
        .into_iter()
        .rev()
        .map(|email| ShownEmail {
            links: links_in(&email.text),
            to: email.to,
            subject: email.subject,
            text: email.text,
        })
        .collect();
    page(
        StatusCode::OK,
        &OutboxPage {
            tr: crate::lang::Tr::current(),
            messages,
            emails,
        },
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::links_in;

    #[test]
    fn finds_the_links_of_an_email() {
        assert_eq!(
            links_in(
                "Reset it here:\nhttp://127.0.0.1:8080/password/reset/abc.\n(or https://x.example/i/1), not ftp://y"
            ),
            [
                "http://127.0.0.1:8080/password/reset/abc",
                "https://x.example/i/1"
            ]
        );
        assert!(links_in("no links, javascript:alert(1) neither").is_empty());
    }
}
