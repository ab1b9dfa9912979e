//! The `/api/v1` handlers: read the request, call the domain, answer JSON.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{ApiRefusal, ApiVerify, SmsOutcome, User};

use super::Problem;
use super::auth::Caller;
use crate::AppState;
use crate::pages::Client;
use twofactor_wire::{
    ConfirmTotp, CreateUser, Device, PasskeyView, RecoveryCodes, SmsSent, TotpConfirmed, TotpStart,
    UserView, Verify, VerifyResult,
};

type ApiResult = Result<Response, Problem>;

/// Reads a JSON body; every way it can be unreadable is a 400 problem.
fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    json.map(|Json(value)| value).map_err(|rejection| {
        Problem::bad_request(match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "send the body as JSON with Content-Type: application/json".to_owned()
            }
            other => {
                // serde's message names the field and the problem; cut long ones.
                public_json_error(&other.body_text())
            }
        })
    })
}

/// serde's message about a body, without the server's own type names
/// ("expected struct CreateUser"): what was wrong and where, in JSON terms.
fn public_json_error(text: &str) -> String {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("expected ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "expected ".len()..];
        let word = |prefix: &str| {
            after
                .strip_prefix(prefix)
                .map(|tail| tail.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'))
        };
        let number = [
            "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize",
        ]
        .iter()
        .find_map(|name| {
            after
                .strip_prefix(name)
                .filter(|tail| !tail.starts_with(|c: char| c.is_alphanumeric()))
        });
        rest = if let Some(tail) = word("struct ").or_else(|| word("enum ")) {
            out.push_str("expected a JSON object");
            tail
        } else if let Some(tail) = number {
            out.push_str("expected a whole number");
            tail
        } else {
            out.push_str("expected ");
            after
        };
    }
    out.push_str(rest);
    out.chars().take(300).collect()
}

/// The user `id` names, if this key's practice holds it.
/// A user id from the path: a positive number, else 404 like an unknown one.
fn user_id(id: &str) -> Result<i64, Problem> {
    id.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::not_found("user"))
}

async fn user(state: &AppState, caller: &Caller, id: &str) -> Result<User, Problem> {
    let id = user_id(id)?;
    state
        .login
        .api_user(&caller.0, id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))
}

/// The user `id` names, if this key may manage them.
async fn managed_user(state: &AppState, caller: &Caller, id: &str) -> Result<User, Problem> {
    caller.0.may_create().map_err(Problem::forbidden)?;
    let user = user(state, caller, id).await?;
    caller.0.may_manage(&user).map_err(Problem::forbidden)?;
    Ok(user)
}

/// The user `id` names, for listing and revoking remembered devices: any
/// user of the practice with the `manage` scope (ending a browser's
/// remembered login protects its owner; it makes nobody anyone else).
async fn device_owner(state: &AppState, caller: &Caller, id: &str) -> Result<User, Problem> {
    caller.0.may_create().map_err(Problem::forbidden)?;
    user(state, caller, id).await
}

/// The user `id` names, if this key may verify their tokens.
async fn verified_user(state: &AppState, caller: &Caller, id: &str) -> Result<User, Problem> {
    caller.0.may_verify().map_err(Problem::forbidden)?;
    user(state, caller, id).await
}

fn refusal(refusal: ApiRefusal) -> Problem {
    match refusal {
        ApiRefusal::Invalid(field, message) => Problem::invalid(field, &message),
        ApiRefusal::Conflict(message) => Problem::conflict(message),
        ApiRefusal::NoFactor(message) => Problem::no_factor(message),
    }
}

async fn view(state: &AppState, user: &User) -> Result<UserView, Problem> {
    Ok(UserView {
        id: user.id.0,
        email: user.email.clone(),
        phone: user.phone.clone(),
        external_id: state.login.external_id(user).await?,
        totp: state.login.totp_digits(user).await?.is_some(),
        sms: user.phone.is_some(),
        passkeys: u32::try_from(state.login.passkey_list(user).await?.len()).unwrap_or(u32::MAX),
        recovery_codes_left: state.login.recovery_codes_left(user).await?,
    })
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "Unreadable body", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "external_id taken", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    json: Result<Json<CreateUser>, JsonRejection>,
) -> ApiResult {
    caller.0.may_create().map_err(Problem::forbidden)?;
    let input = body(json)?;
    let created = state
        .login
        .api_create_user(
            &caller.0,
            &input.email,
            input.phone.as_deref(),
            input.external_id.as_deref(),
            &ctx,
            state.now(),
        )
        .await?
        .map_err(refusal)?;
    Ok((StatusCode::CREATED, Json(view(&state, &created).await?)).into_response())
}

