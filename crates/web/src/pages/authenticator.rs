//! `/account/authenticator` (link an app) and `/account/recovery-codes`.
//! The domain decides (`domain::enrollment`); this module only shows it.

use askama::Template;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{LinkConfirm, LinkStart, User};
use otp::OtpAuthUri;
use serde::Deserialize;

use super::{Client, form, page};
use crate::extract::{
    MayEnroll, MayEnrollForm, SessionToken, SignedIn, SignedInForm, page_forms, signed_in,
};
use crate::{AppError, AppState, cookies, csrf};

#[derive(Template)]
#[template(path = "authenticator_step_up.html")]
struct StepUpPage<'a> {
    tr: crate::lang::Tr,
    required: bool,
    csrf_token: &'a str,
    relink: bool,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "authenticator_offer.html")]
struct OfferPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    qr_svg: String,
    grouped_secret: String,
    uri: String,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct CodesPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    codes: Vec<String>,
    notice: Option<&'a str>,
}

fn csrf_pair(state: &AppState, headers: &HeaderMap) -> Result<(String, Vec<String>), AppError> {
    let (token, cookie) = csrf::issue(state, headers)?;
    Ok((token, cookie.into_iter().collect()))
}

async fn step_up(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let relink = state.login.totp_digits(user).await?.is_some();
    // An enrolling session is one that must link an app before anything else.
    let required = match cookies::get(headers, state.session_cookie()) {
        Some(token) => state.login.enrolling(&token, state.now()).await?.is_some(),
        None => false,
    };
    // Unless only a passkey finishes this user's logins: an app would not.
    if required && state.login.passkey_only(user).await? {
        return Ok(super::redirect("/account/passkeys", &[]));
    }
    let (csrf_token, set) = csrf_pair(state, headers)?;
    page(
        status,
        &StepUpPage {
            tr: crate::lang::Tr::current(),
            required,
            csrf_token: &csrf_token,
            relink,
            error,
        },
        &set,
    )
}

fn offer(
    state: &AppState,
    headers: &HeaderMap,
    uri: &OtpAuthUri,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let text = uri.to_uri();
    let qr_svg = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| AppError::Internal(format!("qr code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    let base32 = uri.secret.to_base32();
    let grouped_secret = base32
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let (csrf_token, set) = csrf_pair(state, headers)?;
    page(
        status,
        &OfferPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            qr_svg,
            grouped_secret,
            uri: text,
            error,
        },
        &set,
    )
}

fn codes_page(
    state: &AppState,
    headers: &HeaderMap,
    codes: Vec<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let (csrf_token, set) = csrf_pair(state, headers)?;
    page(
        StatusCode::OK,
        &CodesPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            codes,
            notice,
        },
        &set,
    )
}

/// `GET /account/authenticator`.
pub async fn show(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    SignedIn(user): MayEnroll,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match state
        .login
        .current_offer(&token, &user, state.now())
        .await?
    {
        Some(uri) => offer(&state, &headers, &uri, StatusCode::OK, None),
        None => step_up(&state, &headers, &user, StatusCode::OK, None).await,
    }
}

