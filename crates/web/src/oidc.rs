//! OpenID Connect provider endpoints: discovery, JWKS, authorize, token,
//! userinfo and RP-initiated logout. Every other path is read from
//! discovery; the rules are `domain::oidc`'s, this translates HTTP.

use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CACHE_CONTROL, PRAGMA, RETRY_AFTER,
    WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use domain::oidc::{AuthorizeParams, Authorized, ClientAuth, TokenRequest};
use serde::Deserialize;
use serde_json::json;

use crate::error::MessagePage;
use crate::extract::{CsrfForm, page_forms};
use crate::next::MAX_NEXT_BYTES;
use crate::pages::{Client, encode_next, page, redirect};
use crate::{AppError, AppState, cookies, csrf};

/// The provider's routes.
pub fn routes() -> Router<AppState> {
    // The two that answer a person with a page speak their language.
    let pages = Router::new()
        .route("/oidc/authorize", get(authorize_get).post(authorize_post))
        .route("/oidc/logout", get(logout).post(logout_confirmed))
        .layer(axum::middleware::from_fn(crate::lang::scope));
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/token", axum::routing::post(token).options(preflight))
        .route(
            "/oidc/userinfo",
            get(userinfo).post(userinfo).options(preflight),
        )
        .merge(pages)
}

