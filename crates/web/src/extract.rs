//! What the page handlers would otherwise each repeat, as extractors: a
//! form read and its CSRF token checked ([`CsrfForm`]), the signed-in user
//! ([`SignedIn`], [`SignedInForm`]), the practice administrator
//! ([`Admin`], [`AdminForm`]) and the session cookie ([`SessionToken`]).
//!
//! A form is checked before the session is looked at, so a forged post
//! answers "this form has expired" whether or not the browser is signed in.
//! A browser without a live session is sent to the login page, which comes
//! back to the page the form is on ([`PageForm::PAGE`]), or to the page
//! asked for.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Role, User};
use serde::de::DeserializeOwned;

use crate::error::MessagePage;
use crate::{AppError, AppState, cookies, csrf};

/// A form posted from one of this site's pages.
pub trait PageForm: DeserializeOwned + Send {
    /// The page the form is on: where a browser whose session ended comes
    /// back to after logging in again.
    const PAGE: &'static str;
    /// The CSRF token the form carried.
    fn csrf_token(&self) -> Option<&str>;
}

/// Declares the page each form is on; the form has a `csrf_token` field.
macro_rules! page_forms {
    ($($form:ty => $page:expr),+ $(,)?) => {$(
        impl $crate::extract::PageForm for $form {
            const PAGE: &'static str = $page;
            fn csrf_token(&self) -> Option<&str> {
                self.csrf_token.as_deref()
            }
        }
    )+};
}
pub(crate) use page_forms;

/// A form whose body was read (a malformed or oversized one is a clear
/// error page) and whose CSRF token is this browser's.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T: PageForm> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let headers = request.headers().clone();
        Ok(CsrfForm(checked_form(request, state, &headers).await?))
    }
}

async fn checked_form<T: PageForm>(
    request: Request,
    state: &AppState,
    headers: &HeaderMap,
) -> Result<T, AppError> {
    let fields = crate::pages::form(axum::Form::<T>::from_request(request, state).await)?;
    csrf::check(state, headers, fields.csrf_token())?;
    Ok(fields)
}

/// The request's headers (for the session lookup that follows) and its
/// checked form.
async fn headers_and_form<T: PageForm>(
    request: Request,
    state: &AppState,
) -> Result<(HeaderMap, T), Response> {
    let headers = request.headers().clone();
    let form = checked_form::<T>(request, state, &headers)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((headers, form))
}

/// The user whose full session this browser holds; without one, the
/// answer is the redirect to the login page. `SignedIn<true>`
/// ([`MayEnroll`]) also takes an enrolling session (2FA required, none
/// linked yet), for the only pages such a session may use.
#[derive(Debug)]
pub struct SignedIn<const ENROLLING: bool = false>(pub User);

/// A full session, or an enrolling one.
pub type MayEnroll = SignedIn<true>;

impl<const ENROLLING: bool> FromRequestParts<AppState> for SignedIn<ENROLLING> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts.uri.path().to_owned();
        Ok(SignedIn(
            user_of(state, &parts.headers, &path, ENROLLING).await?,
        ))
    }
}

/// This browser's session cookie value (empty without one), for the use
/// cases that act on the session itself (a step-up, ending the others).
#[derive(Debug)]
pub struct SessionToken(pub String);

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookies::get(&parts.headers, state.session_cookie()).unwrap_or_default();
        Ok(SessionToken(token))
    }
}

/// A [`CsrfForm`] from a signed-in user (`ENROLLING`: or an enrolling one,
/// as for [`SignedIn`]).
#[derive(Debug)]
pub struct SignedInForm<T, const ENROLLING: bool = false> {
    /// Who posted it.
    pub user: User,
    /// What they posted.
    pub form: T,
}

/// A form from a full session or an enrolling one.
pub type MayEnrollForm<T> = SignedInForm<T, true>;

impl<T: PageForm, const ENROLLING: bool> FromRequest<AppState> for SignedInForm<T, ENROLLING> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (headers, form) = headers_and_form::<T>(request, state).await?;
        let user = user_of(state, &headers, T::PAGE, ENROLLING).await?;
        Ok(SignedInForm { user, form })
    }
}

/// The practice administrator behind this request, with the session token
/// (an administrator's own changes keep their session).
#[derive(Debug)]
pub struct Admin {
    /// The administrator.
    pub user: User,
    /// Their session cookie's value.
    pub session: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts.uri.path().to_owned();
        admin(state, &parts.headers, &path).await
    }
}

/// A [`CsrfForm`] from a practice administrator.
#[derive(Debug)]
pub struct AdminForm<T> {
    /// Who posted it.
    pub admin: Admin,
    /// What they posted.
    pub form: T,
}

impl<T: PageForm> FromRequest<AppState> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (headers, form) = headers_and_form::<T>(request, state).await?;
        let admin = admin(state, &headers, T::PAGE).await?;
        Ok(AdminForm { admin, form })
    }
}

/// The user of this browser's full session, or the answer instead: the
/// redirect to the login page (coming back to `path`), or the error page.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
) -> Result<User, Response> {
    let found = match cookies::get(headers, state.session_cookie()) {
        Some(token) => state
            .login
            .authenticated(&token, state.now())
            .await
            .map_err(|e| AppError::from(e).into_response())?,
        None => None,
    };
    let Some((_, user)) = found else {
        return Err(crate::pages::redirect(
            &format!("/login?next={}", crate::pages::encode_next(path)),
            &[],
        ));
    };
    crate::lang::settle_for(state, &user).await;
    Ok(user)
}

/// [`signed_in`], or with `enrolling` the user of an enrolling session.
async fn user_of(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    enrolling: bool,
) -> Result<User, Response> {
    let redirect = match signed_in(state, headers, path).await {
        Err(redirect) if enrolling => redirect,
        full => return full,
    };
    let found = match cookies::get(headers, state.session_cookie()) {
        Some(token) => state
            .login
            .enrolling(&token, state.now())
            .await
            .map_err(|e| AppError::from(e).into_response())?,
        None => None,
    };
    let (_, user) = found.ok_or(redirect)?;
    crate::lang::settle_for(state, &user).await;
    Ok(user)
}

async fn admin(state: &AppState, headers: &HeaderMap, path: &str) -> Result<Admin, Response> {
    let user = signed_in(state, headers, path).await?;
    if user.role != Role::Admin {
        let lang = crate::lang::current();
        return Err(MessagePage {
            title: &lang.t("admins-only-title"),
            message: &lang.t("admins-only-message"),
            link: "/",
            link_text: &lang.t("not-found-link"),
        }
        .respond(StatusCode::FORBIDDEN));
    }
    let session = cookies::get(headers, state.session_cookie()).unwrap_or_default();
    Ok(Admin { user, session })
}
