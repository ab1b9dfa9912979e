//! The verification API's JSON bodies (`/api/v1`), shared by the server
//! (`web`, with the `openapi` feature for its schema) and the client crate:
//! one declaration per body, so the two cannot drift.
//!
//! Times are RFC 3339 strings; ids are twofactor's own.

use serde::{Deserialize, Serialize};

/// An error answer (RFC 9457 problem details): a stable `type` per kind
/// of error, so clients branch on it, not on wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "type": "urn:twofactor:problem:invalid-field",
    "title": "A field is missing or malformed",
    "status": 422,
    "detail": "email: must be an email address like name@clinic.example",
    "field": "email"
})))]
pub struct Problem {
    /// Stable identifier of the error kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The field at fault, for `invalid-field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait, for `rate-limited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// `POST /users` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "jane.doe@clinic.example", "phone": "+12015550123", "external_id": "emr-10042"})))]
pub struct CreateUser {
    /// The user's email address (plain ASCII).
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
        )
    )]
    pub email: String,
    /// A phone for SMS tokens, E.164. Your application vouches for it.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub phone: Option<String>,
    /// Your own id for the user, unique in your practice (printable ASCII).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 128, pattern = r"^[ -~]{1,128}$")
    )]
    pub external_id: Option<String>,
}

/// A user and their second factors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 42, "email": "jane.doe@clinic.example", "phone": "+12015550123",
    "external_id": "emr-10042", "totp": true, "sms": true, "passkeys": 1, "recovery_codes_left": 10})))]
pub struct UserView {
    /// twofactor's id for the user.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub id: i64,
    /// Email address.
    pub email: String,
    /// SMS phone, E.164.
    pub phone: Option<String>,
    /// Your id for the user.
    pub external_id: Option<String>,
    /// An authenticator app is enrolled.
    pub totp: bool,
    /// SMS tokens can be sent.
    pub sms: bool,
    /// Passkeys and security keys registered (0 when none).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10))]
    pub passkeys: u32,
    /// Unused recovery codes.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub recovery_codes_left: u32,
}

/// A new authenticator secret to show the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "otpauth_uri": "otpauth://totp/Clinic:api.k2x9?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Clinic&algorithm=SHA1&digits=6&period=30",
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "qr_svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" …></svg>"})))]
pub struct TotpStart {
    /// The `otpauth://` URI authenticator apps read.
    pub otpauth_uri: String,
    /// The secret in base32, for typing by hand.
    pub secret: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// `POST /users/{id}/totp/confirm` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"code": "123456"})))]
pub struct ConfirmTotp {
    /// The current code the app shows.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub code: String,
}

/// Whether the authenticator is now active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"enrolled": true, "recovery_codes": ["abcd-efgh-jkmn"]})))]
pub struct TotpConfirmed {
    /// True: linked. False: the code was not the offered secret's current
    /// code (try again with the next one).
    pub enrolled: bool,
    /// With the user's first authenticator: ten single-use recovery codes
    /// to show once.
    pub recovery_codes: Option<Vec<String>>,
}

/// A text on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "sent", "sent_to": "•••• •••• 0123"})))]
pub struct SmsSent {
    /// `sent`: the provider took it; `queued`: the provider is down and the
    /// text goes out when it is back (the code stays valid).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(sent|queued)$"))]
    pub status: String,
    /// The number, masked.
    pub sent_to: String,
}

/// `POST /users/{id}/verify` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"token": "123456"})))]
pub struct Verify {
    /// What the user typed: the authenticator's code, the texted code, or a
    /// recovery code.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub token: String,
}

/// Whether the token was right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"valid": true, "factor": "totp", "locked_until": null})))]
pub struct VerifyResult {
    /// It matched (and is now used up).
    pub valid: bool,
    /// Which factor matched: `totp`, `sms` or `recovery_code`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(totp|sms|recovery_code)$"))]
    pub factor: Option<String>,
    /// Too many wrong tokens: checks are refused until then (RFC 3339).
    pub locked_until: Option<String>,
}

/// Fresh recovery codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"codes": ["abcd-efgh-jkmn", "pqrs-tuvw-xyz2"]})))]
pub struct RecoveryCodes {
    /// Ten single-use codes; the previous set stops working.
    pub codes: Vec<String>,
}

/// A browser remembered with "Save token for 30 days".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 7, "label": "Firefox on Windows", "created_at": "2026-11-27T09:00:00Z",
    "last_used_at": "2026-11-28T08:12:00Z", "expires_at": "2026-12-27T09:00:00Z"})))]
pub struct Device {
    /// Device id.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub id: i64,
    /// Browser and system.
    pub label: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_used_at: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// A passkey or security key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 3, "name": "Office key", "created_at": "2026-11-27T09:00:00Z",
    "last_used_at": null, "backed_up": false})))]
pub struct PasskeyView {
    /// Passkey id.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub id: i64,
    /// What the user called it.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; null if never used.
    pub last_used_at: Option<String>,
    /// Synced between devices by its provider.
    pub backed_up: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_back_what_they_write() {
        let user = CreateUser {
            email: "jane@clinic.example".into(),
            phone: None,
            external_id: Some("emr-1".into()),
        };
        let text = serde_json::to_string(&user).unwrap();
        assert_eq!(serde_json::from_str::<CreateUser>(&text).unwrap(), user);
        let problem = Problem {
            kind: "urn:twofactor:problem:not-found".into(),
            title: "No such resource".into(),
            status: 404,
            detail: "no such user".into(),
            field: None,
            retry_after: None,
        };
        let text = serde_json::to_string(&problem).unwrap();
        assert!(
            !text.contains("field") && !text.contains("retry_after"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Problem>(&text).unwrap(), problem);
    }

    #[test]
    fn request_bodies_refuse_fields_they_do_not_know() {
        let error = serde_json::from_str::<Verify>(r#"{"token":"1","admin":true}"#).unwrap_err();
        assert!(error.to_string().contains("unknown field"), "{error}");
        assert!(serde_json::from_str::<CreateUser>(r#"{"phone":"+12015550123"}"#).is_err());
    }
}
