//! CSRF protection, three ways. The form's token is derived from an
//! `HttpOnly`, `SameSite=Strict` random cookie and the session cookie
//! ([`token::csrf_form_token`]): a token is good only with the session it
//! was issued under, so a pair planted by another site (or a sibling
//! subdomain that can set cookies) does not match, and a login's new
//! session brings new tokens. A browser's `Sec-Fetch-Site` and `Origin`
//! headers must say the request comes from this site.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use domain::token;

use crate::{AppError, AppState, cookies};

/// The token to put in a form, and the `Set-Cookie` to send when the browser
/// has no CSRF cookie yet.
pub fn issue(state: &AppState, headers: &HeaderMap) -> Result<(String, Option<String>), AppError> {
    let session = cookies::get(headers, state.session_cookie());
    if let Some(existing) = cookies::get(headers, state.csrf_cookie()) {
        return Ok((token::csrf_form_token(&existing, session.as_deref()), None));
    }
    let fresh = token::generate()?;
    let cookie = cookies::set(
        state.csrf_cookie(),
        &fresh,
        state.config.secure_cookies,
        "Strict",
        None,
    );
    Ok((
        token::csrf_form_token(&fresh, session.as_deref()),
        Some(cookie),
    ))
}

/// Checks a submitted form: sent from this site, with the token of this
/// browser's cookie and session (compared in constant time).
pub fn check(
    state: &AppState,
    headers: &HeaderMap,
    submitted: Option<&str>,
) -> Result<(), AppError> {
    if !from_this_site(headers, &state.config.public_url) {
        return Err(AppError::Csrf);
    }
    let session = cookies::get(headers, state.session_cookie());
    match (cookies::get(headers, state.csrf_cookie()), submitted) {
        (Some(cookie), Some(form))
            if token::equal(&token::csrf_form_token(&cookie, session.as_deref()), form) =>
        {
            Ok(())
        }
        _ => Err(AppError::Csrf),
    }
}

/// What a browser says about where a request comes from: `Sec-Fetch-Site`
/// must be `same-origin` or `none` (typed, bookmarked), and an `Origin`
/// must be this site, as the request's `Host` or the public URL names it.
/// Clients that send neither (scripts, old browsers) rely on the token.
fn from_this_site(headers: &HeaderMap, public_url: &str) -> bool {
    let site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
    if site.is_some_and(|site| !matches!(site, b"same-origin" | b"none")) {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    // A page served with `Referrer-Policy: no-referrer` (the reset,
    // invitation and emergency links, whose token is in the URL) makes the
    // browser send `Origin: null` with its own form; the browser's
    // `Sec-Fetch-Site`, which no page can set, still says same-origin.
    if origin.as_bytes() == b"null" && site == Some(b"same-origin") {
        return true;
    }
    let Some(authority) = origin.to_str().ok().and_then(authority_of) else {
        // `null` (a sandboxed frame, a redirect across sites) or garbage.
        return false;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|host| host.eq_ignore_ascii_case(authority))
        || authority_of(public_url).is_some_and(|public| public.eq_ignore_ascii_case(authority))
}

/// `host[:port]` of an `http(s)://host[:port][/...]` URL.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    const PUBLIC: &str = "https://login.clinic.example";

    #[test]
    fn same_site_requests_and_header_less_clients_pass() {
        for pairs in [
            &[][..],
            &[("sec-fetch-site", "same-origin")],
            &[("sec-fetch-site", "none")],
            // A no-referrer page's own form: Chromium sends Origin null.
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
            &[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ],
            &[
                ("origin", "https://login.clinic.example"),
                ("host", "127.0.0.1:8080"),
            ],
            &[("origin", "https://LOGIN.clinic.example")],
        ] {
            assert!(from_this_site(&headers(pairs), PUBLIC), "{pairs:?}");
        }
    }

    #[test]
    fn cross_site_requests_are_refused() {
        for pairs in [
            &[("sec-fetch-site", "cross-site")][..],
            &[("sec-fetch-site", "same-site")],
            &[("sec-fetch-site", "")],
            &[("origin", "null"), ("host", "127.0.0.1:8080")],
            &[("origin", "null"), ("sec-fetch-site", "none")],
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
            &[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:8080"),
            ],
            &[
                ("origin", "http://127.0.0.1:8081"),
                ("host", "127.0.0.1:8080"),
            ],
            &[("origin", "https://login.clinic.example.evil.example")],
            &[("origin", "https://user@login.clinic.example")],
            &[("origin", "javascript:alert(1)")],
            &[("origin", "http://")],
        ] {
            assert!(!from_this_site(&headers(pairs), PUBLIC), "{pairs:?}");
        }
    }

    #[test]
    fn a_form_token_belongs_to_one_cookie_and_one_session() {
        let anonymous = token::csrf_form_token("cookie", None);
        let signed_in = token::csrf_form_token("cookie", Some("session-a"));
        assert_ne!(anonymous, signed_in, "a login brings new tokens");
        assert_ne!(
            signed_in,
            token::csrf_form_token("cookie", Some("session-b"))
        );
        assert_ne!(
            signed_in,
            token::csrf_form_token("cookie2", Some("session-a"))
        );
        assert_ne!(signed_in, "cookie", "not the cookie itself");
    }
}
