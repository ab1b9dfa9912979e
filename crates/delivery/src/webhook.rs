//! A signed JSON POST for any other SMS gateway.
//!
//! ```text
//! POST <url>
//! Content-Type: application/json
//! Idempotency-Key: <key, the same on every retry>
//! X-Twofactor-Timestamp: <unix seconds>
//! X-Twofactor-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//!
//! {"id": "<key>", "to": "+15555550123", "text": "…"}
//! ```
//!
//! The gateway checks the signature (and that the timestamp is recent) and
//! answers 2xx; a JSON answer's `id` is kept as the provider id.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use domain::{Receipt, SendError, SmsSender};

use crate::http;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-twofactor-signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-twofactor-timestamp";

/// Posts messages to a gateway.
#[derive(Clone)]
pub struct WebhookSms {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for WebhookSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSms").finish_non_exhaustive()
    }
}

impl WebhookSms {
    /// A sender posting to `url`, signing with `secret`.
    pub fn new(url: &str, secret: &str) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("the SMS webhook URL must start with https:// or http://".into());
        }
        if secret.len() < 16 {
            return Err("the SMS webhook secret must be at least 16 characters".into());
        }
        Ok(WebhookSms {
            client: http::client()?,
            url: url.to_owned(),
            secret: secret.as_bytes().to_vec(),
        })
    }
}

/// `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait::async_trait]
impl SmsSender for WebhookSms {
    async fn send(&self, key: &str, to: &str, text: &str) -> Result<Receipt, SendError> {
        let body = serde_json::json!({ "id": key, "to": to, "text": text }).to_string();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(&self.secret, timestamp, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| http::unreachable("the SMS webhook", &e))?;
        let status = response.status();
        let answer = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(http::refused("the SMS webhook", status, &answer));
        }
        let provider_id = serde_json::from_str::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned));
        Ok(Receipt { provider_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently with openssl:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac 'secret-secret-secret'
        let signature = signature(b"secret-secret-secret", 1_700_000_000, b"{}");
        assert_eq!(
            signature,
            "v1=9abb7ec2de5533bf35e03b3947b220889dd81b1238d43182a426463aafcc6e8c"
        );
        assert_ne!(
            signature,
            super::signature(b"secret-secret-secret", 1_700_000_001, b"{}")
        );
    }

    #[test]
    fn refuses_bad_configuration() {
        assert!(WebhookSms::new("ftp://x", "0123456789abcdef").is_err());
        assert!(WebhookSms::new("http://127.0.0.1:1/x", "short").is_err());
        assert!(WebhookSms::new("http://127.0.0.1:1/x", "0123456789abcdef").is_ok());
    }
}
