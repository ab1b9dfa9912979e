//! The HTTP face of twofactor: [`router`] builds the axum `Router` with the
//! login pages, sessions, CSRF protection, security headers, forward-auth and
//! health endpoints. Handlers translate HTTP to calls on the domain's
//! `LoginService` and back; they hold no rules of their own.
#![forbid(unsafe_code)]

pub mod api;
pub mod audit_export;
mod client_ip;
mod cookies;
mod csrf;
mod done;
mod error;
mod extract;
mod headers;
pub mod lang;
pub mod metrics;
mod next;
mod oidc;
mod pages;
mod state;
mod words;

pub use error::AppError;
pub use state::{AppState, DemoOutbox, WebConfig};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Largest request body accepted: a login form is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    // The pages' language is known to everything that answers them (the
    // error pages too); the API and OpenID Connect endpoints speak JSON.
    let pages = Router::new()
        .merge(login_routes())
        .merge(account_routes())
        .merge(link_routes())
        .merge(admin_routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(lang::scope));
    Router::new()
        .merge(pages)
        .merge(operations_routes())
        .merge(api::routes())
        .merge(oidc::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .with_state(state)
}

/// The login: password, second factor, recovery code, logout.
fn login_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard::show))
        .route("/login", get(pages::login::show).post(pages::login::submit))
        .route(
            "/login/2fa",
            get(pages::second_factor::show).post(pages::second_factor::submit),
        )
        .route("/login/2fa/sms", post(pages::sms::request))
        .route(
            "/login/2fa/passkey/options",
            post(pages::passkeys::second_factor_options),
        )
        .route("/login/2fa/passkey", post(pages::passkeys::second_factor))
        .route(
            "/login/passkey/options",
            post(pages::passkeys::sign_in_options),
        )
        .route("/login/passkey", post(pages::passkeys::sign_in))
        .route(
            "/login/recovery",
            get(pages::recovery::show).post(pages::recovery::submit),
        )
        .route("/login/recovery/used", get(pages::recovery::used))
        .route("/logout", post(pages::logout::submit))
        .route("/language", get(lang::switch))
}

/// A signed-in user's own pages.
fn account_routes() -> Router<AppState> {
    Router::new()
        .route("/account/security", get(pages::account::show))
        .route(
            "/account/password",
            get(pages::account::password_form).post(pages::account::change_password),
        )
        .route(
            "/account/devices/revoke-all",
            post(pages::account::revoke_all),
        )
        .route("/account/devices/{id}/revoke", post(pages::account::revoke))
        .route("/account/two-factor/off", post(pages::account::turn_off))
        .route(
            "/account/passkeys",
            get(pages::passkeys::show).post(pages::passkeys::finish),
        )
        .route("/account/passkeys/options", post(pages::passkeys::begin))
        .route(
            "/account/passkeys/{id}/remove",
            post(pages::passkeys::remove),
        )
        .route(
            "/account/phone",
            get(pages::phone::show).post(pages::phone::submit),
        )
        .route("/account/phone/confirm", post(pages::phone::confirm))
        .route(
            "/account/authenticator",
            get(pages::authenticator::show).post(pages::authenticator::begin),
        )
        .route(
            "/account/authenticator/confirm",
            post(pages::authenticator::confirm),
        )
        .route(
            "/account/recovery-codes",
            get(pages::authenticator::codes_show).post(pages::authenticator::codes_create),
        )
        .route(
            "/account/recovery-codes/download",
            post(pages::authenticator::codes_download),
        )
}

/// Pages reached by a link: forgotten passwords, invitations, emergency access (and the demo outbox).
fn link_routes() -> Router<AppState> {
    Router::new()
        .route("/dev/outbox", get(pages::outbox::show))
        .route(
            "/password/forgot",
            get(pages::forgot::show).post(pages::forgot::submit),
        )
        .route(
            "/password/reset/{token}",
            get(pages::forgot::reset_form).post(pages::forgot::reset_submit),
        )
        .route(
            "/invite/{token}",
            get(pages::invite::show_invite).post(pages::invite::accept_invite),
        )
        .route(
            "/emergency/{token}",
            get(pages::invite::show_emergency).post(pages::invite::use_emergency),
        )
}

/// The practice administrator's pages.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/staff",
            get(pages::admin::staff).post(pages::admin::add_user),
        )
        .route("/admin/staff/new", get(pages::admin::new_user_form))
        .route("/admin/staff/{id}", get(pages::admin::show_user))
        .route("/admin/staff/{id}/{action}", post(pages::admin::act))
        .route(
            "/admin/policy",
            get(pages::admin::policy).post(pages::admin::set_policy),
        )
        .route(
            "/admin/applications",
            get(pages::admin::applications).post(pages::admin::add_application),
        )
        .route(
            "/admin/applications/{client_id}/remove",
            post(pages::admin::remove_application),
        )
        .route("/admin/audit", get(pages::admin::audit))
        .route("/admin/audit/export", get(pages::admin::export))
}

/// Forward-auth, health, metrics and the static assets.
fn operations_routes() -> Router<AppState> {
    Router::new()
        .route("/auth/verify", get(pages::forward_auth::verify))
        .route("/healthz", get(pages::health::healthz))
        .route("/readyz", get(pages::health::readyz))
        .route("/metrics", get(metrics::show))
        .route("/static/style.css", get(pages::assets::style))
        .route("/static/app.js", get(pages::assets::script))
        .route("/static/passkey.js", get(pages::assets::passkey_script))
}
