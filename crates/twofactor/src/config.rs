//! Configuration: defaults, then an optional TOML file, then `TWOFACTOR_*`
//! environment variables (env wins). A bad value stops the start with one
//! line naming the key and the problem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The settings that are text, read from the environment as written.
const TEXT_KEYS: &[&str] = &[
    "listen",
    "database_url",
    "data_dir",
    "public_url",
    "master_key",
    "previous_master_keys",
    "issuer",
    "sms_provider",
    "twilio_account_sid",
    "twilio_auth_token",
    "twilio_from",
    "twilio_api_base",
    "sms_webhook_url",
    "sms_webhook_secret",
    "smtp_url",
    "mail_from",
    "trusted_proxies",
    "metrics_token",
];

/// The settings that are secrets: each also accepts `TWOFACTOR_<KEY>_FILE`,
/// a file to read it from, as systemd credentials and container secrets
/// deliver them.
const SECRET_KEYS: &[&str] = &[
    "database_url",
    "master_key",
    "previous_master_keys",
    "twilio_auth_token",
    "sms_webhook_secret",
    "smtp_url",
    "metrics_token",
];

/// The secrets given as files (`TWOFACTOR_<KEY>_FILE`), read once: `env`
/// looks a variable up, `read` reads a file. A file that cannot be read, is
/// empty, or comes with the plain variable too stops the start with one
/// line naming the key and the path, never the content. One final newline
/// (as `echo` writes) is dropped.
fn secrets_from_files(
    env: impl Fn(&str) -> Option<String>,
    read: impl Fn(&Path) -> std::io::Result<String>,
) -> Result<figment::value::Dict, ConfigError> {
    let mut found = figment::value::Dict::new();
    for key in SECRET_KEYS {
        let name = format!("TWOFACTOR_{}", key.to_ascii_uppercase());
        let Some(path) = env(&format!("{name}_FILE")) else {
            continue;
        };
        if env(&name).is_some() {
            return Err(ConfigError(format!(
                "{key}: set {name} or {name}_FILE, not both"
            )));
        }
        let shown = path.chars().take(200).collect::<String>();
        let text = read(Path::new(&path)).map_err(|error| {
            ConfigError(format!(
                "{key} ({name}_FILE): cannot read {shown:?}: {}",
                error.kind()
            ))
        })?;
        let value = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if value.trim().is_empty() {
            return Err(ConfigError(format!(
                "{key} ({name}_FILE): {shown:?} is empty"
            )));
        }
        found.insert(
            (*key).to_owned(),
            figment::value::Value::from(value.to_owned()),
        );
    }
    Ok(found)
}