/// Get a user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let user = user(&state, &caller, &id).await?;
    Ok(Json(view(&state, &user).await?).into_response())
}

/// Delete a user with their factors, codes and devices (the audit trail
/// keeps the events).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    Path(id): Path<String>,
) -> ApiResult {
    let user = managed_user(&state, &caller, &id).await?;
    state
        .login
        .api_delete_user(&caller.0, &user, &ctx, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Start authenticator enrollment: returns a secret, not active until
/// confirmed with a code from the app (within 10 minutes).
#[utoipa::path(post, path = "/api/v1/users/{id}/totp", tag = "authenticator",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    responses(
        (status = 201, description = "Offered", body = TotpStart),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_totp(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let user = managed_user(&state, &caller, &id).await?;
    let uri = state.login.api_begin_totp(&user, state.now()).await?;
    let text = uri.to_uri();
    let qr_svg = qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build()
        })
        .map_err(|_| Problem::internal())?;
    let secret = uri.secret.to_base32();
    Ok((
        StatusCode::CREATED,
        Json(TotpStart {
            otpauth_uri: text,
            secret,
            qr_svg,
        }),
    )
        .into_response())
}

/// Confirm enrollment with the app's current code.
#[utoipa::path(post, path = "/api/v1/users/{id}/totp/confirm", tag = "authenticator",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    request_body = ConfirmTotp,
    responses(
        (status = 200, description = "Checked: enrolled, or not (wrong code)", body = TotpConfirmed),
        (status = 400, description = "Unreadable body", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrollment waiting", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Code too long", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    Path(id): Path<String>,
    json: Result<Json<ConfirmTotp>, JsonRejection>,
) -> ApiResult {
    let user = managed_user(&state, &caller, &id).await?;
    let input = body(json)?;
    let codes = state
        .login
        .api_confirm_totp(&user, &input.code, &ctx, state.now())
        .await?
        .map_err(refusal)?;
    Ok(Json(TotpConfirmed {
        enrolled: codes.is_some(),
        recovery_codes: codes.flatten(),
    })
    .into_response())
}

/// Text a code to the user's phone. Honours `Idempotency-Key`: a retry with
/// the same key gets the first answer and sends nothing.
#[utoipa::path(post, path = "/api/v1/users/{id}/sms", tag = "sms",
    params(("id" = i64, Path, description = "The user's id", minimum = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "Any unique value (1-200 printable ASCII characters, no space at either end); retries with it send once",
            min_length = 1, max_length = 200, pattern = r"^[!-~]([ -~]{0,198}[!-~])?$")),
    responses(
        (status = 200, description = "Sent", body = SmsSent),
        (status = 202, description = "Queued: the provider is down", body = SmsSent),
        (status = 400, description = "Bad Idempotency-Key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "No phone, or the Idempotency-Key belongs to another request", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The provider refused the number", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too soon or too many texts", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn send_sms(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let user = verified_user(&state, &caller, &id).await?;
    let now = state.now();
    let request = format!("sms:{}", user.id);
    let idem = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value
                .to_str()
                .ok()
                .filter(|k| valid_idempotency_key(k))
                .ok_or_else(|| {
                    Problem::bad_request(
                        "Idempotency-Key must be 1 to 200 printable ASCII characters",
                    )
                })?;
            if !state
                .login
                .claim_idempotency_key(caller.0.id, key, &request, now)
                .await?
            {
                return replay(&state, &caller, key, &request).await;
            }
            Some(key.to_owned())
        }
    };
    let outcome = state.login.api_send_sms(&user, &ctx, now).await?;
    let (status, answer) = sms_answer(outcome);
    if let Some(key) = idem {
        let text = match &answer {
            Ok(sent) => serde_json::to_string(sent),
            Err(problem) => serde_json::to_string(&problem.0),
        }
        .unwrap_or_default();
        state
            .login
            .finish_idempotency_key(caller.0.id, &key, status.as_u16(), &text)
            .await?;
    }
    match answer {
        Ok(sent) => Ok((status, Json(sent)).into_response()),
        Err(problem) => Err(problem),
    }
}

