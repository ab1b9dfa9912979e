//! `otpauth://` key URIs, the format authenticator apps read from QR codes:
//! `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
//!
//! Parsing is strict about structure (typed errors for every malformed part)
//! and lenient where real apps differ: parameter names in any case, `+` as a
//! space in the query, unknown parameters such as `image` ignored.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::secret::SecretError;
use crate::{Algorithm, Digits, Hotp, ParamError, Period, Secret, Totp, UnknownAlgorithm};

/// Longest URI accepted: far above any real one (a 64-byte secret is 103
/// base32 characters), low enough that hostile input costs nothing.
const MAX_URI_LEN: usize = 4096;

/// Characters left as they are when encoding: RFC 3986 unreserved.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a string is not a usable `otpauth://` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// Longer than 4096 bytes.
    #[error("the URI is too long ({0} bytes, at most 4096)")]
    TooLong(usize),
    /// Does not start with `otpauth://`.
    #[error("not an otpauth:// URI")]
    NotOtpAuth,
    /// The type is neither `totp` nor `hotp`.
    #[error("unknown OTP type {0:?}: expected totp or hotp")]
    UnknownType(String),
    /// No `/` between the type and the label.
    #[error("the URI has no label (otpauth://totp/Issuer:account?...)")]
    MissingLabel,
    /// The label has no account name.
    #[error("the label has no account name")]
    MissingAccount,
    /// An issuer or account name that cannot be used (control characters,
    /// or a `:` where it would change the meaning of the label).
    #[error("invalid {field}: {reason}")]
    InvalidName {
        /// `issuer` or `account`.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8.
    #[error("bad percent-encoding in the {0}")]
    BadEncoding(&'static str),
    /// A query part without `=`, or a parameter given twice.
    #[error("malformed query parameter {0:?}")]
    BadParameter(String),
    /// No `secret` parameter.
    #[error("the URI has no secret parameter")]
    MissingSecret,
    /// The secret is not valid base32, empty or too long.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// An unsupported `algorithm`.
    #[error(transparent)]
    Algorithm(#[from] UnknownAlgorithm),
    /// `digits` or `period` out of range.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A number parameter that is not a number.
    #[error("parameter {0} must be a whole number")]
    NotANumber(&'static str),
    /// An HOTP URI without `counter`.
    #[error("an hotp URI needs a counter parameter")]
    MissingCounter,
}

/// Time-based or counter-based, with the parameter that goes with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// TOTP with its step length.
    Totp {
        /// Seconds per step.
        period: Period,
    },
    /// HOTP with the next counter value.
    Hotp {
        /// The counter the next code is generated from.
        counter: u64,
    },
}

/// A parsed or to-be-built `otpauth://` URI.
///
/// Holds the secret, so it has no `Display`: turning it into text is the
/// explicit [`OtpAuthUri::to_uri`]. `Debug` redacts the secret.
///
/// ```
/// use otp::{Algorithm, Digits, OtpAuthUri, OtpKind, Period, Secret};
///
/// let uri = OtpAuthUri::parse(
///     "otpauth://totp/ACME%20Clinic:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Clinic&digits=7",
/// )?;
/// assert_eq!(uri.issuer.as_deref(), Some("ACME Clinic"));
/// assert_eq!(uri.account, "alice@example.org");
/// assert_eq!(uri.digits, Digits::SEVEN);
/// assert_eq!(uri.kind, OtpKind::Totp { period: Period::DEFAULT });
///
/// let built = OtpAuthUri::totp(Some("ACME Clinic"), "alice@example.org", uri.secret.clone())?;
/// assert_eq!(
///     built.to_uri(),
///     "otpauth://totp/ACME%20Clinic:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Clinic&algorithm=SHA1&digits=6&period=30"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpAuthUri {
    /// TOTP or HOTP.
    pub kind: OtpKind,
    /// Who the account is with, e.g. the clinic's name.
    pub issuer: Option<String>,
    /// The account name, e.g. the user's email.
    pub account: String,
    /// The shared secret.
    pub secret: Secret,
    /// The hash algorithm.
    pub algorithm: Algorithm,
    /// Digits per code.
    pub digits: Digits,
}

impl OtpAuthUri {
    /// A TOTP URI with the defaults every app supports (SHA1, 6 digits, 30 s).
    pub fn totp(issuer: Option<&str>, account: &str, secret: Secret) -> Result<Self, UriError> {
        let uri = OtpAuthUri {
            kind: OtpKind::Totp {
                period: Period::DEFAULT,
            },
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            secret,
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
        };
        uri.check_names()?;
        Ok(uri)
    }

    /// Parses a URI as found in a QR code.
    pub fn parse(input: &str) -> Result<Self, UriError> {
        if input.len() > MAX_URI_LEN {
            return Err(UriError::TooLong(input.len()));
        }
        let rest = strip_prefix_ignore_case(input, "otpauth://").ok_or(UriError::NotOtpAuth)?;
        // A fragment is not part of the key; drop it.
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (kind_text, rest) = rest.split_once('/').ok_or(UriError::MissingLabel)?;
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));

        let label = decode(label, false, "label")?;
        // Spaces around the names carry no meaning (the format allows
        // `Issuer:%20account`); trimming here keeps parse and build in step.
        let (label_issuer, account) = match label.split_once(':') {
            Some((issuer, account)) => (Some(issuer.trim().to_owned()), account.trim()),
            None => (None, label.trim()),
        };
        if account.is_empty() {
            return Err(UriError::MissingAccount);
        }

        let params = Params::parse(query)?;
        let secret = Secret::from_base32(params.get("secret").ok_or(UriError::MissingSecret)?)?;
        let algorithm = params
            .get("algorithm")
            .map_or(Ok(Algorithm::Sha1), str::parse)?;
        let digits = match params.number("digits")? {
            Some(n) => Digits::new(n)?,
            None => Digits::SIX,
        };
        let kind = match kind_text.to_ascii_lowercase().as_str() {
            "totp" => OtpKind::Totp {
                period: match params.number("period")? {
                    Some(n) => Period::new(n)?,
                    None => Period::DEFAULT,
                },
            },
            "hotp" => OtpKind::Hotp {
                counter: params.number("counter")?.ok_or(UriError::MissingCounter)?,
            },
            other => return Err(UriError::UnknownType(other.chars().take(16).collect())),
        };
        // The issuer parameter is authoritative (Key URI Format); the label's
        // prefix is the fallback for apps that only write that.
        let issuer = params
            .get("issuer")
            .map(|issuer| issuer.trim().to_owned())
            .or(label_issuer)
            .filter(|issuer| !issuer.is_empty());
        check_name("issuer", issuer.as_deref().unwrap_or(""), false)?;
        check_name("account", account, false)?;
        Ok(OtpAuthUri {
            kind,
            issuer,
            account: account.to_owned(),
            secret,
            algorithm,
            digits,
        })
    }

    /// The URI text, with every parameter written out so apps that ignore
    /// defaults still agree. Contains the secret: show it only to its owner.
    pub fn to_uri(&self) -> String {
        let mut uri = String::from("otpauth://");
        uri.push_str(match self.kind {
            OtpKind::Totp { .. } => "totp/",
            OtpKind::Hotp { .. } => "hotp/",
        });
        if let Some(issuer) = &self.issuer {
            let _ = write!(uri, "{}:", utf8_percent_encode(issuer, ENCODE));
        }
        let _ = write!(uri, "{}", utf8_percent_encode(&self.account, ENCODE));
        let _ = write!(uri, "?secret={}", self.secret.to_base32());
        if let Some(issuer) = &self.issuer {
            let _ = write!(uri, "&issuer={}", utf8_percent_encode(issuer, ENCODE));
        }
        let _ = write!(
            uri,
            "&algorithm={}&digits={}",
            self.algorithm.uri_name(),
            self.digits
        );
        let _ = match self.kind {
            OtpKind::Totp { period } => write!(uri, "&period={period}"),
            OtpKind::Hotp { counter } => write!(uri, "&counter={counter}"),
        };
        uri
    }

    /// Checks the names before building: an account or issuer with a `:`
    /// would be split differently when parsed back, and control characters
    /// would corrupt the display in apps and terminals.
    pub fn check_names(&self) -> Result<(), UriError> {
        if self.account.is_empty() {
            return Err(UriError::MissingAccount);
        }
        check_name("issuer", self.issuer.as_deref().unwrap_or(""), true)?;
        check_name("account", &self.account, true)
    }

    /// The TOTP generator for this URI, or `None` for an HOTP URI.
    pub fn to_totp(&self) -> Option<Totp> {
        match self.kind {
            OtpKind::Totp { period } => Some(Totp::new(
                self.secret.clone(),
                self.algorithm,
                self.digits,
                period,
            )),
            OtpKind::Hotp { .. } => None,
        }
    }

    /// The HOTP generator for this URI, or `None` for a TOTP URI.
    pub fn to_hotp(&self) -> Option<Hotp> {
        match self.kind {
            OtpKind::Hotp { .. } => {
                Some(Hotp::new(self.secret.clone(), self.algorithm, self.digits))
            }
            OtpKind::Totp { .. } => None,
        }
    }
}

