//! The command line, as the contract in docs/design.md names it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Two-factor login service for clinics: password plus a code from an
/// authenticator app or SMS, with an audit trail.
#[derive(Debug, Parser)]
#[command(name = "twofactor", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the login server.
    Serve {
        /// A TOML file with settings; TWOFACTOR_* environment variables win.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run the server with a seeded demo practice on the embedded database,
    /// and print the logins, the authenticator URI and a QR code.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Create or update the database schema, then exit.
    Migrate {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Manage user accounts.
    User {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Read the audit trail.
    Audit {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage practices (each practice's users, keys and audit are apart).
    Practice {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: PracticeCommand,
    },
    /// Issue a single-use login link, valid one hour, for an administrator
    /// whose second factors are unavailable (HIPAA emergency access). The
    /// link still asks for the password; its use is audited as an emergency
    /// and emailed to every administrator of the practice. Prints the link.
    EmergencyAccess {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The administrator's username.
        username: String,
        /// Why, in one line (recorded in the audit trail), e.g. "phone stolen, on call tonight".
        #[arg(long)]
        reason: String,
    },
    /// Keys for the verification API (/api/v1).
    ApiKey {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// See and retry the messages (SMS, email) waiting to go out or given up.
    /// Bodies are never shown: they hold codes and links.
    Outbox {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Master key rotation: make a key, see which keys seal what, and
    /// re-seal every authenticator with the current key. See
    /// docs/operations.md, "Rotating the master key".
    MasterKey {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: MasterKeyCommand,
    },
    /// OpenID Connect: the applications that sign their users in here
    /// ("Log in with twofactor"), and the keys that sign their ID tokens.
    /// See docs/oidc.md.
    Oidc {
        /// A TOML file with settings.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// One-time password tools for support staff.
    Otp {
        #[command(subcommand)]
        command: OtpCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input with
    /// --password-stdin; otherwise a random one is generated and printed once.
    Add {
        /// Login name: letters, digits and . _ - @ +
        username: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// A phone in E.164 form (+12015550123); the admin vouches for it,
        /// so it is a verified SMS factor at once.
        #[arg(long)]
        phone: Option<String>,
        /// staff or admin.
        #[arg(long, default_value = "staff", value_parser = ["staff", "admin"])]
        role: String,
        /// Practice name [default: the first practice].
        #[arg(long)]
        practice: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Link an authenticator app; prints the otpauth:// URI on stdout and a
    /// QR code on stderr when stderr is a terminal.
    EnrollTotp {
        /// The user.
        username: String,
        /// Use this base32 secret instead of a fresh random one.
        #[arg(long, value_name = "BASE32")]
        secret: Option<String>,
        /// Digits per code: 6, 7 or 8.
        #[arg(long, default_value_t = 6, value_parser = parse_digits)]
        digits: u64,
        /// Seconds per code: 1 to 3600.
        #[arg(long, default_value_t = 30, value_parser = parse_period)]
        period: u64,
        /// sha1, sha256 or sha512.
        #[arg(long, default_value = "sha1", value_parser = parse_algorithm)]
        algorithm: otp::Algorithm,
    },
    /// Remove every second factor, remembered device and session of a user
    /// (lost phone). The user logs in with the password and enrolls again.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The user.
        username: String,
    },
    /// Make a new set of 10 recovery codes for a user (the old set stops
    /// working) and print them once, to hand over in person.
    RecoveryCodes {
        /// The user.
        username: String,
    },
    /// Clear the user's password and second-factor locks.
    Unlock {
        /// The user.
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Delete the events before a date, keeping a checkpoint so `verify`
    /// still checks the rest (the server does this by itself with
    /// `audit_retention_days`). Export first if you need them.
    Prune {
        /// Delete events before this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC).
        #[arg(long, value_parser = parse_date)]
        before: u64,
    },
    /// Check that no event was changed, removed or slipped in: every event
    /// carries a hash chained to the one before. Exits 1 naming the first
    /// event that does not follow.
    Verify,
    /// Write the events of a period to standard output, oldest first, as
    /// CSV or JSON Lines; read in pages, so a year of events exports in
    /// constant memory.
    ///
    /// Example: twofactor audit export --since 2026-01-01 --until 2026-07-01 --format csv > h1.csv
    Export {
        /// From this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC), inclusive.
        #[arg(long, value_parser = parse_date)]
        since: u64,
        /// Until this moment, exclusive [default: now].
        #[arg(long, value_parser = parse_date)]
        until: Option<u64>,
        /// csv or jsonl.
        #[arg(long, default_value = "csv", value_parser = ["csv", "jsonl"])]
        format: String,
    },
    /// Print the newest events, oldest first.
    Tail {
        /// How many events.
        #[arg(short = 'n', long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        lines: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PracticeCommand {
    /// Create a practice (nothing happens if it exists); then add its first
    /// administrator with `user add NAME --practice "…" --role admin`.
    Add {
        /// The practice's name, e.g. "Riverside Family Clinic".
        #[arg(value_parser = clap::builder::NonEmptyStringValueParser::new())]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it once (only its hash is stored). The key
    /// sees the users of one practice.
    ///
    /// Scopes: `verify` checks tokens and sends SMS codes; `manage` creates,
    /// enrolls, resets and deletes users created through the API (never
    /// people who log in on the pages); `manage-all` manages every user of
    /// the practice, administrators included, so such a key can make
    /// itself any of them: grant it only if you must (it is audited).
    Create {
        /// A name to recognise the key by, e.g. the calling application.
        #[arg(value_parser = clap::builder::NonEmptyStringValueParser::new())]
        name: String,
        /// Practice name [default: the first practice].
        #[arg(long)]
        practice: Option<String>,
        /// What the key may do; repeat for several [default: verify and
        /// manage].
        #[arg(long = "scope", value_parser = ["verify", "manage", "manage-all"])]
        scopes: Vec<String>,
    },
    /// List keys: id, shown prefix, name, practice, created, revoked.
    List,
    /// Revoke a key by id or by its shown prefix (tfk_…); it stops working
    /// at once on every instance.
    Revoke {
        /// The id or prefix from `api-key list`.
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Registered applications.
    Client {
        #[command(subcommand)]
        command: OidcClientCommand,
    },
    /// Make new signing keys; the old ones stay published (JWKS) until the
    /// tokens they signed have expired, so nothing breaks. Every instance
    /// signs with the new keys within a minute.
    RotateKey,
}

#[derive(Debug, Subcommand)]
pub enum OidcClientCommand {
    /// Register an application. Prints `client_id: …` and, for a
    /// confidential client, `client_secret: …` once (only its hash is kept).
    Add {
        /// What administrators call it, e.g. "Grafana".
        #[arg(value_parser = clap::builder::NonEmptyStringValueParser::new())]
        name: String,
        /// Where the application receives its code, exactly as it sends it
        /// (https, or http to localhost); repeat for several.
        #[arg(long = "redirect-uri", required = true, value_name = "URI")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may send the browser back; repeat for several.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (a single-page or native app that cannot keep a
        /// secret): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// Only this practice's users may sign in [default: the first practice].
        #[arg(long)]
        practice: Option<String>,
        /// How its ID tokens are signed.
        #[arg(long = "id-token-alg", default_value = "RS256", value_parser = ["RS256", "ES256"])]
        id_token_alg: String,
    },
    /// List applications: client id, practice, kind, name, redirect URIs.
    List,
    /// Remove an application; its tokens stop working at once.
    Remove {
        /// The client id from `oidc client list`.
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Print a new random 32-byte key as 64 hex digits (nothing is
    /// changed; put it in TWOFACTOR_MASTER_KEY).
    Generate,
    /// The current key's id, the earlier keys still configured, and how
    /// many sealed values each key id holds.
    Status,
    /// Re-seal every value sealed under an earlier key (authenticators,
    /// offered authenticators, unsent messages, OpenID Connect signing
    /// keys) with the current one (needs the earlier key in
    /// TWOFACTOR_PREVIOUS_MASTER_KEYS). Safe while serving; safe to run
    /// again.
    Reseal,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the newest messages, newest first: id, status, channel, topic,
    /// masked recipient, attempts, the provider's id or last error.
    List {
        /// Only this status.
        #[arg(long, value_parser = ["pending", "sending", "sent", "failed"])]
        status: Option<String>,
        /// How many messages.
        #[arg(short = 'n', long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        lines: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Send a failed message again now (with a fresh set of attempts).
    Retry {
        /// The message id from `outbox list`.
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },
}

fn parse_date(text: &str) -> Result<u64, String> {
    domain::time::parse_rfc3339(text)
        .ok_or_else(|| "expected a UTC date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ from 1970 on".into())
}

#[derive(Debug, Subcommand)]
pub enum OtpCommand {
    /// Print the TOTP code for a secret, exactly as `oathtool --totp -b` does.
    ///
    /// Example: twofactor otp code --secret JBSWY3DPEHPK3PXP --time 1700000000
    Code(CodeArgs),
}

#[derive(Debug, Args)]
pub struct CodeArgs {
    /// The base32 secret (spaces and lower case allowed). Use `-` to read it
    /// from standard input, which keeps it out of the shell history and the
    /// process list.
    #[arg(long, value_name = "BASE32")]
    pub secret: String,
    /// The moment to compute the code for, in Unix seconds [default: now].
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true, value_parser = parse_time)]
    pub time: Option<u64>,
    /// Digits in the code: 6, 7 or 8.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = parse_digits)]
    pub digits: u64,
    /// Seconds per code: 1 to 3600.
    #[arg(long, value_name = "S", default_value_t = 30, value_parser = parse_period)]
    pub period: u64,
    /// HMAC hash: sha1, sha256 or sha512.
    #[arg(long, value_name = "A", default_value = "sha1", value_parser = parse_algorithm)]
    pub algorithm: otp::Algorithm,
    /// Print the code grouped for reading aloud (`75 091 92`).
    #[arg(long)]
    pub grouped: bool,
}

fn parse_time(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| "must be whole seconds since 1970-01-01 UTC, e.g. 1700000000".to_owned())
}

pub fn parse_digits(text: &str) -> Result<u64, String> {
    let n = text
        .parse::<u64>()
        .map_err(|_| "must be 6, 7 or 8".to_owned())?;
    otp::Digits::new(n)
        .map(|d| u64::from(d.get()))
        .map_err(|e| e.to_string())
}

pub fn parse_period(text: &str) -> Result<u64, String> {
    let n = text
        .parse::<u64>()
        .map_err(|_| "must be a whole number of seconds from 1 to 3600".to_owned())?;
    otp::Period::new(n)
        .map(|p| u64::from(p.seconds()))
        .map_err(|e| e.to_string())
}

fn parse_algorithm(text: &str) -> Result<otp::Algorithm, String> {
    text.parse()
        .map_err(|e: otp::UnknownAlgorithm| e.to_string())
}

/// Folds clap's multi-line error into its first paragraph on one line: the
/// message a person needs, without the usage block and tips.
pub fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn errors_fold_to_their_first_paragraph() {
        let text = "error: the following required arguments were not provided:\n  --secret <BASE32>\n\nUsage: twofactor otp code --secret <BASE32>\n";
        assert_eq!(
            one_line(text),
            "error: the following required arguments were not provided: --secret <BASE32>"
        );
    }

    #[test]
    fn parameter_parsers_name_the_bounds() {
        assert_eq!(parse_digits("7"), Ok(7));
        assert!(parse_digits("9").unwrap_err().contains("6, 7 or 8"));
        assert!(parse_digits("-1").is_err());
        assert_eq!(parse_period("10"), Ok(10));
        assert!(parse_period("0").unwrap_err().contains("1 to 3600"));
        assert!(parse_algorithm("md5").unwrap_err().contains("sha1"));
    }
}
