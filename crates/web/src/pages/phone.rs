//! `/account/phone`: add or change the cell phone; active once confirmed.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::{PhoneConfirm, PhoneStart, User};
use serde::Deserialize;

use super::{Client, page};
use crate::extract::{SessionToken, SignedIn, SignedInForm, page_forms};
use crate::{AppError, AppState, csrf};

/// The countries offered first (code, message id of the name); any ISO
/// 3166 code is accepted.
const COUNTRIES: &[(&str, &str)] = &[
    ("US", "country-us"),
    ("CA", "country-ca"),
    ("GB", "country-gb"),
    ("IE", "country-ie"),
    ("AU", "country-au"),
    ("NZ", "country-nz"),
    ("DE", "country-de"),
    ("FR", "country-fr"),
    ("ES", "country-es"),
    ("MX", "country-mx"),
    ("IN", "country-in"),
    ("PH", "country-ph"),
];

#[derive(Template)]
#[template(path = "phone.html")]
struct PhonePage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    current: String,
    countries: &'static [(&'static str, &'static str)],
    country: &'a str,
    /// The number as typed, kept when it was refused.
    typed: &'a str,
    awaiting_code: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`];
    /// `sms-code` for the texted code's box).
    invalid: &'a str,
}

/// What the page shows besides the forms.
#[derive(Default)]
struct View<'a> {
    country: &'a str,
    typed: &'a str,
    awaiting_code: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    invalid: &'a str,
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    view: View<'_>,
) -> Result<Response, AppError> {
    let (csrf_token, cookie) = csrf::issue(state, headers)?;
    let set: Vec<String> = cookie.into_iter().collect();
    page(
        status,
        &PhonePage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            current: user
                .phone
                .as_deref()
                .map_or_else(|| crate::lang::current().t("none"), domain::sms::mask_phone),
            countries: COUNTRIES,
            country: view.country,
            typed: view.typed,
            awaiting_code: view.awaiting_code,
            notice: view.notice,
            error: view.error,
            invalid: view.invalid,
        },
        &set,
    )
}

/// `GET /account/phone`.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // A code already on its way: the box to type it stays until it expires.
    let waiting = state.login.waiting_phone(&user, state.now()).await?;
    let notice = waiting.as_ref().map(|masked| {
        crate::lang::current().t_with("phone-code-sent", &[("phone", masked.into())])
    });
    render(
        &state,
        &headers,
        &user,
        StatusCode::OK,
        View {
            country: "US",
            awaiting_code: waiting.is_some(),
            notice: notice.as_deref(),
            ..View::default()
        },
    )
}

/// Fields of `POST /account/phone`.
#[derive(Deserialize)]
pub struct PhoneForm {
    country: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    current_token: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/phone`: validate, check the password, text a code.
pub async fn submit(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: SignedInForm<PhoneForm>,
) -> Result<Response, AppError> {
    let country: String = fields.country.unwrap_or_default().chars().take(2).collect();
    let typed: String = fields
        .phone
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(32)
        .collect();
    let outcome = state
        .login
        .begin_phone_change(
            &token,
            &user,
            fields.password.as_deref().unwrap_or(""),
            fields.current_token.as_deref().unwrap_or(""),
            &country,
            fields.phone.as_deref().unwrap_or(""),
            &ctx,
            state.now(),
        )
        .await?;
    let lang = crate::lang::current();
    let mut invalid = "";
    let (status, message, sent) = match outcome {
        PhoneStart::CodeSent(masked) => (
            StatusCode::OK,
            lang.t_with("phone-code-sent", &[("phone", masked.into())]),
            true,
        ),
        PhoneStart::Refused(refused) => {
            let problem = refused
                .reason()
                .map(|r| crate::lang::Problem::of(&r))
                .unwrap_or_default();
            invalid = problem.field;
            (StatusCode::BAD_REQUEST, problem.words, false)
        }
        PhoneStart::Invalid(reason) => {
            let problem = crate::lang::Problem::of(&reason);
            invalid = problem.field;
            (StatusCode::BAD_REQUEST, problem.words, false)
        }
        PhoneStart::Cooldown(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            lang.t_with("phone-cooldown", &[("seconds", seconds.into())]),
            false,
        ),
        PhoneStart::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            lang.t("phone-too-many"),
            false,
        ),
        PhoneStart::Failed => (StatusCode::OK, lang.t("phone-failed"), false),
        PhoneStart::Delayed(masked) => (
            StatusCode::OK,
            lang.t_with("phone-delayed", &[("phone", masked.into())]),
            true,
        ),
    };
    let country = COUNTRIES
        .iter()
        .map(|(c, _)| *c)
        .find(|c| *c == country)
        .unwrap_or("US");
    let view = if sent {
        View {
            country,
            awaiting_code: true,
            notice: Some(&message),
            ..View::default()
        }
    } else {
        View {
            country,
            typed: &typed,
            error: Some(&message),
            invalid,
            ..View::default()
        }
    };
    render(&state, &headers, &user, status, view)
}

/// Fields of `POST /account/phone/confirm`.
#[derive(Deserialize)]
pub struct ConfirmForm {
    code: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /account/phone/confirm`.
pub async fn confirm(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    Client(ctx): Client,
    headers: HeaderMap,
    SignedInForm { user, form: fields }: SignedInForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let code: String = fields.code.unwrap_or_default().chars().take(32).collect();
    match state
        .login
        .confirm_phone(&token, &user, &code, &ctx, state.now())
        .await?
    {
        PhoneConfirm::Active(_) => Ok(super::redirect(
            &crate::done::Done::PhoneConfirmed.at("/account/security"),
            &[],
        )),
        PhoneConfirm::WrongCode(left) => {
            let lang = crate::lang::current();
            let message = format!(
                "{} {}",
                lang.t("phone-wrong-code"),
                lang.t_with("attempts-left", &[("count", left.into())])
            );
            render(
                &state,
                &headers,
                &user,
                StatusCode::BAD_REQUEST,
                View {
                    country: "US",
                    awaiting_code: left > 0,
                    error: Some(&message),
                    invalid: "sms-code",
                    ..View::default()
                },
            )
        }
        PhoneConfirm::Expired => render(
            &state,
            &headers,
            &user,
            StatusCode::BAD_REQUEST,
            View {
                country: "US",
                error: Some(&crate::lang::current().t("phone-code-expired")),
                ..View::default()
            },
        ),
    }
}

page_forms! {
    ConfirmForm => "/account/phone",
    PhoneForm => "/account/phone",
}
