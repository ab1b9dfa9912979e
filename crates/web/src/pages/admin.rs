//! The practice administrator's pages: `/admin/staff` (the staff list, one
//! page per account with its actions, adding a user), `/admin/policy` and
//! `/admin/audit` with its streamed export.
//!
//! Every page needs a full session of an administrator; staff get 403. An
//! account id of another practice is a 404 exactly like a missing one. Every
//! action re-checks the administrator's password (in the domain).

use askama::Template;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::admin::{AddStaff, AuditFilter, StaffAction, StaffRow};
use domain::{AuditKind, PracticePolicy, Role, User, UserId};
use serde::Deserialize;

use super::account::logged_in;
use super::{Client, encode_next, form, page};
use crate::audit_export::Format;
use crate::error::MessagePage;
use crate::{AppError, AppState, cookies, csrf};

/// Accounts per staff page.
const STAFF_PAGE: u32 = 50;
/// Events per audit page.
const AUDIT_PAGE: u32 = 50;
/// Events per database read while exporting.
const EXPORT_CHUNK: u32 = 1000;

/// The administrator behind this request and their session token, or the
/// response to send instead (login redirect, 403 for staff).
async fn admin(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
) -> Result<Result<(User, String), Response>, AppError> {
    let user = match logged_in(state, headers, path).await? {
        Ok(user) => user,
        Err(redirect) => return Ok(Err(redirect)),
    };
    if user.role != Role::Admin {
        return Ok(Err(MessagePage {
            title: "For practice administrators",
            message: "Only practice administrators can open this page. Ask yours if you need an account changed.",
            link: "/",
            link_text: "Go to the start page",
        }
        .respond(StatusCode::FORBIDDEN)));
    }
    let token = cookies::get(headers, state.session_cookie()).unwrap_or_default();
    Ok(Ok((user, token)))
}

/// Unwraps [`admin`] inside a handler.
macro_rules! admin_or_return {
    ($state:expr, $headers:expr, $path:expr) => {
        match admin($state, $headers, $path).await? {
            Ok(found) => found,
            Err(response) => return Ok(response),
        }
    };
}

/// The query string, or a clear 400 page for a malformed one.
fn query<T>(result: Result<Query<T>, QueryRejection>) -> Result<T, AppError> {
    result
        .map(|Query(value)| value)
        .map_err(|rejection| AppError::BadRequest(rejection.body_text()))
}

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

