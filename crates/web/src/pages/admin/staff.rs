//! `/admin/staff`: the staff list, one page per account with its actions,
//! and adding a user.

use super::*;

/// Accounts per staff page.
const STAFF_PAGE: u32 = 50;

/// A staff line as shown.
pub struct RowView {
    id: i64,
    name: String,
    username: String,
    email: String,
    role: String,
    twofa: String,
    twofa_class: &'static str,
    status: String,
    last_login: String,
}

/// What every row of a staff page is shown against.
struct RowContext {
    practice_requires: bool,
    sms_allowed: bool,
    now: u64,
    zone: domain::time::Zone,
    tr: crate::lang::Tr,
}

impl RowContext {
    /// What the staff pages need to know of `admin`'s practice: its
    /// settings as applied over the server's (one read of its policy, one
    /// of its zone).
    async fn of(state: &AppState, admin: &User) -> Result<RowContext, AppError> {
        let practice = state.login.practice_policy(admin.practice_id).await?;
        // A user's own "require 2FA" aside, this is what every row shares.
        let applied = state.login.policy().for_user(&practice, false);
        Ok(RowContext {
            practice_requires: applied.require_2fa,
            sms_allowed: applied.allow_sms,
            now: state.now(),
            zone: state.login.practice_zone(admin.practice_id).await?,
            tr: crate::lang::Tr::current(),
        })
    }
}

fn row_view(row: &StaffRow, context: &RowContext) -> RowView {
    let RowContext {
        practice_requires,
        sms_allowed,
        now,
        zone,
        tr,
    } = context;
    let (practice_requires, sms_allowed, now) = (*practice_requires, *sms_allowed, *now);
    let user = &row.user;
    let mut factors = Vec::new();
    if row.has_totp {
        factors.push(tr.t("staff-factor-app"));
    }
    if user.phone.is_some() && sms_allowed {
        factors.push(tr.t("staff-factor-sms"));
    }
    let required = practice_requires || user.require_2fa;
    let factors = factors.join(" + ");
    let (twofa, twofa_class) = match (factors.is_empty(), required) {
        (false, true) => (tr.s("twofa-on-required", "factors", &factors), "on"),
        (false, false) => (tr.s("twofa-on", "factors", &factors), "on"),
        (true, true) => (tr.t("twofa-missing-required"), "missing"),
        (true, false) => (tr.t("twofa-off"), "off"),
    };
    let status = if user.disabled {
        tr.t("status-disabled")
    } else if user.password_hash.is_none() {
        tr.t("status-invited")
    } else if row.locked_until > now {
        tr.s("status-locked", "until", &zone.readable(row.locked_until))
    } else {
        tr.t("status-active")
    };
    let role = match user.role {
        domain::Role::Admin => tr.t("role-admin"),
        domain::Role::Staff => tr.t("role-staff"),
    };
    RowView {
        id: user.id.0,
        name: row.display_name.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
        role,
        twofa,
        twofa_class,
        status,
        last_login: row
            .last_login_at
            .map_or_else(|| tr.t("last-login-never"), |at| zone.readable(at)),
    }
}

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage<'a> {
    tr: crate::lang::Tr,
    notice: Option<&'a str>,
    query: &'a str,
    total: u64,
    rows: Vec<RowView>,
    /// "Page 2 of 5".
    paging: String,
    prev: Option<String>,
    next: Option<String>,
}

/// Query of `GET /admin/staff`.
#[derive(Deserialize)]
pub struct StaffQuery {
    q: Option<String>,
    page: Option<String>,
}

/// `GET /admin/staff?q=…&page=N`.
pub async fn staff(
    State(state): State<AppState>,
    Admin { user: admin, .. }: Admin,
    _headers: HeaderMap,
    params: Result<Query<StaffQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let params = query(params)?;
    let search: String = params
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    let page_number = match params.page.as_deref().map(str::parse::<u64>) {
        None => 1,
        Some(Ok(n)) if (1..=1_000_000).contains(&n) => n,
        Some(_) => return Err(AppError::BadRequest("page must be a number from 1".into())),
    };
    let offset = (page_number - 1) * u64::from(STAFF_PAGE);
    let (rows, total) = state
        .login
        .staff(&admin, &search, offset, STAFF_PAGE)
        .await?;
    let context = RowContext::of(&state, &admin).await?;
    let tr = context.tr;
    let pages = total.div_ceil(u64::from(STAFF_PAGE)).max(1);
    let link = |n: u64| format!("/admin/staff?q={}&page={n}", encode_next(&search));
    page(
        StatusCode::OK,
        &StaffPage {
            tr,
            notice: None,
            query: &search,
            total,
            rows: rows.iter().map(|r| row_view(r, &context)).collect(),
            paging: tr.0.t_with(
                "staff-paging",
                &[("page", page_number.into()), ("pages", pages.into())],
            ),
            prev: (page_number > 1).then(|| link(page_number - 1)),
            next: (page_number < pages).then(|| link(page_number + 1)),
        },
        &[],
    )
}

