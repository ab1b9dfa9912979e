//! The HMAC hash an enrollment uses. SHA1 is the default because every
//! authenticator app supports it; SHA256 and SHA512 are RFC 6238 options.

use std::fmt;
use std::str::FromStr;

/// The hash function under the HMAC of an HOTP/TOTP enrollment.
///
/// ```
/// use otp::Algorithm;
/// assert_eq!("sha256".parse::<Algorithm>().unwrap(), Algorithm::Sha256);
/// assert_eq!(Algorithm::Sha512.to_string(), "SHA512");
/// assert_eq!(Algorithm::Sha1.default_secret_len(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// HMAC-SHA1, the RFC 4226 default and the only one every app supports.
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    /// All algorithms, in the order SHA1, SHA256, SHA512.
    pub const ALL: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

    /// The secret length in bytes that matches the hash's output size
    /// (RFC 4226 recommends at least 160 bits; RFC 6238's test seeds use
    /// 20, 32 and 64 bytes).
    pub const fn default_secret_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }

    /// The name used in `otpauth://` URIs: `SHA1`, `SHA256` or `SHA512`.
    pub const fn uri_name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri_name())
    }
}

/// A name that is not `sha1`, `sha256` or `sha512` (any case, dash optional).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown algorithm {0:?}: expected sha1, sha256 or sha512")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Ok(Algorithm::Sha1),
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(UnknownAlgorithm(s.chars().take(32).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_apps_use() {
        for (text, expected) in [
            ("SHA1", Algorithm::Sha1),
            ("sha1", Algorithm::Sha1),
            ("SHA-256", Algorithm::Sha256),
            ("Sha512", Algorithm::Sha512),
        ] {
            assert_eq!(text.parse::<Algorithm>(), Ok(expected));
        }
    }

    #[test]
    fn rejects_unknown_names_and_keeps_the_error_short() {
        assert!("md5".parse::<Algorithm>().is_err());
        assert!("".parse::<Algorithm>().is_err());
        let long = "x".repeat(10_000);
        let err = long.parse::<Algorithm>().unwrap_err();
        assert!(err.to_string().len() < 100);
    }
}
