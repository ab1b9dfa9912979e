//! The command line, as the contract in DESIGN.md names it.

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
    /// Run the service with a seeded demo practice on the embedded database.
    Demo,
    /// One-time password tools for support staff.
    Otp {
        #[command(subcommand)]
        command: OtpCommand,
    },
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

fn parse_digits(text: &str) -> Result<u64, String> {
    let n = text
        .parse::<u64>()
        .map_err(|_| "must be 6, 7 or 8".to_owned())?;
    otp::Digits::new(n)
        .map(|d| u64::from(d.get()))
        .map_err(|e| e.to_string())
}

fn parse_period(text: &str) -> Result<u64, String> {
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
