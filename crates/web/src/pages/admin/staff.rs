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
    role: &'static str,
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
}

fn row_view(row: &StaffRow, context: &RowContext) -> RowView {
    let RowContext {
        practice_requires,
        sms_allowed,
        now,
        zone,
    } = context;
    let (practice_requires, sms_allowed, now) = (*practice_requires, *sms_allowed, *now);
    let user = &row.user;
    let mut factors = Vec::new();
    if row.has_totp {
        factors.push("app");
    }
    if user.phone.is_some() && sms_allowed {
        factors.push("SMS");
    }
    let required = practice_requires || user.require_2fa;
    let (twofa, twofa_class) = match (factors.is_empty(), required) {
        (false, true) => (format!("On ({}) · required", factors.join(" + ")), "on"),
        (false, false) => (format!("On ({})", factors.join(" + ")), "on"),
        (true, true) => (
            "Not set up · required: enrolls at next login".into(),
            "missing",
        ),
        (true, false) => ("Off".into(), "off"),
    };
    let status = if user.disabled {
        "Disabled".to_owned()
    } else if user.password_hash.is_none() {
        "Invited (no password yet)".to_owned()
    } else if row.locked_until > now {
        format!("Locked until {}", zone.readable(row.locked_until))
    } else {
        "Active".to_owned()
    };
    RowView {
        id: user.id.0,
        name: row.display_name.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
        role: user.role.as_str(),
        twofa,
        twofa_class,
        status,
        last_login: row
            .last_login_at
            .map_or("never".to_owned(), |at| zone.readable(at)),
    }
}

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage<'a> {
    notice: Option<&'a str>,
    query: &'a str,
    total: u64,
    rows: Vec<RowView>,
    page: u64,
    pages: u64,
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
    let policy = state.login.policy_for(&admin).await?;
    let practice = state.login.practice_policy(admin.practice_id).await?;
    let practice_requires = practice.require_2fa || state.login.policy().require_2fa;
    let context = RowContext {
        practice_requires,
        sms_allowed: policy.allow_sms,
        now: state.now(),
        zone: state.login.practice_zone(admin.practice_id).await?,
    };
    let pages = total.div_ceil(u64::from(STAFF_PAGE)).max(1);
    let link = |n: u64| format!("/admin/staff?q={}&page={n}", encode_next(&search));
    page(
        StatusCode::OK,
        &StaffPage {
            notice: None,
            query: &search,
            total,
            rows: rows.iter().map(|r| row_view(r, &context)).collect(),
            page: page_number,
            pages,
            prev: (page_number > 1).then(|| link(page_number - 1)),
            next: (page_number < pages).then(|| link(page_number + 1)),
        },
        &[],
    )
}

/// One action form on the account page.
pub struct ActionView {
    path: &'static str,
    title: &'static str,
    help: &'static str,
    /// Destroys something (factors, access): the red button.
    danger: bool,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage<'a> {
    csrf_token: &'a str,
    row: RowView,
    actions: Vec<ActionView>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

const ACTIONS: [(&str, StaffAction); 7] = [
    ("require-2fa", StaffAction::Require2fa(true)),
    ("unrequire-2fa", StaffAction::Require2fa(false)),
    ("reset-2fa", StaffAction::Reset2fa),
    ("unlock", StaffAction::Unlock),
    ("disable", StaffAction::Disable),
    ("enable", StaffAction::Enable),
    ("resend-invitation", StaffAction::ResendInvitation),
];

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

fn actions_for(row: &StaffRow, now: u64) -> Vec<ActionView> {
    let user = &row.user;
    let mut actions = Vec::new();
    actions.push(if user.require_2fa {
        ActionView {
            path: "unrequire-2fa",
            danger: false,
            title: "Stop requiring two-factor login",
            help: "The practice policy may still require it for everyone.",
        }
    } else {
        ActionView {
            path: "require-2fa",
            danger: false,
            title: "Require two-factor login",
            help: "From the next login on, this user must use a second factor; without one, they link an authenticator app before anything else.",
        }
    });
    actions.push(ActionView {
        path: "reset-2fa",
        danger: true,
        title: "Reset two-factor login",
        help: "For a lost phone: removes the authenticator app, the phone number, the recovery codes, every remembered device and every session. The user sets it up again at the next login.",
    });
    if row.locked_until > now {
        actions.push(ActionView {
            path: "unlock",
            danger: false,
            title: "Unlock",
            help: "Clears the lock after too many wrong passwords or tokens.",
        });
    }
    actions.push(if user.disabled {
        ActionView {
            path: "enable",
            danger: false,
            title: "Enable the account",
            help: "The user can log in again.",
        }
    } else {
        ActionView {
            path: "disable",
            danger: true,
            title: "Disable the account",
            help: "Logs the user out everywhere and refuses every login until enabled again.",
        }
    });
    if user.password_hash.is_none() {
        actions.push(ActionView {
            path: "resend-invitation",
            danger: false,
            title: "Send the invitation again",
            help: "Emails a fresh link to choose a password.",
        });
    }
    actions
}

async fn user_page(
    state: &AppState,
    headers: &HeaderMap,
    admin: &User,
    id: UserId,
    status: StatusCode,
    done: Option<Done>,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let Some(row) = state.login.staff_row(admin, id).await? else {
        return Ok(crate::pages::not_found().await);
    };
    let notice = done.map(|done| done.words(crate::lang::current(), &row.user.username));
    let practice = state.login.practice_policy(admin.practice_id).await?;
    let policy = state.login.policy_for(admin).await?;
    let now = state.now();
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &UserPage {
            csrf_token: &csrf_token,
            actions: actions_for(&row, now),
            row: row_view(
                &row,
                &RowContext {
                    practice_requires: practice.require_2fa || state.login.policy().require_2fa,
                    sms_allowed: policy.allow_sms,
                    now,
                    zone: state.login.practice_zone(admin.practice_id).await?,
                },
            ),
            notice: notice.as_deref(),
            error,
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
    let found = ACTIONS.iter().find(|(path, _)| *path == action);
    let (Some((_, action)), Some(id)) = (found, user_id(&raw)) else {
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
                Some(&error),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_staff_new.html")]
struct NewUserPage<'a> {
    csrf_token: &'a str,
    error: Option<&'a str>,
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
    error: Option<&str>,
) -> Result<Response, AppError> {
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    let short = |value: &Option<String>, max: usize| -> String {
        value.as_deref().unwrap_or("").chars().take(max).collect()
    };
    page(
        status,
        &NewUserPage {
            csrf_token: &csrf_token,
            error,
            username: &short(&fields.username, 64),
            display_name: &short(&fields.display_name, 100),
            email: &short(&fields.email, 254),
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
            Some(&error),
        ),
    }
}

page_forms! {
    ActionForm => "/admin/staff",
    NewUserForm => "/admin/staff/new",
}