/// One action form on the account page.
pub struct ActionView {
    path: &'static str,
    title: String,
    help: String,
    /// Destroys something (factors, access): the red button.
    danger: bool,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    row: RowView,
    actions: Vec<ActionView>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// The path of the action whose password field the error is about.
    invalid_action: &'a str,
}

/// Each action: its path, what it does, and the stem of its words in the
/// catalogs (`action-<stem>-title`, `action-<stem>-help`).
const ACTIONS: [(&str, StaffAction, &str); 7] = [
    ("require-2fa", StaffAction::Require2fa(true), "require"),
    ("unrequire-2fa", StaffAction::Require2fa(false), "unrequire"),
    ("reset-2fa", StaffAction::Reset2fa, "reset"),
    ("unlock", StaffAction::Unlock, "unlock"),
    ("disable", StaffAction::Disable, "disable"),
    ("enable", StaffAction::Enable, "enable"),
    ("resend-invitation", StaffAction::ResendInvitation, "resend"),
];

/// The catalog ids of the title and help of the action at `path`.
fn action_words(path: &str) -> (String, String) {
    let stem = ACTIONS
        .iter()
        .find(|(p, ..)| *p == path)
        .map_or(path, |(.., stem)| stem);
    (
        format!("action-{stem}-title"),
        format!("action-{stem}-help"),
    )
}

/// What the user page says after `action`.
fn done_by(action: StaffAction) -> Done {
    match action {
        StaffAction::Require2fa(true) => Done::Required2fa,
        StaffAction::Require2fa(false) => Done::Unrequired2fa,
        StaffAction::Reset2fa => Done::Reset2fa,
        StaffAction::Unlock => Done::Unlocked,
        StaffAction::Disable => Done::Disabled,
        StaffAction::Enable => Done::Enabled,
        StaffAction::ResendInvitation => Done::InvitationResent,
    }
}

fn actions_for(row: &StaffRow, now: u64, tr: crate::lang::Tr) -> Vec<ActionView> {
    let user = &row.user;
    // (path, destroys something)
    let mut shown = vec![if user.require_2fa {
        ("unrequire-2fa", false)
    } else {
        ("require-2fa", false)
    }];
    shown.push(("reset-2fa", true));
    if row.locked_until > now {
        shown.push(("unlock", false));
    }
    shown.push(if user.disabled {
        ("enable", false)
    } else {
        ("disable", true)
    });
    if user.password_hash.is_none() {
        shown.push(("resend-invitation", false));
    }
    shown
        .into_iter()
        .map(|(path, danger)| {
            let (title, help) = action_words(path);
            ActionView {
                path,
                title: tr.t(&title),
                help: tr.t(&help),
                danger,
            }
        })
        .collect()
}

async fn user_page(
    state: &AppState,
    headers: &HeaderMap,
    admin: &User,
    id: UserId,
    status: StatusCode,
    done: Option<Done>,
    error: Option<(&str, &crate::lang::Problem)>,
) -> Result<Response, AppError> {
    let Some(row) = state.login.staff_row(admin, id).await? else {
        return Ok(crate::pages::not_found().await);
    };
    let notice = done.map(|done| done.words(crate::lang::current(), &row.user.username));
    let context = RowContext::of(state, admin).await?;
    let tr = context.tr;
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &UserPage {
            tr,
            csrf_token: &csrf_token,
            actions: actions_for(&row, context.now, tr),
            row: row_view(&row, &context),
            notice: notice.as_deref(),
            error: error.map(|(_, p)| p.words.as_str()),
            invalid_action: match error {
                Some((action, p)) if p.field == "own-password" => action,
                _ => "",
            },
        },
        &cookies,
    )
}

/// An id from the path, if it can be one.
fn user_id(raw: &str) -> Option<UserId> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(UserId)
}