fn row_view(row: &StaffRow, practice_requires: bool, sms_allowed: bool, now: u64) -> RowView {
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
        format!("Locked until {}", domain::time::readable(row.locked_until))
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
            .map_or("never".to_owned(), domain::time::readable),
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
    headers: HeaderMap,
    params: Result<Query<StaffQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let params = query(params)?;
    let (admin, _) = admin_or_return!(&state, &headers, "/admin/staff");
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
    let now = state.now();
    let pages = total.div_ceil(u64::from(STAFF_PAGE)).max(1);
    let link = |n: u64| format!("/admin/staff?q={}&page={n}", encode_next(&search));
    page(
        StatusCode::OK,
        &StaffPage {
            notice: None,
            query: &search,
            total,
            rows: rows
                .iter()
                .map(|r| row_view(r, practice_requires, policy.allow_sms, now))
                .collect(),
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

fn actions_for(row: &StaffRow, now: u64) -> Vec<ActionView> {
    let user = &row.user;
    let mut actions = Vec::new();
    actions.push(if user.require_2fa {
        ActionView {
            path: "unrequire-2fa",
            title: "Stop requiring two-factor login",
            help: "The practice policy may still require it for everyone.",
        }
    } else {
        ActionView {
            path: "require-2fa",
            title: "Require two-factor login",
            help: "From the next login on, this user must use a second factor; without one, they link an authenticator app before anything else.",
        }
    });
    actions.push(ActionView {
        path: "reset-2fa",
        title: "Reset two-factor login",
        help: "For a lost phone: removes the authenticator app, the phone number, the recovery codes, every remembered device and every session. The user sets it up again at the next login.",
    });
    if row.locked_until > now {
        actions.push(ActionView {
            path: "unlock",
            title: "Unlock",
            help: "Clears the lock after too many wrong passwords or tokens.",
        });
    }
    actions.push(if user.disabled {
        ActionView {
            path: "enable",
            title: "Enable the account",
            help: "The user can log in again.",
        }
    } else {
        ActionView {
            path: "disable",
            title: "Disable the account",
            help: "Logs the user out everywhere and refuses every login until enabled again.",
        }
    });
    if user.password_hash.is_none() {
        actions.push(ActionView {
            path: "resend-invitation",
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
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let Some(row) = state.login.staff_row(admin, id).await? else {
        return Ok(super::not_found().await);
    };
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
                practice.require_2fa || state.login.policy().require_2fa,
                policy.allow_sms,
                now,
            ),
            notice,
            error,
        },
        &cookies,
    )
}

/// An id from the path, if it can be one.
fn user_id(raw: &str) -> Option<UserId> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(UserId)
}

/// `GET /admin/staff/{id}`.
pub async fn show_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let (admin, _) = admin_or_return!(&state, &headers, "/admin/staff");
    let Some(id) = user_id(&raw) else {
        return Ok(super::not_found().await);
    };
    user_page(&state, &headers, &admin, id, StatusCode::OK, None, None).await
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
    body: Result<axum::Form<ActionForm>, FormRejection>,
) -> Result<Response, AppError> {
    let fields = form(body)?;
    csrf::check(&state, &headers, fields.csrf_token.as_deref())?;
    let (admin, token) = admin_or_return!(&state, &headers, "/admin/staff");
    let found = ACTIONS.iter().find(|(path, _)| *path == action);
    let (Some((_, action)), Some(id)) = (found, user_id(&raw)) else {
        return Ok(super::not_found().await);
    };
    let Some(target) = state.login.staff_member(&admin, id.0).await? else {
        return Ok(super::not_found().await);
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
        Ok(notice) => {
            user_page(
                &state,
                &headers,
                &admin,
                id,
                StatusCode::OK,
                Some(&notice),
                None,
            )
            .await
        }
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
    headers: HeaderMap,
) -> Result<Response, AppError> {
    admin_or_return!(&state, &headers, "/admin/staff/new");
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
    body: Result<axum::Form<NewUserForm>, FormRejection>,
) -> Result<Response, AppError> {
    let fields = form(body)?;
    csrf::check(&state, &headers, fields.csrf_token.as_deref())?;
    let (admin, token) = admin_or_return!(&state, &headers, "/admin/staff/new");
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
        Ok(user) => {
            let notice = format!(
                "{} was added; an invitation is on its way to {}.",
                user.username, user.email
            );
            user_page(
                &state,
                &headers,
                &admin,
                user.id,
                StatusCode::CREATED,
                Some(&notice),
                None,
            )
            .await
        }
        Err(error) => new_user_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            &fields,
            Some(&error),
        ),
    }
}

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage<'a> {
    csrf_token: &'a str,
    policy: PracticePolicy,
    floor: usize,
    forced_2fa: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

fn policy_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    policy: PracticePolicy,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    page(
        status,
        &PolicyPage {
            csrf_token: &csrf_token,
            policy,
            floor: state.login.policy().password_min_length,
            forced_2fa: state.login.policy().require_2fa,
            notice,
            error,
        },
        &cookies,
    )
}

/// `GET /admin/policy`.
pub async fn policy(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (admin, _) = admin_or_return!(&state, &headers, "/admin/policy");
    let current = state.login.practice_policy(admin.practice_id).await?;
    policy_page(&state, &headers, StatusCode::OK, current, None, None)
}

/// Fields of `POST /admin/policy`.
#[derive(Deserialize)]
pub struct PolicyForm {
    require_2fa: Option<String>,
    allow_sms: Option<String>,
    remember_days: Option<String>,
    idle_timeout_minutes: Option<String>,
    password_min_length: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
}

/// A whole number from a form field, or the message naming the field.
fn number(value: Option<&str>, what: &str) -> Result<u32, String> {
    value
        .unwrap_or("")
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("{what} must be a whole number."))
}

