//! A client for twofactor's verification API, for Rust applications that
//! keep their own password login and want the second factor as a service.
//!
//! ```no_run
//! # async fn demo() -> Result<(), twofactor_client::Error> {
//! use twofactor_client::{Client, NewUser};
//! let api = Client::new("https://login.clinic.example", "tfk_…")?;
//! let user = api
//!     .create_user(&NewUser { email: "jane@clinic.example".into(), phone: None, external_id: Some("emr-1".into()) })
//!     .await?;
//! let offer = api.start_totp(user.id).await?;       // show offer.qr_svg
//! let linked = api.confirm_totp(user.id, "123456").await?;
//! let check = api.verify(user.id, "654321").await?; // check.valid, check.factor
//! # let _ = (offer, linked, check); Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An RFC 9457 problem the API answered with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    /// Stable kind, e.g. `urn:twofactor:problem:not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong.
    pub detail: String,
    /// The field at fault, if one.
    pub field: Option<String>,
    /// Seconds to wait, when rate limited.
    pub retry_after: Option<u64>,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused the request.
    #[error("{} ({}): {}", .0.title, .0.status, .0.detail)]
    Api(Problem),
    /// No answer, or one that is not the API's.
    #[error("transport: {0}")]
    Transport(String),
}

impl Error {
    /// The problem's kind without the `urn:twofactor:problem:` prefix.
    pub fn kind(&self) -> Option<&str> {
        match self {
            Error::Api(problem) => problem.kind.strip_prefix("urn:twofactor:problem:"),
            Error::Transport(_) => None,
        }
    }
}

/// A new user.
#[derive(Debug, Clone, Serialize)]
pub struct NewUser {
    /// Email address.
    pub email: String,
    /// Phone for SMS tokens, E.164.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Your own id for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// twofactor's id.
    pub id: i64,
    /// Email.
    pub email: String,
    /// Phone, E.164.
    pub phone: Option<String>,
    /// Your id.
    pub external_id: Option<String>,
    /// An authenticator is enrolled.
    pub totp: bool,
    /// SMS tokens can be sent.
    pub sms: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
}

/// An offered authenticator secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TotpOffer {
    /// `otpauth://` URI.
    pub otpauth_uri: String,
    /// Base32 secret.
    pub secret: String,
    /// QR code of the URI, SVG.
    pub qr_svg: String,
}

/// The answer to a confirmation code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TotpConfirmed {
    /// Linked (false: wrong code).
    pub enrolled: bool,
    /// With the first authenticator: recovery codes to show once.
    pub recovery_codes: Option<Vec<String>>,
}

/// A text on its way.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SmsSent {
    /// `sent` or `queued`.
    pub status: String,
    /// Masked number.
    pub sent_to: String,
}

/// The answer to a token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Verification {
    /// It matched.
    pub valid: bool,
    /// `totp`, `sms` or `recovery_code`.
    pub factor: Option<String>,
    /// Locked until (RFC 3339).
    pub locked_until: Option<String>,
}

/// A remembered device.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Device {
    /// Id.
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

#[derive(Deserialize)]
struct Codes {
    codes: Vec<String>,
}

/// A client bound to one server and one key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never in debug output.
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `base` (e.g. `https://login.clinic.example`).
    pub fn new(base: &str, key: &str) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        Ok(Client {
            http,
            base: format!("{}/api/v1", base.trim_end_matches('/')),
            key: key.to_owned(),
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Option<T>), Error> {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| Error::Transport(e.without_url().to_string()))?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok((status, None));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::Transport(e.without_url().to_string()))?;
        if status.is_success() {
            let value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Transport(format!("unexpected answer: {e}")))?;
            return Ok((status, Some(value)));
        }
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => Err(Error::Api(problem)),
            Err(_) => Err(Error::Transport(format!(
                "HTTP {status} without a problem body"
            ))),
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        match self.call(request).await? {
            (_, Some(value)) => Ok(value),
            (status, None) => Err(Error::Transport(format!("HTTP {status} without a body"))),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /users`.
    pub async fn create_user(&self, user: &NewUser) -> Result<User, Error> {
        self.json(self.http.post(self.url("/users")).json(user))
            .await
    }

    /// `GET /users/{id}`.
    pub async fn user(&self, id: i64) -> Result<User, Error> {
        self.json(self.http.get(self.url(&format!("/users/{id}"))))
            .await
    }

    /// `DELETE /users/{id}`.
    pub async fn delete_user(&self, id: i64) -> Result<(), Error> {
        self.call::<serde_json::Value>(self.http.delete(self.url(&format!("/users/{id}"))))
            .await
            .map(drop)
    }

    /// `POST /users/{id}/totp`.
    pub async fn start_totp(&self, id: i64) -> Result<TotpOffer, Error> {
        self.json(self.http.post(self.url(&format!("/users/{id}/totp"))))
            .await
    }

    /// `POST /users/{id}/totp/confirm`.
    pub async fn confirm_totp(&self, id: i64, code: &str) -> Result<TotpConfirmed, Error> {
        self.json(
            self.http
                .post(self.url(&format!("/users/{id}/totp/confirm")))
                .json(&serde_json::json!({ "code": code })),
        )
        .await
    }

    /// `POST /users/{id}/sms`, with an `Idempotency-Key` when given.
    pub async fn send_sms(&self, id: i64, idempotency_key: Option<&str>) -> Result<SmsSent, Error> {
        let mut request = self.http.post(self.url(&format!("/users/{id}/sms")));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.json(request).await
    }

    /// `POST /users/{id}/verify`.
    pub async fn verify(&self, id: i64, token: &str) -> Result<Verification, Error> {
        self.json(
            self.http
                .post(self.url(&format!("/users/{id}/verify")))
                .json(&serde_json::json!({ "token": token })),
        )
        .await
    }

    /// `POST /users/{id}/recovery-codes`.
    pub async fn recovery_codes(&self, id: i64) -> Result<Vec<String>, Error> {
        let codes: Codes = self
            .json(
                self.http
                    .post(self.url(&format!("/users/{id}/recovery-codes"))),
            )
            .await?;
        Ok(codes.codes)
    }

    /// `GET /users/{id}/devices`.
    pub async fn devices(&self, id: i64) -> Result<Vec<Device>, Error> {
        self.json(self.http.get(self.url(&format!("/users/{id}/devices"))))
            .await
    }

    /// `DELETE /users/{id}/devices/{device}`.
    pub async fn revoke_device(&self, id: i64, device: i64) -> Result<(), Error> {
        self.call::<serde_json::Value>(
            self.http
                .delete(self.url(&format!("/users/{id}/devices/{device}"))),
        )
        .await
        .map(drop)
    }
}
