//! `/admin/policy`: the practice's settings.

use super::*;

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    policy: PracticePolicy,
    /// The practice's time zone as set (empty: the server's).
    time_zone: String,
    /// The practice's default language as set (empty: none, English).
    language: String,
    /// The server's zone, named for the empty choice.
    server_zone: String,
    floor: usize,
    forced_2fa: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
}

#[allow(clippy::too_many_arguments)]
fn policy_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    policy: PracticePolicy,
    time_zone: &str,
    language: &str,
    notice: Option<&str>,
    problem: Option<&crate::lang::Problem>,
) -> Result<Response, AppError> {
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &PolicyPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            policy,
            time_zone: time_zone.to_owned(),
            language: language.to_owned(),
            server_zone: domain::time::Zone::server().name().to_owned(),
            floor: state.login.policy().password_min_length,
            forced_2fa: state.login.policy().require_2fa,
            notice,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.map_or("", |p| p.field),
        },
        &cookies,
    )
}

/// `GET /admin/policy`.
pub async fn policy(
    State(state): State<AppState>,
    Admin { user: admin, .. }: Admin,
    headers: HeaderMap,
    DoneParam(done): DoneParam,
) -> Result<Response, AppError> {
    let current = state.login.practice_policy(admin.practice_id).await?;
    let locale = state.login.practice_locale(admin.practice_id).await?;
    let notice = done.map(|done| done.words(crate::lang::current(), ""));
    policy_page(
        &state,
        &headers,
        StatusCode::OK,
        current,
        &locale.time_zone,
        locale.language.map_or("", i18n::Lang::tag),
        notice.as_deref(),
        None,
    )
}

/// Fields of `POST /admin/policy`.
#[derive(Deserialize)]
pub struct PolicyForm {
    require_2fa: Option<String>,
    allow_sms: Option<String>,
    allow_passkey_sign_in: Option<String>,
    phishing_resistant_admins: Option<String>,
    remember_days: Option<String>,
    idle_timeout_minutes: Option<String>,
    password_min_length: Option<String>,
    time_zone: Option<String>,
    language: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
}

/// A whole number from a form field, or the problem naming the field
/// (`name`, the catalog id of its name; `field`, its shared name).
fn number(
    value: Option<&str>,
    name: &str,
    field: &'static str,
) -> Result<u32, crate::lang::Problem> {
    value.unwrap_or("").trim().parse::<u32>().map_err(|_| {
        let lang = crate::lang::current();
        crate::lang::Problem {
            words: lang.t_with("policy-whole-number", &[("field", lang.t(name).into())]),
            field,
        }
    })
}

/// The default language chosen: empty for none, else a tag we speak.
fn language(tag: &str) -> Result<Option<i18n::Lang>, crate::lang::Problem> {
    let tag = tag.trim();
    if tag.is_empty() {
        return Ok(None);
    }
    i18n::Lang::from_tag(tag)
        .map(Some)
        .ok_or_else(|| crate::lang::Problem::about("language", "policy-choose-language"))
}

/// `POST /admin/policy`.
pub async fn set_policy(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    AdminForm {
        admin: Admin {
            user: admin,
            session: token,
        },
        form: fields,
    }: AdminForm<PolicyForm>,
) -> Result<Response, AppError> {
    let current = state.login.practice_policy(admin.practice_id).await?;
    let parsed = (|| {
        Ok::<_, crate::lang::Problem>(PracticePolicy {
            require_2fa: fields.require_2fa.as_deref() == Some("on"),
            allow_sms: fields.allow_sms.as_deref() == Some("on"),
            remember_days: number(
                fields.remember_days.as_deref(),
                "policy-field-remember-days",
                "remember-days",
            )?,
            idle_timeout_minutes: number(
                fields.idle_timeout_minutes.as_deref(),
                "policy-field-idle",
                "idle-minutes",
            )?,
            password_min_length: number(
                fields.password_min_length.as_deref(),
                "policy-field-min-length",
                "min-length",
            )?,
            allow_passkey_sign_in: fields.allow_passkey_sign_in.as_deref() == Some("on"),
            phishing_resistant_admins: fields.phishing_resistant_admins.as_deref() == Some("on"),
        })
    })();
    let typed_language = fields.language.as_deref().unwrap_or("");
    let parsed = parsed.and_then(|policy| Ok((policy, language(typed_language)?)));
    let (wanted, language) = match parsed {
        Ok(wanted) => wanted,
        Err(error) => {
            return policy_page(
                &state,
                &headers,
                StatusCode::BAD_REQUEST,
                current,
                fields.time_zone.as_deref().unwrap_or(""),
                typed_language,
                None,
                Some(&error),
            );
        }
    };
    match state
        .login
        .set_practice_policy(
            &token,
            &admin,
            fields.password.as_deref().unwrap_or(""),
            &wanted,
            &PracticeLocale {
                time_zone: fields.time_zone.clone().unwrap_or_default(),
                language,
            },
            &ctx,
            state.now(),
        )
        .await?
    {
        Ok(()) => Ok(crate::pages::redirect(
            &Done::PolicySaved.at("/admin/policy"),
            &[],
        )),
        // What was typed stays on the form, to be corrected.
        Err(error) => policy_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            wanted,
            fields.time_zone.as_deref().unwrap_or(""),
            typed_language,
            None,
            Some(&crate::lang::Problem::of(&error)),
        ),
    }
}

page_forms! {
    PolicyForm => "/admin/policy",
}
