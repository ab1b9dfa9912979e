//! What every handler can reach: the login service, the clock and settings.

use std::sync::Arc;

use domain::{Clock, LoginService};

/// Deployment settings the web layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Cookies get `Secure` and the `__Host-` prefix (behind TLS).
    pub secure_cookies: bool,
    /// The name shown in page titles.
    pub site_name: String,
    /// Demo mode: the texts and emails sent are shown at `/dev/outbox`.
    pub demo_outbox: Option<DemoOutbox>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The URL people use; emailed links are built from it, never from the
    /// request's Host header.
    pub public_url: String,
    /// The bearer token `/metrics` asks for; unset, `/metrics` is not
    /// served at all (its gauges are no business of the public's).
    pub metrics_token: Option<String>,
}

/// What the demo "sent": kept in memory, listed at `/dev/outbox` so that
/// every flow (a texted code, a reset link, an invitation) can be finished
/// without a phone or a mail server.
#[derive(Debug, Clone, Default)]
pub struct DemoOutbox {
    /// Text messages.
    pub sms: delivery::LogSms,
    /// Emails, bodies included.
    pub mail: delivery::LogMail,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            site_name: "twofactor".into(),
            demo_outbox: None,
            trusted_proxies: Vec::new(),
            public_url: "http://127.0.0.1:8080".into(),
            metrics_token: None,
        }
    }
}

/// Shared state of the router.
#[derive(Clone)]
pub struct AppState {
    /// The login rules. Behind an `Arc`: axum clones the state for every
    /// extractor of every request, and a `LoginService` clone is a dozen
    /// reference counts and a `String` (4 % of the server's CPU on the
    /// verification API, `perf`).
    pub login: Arc<LoginService>,
    /// "Now".
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Counters and latency histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Requests per API key per minute.
    pub api_rate: Arc<crate::api::RateLimiter>,
    /// Token requests per OpenID Connect client per minute.
    pub oidc_rate: Arc<crate::api::RateLimiter<String>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The time of this request, read once.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The session cookie's name.
    pub fn session_cookie(&self) -> &'static str {
        if self.config.secure_cookies {
            "__Host-tf_session"
        } else {
            "tf_session"
        }
    }

    /// The remembered-device cookie's name.
    pub fn remember_cookie(&self) -> &'static str {
        if self.config.secure_cookies {
            "__Host-tf_remember"
        } else {
            "tf_remember"
        }
    }

    /// The `Set-Cookie` value for a session (no Max-Age: it ends with the
    /// browser, and the server's timeouts end it sooner).
    pub fn session_set_cookie(&self, value: &str) -> String {
        crate::cookies::set(
            self.session_cookie(),
            value,
            self.config.secure_cookies,
            "Lax",
            None,
        )
    }

    /// The cookies of a finished login: the new session and, when "Save
    /// token for 30 days" was ticked, the remembered device.
    pub fn login_cookies(
        &self,
        session_token: &str,
        remember_token: Option<String>,
    ) -> Vec<String> {
        let mut set = vec![self.session_set_cookie(session_token)];
        set.extend(remember_token.map(|value| self.remember_set_cookie(&value)));
        set
    }

    /// The `Set-Cookie` value for a remembered device, kept 30 days.
    pub fn remember_set_cookie(&self, value: &str) -> String {
        crate::cookies::set(
            self.remember_cookie(),
            value,
            self.config.secure_cookies,
            "Lax",
            Some(self.login.policy().remember_device_seconds),
        )
    }

    /// The CSRF cookie's name.
    pub fn csrf_cookie(&self) -> &'static str {
        if self.config.secure_cookies {
            "__Host-tf_csrf"
        } else {
            "tf_csrf"
        }
    }
}
