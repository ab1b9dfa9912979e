//! Twilio's Messages API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`
//! with HTTP basic auth (account SID, auth token) and a form body `To`,
//! `From` (or `MessagingServiceSid`) and `Body`. The answer's `sid` is kept
//! as the provider id.

use domain::{Receipt, SendError, SmsSender};

use crate::http;

/// Twilio's public API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// Who the text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioFrom {
    /// A Twilio number (E.164).
    Number(String),
    /// A messaging service (`MG…`): Twilio picks the number.
    MessagingService(String),
}

impl TwilioFrom {
    /// `MG…` is a messaging service, anything else a number.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.starts_with("MG") {
            TwilioFrom::MessagingService(value.to_owned())
        } else {
            TwilioFrom::Number(value.to_owned())
        }
    }
}

/// Sends through Twilio.
#[derive(Clone)]
pub struct TwilioSms {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: TwilioFrom,
}

impl std::fmt::Debug for TwilioSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSms")
            .field("url", &self.url)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl TwilioSms {
    /// A sender for this account; `api_base` is Twilio's API (tests point it
    /// at a local mock).
    pub fn new(
        api_base: &str,
        account_sid: &str,
        auth_token: &str,
        from: TwilioFrom,
    ) -> Result<Self, String> {
        if account_sid.is_empty() || !account_sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("the Twilio account SID must be letters and digits (AC…)".into());
        }
        if auth_token.is_empty() {
            return Err("the Twilio auth token is empty".into());
        }
        let base = api_base.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!(
                "the Twilio API base {base:?} is not an http(s) URL"
            ));
        }
        Ok(TwilioSms {
            client: http::client()?,
            url: format!("{base}/2010-04-01/Accounts/{account_sid}/Messages.json"),
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            from,
        })
    }
}

#[async_trait::async_trait]
impl SmsSender for TwilioSms {
    async fn send(&self, _key: &str, to: &str, text: &str) -> Result<Receipt, SendError> {
        let from = match &self.from {
            TwilioFrom::Number(number) => ("From", number.as_str()),
            TwilioFrom::MessagingService(sid) => ("MessagingServiceSid", sid.as_str()),
        };
        let response = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[("To", to), from, ("Body", text)])
            .send()
            .await
            .map_err(|e| http::unreachable("Twilio", &e))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            // Twilio's errors: {"code": 21211, "message": "…", "more_info": …}.
            let provider = match body.get("code").and_then(serde_json::Value::as_u64) {
                Some(code) => format!("Twilio (error {code})"),
                None => "Twilio".to_owned(),
            };
            let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("");
            return Err(http::refused(&provider, status, message));
        }
        Ok(Receipt {
            provider_id: body.get("sid").and_then(|s| s.as_str()).map(str::to_owned),
        })
    }
}