/// JSON any origin may read (discovery, keys, tokens, userinfo: an
/// application in the browser reads them too).
fn json_answer(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// `OPTIONS` before an application in the browser calls the token or
/// userinfo endpoint with an `Authorization` header (CORS preflight).
async fn preflight() -> Response {
    use axum::http::header::{
        ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_MAX_AGE,
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type"),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// `GET /.well-known/openid-configuration`.
async fn discovery(State(state): State<AppState>) -> Response {
    let issuer = state.login.oidc_issuer();
    let body = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oidc/authorize"),
        "token_endpoint": format!("{issuer}/oidc/token"),
        "userinfo_endpoint": format!("{issuer}/oidc/userinfo"),
        "jwks_uri": format!("{issuer}/oidc/jwks"),
        "end_session_endpoint": format!("{issuer}/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": domain::oidc::SCOPES,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "azp",
            "at_hash", "preferred_username", "name", "email", "email_verified"
        ],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["phr", "mfa", "pwd"],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    json_answer(StatusCode::OK, &body)
}

/// `GET /oidc/jwks`.
async fn jwks(State(state): State<AppState>) -> Result<Response, AppError> {
    let keys = state.login.oidc_jwks(state.now()).await?;
    Ok(json_answer(StatusCode::OK, &keys))
}

/// The page shown when nothing may be sent back to the application.
fn refused_page(message: &str) -> Response {
    let lang = crate::lang::current();
    MessagePage {
        title: &lang.t("oidc-refused-title"),
        message,
        link: "/",
        link_text: &lang.t("oidc-start-link"),
    }
    .respond(StatusCode::BAD_REQUEST)
}

/// [`refused_page`] for a request that cannot be read.
fn malformed() -> Response {
    refused_page(&crate::lang::current().t("oidc-malformed"))
}

/// `GET /oidc/authorize`.
async fn authorize_get(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Result<Response, AppError> {
    match query {
        Ok(Query(params)) => authorize(&state, &ctx, &headers, &params).await,
        Err(_) => Ok(malformed()),
    }
}

/// `POST /oidc/authorize` (the same request as a form).
async fn authorize_post(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    form: Result<axum::Form<AuthorizeParams>, FormRejection>,
) -> Result<Response, AppError> {
    match form {
        Ok(axum::Form(params)) => authorize(&state, &ctx, &headers, &params).await,
        Err(_) => Ok(malformed()),
    }
}

async fn authorize(
    state: &AppState,
    ctx: &domain::RequestContext,
    headers: &HeaderMap,
    params: &AuthorizeParams,
) -> Result<Response, AppError> {
    let now = state.now();
    let session = match cookies::get(headers, state.session_cookie()) {
        Some(token) => state.login.authenticated(&token, now).await?,
        None => None,
    };
    if let Some((_, user)) = &session {
        crate::lang::settle_for(state, user).await;
    }
    match state
        .login
        .oidc_authorize(params, session.as_ref(), ctx, now)
        .await?
    {
        Authorized::Page(reason) => Ok(refused_page(&crate::lang::said(&reason))),
        // Right after our own login form the browser checks the page's
        // `form-action 'self'` against every redirect that follows, so a
        // redirect to the application would be blocked: a page that moves
        // on by itself takes its place.
        Authorized::Redirect(location) if after_our_form(headers) => {
            // Rare (only right after our form), so the name is read here.
            let name = match state
                .login
                .oidc_client_name(params.client_id.as_deref())
                .await?
            {
                Some(name) if !name.trim().is_empty() => name,
                _ => crate::lang::current().t("oidc-the-application"),
            };
            page(
                StatusCode::OK,
                &Continue {
                    tr: crate::lang::Tr::current(),
                    location: &location,
                    client: &name,
                },
                &[],
            )
        }
        Authorized::Redirect(location) => Ok(redirect(&location, &[])),
        Authorized::SignIn { fresh, since } => {
            let back = format!("/oidc/authorize?{}", params.query_since(since));
            if back.len() > MAX_NEXT_BYTES {
                return Ok(refused_page(&crate::lang::current().t("oidc-too-long")));
            }
            let prompt = if fresh { "&prompt=login" } else { "" };
            Ok(redirect(
                &format!("/login?next={}{prompt}", encode_next(&back)),
                &[],
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "oidc_continue.html")]
struct Continue<'a> {
    tr: crate::lang::Tr,
    location: &'a str,
    client: &'a str,
}

/// This request follows a form of this site (a same-origin navigation):
/// the login that just finished.
fn after_our_form(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin")
}

/// The client's `Authorization: Basic` credentials (each part
/// form-urlencoded, RFC 6749 2.3.1); `Err` if the header is there but
/// malformed.
fn basic_auth(headers: &HeaderMap) -> Result<Option<ClientAuth>, ()> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(drop)?;
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Err(());
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(drop)?;
    let decoded = String::from_utf8(decoded).map_err(drop)?;
    let (id, secret) = decoded.split_once(':').ok_or(())?;
    let unescape = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(drop)
    };
    Ok(Some(ClientAuth {
        id: unescape(id)?,
        secret: unescape(secret)?,
    }))
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = json_answer(
        status,
        &json!({ "error": error, "error_description": description }),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"twofactor\""),
        );
    }
    response
}

/// `POST /oidc/token`.
async fn token(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    form: Result<axum::Form<TokenRequest>, FormRejection>,
) -> Result<Response, AppError> {
    let Ok(axum::Form(form)) = form else {
        return Ok(token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be a form (application/x-www-form-urlencoded) with each parameter once",
        ));
    };
    let Ok(basic) = basic_auth(&headers) else {
        return Ok(token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the Authorization header is malformed",
        ));
    };
    let now = state.now();
    let client = match state.login.oidc_token_client(&form, basic.as_ref()).await? {
        Ok(client) => client,
        Err(refused) => return Ok(token_refused(&refused)),
    };
    // Counted per client that authenticated: an unknown id is refused
    // above and takes no room here.
    if let Err(retry_after) = state.oidc_rate.allow(client.client_id.clone(), now) {
        let mut response = token_error(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many token requests for this client; slow down",
        );
        if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Ok(response);
    }
    match state.login.oidc_token(&client, &form, &ctx, now).await? {
        Ok(answer) => {
            let body = serde_json::to_value(&answer)
                .map_err(|e| AppError::Internal(format!("token answer: {e}")))?;
            Ok(json_answer(StatusCode::OK, &body))
        }
        Err(refused) => Ok(token_refused(&refused)),
    }
}