/// Every setting, with its default.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// `sqlite://…` or `postgres://…`. Default: SQLite in `data_dir`.
    pub database_url: Option<Secret>,
    /// Where the SQLite file and the master key file live. Default `./data`.
    pub data_dir: PathBuf,
    /// The URL people use, e.g. `https://login.clinic.example`. With https,
    /// cookies are `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// 32-byte master key for TOTP seeds, hex or base64. Default: a key file
    /// created in `data_dir` on first start.
    pub master_key: Option<Secret>,
    /// Master keys of before a rotation, comma-separated: they still open
    /// what they sealed until `twofactor master-key reseal` has run.
    pub previous_master_keys: Option<Secret>,
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    /// Users without a second factor may not log in.
    pub require_2fa: bool,
    /// Shortest password accepted for new passwords (8 to 64; default 12).
    pub password_min_length: usize,
    /// `log` (print each SMS, code included, on standard output: demos and
    /// development), `twilio` or `webhook`.
    pub sms_provider: String,
    /// Twilio account SID (`AC…`), with `sms_provider = "twilio"`.
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token.
    pub twilio_auth_token: Option<Secret>,
    /// Twilio sender: a number (E.164) or a messaging service SID (`MG…`).
    pub twilio_from: Option<String>,
    /// Twilio's API base URL: a regional edge such as
    /// `https://api.dublin.ie1.twilio.com`, or a local mock in tests.
    pub twilio_api_base: String,
    /// The gateway URL, with `sms_provider = "webhook"`.
    pub sms_webhook_url: Option<String>,
    /// The HMAC key for the webhook's signature header (16+ characters).
    pub sms_webhook_secret: Option<Secret>,
    /// `smtp://host:port`, `smtp://host:port?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:port`. Unset: emails are logged (recipient
    /// and subject only), not sent.
    pub smtp_url: Option<Secret>,
    /// The sender of emails.
    pub mail_from: String,
    /// Audit events older than this many days are pruned (with a checkpoint
    /// that keeps the chain verifiable); 0 keeps everything. HIPAA asks for
    /// six years of records: 2190 or more if you prune.
    pub audit_retention_days: u32,
    /// Requests per API key per minute, per instance (1 to 1,000,000).
    pub api_requests_per_minute: u32,
    /// Token requests (code exchanges and refreshes) per OpenID Connect
    /// client per minute, per instance (1 to 1,000,000).
    pub oidc_token_requests_per_minute: u32,
    /// Reverse proxies (comma-separated IP addresses) whose
    /// `X-Forwarded-For` header is believed, e.g. `127.0.0.1` when nginx runs
    /// on the same machine. Default: none, every peer is the client.
    pub trusted_proxies: String,
    /// The bearer token a Prometheus scrape of `/metrics` must send (16+
    /// characters). Unset: `/metrics` is not served.
    pub metrics_token: Option<Secret>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            data_dir: PathBuf::from("data"),
            public_url: None,
            master_key: None,
            previous_master_keys: None,
            issuer: "twofactor".into(),
            require_2fa: false,
            sms_provider: "log".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_from: None,
            twilio_api_base: delivery::TWILIO_API_BASE.into(),
            sms_webhook_url: None,
            sms_webhook_secret: None,
            smtp_url: None,
            mail_from: "twofactor <twofactor@localhost>".into(),
            api_requests_per_minute: 600,
            oidc_token_requests_per_minute: 600,
            audit_retention_days: 0,
            password_min_length: 12,
            trusted_proxies: String::new(),
            metrics_token: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("public_url", &self.public_url)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "previous_master_keys",
                &self.previous_master_keys.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .field("issuer", &self.issuer)
            .field("require_2fa", &self.require_2fa)
            .field("sms_provider", &self.sms_provider)
            .field("mail_from", &self.mail_from)
            .finish_non_exhaustive()
    }
}

/// A configuration problem, phrased for the one line printed at start.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// A secret setting's value. `Debug` shows `[redacted]`, so it cannot reach
/// a log line or an error by accident; [`Secret::expose`] is the one way to
/// read it, at the place that uses it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// Where text messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsProvider {
    /// Printed on standard output, code included: demos and development.
    Log,
    /// Twilio's Messages API.
    Twilio,
    /// A signed POST to the clinic's own gateway.
    Webhook,
}

