//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use super::handlers;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "twofactor verification API",
        version = "1",
        description = "Second factors for an application that keeps its own password login: \
            create users, enroll an authenticator, send SMS tokens, verify tokens, manage \
            recovery codes, remembered devices and passkeys. Every request carries `Authorization: \
            Bearer <key>` (`twofactor api-key create`); a key sees only its practice's users. \
            Errors are RFC 9457 problem details with a stable `type`."
    ),
    paths(
        handlers::create_user,
        handlers::get_user,
        handlers::delete_user,
        handlers::start_totp,
        handlers::confirm_totp,
        handlers::send_sms,
        handlers::verify,
        handlers::recovery_codes,
        handlers::devices,
        handlers::revoke_device,
        handlers::passkeys,
        handlers::remove_passkey,
    ),
    components(schemas(twofactor_wire::Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            let mut scheme = Http::new(HttpAuthScheme::Bearer);
            scheme.bearer_format = Some("tfk_…".into());
            components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        }
    }
}

/// The document as built from the code.
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/v1/openapi.json` (no key needed).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}
