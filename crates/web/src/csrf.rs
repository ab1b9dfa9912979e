//! CSRF protection by double submit: a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie and the same token in a hidden field of every
//! form. Another site can neither read the cookie nor set it (with the
//! `__Host-` prefix behind TLS), so it cannot produce a matching pair.

use axum::http::HeaderMap;
use domain::token;

use crate::{AppError, AppState, cookies};

/// The token to put in a form, and the `Set-Cookie` to send when the browser
/// has none yet.
pub fn issue(state: &AppState, headers: &HeaderMap) -> Result<(String, Option<String>), AppError> {
    if let Some(existing) = cookies::get(headers, state.csrf_cookie()) {
        return Ok((existing, None));
    }
    let fresh = token::generate()?;
    let cookie = cookies::set(
        state.csrf_cookie(),
        &fresh,
        state.config.secure_cookies,
        "Strict",
        None,
    );
    Ok((fresh.clone(), Some(cookie)))
}

/// Checks a submitted form's token against the cookie, in constant time.
pub fn check(
    state: &AppState,
    headers: &HeaderMap,
    submitted: Option<&str>,
) -> Result<(), AppError> {
    match (cookies::get(headers, state.csrf_cookie()), submitted) {
        (Some(cookie), Some(form)) if token::equal(&cookie, form) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}
