//! Configuration: defaults, then an optional TOML file, then `TWOFACTOR_*`
//! environment variables (env wins). A bad value stops the start with one
//! line naming the key and the problem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting, with its default.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// `sqlite://…` or `postgres://…`. Default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Where the SQLite file and the master key file live. Default `./data`.
    pub data_dir: PathBuf,
    /// The URL people use, e.g. `https://login.clinic.example`. With https,
    /// cookies are `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// 32-byte master key for TOTP seeds, hex or base64. Default: a key file
    /// created in `data_dir` on first start.
    pub master_key: Option<String>,
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    /// Users without a second factor may not log in.
    pub require_2fa: bool,
    /// Shortest password accepted for new passwords (8 to 64; default 12).
    pub password_min_length: usize,
    /// `log` (print each SMS on standard output; the default until real
    /// providers arrive) or `memory` (keep them in memory only, for tests).
    pub sms_provider: String,
    /// Reverse proxies (comma-separated IP addresses) whose
    /// `X-Forwarded-For` header is believed, e.g. `127.0.0.1` when nginx runs
    /// on the same machine. Default: none, every peer is the client.
    pub trusted_proxies: String,
    /// Demo mode (set by `twofactor demo`, not by configuration): shows the
    /// SMS outbox at /dev/outbox.
    #[serde(skip)]
    pub demo: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            data_dir: PathBuf::from("data"),
            public_url: None,
            master_key: None,
            issuer: "twofactor".into(),
            require_2fa: false,
            sms_provider: "log".into(),
            password_min_length: 12,
            trusted_proxies: String::new(),
            demo: false,
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
            .field("issuer", &self.issuer)
            .field("require_2fa", &self.require_2fa)
            .finish_non_exhaustive()
    }
}

/// A configuration problem, phrased for the one line printed at start.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

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
        figment = figment.merge(Env::prefixed("TWOFACTOR_").ignore(&["LOG"]));
        let config: Config = figment.extract().map_err(|e| ConfigError(one_line(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        if let Some(url) = &self.database_url {
            let lower = url.to_ascii_lowercase();
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
        self.trusted_proxy_ips()?;
        if !(8..=64).contains(&self.password_min_length) {
            return Err(ConfigError(
                "password_min_length (TWOFACTOR_PASSWORD_MIN_LENGTH) must be 8 to 64".into(),
            ));
        }
        if !matches!(self.sms_provider.as_str(), "log" | "memory") {
            return Err(ConfigError(format!(
                "sms_provider (TWOFACTOR_SMS_PROVIDER) must be log or memory, not {:?}",
                self.sms_provider.chars().take(32).collect::<String>()
            )));
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

    /// The parsed listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "listen (TWOFACTOR_LISTEN) must be an address like 127.0.0.1:8080, not {:?}",
                self.listen.chars().take(64).collect::<String>()
            ))
        })
    }

    /// The trusted proxies, parsed.
    pub fn trusted_proxy_ips(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
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
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("twofactor.db").display()))
    }

    /// Whether cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
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
        ];
        for (config, key) in bad
            .iter()
            .zip(["listen", "database_url", "public_url", "issuer"])
        {
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
}