/// The API's answer to an SMS outcome: its status, and the body or the
/// problem.
fn sms_answer(outcome: SmsOutcome) -> (StatusCode, Result<SmsSent, Problem>) {
    match outcome {
        SmsOutcome::Sent { masked } => (
            StatusCode::OK,
            Ok(SmsSent {
                status: "sent".into(),
                sent_to: masked,
            }),
        ),
        SmsOutcome::Delayed { masked } => (
            StatusCode::ACCEPTED,
            Ok(SmsSent {
                status: "queued".into(),
                sent_to: masked,
            }),
        ),
        SmsOutcome::Rejected { masked } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Err(Problem::sms_refused(format!(
                "the SMS provider refused to send to {masked}"
            ))),
        ),
        SmsOutcome::Cooldown { seconds } => (
            StatusCode::TOO_MANY_REQUESTS,
            Err(Problem::rate_limited(
                seconds,
                "a text went to this user moments ago",
            )),
        ),
        SmsOutcome::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            Err(Problem::rate_limited(
                3600,
                "the hourly text limit for this user or number is reached",
            )),
        ),
        SmsOutcome::NoPhone => (
            StatusCode::CONFLICT,
            Err(Problem::no_factor("the user has no phone")),
        ),
        SmsOutcome::Forbidden => (
            StatusCode::CONFLICT,
            Err(Problem::no_factor(
                "the practice does not allow text messages as a second factor",
            )),
        ),
        SmsOutcome::SessionEnded => (StatusCode::INTERNAL_SERVER_ERROR, Err(Problem::internal())),
    }
}

/// The documented pattern: 1 to 200 printable ASCII characters, no space
/// at either end.
fn valid_idempotency_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    (1..=200).contains(&bytes.len())
        && bytes.iter().all(|b| (b' '..=b'~').contains(b))
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
}

/// The first answer to an `Idempotency-Key`, again.
async fn replay(state: &AppState, caller: &Caller, key: &str, request: &str) -> ApiResult {
    let stored = state.login.idempotent_answer(caller.0.id, key).await?;
    match stored {
        Some((first, _, _)) if first != request => Err(Problem::conflict(
            "this Idempotency-Key was used for another request",
        )),
        Some((_, 0, _)) | None => Err(Problem::conflict(
            "a request with this Idempotency-Key is still being answered",
        )),
        Some((_, status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let content_type = if status.is_success() {
                "application/json"
            } else {
                "application/problem+json"
            };
            let mut response = (status, body).into_response();
            if let Ok(value) = axum::http::HeaderValue::from_str(content_type) {
                response
                    .headers_mut()
                    .insert(axum::http::header::CONTENT_TYPE, value);
            }
            response.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            Ok(response)
        }
    }
}

/// Verify a token. Each code works once; wrong tokens count toward the same
/// lock as the login page's; every check is audited.
#[utoipa::path(post, path = "/api/v1/users/{id}/verify", tag = "verify",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    request_body = Verify,
    responses(
        (status = 200, description = "Checked", body = VerifyResult),
        (status = 400, description = "Unreadable body", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user has no second factor", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Token too long", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    Path(id): Path<String>,
    json: Result<Json<Verify>, JsonRejection>,
) -> ApiResult {
    // The user is read with the factor and the lock (one statement), so
    // the id is only parsed here.
    caller.0.may_verify().map_err(Problem::forbidden)?;
    let id = user_id(&id)?;
    let input = body(json)?;
    let result = state
        .login
        .api_verify(&caller.0, id, &input.token, &ctx, state.now())
        .await?
        .ok_or_else(|| Problem::not_found("user"))?
        .map_err(refusal)?;
    let answer = match result {
        ApiVerify::Valid(factor) => VerifyResult {
            valid: true,
            factor: Some(factor.to_owned()),
            locked_until: None,
        },
        ApiVerify::Invalid => VerifyResult {
            valid: false,
            factor: None,
            locked_until: None,
        },
        ApiVerify::Locked(until) => VerifyResult {
            valid: false,
            factor: None,
            locked_until: Some(domain::time::rfc3339(until)),
        },
    };
    Ok(Json(answer).into_response())
}

/// Create a new set of recovery codes (the old set stops working).
#[utoipa::path(post, path = "/api/v1/users/{id}/recovery-codes", tag = "recovery",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    responses(
        (status = 201, description = "Created", body = RecoveryCodes),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    Path(id): Path<String>,
) -> ApiResult {
    let user = managed_user(&state, &caller, &id).await?;
    let codes = state
        .login
        .new_recovery_codes(&user, &ctx, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(RecoveryCodes { codes })).into_response())
}

