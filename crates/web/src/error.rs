//! The one mapping from errors to responses. Internal details are logged and
//! never shown: the page says what happened and what to do next.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::DomainError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A form's CSRF token is missing or wrong.
    #[error("csrf token missing or wrong")]
    Csrf,
    /// The request body could not be read as the expected form.
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// The body is larger than the limit.
    #[error("request body too large")]
    TooLarge,
    /// The database is down or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Store(e) => AppError::Unavailable(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(format!("template: {error}"))
    }
}

/// A page that explains an error or a state and offers one way on.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    /// Heading and title.
    pub title: &'a str,
    /// What happened and what to do.
    pub message: &'a str,
    /// Where the one link goes.
    pub link: &'a str,
    /// The link's text.
    pub link_text: &'a str,
}

impl MessagePage<'_> {
    /// Renders with `status`; falls back to plain text if rendering fails.
    pub fn respond(&self, status: StatusCode) -> Response {
        match self.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.message.to_owned()).into_response(),
        }
    }
}

impl AppError {
    /// Status and the words a person sees.
    fn public(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was too old or did not come from this site, so nothing was changed. Go back, reload the page and try again.",
            ),
            AppError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "That request could not be read",
                "The form arrived incomplete or malformed, so nothing was changed. Reload the page and try again.",
            ),
            AppError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "That request was too large",
                "The form sent more data than a login needs, so nothing was changed. Reload the page and try again.",
            ),
            AppError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "The login service cannot reach its database right now. Nothing was changed. Please try again in a minute; if it persists, tell your practice administrator.",
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The login service hit an unexpected error. Nothing was changed. Please try again; if it persists, tell your practice administrator.",
            ),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = self.public();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, "request refused");
        }
        MessagePage {
            title,
            message,
            link: "/login",
            link_text: "Back to Log In",
        }
        .respond(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status_and_hides_internals() {
        let cases = [
            (AppError::Csrf, StatusCode::FORBIDDEN),
            (AppError::BadRequest("x".into()), StatusCode::BAD_REQUEST),
            (AppError::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (
                AppError::Unavailable("pool timed out: secret detail".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                AppError::Internal("secret detail".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            let (public_status, _, message) = error.public();
            assert_eq!(public_status, status);
            assert!(!message.contains("secret detail"));
            assert_eq!(error.into_response().status(), status);
        }
    }
}