/// The configuration in the types the program runs on, parsed once at
/// start by [`Config::settings`]: nothing downstream reads a setting's
/// text again.
pub struct Settings {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The URL people use (default: `http://` and the listen address).
    pub public_url: String,
    /// Cookies are `Secure` (and `__Host-` prefixed): the public URL is https.
    pub secure_cookies: bool,
    /// The database: SQLite in the data directory unless set.
    pub database_url: Secret,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Master keys of before a rotation.
    pub previous_keys: Vec<crate::master_key::MasterKey>,
    /// Where text messages go.
    pub sms_provider: SmsProvider,
    /// The built sender for Twilio or the webhook; `None` for `log`.
    pub sms_sender: Option<Arc<dyn domain::SmsSender>>,
    /// The built SMTP mailer; `None` when emails are only logged.
    pub mailer: Option<Arc<dyn domain::Mailer>>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("sms_provider", &self.sms_provider)
            .field("mailer", &self.mailer.is_some())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then `TWOFACTOR_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist or is not a file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        // TWOFACTOR_LOG is the log filter, read by the logger, not a setting.
        // Text settings are taken verbatim: figment would read
        // TWOFACTOR_TWILIO_FROM=+12015550100 as a number and drop the '+'
        // (or a hex master key of digits only as an integer).
        figment = figment.merge(Env::prefixed("TWOFACTOR_").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            let secret_file = key
                .strip_suffix("_file")
                .is_some_and(|secret| SECRET_KEYS.contains(&secret));
            key != "log" && !TEXT_KEYS.contains(&key.as_str()) && !secret_file
        }));
        let verbatim: figment::value::Dict = TEXT_KEYS
            .iter()
            .filter_map(|key| {
                let value =
                    std::env::var(format!("TWOFACTOR_{}", key.to_ascii_uppercase())).ok()?;
                Some(((*key).to_owned(), figment::value::Value::from(value)))
            })
            .collect();
        figment = figment.merge(Serialized::defaults(verbatim));
        let from_files = secrets_from_files(
            |name| std::env::var(name).ok(),
            |path| std::fs::read_to_string(path),
        )?;
        figment = figment.merge(Serialized::defaults(from_files));
        let config: Config = figment.extract().map_err(|e| ConfigError(one_line(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.settings()?;
        if let Some(token) = self.metrics_token.as_ref().map(Secret::expose)
            && (token.chars().count() < 16
                || token.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(ConfigError(
                "metrics_token (TWOFACTOR_METRICS_TOKEN) must be 16 or more characters without spaces".into(),
            ));
        }
        if !(8..=64).contains(&self.password_min_length) {
            return Err(ConfigError(
                "password_min_length (TWOFACTOR_PASSWORD_MIN_LENGTH) must be 8 to 64".into(),
            ));
        }
        if self.audit_retention_days > 36_500 {
            return Err(ConfigError(
                "audit_retention_days (TWOFACTOR_AUDIT_RETENTION_DAYS) must be 0 (keep all) to 36500"
                    .into(),
            ));
        }
        if !(1..=1_000_000).contains(&self.oidc_token_requests_per_minute) {
            return Err(ConfigError(
                "oidc_token_requests_per_minute (TWOFACTOR_OIDC_TOKEN_REQUESTS_PER_MINUTE) must be 1 to 1000000"
                    .into(),
            ));
        }
        if !(1..=1_000_000).contains(&self.api_requests_per_minute) {
            return Err(ConfigError(
                "api_requests_per_minute (TWOFACTOR_API_REQUESTS_PER_MINUTE) must be 1 to 1000000"
                    .into(),
            ));
        }
        if self.issuer.trim().is_empty()
            || self.issuer.contains(':')
            || self.issuer.chars().any(char::is_control)
        {
            return Err(ConfigError(
                "issuer (TWOFACTOR_ISSUER) must be a non-empty name without ':'".into(),
            ));
        }
        Ok(())
    }

    /// The settings parsed into the types the program runs on; the first
    /// bad value is the error, naming its key and never a secret.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let listen = self.listen_addr()?;
        if let Some(url) = &self.database_url {
            let lower = url.expose().to_ascii_lowercase();
            if !(lower.starts_with("sqlite:")
                || lower.starts_with("postgres:")
                || lower.starts_with("postgresql:"))
            {
                return Err(ConfigError(
                    "database_url (TWOFACTOR_DATABASE_URL) must start with sqlite: or postgres://"
                        .into(),
                ));
            }
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(char::is_whitespace)
            {
                return Err(ConfigError(
                    "public_url (TWOFACTOR_PUBLIC_URL) must be an http:// or https:// URL".into(),
                ));
            }
        }
        let trusted_proxies = self.trusted_proxy_ips()?;
        let previous_keys = self.previous_keys()?;
        let sms_provider = self.check_providers()?;
        // Build the senders once, checking every value; the messages name
        // the key, never a secret.
        let sms_sender = self.sms_sender()?;
        let mailer = self.mailer()?;
        Ok(Settings {
            listen,
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{listen}")),
            secure_cookies: self.secure_cookies(),
            database_url: Secret(self.database_url()),
            trusted_proxies,
            previous_keys,
            sms_provider,
            sms_sender,
            mailer,
        })
    }

    /// The earlier master keys, parsed.
    fn previous_keys(&self) -> Result<Vec<crate::master_key::MasterKey>, ConfigError> {
        self.previous_master_keys
            .iter()
            .flat_map(|list| list.expose().split(','))
            .filter(|item| !item.trim().is_empty())
            .map(|item| {
                crate::master_key::MasterKey::parse(item).map_err(|_| {
                    ConfigError(
                        "previous_master_keys (TWOFACTOR_PREVIOUS_MASTER_KEYS) must be 32-byte keys as 64 hex digits or base64, separated by commas".into(),
                    )
                })
            })
            .collect()
    }

    /// The SMS provider named, once the settings it needs are present.
    fn check_providers(&self) -> Result<SmsProvider, ConfigError> {
        let missing = |key: &str| {
            ConfigError(format!(
                "{key} (TWOFACTOR_{}) is required with sms_provider = {:?}",
                key.to_ascii_uppercase(),
                self.sms_provider
            ))
        };
        fn secret(value: &Option<Secret>) -> Option<&str> {
            value.as_ref().map(Secret::expose)
        }
        let (provider, needed) = match self.sms_provider.as_str() {
            "log" => (SmsProvider::Log, vec![]),
            "twilio" => (
                SmsProvider::Twilio,
                vec![
                    ("twilio_account_sid", self.twilio_account_sid.as_deref()),
                    ("twilio_auth_token", secret(&self.twilio_auth_token)),
                    ("twilio_from", self.twilio_from.as_deref()),
                ],
            ),
            "webhook" => (
                SmsProvider::Webhook,
                vec![
                    ("sms_webhook_url", self.sms_webhook_url.as_deref()),
                    ("sms_webhook_secret", secret(&self.sms_webhook_secret)),
                ],
            ),
            other => {
                return Err(ConfigError(format!(
                    "sms_provider (TWOFACTOR_SMS_PROVIDER) must be log, twilio or webhook, not {:?}",
                    other.chars().take(32).collect::<String>()
                )));
            }
        };
        for (key, value) in needed {
            if value.is_none_or(|v| v.trim().is_empty()) {
                return Err(missing(key));
            }
        }
        Ok(provider)
    }

    /// The configured SMS sender; `None` for `log` and `memory` (the app
    /// keeps those itself, to show them in the demo and to tests).
    fn sms_sender(&self) -> Result<Option<Arc<dyn domain::SmsSender>>, ConfigError> {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        let secret = |v: &Option<Secret>| {
            v.as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default()
        };
        Ok(match self.sms_provider.as_str() {
            "twilio" => Some(Arc::new(
                delivery::TwilioSms::new(
                    &self.twilio_api_base,
                    value(&self.twilio_account_sid).trim(),
                    &secret(&self.twilio_auth_token),
                    delivery::TwilioFrom::parse(&value(&self.twilio_from)),
                )
                .map_err(|e| ConfigError(format!("twilio (TWOFACTOR_TWILIO_*): {e}")))?,
            )),
            "webhook" => Some(Arc::new(
                delivery::WebhookSms::new(
                    value(&self.sms_webhook_url).trim(),
                    &secret(&self.sms_webhook_secret),
                )
                .map_err(|e| ConfigError(format!("sms_webhook (TWOFACTOR_SMS_WEBHOOK_*): {e}")))?,
            )),
            _ => None,
        })
    }

    /// The configured mailer; `None` when `smtp_url` is unset (log).
    fn mailer(&self) -> Result<Option<Arc<dyn domain::Mailer>>, ConfigError> {
        match self.smtp_url.as_ref().map(|url| url.expose().trim()) {
            None | Some("") => Ok(None),
            Some(url) => Ok(Some(Arc::new(
                delivery::SmtpMailer::new(url, &self.mail_from)
                    .map_err(|e| ConfigError(format!("smtp_url (TWOFACTOR_SMTP_URL): {e}")))?,
            ))),
        }
    }

    /// The parsed listen address.
    fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "listen (TWOFACTOR_LISTEN) must be an address like 127.0.0.1:8080, not {:?}",
                self.listen.chars().take(64).collect::<String>()
            ))
        })
    }

    /// The trusted proxies, parsed.
    fn trusted_proxy_ips(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse().map_err(|_| {
                    ConfigError(format!(
                        "trusted_proxies (TWOFACTOR_TRUSTED_PROXIES) must be IP addresses separated by commas, not {:?}",
                        part.chars().take(64).collect::<String>()
                    ))
                })
            })
            .collect()
    }

    /// The database URL, defaulting to SQLite in the data directory.
    fn database_url(&self) -> String {
        self.database_url
            .as_ref()
            .map(|url| url.expose().to_owned())
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("twofactor.db").display()))
    }

    /// Whether cookies must be `Secure`.
    fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

fn one_line(error: &figment::Error) -> String {
    let Some(first) = error.clone().into_iter().next() else {
        return "invalid configuration".into();
    };
    let key = first.path.join(".");
    let what = first.kind.to_string().replace('\n', " ");
    if key.is_empty() {
        what
    } else {
        format!("{key} (TWOFACTOR_{}): {what}", key.to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe_and_local() {
        let config = Config::default();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert!(config.database_url().starts_with("sqlite://"));
        assert!(!config.secure_cookies());
        assert!(config.validate().is_ok());
    }

    #[test]
    fn providers_need_their_settings_and_errors_never_echo_secrets() {
        let twilio = Config {
            sms_provider: "twilio".into(),
            twilio_account_sid: Some("AC123".into()),
            twilio_auth_token: Some("s3cret-token".into()),
            ..Config::default()
        };
        let message = twilio.validate().unwrap_err().to_string();
        assert!(message.contains("twilio_from"), "{message}");
        let ok = Config {
            twilio_from: Some("+12015550100".into()),
            ..twilio.clone()
        };
        assert!(ok.validate().is_ok());
        let bad_base = Config {
            twilio_api_base: "ftp://x".into(),
            ..ok
        };
        let message = bad_base.validate().unwrap_err().to_string();
        assert!(
            message.contains("TWILIO") && !message.contains("s3cret"),
            "{message}"
        );

        let webhook = Config {
            sms_provider: "webhook".into(),
            sms_webhook_url: Some("http://127.0.0.1:9/sms".into()),
            sms_webhook_secret: Some("short".into()),
            ..Config::default()
        };
        let message = webhook.validate().unwrap_err().to_string();
        assert!(
            message.contains("at least 16") && !message.contains("short\""),
            "{message}"
        );

        let smtp = Config {
            smtp_url: Some("smtq://user:hunter2@x".into()),
            ..Config::default()
        };
        let message = smtp.validate().unwrap_err().to_string();
        assert!(
            message.contains("smtp_url") && !message.contains("hunter2"),
            "{message}"
        );
        let from = Config {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            mail_from: "nobody".into(),
            ..Config::default()
        };
        assert!(
            from.validate()
                .unwrap_err()
                .to_string()
                .contains("mail_from")
        );
        let unknown = Config {
            sms_provider: "carrier-pigeon\n".into(),
            ..Config::default()
        };
        let message = unknown.validate().unwrap_err().to_string();
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let bad = [
            Config {
                listen: "nowhere".into(),
                ..Config::default()
            },
            Config {
                database_url: Some("mysql://x".into()),
                ..Config::default()
            },
            Config {
                public_url: Some("ftp://x".into()),
                ..Config::default()
            },
            Config {
                issuer: "a:b".into(),
                ..Config::default()
            },
            Config {
                audit_retention_days: 40_000,
                ..Config::default()
            },
            Config {
                api_requests_per_minute: 0,
                ..Config::default()
            },
            Config {
                oidc_token_requests_per_minute: 0,
                ..Config::default()
            },
        ];
        for (config, key) in bad.iter().zip([
            "listen",
            "database_url",
            "public_url",
            "issuer",
            "audit_retention_days",
            "api_requests_per_minute",
            "oidc_token_requests_per_minute",
        ]) {
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains(key), "{message}");
            assert_eq!(message.lines().count(), 1);
        }
        let https = Config {
            public_url: Some("https://login.example".into()),
            ..Config::default()
        };
        assert!(https.secure_cookies());
    }

    #[test]
    fn secrets_come_from_files_and_bad_files_name_the_key_not_the_content() {
        use std::collections::HashMap;
        let files: HashMap<&str, &str> = HashMap::from([
            ("/run/credentials/token", "a-long-metrics-token\n"),
            ("/run/credentials/crlf", "webhook-secret-value\r\n"),
            ("/run/credentials/empty", "\n"),
        ]);
        let read = |path: &Path| {
            files
                .get(path.to_str().unwrap_or_default())
                .map(|text| (*text).to_owned())
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        };
        let with = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            secrets_from_files(|name| vars.get(name).cloned(), read)
        };
        let found = with(&[
            ("TWOFACTOR_METRICS_TOKEN_FILE", "/run/credentials/token"),
            ("TWOFACTOR_SMS_WEBHOOK_SECRET_FILE", "/run/credentials/crlf"),
        ])
        .unwrap();
        assert_eq!(
            found["metrics_token"].as_str(),
            Some("a-long-metrics-token")
        );
        assert_eq!(
            found["sms_webhook_secret"].as_str(),
            Some("webhook-secret-value")
        );
        assert!(with(&[]).unwrap().is_empty());
        // A non-secret setting has no _FILE form.
        assert!(
            with(&[("TWOFACTOR_LISTEN_FILE", "/run/credentials/token")])
                .unwrap()
                .is_empty()
        );

        for (vars, needle) in [
            (
                vec![("TWOFACTOR_MASTER_KEY_FILE", "/nowhere")],
                "master_key (TWOFACTOR_MASTER_KEY_FILE): cannot read \"/nowhere\": entity not found",
            ),
            (
                vec![("TWOFACTOR_SMTP_URL_FILE", "/run/credentials/empty")],
                "is empty",
            ),
            (
                vec![
                    ("TWOFACTOR_METRICS_TOKEN_FILE", "/run/credentials/token"),
                    ("TWOFACTOR_METRICS_TOKEN", "also-given-plainly"),
                ],
                "not both",
            ),
        ] {
            let message = with(&vars).unwrap_err().to_string();
            assert!(message.contains(needle), "{message}");
            assert_eq!(message.lines().count(), 1);
            assert!(!message.contains("a-long-metrics-token") && !message.contains("also-given"));
        }
    }

    #[test]
    fn a_metrics_token_is_long_and_has_no_spaces() {
        for hostile in [
            "",
            "short",
            "fifteen-chars-x",
            "has a space in it ok",
            "tab\tinside-the-token",
            "nul\0inside-the-token",
        ] {
            let config = Config {
                metrics_token: Some(hostile.into()),
                ..Config::default()
            };
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains("metrics_token"), "{message}");
            assert!(
                !message.contains(hostile) || hostile.is_empty(),
                "{message}"
            );
        }
        let good = Config {
            metrics_token: Some("sixteen-chars-ok".into()),
            ..Config::default()
        };
        good.validate().unwrap();
        assert!(!format!("{good:?}").contains("sixteen-chars-ok"));
    }

    #[test]
    fn settings_are_parsed_once_into_types_and_never_show_a_secret() {
        let config = Config {
            listen: "127.0.0.1:9443".into(),
            master_key: Some("ab".repeat(32).into()),
            metrics_token: Some("a-metrics-token-of-32-characters".into()),
            trusted_proxies: "127.0.0.1, ::1".into(),
            ..Config::default()
        };
        let settings = config.settings().unwrap();
        assert_eq!(settings.listen, "127.0.0.1:9443".parse().unwrap());
        assert_eq!(settings.public_url, "http://127.0.0.1:9443");
        assert!(!settings.secure_cookies);
        assert_eq!(settings.trusted_proxies.len(), 2);
        assert_eq!(settings.sms_provider, SmsProvider::Log);
        assert!(settings.sms_sender.is_none() && settings.mailer.is_none());
        assert!(settings.database_url.expose().starts_with("sqlite://"));
        for shown in [format!("{config:?}"), format!("{settings:?}")] {
            assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
            assert!(!shown.contains("a-metrics-token"), "{shown}");
        }
        assert_eq!(format!("{:?}", Secret::from("hunter2")), "[redacted]");

        let https = Config {
            public_url: Some("https://login.clinic.example".into()),
            sms_provider: "webhook".into(),
            sms_webhook_url: Some("https://gateway.clinic.example/sms".into()),
            sms_webhook_secret: Some("a-webhook-secret-of-24-chars".into()),
            ..Config::default()
        };
        let settings = https.settings().unwrap();
        assert_eq!(settings.public_url, "https://login.clinic.example");
        assert!(settings.secure_cookies);
        assert_eq!(settings.sms_provider, SmsProvider::Webhook);
        assert!(settings.sms_sender.is_some());
        // The test-only provider is gone from the configuration.
        let memory = Config {
            sms_provider: "memory".into(),
            ..Config::default()
        };
        assert!(memory.settings().is_err());
    }
}
