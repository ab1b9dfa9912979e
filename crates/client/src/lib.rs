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
pub use twofactor_wire::{
    ConfirmTotp, Device, PasskeyView, Problem, RecoveryCodes, SmsSent, TotpConfirmed, Verify,
};

/// A new user (`POST /users`).
pub type NewUser = twofactor_wire::CreateUser;
/// A user and their second factors.
pub type User = twofactor_wire::UserView;
/// An offered authenticator secret.
pub type TotpOffer = twofactor_wire::TotpStart;
/// The answer to a token.
pub type Verification = twofactor_wire::VerifyResult;

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
                .json(&ConfirmTotp {
                    code: code.to_owned(),
                }),
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
                .json(&Verify {
                    token: token.to_owned(),
                }),
        )
        .await
    }

    /// `POST /users/{id}/recovery-codes`.
    pub async fn recovery_codes(&self, id: i64) -> Result<Vec<String>, Error> {
        let codes: RecoveryCodes = self
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

    /// `GET /users/{id}/passkeys`.
    pub async fn passkeys(&self, id: i64) -> Result<Vec<PasskeyView>, Error> {
        self.json(self.http.get(self.url(&format!("/users/{id}/passkeys"))))
            .await
    }

    /// `DELETE /users/{id}/passkeys/{passkey}`.
    pub async fn remove_passkey(&self, id: i64, passkey: i64) -> Result<(), Error> {
        self.call::<serde_json::Value>(
            self.http
                .delete(self.url(&format!("/users/{id}/passkeys/{passkey}"))),
        )
        .await
        .map(drop)
    }
}
