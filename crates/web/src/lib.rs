//! The HTTP face of twofactor: an axum `Router` factory with the login pages,
//! JSON API, sessions, CSRF, security headers and forward-auth, and the one
//! mapping from errors to responses. Filled in by the login-flow issue (#3).
#![forbid(unsafe_code)]