fn token_refused(refused: &domain::oidc::TokenError) -> Response {
    let status = StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
    token_error(status, refused.error, &refused.description)
}

/// `GET`/`POST /oidc/userinfo` with `Authorization: Bearer`.
async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let refused = |challenge: &'static str| {
        let mut response = json_answer(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "invalid_token", "error_description": "the access token is missing, expired or revoked" }),
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        Ok(response)
    };
    let Some(token) = bearer else {
        return refused("Bearer realm=\"twofactor\"");
    };
    match state.login.oidc_userinfo(token, state.now()).await? {
        Some(claims) => Ok(json_answer(StatusCode::OK, &claims)),
        None => refused("Bearer realm=\"twofactor\", error=\"invalid_token\""),
    }
}

/// The query of `GET /oidc/logout` (and the confirmation form's fields).
#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    csrf_token: Option<String>,
}

page_forms! {
    LogoutParams => "/oidc/logout",
}

#[derive(Template)]
#[template(path = "oidc_logout.html")]
struct ConfirmLogout<'a> {
    tr: crate::lang::Tr,
    csrf_token: &'a str,
    client: Option<&'a str>,
    params: &'a LogoutParams,
}

/// `GET /oidc/logout`: logs out at once when the application proves it
/// asks for this user (a valid `id_token_hint`); otherwise asks.
async fn logout(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    query: Result<Query<LogoutParams>, QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(params)) = query else {
        return Ok(malformed());
    };
    end_session(&state, &ctx, &headers, &params, false).await
}

/// `POST /oidc/logout`: the confirmation.
async fn logout_confirmed(
    State(state): State<AppState>,
    Client(ctx): Client,
    headers: HeaderMap,
    CsrfForm(params): CsrfForm<LogoutParams>,
) -> Result<Response, AppError> {
    end_session(&state, &ctx, &headers, &params, true).await
}

async fn end_session(
    state: &AppState,
    ctx: &domain::RequestContext,
    headers: &HeaderMap,
    params: &LogoutParams,
    confirmed: bool,
) -> Result<Response, AppError> {
    let now = state.now();
    let token = cookies::get(headers, state.session_cookie());
    let session = match token.as_deref() {
        Some(token) => state.login.authenticated(token, now).await?,
        None => None,
    };
    if let Some((_, user)) = &session {
        crate::lang::settle_for(state, user).await;
    }
    let plan = state
        .login
        .oidc_logout_plan(
            params.id_token_hint.as_deref(),
            params.client_id.as_deref(),
            params.post_logout_redirect_uri.as_deref(),
            params.state.as_deref(),
            session.as_ref().map(|(_, user)| user),
        )
        .await?;
    if session.is_some() && !plan.confirmed && !confirmed {
        let (csrf_token, csrf_cookie) = csrf::issue(state, headers)?;
        let cookies: Vec<String> = csrf_cookie.into_iter().collect();
        return page(
            StatusCode::OK,
            &ConfirmLogout {
                tr: crate::lang::Tr::current(),
                csrf_token: &csrf_token,
                client: plan.client.as_deref(),
                params,
            },
            &cookies,
        );
    }
    let mut set = Vec::new();
    if let (Some(token), Some(_)) = (token.as_deref(), &session) {
        state
            .login
            .oidc_logout(token, plan.client.as_deref(), ctx, now)
            .await?;
        set.push(cookies::clear(
            state.session_cookie(),
            state.config.secure_cookies,
        ));
    }
    match plan.redirect {
        Some(location) => Ok(redirect(&location, &set)),
        None => {
            let lang = crate::lang::current();
            let mut response = MessagePage {
                title: &lang.t("oidc-logged-out-title"),
                message: &lang.t("oidc-logged-out"),
                link: "/login",
                link_text: &lang.t("oidc-log-in-again"),
            }
            .respond(StatusCode::OK);
            crate::pages::add_cookies(&mut response, &set);
            Ok(response)
        }
    }
}
