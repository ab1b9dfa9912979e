//! The stylesheet and the small script, compiled into the binary: no CDN.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// `/static/style.css`.
pub async fn style() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/style.css"),
    )
}

/// `/static/passkey.js`: the WebAuthn ceremonies' browser half.
pub async fn passkey_script() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/passkey.js"),
    )
}

/// `/static/app.js`.
pub async fn script() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/app.js"),
    )
}