/// `POST /admin/policy`.
pub async fn set_policy(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    body: Result<axum::Form<PolicyForm>, FormRejection>,
) -> Result<Response, AppError> {
    let fields = form(body)?;
    csrf::check(&state, &headers, fields.csrf_token.as_deref())?;
    let (admin, token) = admin_or_return!(&state, &headers, "/admin/policy");
    let current = state.login.practice_policy(admin.practice_id).await?;
    let parsed = (|| {
        Ok::<_, String>(PracticePolicy {
            require_2fa: fields.require_2fa.as_deref() == Some("on"),
            allow_sms: fields.allow_sms.as_deref() == Some("on"),
            remember_days: number(fields.remember_days.as_deref(), "Remember-device days")?,
            idle_timeout_minutes: number(
                fields.idle_timeout_minutes.as_deref(),
                "The idle timeout",
            )?,
            password_min_length: number(
                fields.password_min_length.as_deref(),
                "The minimum password length",
            )?,
        })
    })();
    let wanted = match parsed {
        Ok(wanted) => wanted,
        Err(error) => {
            return policy_page(
                &state,
                &headers,
                StatusCode::BAD_REQUEST,
                current,
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
            &ctx,
            state.now(),
        )
        .await?
    {
        Ok(()) => policy_page(
            &state,
            &headers,
            StatusCode::OK,
            wanted,
            Some("The policy was saved. It applies at everyone's next request."),
            None,
        ),
        Err(error) => policy_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            current,
            None,
            Some(&error),
        ),
    }
}

/// Query of `GET /admin/audit` and its export.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    user: Option<String>,
    event: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    format: Option<String>,
}

const OUTCOMES: [&str; 3] = ["success", "failure", "blocked"];

/// `YYYY-MM-DD` as the Unix time of that day's start (UTC).
fn day(text: &str) -> Option<u64> {
    if text.len() != 10 {
        return None;
    }
    domain::time::parse_rfc3339(&format!("{text}T00:00:00Z"))
}

/// The filter the query asks for, within the administrator's practice, or
/// the message saying which field is wrong.
async fn audit_filter(
    state: &AppState,
    admin: &User,
    params: &AuditQuery,
) -> Result<Result<AuditFilter, String>, AppError> {
    let mut filter = AuditFilter {
        practice: Some(admin.practice_id),
        until: u64::MAX,
        ..AuditFilter::default()
    };
    let text = |value: &Option<String>| value.as_deref().unwrap_or("").trim().to_owned();
    let user = text(&params.user);
    if !user.is_empty() {
        let found = state.login.user_by_name(&user).await?;
        match found.filter(|u| u.practice_id == admin.practice_id) {
            Some(u) => filter.user = Some(u.id),
            None => return Ok(Err(format!("No user named {user:?} in your practice."))),
        }
    }
    let event = text(&params.event);
    if !event.is_empty() {
        if !AuditKind::ALL.iter().any(|k| k.as_str() == event) {
            return Ok(Err("Unknown event type.".into()));
        }
        filter.kind = Some(event);
    }
    let outcome = text(&params.outcome);
    if !outcome.is_empty() {
        if !OUTCOMES.contains(&outcome.as_str()) {
            return Ok(Err(
                "The outcome must be success, failure or blocked.".into()
            ));
        }
        filter.outcome = Some(outcome);
    }
    let from = text(&params.from);
    if !from.is_empty() {
        match day(&from) {
            Some(at) => filter.since = at,
            None => return Ok(Err("The start date must look like 2026-01-31.".into())),
        }
    }
    let to = text(&params.to);
    if !to.is_empty() {
        match day(&to) {
            Some(at) => filter.until = at + 86_400,
            None => return Ok(Err("The end date must look like 2026-01-31.".into())),
        }
    }
    if filter.since >= filter.until {
        return Ok(Err("The start date must not be after the end date.".into()));
    }
    Ok(Ok(filter))
}