fn check_name(field: &'static str, value: &str, building: bool) -> Result<(), UriError> {
    if value.chars().any(char::is_control) {
        return Err(UriError::InvalidName {
            field,
            reason: "control characters are not allowed",
        });
    }
    if value.chars().count() > 256 {
        return Err(UriError::InvalidName {
            field,
            reason: "longer than 256 characters",
        });
    }
    if building && value.trim() != value {
        return Err(UriError::InvalidName {
            field,
            reason: "leading or trailing spaces would be lost",
        });
    }
    if building && value.contains(':') {
        return Err(UriError::InvalidName {
            field,
            reason: "':' separates issuer and account in the label",
        });
    }
    Ok(())
}

fn strip_prefix_ignore_case<'a>(input: &'a str, prefix: &str) -> Option<&'a str> {
    let head = input.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| input.get(prefix.len()..))
        .flatten()
}

/// Percent-decodes strictly: every `%` needs two hex digits and the result
/// must be UTF-8. In the query, `+` means a space.
fn decode(text: &str, plus_is_space: bool, part: &'static str) -> Result<String, UriError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .filter(|_| bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit))
                    .ok_or(UriError::BadEncoding(part))?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| UriError::BadEncoding(part))
}

/// The query's parameters, names folded to lower case, each at most once.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Result<Self, UriError> {
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| UriError::BadParameter(shorten(pair)))?;
            let name = decode(name, true, "query")?.to_ascii_lowercase();
            if params.iter().any(|(seen, _)| *seen == name) {
                return Err(UriError::BadParameter(shorten(&name)));
            }
            params.push((name, decode(value, true, "query")?));
        }
        Ok(Params(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn number(&self, name: &'static str) -> Result<Option<u64>, UriError> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| UriError::NotANumber(name))
            })
            .transpose()
    }
}

