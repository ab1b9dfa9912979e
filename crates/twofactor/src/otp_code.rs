//! `twofactor otp code`: the current code for a secret, for support staff
//! checking a user's phone against the server, printed as `oathtool` would.

use std::io::Read as _;
use std::time::{SystemTime, UNIX_EPOCH};

use otp::{Digits, Period, Secret, Totp};

use crate::cli::CodeArgs;

/// Longest secret accepted on standard input; a real one is ~100 characters.
const MAX_STDIN_SECRET: u64 = 4096;

/// What stops the command. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("--secret: {0}")]
    Secret(#[from] otp::SecretError),
    #[error("--secret -: could not read standard input: {0}")]
    Stdin(std::io::Error),
    #[error("the system clock is before 1970; pass --time")]
    Clock,
    #[error("--time: {0}")]
    Time(#[from] otp::TotpError),
    #[error("{0}")]
    Param(#[from] otp::ParamError),
}

/// The line to print: the code, or its grouped form with `--grouped`.
pub fn run(args: &CodeArgs) -> Result<String, CodeError> {
    let secret = if args.secret == "-" {
        read_secret_from_stdin()?
    } else {
        Secret::from_base32(&args.secret)?
    };
    let time = match args.time {
        Some(time) => time,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| CodeError::Clock)?
            .as_secs(),
    };
    let totp = Totp::new(
        secret,
        args.algorithm,
        Digits::new(args.digits)?,
        Period::new(args.period)?,
    );
    let code = totp.generate(time)?;
    Ok(if args.grouped {
        code.grouped()
    } else {
        code.as_str().to_owned()
    })
}

fn read_secret_from_stdin() -> Result<Secret, CodeError> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_STDIN_SECRET)
        .read_to_string(&mut text)
        .map_err(CodeError::Stdin)?;
    Ok(Secret::from_base32(text.trim_end_matches(['\n', '\r']))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(secret: &str, time: u64, digits: u64, period: u64, algorithm: &str) -> CodeArgs {
        CodeArgs {
            secret: secret.to_owned(),
            time: Some(time),
            digits,
            period,
            algorithm: algorithm.parse().unwrap(),
            grouped: false,
        }
    }

    #[test]
    fn prints_rfc6238_codes() {
        // "12345678901234567890" in base32.
        let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(run(&args(seed, 59, 8, 30, "sha1")).unwrap(), "94287082");
        let mut grouped = args(seed, 1_111_111_109, 8, 30, "sha1");
        grouped.grouped = true;
        assert_eq!(run(&grouped).unwrap(), "0708 1804");
    }

    #[test]
    fn a_bad_secret_names_the_character_but_never_echoes_the_secret() {
        let message = run(&args("JBSWY3DPEHPK3PX1", 0, 6, 30, "sha1"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("'1'"), "{message}");
        assert!(!message.contains("JBSWY3DP"), "{message}");
    }
}
