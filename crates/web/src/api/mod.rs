//! `/api/v1`: the verification API for other applications. JSON in and
//! out, `Authorization: Bearer <key>`, RFC 9457 errors, a rate limit per
//! key, `Idempotency-Key` on the POST that sends a text, and an OpenAPI 3.1
//! document generated from these handlers at `/api/v1/openapi.json`.
//!
//! Handlers only translate: the rules (replay, lockout, limits, audit) are
//! the domain's, the same as the login pages'.

mod auth;
mod handlers;
mod openapi;
mod problem;

use axum::Router;
use axum::routing::{delete, get, post};

pub use auth::RateLimiter;
pub use problem::Problem;

use crate::AppState;

/// The API routes (merged into the app's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/users", post(handlers::create_user))
        .route(
            "/api/v1/users/{id}",
            get(handlers::get_user).delete(handlers::delete_user),
        )
        .route("/api/v1/users/{id}/totp", post(handlers::start_totp))
        .route(
            "/api/v1/users/{id}/totp/confirm",
            post(handlers::confirm_totp),
        )
        .route("/api/v1/users/{id}/sms", post(handlers::send_sms))
        .route("/api/v1/users/{id}/verify", post(handlers::verify))
        .route(
            "/api/v1/users/{id}/recovery-codes",
            post(handlers::recovery_codes),
        )
        .route("/api/v1/users/{id}/devices", get(handlers::devices))
        .route(
            "/api/v1/users/{id}/devices/{device}",
            delete(handlers::revoke_device),
        )
        .route("/api/v1/users/{id}/passkeys", get(handlers::passkeys))
        .route(
            "/api/v1/users/{id}/passkeys/{passkey}",
            delete(handlers::remove_passkey),
        )
        .route("/api/v1/{*rest}", axum::routing::any(handlers::no_route))
}