/// Error messages quote at most a few characters of hostile input; a
/// parameter named `secret` never reaches here with its value.
fn shorten(text: &str) -> String {
    text.chars().take(24).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    #[test]
    fn parses_google_authenticators_example() {
        let uri = OtpAuthUri::parse(
            "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        )
        .unwrap();
        assert_eq!(uri.issuer.as_deref(), Some("Example"));
        assert_eq!(uri.account, "alice@google.com");
        assert_eq!(uri.algorithm, Algorithm::Sha1);
        assert_eq!(uri.digits, Digits::SIX);
        assert_eq!(
            uri.kind,
            OtpKind::Totp {
                period: Period::DEFAULT
            }
        );
    }

    #[test]
    fn parses_hotp_with_counter_and_every_parameter() {
        let uri = OtpAuthUri::parse(
            "OTPAUTH://HOTP/ACME%3A%20bob?SECRET=jbswy3dpehpk3pxp&Algorithm=sha512&digits=8&counter=42&image=x",
        )
        .unwrap();
        assert_eq!(uri.kind, OtpKind::Hotp { counter: 42 });
        assert_eq!(uri.issuer.as_deref(), Some("ACME"));
        assert_eq!(uri.account, "bob");
        assert_eq!(uri.algorithm, Algorithm::Sha512);
        assert_eq!(uri.digits, Digits::EIGHT);
        assert!(uri.to_hotp().is_some() && uri.to_totp().is_none());
    }

    #[test]
    fn spaces_around_names_are_dropped_the_same_way_with_or_without_issuer() {
        // Found by the uri fuzz target: a label without issuer kept its
        // leading space, and the rebuilt URI (with issuer) lost it.
        for label in ["%20bob", "Clinic:%20bob", "Clinic%3A%20%20bob%20"] {
            let uri = OtpAuthUri::parse(&format!(
                "otpauth://totp/{label}?secret=MZXW6&issuer=Clinic"
            ))
            .unwrap();
            assert_eq!(uri.account, "bob", "{label}");
            assert_eq!(OtpAuthUri::parse(&uri.to_uri()).unwrap(), uri);
        }
    }

    #[test]
    fn the_issuer_parameter_wins_over_the_label_prefix() {
        let uri =
            OtpAuthUri::parse("otpauth://totp/Old:bob?secret=JBSWY3DPEHPK3PXP&issuer=New+Name")
                .unwrap();
        assert_eq!(uri.issuer.as_deref(), Some("New Name"));
    }

    #[test]
    fn every_malformed_uri_gets_its_own_error() {
        let cases: &[(&str, UriError)] = &[
            ("https://example.org", UriError::NotOtpAuth),
            ("otpauth:/totp/a?secret=AA", UriError::NotOtpAuth),
            ("otpauth://totp", UriError::MissingLabel),
            ("otpauth://totp/?secret=JBSWY3DP", UriError::MissingAccount),
            (
                "otpauth://totp/Issuer:?secret=JBSWY3DP",
                UriError::MissingAccount,
            ),
            ("otpauth://totp/a", UriError::MissingSecret),
            ("otpauth://totp/a?issuer=x", UriError::MissingSecret),
            (
                "otpauth://motp/a?secret=JBSWY3DP",
                UriError::UnknownType("motp".into()),
            ),
            ("otpauth://hotp/a?secret=JBSWY3DP", UriError::MissingCounter),
            (
                "otpauth://totp/a%zz?secret=JBSWY3DP",
                UriError::BadEncoding("label"),
            ),
            (
                "otpauth://totp/a%?secret=JBSWY3DP",
                UriError::BadEncoding("label"),
            ),
            (
                "otpauth://totp/a%ff?secret=JBSWY3DP",
                UriError::BadEncoding("label"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&issuer=%c3",
                UriError::BadEncoding("query"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&secret=JBSWY3DP",
                UriError::BadParameter("secret".into()),
            ),
            (
                "otpauth://totp/a?secret",
                UriError::BadParameter("secret".into()),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&digits=9",
                UriError::Param(ParamError::Digits(9)),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&digits=six",
                UriError::NotANumber("digits"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&period=0",
                UriError::Param(ParamError::Period(0)),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&period=-30",
                UriError::NotANumber("period"),
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DP&counter=99999999999999999999999",
                UriError::NotANumber("counter"),
            ),
            (
                "otpauth://totp/a?secret=",
                UriError::Secret(SecretError::Empty),
            ),
            (
                "otpauth://totp/a%0Ab?secret=JBSWY3DP",
                UriError::InvalidName {
                    field: "account",
                    reason: "control characters are not allowed",
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(&OtpAuthUri::parse(input).unwrap_err(), expected, "{input}");
        }
        assert!(matches!(
            OtpAuthUri::parse("otpauth://totp/a?secret=JBSW1"),
            Err(UriError::Secret(SecretError::Base32(_)))
        ));
        assert!(matches!(
            OtpAuthUri::parse("otpauth://totp/a?secret=JBSWY3DP&algorithm=md5"),
            Err(UriError::Algorithm(_))
        ));
        let long = format!("otpauth://totp/a?secret={}", "A".repeat(5000));
        assert_eq!(
            OtpAuthUri::parse(&long).unwrap_err(),
            UriError::TooLong(long.len())
        );
    }

    #[test]
    fn errors_never_contain_the_secret() {
        let hostile = "otpauth://totp/a?secret=JBSWY3DPEHPK3PX1&issuer=x";
        let message = OtpAuthUri::parse(hostile).unwrap_err().to_string();
        assert!(!message.contains("JBSWY3DP"), "{message}");
        let debug = format!(
            "{:?}",
            OtpAuthUri::parse(&hostile.replace('1', "P")).unwrap()
        );
        assert!(!debug.contains("JBSWY3DP"), "{debug}");
    }

    #[test]
    fn building_refuses_names_that_would_not_parse_back() {
        let secret = Secret::from_base32(SECRET).unwrap();
        assert!(OtpAuthUri::totp(Some("A:B"), "bob", secret.clone()).is_err());
        assert!(OtpAuthUri::totp(None, "x:y", secret.clone()).is_err());
        assert!(OtpAuthUri::totp(None, "", secret.clone()).is_err());
        assert!(OtpAuthUri::totp(Some("Clinic\n"), "bob", secret.clone()).is_err());
        assert!(OtpAuthUri::totp(Some("Clinic"), " bob", secret).is_err());
    }

    fn name() -> impl Strategy<Value = String> {
        // Any printable text without ':' (which splits the label), including
        // characters that need percent-encoding.
        "[^:\\p{Cc}]{1,40}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    proptest! {
        #[test]
        fn build_then_parse_gives_the_same_uri(
            issuer in proptest::option::of(name()),
            account in name(),
            key in proptest::collection::vec(any::<u8>(), 1..64),
            algorithm in prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)],
            digits in 6u64..=8,
            hotp in any::<bool>(),
            period in 1u64..=3600,
            counter in any::<u64>(),
        ) {
            let kind = if hotp {
                OtpKind::Hotp { counter }
            } else {
                OtpKind::Totp { period: Period::new(period).unwrap() }
            };
            let uri = OtpAuthUri {
                kind,
                issuer,
                account,
                secret: Secret::from_bytes(key).unwrap(),
                algorithm,
                digits: Digits::new(digits).unwrap(),
            };
            uri.check_names().unwrap();
            let text = uri.to_uri();
            prop_assert_eq!(OtpAuthUri::parse(&text).unwrap(), uri);
        }

        #[test]
        fn arbitrary_text_after_the_scheme_never_panics(rest in "\\PC{0,200}") {
            let _ = OtpAuthUri::parse(&format!("otpauth://{rest}"));
        }
    }
}