/// The filter fields as a query string (for paging and export links).
fn filter_query(params: &AuditQuery) -> String {
    let pairs = [
        ("user", &params.user),
        ("event", &params.event),
        ("outcome", &params.outcome),
        ("from", &params.from),
        ("to", &params.to),
    ];
    pairs
        .iter()
        .map(|(key, value)| {
            let value: String = value.as_deref().unwrap_or("").chars().take(64).collect();
            format!("{key}={}", encode_next(value.trim()))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// An option of a select, and whether it is the chosen one.
pub struct Choice {
    value: &'static str,
    selected: bool,
}

fn choices(values: impl Iterator<Item = &'static str>, chosen: &str) -> Vec<Choice> {
    values
        .map(|value| Choice {
            value,
            selected: value == chosen,
        })
        .collect()
}

/// An event row as shown.
pub struct EventView {
    time: String,
    username: String,
    kind: String,
    outcome: String,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage<'a> {
    error: Option<&'a str>,
    user: String,
    from: String,
    to: String,
    kinds: Vec<Choice>,
    outcomes: Vec<Choice>,
    filter_query: String,
    events: Vec<EventView>,
    newer: Option<String>,
    older: Option<String>,
}

/// `GET /admin/audit`: newest first, 50 a page.
pub async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let params = query(params)?;
    let (admin, _) = admin_or_return!(&state, &headers, "/admin/audit");
    let before = match params.before.as_deref() {
        None | Some("") => i64::MAX,
        Some(text) => match text.parse::<i64>() {
            Ok(id) if id > 0 => id,
            _ => return Err(AppError::BadRequest("before must be an event id".into())),
        },
    };
    let shown = |value: &Option<String>| -> String {
        value
            .as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(64)
            .collect()
    };
    let (events, error, older) = match audit_filter(&state, &admin, &params).await? {
        Ok(filter) => {
            let mut found = state
                .login
                .audit_search(&filter, before, true, AUDIT_PAGE + 1)
                .await?;
            let more = found.len() > AUDIT_PAGE as usize;
            found.truncate(AUDIT_PAGE as usize);
            let older = match (more, found.last()) {
                (true, Some((id, _))) => Some(format!(
                    "/admin/audit?{}&before={id}",
                    filter_query(&params)
                )),
                _ => None,
            };
            (found, None, older)
        }
        Err(error) => (Vec::new(), Some(error), None),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let events = events
        .into_iter()
        .map(|(_, e)| EventView {
            time: domain::time::readable(e.at),
            username: e.username,
            kind: e.kind,
            outcome: e.outcome,
            ip: e.ip,
            detail: e.detail,
        })
        .collect();
    page(
        status,
        &AuditPage {
            error: error.as_deref(),
            user: shown(&params.user),
            from: shown(&params.from),
            to: shown(&params.to),
            kinds: choices(
                AuditKind::ALL.iter().map(|k| k.as_str()),
                &shown(&params.event),
            ),
            outcomes: choices(OUTCOMES.into_iter(), &shown(&params.outcome)),
            filter_query: filter_query(&params),
            events,
            newer: (before != i64::MAX).then(|| format!("/admin/audit?{}", filter_query(&params))),
            older,
        },
        &[],
    )
}

/// A body fed by a channel: the exporter task pages through the trail and
/// waits whenever the client is slower than the database, so memory stays
/// at a few chunks however long the export.
struct ChannelBody(tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>);

impl futures_core::Stream for ChannelBody {
    type Item = Result<axum::body::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// `GET /admin/audit/export?format=csv|jsonl&…filters`: the filtered set,
/// oldest first, streamed.
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let params = query(params)?;
    let (admin, _) = admin_or_return!(&state, &headers, "/admin/audit");
    let Some(format) = Format::parse(params.format.as_deref().unwrap_or("")) else {
        return Err(AppError::BadRequest("format must be csv or jsonl".into()));
    };
    let filter = match audit_filter(&state, &admin, &params).await? {
        Ok(filter) => filter,
        Err(error) => return Err(AppError::BadRequest(error)),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let login = state.login.clone();
    tokio::spawn(async move {
        let mut chunk = String::from(format.header());
        let mut after = 0;
        loop {
            let page = match login
                .audit_search(&filter, after, false, EXPORT_CHUNK)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "audit export stopped: database error");
                    let _ = sender
                        .send(Err(std::io::Error::other("database unavailable")))
                        .await;
                    return;
                }
            };
            for (id, event) in &page {
                chunk.push_str(&format.line(*id, event));
            }
            let done = page.len() < EXPORT_CHUNK as usize;
            if let Some((last, _)) = page.last() {
                after = *last;
            }
            let bytes = axum::body::Bytes::from(std::mem::take(&mut chunk));
            if !bytes.is_empty() && sender.send(Ok(bytes)).await.is_err() {
                return; // the client went away
            }
            if done {
                return;
            }
        }
    });
    let mut response = Body::from_stream(ChannelBody(receiver)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"audit-{}.{}\"",
        domain::time::rfc3339(state.now()).replace(':', ""),
        format.extension()
    )) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
