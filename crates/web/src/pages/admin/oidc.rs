//! `/admin/applications`: the practice's OpenID Connect clients, the
//! applications whose users sign in here.

use super::*;

#[derive(Template)]
#[template(path = "admin_applications.html")]
struct ApplicationsPage<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    issuer: &'a str,
    clients: Vec<domain::oidc::OidcClient>,
    /// A client just registered: (client id, secret shown once).
    issued: Option<(String, Option<String>)>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// The field of the registration form the error is about.
    invalid: &'a str,
    /// What was typed in the registration form, kept after a refusal.
    typed: Typed,
    /// The client whose remove form's password was refused (empty: none).
    failed_remove: &'a str,
}

/// The registration form's fields as typed.
#[derive(Default)]
struct Typed {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    public: bool,
}

/// What the page says above the list.
enum Said<'a> {
    Nothing,
    /// A client just registered: its id and the secret, shown once.
    Issued(String, Option<String>),
    Notice(&'a str),
    /// A refusal (the page answers 400), with the registration as typed.
    Error(&'a crate::lang::Problem, Typed),
    /// A row's remove form refused, for the client with this id.
    RemoveRefused(&'a crate::lang::Problem, &'a str),
}

async fn applications_page(
    state: &AppState,
    headers: &HeaderMap,
    admin: &User,
    said: Said<'_>,
) -> Result<Response, AppError> {
    let clients = state.login.oidc_clients(Some(admin.practice_id)).await?;
    let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
    let cookies: Vec<String> = csrf_cookie.into_iter().collect();
    let tr = crate::lang::Tr::current();
    let registered = tr.t("apps-registered");
    // A row's remove form refused: the registration's fields stay
    // unmarked, and that row's password is marked if it was the cause.
    let (row_refused, failed_remove) = match &said {
        Said::RemoveRefused(error, client_id) => (
            true,
            if error.field == "own-password" {
                *client_id
            } else {
                ""
            },
        ),
        _ => (false, ""),
    };
    let (status, issued, notice, problem, typed) = match said {
        Said::Nothing => (StatusCode::OK, None, None, None, Typed::default()),
        Said::Issued(id, secret) => (
            StatusCode::OK,
            Some((id, secret)),
            Some(registered.as_str()),
            None,
            Typed::default(),
        ),
        Said::Notice(notice) => (StatusCode::OK, None, Some(notice), None, Typed::default()),
        Said::Error(error, typed) => (StatusCode::BAD_REQUEST, None, None, Some(error), typed),
        Said::RemoveRefused(error, _) => (
            StatusCode::BAD_REQUEST,
            None,
            None,
            Some(error),
            Typed::default(),
        ),
    };
    page(
        status,
        &ApplicationsPage {
            tr,
            csrf_token: &csrf_token,
            issuer: state.login.oidc_issuer(),
            clients,
            issued,
            notice,
            error: problem.map(|p| p.words.as_str()),
            invalid: problem.filter(|_| !row_refused).map_or("", |p| p.field),
            typed,
            failed_remove,
        },
        &cookies,
    )
}

/// `GET /admin/applications`.
pub async fn applications(
    State(state): State<AppState>,
    Admin { user: admin, .. }: Admin,
    headers: HeaderMap,
    DoneParam(done): DoneParam,
) -> Result<Response, AppError> {
    let notice = done.map(|done| done.words(crate::lang::current(), ""));
    let said = notice.as_deref().map_or(Said::Nothing, Said::Notice);
    applications_page(&state, &headers, &admin, said).await
}

/// Fields of `POST /admin/applications`.
#[derive(Deserialize)]
pub struct AddApplicationForm {
    name: Option<String>,
    redirect_uris: Option<String>,
    post_logout_redirect_uris: Option<String>,
    public: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
}

fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /admin/applications`: registers one; the secret is shown once.
pub async fn add_application(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    AdminForm {
        admin: Admin {
            user: admin,
            session: token,
        },
        form: fields,
    }: AdminForm<AddApplicationForm>,
) -> Result<Response, AppError> {
    let issued = state
        .login
        .oidc_admin_add_client(
            &token,
            &admin,
            fields.password.as_deref().unwrap_or(""),
            fields.name.as_deref().unwrap_or(""),
            &lines(fields.redirect_uris.as_deref()),
            &lines(fields.post_logout_redirect_uris.as_deref()),
            fields.public.as_deref() == Some("on"),
            &ctx,
            state.now(),
        )
        .await?;
    let refusal;
    let said = match &issued {
        Ok(issued) => Said::Issued(issued.client.client_id.clone(), issued.secret.clone()),
        Err(error) => {
            refusal = crate::lang::Problem::of(error);
            Said::Error(
                &refusal,
                Typed {
                    name: crate::pages::as_typed(&fields.name, 100),
                    redirect_uris: crate::pages::as_typed(&fields.redirect_uris, 8192),
                    post_logout_redirect_uris: crate::pages::as_typed(
                        &fields.post_logout_redirect_uris,
                        8192,
                    ),
                    public: fields.public.as_deref() == Some("on"),
                },
            )
        }
    };
    applications_page(&state, &headers, &admin, said).await
}

/// Fields of `POST /admin/applications/{client_id}/remove`.
#[derive(Deserialize)]
pub struct RemoveApplicationForm {
    password: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /admin/applications/{client_id}/remove`.
pub async fn remove_application(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    AdminForm {
        admin: Admin {
            user: admin,
            session: token,
        },
        form: fields,
    }: AdminForm<RemoveApplicationForm>,
) -> Result<Response, AppError> {
    let removed = state
        .login
        .oidc_admin_remove_client(
            &token,
            &admin,
            fields.password.as_deref().unwrap_or(""),
            &client_id,
            &ctx,
            state.now(),
        )
        .await?;
    match &removed {
        Ok(()) => Ok(crate::pages::redirect(
            &Done::ApplicationRemoved.at("/admin/applications"),
            &[],
        )),
        // About a row's remove form, not the registration's fields.
        Err(error) => {
            let error = crate::lang::Problem::of(error);
            applications_page(
                &state,
                &headers,
                &admin,
                Said::RemoveRefused(&error, &client_id),
            )
            .await
        }
    }
}

page_forms! {
    AddApplicationForm => "/admin/applications",
    RemoveApplicationForm => "/admin/applications",
}