/// Fields of `POST /account/authenticator`.
#[derive(Deserialize)]
pub struct StepUpForm {
    password: Option<String>,
    current_token: Option<String>,
    /// The confirm form's field, accepted here too: the link flow is one
    /// path, the confirm form may post to either.
    code: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/authenticator`: the password (and for a new phone, a
/// current token or recovery code), then the QR page.
pub async fn begin(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: MayEnrollForm<StepUpForm>,
) -> Result<Response, AppError> {
    if let (None, Some(code)) = (&fields.password, &fields.code) {
        return confirm_code(&state, &ctx, &headers, &user, code).await;
    }
    let outcome = state
        .login
        .begin_link(
            &token,
            &user,
            fields.password.as_deref().unwrap_or(""),
            fields.current_token.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    let error = crate::lang::current().t(match outcome {
        LinkStart::Offered(uri) => return offer(&state, &headers, &uri, StatusCode::OK, None),
        LinkStart::WrongPassword => "link-wrong-password",
        LinkStart::ProofNeeded => "link-proof-needed",
        LinkStart::WrongProof => "link-wrong-proof",
        LinkStart::FreshLoginNeeded => "link-fresh-login-needed",
    });
    step_up(
        &state,
        &headers,
        &user,
        StatusCode::BAD_REQUEST,
        Some(&error),
    )
    .await
}

/// Fields of `POST /account/authenticator/confirm`.
#[derive(Deserialize)]
pub struct ConfirmForm {
    code: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/authenticator/confirm`.
pub async fn confirm(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: MayEnrollForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let typed: String = fields.code.unwrap_or_default();
    confirm_code(&state, &ctx, &headers, &user, &typed).await
}

/// Checks the code typed from the new app and shows what follows.
async fn confirm_code(
    state: &AppState,
    ctx: &domain::RequestContext,
    headers: &HeaderMap,
    user: &User,
    code: &str,
) -> Result<Response, AppError> {
    let token = cookies::get(headers, state.session_cookie()).unwrap_or_default();
    let now = state.now();
    let typed: String = code.chars().take(32).collect();
    match state
        .login
        .confirm_link(&token, user, &typed, ctx, now)
        .await?
    {
        LinkConfirm::Linked {
            recovery_codes: Some(codes),
            session_token,
        } => {
            let mut response = codes_page(
                state,
                headers,
                codes,
                Some(&crate::done::Done::AuthenticatorLinked.words(crate::lang::current(), "")),
            )?;
            if let Some(session_token) = session_token {
                super::add_cookies(&mut response, &[state.session_set_cookie(&session_token)]);
            }
            Ok(response)
        }
        LinkConfirm::Linked {
            recovery_codes: None,
            ..
        } => Ok(super::redirect(
            &crate::done::Done::AuthenticatorRelinked.at("/account/security"),
            &[],
        )),
        LinkConfirm::WrongCode => match state.login.current_offer(&token, user, now).await? {
            Some(uri) => offer(
                state,
                headers,
                &uri,
                StatusCode::BAD_REQUEST,
                Some(&crate::lang::current().t("link-code-mismatch")),
            ),
            None => {
                step_up(
                    state,
                    headers,
                    user,
                    StatusCode::BAD_REQUEST,
                    Some(&crate::lang::current().t("link-too-long")),
                )
                .await
            }
        },
        LinkConfirm::Expired => {
            step_up(
                state,
                headers,
                user,
                StatusCode::BAD_REQUEST,
                Some(&crate::lang::current().t("link-expired")),
            )
            .await
        }
    }
}

/// `GET /account/recovery-codes`: how many are left, and a form for a new set.
pub async fn codes_show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let left = state.login.recovery_codes_left(&user).await?;
    let (csrf_token, set) = csrf_pair(&state, &headers)?;
    page(
        StatusCode::OK,
        &NewCodesPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            left,
            error: None,
            invalid: "",
        },
        &set,
    )
}

#[derive(Template)]
#[template(path = "recovery_codes_new.html")]
struct NewCodesPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    left: u32,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
}

/// Fields of `POST /account/recovery-codes`.
#[derive(Deserialize)]
pub struct NewCodesForm {
    password: Option<String>,
    current_token: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/recovery-codes`: the password (and, long after the
/// login, a current code or recovery code), then a new set (the old one
/// stops working).
pub async fn codes_create(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: SignedInForm<NewCodesForm>,
) -> Result<Response, AppError> {
    let now = state.now();
    let made = state
        .login
        .regenerate_recovery_codes(
            &token,
            &user,
            fields.password.as_deref().unwrap_or(""),
            fields.current_token.as_deref().unwrap_or(""),
            &ctx,
            now,
        )
        .await?;
    let codes = match made {
        Ok(codes) => codes,
        Err(refused) => {
            let left = state.login.recovery_codes_left(&user).await?;
            let (csrf_token, set) = csrf_pair(&state, &headers)?;
            let problem = refused.reason().map(|r| crate::lang::Problem::of(&r));
            return page(
                StatusCode::BAD_REQUEST,
                &NewCodesPage {
                    tr: crate::lang::Tr::current(),
                    csrf_token: &csrf_token,
                    left,
                    error: problem.as_ref().map(|p| p.words.as_str()),
                    invalid: problem.as_ref().map_or("", |p| p.field),
                },
                &set,
            );
        }
    };
    codes_page(
        &state,
        &headers,
        codes,
        Some(&crate::lang::current().t("recovery-new-set")),
    )
}

/// `POST /account/recovery-codes/download`: the codes just shown, echoed back
/// as a text file. The server keeps no copy; the browser sends them.
pub async fn codes_download(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, AppError> {
    let fields = form(body)?;
    let submitted = fields
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str());
    csrf::check(&state, &headers, submitted)?;
    if let Err(redirect) = signed_in(&state, &headers, "/account/recovery-codes").await {
        return Ok(redirect);
    }
    let codes: Vec<&str> = fields
        .iter()
        .filter(|(k, v)| k == "code" && domain::recovery::RecoveryCode::parse(v).is_some())
        .map(|(_, v)| v.as_str())
        .take(domain::recovery::SET_SIZE)
        .collect();
    let text = format!(
        "{} recovery codes\r\nEach code logs you in once if you lose your phone. Keep them away from it.\r\n\r\n{}\r\n",
        state.config.site_name,
        codes.join("\r\n")
    );
    Ok((
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"recovery-codes.txt\"",
            ),
        ],
        text,
    )
        .into_response())
}

page_forms! {
    ConfirmForm => "/account/authenticator",
    NewCodesForm => "/account/recovery-codes",
    StepUpForm => "/account/authenticator",
}