/// `GET /admin/staff/{id}`; after an action (post/redirect/get) it says
/// what was done.
pub async fn show_user(
    State(state): State<AppState>,
    Admin { user: admin, .. }: Admin,
    headers: HeaderMap,
    Path(raw): Path<String>,
    DoneParam(done): DoneParam,
) -> Result<Response, AppError> {
    let Some(id) = user_id(&raw) else {
        return Ok(crate::pages::not_found().await);
    };
    user_page(&state, &headers, &admin, id, StatusCode::OK, done, None).await
}

/// Fields of an action form.
#[derive(Deserialize)]
pub struct ActionForm {
    password: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /admin/staff/{id}/{action}`.
pub async fn act(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    Path((raw, action)): Path<(String, String)>,
    AdminForm {
        admin: Admin {
            user: admin,
            session: token,
        },
        form: fields,
    }: AdminForm<ActionForm>,
) -> Result<Response, AppError> {
    let found = ACTIONS.iter().find(|(path, ..)| *path == action);
    let (Some((path, action, _)), Some(id)) = (found, user_id(&raw)) else {
        return Ok(crate::pages::not_found().await);
    };
    let Some(target) = state.login.staff_member(&admin, id.0).await? else {
        return Ok(crate::pages::not_found().await);
    };
    let outcome = state
        .login
        .staff_action(
            &token,
            &admin,
            fields.password.as_deref().unwrap_or(""),
            &target,
            *action,
            &state.config.public_url,
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        Ok(()) => Ok(crate::pages::redirect(
            &done_by(*action).at(&format!("/admin/staff/{}", id.0)),
            &[],
        )),
        Err(error) => {
            user_page(
                &state,
                &headers,
                &admin,
                id,
                StatusCode::BAD_REQUEST,
                None,
                Some((path, &crate::lang::Problem::of(&error))),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_staff_new.html")]
struct NewUserPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    error: Option<&'a str>,
    /// The field the error is about ([`crate::lang::Problem::field`]).
    invalid: &'a str,
    username: &'a str,
    display_name: &'a str,
    email: &'a str,
    role: &'a str,
}

/// Fields of `POST /admin/staff`.
#[derive(Deserialize, Default)]
pub struct NewUserForm {
    username: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
}

fn new_user_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    fields: &NewUserForm,
    problem: Option<&crate::lang::Problem>,
) -> Result<Response, AppError> {
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &NewUserPage {
            tr: crate::lang::Tr::current(),
            csrf_token: &csrf_token,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.map_or("", |p| p.field),
            username: &crate::pages::as_typed(&fields.username, 64),
            display_name: &crate::pages::as_typed(&fields.display_name, 100),
            email: &crate::pages::as_typed(&fields.email, 254),
            role: fields.role.as_deref().unwrap_or("staff"),
        },
        &cookies,
    )
}

/// `GET /admin/staff/new`.
pub async fn new_user_form(
    State(state): State<AppState>,
    _admin: Admin,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    new_user_page(
        &state,
        &headers,
        StatusCode::OK,
        &NewUserForm::default(),
        None,
    )
}

/// `POST /admin/staff`: adds the account and emails the invitation.
pub async fn add_user(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    AdminForm {
        admin: Admin {
            user: admin,
            session: token,
        },
        form: fields,
    }: AdminForm<NewUserForm>,
) -> Result<Response, AppError> {
    let outcome = state
        .login
        .add_staff(
            &token,
            &admin,
            fields.password.as_deref().unwrap_or(""),
            &AddStaff {
                username: fields.username.as_deref().unwrap_or(""),
                display_name: fields.display_name.as_deref().unwrap_or(""),
                email: fields.email.as_deref().unwrap_or(""),
                role: fields.role.as_deref().unwrap_or("staff"),
            },
            &state.config.public_url,
            &ctx,
            state.now(),
        )
        .await?;
    match outcome {
        Ok(user) => Ok(crate::pages::redirect(
            &Done::StaffAdded.at(&format!("/admin/staff/{}", user.id.0)),
            &[],
        )),
        Err(error) => new_user_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            &fields,
            Some(&crate::lang::Problem::of(&error)),
        ),
    }
}

page_forms! {
    ActionForm => "/admin/staff",
    NewUserForm => "/admin/staff/new",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_words_in_every_language() {
        for lang in i18n::Lang::ALL {
            let ids = i18n::catalog_ids(lang);
            for (path, ..) in ACTIONS {
                let (title, help) = action_words(path);
                assert!(ids.contains(&title) && ids.contains(&help), "{path}");
            }
        }
    }
}