/// List the user's remembered devices.
#[utoipa::path(get, path = "/api/v1/users/{id}/devices", tag = "devices",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    responses(
        (status = 200, description = "Newest first", body = Vec<Device>),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn devices(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let user = device_owner(&state, &caller, &id).await?;
    let list: Vec<Device> = state
        .login
        .devices(&user, state.now())
        .await?
        .into_iter()
        .map(|d| Device {
            id: d.id,
            label: d.label,
            created_at: domain::time::rfc3339(d.created_at),
            last_used_at: domain::time::rfc3339(d.last_used_at),
            expires_at: domain::time::rfc3339(d.expires_at),
        })
        .collect();
    Ok(Json(list).into_response())
}

/// Revoke a remembered device: its next login asks for the token again.
#[utoipa::path(delete, path = "/api/v1/users/{id}/devices/{device}", tag = "devices",
    params(("id" = i64, Path, description = "The user's id", minimum = 1),
        ("device" = i64, Path, description = "The device's id", minimum = 1)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user or device", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    Path((id, device)): Path<(String, String)>,
) -> ApiResult {
    let user = device_owner(&state, &caller, &id).await?;
    let device: i64 = device
        .parse()
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| Problem::not_found("device"))?;
    if state
        .login
        .revoke_device(&user, device, &ctx, state.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found("device"))
    }
}

/// List the user's passkeys and security keys.
#[utoipa::path(get, path = "/api/v1/users/{id}/passkeys", tag = "passkeys",
    params(("id" = i64, Path, description = "The user's id", minimum = 1)),
    responses(
        (status = 200, description = "Oldest first", body = Vec<PasskeyView>),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user for this key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn passkeys(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let user = managed_user(&state, &caller, &id).await?;
    let list: Vec<PasskeyView> = state
        .login
        .passkey_list(&user)
        .await?
        .into_iter()
        .map(|p| PasskeyView {
            id: p.id,
            name: p.name,
            created_at: domain::time::rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(domain::time::rfc3339),
            backed_up: p.backed_up,
        })
        .collect();
    Ok(Json(list).into_response())
}

/// Remove a passkey or security key (reported lost): the user is told by
/// email, and the audit names the key that asked.
#[utoipa::path(delete, path = "/api/v1/users/{id}/passkeys/{passkey}", tag = "passkeys",
    params(("id" = i64, Path, description = "The user's id", minimum = 1),
        ("passkey" = i64, Path, description = "The passkey's id", minimum = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid key", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the scope, or may not manage this user", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user or passkey", body = twofactor_wire::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = twofactor_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_passkey(
    State(state): State<AppState>,
    caller: Caller,
    Client(ctx): Client,
    Path((id, passkey)): Path<(String, String)>,
) -> ApiResult {
    let user = managed_user(&state, &caller, &id).await?;
    let passkey: i64 = passkey
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Problem::not_found("passkey"))?;
    if state
        .login
        .api_remove_passkey(&caller.0, &user, passkey, &ctx, state.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found("passkey"))
    }
}

/// Anything else under `/api/v1`.
pub async fn no_route() -> Problem {
    Problem::not_found("API path (see /api/v1/openapi.json)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_no_server_type() {
        for (serde, public) in [
            (
                "Failed to deserialize the JSON body into the target type: invalid type: string \"x\", expected struct CreateUser at line 1 column 3",
                "invalid type: string \"x\", expected a JSON object at line 1 column 3",
            ),
            (
                "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 2",
                "missing field `email` at line 1 column 2",
            ),
            (
                "invalid type: integer `5`, expected a string at line 1 column 12",
                "invalid type: integer `5`, expected a string at line 1 column 12",
            ),
            (
                "invalid value: integer `-1`, expected u64 at line 1 column 9",
                "invalid value: integer `-1`, expected a whole number at line 1 column 9",
            ),
            (
                "expected enum Kind, expected struct Verify",
                "expected a JSON object, expected a JSON object",
            ),
            ("expected ", "expected "),
            ("", ""),
        ] {
            assert_eq!(public_json_error(serde), public, "{serde}");
        }
        let long = "x".repeat(1000);
        assert_eq!(public_json_error(&long).len(), 300);
    }
}
