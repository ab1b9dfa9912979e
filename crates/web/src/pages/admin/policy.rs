//! `/admin/policy`: the practice's settings.

use super::*;

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    policy: PracticePolicy,
    /// The number fields as shown: saved, or as typed when refused.
    numbers: Numbers,
    /// The practice's time zone as set (empty: the server's).
    time_zone: String,
    /// The practice's default language as set (empty: none, English).
    language: String,
    /// The server's zone, named for the empty choice.
    server_zone: String,
    floor: usize,
    forced_2fa: bool,
    notice: Option<&'a str>,
    /// What was refused, each on its field, in the form's order.
    problems: &'a [crate::lang::Problem],
}

impl PolicyPage<'_> {
    /// Whether `field` (a shared name) was refused.
    fn marked(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }

    /// The first refused field, which gets the focus.
    fn first(&self) -> &str {
        self.problems.first().map_or("", |p| p.field)
    }
}

/// The three number fields as text.
struct Numbers {
    remember_days: String,
    idle_timeout_minutes: String,
    password_min_length: String,
}

impl Numbers {
    fn of(policy: &PracticePolicy) -> Numbers {
        Numbers {
            remember_days: policy.remember_days.to_string(),
            idle_timeout_minutes: policy.idle_timeout_minutes.to_string(),
            password_min_length: policy.password_min_length.to_string(),
        }
    }

    /// As typed, cut to what the fields hold.
    fn typed(form: &PolicyForm) -> Numbers {
        let typed = |value: &Option<String>| crate::pages::as_typed(value, 12);
        Numbers {
            remember_days: typed(&form.remember_days),
            idle_timeout_minutes: typed(&form.idle_timeout_minutes),
            password_min_length: typed(&form.password_min_length),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn policy_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    policy: PracticePolicy,
    numbers: Numbers,
    time_zone: &str,
    language: &str,
    notice: Option<&str>,
    problems: &[crate::lang::Problem],
) -> Result<Response, AppError> {
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &PolicyPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            policy,
            numbers,
            time_zone: time_zone.to_owned(),
            language: language.to_owned(),
            server_zone: domain::time::Zone::server().name().to_owned(),
            floor: state.login.policy().password_min_length,
            forced_2fa: state.login.policy().require_2fa,
            notice,
            problems,
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
        Numbers::of(&current),
        &locale.time_zone,
        locale.language.map_or("", i18n::Lang::tag),
        notice.as_deref(),
        &[],
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
    // Every wrong number is marked at once: those that are not numbers,
    // then those out of range.
    let mut problems = Vec::new();
    let mut whole = |value: &Option<String>, name, field, saved| {
        number(value.as_deref(), name, field).unwrap_or_else(|problem| {
            problems.push(problem);
            saved
        })
    };
    let wanted = PracticePolicy {
        require_2fa: fields.require_2fa.as_deref() == Some("on"),
        allow_sms: fields.allow_sms.as_deref() == Some("on"),
        remember_days: whole(
            &fields.remember_days,
            "policy-field-remember-days",
            "remember-days",
            current.remember_days,
        ),
        idle_timeout_minutes: whole(
            &fields.idle_timeout_minutes,
            "policy-field-idle",
            "idle-minutes",
            current.idle_timeout_minutes,
        ),
        password_min_length: whole(
            &fields.password_min_length,
            "policy-field-min-length",
            "min-length",
            current.password_min_length,
        ),
        allow_passkey_sign_in: fields.allow_passkey_sign_in.as_deref() == Some("on"),
        phishing_resistant_admins: fields.phishing_resistant_admins.as_deref() == Some("on"),
    };
    let typed_language = fields.language.as_deref().unwrap_or("");
    let language = match language(typed_language) {
        Ok(language) => language,
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let locale = PracticeLocale {
        time_zone: fields.time_zone.clone().unwrap_or_default(),
        language,
    };
    for reason in state.login.practice_settings_problems(&wanted, &locale) {
        let problem = crate::lang::Problem::of(&reason);
        if !problems.iter().any(|p| p.field == problem.field) {
            problems.push(problem);
        }
    }
    // In the form's order, whichever check found them.
    let order = [
        "remember-days",
        "idle-minutes",
        "min-length",
        "time-zone",
        "language",
    ];
    problems.sort_by_key(|p| order.iter().position(|f| *f == p.field));
    // What was typed stays on the form, to be corrected.
    let refuse = |problems: &[crate::lang::Problem]| {
        policy_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            wanted,
            Numbers::typed(&fields),
            fields.time_zone.as_deref().unwrap_or(""),
            typed_language,
            None,
            problems,
        )
    };
    if !problems.is_empty() {
        return refuse(&problems);
    }
    match state
        .login
        .set_practice_policy(
            &token,
            &admin,
            fields.password.as_deref().unwrap_or(""),
            &wanted,
            &locale,
            &ctx,
            state.now(),
        )
        .await?
    {
        Ok(()) => Ok(crate::pages::redirect(
            &Done::PolicySaved.at("/admin/policy"),
            &[],
        )),
        Err(error) => refuse(&[crate::lang::Problem::of(&error)]),
    }
}

page_forms! {
    PolicyForm => "/admin/policy",
}
