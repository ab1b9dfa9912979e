//! "Forgot password?" until the reset flow exists (issue #5): who to ask.

use axum::http::StatusCode;
use axum::response::Response;

use crate::error::MessagePage;

/// `GET /password/forgot`.
pub async fn show() -> Response {
    MessagePage {
        title: "Forgot password?",
        message: "Your practice administrator resets passwords. Ask them to reset yours; you will still need your authenticator app or phone to log in afterwards.",
        link: "/login",
        link_text: "Back to Log In",
    }
    .respond(StatusCode::OK)
}
